"""The policy's review steps, pure: what a reviewer matches against the documents (step 2),
how the decision's period is worded (step 5, in each policy's own words), and what the
beneficiary is told at registration (step 6), at the decision and at delivery (step 7).

The desk's commands that use these are in conversations/desk_step.py (/reviews, /review,
/match, /mismatch, /sendback, /register, /committee, /decide, /deliver).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from conversations import kinds
from conversations.base import (
    RIYADH,
    Choice,
    Context,
    DecisionView,
    DeliveryView,
    DocumentView,
    Reply,
    RequestView,
    ReviewMark,
)
from conversations.fields import N_, Invalid, parse_date
from conversations.profile import FieldKind, FieldSpec, Profile, WorkingHours
from conversations.text import ascii_digits, clean

# Who decides, in the policy's words.
BODY = {"committee": N_("the research committee"),
        "competent_body": N_("the competent body in the association")}
BODY_TITLE = {"committee": N_("research committee"), "competent_body": N_("competent body")}


def body(lang: str, ctx: Context) -> str:
    return ctx.tr(lang).gettext(BODY[ctx.profile.decision.body])


def body_title(lang: str, ctx: Context) -> str:
    """The decider as a role's name on staff screens ("research committee")."""
    return ctx.tr(lang).gettext(BODY_TITLE[ctx.profile.decision.body])


def period(lang: str, ctx: Context) -> str:
    """The policy's period in words: "two weeks" (أسبوعين), "10 days"."""
    t = ctx.tr(lang)
    days = ctx.profile.decision.days
    if days % 7 == 0:
        weeks = days // 7
        return t.ngettext("{n} week", "{n} weeks", weeks).format(n=weeks)
    return t.ngettext("{n} day", "{n} days", days).format(n=days)


def promise(lang: str, ctx: Context) -> str:
    """How the policy says when the answer comes: "within a period of not less than two
    weeks" (it does not come before), or "within a set period of two weeks" (by then)."""
    _ = ctx.tr(lang).gettext
    if ctx.profile.decision.wording == "at_least":
        return _("within a period of not less than {period}").format(period=period(lang, ctx))
    return _("within a set period of {period}").format(period=period(lang, ctx))


def studies(lang: str, ctx: Context) -> str:
    """The policy's step 5 as one sentence for the beneficiary."""
    _ = ctx.tr(lang).gettext
    return _("Your request goes to {body}, which studies it and replies with acceptance or "
             "rejection {promise}.").format(body=body(lang, ctx), promise=promise(lang, ctx))


def due_sentence(day: date, lang: str, ctx: Context) -> str:
    """The expected answer date: from that day (at_least), or by it (within)."""
    _ = ctx.tr(lang).gettext
    shown = kinds.both_calendars(day, lang, ctx)
    if ctx.profile.decision.wording == "at_least":
        return _("Expect the answer from {due} on.").format(due=shown)
    return _("Expect the answer by {due}.").format(due=shown)


def due_label(day: date, lang: str, ctx: Context) -> str:
    """The expected answer date as a line of a request's status."""
    _ = ctx.tr(lang).gettext
    shown = kinds.both_calendars(day, lang, ctx)
    if ctx.profile.decision.wording == "at_least":
        return _("Answer expected from: {date}").format(date=shown)
    return _("Answer expected by: {date}").format(date=shown)


def due_for_staff(day: date, lang: str, ctx: Context) -> str:
    """The due date on staff screens: "from 2026-12-07" or "by 2026-12-07"."""
    _ = ctx.tr(lang).gettext
    if ctx.profile.decision.wording == "at_least":
        return _("answer due from {date}").format(date=day.isoformat())
    return _("answer due by {date}").format(date=day.isoformat())


# -- what a reviewer matches -----------------------------------------------------------
PROVABLE = frozenset({FieldKind.FILE, FieldKind.NATIONAL_ID, FieldKind.IBAN})


def reviewed(spec: FieldSpec, profile: Profile) -> bool:
    """Whether the reviewer matches this answer against the documents."""
    if spec.review is not None:
        return spec.review
    if spec.kind in PROVABLE or (spec.kind is FieldKind.DATE and spec.rules.not_expired):
        return True
    return spec.key == (profile.signature.name_field or "full_name")


@dataclass(frozen=True)
class Item:
    """One thing the reviewer matches: an answer (by its field's key) or a document."""

    key: str  # the field's key, or "doc:ID"
    label: str  # in the reader's language
    value: str  # unmasked: the reviewer compares it with the document
    document_id: int | None = None
    expired_on: date | None = None  # a validity date now past (an ID expired since)


def items(request: RequestView, documents: Iterable[DocumentView], lang: str, ctx: Context
          ) -> list[Item]:
    """What the reviewer matches, in the order of the request's questions: the answers
    documents prove, then each document (one sent with missing information too)."""
    service = ctx.profile.service(request.service)
    found: list[Item] = []
    docs = list(documents)
    labels = {}
    for spec in service.fields if service else ():
        labels[spec.key] = spec.label.get(lang)
        value = request.fields.get(spec.key)
        if spec.kind is FieldKind.FILE or value is None or not reviewed(spec, ctx.profile):
            continue
        shown = kinds.for_staff(spec, value, full=True, lang=lang, ctx=ctx)
        found.append(Item(spec.key, spec.label.get(lang), shown,
                          expired_on=_expired(spec, value, ctx.today)))
    _ = ctx.tr(lang).gettext
    for doc in docs:
        label = labels.get(doc.field_key) or (_("Sent with missing information")
                                              if doc.field_key == "needs_info" else doc.field_key)
        found.append(Item(f"doc:{doc.id}", label, f"📎 {doc.name}", doc.id))
    return found


def _expired(spec: FieldSpec, value: object, today: date) -> date | None:
    if spec.kind is not FieldKind.DATE or not spec.rules.not_expired:
        return None
    try:
        day = date.fromisoformat(str(value))
    except ValueError:
        return None
    return day if day < today else None


def latest(marks: Iterable[ReviewMark]) -> dict[str, ReviewMark]:
    """Each item's latest mark."""
    found: dict[str, ReviewMark] = {}
    for mark in sorted(marks, key=lambda m: m.at):
        found[mark.item] = mark
    return found


def pending(found: list[Item], marks: Mapping[str, ReviewMark]) -> list[Item]:
    return [i for i in found if i.key not in marks]


def problems(found: list[Item], marks: Mapping[str, ReviewMark]) -> list[Item]:
    """Items that stop the registration: marked as not matching, or no longer valid."""
    return [i for i in found if i.expired_on is not None
            or (i.key in marks and not marks[i.key].matched)]


def what_is_missing(request: RequestView, documents: Iterable[DocumentView],
                    marks: Mapping[str, ReviewMark], lang: str, ctx: Context) -> str:
    """What the beneficiary is asked for when the request goes back: each item that does
    not match (with the reviewer's note) or is no longer valid, labelled in their language."""
    _ = ctx.tr(lang).gettext
    lines = []
    for item in problems(items(request, documents, lang, ctx), marks):
        mark = marks.get(item.key)
        if mark is not None and not mark.matched:
            lines.append(f"• {item.label}: {mark.note}" if mark.note else f"• {item.label}")
        else:
            lines.append("• " + _("{label}: no longer valid; please send a valid one").format(
                label=item.label))
    return "\n".join(lines)


# -- what staff type -----------------------------------------------------------------
def parse_meeting(text: str) -> tuple[str, date | None, str] | None:
    """"7 2026-12-01 the reason…" → (meeting number, its date or None for today, the rest).
    The date may be Hijri or Gregorian (١٤٤٨-٠٦-١٢ too). None without a meeting number."""
    words = clean(text).split()
    first = ascii_digits(words[0]).lstrip("#") if words else ""
    if not re.fullmatch(r"(?=.*[0-9])[0-9A-Za-z/-]{1,20}", first):  # a number, not a word
        return None
    meeting = ascii_digits(words[0]).lstrip("#")
    rest = words[1:]
    day = None
    if rest:
        try:
            day = parse_date(ascii_digits(rest[0]))
            rest = rest[1:]
        except Invalid:
            day = None
    return meeting, day, " ".join(rest)


def parse_amount(text: str) -> tuple[str | None, str | None]:
    """"500 ريال" → ("500", "ريال"); "2 سلة" → ("2", "سلة"); "" → (None, None); words
    without a number are a unit or a description alone."""
    words = clean(text).split()
    if not words:
        return None, None
    try:
        amount = Decimal(ascii_digits(words[0]).replace(",", ""))
    except InvalidOperation:
        return None, " ".join(words)[:40]
    if not amount.is_finite() or amount < 0:
        return None, " ".join(words)[:40]
    plain = f"{amount:f}"
    plain = plain.rstrip("0").rstrip(".") if "." in plain else plain
    return plain, (" ".join(words[1:])[:40] or None)


# -- what the beneficiary is told -----------------------------------------------------
def registered(number: str, file_number: str, due: date, lang: str, ctx: Context) -> Reply:
    _ = ctx.tr(lang).gettext
    return Reply("\n".join([
        _("Your request {number} is complete and registered. Your file number at the "
          "association is {file}.").format(number=number, file=file_number),
        studies(lang, ctx) + " " + due_sentence(due, lang, ctx),
    ]))


def decided(number: str, decision: DecisionView, lang: str, ctx: Context) -> Reply:
    """The decision, kindly, with a next step."""
    _ = ctx.tr(lang).gettext
    if decision.outcome == "approved":
        return Reply("\n".join([
            _("Good news: your request {number} has been approved.").format(number=number),
            _("We will contact you about receiving the service.")]))
    lines = [_("We are sorry to tell you that your request {number} was rejected after "
               "study.").format(number=number)]
    if decision.reason:
        lines.append(_("Reason: {reason}").format(reason=decision.reason))
    lines.append(_("If you have new information or your circumstances change, a social "
                   "researcher can explain what can be done, and you may make a new request "
                   "at any time."))
    return Reply("\n".join(lines), (Choice("human", _("🙋 Talk to a researcher")),
                                     Choice("new_request", _("📝 New support request"))))


def delivered(number: str, delivery: DeliveryView, lang: str, ctx: Context) -> Reply:
    _ = ctx.tr(lang).gettext
    service = ctx.profile.service(delivery.service)
    name = service.label.get(lang) if service else delivery.service
    what = name
    if delivery.amount or delivery.unit:
        what += f" ({' '.join(p for p in (delivery.amount, delivery.unit) if p)})"
    return Reply(_("The service of your request {number} was provided: {what}. Thank you.")
                 .format(number=number, what=what))


def working_days(hours: WorkingHours, start: datetime, end: datetime) -> int:
    """Working days (Riyadh) that have passed since `start`, up to `end`'s day: submitted on
    a Sunday, it is 1 on Monday."""
    first, last = start.astimezone(RIYADH).date(), end.astimezone(RIYADH).date()
    days, n = 0, 1
    while first + timedelta(days=n) <= last and n <= 400:
        if (first + timedelta(days=n)).weekday() in hours.days:
            days += 1
        n += 1
    return days


@dataclass(frozen=True)
class Waiting:
    """What waits at the policy's steps, for the team view and the morning digest."""

    review: int  # submitted, not yet taken for review
    review_late: int  # of those, waiting longer than the profile's review_within_days
    committee: int  # registered, waiting for the decision
    late: int  # not decided and past their decision date


def waiting(queue: Iterable[RequestView], committee: Iterable[RequestView],
            late: Iterable[RequestView], ctx: Context) -> Waiting:
    submitted = [r for r in queue if r.status == "submitted"]
    limit = ctx.profile.review_within_days
    return Waiting(len(submitted),
                   sum(1 for r in submitted
                       if working_days(ctx.profile.working_hours, r.confirmed_at, ctx.now) > limit),
                   len(list(committee)), len(list(late)))


def waiting_lines(w: Waiting, lang: str, ctx: Context) -> list[str]:
    """The requests' side of the team view: reviews and decisions waiting, late ones."""
    _ = ctx.tr(lang).gettext
    return [_("Requests waiting for review: {n} (over {days} working days: {late})").format(
                n=w.review, days=ctx.profile.review_within_days, late=w.review_late),
            _("Waiting for the decision of the {body}: {n} · past their decision date: "
              "{late}").format(body=body_title(lang, ctx), n=w.committee, late=w.late)]
