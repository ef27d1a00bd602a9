"""Drive the pure flow with dialogues written as data; actions are answered in memory."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from conversations import journey
from conversations.base import CaseView, Context, Event, FileRef, Reply, RequestView
from conversations.state import (
    AddToCase,
    CaseOpened,
    CorrectionFiled,
    DeleteData,
    DeletionPlan,
    ExportData,
    OpenCase,
    PlanDeletion,
    ProvideInfo,
    RequestCorrection,
    ShowStatus,
    SignUpVolunteer,
    State,
    Step,
    SubmitRequest,
    Submitted,
)


@dataclass
class World:
    """Just enough of the handler to let a dialogue run without a database."""

    requests: list[SubmitRequest] = field(default_factory=list)
    cases: list[OpenCase] = field(default_factory=list)
    case_messages: list[str] = field(default_factory=list)
    actions: list[Any] = field(default_factory=list)
    case_status: str = "queued"  # "claimed": a researcher holds the case
    statuses: dict[str, str] = field(default_factory=dict)  # request number -> status
    needed: dict[str, str] = field(default_factory=dict)  # what a researcher asked for
    copy_fails: bool = False  # the copy of one's data cannot be made
    held: tuple[tuple[str, str], ...] = ()  # requests a destruction must keep
    gone: set[str] = field(default_factory=set)  # requests no longer theirs to correct
    volunteers: list[dict] = field(default_factory=list)  # their volunteer sign-up

    def apply(self, action: Any, ctx: Context) -> Any:
        self.actions.append(action)
        match action:
            case SubmitRequest():
                self.requests.append(action)
                number = f"BK-2026-{len(self.requests):06d}"
                self.statuses[number] = "submitted"
                return Submitted(number, ctx.today + timedelta(days=ctx.profile.decision.days))
            case ShowStatus():
                return [RequestView(i + 1, number, r.service, self.statuses[number],
                                    ctx.today + timedelta(days=14), self.needed.get(number),
                                    ctx.now, ctx.now, r.answers, "sim", "ar", 1)
                        for i, (number, r) in enumerate(zip(self.statuses, self.requests,
                                                            strict=True))]
            case ProvideInfo():  # as the handler does: only while the request awaits it
                if self.statuses.get(action.number) != "needs_info":
                    return None
                self.statuses[action.number] = "under_review"
                self.needed.pop(action.number, None)
                return action.number
            case OpenCase():
                already = bool(self.cases)
                if not already:
                    self.cases.append(action)
                return CaseOpened(1, already_open=already)
            case AddToCase():
                self.case_messages.append(action.text)
                return CaseView(1, self.case_status, "asked", None, 1, "sim", ctx.now)
            case ExportData():  # the two files' document ids, as the handler returns them
                return None if self.copy_fails else (101, 102)
            case PlanDeletion() | DeleteData():
                return DeletionPlan(self.held)
            case SignUpVolunteer():  # as the handler: True when it replaces an earlier one
                replaced = bool(self.volunteers)
                self.volunteers[:] = [action.answers]
                return replaced
            case RequestCorrection():  # as the handler: only a request of theirs
                if action.number in self.gone:
                    return None
                return CorrectionFiled(7, ctx.today + timedelta(days=30))
        return None

    def ask_for_info(self, state: State, number: str, what: str) -> State:
        """A researcher sets the request to needs_info (handlers/staff.py `ask_for_info`)."""
        self.statuses[number], self.needed[number] = "needs_info", what
        state = state.model_copy(update={"info_for": number})
        if state.step != Step.CASE and not state.draft:
            state.step = Step.NEEDS_INFO
        return state

    def close_case(self, state: State) -> State:
        """The researcher closes the case (handlers/staff.py `do_close`)."""
        self.case_status = "closed"
        return state.model_copy(update={"step": Step.MENU}) if state.step == Step.CASE else state


def event(said: Any) -> Event:
    if isinstance(said, Event):
        return said
    if isinstance(said, dict) and "choice" in said:
        return Event("choice", choice=said["choice"])
    if isinstance(said, dict) and "contact" in said:
        return Event("contact", contact=said["contact"])
    return Event("text", text=str(said))


def photo(name: str = "id.jpg", mime: str = "image/jpeg", size: int = 50_000) -> Event:
    return Event("file", file=FileRef(name, mime, size, "ab" * 32))


def say(state: State, said: Any, ctx: Context, world: World) -> tuple[State, list[Reply]]:
    tr = journey.step(state, event(said), ctx)
    replies: list[Reply] = []
    for action in tr.actions:
        replies += journey.after(action, world.apply(action, ctx), tr.state, ctx)
    return tr.state, replies + tr.replies


def run(script: list[tuple[Any, dict]], ctx: Context, state: State | None = None,
        world: World | None = None) -> tuple[State, World, list[Reply]]:
    """Play (said, expected) pairs; `expected` checks the last reply:
    expects=(field, kind) | contains=str or list | absent=str or list (in none of the
    replies) | choices=[ids] | step=Step."""
    state = state or State()
    world = world or World()
    replies: list[Reply] = []
    for n, (said, expected) in enumerate(script, 1):
        state, replies = say(state, said, ctx, world)
        last = replies[-1] if replies else Reply("")
        everything = "\n".join(r.text for r in replies)
        where = f"turn {n} ({said!r}): {everything!r}"
        if "expects" in expected:
            got = (last.expects.field, last.expects.kind) if last.expects else None
            assert got == expected["expects"], where
        wanted = expected.get("contains", [])
        for text in [wanted] if isinstance(wanted, str) else wanted:
            assert text in everything, f"{text!r} missing at {where}"
        unwanted = expected.get("absent", [])
        for text in [unwanted] if isinstance(unwanted, str) else unwanted:
            assert text not in everything, f"{text!r} present at {where}"
        if "choices" in expected:
            assert [c.id for c in last.choices] == expected["choices"], where
        if "step" in expected:
            assert state.step == expected["step"], where
    return state, world, replies
