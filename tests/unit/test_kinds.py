"""Field kinds: what a staff member reads of each answer in a beneficiary's file, what the
log keeps of it, and what the beneficiary's own summary shows."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conversations import kinds
from conversations.profile import FieldKind, FieldSpec, Profile
from tests.unit.test_dialogues import PROFILE
from tests.unit.test_fields import national_ids

ISO = "\u2066{}\u2069"  # masked numbers stay whole, left to right, in an Arabic line


@pytest.fixture
def ctx(ctx_for):
    return ctx_for(Profile.model_validate(PROFILE))


def field(ctx, key: str) -> FieldSpec:
    return ctx.profile.services[0].field(key)


def staff(ctx, key: str, value, *, full: bool = False, lang: str = "ar") -> str:
    return kinds.for_staff(field(ctx, key), value, full=full, lang=lang, ctx=ctx)


def test_staff_see_each_identifying_number_masked_as_what_it_is(ctx):
    assert staff(ctx, "national_id", "1234567897") == ISO.format("••••••7897")
    assert staff(ctx, "mobile", "+966501234567") == ISO.format("+9665••••4567")
    assert staff(ctx, "iban", "SA0380000000608010167519") == ISO.format(
        "SA•• •••• •••• •••• •••• 7519")


def test_the_full_file_shows_the_numbers_as_stored_ready_to_copy(ctx):
    assert staff(ctx, "national_id", "1234567897", full=True) == "1234567897"
    assert staff(ctx, "mobile", "+966501234567", full=True) == "+966501234567"
    assert staff(ctx, "iban", "SA0380000000608010167519", full=True) == "SA0380000000608010167519"


def test_staff_read_choices_dates_amounts_and_files_in_words(ctx):
    assert staff(ctx, "housing", "rented") == "إيجار"
    assert staff(ctx, "housing", "rented", lang="en") == "Rented"
    assert staff(ctx, "housing", "gone") == "gone"  # an option the profile dropped: its key
    assert staff(ctx, "id_expiry", "2027-06-06") == "1 محرم 1449 هـ (6 يونيو 2027)"
    assert staff(ctx, "id_expiry", "2027-06-06", lang="en") == "1 Muharram 1449 AH (June 6, 2027)"
    assert staff(ctx, "income", "3000.00") == "3,000.00 ريال"
    assert staff(ctx, "income", "3000.00", lang="en") == "3,000.00 riyals"
    assert staff(ctx, "id_photo", {"name": "هوية.jpg", "mime": "image/jpeg"}) == "📎 هوية.jpg"
    assert staff(ctx, "full_name", "فاطمة صالح") == "فاطمة صالح"
    assert staff(ctx, "family_size", 5) == "5"
    assert staff(ctx, "income", None) == "-"


def test_a_field_the_profile_no_longer_has_is_masked_by_the_look_of_its_value(ctx):
    def gone(value, full=False):
        return kinds.for_staff(None, value, full=full, lang="ar", ctx=ctx)

    assert gone("1234567897") == ISO.format("••••••7897")
    assert gone("+966501234567") == ISO.format("+9665••••4567")
    assert gone("SA0380000000608010167519") == ISO.format("SA•• •••• •••• •••• •••• 7519")
    assert gone("1234567897", full=True) == "1234567897"
    assert gone("1234567890") == "1234567890"  # not an ID (checksum): a reference number
    assert gone({"name": "صك.pdf"}) == "📎 صك.pdf"


@pytest.mark.parametrize("kind,typed,kept", [
    (FieldKind.PHONE, "0558765432", "+9665••••5432"),
    (FieldKind.PHONE, "٠٥٥ ٨٧٦ ٥٤٣٢", "+9665••••5432"),
    (FieldKind.PHONE, "00966558765432", "+9665••••5432"),
    (FieldKind.PHONE, "0521234567", "••••••4567"),  # not a number: hidden all the same
    (FieldKind.NATIONAL_ID, "١٢٣٤ ٥٦٧ ٨٩٧", "••••••7897"),
    (FieldKind.IBAN, "sa03 8000-0000 6080 1016 7519", "SA•• •••• •••• •••• •••• 7519"),
    (FieldKind.IBAN, "SA03800", "•••3800"),  # half typed
    (FieldKind.TEXT, "فاطمة", "فاطمة"),
])
def test_what_the_log_keeps_of_a_typed_number(kind, typed, kept):
    assert kinds.mask(kind, typed) == kept


@given(national_ids)
def test_a_masked_id_keeps_only_its_last_four_digits(number):
    masked = kinds.mask(FieldKind.NATIONAL_ID, number)
    assert re.sub(r"\D", "", masked) == number[-4:] and len(masked) == 10


@given(st.text("0123456789", min_size=8, max_size=8))
def test_a_masked_mobile_keeps_only_the_9665_every_mobile_has_and_four_digits(rest):
    masked = kinds.mask(FieldKind.PHONE, "05" + rest)
    if masked.startswith("+"):
        assert masked == "+9665••••" + rest[-4:]
    else:  # not a valid mobile
        assert re.sub(r"\D", "", masked) == rest[-4:]


def test_the_beneficiarys_summary_masks_id_and_iban_but_not_their_own_mobile(ctx):
    def own(key, value, lang="en"):
        return kinds.for_beneficiary(field(ctx, key), value, lang, ctx)

    assert own("national_id", "1234567897") == ISO.format("••••••7897")
    assert own("iban", "SA0380000000608010167519") == ISO.format("SA•• •••• •••• •••• •••• 7519")
    assert own("mobile", "+966501234567") == ISO.format("+966501234567")
    assert own("housing", "owned", "ar") == "ملك"
    assert own("income", None) == "(skipped)" and own("income", None, "ar") == "(تم التخطي)"


def test_each_kind_says_how_to_answer_it(ctx):
    assert kinds.hint(field(ctx, "national_id"), "en", ctx) == "For example: 1234567897"
    # a date is told its format, never a fixed example that would be past, or another day
    # in the other calendar, wherever it is shown
    assert "(day/month/year)" in kinds.hint(field(ctx, "id_expiry"), "en", ctx)
    assert not re.search(r"\d", kinds.hint(field(ctx, "id_expiry"), "en", ctx))
    assert kinds.example(FieldKind.DATE) is None
    assert kinds.hint(field(ctx, "id_photo"), "ar", ctx) == ctx.tr("ar").gettext(
        "Send a clear photo or a PDF file.")
    assert kinds.hint(field(ctx, "full_name"), "en", ctx) == ""
    assert kinds.example(FieldKind.IBAN) == "SA03 8000 0000 6080 1016 7519"
    assert kinds.example(FieldKind.TEXT) is None


def test_every_kind_is_described_and_the_identifying_ones_are_masked():
    assert set(kinds.KINDS) == set(FieldKind)
    assert frozenset({FieldKind.NATIONAL_ID, FieldKind.PHONE, FieldKind.IBAN}) == kinds.MASKED
    assert FieldKind.TEXT not in kinds.NUMBER_KINDS and FieldKind.DATE in kinds.NUMBER_KINDS

