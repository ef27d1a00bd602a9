"""What a field kind means besides its check (conversations/fields.py): how a value is
masked, how it is shown to the beneficiary and to staff, the hint and example under its
question. The one place these are decided; every module asks here.

Masks keep what tells staff what the value is and hide what identifies the person:
an ID shows its last four digits, a mobile its +9665 and last four, an IBAN its SA and
last four in the usual groups of four. What is hidden, and why, is in
docs/operations.md (data protection).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import phonenumbers
from babel.dates import format_date
from babel.numbers import format_decimal

from conversations.base import Context
from conversations.fields import N_, luhn_ok, to_hijri
from conversations.profile import FieldKind, FieldSpec
from conversations.text import clean, only_digits

DOT = "•"
# A left-to-right isolate: a number (+9665...) stays whole and in order in an Arabic line.
LTR, END = "\u2066", "\u2069"


def _tail(value: str) -> str:
    """All but the last four characters hidden: an ID, or a number not recognised."""
    return DOT * (len(value) - 4) + value[-4:] if len(value) > 4 else value


def _national_id(value: str) -> str:
    return _tail(only_digits(value))


def _e164(value: str) -> str | None:
    """A Saudi number typed in any way (05..., 9665..., 009665..., any digits), or None."""
    text = clean(value)
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, "SA")
    except phonenumbers.NumberParseException:
        return None
    if phonenumbers.region_code_for_number(number) != "SA" or not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _mobile(value: str) -> str:
    """+966 and the 5 of every Saudi mobile stay, so it reads as a mobile: +9665••••4567."""
    e164 = _e164(value)
    if e164 is None:
        return _tail(re.sub(r"\s", "", clean(value)))
    return e164[:5] + DOT * (len(e164) - 9) + e164[-4:]


def _iban(value: str) -> str:
    """SA, then the last four, in the groups of four a bank card shows."""
    text = re.sub(r"[\s\-.]", "", clean(value)).upper()
    if not re.fullmatch(r"SA\d{2}[0-9A-Z]{20}", text):
        return _tail(text)
    hidden = text[:2] + DOT * 18 + text[-4:]
    return " ".join(hidden[i:i + 4] for i in range(0, len(hidden), 4))


def gregorian(day: date, lang: str) -> str:
    return format_date(day, format="long", locale=lang)


def hijri(day: date, lang: str, ctx: Context) -> str:
    """The Umm al-Qura date, or "" outside the calendar's range (1343-1500 AH)."""
    try:
        h = to_hijri(day)
    except (OverflowError, ValueError):
        return ""
    month = h.month_name(lang)
    if lang == "ar" and month.startswith("ذو "):  # after a day it is genitive: 30 ذي الحجة
        month = "ذي " + month[3:]
    return ctx.tr(lang).gettext("{day} {month} {year} AH").format(
        day=h.day, month=month, year=h.year)


def both_calendars(day: date, lang: str, ctx: Context) -> str:
    h = hijri(day, lang, ctx)
    g = gregorian(day, lang)
    return f"{h} ({g})" if h else g


Show = Callable[[FieldSpec, Any, str, Context], str]


def _plain(spec: FieldSpec, value: Any, lang: str, ctx: Context) -> str:
    return str(value)


def _option(spec: FieldSpec, value: Any, lang: str, ctx: Context) -> str:
    return next((o.label.get(lang) for o in spec.options if o.key == value), str(value))


def _day(spec: FieldSpec, value: Any, lang: str, ctx: Context) -> str:
    try:
        return both_calendars(date.fromisoformat(str(value)), lang, ctx)
    except ValueError:  # not a date the intake stored
        return str(value)


def _amount(spec: FieldSpec, value: Any, lang: str, ctx: Context) -> str:
    try:
        amount = format_decimal(Decimal(str(value)), format="#,##0.00", locale=lang)
    except InvalidOperation:
        return str(value)
    return ctx.tr(lang).gettext("{amount} riyals").format(amount=amount)


def _file(spec: FieldSpec | None, value: Any, lang: str, ctx: Context) -> str:
    return "📎 " + str(value.get("name", "")) if isinstance(value, dict) else str(value)


FOR_EXAMPLE = N_("For example: {example}")


@dataclass(frozen=True)
class Kind:
    """What one kind of field means to the log, the summary, the staff file and the question."""

    # an identifying number: masked in the log, in a transcript and in the staff's masked file
    mask: Callable[[str], str] | None = None
    own_masked: bool = False  # masked in the beneficiary's own summary too
    ltr: bool = False  # a number shown inside a left-to-right isolate to the beneficiary
    show: Show = _plain  # the value in words: an option's label, both calendars, riyals
    example: str | None = None  # one right answer, shown under the question and after a mistake
    hint: str | None = None  # the line under the question (a msgid; {example} is filled in)
    number: bool = False  # answered with a number: a number typed there is the answer


KINDS: dict[FieldKind, Kind] = {
    FieldKind.TEXT: Kind(),
    FieldKind.INTEGER: Kind(example="4", hint=FOR_EXAMPLE, number=True),
    FieldKind.MONEY: Kind(show=_amount, example="2500", hint=FOR_EXAMPLE, number=True),
    FieldKind.NATIONAL_ID: Kind(mask=_national_id, own_masked=True, ltr=True,
                                example="1234567897", hint=FOR_EXAMPLE, number=True),
    FieldKind.PHONE: Kind(mask=_mobile, ltr=True, example="0512345678", hint=FOR_EXAMPLE,
                          number=True),
    FieldKind.IBAN: Kind(mask=_iban, own_masked=True, ltr=True,
                         example="SA03 8000 0000 6080 1016 7519", hint=FOR_EXAMPLE, number=True),
    # a format, not an example: a fixed date would be past, or another day in the other
    # calendar, wherever it is shown
    FieldKind.DATE: Kind(show=_day, hint=N_(
        "Write the day, then the month, then the year (day/month/year), in Hijri or "
        "Gregorian."), number=True),
    FieldKind.CHOICE: Kind(show=_option, hint=N_("Choose a number or write the option.")),
    FieldKind.FILE: Kind(show=_file, hint=N_("Send a clear photo or a PDF file.")),
}
MASKED = frozenset(kind for kind, k in KINDS.items() if k.mask)
NUMBER_KINDS = frozenset(kind for kind, k in KINDS.items() if k.number)


def mask(kind: FieldKind, value: str) -> str:
    """What the log, a transcript or a masked file keeps of a value of this kind."""
    how = KINDS[kind].mask
    return how(value) if how else value


def example(kind: FieldKind) -> str | None:
    return KINDS[kind].example


def hint(spec: FieldSpec, lang: str, ctx: Context) -> str:
    """The line under a question that says how to answer it ("" for free text)."""
    kind = KINDS[spec.kind]
    if not kind.hint:
        return ""
    return ctx.tr(lang).gettext(kind.hint).format(example=kind.example)


def for_beneficiary(spec: FieldSpec, value: Any, lang: str, ctx: Context) -> str:
    """An answer as the beneficiary's summary shows it: ID and IBAN masked, both calendars,
    riyals, an option's label, a file's name."""
    if value is None:
        return ctx.tr(lang).gettext("(skipped)")
    kind = KINDS[spec.kind]
    shown = mask(spec.kind, str(value)) if kind.own_masked else kind.show(spec, value, lang, ctx)
    return LTR + shown + END if kind.ltr else shown


def for_staff(spec: FieldSpec | None, value: Any, *, full: bool, lang: str, ctx: Context) -> str:
    """A stored answer as a staff member reads it in a beneficiary's file: an identifying
    number masked as what it is unless they asked for the full file, a choice by its label,
    a date in both calendars, an amount in riyals, a file by its name. A field the profile
    no longer has is masked when its value looks like an ID, a mobile or an IBAN."""
    if value is None:
        return "-"
    if isinstance(value, dict):
        return _file(spec, value, lang, ctx)
    kind = spec.kind if spec is not None else _looks_like(str(value))
    if kind is not None and not full and kind in MASKED:
        return LTR + mask(kind, str(value)) + END
    if spec is None:
        return str(value)
    return KINDS[spec.kind].show(spec, value, lang, ctx)


def _looks_like(value: str) -> FieldKind | None:
    """The identifying kind a stored value has the shape of, for a field without its spec."""
    if re.fullmatch(r"[12]\d{9}", value) and luhn_ok(value):
        return FieldKind.NATIONAL_ID
    if re.fullmatch(r"\+9665\d{8}", value):
        return FieldKind.PHONE
    if re.fullmatch(r"SA\d{4}[0-9A-Z]{18}", value):
        return FieldKind.IBAN
    return None
