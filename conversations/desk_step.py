"""The desk's step: what a staff command does, decided without a database.

`handlers/staff.py` loads the `Facts` a command needs (the staff member, the cases they
hold, the case the command names, what it reads), calls `step` (or `relay` for words
meant for a beneficiary) and applies the returned actions in one transaction, the way
the beneficiary's `journey.step` is applied. An action that may lose a race (taking a
case another researcher took a moment before) comes first: when it fails, the handler
loads the facts again and steps again, so the refusal is decided here too.

Every decision here has already passed the one role check (`desk.allowed`); what is
checked here is what a role alone does not say: holding the case, the case's audience.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from conversations import (
    acknowledgment,
    correction,
    desk,
    faq,
    journey,
    kinds,
    privacy,
    render,
    review,
    transcript,
)
from conversations.base import (
    RIYADH,
    AckView,
    CaseEntry,
    CaseView,
    Choice,
    Context,
    DecisionView,
    DeliveryView,
    DocumentView,
    Event,
    FileRef,
    Found,
    OpenCase,
    Registration,
    Reply,
    RequestStep,
    RequestView,
    ReviewMark,
    StaffView,
)
from conversations.fields import N_
from conversations.profile import FieldKind, Profile
from conversations.state import State, Step
from conversations.text import ascii_digits, fold, has_letter

# Closed cases that are not help a researcher gave: a rating's follow-up is not itself
# rated, and a suggestion or complaint is a ticket, not a talk the beneficiary asked for.
NOT_HELP = frozenset({"low_rating", *desk.TICKETS})


# -- what a command is decided on ------------------------------------------------------
@dataclass(frozen=True)
class AuditLine:
    at: datetime
    actor: str
    action: str
    allowed: bool
    case_id: int | None
    request_number: str | None


@dataclass(frozen=True)
class CorrectionAsked:
    """A corrected answer the beneficiary confirmed (and signed), with the request as it is
    stored now (None: it is gone) and its acknowledgment."""

    request: RequestView | None
    ack: AckView | None
    field: str
    value: Any
    ack_version: str
    ack_text: str
    signature: str | None
    confirmed_at: datetime
    channel: str


@dataclass(frozen=True)
class PrivacyLine:
    """A data subject's request on the PDPL clock, as /privacy lists it."""

    id: int
    beneficiary_id: int
    kind: str  # deletion | correction
    detail: str | None  # the requests held (a deletion)
    created_at: datetime
    due_on: date
    extended_on: date | None
    correction: CorrectionAsked | None = None


@dataclass(frozen=True)
class Facts:
    """What the desk knows when one command is decided. The first block is loaded for
    every command; the rest only for the commands that read it."""

    staff: StaffView  # as stored now (their current case, their language)
    lang: str
    group_case: CaseView | None = None  # in the staff group: the case being discussed
    held: tuple[CaseView, ...] = ()  # every case they hold
    named: CaseView | None = None  # the case the command's first word names
    names: Mapping[int, str] = field(default_factory=dict)  # beneficiary -> name, if given
    # per command
    holder: StaffView | None = None  # who holds the named case
    entries: tuple[CaseEntry, ...] = ()  # the conversation of the case acted on
    staff_names: Mapping[int, str] = field(default_factory=dict)
    colleagues: tuple[StaffView, ...] = ()  # who a case may be handed to
    holding: Mapping[int, tuple[int, ...]] = field(default_factory=dict)  # colleague -> cases
    queue: tuple[CaseView, ...] = ()
    board: tuple[OpenCase, ...] = ()
    found: tuple[Found, ...] = ()
    beneficiary_id: int | None = None  # whose file or history
    known: bool = True  # that beneficiary exists
    requests: tuple[RequestView, ...] = ()
    steps: Mapping[int, list[RequestStep]] = field(default_factory=dict)
    documents: Mapping[int, tuple[DocumentView, ...]] = field(default_factory=dict)  # by request
    acks: Mapping[int, AckView] = field(default_factory=dict)  # by request
    cases: tuple[CaseView, ...] = ()  # the beneficiary's cases
    request: RequestView | None = None  # the request /request names
    document: DocumentView | None = None  # the document /doc names
    other_open: CaseView | None = None  # the beneficiary's open case, when reopening
    rated: bool = False  # the case to close was already put to a rating (closed before)
    team: tuple[StaffView, ...] = ()
    audit: tuple[AuditLine, ...] = ()
    # the review steps: the request named (`request`), its documents, marks and records
    docs: tuple[DocumentView, ...] = ()
    marks: tuple[ReviewMark, ...] = ()
    registration: Registration | None = None
    decision: DecisionView | None = None
    delivery: DeliveryView | None = None
    reviewer: StaffView | None = None
    pending: tuple[RequestView, ...] = ()  # /reviews, /committee
    waiting: review.Waiting | None = None  # /team: the requests at the policy's steps
    upload: FileRef | None = None  # the photo sent to complete the command (a receipt)
    privacy: tuple[PrivacyLine, ...] = ()  # /privacy: what is open on the PDPL clock

    @property
    def current(self) -> CaseView | None:
        """The case their words go to: the topic's case in the group (if they hold it),
        else their current case while they still hold it."""
        wanted = self.group_case.id if self.group_case else self.staff.current_case_id
        return next((c for c in self.held if c.id == wanted), None)

    def name(self, case: CaseView) -> str | None:
        return self.names.get(case.beneficiary_id)


# -- what a step asks the handler to do --------------------------------------------------
@dataclass(frozen=True)
class Audit:
    action: str
    allowed: bool = True
    case_id: int | None = None
    number: str | None = None
    beneficiary_id: int | None = None
    detail: str | None = None


@dataclass(frozen=True)
class TakeCase:
    """Take a waiting case; may lose the race (then nothing after it happens)."""

    case_id: int


@dataclass(frozen=True)
class ReopenCase:
    """Reopen a closed case and take it; may fail (the beneficiary opened another)."""

    case_id: int


@dataclass(frozen=True)
class SetCurrent:
    staff_id: int
    case_id: int | None


@dataclass(frozen=True)
class ReleaseCase:
    case_id: int


@dataclass(frozen=True)
class TransferCase:
    case_id: int
    to_staff_id: int


@dataclass(frozen=True)
class CloseCase:
    case_id: int


@dataclass(frozen=True)
class Write:
    """Words (and a file) to the beneficiary of a case: kept in its conversation (in
    Arabic when the text has languages) and counted as the case's first reply."""

    case_id: int
    beneficiary_id: int
    texts: Mapping[str, str]  # by language; "ar" is what the conversation keeps
    file: FileRef | None = None


@dataclass(frozen=True)
class AddNote:
    case_id: int
    text: str


@dataclass(frozen=True)
class Teach:
    """A researcher's reply saved as an answer the bot gives itself, with the beneficiary's
    question as its first phrasing (the handler gives back its number)."""

    case_id: int
    beneficiary_id: int  # whose case (the audit names them; the answer does not)
    question: str
    answer: str


# What a beneficiary is told, rendered in their own language by `tell`.
@dataclass(frozen=True)
class Joined:
    staff: StaffView


@dataclass(frozen=True)
class Closed:
    with_menu: bool  # False when the question about the help follows instead


@dataclass(frozen=True)
class TicketClosed:
    ticket: str


@dataclass(frozen=True)
class StatusChanged:
    number: str
    status: str
    note: str | None


@dataclass(frozen=True)
class Decided:
    number: str
    decision: DecisionView


@dataclass(frozen=True)
class Delivered:
    number: str
    delivery: DeliveryView


@dataclass(frozen=True)
class Extended:
    """A data subject's request given its one extension: done by `due`."""

    due: date


@dataclass(frozen=True)
class CorrectionAnswered:
    """Staff's answer to a correction: approved (`reason` None) or not, and why."""

    number: str
    service: str
    field: str
    value: Any
    reason: str | None


Message = (Joined | Closed | TicketClosed | StatusChanged | Decided | Delivered | Extended
           | CorrectionAnswered)


@dataclass(frozen=True)
class Tell:
    """A message to a beneficiary on their own channel, and how their conversation moves
    (`move`, see `moved`)."""

    beneficiary_id: int
    message: Message
    move: str | None = None
    notice: str = "staff_reply"


@dataclass(frozen=True)
class ToStaff:
    """A message to another staff member's own chat."""

    staff: StaffView
    reply: Reply


@dataclass(frozen=True)
class SetStatus:
    request: RequestView
    status: str
    note: str | None


@dataclass(frozen=True)
class RateCase:
    """The beneficiary's right to rate the help of a closed case."""

    case: CaseView


@dataclass(frozen=True)
class RateDelivery:
    request: RequestView


@dataclass(frozen=True)
class SaveLanguage:
    lang: str


@dataclass(frozen=True)
class ExtendPrivacy:
    """Give a data subject's request its one extension of the PDPL's period."""

    request_id: int
    due: date


@dataclass(frozen=True)
class AnswerCorrection:
    """Close a correction, approved or not; may lose the race (a colleague answered it)."""

    privacy_id: int
    approved: bool
    reason: str | None = None


@dataclass(frozen=True)
class CorrectRequest:
    """An approved correction applied: the corrected answers, the acknowledgment signed
    for them in place of `old` (whose fingerprint the history keeps)."""

    privacy_id: int
    request: RequestView
    fields: Mapping[str, Any]
    national_id: str | None
    ack: AckView
    old: AckView | None


@dataclass(frozen=True)
class Await:
    """The command this staff member's next message completes (None: nothing awaited)."""

    command: str | None


@dataclass(frozen=True)
class TakeReview:
    """Take a submitted request for review; may lose the race."""

    request: RequestView


@dataclass(frozen=True)
class Mark:
    request: RequestView
    item: str
    matched: bool
    note: str | None


@dataclass(frozen=True)
class Register:
    """The request registered under the beneficiary's file number (the handler gives it,
    tells them and the committee) and sent to the committee."""

    request: RequestView


@dataclass(frozen=True)
class Decide:
    """The committee's decision; may lose the race (another member decided first)."""

    request: RequestView
    decision: DecisionView


@dataclass(frozen=True)
class Deliver:
    """The service provided, with its receipt's photo if one was sent; may lose the race."""

    request: RequestView
    delivery: DeliveryView
    receipt: FileRef | None = None


@dataclass(frozen=True)
class MakeReport:
    """The board report's files for a period, stored and sent (see `after`)."""

    start: date
    end: date
    by_staff: bool


Action = (Audit | TakeCase | ReopenCase | SetCurrent | ReleaseCase | TransferCase | CloseCase
          | Write | AddNote | Tell | ToStaff | SetStatus | RateCase | RateDelivery
          | SaveLanguage | MakeReport | Teach | Await | TakeReview | Mark | Register | Decide
          | Deliver | ExtendPrivacy | AnswerCorrection | CorrectRequest)
GUARDS = (TakeCase, ReopenCase, TakeReview, Decide, Deliver,
          AnswerCorrection)  # may fail: they come first


@dataclass(frozen=True)
class DeskStep:
    replies: list[Reply] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)


# -- the step ----------------------------------------------------------------------------
def step(facts: Facts, command: desk.Command, ctx: Context) -> DeskStep:
    """What one staff command does: its replies and its actions."""
    decide = DECISIONS.get(command.name)
    if decide is None:
        return DeskStep([desk.help_text(facts.staff, facts.lang, ctx)])
    return decide(facts, command.args.strip(), ctx)


def relay(facts: Facts, event: Event, ctx: Context) -> DeskStep:
    """Words, a photo or a file for the beneficiary of the case the researcher is in."""
    case = facts.current
    if case is None:
        return DeskStep(no_case(facts, ctx))
    text = event.text if event.kind == "text" else event.describe()
    if not text.strip():
        return DeskStep()
    file = event.file if event.file is not None and event.file.content else None
    if file is not None:
        text = f"📎 {file.name}"
    return DeskStep(_sent_to(facts, case, ctx), [
        Write(case.id, case.beneficiary_id, {"ar": text}, file),
        Audit("relay_out", case_id=case.id, beneficiary_id=case.beneficiary_id)])


def number(text: str) -> int | None:
    """A case, document or beneficiary number as typed (#12, ١٢): 1 to 15 plain digits."""
    digits = ascii_digits(text.strip()).lstrip("#")
    return int(digits) if re.fullmatch(r"[0-9]{1,15}", digits) else None


def named_case(command: desk.Command) -> int | None:
    """The case a command's first word names, if it names one (the handler loads it)."""
    if command.name in ("/claim", "/switch", "/read", "/reopen", "/release", "/transfer",
                        "/close", "/file"):
        first = _first_word(command.args)
        return number(first) if first and not first.startswith("@") else None
    return None


def _first_word(args: str) -> str:
    """A command's first argument, whatever space follows it (a new line, a tab)."""
    words = args.split(maxsplit=1)
    return words[0] if words else ""


def acted_on(facts: Facts, command: desk.Command) -> CaseView | None:
    """The case whose conversation a command shows (the handler loads its entries)."""
    if command.name in ("/claim", "/switch", "/read", "/reopen"):
        return facts.named
    if command.name == "/transfer":
        return facts.named or facts.current
    if command.name == "/teach":
        return facts.current
    return None


def _t(facts: Facts, ctx: Context) -> Callable[[str], str]:
    """The desk's words in this staff member's language."""
    return ctx.tr(facts.lang).gettext


def only_admins(facts: Facts, ctx: Context) -> Reply:
    _ = _t(facts, ctx)
    return Reply(_("Only an admin can do this."))


def no_case(facts: Facts, ctx: Context) -> list[Reply]:
    """Said when a command needs a current case and there is none."""
    _ = _t(facts, ctx)
    if facts.held:
        return [which_case(facts, ctx)]
    return [Reply(_("You have no current case. Send /queue to take one."))]


def which_case(facts: Facts, ctx: Context, held: tuple[CaseView, ...] | None = None) -> Reply:
    """Asked when a researcher holds cases but none is current: which one goes on."""
    cases = facts.held if held is None else held
    _ = _t(facts, ctx)
    return Reply("\n".join([_("You hold these cases. Which one do you continue?"),
                            *(desk.tag(c.id, facts.name(c)) for c in cases)]),
                 tuple(Choice(f"switch:{c.id}", f"#{c.id}") for c in cases[:10]))


def why_not_taken(facts: Facts, case_id: int, ctx: Context) -> Reply:
    """Why a case cannot be taken: there is none, another researcher has it, it is closed."""
    _ = _t(facts, ctx)
    case = facts.named
    if case is None:
        return Reply(_("There is no case #{case}.").format(case=case_id))
    if case.status == "claimed" and case.claimed_by:
        name = facts.holder.name if facts.holder else "?"
        return Reply(_("Case #{case} was already taken by {name}.").format(case=case_id,
                                                                          name=name))
    return Reply(_("Case #{case} is closed.").format(case=case_id))


def entry_line(entry: CaseEntry, names: Mapping[int, str], lang: str, ctx: Context) -> str:
    """One line of a case's conversation in words: who, when (with `names`), what."""
    mark = {"in": "←", "out": "→", "note": "✎"}.get(entry.direction, "·")
    if entry.direction == "out" and entry.staff_id is None:
        mark += " 🤖"  # what the bot itself said
    who = f" {names[entry.staff_id]}" if names and entry.staff_id in names else ""
    at = f"{entry.at.astimezone(RIYADH):%H:%M}" if names else ""
    doc = f" (/doc {entry.document_id})" if entry.document_id else ""
    head = f"{mark}{who} {at}".rstrip()
    said = entry.text if entry.direction == "note" else transcript.line(entry.text, lang, ctx)
    return f"{head} {said}{doc}"


def case_transcript(facts: Facts, case: CaseView, lead: str, lang: str, ctx: Context) -> Reply:
    """The case's last lines, sent when a researcher starts on it, with its buttons."""
    _ = ctx.tr(lang).gettext
    lines = [lead, f"{desk.tag(case.id, facts.name(case))} · "
                   f"{desk.reason_label(case, lang, ctx)}", ""]
    lines += [entry_line(e, {}, lang, ctx) for e in facts.entries[-20:]]
    lines += ["", _("What you write now goes to the beneficiary. /note for internal notes, "
                    "/file for their file, /close to finish.")]
    return Reply("\n".join(lines), desk.case_buttons(case, lang, ctx))


def held_case(facts: Facts, args: str, ctx: Context) -> tuple[CaseView | None, str, list[Reply]]:
    """The case a command acts on: the one its first word names (a button carries its
    case, so an old button never acts on another), which this staff member must hold;
    else their current case. (case, the rest of the arguments, the refusal if any)."""
    _ = _t(facts, ctx)
    first = _first_word(args)
    rest = args.split(maxsplit=1)[1] if len(args.split(maxsplit=1)) > 1 else ""
    wanted = number(first) if first and not first.startswith("@") else None
    if wanted is None:
        case = facts.current
        return case, args, [] if case else no_case(facts, ctx)
    case = next((c for c in facts.held if c.id == wanted), None)
    if case is None:
        return None, rest, [Reply(_("You do not hold case #{case}.").format(
            case=wanted))]
    return case, rest.strip(), []


def let_go(facts: Facts, case: CaseView, ctx: Context) -> DeskStep:
    """After this researcher handed a case on (closed, released, transferred): if it was
    their current one, the only case they still hold becomes current, or they are asked
    which one; a current case that is another stays as it is."""
    _ = _t(facts, ctx)
    if facts.staff.current_case_id not in (case.id, None):
        return DeskStep()
    left = tuple(c for c in facts.held if c.id != case.id)
    actions: list[Action] = [SetCurrent(facts.staff.id, left[0].id if len(left) == 1 else None)]
    if len(left) == 1:
        return DeskStep([Reply(_("What you write now goes to case {case}.").format(
            case=desk.tag(left[0].id, facts.name(left[0]))))], actions)
    return DeskStep([which_case(facts, ctx, left)] if left else [], actions)


def _sent_to(facts: Facts, case: CaseView, ctx: Context) -> list[Reply]:
    """In their own chat a researcher is told which case a message went to (in the
    group, the topic says it)."""
    _ = _t(facts, ctx)
    if facts.group_case is not None:
        return []
    return [Reply(_("✓ Sent → {case}").format(case=desk.tag(case.id,
                                                                          facts.name(case))))]


def _then(first: DeskStep, second: DeskStep) -> DeskStep:
    return DeskStep(first.replies + second.replies, first.actions + second.actions)


# -- the queue and cases -----------------------------------------------------------------
def on_help(facts: Facts, args: str, ctx: Context) -> DeskStep:
    return DeskStep([desk.help_text(facts.staff, facts.lang, ctx)])


def on_queue(facts: Facts, args: str, ctx: Context) -> DeskStep:
    named = [(c, facts.name(c)) for c in facts.queue]
    return DeskStep([desk.queue(named, facts.lang, ctx)], [Audit("view_queue")])


def on_claim(facts: Facts, args: str, ctx: Context) -> DeskStep:
    _ = _t(facts, ctx)
    case_id = number(args.split(" ", 1)[0]) if args else None
    if case_id is None:
        return DeskStep([Reply(_("Which case? For example: /claim 12"))])
    case = facts.named
    if case is not None and case.audience == "admin" and facts.staff.role != "admin":
        return DeskStep([only_admins(facts, ctx)],
                        [Audit("claim", False, case_id=case_id, detail="admin only")])
    if case is None or case.status != "queued":
        return DeskStep([why_not_taken(facts, case_id, ctx)],
                        [Audit("claim", False, case_id=case_id, detail="not queued")])
    actions: list[Action] = [TakeCase(case.id)]
    if facts.group_case is None or facts.staff.current_case_id not in {c.id for c in facts.held}:
        # taken in a topic, it is answered there: their private chat keeps its case
        actions.append(SetCurrent(facts.staff.id, case.id))
    actions += [Audit("claim", case_id=case.id, beneficiary_id=case.beneficiary_id),
                Tell(case.beneficiary_id, Joined(facts.staff), "talking")]
    lead = _("You took case #{case}.").format(case=case.id)
    return DeskStep([case_transcript(facts, case, lead, facts.lang, ctx)], actions)


def on_release(facts: Facts, args: str, ctx: Context) -> DeskStep:
    _ = _t(facts, ctx)
    case, _rest, refused = held_case(facts, args, ctx)
    if case is None:
        return DeskStep(refused)
    done = DeskStep([Reply(_("Case #{case} is back in the queue.").format(
        case=case.id))], [ReleaseCase(case.id),
                          Audit("release", case_id=case.id, beneficiary_id=case.beneficiary_id)])
    return _then(done, let_go(facts, case, ctx))


def on_transfer(facts: Facts, args: str, ctx: Context) -> DeskStep:
    _ = _t(facts, ctx)
    case, rest, refused = held_case(facts, args, ctx)
    if case is None:
        return DeskStep(refused)
    # an admins' follow-up goes only to another admin
    colleagues = [s for s in facts.colleagues if s.id != facts.staff.id
                  and (case.audience != "admin" or s.role == "admin")]
    if not rest:  # which colleague: one button each
        if not colleagues:
            return DeskStep([Reply(_("There is no colleague to hand the case to."))])
        return DeskStep([Reply(_("To whom do you hand case #{case}?").format(case=case.id),
                               tuple(Choice(f"transfer:{case.id} @{s.id}", s.name[:40])
                                     for s in colleagues[:10]))])
    if rest.startswith("@"):  # a pressed button
        found = [s for s in colleagues if s.id == number(rest[1:])]
    else:
        typed = fold(rest)
        found = [s for s in colleagues if typed in (fold(s.name), fold(s.first_name))]
    if len(found) != 1:
        return DeskStep([Reply(_("I found no single colleague named \"{name}\". Send /transfer "
                                 "with a name from the team list.").format(name=rest))])
    colleague = found[0]
    their = ctx.tr(colleague.language or "ar").gettext
    lead = their(N_("{name} handed you case #{case}.")).format(name=facts.staff.name, case=case.id)
    busy_with = colleague.current_case_id
    actions: list[Action] = [
        TransferCase(case.id, colleague.id),
        Audit("transfer", case_id=case.id, beneficiary_id=case.beneficiary_id,
              detail=f"to staff:{colleague.id}")]
    if busy_with not in (None, case.id) and busy_with in facts.holding.get(colleague.id, ()):
        # they are talking with someone else: their next message still goes there
        lead += "\n" + their(N_("What you write still goes to case #{current}. To answer "
                                 "this one, send /switch {case}.")).format(current=busy_with, case=case.id)
        handed = Reply(lead, (Choice(f"switch:{case.id}", f"#{case.id}"),))
    else:
        actions.append(SetCurrent(colleague.id, case.id))
        handed = case_transcript(facts, case, lead, colleague.language or "ar", ctx)
    actions += [ToStaff(colleague, handed), Tell(case.beneficiary_id, Joined(colleague))]
    done = DeskStep([Reply(_("Case #{case} is now with {name}.").format(
        case=case.id, name=colleague.name))], actions)
    return _then(done, let_go(facts, case, ctx))


def on_cases(facts: Facts, args: str, ctx: Context) -> DeskStep:
    _ = _t(facts, ctx)
    if not facts.held:
        return DeskStep([Reply(_("You hold no cases."))])
    lines = [_("Your cases:")]
    for c in facts.held:
        current = " ✓" if facts.staff.current_case_id == c.id else ""
        lines.append(f"{desk.tag(c.id, facts.name(c))} · "
                     f"{desk.reason_label(c, facts.lang, ctx)}{current}")
    return DeskStep([Reply("\n".join(lines), tuple(
        Choice(f"switch:{c.id}", f"#{c.id}") for c in facts.held[:10]))])


def on_switch(facts: Facts, args: str, ctx: Context) -> DeskStep:
    _ = _t(facts, ctx)
    case = facts.named
    if case is None or case.claimed_by != facts.staff.id or case.status != "claimed":
        return DeskStep([Reply(_("You do not hold case #{case}.").format(case=args))])
    lead = _("Now on case #{case}.").format(case=case.id)
    return DeskStep([case_transcript(facts, case, lead, facts.lang, ctx)],
                    [SetCurrent(facts.staff.id, case.id)])


def rates_help(case: CaseView, profile: Profile) -> bool:
    """Whether closing this case asks the beneficiary to rate the help they had."""
    return profile.surveys.case and case.reason not in NOT_HELP


def on_close(facts: Facts, args: str, ctx: Context) -> DeskStep:
    _ = _t(facts, ctx)
    case, _rest, refused = held_case(facts, args, ctx)
    if case is None:
        return DeskStep(refused)
    actions: list[Action] = [CloseCase(case.id),
                             Audit("close", case_id=case.id, beneficiary_id=case.beneficiary_id)]
    if case.reason in desk.TICKETS:  # a suggestion or a complaint: no help to rate
        actions.append(Tell(case.beneficiary_id, TicketClosed(case.detail or ""), "to_menu"))
    elif rates_help(case, ctx.profile) and not facts.rated:  # asked instead of the menu
        actions += [Tell(case.beneficiary_id, Closed(with_menu=False), "to_menu"), RateCase(case)]
    else:
        actions.append(Tell(case.beneficiary_id, Closed(with_menu=True), "to_menu"))
    done = DeskStep([Reply(_("Case #{case} is closed.").format(case=case.id))],
                    actions)
    return _then(done, let_go(facts, case, ctx))


# -- talking with the beneficiary -----------------------------------------------------------
def on_say(facts: Facts, args: str, ctx: Context) -> DeskStep:
    """Sends the text exactly, even a number alone (which would press a button)."""
    _ = _t(facts, ctx)
    if not args:
        return DeskStep([Reply(_("Write the message after the command: /say TEXT"))])
    return relay(facts, Event("text", text=args), ctx)


def on_note(facts: Facts, args: str, ctx: Context) -> DeskStep:
    _ = _t(facts, ctx)
    case = facts.current
    if case is None:
        return DeskStep(no_case(facts, ctx))
    if not args:
        return DeskStep([Reply(_("Write the note after the command: /note TEXT"))])
    return DeskStep([Reply(_("Note saved on case #{case}; the beneficiary does not see it.")
                           .format(case=case.id))],
                    [AddNote(case.id, args),
                     Audit("note", case_id=case.id, beneficiary_id=case.beneficiary_id)])


def taught_pair(facts: Facts, case: CaseView, upto: int | None = None,
                ) -> tuple[int, str, str] | None:
    """This researcher's last reply in the case (up to entry `upto`), with its place, and
    the beneficiary's last words typed before it: in the case itself, or a question asked
    just before it opened (the intake answers copied into a case are never a question)."""
    entries = list(facts.entries)[: None if upto is None else upto + 1]
    for n in range(len(entries) - 1, -1, -1):
        reply = entries[n]
        if reply.direction != "out" or reply.staff_id != facts.staff.id or not reply.text.strip():
            continue
        typed = [e.text.removeprefix("\\").strip() for e in entries[:n]
                 if e.direction == "in" and not e.text.startswith("[") and has_letter(e.text)
                 and (e.at >= case.created_at
                      or faq.clearly_question(Event("text", text=e.text)))]
        return (n, typed[-1], reply.text.strip()) if typed else None
    return None


def on_teach(facts: Facts, args: str, ctx: Context) -> DeskStep:
    """Show the researcher's last reply and the question before it; its button (naming the
    case and that reply) saves them as an answer the bot gives itself."""
    _ = _t(facts, ctx)
    case = facts.current
    if case is None:
        return DeskStep(no_case(facts, ctx))
    wanted_case, _sep, wanted_entry = args.partition(":")
    if args and (number(wanted_case) != case.id or number(wanted_entry) is None):
        return DeskStep([Reply(_("This button was for another case or an older reply; send "
                                 "/teach again."))])
    pair = taught_pair(facts, case, number(wanted_entry) if args else None)
    if pair is None or (args and pair[0] != number(wanted_entry)):
        return DeskStep([Reply(_("Nothing to save yet: /teach saves your last reply in this "
                                 "case as an answer the bot gives itself, with the "
                                 "beneficiary's question just before it."))])
    at, question, answer = pair
    if not args:
        return DeskStep([Reply(
            _("From now on the bot would answer this question itself, to anyone who asks it:"
              "\nQuestion: {question}\nAnswer: {answer}\n\nSave it? Check first that neither "
              "names anyone or holds anything personal.").format(question=question,
                                                                 answer=answer),
            (Choice(f"teach:{case.id}:{at}", _("✅ Save as the bot's answer")),))])
    return DeskStep([], [Teach(case.id, case.beneficiary_id, question, answer)])


def on_canned(facts: Facts, args: str, ctx: Context) -> DeskStep:
    _ = _t(facts, ctx)
    canned = {c.key: c for c in ctx.profile.canned_replies}
    if args not in canned:
        lines = [_("Ready answers (/canned KEY sends one):")]
        lines += [f"{key}: {c.text.get(facts.lang)}" for key, c in canned.items()]
        return DeskStep([Reply("\n".join(lines) if canned
                               else _("The profile has no ready answers."))])
    case = facts.current
    if case is None:
        return DeskStep(no_case(facts, ctx))
    reply = canned[args]
    texts = {lang: reply.text.get(lang) for lang in ("ar", "en")}
    return DeskStep(_sent_to(facts, case, ctx), [
        Write(case.id, case.beneficiary_id, texts),
        Audit("relay_out", case_id=case.id, beneficiary_id=case.beneficiary_id,
              detail=f"canned:{reply.key}")])


# -- the beneficiary's file and their requests ----------------------------------------------
def file_case(facts: Facts, command: desk.Command) -> CaseView | None:
    """The case whose beneficiary's file /file shows: the topic's, the button's, the
    current one (the handler loads that beneficiary's file)."""
    if facts.group_case is not None:
        return facts.group_case
    if named_case(command) is not None:
        return next((c for c in facts.held if c.id == named_case(command)), None)
    return facts.current


def on_file(facts: Facts, args: str, ctx: Context) -> DeskStep:
    _ = _t(facts, ctx)
    words = args.split()
    if facts.group_case is None and words and number(words[0]) is not None:
        # a button under one of their cases: it must be one they hold
        case, _rest, refused = held_case(facts, words[0], ctx)
        if case is None:
            return DeskStep(refused)
    case = file_case(facts, desk.Command("/file", args))  # the case the loader read
    if case is None:
        return DeskStep(no_case(facts, ctx))
    if case.audience == "admin" and facts.staff.role != "admin":
        return DeskStep([only_admins(facts, ctx)],
                        [Audit("view_file", False, case_id=case.id, detail="admin only")])
    full = any(w.lower() in ("full", "كامل") for w in words)
    lines = [_("File of beneficiary #{id}:").format(id=case.beneficiary_id)]
    buttons: list[Choice] = []
    statuses: list[RequestView] = []
    for request in facts.requests:
        service = ctx.profile.service(request.service)
        lines += ["", f"{request.number} · {desk.service_label(request.service, facts.lang, ctx)}"
                      f" · {desk.status_label(request.status, facts.lang, ctx)}"]
        for key, value in request.fields.items():
            spec = service.field(key) if service and any(f.key == key for f in service.fields) else None
            shown = kinds.for_staff(spec, value, full=full, lang=facts.lang, ctx=ctx)
            lines.append(f"  {spec.label.get(facts.lang) if spec else key}: {shown}")
        for doc in facts.documents.get(request.id, ()):
            lines.append(f"  📎 {doc.name} ({doc.mime}) /doc {doc.id}")
            buttons.append(Choice(f"doc:{doc.id}", f"📎 {doc.id}"))
        ack = facts.acks.get(request.id)
        if ack:
            ok = ack.sha256 == acknowledgment.digest(request.number, request.service,
                                                     request.fields, ack.text_version,
                                                     ack.signature, ack.at)
            lines.append("  " + (_("Acknowledgment: signed, data unchanged") if ok
                                 else _("Acknowledgment: the stored data has CHANGED since it "
                                        "was signed")))
        if desk.LIFECYCLE.get(request.status):
            statuses.append(request)
    lines += ["", _("Cases: {list}").format(list=", ".join(
        f"#{c.id} ({_(desk.CASE_STATUS.get(c.status, c.status))})" for c in facts.cases))]
    buttons += [Choice(f"request:{r.number}", _("Status of {number}").format(number=r.number))
                for r in statuses]
    return DeskStep([Reply("\n".join(lines), tuple(buttons[-10:]))],
                    [Audit("view_file", case_id=case.id, beneficiary_id=case.beneficiary_id,
                           detail="full" if full else "masked")])


def may_open(facts: Facts, doc: DocumentView) -> bool:
    """A document is theirs to open: an admin's always; a researcher's while they hold a
    case of its beneficiary or review its request; the committee's while it decides it."""
    role, request = facts.staff.role, facts.request
    if role == "admin":
        return True
    if role == "committee":
        return request is not None and request.status in ("committee", "approved", "rejected")
    if doc.beneficiary_id in {c.beneficiary_id for c in facts.held}:
        return True
    return request is not None and request.reviewer_id == facts.staff.id


def on_doc(facts: Facts, args: str, ctx: Context) -> DeskStep:
    """A beneficiary's document, sent to the staff member's chat when it is theirs to open."""
    _ = _t(facts, ctx)
    doc = facts.document
    if doc is None:
        return DeskStep([Reply(_("There is no document {id}.").format(id=args or "?"))])
    if not may_open(facts, doc):
        return DeskStep([Reply(_("You can open a document only while you hold a case of its "
                                 "beneficiary, review its request or decide on it."))],
                        [Audit("view_document", False, beneficiary_id=doc.beneficiary_id,
                               detail=f"doc:{doc.id} not theirs")])
    return DeskStep([Reply(f"📎 {doc.name} ({doc.mime}, {doc.size // 1024 + 1} KB)",
                           document_id=doc.id)],
                    [Audit("view_document", beneficiary_id=doc.beneficiary_id,
                           detail=f"doc:{doc.id}")])


def requested(args: str) -> str:
    """The request number /request names, as stored."""
    return args.split(" ", 1)[0].upper() if args else ""


def on_request(facts: Facts, args: str, ctx: Context) -> DeskStep:
    _ = _t(facts, ctx)
    lang = facts.lang
    typed, _sp, rest = args.partition(" ")
    request = facts.request
    if request is None:
        return DeskStep([Reply(_("No request {number}. Write: /request NUMBER STATUS [note]")
                               .format(number=typed or "?"))])
    if not rest.strip():  # which status: one button each
        return DeskStep([desk.next_statuses(request.number, request.status, lang, ctx)])
    status, note = desk.parse_status(rest, ctx)
    allowed = desk.LIFECYCLE.get(request.status, ())
    if status in allowed and status in desk.STEP_COMMAND:  # a step of the policy: its command
        return DeskStep([Reply(_("This step has its own command: {command} {number}").format(
            command=desk.STEP_COMMAND[status], number=request.number))],
            [Audit("status_change", False, number=request.number,
                   beneficiary_id=request.beneficiary_id,
                   detail=f"{request.status}->{status} by {desk.STEP_COMMAND[status]} only")])
    if status not in allowed:
        return DeskStep([Reply(_("From \"{current}\" a request can go to: {allowed}.").format(
            current=desk.status_label(request.status, lang, ctx),
            allowed=_(", ").join(desk.status_label(a, lang, ctx) for a in allowed) or "-"))],
            [Audit("status_change", False, number=request.number,
                   beneficiary_id=request.beneficiary_id,
                   detail=f"{request.status}->{status or 'unrecognised'}")])
    if desk.needs_note(request.status, status) and not note.strip():
        return DeskStep([Reply(_("Please add what is missing or the reason after the status."))])
    said = note.strip() or None
    actions: list[Action] = [
        SetStatus(request, status, said),
        Audit("status_change", number=request.number, beneficiary_id=request.beneficiary_id,
              detail=f"{request.status}->{status}"),
        Tell(request.beneficiary_id, StatusChanged(request.number, status, said),
             f"needs_info:{request.number}" if status == "needs_info" else None, "status")]
    return DeskStep([Reply(_("{number} is now: {status}. The beneficiary was told.").format(
        number=request.number, status=desk.status_label(status, lang, ctx)))], actions)


# -- the policy's review steps: match, register, decide, deliver -----------------------------
REVIEWING = ("under_review", "needs_info")


def _request_or_none(facts: Facts, args: str, ctx: Context) -> tuple[RequestView | None, list[Reply]]:
    _ = _t(facts, ctx)
    if facts.request is None:
        return None, [Reply(_("There is no request {number}.").format(
            number=requested(args) or "?"))]
    return facts.request, []


def _who(facts: Facts, request: RequestView, ctx: Context) -> str:
    _ = _t(facts, ctx)
    return facts.names.get(request.beneficiary_id) or _("beneficiary #{id}").format(
        id=request.beneficiary_id)


def _found(facts: Facts, request: RequestView, ctx: Context) -> list[review.Item]:
    return review.items(request, facts.docs, facts.lang, ctx)


def review_card(facts: Facts, request: RequestView, lead: str, ctx: Context) -> Reply:
    """A request under review: every answer and document, each item's mark, and the next
    item to match with its buttons; when all are marked, what the request can do next."""
    _ = _t(facts, ctx)
    lang = facts.lang
    found = _found(facts, request, ctx)
    marks = review.latest(facts.marks)
    lines = [lead, f"{request.number} · {desk.service_label(request.service, lang, ctx)} · "
                   f"{_who(facts, request, ctx)}",
             _("Submitted {when} · {due}").format(when=desk.when(request.confirmed_at, lang, ctx),
                                                  due=review.due_for_staff(request.decision_due,
                                                                           lang, ctx))]
    if request.status == "needs_info":
        lines.append(_("Waiting for the beneficiary: {what}").format(what=request.needs_info or "-"))
    lines += ["", _("To match against the documents ({done} of {total} done):").format(
        done=sum(1 for i in found if i.key in marks), total=len(found))]
    for n, item in enumerate(found, 1):
        mark = marks.get(item.key)
        if item.expired_on is not None:
            state = _("⚠️ expired on {date}, after it was submitted").format(
                date=item.expired_on.isoformat())
        elif mark is None:
            state = "⬜"
        elif mark.matched:
            state = "✅"
        else:
            state = "❌ " + (mark.note or _("does not match"))
        doc = f" /doc {item.document_id}" if item.document_id else ""
        lines.append(f"{n}. {item.label}: {item.value}{doc} · {state}")
    service = ctx.profile.service(request.service)
    shown = {i.key for i in found}
    others = [(spec, request.fields[spec.key]) for spec in (service.fields if service else ())
              if spec.key in request.fields and spec.key not in shown
              and spec.kind is not FieldKind.FILE]
    if others:
        lines += ["", _("Other answers:")]
        lines += [f"  {spec.label.get(lang)}: "
                  f"{kinds.for_staff(spec, value, full=True, lang=lang, ctx=ctx)}"
                  for spec, value in others]
    buttons: list[Choice] = []
    if request.status == "under_review":
        left = review.pending(found, marks)
        if left:
            item = left[0]
            lines += ["", _("Next: does «{label}: {value}» match the documents?").format(
                label=item.label, value=item.value)]
            if item.document_id:
                buttons.append(Choice(f"doc:{item.document_id}", _("📎 Open")))
            buttons += [Choice(f"match:{request.number} {item.key}", _("✅ Matches")),
                        Choice(f"mismatch:{request.number} {item.key}", _("❌ Does not match"))]
        elif problems := review.problems(found, marks):
            lines += ["", _("Something does not match or is no longer valid: send the request "
                            "back to the beneficiary with what is needed.")]
            again = next((i for i in problems if i.expired_on is None), None)
            if again is not None and request.needs_info:  # back with new information:
                # what did not match may match now
                lines.append(_("Or, if «{label}» matches now (after what the beneficiary "
                               "sent), mark it again.").format(label=again.label))
                buttons.append(Choice(f"match:{request.number} {again.key}",
                                      _("✅ «{label}» matches now").format(label=again.label[:20])))
            buttons.append(Choice(f"sendback:{request.number}", _("↩ Send back to the beneficiary")))
        else:
            lines += ["", _("Everything matches. Complete the registration: the request then "
                            "goes to the {body}.").format(body=review.body_title(lang, ctx))]
            buttons.append(Choice(f"register:{request.number}", _("✅ Complete the registration")))
        if left or not review.problems(found, marks):
            buttons.append(Choice(f"sendback:{request.number}", _("↩ Ask for something else")))
    return Reply("\n".join(lines), tuple(buttons))


def _reviewer_only(facts: Facts, request: RequestView, ctx: Context) -> list[Reply]:
    """The refusal when another researcher reviews this request (an admin may act)."""
    _ = _t(facts, ctx)
    if request.status not in REVIEWING:
        return [Reply(_("{number} is not under review; it is: {status}.").format(
            number=request.number, status=desk.status_label(request.status, facts.lang, ctx)))]
    if request.reviewer_id not in (facts.staff.id, None) and facts.staff.role != "admin":
        name = facts.reviewer.name if facts.reviewer else "?"
        return [Reply(_("{number} is being reviewed by {name}.").format(number=request.number,
                                                                        name=name))]
    return []


def _viewed(request: RequestView, detail: str) -> Audit:
    return Audit("view_request", number=request.number, beneficiary_id=request.beneficiary_id,
                 detail=detail)


def on_reviews(facts: Facts, args: str, ctx: Context) -> DeskStep:
    """Submitted requests waiting for review (and those in it), oldest first, with their
    due date; past the profile's review period first marked."""
    _ = _t(facts, ctx)
    lang = facts.lang
    if not facts.pending:
        return DeskStep([Reply(_("No request waits for review."))], [Audit("view_reviews")])
    limit = ctx.profile.review_within_days
    lines = [_("Requests to review (oldest first; review within {n} working days):").format(
        n=limit)]
    buttons = []
    for request in facts.pending:
        days = review.working_days(ctx.profile.working_hours, request.confirmed_at, ctx.now)
        late = "⚠️ " if days > limit and request.status == "submitted" else ""
        if request.status == "submitted":
            where = _("waiting")
        elif request.status == "needs_info":
            where = _("waiting for the beneficiary")
        else:
            where = _("reviewed by {name}").format(
                name=facts.staff_names.get(request.reviewer_id or 0, "?"))
        submitted = _("submitted {when}").format(
            when=f"{request.confirmed_at.astimezone(RIYADH):%Y-%m-%d}")
        lines.append(f"{late}{request.number} · {_who(facts, request, ctx)} · "
                     f"{desk.service_label(request.service, lang, ctx)} · {submitted} · "
                     f"{review.due_for_staff(request.decision_due, lang, ctx)} · {where}")
        if request.status == "submitted" or request.reviewer_id == facts.staff.id:
            buttons.append(Choice(f"review:{request.number}",
                                  _("Review {number}").format(number=request.number)))
    return DeskStep([Reply("\n".join(lines), tuple(buttons[:10]))], [Audit("view_reviews")])


def on_review(facts: Facts, args: str, ctx: Context) -> DeskStep:
    """Take a submitted request for review, or go on with one: its card."""
    _ = _t(facts, ctx)
    request, refused = _request_or_none(facts, args, ctx)
    if request is None:
        return DeskStep(refused)
    if request.status == "submitted":
        taken = replace(request, status="under_review", reviewer_id=facts.staff.id)
        lead = _("You took {number} for review.").format(number=request.number)
        return DeskStep([review_card(facts, taken, lead, ctx)], [
            TakeReview(request), _viewed(request, "review"),
            Tell(request.beneficiary_id, StatusChanged(request.number, "under_review", None),
                 None, "status")])
    refused = _reviewer_only(facts, request, ctx)
    if refused:
        return DeskStep(refused)
    lead = _("Review of {number}:").format(number=request.number)
    return DeskStep([review_card(facts, request, lead, ctx)], [_viewed(request, "review")])


def _item_of(facts: Facts, request: RequestView, args: str, ctx: Context
             ) -> tuple[review.Item | None, str]:
    """The item a /match or /mismatch names after the request number, and the rest (a note)."""
    words = args.split(maxsplit=2)
    key = words[1] if len(words) > 1 else ""
    item = next((i for i in _found(facts, request, ctx) if i.key == key), None)
    return item, (words[2] if len(words) > 2 else "")


def on_match(facts: Facts, args: str, ctx: Context) -> DeskStep:
    return _marked(facts, args, ctx, matched=True)


def on_mismatch(facts: Facts, args: str, ctx: Context) -> DeskStep:
    return _marked(facts, args, ctx, matched=False)


def _marked(facts: Facts, args: str, ctx: Context, *, matched: bool) -> DeskStep:
    _ = _t(facts, ctx)
    request, refused = _request_or_none(facts, args, ctx)
    if request is None:
        return DeskStep(refused)
    refused = _reviewer_only(facts, request, ctx)
    if refused or request.status != "under_review":
        return DeskStep(refused or [Reply(_("{number} waits for the beneficiary's information; "
                                            "match it when it arrives.").format(
                                                number=request.number))])
    item, note = _item_of(facts, request, args, ctx)
    if item is None:
        return DeskStep([Reply(_("That item is not in {number}. Send /review {number}.").format(
            number=request.number))])
    if not matched and not note.strip():
        return DeskStep([Reply(_("What does not match in «{label}»? Write it in a few words; "
                                 "the beneficiary reads it if the request goes back to them.")
                               .format(label=item.label))],
                        [Await(f"/mismatch {request.number} {item.key}")])
    mark = ReviewMark(item.key, matched, note.strip() or None, facts.staff.id, ctx.now)
    after_mark = replace(facts, marks=(*facts.marks, mark))
    lead = (_("✅ «{label}» matches.") if matched else _("❌ «{label}» does not match: {note}")
            ).format(label=item.label, note=note.strip())
    return DeskStep([review_card(after_mark, request, lead, ctx)], [
        Mark(request, item.key, matched, note.strip() or None),
        Audit("review_mark", number=request.number, beneficiary_id=request.beneficiary_id,
              detail=f"{item.key} {'matched' if matched else 'mismatch'}")])


def on_sendback(facts: Facts, args: str, ctx: Context) -> DeskStep:
    """Back to the beneficiary with what does not match or is no longer valid (and what
    the reviewer adds), in their language."""
    _ = _t(facts, ctx)
    request, refused = _request_or_none(facts, args, ctx)
    if request is None:
        return DeskStep(refused)
    refused = _reviewer_only(facts, request, ctx)
    if refused or request.status != "under_review":
        return DeskStep(refused or [Reply(_("{number} already waits for the beneficiary.")
                                          .format(number=request.number))])
    added = args.split(maxsplit=1)[1].strip() if len(args.split(maxsplit=1)) > 1 else ""
    missing = review.what_is_missing(request, facts.docs, review.latest(facts.marks),
                                     request.language, ctx)
    if not added and not missing:
        return DeskStep([Reply(_("What is needed from the beneficiary? Write it; it is sent "
                                 "to them as you write it."))],
                        [Await(f"/sendback {request.number}")])
    note = "\n".join(p for p in (missing, added) if p)
    return DeskStep([Reply(_("{number} went back to the beneficiary, who was told what is "
                             "needed:\n{what}").format(number=request.number, what=note))], [
        SetStatus(request, "needs_info", note),
        Audit("status_change", number=request.number, beneficiary_id=request.beneficiary_id,
              detail="under_review->needs_info review"),
        Tell(request.beneficiary_id, StatusChanged(request.number, "needs_info", note),
             f"needs_info:{request.number}", "status")])


def on_register(facts: Facts, args: str, ctx: Context) -> DeskStep:
    """Registration complete (every item matched and valid): the file number, then the
    committee."""
    _ = _t(facts, ctx)
    request, refused = _request_or_none(facts, args, ctx)
    if request is None:
        return DeskStep(refused)
    refused = _reviewer_only(facts, request, ctx)
    if refused or request.status != "under_review":
        return DeskStep(refused or [Reply(_("{number} waits for the beneficiary's information.")
                                          .format(number=request.number))])
    found = _found(facts, request, ctx)
    marks = review.latest(facts.marks)
    if review.pending(found, marks) or review.problems(found, marks):
        lead = _("Not yet: every item must be matched and valid first.")
        return DeskStep([review_card(facts, request, lead, ctx)],
                        [Audit("register", False, number=request.number,
                               beneficiary_id=request.beneficiary_id, detail="not all matched")])
    return DeskStep([], [Register(request),
                         Audit("register", number=request.number,
                               beneficiary_id=request.beneficiary_id)])


def on_committee(facts: Facts, args: str, ctx: Context) -> DeskStep:
    """Registered requests waiting for the committee's decision, oldest first."""
    _ = _t(facts, ctx)
    lang = facts.lang
    if not facts.pending:
        return DeskStep([Reply(_("No request waits for a decision."))], [Audit("view_committee")])
    lines = [_("Waiting for the decision of the {body} (oldest first):").format(
        body=review.body_title(lang, ctx))]
    for request in facts.pending:
        late = "⚠️ " if (ctx.profile.decision.wording == "within"
                         and request.decision_due < ctx.today) else ""
        lines.append(f"{late}{request.number} · {_who(facts, request, ctx)} · "
                     f"{desk.service_label(request.service, lang, ctx)} · "
                     f"{review.due_for_staff(request.decision_due, lang, ctx)}")
    return DeskStep([Reply("\n".join(lines), tuple(
        Choice(f"decide:{r.number}", _("Decide {number}").format(number=r.number))
        for r in facts.pending[:10]))], [Audit("view_committee")])


DECIDE_WORDS = {"approve": "approved", "approved": "approved", "accept": "approved",
                "موافقة": "approved", "قبول": "approved", "اعتماد": "approved",
                "reject": "rejected", "rejected": "rejected", "refuse": "rejected",
                "رفض": "rejected", "اعتذار": "rejected"}


def decision_card(facts: Facts, request: RequestView, ctx: Context) -> Reply:
    """What the committee decides on: the answers (identifying numbers masked), the
    documents, the review's findings and the registration."""
    _ = _t(facts, ctx)
    lang = facts.lang
    service = ctx.profile.service(request.service)
    lines = [f"{request.number} · {desk.service_label(request.service, lang, ctx)} · "
             f"{_who(facts, request, ctx)}",
             review.due_for_staff(request.decision_due, lang, ctx)]
    if facts.registration:
        lines.append(_("Registered: file {file}, {when}").format(
            file=facts.registration.file_number,
            when=desk.when(facts.registration.at, lang, ctx)))
    lines.append("")
    for spec in service.fields if service else ():
        if spec.key in request.fields and spec.kind is not FieldKind.FILE:
            lines.append(f"  {spec.label.get(lang)}: "
                         f"{kinds.for_staff(spec, request.fields[spec.key], full=False, lang=lang, ctx=ctx)}")
    marks = review.latest(facts.marks)
    if marks:
        by = {m.staff_id for m in marks.values()}
        lines += ["", _("Matched against the documents: {n} items, by {names}").format(
            n=sum(1 for m in marks.values() if m.matched),
            names=_(", ").join(facts.staff_names.get(i, "?") for i in sorted(by)))]
    buttons = [Choice(f"doc:{d.id}", f"📎 {d.id}") for d in facts.docs[:6]]
    lines += [f"  📎 {d.name} /doc {d.id}" for d in facts.docs]
    if request.status == "committee":
        buttons += [Choice(f"decide:{request.number} approve", _("✅ Approve")),
                    Choice(f"decide:{request.number} reject", _("❌ Reject"))]
    return Reply("\n".join(lines), tuple(buttons))


def on_decide(facts: Facts, args: str, ctx: Context) -> DeskStep:
    """The committee's decision: approve or reject, the meeting's number and date (today if
    not given), a rejection with its reason. Each part missing is asked for."""
    _ = _t(facts, ctx)
    request, refused = _request_or_none(facts, args, ctx)
    if request is None:
        return DeskStep(refused)
    words = args.split(maxsplit=2)
    if len(words) < 2:
        return DeskStep([decision_card(facts, request, ctx)], [_viewed(request, "decision")])
    if request.status != "committee":
        done = facts.decision
        if done is not None:
            return DeskStep([Reply(_("{number} was already decided: {status}.").format(
                number=request.number, status=desk.status_label(done.outcome, facts.lang, ctx)))])
        return DeskStep([Reply(_("{number} is not with the {body}; it is: {status}.").format(
            number=request.number, body=review.body_title(facts.lang, ctx),
            status=desk.status_label(request.status, facts.lang, ctx)))])
    outcome = DECIDE_WORDS.get(fold(words[1]))
    if outcome is None:
        return DeskStep([decision_card(facts, request, ctx)])
    asked = f"/decide {request.number} {'approve' if outcome == 'approved' else 'reject'}"
    meeting = review.parse_meeting(words[2]) if len(words) > 2 else None
    if meeting is None:
        ask = (_("Write the meeting's number and date, for example: 12 2026-12-01 (without a "
                 "date: today).") if outcome == "approved" else
               _("Write the meeting's number and date, then the reason the beneficiary will "
                 "read, for example: 12 2026-12-01 the family's income is above the limit."))
        return DeskStep([Reply(ask)], [Await(asked)])
    number_, day, reason = meeting
    if outcome == "rejected" and not reason.strip():  # the meeting is kept: its reason next
        return DeskStep([Reply(_("A rejection needs its reason: the beneficiary reads it. "
                                 "Write the reason."))],
                        [Await(f"{asked} {number_} {(day or ctx.today).isoformat()}")])
    decision = DecisionView(outcome, reason.strip() or None, number_, day or ctx.today,
                            facts.staff.id, ctx.now)
    actions: list[Action] = [
        Decide(request, decision),
        Audit("decide", number=request.number, beneficiary_id=request.beneficiary_id,
              detail=f"{outcome} meeting {number_}"),
        Tell(request.beneficiary_id, Decided(request.number, decision), None, "status")]
    if outcome == "approved" and facts.reviewer is not None and facts.reviewer.id != facts.staff.id:
        their = ctx.tr(facts.reviewer.language or "ar").gettext
        actions.append(ToStaff(facts.reviewer, Reply(
            their(N_("✅ {number} was approved. When the service is provided, record it: "
                     "/deliver {number}")).format(number=request.number),
            (Choice(f"deliver:{request.number}", their(N_("📦 Delivered"))),))))
    said = (_("{number} is approved (meeting {meeting}, {date}). The beneficiary was told.")
            if outcome == "approved" else
            _("{number} is rejected (meeting {meeting}, {date}). The beneficiary was told, "
              "with the reason."))
    return DeskStep([Reply(said.format(number=request.number, meeting=number_,
                                       date=decision.meeting_date.isoformat()))], actions)


def on_deliver(facts: Facts, args: str, ctx: Context) -> DeskStep:
    """The service provided: what (an amount or quantity and its unit), a receipt's photo;
    then the beneficiary's right to rate it."""
    _ = _t(facts, ctx)
    request, refused = _request_or_none(facts, args, ctx)
    if request is None:
        return DeskStep(refused)
    if request.status != "approved":
        return DeskStep([Reply(_("Only an approved request is delivered; {number} is: "
                                 "{status}.").format(number=request.number,
                                                     status=desk.status_label(request.status,
                                                                              facts.lang, ctx)))])
    rest = args.split(maxsplit=1)[1].strip() if len(args.split(maxsplit=1)) > 1 else ""
    if not rest and facts.upload is None:
        return DeskStep([Reply(
            _("What was provided? Write the amount or quantity with its unit (for example: "
              "500 riyals, 1 basket), or send a photo of the receipt."),
            (Choice(f"deliver:{request.number} -", _("Nothing to add")),))],
            [Await(f"/deliver {request.number}")])
    amount, unit = review.parse_amount("" if rest == "-" else rest)
    delivery = DeliveryView(request.service, amount, unit, facts.staff.id, ctx.now)
    actions: list[Action] = [
        Deliver(request, delivery, facts.upload),
        Audit("deliver", number=request.number, beneficiary_id=request.beneficiary_id,
              detail=" ".join(p for p in (amount, unit) if p) or None)]
    if ctx.profile.surveys.service:  # their right to rate it: the invitation tells them
        actions.append(RateDelivery(request))
    else:
        actions.append(Tell(request.beneficiary_id, Delivered(request.number, delivery), None,
                            "status"))
    return DeskStep([Reply(_("{number}: the service is recorded as provided. The beneficiary "
                             "was told.").format(number=request.number))], actions)



# -- the team, search and history ------------------------------------------------------------
def on_team(facts: Facts, args: str, ctx: Context) -> DeskStep:
    """Every open case, its holder and its wait against the reply target."""
    return DeskStep([desk.board(list(facts.board), facts.lang, ctx, facts.waiting)],
                    [Audit("view_team")])


def search_query(args: str) -> str | None:
    """What /find searches for; None when too short (two letters would find half the city)."""
    return args if len(fold(args).replace(" ", "")) >= 3 else None


def on_find(facts: Facts, args: str, ctx: Context) -> DeskStep:
    _ = _t(facts, ctx)
    query = search_query(args)
    if query is None:
        return DeskStep([Reply(_(
            "Write what to search for after the command, for example: /find BK-2026-000001, "
            "a national ID, a mobile or a name."))])
    return DeskStep([desk.search_results(query, list(facts.found), facts.lang, ctx)],
                    [Audit("search", detail=f"{len(facts.found)} found")])  # never the query


def whose_history(facts: Facts, args: str) -> int | None:
    """The beneficiary /history is about: the number given, else the current or topic case's."""
    wanted = number(args)
    if wanted is not None:
        return wanted
    case = facts.current or facts.group_case
    return case.beneficiary_id if case else None


def on_history(facts: Facts, args: str, ctx: Context) -> DeskStep:
    _ = _t(facts, ctx)
    beneficiary_id = whose_history(facts, args)
    if beneficiary_id is None:
        return DeskStep([Reply(_("Whose history? Send /find NAME first, or take a case."))])
    if not facts.known:
        return DeskStep([Reply(_("There is no beneficiary #{id}.").format(id=beneficiary_id))])
    cases = [c for c in facts.cases if c.audience == "researcher" or facts.staff.role == "admin"]
    return DeskStep([desk.history(beneficiary_id, facts.names.get(beneficiary_id),
                                  list(facts.requests), dict(facts.steps), cases,
                                  dict(facts.staff_names), facts.lang, ctx)],
                    [Audit("view_history", beneficiary_id=beneficiary_id)])


def readable(facts: Facts, action: str, args: str, ctx: Context) -> DeskStep | None:
    """The refusal when the case a command names is none, or not for this role."""
    _ = _t(facts, ctx)
    case = facts.named
    if case is None:
        return DeskStep([Reply(_("There is no case #{case}.").format(
            case=args or "?"))])
    if case.audience == "admin" and facts.staff.role != "admin":
        return DeskStep([only_admins(facts, ctx)],
                        [Audit(action, False, case_id=case.id, detail="admin only")])
    return None


def on_read(facts: Facts, args: str, ctx: Context) -> DeskStep:
    """A case's whole conversation, a closed one too."""
    refused = readable(facts, "read_case", args, ctx)
    if refused is not None or facts.named is None:
        return refused or DeskStep()
    case = facts.named
    entries = [entry_line(e, facts.staff_names, facts.lang, ctx) for e in facts.entries]
    return DeskStep([desk.conversation(case, facts.name(case), entries[-200:], facts.lang, ctx)],
                    [Audit("read_case", case_id=case.id, beneficiary_id=case.beneficiary_id)])


def on_reopen(facts: Facts, args: str, ctx: Context) -> DeskStep:
    """A closed case taken again: the conversation goes on where it stopped."""
    _ = _t(facts, ctx)
    refused = readable(facts, "reopen", args, ctx)
    if refused is not None or facts.named is None:
        return refused or DeskStep()
    case = facts.named
    if case.status != "closed":
        return DeskStep([Reply(_("Case #{case} is still open.").format(case=case.id))])
    if facts.other_open is not None:
        return DeskStep([Reply(_("This beneficiary has another open case, #{other}: continue "
                                 "there.").format(other=facts.other_open.id))],
                        [Audit("reopen", False, case_id=case.id, detail="another open")])
    lead = _("You reopened case #{case}.").format(case=case.id)
    return DeskStep([case_transcript(facts, case, lead, facts.lang, ctx)], [
        ReopenCase(case.id), SetCurrent(facts.staff.id, case.id),
        Audit("reopen", case_id=case.id, beneficiary_id=case.beneficiary_id),
        Tell(case.beneficiary_id, Joined(facts.staff), "reopened")])


LANGUAGES = {"ar": "ar", "en": "en", "عربي": "ar", "العربية": "ar", "english": "en",
             "انجليزي": "en", "إنجليزي": "en"}


def on_language(facts: Facts, args: str, ctx: Context) -> DeskStep:
    lang = LANGUAGES.get(args.lower())
    if lang is None:
        return DeskStep([Reply(_t(facts, ctx)(N_("Write /language ar or /language en.")))])
    _ = ctx.tr(lang).gettext  # said in the language just chosen
    return DeskStep([Reply(_("The desk speaks English with you now.") if lang == "en"
                           else _("The desk speaks Arabic with you now."))],
                    [SaveLanguage(lang)])


# -- admins ---------------------------------------------------------------------------------
def report_period(args: str, today: date) -> tuple[date, date, bool] | None:
    """/report [FROM] [TO] [staff]: the period (this month so far by default) and whether
    figures per researcher are wanted; None when the dates cannot be read."""
    words = [ascii_digits(w) for w in args.split()]
    by_staff = any(w.lower() in ("staff", "الموظفين") for w in words)
    dates = [w for w in words if w.lower() not in ("staff", "الموظفين")]
    try:
        start = date.fromisoformat(dates[0]) if dates else today.replace(day=1)
        end = date.fromisoformat(dates[1]) if len(dates) > 1 else today
    except ValueError:
        return None
    if start > end or len(dates) > 2:
        return None
    return start, end, by_staff


def on_report(facts: Facts, args: str, ctx: Context) -> DeskStep:
    """The board report as files in the admin's chat."""
    _ = _t(facts, ctx)
    period = report_period(args, ctx.now.astimezone(RIYADH).date())
    if period is None:
        return DeskStep([Reply(_("Write: /report 2026-01-01 2026-03-31 (add \"staff\" for "
                                 "figures per researcher). Without dates: this month so far."))])
    start, end, by_staff = period
    return DeskStep([Reply(_("The report from {start} to {end}:").format(start=start, end=end))],
                    [MakeReport(start, end, by_staff),
                     Audit("report", detail=f"{start}..{end}{' staff' if by_staff else ''}")])


def on_staff(facts: Facts, args: str, ctx: Context) -> DeskStep:
    return DeskStep([Reply("\n".join(
        f"{s.name} · {desk.role_label(s.role, facts.lang, ctx)} · {s.channel}"
        for s in facts.team))], [Audit("view_staff")])


def on_audit(facts: Facts, args: str, ctx: Context) -> DeskStep:
    _ = _t(facts, ctx)
    lines = [_("The latest audit entries (Riyadh time):")] + [
        f"{desk.when(e.at, facts.lang, ctx)} {e.actor} {e.action}{'' if e.allowed else ' ✖'}"
        f"{f' #{e.case_id}' if e.case_id else ''}{f' {e.request_number}' if e.request_number else ''}"
        for e in facts.audit[-20:]]
    return DeskStep([Reply("\n".join(lines))], [Audit("view_audit")])


PDPL_EXTENSION = 30  # days: the one extension the PDPL allows, told to the beneficiary
PRIVACY_KINDS = {"deletion": N_("deletion, waiting for requests the policy holds"),
                 "correction": N_("correction")}


def on_privacy(facts: Facts, args: str, ctx: Context) -> DeskStep:
    """What is open on the PDPL clock, due first; `extend N` gives request N its one
    extension and tells the beneficiary; `approve N` applies correction N, `reject N
    REASON` tells the beneficiary why not."""
    _ = _t(facts, ctx)
    words = args.split()
    verb = fold(words[0]) if words else ""
    if verb in ("extend", fold("تمديد")):
        return _extend_privacy(facts, words, args, ctx)
    if verb in ("approve", fold("اعتماد"), fold("قبول")):
        return _approve_correction(facts, words, args, ctx)
    if verb in ("reject", fold("رفض")):
        return _reject_correction(facts, words, args, ctx)
    if not facts.privacy:
        return DeskStep([Reply(_("No data request is open."))], [Audit("view_privacy")])
    lines = [_("Beneficiaries' requests about their data, due first (30 days, extendable once "
               "with /privacy extend N):")]
    buttons: list[Choice] = []
    audits = [Audit("view_privacy")]
    for p in sorted(facts.privacy, key=lambda p: p.due_on):
        left = (p.due_on - ctx.today).days
        when = (_("{days} days left").format(days=left) if left >= 0
                else "⚠️ " + _("overdue by {days} days").format(days=-left))
        what = p.detail or ""
        if p.correction is not None:
            what = _correction_line(p.correction, facts.lang, ctx)
            audits.append(Audit("view_privacy", beneficiary_id=p.beneficiary_id,
                                detail=f"#{p.id} correction"))
            buttons += [Choice(f"privacy:approve {p.id}", _("✅ Approve #{n}").format(n=p.id)),
                        Choice(f"privacy:reject {p.id}", _("✖ Reject #{n}").format(n=p.id))]
        lines.append(" · ".join(x for x in (
            f"#{p.id} {_(PRIVACY_KINDS.get(p.kind, p.kind))}", what,
            _("due {day}").format(day=kinds.both_calendars(p.due_on, facts.lang, ctx)), when,
            _("extended") if p.extended_on else "") if x))
    return DeskStep([Reply("\n".join(lines), tuple(buttons[:10]))], audits)


def _correction_line(c: CorrectionAsked, lang: str, ctx: Context) -> str:
    """The request, the answer, its stored value and the corrected one, in full: an admin
    checks the correction against the documents."""
    _ = ctx.tr(lang).gettext
    if c.request is None:
        return _("the request is no longer held")
    spec = ctx.profile.field(c.request.service, c.field)
    label = spec.label.get(lang) if spec else c.field
    old = kinds.for_staff(spec, c.request.fields.get(c.field), full=True, lang=lang, ctx=ctx)
    new = kinds.for_staff(spec, c.value, full=True, lang=lang, ctx=ctx)
    return f"{c.request.number} · {label}: {old} → {new}"


def _privacy_named(facts: Facts, words: list[str], args: str, action: str, ctx: Context,
                   kind: str | None = None) -> PrivacyLine | DeskStep:
    """The open data request `words[1]` names (of `kind`), or the refusal to say."""
    _ = _t(facts, ctx)
    wanted = number(words[1]) if len(words) > 1 else None
    found = next((p for p in facts.privacy if p.id == wanted), None)
    if found is None or (kind is not None and found.kind != kind):
        text = (_("There is no open data request #{n}. /privacy lists them.") if found is None
                else _("Data request #{n} is not a correction.")).format(
                    n=words[1] if len(words) > 1 else "?")
        return DeskStep([Reply(text)], [Audit(action, False, detail=args[:40])])
    return found


def _extend_privacy(facts: Facts, words: list[str], args: str, ctx: Context) -> DeskStep:
    _ = _t(facts, ctx)
    found = _privacy_named(facts, words, args, "privacy_extend", ctx)
    if isinstance(found, DeskStep):
        return found
    if found.extended_on is not None:
        on = kinds.both_calendars(found.extended_on, facts.lang, ctx)
        return DeskStep([Reply(_("Data request #{n} was extended already, on {day}; the "
                                 "law allows one extension.").format(n=found.id, day=on))],
                        [Audit("privacy_extend", False, beneficiary_id=found.beneficiary_id,
                               detail=f"#{found.id} extended already")])
    due = found.due_on + timedelta(days=PDPL_EXTENSION)
    return DeskStep(
        [Reply(_("Data request #{n} is now due by {day}; the beneficiary was told.").format(
            n=found.id, day=kinds.both_calendars(due, facts.lang, ctx)))],
        [ExtendPrivacy(found.id, due), Tell(found.beneficiary_id, Extended(due), notice="status"),
         Audit("privacy_extend", beneficiary_id=found.beneficiary_id, detail=f"#{found.id}")])


def corrected_version(asked: str, old: str | None) -> str:
    """The new acknowledgment's version: the text signed with the correction, numbered
    after the corrections before it ("wasl-ack-2/ar+c1", then "+c2")."""
    found = re.search(r"\+c(\d+)$", old or "")
    return f"{asked}+c{int(found.group(1)) + 1 if found else 1}"


def _approve_correction(facts: Facts, words: list[str], args: str, ctx: Context) -> DeskStep:
    _ = _t(facts, ctx)
    found = _privacy_named(facts, words, args, "privacy_correct", ctx, "correction")
    if isinstance(found, DeskStep):
        return found
    c = found.correction
    if c is None or c.request is None:
        return DeskStep([Reply(_("The request of data request #{n} is no longer held; reject "
                                 "it with /privacy reject {n} and a reason.").format(n=found.id))],
                        [Audit("privacy_correct", False, beneficiary_id=found.beneficiary_id,
                               detail=f"#{found.id} request gone")])
    request = c.request
    fields = {**request.fields, c.field: c.value}
    version = corrected_version(c.ack_version, c.ack.text_version if c.ack else None)
    ack = AckView(version, c.ack_text, acknowledgment.digest(
        request.number, request.service, fields, version, c.signature, c.confirmed_at),
        c.signature, c.channel, c.confirmed_at)
    spec = ctx.profile.field(request.service, c.field)
    label = spec.label.get(facts.lang) if spec else c.field
    return DeskStep(
        [Reply(_("Correction #{n} is approved: «{label}» of {number} is corrected, and its "
                 "acknowledgment renewed (version {version}, fingerprint {sha}…). The "
                 "beneficiary was told.").format(n=found.id, label=label, number=request.number,
                                                 version=version, sha=ack.sha256[:12]))],
        [AnswerCorrection(found.id, approved=True),
         CorrectRequest(found.id, request, fields, ctx.profile.national_id(fields), ack, c.ack),
         Tell(found.beneficiary_id, CorrectionAnswered(request.number, request.service, c.field,
                                                       c.value, None), notice="status"),
         Audit("privacy_correct", number=request.number, beneficiary_id=found.beneficiary_id,
               detail=f"#{found.id} {c.field}")])


def _reject_correction(facts: Facts, words: list[str], args: str, ctx: Context) -> DeskStep:
    _ = _t(facts, ctx)
    found = _privacy_named(facts, words, args, "privacy_reject", ctx, "correction")
    if isinstance(found, DeskStep):
        return found
    reason = args.split(maxsplit=2)[2].strip() if len(args.split(maxsplit=2)) > 2 else ""
    if not reason:
        return DeskStep([Reply(_("Why is correction #{n} not approved? Write the reason; it is "
                                 "sent to the beneficiary as you write it.").format(n=found.id))],
                        [Await(f"/privacy reject {found.id}")])
    c = found.correction
    number_ = c.request.number if c and c.request else "-"
    service = c.request.service if c and c.request else ""
    return DeskStep(
        [Reply(_("Correction #{n} is not approved; the beneficiary was told why.").format(
            n=found.id))],
        [AnswerCorrection(found.id, approved=False, reason=reason),
         Tell(found.beneficiary_id, CorrectionAnswered(number_, service, c.field if c else "",
                                                       None, reason), notice="status"),
         Audit("privacy_reject", number=None if number_ == "-" else number_,
               beneficiary_id=found.beneficiary_id, detail=f"#{found.id}")])


DECISIONS = {
    "/help": on_help, "/queue": on_queue, "/claim": on_claim, "/release": on_release,
    "/transfer": on_transfer, "/cases": on_cases, "/switch": on_switch, "/close": on_close,
    "/say": on_say, "/note": on_note, "/canned": on_canned, "/file": on_file, "/doc": on_doc,
    "/request": on_request, "/team": on_team, "/find": on_find, "/history": on_history,
    "/read": on_read, "/reopen": on_reopen, "/language": on_language, "/report": on_report,
    "/staff": on_staff, "/audit": on_audit, "/teach": on_teach,
    "/reviews": on_reviews, "/review": on_review, "/match": on_match, "/mismatch": on_mismatch,
    "/sendback": on_sendback, "/register": on_register, "/committee": on_committee,
    "/decide": on_decide, "/deliver": on_deliver, "/privacy": on_privacy,
}
NAMES_A_REQUEST = frozenset({"/request", "/review", "/match", "/mismatch", "/sendback",
                             "/register", "/decide", "/deliver"})


# -- what the beneficiary is told, and how their conversation moves ---------------------------
def tell(message: Message, lang: str, ctx: Context) -> list[Reply]:
    """A `Tell`'s message in the beneficiary's language."""
    match message:
        case Joined(staff):
            return [desk.joined(staff, lang, ctx)]
        case Closed(with_menu):
            return desk.closed(lang, ctx, menu(lang, ctx))[:2 if with_menu else 1]
        case TicketClosed(ticket):
            return [desk.ticket_closed(ticket, lang, ctx), menu(lang, ctx)]
        case StatusChanged(number_, status, note):
            return [desk.status_changed(number_, status, note, lang, ctx)]
        case Decided(number_, decision):
            return [review.decided(number_, decision, lang, ctx)]
        case Delivered(number_, delivery):
            return [review.delivered(number_, delivery, lang, ctx)]
        case Extended(due):
            return [privacy.extended(due, lang, ctx)]
        case CorrectionAnswered(number_, service, key, value, reason):
            return [correction.answered(number_, ctx.profile.field(service, key), value, reason,
                                        lang, ctx)]
    return []





def written(staff: StaffView, texts: Mapping[str, str], lang: str, ctx: Context,
            document_id: int | None) -> Reply:
    """A researcher's words as the beneficiary sees them."""
    text = texts.get(lang) or texts["ar"]
    return replace(desk.relayed(staff, text, lang, ctx), document_id=document_id)


def menu(lang: str, ctx: Context) -> Reply:
    return render.menu(State(lang=lang, consented=True, step=Step.MENU), ctx)


def moved(state: State, how: str | None) -> State:
    """The beneficiary's conversation after a desk action (a copy):
    talking: a researcher wrote, so what they write at the menu reaches them;
    reopened: what they write reaches the researcher again, even mid-rating (it can wait);
    to_menu: a closed case returns them to the menu;
    needs_info:NUMBER: what they send next is the missing information of that request."""
    state = state.model_copy(deep=True)
    if how == "talking":
        if state.step == Step.MENU:
            state.step = Step.CASE
        journey.researcher_wrote(state)
    elif how == "reopened":
        if state.step != Step.WELCOME:  # an unfinished request waits in its draft
            state.step, state.survey = Step.CASE, None
    elif how == "to_menu":
        if state.step == Step.CASE:
            state.step = Step.MENU
    elif how and how.startswith("needs_info:"):
        state.info_for = how.split(":", 1)[1]
        if state.step != Step.CASE and not state.draft:
            state.step = Step.NEEDS_INFO
    return state


def number_hint(text: str, lang: str, ctx: Context) -> Reply:
    """A number alone that pressed no button: held back, and how to send it."""
    return Reply(ctx.tr(lang).gettext(
        "A number alone is not sent to the beneficiary, so that a button's number never "
        "reaches them by mistake. To send it, write /say {text}").format(text=text))


def after(action: Action, result: object, facts: Facts, ctx: Context) -> list[Reply]:
    """Replies that depend on what an action produced: the report's stored files."""
    if isinstance(action, MakeReport) and isinstance(result, list):
        return [Reply(f"📎 {name}", document_id=doc_id) for name, doc_id in result]
    if isinstance(action, Register) and isinstance(result, str):
        _ = _t(facts, ctx)
        return [Reply(_("{number} is registered: the beneficiary's file number is {file}. It is "
                        "now with the {body}, and the beneficiary was told.").format(
                            number=action.request.number, file=result,
                            body=review.body_title(facts.lang, ctx)))]
    if isinstance(action, Teach) and isinstance(result, int):
        _ = _t(facts, ctx)
        return [Reply(_("Saved as answer #{number}: the bot answers this question itself "
                        "now. An admin can remove it with: wasl faq remove {number}")
                      .format(number=result))]
    return []
