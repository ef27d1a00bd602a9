"""Validators: what a beneficiary types, in any digit script, with stray marks."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conversations import fields
from conversations.fields import Invalid, luhn_ok, parse_date, validate_file, validate_text
from conversations.profile import FieldKind, FieldSpec, Localized, Rules
from conversations.text import ascii_digits, clean, fold

TODAY = date(2026, 11, 23)
ARABIC_INDIC = "٠١٢٣٤٥٦٧٨٩"
PERSIAN = "۰۱۲۳۴۵۶۷۸۹"
MARKS = ["\u200e", "\u200f", "\u061c", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e",
         "\u2066", "\u2067", "\u2068", "\u2069", "\u200b", "\ufeff", "\u0640"]


def spec(kind: str, **rules) -> FieldSpec:
    return FieldSpec(key="f", kind=FieldKind(kind), label=Localized(ar="حقل"), rules=Rules(**rules))


def check(kind: str, raw: str, **rules):
    return validate_text(spec(kind, **rules), raw, TODAY)


def code_of(kind: str, raw: str, **rules) -> str:
    with pytest.raises(Invalid) as err:
        check(kind, raw, **rules)
    return err.value.code


# Writing the same ASCII text in any digit script, with marks, spaces or dashes sprinkled.
def scripted(text: str, draw_digits: str, marks: list[str]) -> str:
    table = str.maketrans("0123456789", draw_digits)
    out = []
    for i, ch in enumerate(text.translate(table)):
        out.append(ch)
        if marks:
            out.append(marks[i % len(marks)])
    return "".join(out)


scripts = st.sampled_from(["0123456789", ARABIC_INDIC, PERSIAN])
mark_lists = st.lists(st.sampled_from(MARKS), max_size=4)


def luhn_complete(body9: str) -> str:
    return next(body9 + d for d in "0123456789" if luhn_ok(body9 + d))


national_ids = st.builds(
    lambda first, rest: luhn_complete(first + rest),
    st.sampled_from("12"), st.text("0123456789", min_size=8, max_size=8),
)


class TestNationalId:
    def test_known_valid_and_invalid(self):
        assert check("national_id", "1234567897") == "1234567897"
        assert check("national_id", "1000000008") == "1000000008"
        assert code_of("national_id", "1000000000") == "national_id.checksum"

    def test_wrong_length_says_how_many_digits_came(self):
        with pytest.raises(Invalid) as err:
            check("national_id", "١٢٣٤٥")
        assert err.value.code == "national_id.length" and err.value.params == {"count": 5}

    def test_must_start_with_1_or_2(self):
        assert code_of("national_id", "3234567897") == "national_id.prefix"

    def test_citizen_only_service_refuses_iqama(self):
        iqama = luhn_complete("200000000")
        assert check("national_id", iqama) == iqama
        assert code_of("national_id", iqama, id_type="citizen") == "national_id.citizen"

    @given(national_ids, scripts, mark_lists, st.sampled_from(["", " ", "-"]))
    def test_any_script_any_marks(self, nid, digits, marks, sep):
        typed = scripted(nid[:3] + sep + nid[3:6] + sep + nid[6:], digits + "", marks)
        assert check("national_id", typed) == nid

    @given(national_ids, st.integers(0, 9), st.integers(1, 9))
    def test_one_mistyped_digit_is_caught(self, nid, pos, delta):
        wrong = nid[:pos] + str((int(nid[pos]) + delta) % 10) + nid[pos + 1:]
        if wrong[0] in "12":
            assert code_of("national_id", wrong) == "national_id.checksum"


class TestPhone:
    @pytest.mark.parametrize("typed", [
        "0501234567", "+966501234567", "00966501234567", "966501234567",
        "٠٥٠١٢٣٤٥٦٧", "050 123 4567", "050-123-4567", "\u200e0501234567\u200f", "501234567",
    ])
    def test_saudi_mobile_stored_e164(self, typed):
        assert check("phone", typed) == "+966501234567"

    @pytest.mark.parametrize("typed", ["0521234567", "0112345678", "12345", "+201001234567", "هاتف"])
    def test_not_a_saudi_mobile(self, typed):
        assert code_of("phone", typed) == "phone.invalid"

    @given(st.sampled_from(["50", "53", "54", "55", "56", "58", "59"]),
           st.text("0123456789", min_size=7, max_size=7), scripts, mark_lists)
    def test_any_script(self, prefix, rest, digits, marks):
        local = "0" + prefix + rest
        assert check("phone", scripted(local, digits, marks)) == "+966" + prefix + rest


class TestIban:
    def test_valid_with_spaces_and_lowercase(self):
        assert check("iban", "sa03 8000 0000 6080 1016 7519") == "SA0380000000608010167519"

    def test_errors(self):
        assert code_of("iban", "GB82WEST12345698765432") == "iban.country"
        assert code_of("iban", "SA03800000006080101675") == "iban.length"
        assert code_of("iban", "SA0380000000608010167518") == "iban.checksum"

    @given(scripts, mark_lists)
    def test_any_script(self, digits, marks):
        typed = "SA" + scripted("0380000000608010167519", digits, marks)
        assert check("iban", typed) == "SA0380000000608010167519"


class TestDates:
    def test_hijri_umm_al_qura(self):
        assert parse_date("1445-02-29") == date(2023, 9, 14)
        assert parse_date("29/2/1445 هـ") == date(2023, 9, 14)
        assert parse_date("٢٩/٠٢/١٤٤٥") == date(2023, 9, 14)

    def test_gregorian_both_orders(self):
        assert parse_date("2027-01-05") == date(2027, 1, 5)
        assert parse_date("5/1/2027") == date(2027, 1, 5)
        assert parse_date("5/1/2027 م") == date(2027, 1, 5)

    def test_impossible_or_unreadable(self):
        assert code_of("date", "1445-02-31") == "date.no_such_day"
        assert code_of("date", "2027-02-30") == "date.no_such_day"
        assert code_of("date", "غدا") == "date.format"
        assert code_of("date", "1200-01-01") == "date.range"

    def test_expiry_must_not_have_passed(self):
        assert check("date", "2026-11-23", not_expired=True) == "2026-11-23"
        assert code_of("date", "2026-11-22", not_expired=True) == "date.expired"
        assert code_of("date", "1448-06-01", not_expired=True) == "date.expired"  # 22 Nov 2026

    def test_an_expiry_is_at_most_ten_years_ahead(self):
        assert check("date", "2036-11-23", not_expired=True) == "2036-11-23"
        with pytest.raises(Invalid) as err:
            check("date", "2036-11-24", not_expired=True)
        assert err.value.code == "date.expiry_too_far" and err.value.params == {"years": 10}
        assert code_of("date", "2150-01-01", not_expired=True) == "date.expiry_too_far"
        assert code_of("date", "2029-01-01", not_expired=True, max_years_ahead=2) \
            == "date.expiry_too_far"
        assert "10 years" in fields.MESSAGES["date.expiry_too_far"].format(years=10)

    def test_any_date_is_between_1900_and_fifty_years_ahead(self):
        assert check("date", "2076-11-23") == "2076-11-23"
        assert code_of("date", "2076-11-24") == "date.too_far"
        assert code_of("date", "31/12/9999") == "date.too_far"
        assert code_of("date", "2030-01-01", max_years_ahead=1) == "date.too_far"
        with pytest.raises(Invalid) as err:
            check("date", "1/1/1850")
        assert err.value.code == "date.too_early" and err.value.params == {"year": 1900}
        assert check("date", "1900-01-01", not_future=True) == "1900-01-01"

    def test_birth_date_rules(self):
        assert code_of("date", "2030-01-01", not_future=True) == "date.future"
        assert code_of("date", "2015-01-01", min_age=18) == "date.too_young"
        assert code_of("date", "1990-01-01", max_age=18) == "date.too_old"
        assert check("date", "2008-11-23", min_age=18) == "2008-11-23"

    @given(st.dates(date(1925, 1, 1), date(2076, 12, 31)), scripts, mark_lists)
    def test_gregorian_round_trip_any_script(self, day, digits, marks):
        typed = scripted(day.isoformat(), digits, marks)
        assert parse_date(typed) == day

    @given(st.dates(date(1925, 1, 1), date(2076, 12, 31)))
    def test_hijri_round_trip(self, day):
        h = fields.to_hijri(day)
        assert parse_date(f"{h.day}/{h.month}/{h.year}") == day


class TestNumbers:
    def test_integer_bounds(self):
        assert check("integer", "٤", min=1, max=30) == 4
        assert code_of("integer", "0", min=1, max=30) == "number.min"
        assert code_of("integer", "31", min=1, max=30) == "number.max"
        assert code_of("integer", "2.5") == "number.not_number"
        assert code_of("integer", "خمسة أطفال وزوجتي") == "number.not_number"

    @pytest.mark.parametrize("kind,typed,stored", [
        ("integer", "خمسة", 5), ("integer", "خمسة عشر", 15), ("integer", "ستطعش", 16),
        ("money", "ألفين وخمسمية", "2500.00"), ("money", "ثلاث تلاف ريال", "3000.00"),
        ("money", "two thousand five hundred", "2500.00"),
    ])
    def test_numbers_in_words(self, kind, typed, stored):
        """An elderly beneficiary writes the number in words: it is taken (and bounded)."""
        assert check(kind, typed) == stored

    def test_numbers_in_words_are_bounded(self):
        assert code_of("integer", "اربعين", min=1, max=30) == "number.max"

    @pytest.mark.parametrize("typed,stored", [
        ("1500", "1500.00"), ("1,500", "1500.00"), ("١٬٥٠٠٫٥", "1500.50"),
        ("3000 ريال", "3000.00"), ("SAR 250.75", "250.75"), ("٢٠٠٠ ر.س", "2000.00"),
    ])
    def test_money(self, typed, stored):
        assert check("money", typed) == stored

    def test_money_errors(self):
        assert code_of("money", "12.345") == "money.not_amount"
        assert code_of("money", "-5") == "money.not_amount"
        assert code_of("money", "50", min=100) == "money.min"


class TestTextAndFiles:
    def test_text_is_cleaned_not_folded(self):
        assert check("text", "  أحمد\u200f   بن  علي ") == "أحمد بن علي"  # hamza kept

    def test_text_length(self):
        assert code_of("text", "ا", min_length=2) == "text.short"
        assert code_of("text", "ا" * 11, max_length=10) == "text.long"
        assert code_of("text", "\u200f \u200e") == "empty"

    @pytest.mark.parametrize("junk", ["😀🙏🌹", "12345678", "١٢٣", "\u3164\u3164", "?!.-_",
                                      "\u115f\u2800\u034f\u0301\u0301"])
    def test_text_needs_a_letter(self, junk):
        assert code_of("text", junk) in ("text.letters", "empty")

    def test_invisible_fillers_and_controls_alone_are_no_answer(self):
        for junk in ["\u3164", "\x00\x00", "\u200b" * 5, "\u180e\u2060\ufeff\uffa0\u115f",
                     "\x1b[31m\x1b[0m", "\u200c\u200d\u200e\u200f"]:
            assert code_of("text", junk) == "empty"

    def test_controls_and_fillers_are_removed_from_the_value(self):
        assert check("text", "نورة\x00 \x1b[1mالعتيبي\x07\u3164\u2060") == "نورة العتيبي"
        assert check("text", "حي\n٤٥\t ") == "حي 45"  # a letter is enough; digits are kept

    def test_letters_false_takes_digits_alone_but_not_symbols(self):
        assert check("text", "١٢٣٤٥٦٧٨٩", letters=False) == "123456789"
        assert code_of("text", "😀🙏🌹", letters=False) == "text.letters_or_digits"
        assert check("text", "1234567890", digits_only=True, min_length=10) == "1234567890"

    def test_file_type_and_size(self):
        validate_file(spec("file"), "image/jpeg", 1000, 10)
        with pytest.raises(Invalid) as err:
            validate_file(spec("file"), "application/zip", 1000, 10)
        assert err.value.code == "file.type" and "PDF" in err.value.params["types"]
        with pytest.raises(Invalid) as err:
            validate_file(spec("file", max_mb=1), "image/png", 2 * 1024 * 1024, 10)
        assert err.value.code == "file.size" and err.value.params == {"size": "2.0", "max": "1"}


class TestArabicText:
    def test_digits(self):
        assert ascii_digits("٠١٢٣٤٥٦٧٨٩ ۰۱۲۳۴۵۶۷۸۹") == "0123456789 0123456789"

    def test_fold_for_matching(self):
        assert fold("مُسَاعَدَة مَالِيّة") == fold("مساعده ماليه")
        assert fold("إلغاء") == fold("الغاء") == fold("آلغاء")
        assert fold("مستشفى") == fold("مستشفي")

    @given(st.text(max_size=30), mark_lists)
    def test_clean_drops_every_mark(self, text, marks):
        cleaned = clean("".join(marks) + text + "".join(marks))
        assert not any(mark in cleaned for mark in MARKS)

    def test_clean_drops_controls_format_characters_and_fillers(self):
        junk = "\x00\x01\x1b\x7f\x9b\u00ad\u180e\u2060\u2061\u206a\ufeff\U000e0001\u3164\u115f\uffa0"
        assert clean(f"a{junk}b") == "ab"
        assert clean("سطر\nسطر\tثالث") == "سطر سطر ثالث"

    def test_every_message_code_has_text(self):
        codes = {"empty", "text.short", "national_id.checksum", "iban.length", "date.expired",
                 "file.size", "choice.unknown", "text.expected", "file.needed"}
        assert codes <= set(fields.MESSAGES)


class TestFileContent:
    def test_empty_file_is_refused(self):
        with pytest.raises(Invalid) as err:
            validate_file(spec("file"), "image/png", 0, 10)
        assert err.value.code == "file.empty"

    @given(st.text("0123456789", min_size=1, max_size=12))
    def test_fullwidth_and_other_scripts_fold_too(self, digits):
        for zero in (0xFF10, 0x0966, 0x09E6):  # fullwidth, Devanagari, Bengali
            typed = "".join(chr(zero + int(d)) for d in digits)
            assert ascii_digits(typed) == digits
