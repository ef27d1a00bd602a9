"""Validation and normalisation of intake answers, one function per field kind.

Each validator takes what the beneficiary typed (any digit script, stray bidi
marks, spaces and dashes) and returns the normalised value that is stored, or
raises `Invalid` with a code the flow turns into a kind message in the
beneficiary's language. Rules and facts: ../shared/DOMAIN.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import phonenumbers
from hijridate import Gregorian, Hijri
from stdnum import iban as stdnum_iban
from stdnum.exceptions import ValidationError as StdnumError

from conversations.numbers import words_to_number
from conversations.profile import FieldKind, FieldSpec
from conversations.text import clean, has_letter, only_digits


def N_(message: str) -> str:
    """Mark a message for extraction; it is translated where it is shown."""
    return message


@dataclass
class Invalid(Exception):
    """An answer that does not pass; `code` keys MESSAGES, `params` fill it."""

    code: str
    params: dict[str, Any] = field(default_factory=dict)


# What is wrong, said kindly. The example for the kind (conversations/kinds.py) is added
# after it.
MESSAGES: dict[str, str] = {
    "empty": N_("I did not receive an answer."),
    "text.short": N_("Please write at least {min} characters."),
    "text.long": N_("Please keep it under {max} characters."),
    "text.digits": N_("Please write this number using digits only."),
    "text.letters": N_(
        "Please write this answer in letters; numbers, symbols or emoji alone are not enough."
    ),
    "text.letters_or_digits": N_(
        "Please write this answer in letters or digits; symbols or emoji alone are not enough."
    ),
    "number.not_number": N_("Please write a whole number, using digits."),
    "number.min": N_("The number must be at least {min}."),
    "number.max": N_("The number must be at most {max}."),
    "money.not_amount": N_("Please write the amount in riyals, using digits."),
    "money.min": N_("The amount must be at least {min} riyals."),
    "money.max": N_("The amount must be at most {max} riyals."),
    "national_id.digits": N_("The ID number is written in digits only."),
    "national_id.length": N_("The ID number has 10 digits; I received {count}."),
    "national_id.prefix": N_(
        "A national ID starts with 1 and a resident ID (iqama) starts with 2."
    ),
    "national_id.citizen": N_("This service needs a national ID, which starts with 1."),
    "national_id.resident": N_("This service needs a resident ID (iqama), which starts with 2."),
    "national_id.checksum": N_(
        "This ID number is not valid; one of the digits may be mistyped. Please check it."
    ),
    "phone.invalid": N_("This is not a valid Saudi mobile number."),
    "phone.not_own": N_("Please share your own number, or type it."),
    "iban.country": N_("The IBAN of a Saudi bank account starts with SA."),
    "iban.length": N_("A Saudi IBAN has 24 characters: SA and 22 digits; I received {count}."),
    "iban.checksum": N_(
        "This IBAN is not valid; one of the digits may be mistyped. Please copy it "
        "from your banking app or bank card."
    ),
    "date.format": N_("I could not read this date. Please write day, month and year."),
    "date.no_such_day": N_("This day does not exist in the calendar."),
    "date.range": N_("This date is outside the supported range."),
    "date.expired": N_("This document has expired; please renew it before applying."),
    "date.future": N_("This date cannot be in the future."),
    "date.too_young": N_("The age must be at least {years} years."),
    "date.too_old": N_("The age must be at most {years} years."),
    "date.too_early": N_("Please check the year: the date cannot be before {year}."),
    "date.too_far": N_(
        "Please check the year: the date cannot be more than {years} years from today."
    ),
    "date.expiry_too_far": N_(
        "Please check the year: an ID or document is valid for at most {years} years from today."
    ),
    "choice.unknown": N_("Please pick one of the options by its number or name."),
    "text.expected": N_("Please write your answer as text."),
    "file.needed": N_("Please send a photo or a document (PDF)."),
    "file.empty": N_("This file is empty; please send it again."),
    "file.type": N_("This file type is not accepted. Accepted types: {types}."),
    "file.size": N_("The file is too large ({size} MB); the limit is {max} MB."),
}

DEFAULT_MIME = ("image/jpeg", "image/png", "image/webp", "image/heic", "application/pdf")


def _text(spec: FieldSpec, raw: str, today: date) -> str:
    value = only_digits(raw) if spec.rules.digits_only else clean(raw)
    if spec.rules.digits_only and not value.isdigit():
        raise Invalid("text.digits")
    if not spec.rules.digits_only and spec.rules.letters and not has_letter(value):
        raise Invalid("text.letters")
    if not spec.rules.letters and not any(ch.isalnum() for ch in value):
        raise Invalid("text.letters_or_digits")
    lo, hi = spec.rules.min_length or 2, spec.rules.max_length or 300
    if len(value) < lo:
        raise Invalid("text.short", {"min": lo})
    if len(value) > hi:
        raise Invalid("text.long", {"max": hi})
    return value


def _bounds(value: Decimal, spec: FieldSpec, prefix: str) -> None:
    if spec.rules.min is not None and value < spec.rules.min:
        raise Invalid(f"{prefix}.min", {"min": _plain(spec.rules.min)})
    if spec.rules.max is not None and value > spec.rules.max:
        raise Invalid(f"{prefix}.max", {"max": _plain(spec.rules.max)})


def _plain(number: Decimal) -> str:
    return f"{number:f}".rstrip("0").rstrip(".") if "." in f"{number:f}" else f"{number:f}"


_THOUSANDS = re.compile(r"^\d{1,3}(,\d{3})+(\.\d+)?$")


def _decimal(raw: str) -> Decimal | None:
    text = clean(raw).replace(" ", "")
    if _THOUSANDS.match(text):
        text = text.replace(",", "")
    elif text.count(",") == 1 and "." not in text:
        text = text.replace(",", ".")  # 1500,5 written with a decimal comma
    if not re.fullmatch(r"\d+(\.\d+)?", text):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern above rules it out
        return None


def _in_words(raw: str) -> Decimal | None:
    """A number written in words ("خمسة", "ألفين وخمسمية", "twenty five"), or None."""
    value = words_to_number(raw)
    return None if value is None else Decimal(value)


def _integer(spec: FieldSpec, raw: str, today: date) -> int:
    number = _decimal(raw)
    if number is None:
        number = _in_words(raw)
    if number is None or number != number.to_integral_value():
        raise Invalid("number.not_number")
    _bounds(number, spec, "number")
    return int(number)


_CURRENCY = re.compile(r"(ريال|ريالات|ر\.?\s?س\.?|sar|sr|﷼)", re.IGNORECASE)


def _money(spec: FieldSpec, raw: str, today: date) -> str:
    number = _decimal(_CURRENCY.sub("", clean(raw)))
    if number is None:
        number = _in_words(raw)
    if number is None or number.as_tuple().exponent < -2:  # type: ignore[operator]
        raise Invalid("money.not_amount")
    _bounds(number, spec, "money")
    return f"{number.quantize(Decimal('0.01'))}"


def luhn_ok(digits: str) -> bool:
    """Luhn over all 10 digits: double positions 0, 2, 4... from the left."""
    total = 0
    for i, ch in enumerate(digits):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return total % 10 == 0


def _national_id(spec: FieldSpec, raw: str, today: date) -> str:
    digits = only_digits(raw)
    if not digits.isdigit():
        raise Invalid("national_id.digits")
    if len(digits) != 10:
        raise Invalid("national_id.length", {"count": len(digits)})
    if digits[0] not in "12":
        raise Invalid("national_id.prefix")
    wanted = spec.rules.id_type
    if wanted == "citizen" and digits[0] != "1":
        raise Invalid("national_id.citizen")
    if wanted == "resident" and digits[0] != "2":
        raise Invalid("national_id.resident")
    if not luhn_ok(digits):
        raise Invalid("national_id.checksum")
    return digits


_MOBILE = {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}


def _phone(spec: FieldSpec, raw: str, today: date) -> str:
    text = clean(raw)
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, "SA")
    except phonenumbers.NumberParseException as exc:
        raise Invalid("phone.invalid") from exc
    if (
        phonenumbers.region_code_for_number(number) != "SA"
        or not phonenumbers.is_valid_number(number)
        or phonenumbers.number_type(number) not in _MOBILE
    ):
        raise Invalid("phone.invalid")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _iban(spec: FieldSpec, raw: str, today: date) -> str:
    text = re.sub(r"[\s\-.]", "", clean(raw)).upper()
    if not text.startswith("SA"):
        raise Invalid("iban.country")
    if len(text) != 24:
        raise Invalid("iban.length", {"count": len(text)})
    try:
        return stdnum_iban.validate(text)
    except StdnumError as exc:
        raise Invalid("iban.checksum") from exc


_DATE = re.compile(r"^(\d{1,4})\s*[-/.\s]\s*(\d{1,2})\s*[-/.\s]\s*(\d{1,4})$")
_HIJRI_MARK = re.compile(r"\s*(هـ|ه|h|ah)\.?$", re.IGNORECASE)
_GREG_MARK = re.compile(r"\s*(م|ad|g)\.?$", re.IGNORECASE)


EARLIEST = date(1900, 1, 1)  # no date before it (a Hijri date starts later: 1343 AH, 1924)
YEARS_AHEAD = 50  # the latest date of any date field, in years from today...
DOCUMENT_YEARS_AHEAD = 10  # ...and of a document's expiry (`not_expired`): an ID lasts 10


def parse_date(raw: str) -> date:
    """A date typed in Gregorian or Hijri (Umm al-Qura), day-first or year-first.

    The calendar is the one the beneficiary marks (هـ / م); unmarked, a year
    from 1343 to 1500 is Hijri and one from 1900 is Gregorian.
    """
    text = clean(raw)
    hijri_marked = bool(_HIJRI_MARK.search(text))
    greg_marked = not hijri_marked and bool(_GREG_MARK.search(text))
    text = _GREG_MARK.sub("", _HIJRI_MARK.sub("", text))
    match = _DATE.match(text)
    if not match:
        raise Invalid("date.format")
    a, b, c = match.groups()
    if len(a) == 4:
        year, month, day = int(a), int(b), int(c)
    elif len(c) == 4:
        day, month, year = int(a), int(b), int(c)
    else:
        raise Invalid("date.format")
    hijri = hijri_marked or (not greg_marked and year <= 1500)
    if hijri:
        try:
            g = Hijri(year, month, day).to_gregorian()
            return date(g.year, g.month, g.day)
        except OverflowError as exc:
            raise Invalid("date.range") from exc
        except ValueError as exc:
            raise Invalid("date.no_such_day") from exc
    if year < EARLIEST.year:
        raise Invalid("date.too_early", {"year": EARLIEST.year})
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise Invalid("date.no_such_day") from exc


def _years_later(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year + years, day=28)


def _age(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _date(spec: FieldSpec, raw: str, today: date) -> str:
    value = parse_date(raw)
    rules = spec.rules
    if rules.not_expired and value < today:
        raise Invalid("date.expired")
    if rules.not_future and value > today:
        raise Invalid("date.future")
    ahead = rules.max_years_ahead
    if ahead is None:
        ahead = DOCUMENT_YEARS_AHEAD if rules.not_expired else YEARS_AHEAD
    if value > _years_later(today, ahead):
        raise Invalid("date.expiry_too_far" if rules.not_expired else "date.too_far",
                      {"years": ahead})
    if rules.min_age is not None and _age(value, today) < rules.min_age:
        raise Invalid("date.too_young", {"years": rules.min_age})
    if rules.max_age is not None and _age(value, today) > rules.max_age:
        raise Invalid("date.too_old", {"years": rules.max_age})
    return value.isoformat()


_VALIDATORS: dict[FieldKind, Callable[[FieldSpec, str, date], Any]] = {
    FieldKind.TEXT: _text,
    FieldKind.INTEGER: _integer,
    FieldKind.MONEY: _money,
    FieldKind.NATIONAL_ID: _national_id,
    FieldKind.PHONE: _phone,
    FieldKind.IBAN: _iban,
    FieldKind.DATE: _date,
}


def validate_text(spec: FieldSpec, raw: str, today: date) -> Any:
    """Normalised value of a typed answer for any kind but choice and file."""
    if not clean(raw):
        raise Invalid("empty")
    return _VALIDATORS[spec.kind](spec, raw, today)


def validate_file(spec: FieldSpec, mime: str, size: int, default_max_mb: float) -> None:
    """A received file fits the field's accepted types and size."""
    if size == 0:
        raise Invalid("file.empty")
    allowed = spec.rules.mime or DEFAULT_MIME
    if mime not in allowed:
        raise Invalid("file.type", {"types": ", ".join(short_type(m) for m in allowed)})
    check_size(size, spec.rules.max_mb or default_max_mb)


def check_size(size: int, max_mb: float) -> None:
    """A received file (or voice note) is within the size the association takes."""
    if size > max_mb * 1024 * 1024:
        raise Invalid("file.size", {"size": f"{size / 1024 / 1024:.1f}", "max": _plain(Decimal(str(max_mb)))})


def short_type(mime: str) -> str:
    return {"image/jpeg": "JPG", "application/pdf": "PDF"}.get(mime, mime.split("/")[-1].upper())


def to_hijri(day: date) -> Hijri:
    """Umm al-Qura date of a Gregorian day."""
    return Gregorian(day.year, day.month, day.day).to_hijri()
