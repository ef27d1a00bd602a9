"""The figures of the board report: a few plain queries, then pure arithmetic.

`gather()` reads the rows of the period (`_load`) and hands them to `compute()`, which
knows no database and is what the unit tests exercise. Every date is a Riyadh date and the
period is inclusive at both ends; the queries use the UTC instants that bound it.

Definitions (repeated as notes in the files):

- requests received: `requests.confirmed_at` in the period, counted by their current status.
- decided: the first `request_events` row whose status is approved or rejected (whenever it
  happened); on time when its Riyadh date is on or before `requests.decision_due`. The on-time
  share is over the received requests that are decided plus the undecided ones whose decision
  date is before the period's last day.
- days to a decision: decision time minus `confirmed_at`, in days; the median, to 1 decimal.
- escalations: researcher cases created in the period for a person's own reasons; the wait is
  the minutes until a researcher's first reply, where there was one: the first `case_messages`
  row to the beneficiary (direction "out"), or `cases.first_reply_at` for a case without one.
- per staff member (`by_staff`): cases taken are those they hold now (`cases.claimed_by`, which
  a transfer changes); a first reply and its wait are credited to whoever wrote it (the
  `staff_id` on that first outgoing message), so receiving a case by transfer earns none.
- surveys: sent in the period (and, of those, answered); the ratings are the answers given in
  the period (anonymous ones included); CSAT is the share of ratings of 4 or 5.
- months: each calendar month, cut to the period; "decided" counts the first decisions made in
  that month, "answered" the ratings given in it.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from conversations.base import RIYADH
from conversations.desk import LIFECYCLE
from conversations.profile import Profile
from storage.db import Database
from storage.models import (
    Case,
    CaseMessage,
    FaqAnswer,
    Feedback,
    Request,
    RequestEvent,
    Staff,
    Survey,
    SurveyAnswer,
)
from storage.repositories import UnitOfWork

DECISIONS = ("approved", "rejected")
ESCALATION_REASONS = ("asked", "repeated_failures", "not_understood", "message", "question",
                      "unhelpful")
FOLLOW_UP_REASON = "low_rating"
STATUSES = tuple(LIFECYCLE)  # the request lifecycle, in its order
REDACTED = "…"


# --- what the report holds ------------------------------------------------------------------

@dataclass(frozen=True)
class Label:
    """A name in Arabic and, when the association gave one, in English."""

    ar: str
    en: str | None = None

    def get(self, lang: str) -> str:
        return self.en if lang == "en" and self.en else self.ar


@dataclass(frozen=True)
class Ratings:
    count: int
    mean: float | None  # 2 decimals; None without ratings
    csat: float | None  # share (0..1) of ratings 4 or 5
    distribution: tuple[int, int, int, int, int]  # how many 1s, 2s, ... 5s


@dataclass(frozen=True)
class Requests:
    received: int
    by_status: tuple[tuple[str, int], ...]  # every lifecycle status, then any other seen
    decided: int
    on_time: int
    on_time_base: int  # decided + undecided and overdue at the period's end
    on_time_share: float | None
    median_days: float | None  # 1 decimal: submission to the decision
    median_days_to_registration: float | None = None  # the policy's step 6
    median_days_to_delivery: float | None = None  # step 7


@dataclass(frozen=True)
class Satisfaction:
    sent: int
    answered: int  # of those sent in the period
    response_rate: float | None
    ratings: Ratings


@dataclass(frozen=True)
class ServiceFigures:
    key: str
    label: Label
    requests: Requests
    satisfaction: Satisfaction


@dataclass(frozen=True)
class Escalations:
    cases: int
    median_wait_minutes: float | None  # 1 decimal
    replied: int  # cases with a first reply, the base of the median
    closed: int
    follow_ups: int  # cases opened after a low rating
    suggestions: int
    complaints: int


@dataclass(frozen=True)
class Questions:
    """Beneficiaries' questions the bot answered itself, and what came of them."""

    answered: int  # an answer from the FAQ or the profile
    helpful: int  # the beneficiary said it answered their question
    escalated: int  # they asked for a researcher after an answer, or after none was found
    unanswered: int  # nothing sure enough to answer: a researcher offered
    helpful_share: float | None  # of the answered


@dataclass(frozen=True)
class Comment:
    on: date
    kind: str  # service | case
    service: str | None
    rating: int
    text: str


@dataclass(frozen=True)
class Month:
    start: date  # the first day counted (the period may start mid-month)
    end: date
    received: int
    decided: int
    answered: int
    ratings: Ratings


@dataclass(frozen=True)
class StaffFigures:
    name: str
    cases_claimed: int
    median_first_reply_minutes: float | None
    ratings: int
    mean_rating: float | None


@dataclass(frozen=True)
class Report:
    start: date
    end: date
    generated_at: datetime
    association: Label
    decision_days: int
    requests: Requests
    services: tuple[ServiceFigures, ...]
    all_services: Satisfaction  # every "service" survey
    case_help: Satisfaction  # the "case" surveys: help from a researcher
    overall: Satisfaction  # both kinds
    escalations: Escalations
    questions: Questions
    comments: tuple[Comment, ...]
    months: tuple[Month, ...]
    staff: tuple[StaffFigures, ...] | None  # None unless asked for by_staff

    def service_label(self, key: str | None) -> Label:
        found = next((s.label for s in self.services if s.key == key), None)
        return found or Label(key or "-")


# --- the rows compute() works on ----------------------------------------------------------

@dataclass(frozen=True)
class RequestRow:
    id: int
    service: str
    status: str
    confirmed_at: datetime
    decision_due: date
    decided_at: datetime | None  # the first approval or rejection
    registered_at: datetime | None = None  # first sent to the committee (registered)
    delivered_at: datetime | None = None  # the service recorded as provided


@dataclass(frozen=True)
class CaseRow:
    id: int
    reason: str
    audience: str
    status: str
    created_at: datetime
    first_reply_at: datetime | None  # the first message written to the beneficiary
    claimed_by: int | None  # who holds the case now: a transfer changes it
    first_reply_by: int | None = None  # who wrote that first message: a transfer does not


@dataclass(frozen=True)
class SurveyRow:
    kind: str
    service: str | None
    status: str
    sent_at: datetime


@dataclass(frozen=True)
class AnswerRow:
    id: int
    kind: str
    service: str | None
    staff_id: int | None
    rating: int
    comment: str | None
    anonymous: bool
    answered_on: date


@dataclass(frozen=True)
class StaffRow:
    id: int
    name: str
    role: str
    active: bool


@dataclass(frozen=True)
class Rows:
    requests: Sequence[RequestRow] = ()  # received in the period
    decisions: Sequence[datetime] = ()  # first decisions made in the period, any request
    cases: Sequence[CaseRow] = ()  # created in the period
    feedback: Sequence[str] = ()  # the kinds of the suggestions/complaints of the period
    surveys: Sequence[SurveyRow] = ()  # sent in the period
    answers: Sequence[AnswerRow] = ()  # given in the period
    staff: Sequence[StaffRow] = ()
    faq: Sequence[str] = ()  # the outcomes of questions the bot took (answered, helpful...)


# --- pure computation ---------------------------------------------------------------------

def utc_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """The UTC instants of the start of `start` and of the day after `end`, in Riyadh."""
    first = datetime.combine(start, time(0), RIYADH).astimezone(UTC)
    after = datetime.combine(end + timedelta(days=1), time(0), RIYADH).astimezone(UTC)
    return first, after


def riyadh_date(moment: datetime) -> date:
    return moment.astimezone(RIYADH).date()


def share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def median(values: Iterable[float], digits: int = 1) -> float | None:
    found = list(values)
    return round(statistics.median(found), digits) if found else None


def ratings(values: Iterable[int]) -> Ratings:
    found = [v for v in values if 1 <= v <= 5]
    if not found:
        return Ratings(0, None, None, (0, 0, 0, 0, 0))
    counts = Counter(found)
    return Ratings(
        count=len(found),
        mean=round(sum(found) / len(found), 2),
        csat=sum(1 for v in found if v >= 4) / len(found),
        distribution=(counts[1], counts[2], counts[3], counts[4], counts[5]),
    )


def request_figures(rows: Sequence[RequestRow], end: date) -> Requests:
    statuses = Counter(r.status for r in rows)
    order = list(STATUSES) + sorted(s for s in statuses if s not in STATUSES)
    decided = [r for r in rows if r.decided_at is not None]
    overdue = [r for r in rows if r.decided_at is None and r.decision_due < end]
    on_time = sum(1 for r in decided if r.decided_at and riyadh_date(r.decided_at) <= r.decision_due)
    days = [(r.decided_at - r.confirmed_at).total_seconds() / 86400 for r in decided if r.decided_at]
    registered = [(r.registered_at - r.confirmed_at).total_seconds() / 86400 for r in rows
                  if r.registered_at]
    delivered = [(r.delivered_at - r.confirmed_at).total_seconds() / 86400 for r in rows
                 if r.delivered_at]
    base = len(decided) + len(overdue)
    return Requests(
        received=len(rows),
        by_status=tuple((s, statuses[s]) for s in order),
        decided=len(decided),
        on_time=on_time,
        on_time_base=base,
        on_time_share=share(on_time, base),
        median_days=median(days),
        median_days_to_registration=median(registered),
        median_days_to_delivery=median(delivered),
    )


def satisfaction(surveys: Sequence[SurveyRow], answers: Sequence[AnswerRow]) -> Satisfaction:
    answered = sum(1 for s in surveys if s.status == "answered")
    return Satisfaction(len(surveys), answered, share(answered, len(surveys)),
                        ratings(a.rating for a in answers))


def months(start: date, end: date) -> list[tuple[date, date]]:
    """Each calendar month that overlaps the period, cut to it."""
    found = []
    first = start
    while first <= end:
        following = (first.replace(day=1) + timedelta(days=32)).replace(day=1)
        found.append((first, min(end, following - timedelta(days=1))))
        first = following
    return found


def _name_pattern(names: Iterable[str]) -> re.Pattern[str] | None:
    """Every word of at least 3 letters of the staff's names, in any common Arabic spelling."""
    variants = {"ا": "[اأإآ]", "أ": "[اأإآ]", "إ": "[اأإآ]", "آ": "[اأإآ]",
                "ة": "[ةه]", "ه": "[ةه]", "ى": "[ىي]", "ي": "[ىي]"}
    words = {w for name in names for w in re.findall(r"\w+", name) if len(w) >= 3}
    if not words:
        return None
    marks = "[\u064b-\u0652\u0640]*"  # tashkeel and tatweel between letters
    alternatives = sorted(
        (marks.join(variants.get(c, re.escape(c)) for c in w) for w in words), key=len, reverse=True)
    return re.compile(rf"(?<!\w)(?:{'|'.join(alternatives)})(?!\w)", re.IGNORECASE)


def redact(text: str, names: Iterable[str]) -> str:
    """The comment with the staff's names taken out (a beneficiary may thank a researcher)."""
    pattern = _name_pattern(names)
    return pattern.sub(REDACTED, text) if pattern else text


def compute(profile: Profile, start: date, end: date, rows: Rows, *, by_staff: bool = False,
            now: datetime | None = None) -> Report:
    """Every figure of the report from the rows of the period; no I/O."""
    services = [(s.key, Label(s.label.ar, s.label.en)) for s in profile.services]
    known = {key for key, _ in services}
    seen = {r.service for r in rows.requests} | {s.service for s in rows.surveys if s.kind == "service"} \
        | {a.service for a in rows.answers if a.kind == "service"}
    services += [(key, Label(key)) for key in sorted(k for k in seen if k and k not in known)]

    service_surveys = [s for s in rows.surveys if s.kind == "service"]
    service_answers = [a for a in rows.answers if a.kind == "service"]
    case_surveys = [s for s in rows.surveys if s.kind == "case"]
    case_answers = [a for a in rows.answers if a.kind == "case"]
    per_service = tuple(
        ServiceFigures(
            key=key, label=label,
            requests=request_figures([r for r in rows.requests if r.service == key], end),
            satisfaction=satisfaction([s for s in service_surveys if s.service == key],
                                      [a for a in service_answers if a.service == key]),
        )
        for key, label in services
    )

    escalated = [c for c in rows.cases
                 if c.audience == "researcher" and c.reason in ESCALATION_REASONS]
    replied = [c for c in escalated if c.first_reply_at is not None]
    waits = [(c.first_reply_at - c.created_at).total_seconds() / 60 for c in replied if c.first_reply_at]
    kinds = Counter(rows.feedback)
    escalations = Escalations(
        cases=len(escalated),
        median_wait_minutes=median(waits),
        replied=len(replied),
        closed=sum(1 for c in escalated if c.status == "closed"),
        follow_ups=sum(1 for c in rows.cases if c.reason == FOLLOW_UP_REASON),
        suggestions=kinds["suggestion"],
        complaints=kinds["complaint"],
    )

    outcomes = Counter(rows.faq)
    questions = Questions(outcomes["answered"], outcomes["helpful"], outcomes["escalated"],
                          outcomes["unanswered"],
                          share(outcomes["helpful"], outcomes["answered"]))

    names = [s.name for s in rows.staff]
    comments = tuple(
        Comment(a.answered_on, a.kind, a.service, a.rating,
                a.comment.strip() if by_staff else redact(a.comment.strip(), names))
        for a in sorted(rows.answers, key=lambda a: (a.answered_on, a.id))
        if a.comment and a.comment.strip()
    )

    monthly = []
    for first, last in months(start, end):
        answers = [a for a in rows.answers if first <= a.answered_on <= last]
        monthly.append(Month(
            start=first, end=last,
            received=sum(1 for r in rows.requests if first <= riyadh_date(r.confirmed_at) <= last),
            decided=sum(1 for d in rows.decisions if first <= riyadh_date(d) <= last),
            answered=len(answers),
            ratings=ratings(a.rating for a in answers),
        ))

    staff = None
    if by_staff:
        staff = tuple(_staff_figures(rows.staff, escalated, case_answers))

    return Report(
        start=start, end=end, generated_at=now or datetime.now(UTC),
        association=Label(profile.association.ar, profile.association.en),
        decision_days=profile.decision.days,
        requests=request_figures(rows.requests, end),
        services=per_service,
        all_services=satisfaction(service_surveys, service_answers),
        case_help=satisfaction(case_surveys, case_answers),
        overall=satisfaction(rows.surveys, rows.answers),
        escalations=escalations,
        questions=questions,
        comments=comments,
        months=tuple(monthly),
        staff=staff,
    )


def _staff_figures(staff: Sequence[StaffRow], cases: Sequence[CaseRow],
                   answers: Sequence[AnswerRow]) -> Iterable[StaffFigures]:
    """Per person: the escalations of the period they hold, the first replies they wrote, and
    their named case ratings. Active researchers appear even without figures; others only
    with some."""
    for person in sorted(staff, key=lambda s: (s.name, s.id)):
        claimed = [c for c in cases if c.claimed_by == person.id]
        wrote_first = [c for c in cases if c.first_reply_by == person.id and c.first_reply_at]
        given = [a.rating for a in answers if a.staff_id == person.id and not a.anonymous]
        if not (claimed or wrote_first or given) and not (person.active and person.role == "researcher"):
            continue
        yield StaffFigures(
            name=person.name,
            cases_claimed=len(claimed),
            median_first_reply_minutes=median(
                (c.first_reply_at - c.created_at).total_seconds() / 60
                for c in wrote_first if c.first_reply_at),
            ratings=len(given),
            mean_rating=round(sum(given) / len(given), 2) if given else None,
        )


# --- the queries ----------------------------------------------------------------------------

async def load(uow: UnitOfWork, start: date, end: date) -> Rows:
    """The rows of the period, read in the caller's unit of work (the report's own
    queries live here, with the figures they feed)."""
    session = uow.session
    first, after = utc_bounds(start, end)
    decided_at = func.min(RequestEvent.at).label("decided_at")
    received = select(Request.id).where(Request.confirmed_at >= first, Request.confirmed_at < after)
    cohort = dict((await session.execute(
        select(RequestEvent.request_id, decided_at)
        .where(RequestEvent.status.in_(DECISIONS), RequestEvent.request_id.in_(received))
        .group_by(RequestEvent.request_id))).all())
    reached: dict[str, dict[int, datetime]] = {}
    for status in ("committee", "service_delivered"):  # registered, delivered: the first time
        reached[status] = dict((await session.execute(
            select(RequestEvent.request_id, func.min(RequestEvent.at))
            .where(RequestEvent.status == status, RequestEvent.request_id.in_(received))
            .group_by(RequestEvent.request_id))).all())
    requests = [
        RequestRow(i, service, status, confirmed, due, cohort.get(i),
                   reached["committee"].get(i), reached["service_delivered"].get(i))
        for i, service, status, confirmed, due in (await session.execute(
            select(Request.id, Request.service, Request.status, Request.confirmed_at,
                   Request.decision_due)
            .where(Request.confirmed_at >= first, Request.confirmed_at < after)
            .order_by(Request.id)))
    ]
    firsts = (select(RequestEvent.request_id, decided_at)
              .where(RequestEvent.status.in_(DECISIONS))
              .group_by(RequestEvent.request_id).subquery())
    decisions = list((await session.execute(
        select(firsts.c.decided_at)
        .where(firsts.c.decided_at >= first, firsts.c.decided_at < after))).scalars())
    cases = await _cases(session, first, after)
    feedback = list((await session.execute(
        select(Feedback.kind).where(Feedback.created_at >= first, Feedback.created_at < after)
    )).scalars())
    surveys = [SurveyRow(*row) for row in (await session.execute(
        select(Survey.kind, Survey.service, Survey.status, Survey.sent_at)
        .where(Survey.sent_at >= first, Survey.sent_at < after)
        .order_by(Survey.id)))]
    answers = [AnswerRow(*row) for row in (await session.execute(
        select(SurveyAnswer.id, SurveyAnswer.kind, SurveyAnswer.service, SurveyAnswer.staff_id,
               SurveyAnswer.rating, SurveyAnswer.comment, SurveyAnswer.anonymous,
               SurveyAnswer.answered_on)
        .where(SurveyAnswer.answered_on >= start, SurveyAnswer.answered_on <= end)
        .order_by(SurveyAnswer.id)))]
    staff = [StaffRow(*row) for row in (await session.execute(
        select(Staff.id, Staff.name, Staff.role, Staff.active).order_by(Staff.id)))]
    faq = list((await session.execute(
        select(FaqAnswer.outcome).where(FaqAnswer.at >= first, FaqAnswer.at < after))).scalars())
    return Rows(requests, decisions, cases, feedback, surveys, answers, staff, faq)


async def _cases(session: AsyncSession, first: datetime, after: datetime) -> list[CaseRow]:
    """The cases created in the period, each with its first message to the beneficiary: when,
    and who wrote it (not who holds the case now)."""
    outgoing = (select(CaseMessage.case_id, CaseMessage.at, CaseMessage.staff_id,
                       func.row_number().over(partition_by=CaseMessage.case_id,
                                              order_by=(CaseMessage.at, CaseMessage.id)).label("n"))
                .where(CaseMessage.direction == "out").subquery())
    rows = await session.execute(
        select(Case.id, Case.reason, Case.audience, Case.status, Case.created_at,
               Case.first_reply_at, Case.claimed_by, outgoing.c.at, outgoing.c.staff_id)
        .outerjoin(outgoing, (outgoing.c.case_id == Case.id) & (outgoing.c.n == 1))
        .where(Case.created_at >= first, Case.created_at < after)
        .order_by(Case.id))
    return [CaseRow(i, reason, audience, status, created, written or replied, holder, writer)
            for i, reason, audience, status, created, replied, holder, written, writer in rows]


async def _load(db: Database, start: date, end: date) -> Rows:
    async with db.unit_of_work() as uow:
        return await load(uow, start, end)


async def gather(db: Database, profile: Profile, start: date, end: date, *,
                 by_staff: bool = False, now: datetime | None = None) -> Report:
    """The report of the period from `start` to `end` (Riyadh dates, both included)."""
    if start > end:
        raise ValueError(f"the period starts ({start}) after it ends ({end})")
    return compute(profile, start, end, await _load(db, start, end), by_staff=by_staff, now=now)
