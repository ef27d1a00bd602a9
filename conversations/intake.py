"""The intake: one question per field, the summary, the accuracy confirmation.

Diagram: docs/conversations/intake.mmd. Every function takes the state and
returns a Transition; nothing here does I/O.
"""

from __future__ import annotations

from conversations import fields, render
from conversations.base import Choice, Context, Event, Reply, match_choice
from conversations.profile import FieldKind, FieldSpec, Service
from conversations.state import (
    DiscardDraft,
    Draft,
    OpenCase,
    State,
    Step,
    StoreDocument,
    SubmitRequest,
    Transition,
)
from conversations.text import clean, fold

MAX_FAILURES = 3  # failed attempts at one field before a social researcher is offered


def service_of(state: State, ctx: Context) -> Service:
    assert state.draft is not None
    service = ctx.profile.service(state.draft.service)
    if service is None:  # the profile dropped the service since the draft was started
        raise LookupError(state.draft.service)
    return service


def current(state: State, ctx: Context) -> tuple[Service, FieldSpec]:
    service = service_of(state, ctx)
    assert state.draft is not None
    return service, service.fields[min(state.draft.index, len(service.fields) - 1)]


def question(state: State, ctx: Context) -> Reply:
    """The current question, or the summary once every field is answered."""
    service = service_of(state, ctx)
    assert state.draft is not None
    if state.draft.index >= len(service.fields):
        missing = first_missing(state, service)
        if missing is None:
            state.step = Step.SUMMARY
            return render.summary(state, ctx, service)
        state.draft.index = missing  # the profile gained a required field meanwhile
    state.step = Step.FIELD
    spec = service.fields[state.draft.index]
    reply = render.field_question(state, ctx, service, spec)
    if state.draft.answers.get(spec.key) is not None:
        _ = ctx.tr(state.lang).gettext
        keep = Choice("keep", _("✔ Keep the current answer"))
        reply = Reply(reply.text, (keep, *reply.choices), reply.expects)
    return reply


def first_missing(state: State, service: Service) -> int | None:
    """Index of the first required field without an answer."""
    assert state.draft is not None
    answers = state.draft.answers
    return next((i for i, f in enumerate(service.fields)
                 if f.required and answers.get(f.key) is None), None)


def start(state: State, ctx: Context, service_key: str) -> Transition:
    actions = []
    if state.draft and state.draft.service != service_key:
        actions.append(DiscardDraft())
        state.draft = None
    state.draft = state.draft or Draft(service=service_key)
    state.draft.index, state.draft.failures, state.draft.editing = 0, 0, False
    return Transition(state, [question(state, ctx)], actions)


def on_field(state: State, event: Event, ctx: Context) -> Transition:
    service, spec = current(state, ctx)
    asked = question(state, ctx)
    options = render.option_choices(state, spec) if spec.kind is FieldKind.CHOICE else ()
    picked = match_choice(event, asked.choices, numbered=bool(options))
    if picked and picked in {o.id for o in options}:
        return _accept(state, ctx, spec, picked)
    if picked == "keep":
        return _advance(state, ctx)
    if picked == "back":
        return _back(state, ctx)
    if picked == "cancel":
        return cancel(state, ctx)
    if picked == "human":
        return escalate(state, "asked", spec.key)
    if picked == "skip" and not spec.required:
        return _accept(state, ctx, spec, None)
    try:
        value, actions = _read(spec, event, ctx)
    except fields.Invalid as error:
        return _fail(state, ctx, spec, error, asked)
    return _accept(state, ctx, spec, value, actions)


def _read(spec: FieldSpec, event: Event, ctx: Context) -> tuple[object, list]:
    """The normalised value of an answer, with the actions it needs (storing a file)."""
    if spec.kind is FieldKind.FILE:
        if event.kind != "file" or event.file is None:
            raise fields.Invalid("file.needed")
        f = event.file
        fields.validate_file(spec, f.mime, f.size, ctx.profile.max_file_mb)
        value = {"name": f.name, "mime": f.mime, "size": f.size, "sha256": f.sha256}
        return value, [StoreDocument(spec.key, f)]
    if spec.kind is FieldKind.CHOICE:
        raise fields.Invalid("choice.unknown")
    if event.kind == "contact" and spec.kind is FieldKind.PHONE:
        return fields.validate_text(spec, event.contact, ctx.today), []
    if event.kind != "text":
        raise fields.Invalid("text.expected")
    return fields.validate_text(spec, event.text, ctx.today), []


def _accept(state: State, ctx: Context, spec: FieldSpec, value: object,
            actions: list | None = None) -> Transition:
    assert state.draft is not None
    state.draft.answers[spec.key] = value
    tr = _advance(state, ctx)
    tr.actions[:0] = actions or []
    return tr


def _advance(state: State, ctx: Context) -> Transition:
    draft = state.draft
    assert draft is not None
    draft.failures = 0
    if draft.editing:
        draft.editing = False
        draft.index = len(service_of(state, ctx).fields)
    else:
        draft.index += 1
    return Transition(state, [question(state, ctx)])


def _back(state: State, ctx: Context) -> Transition:
    draft = state.draft
    assert draft is not None
    draft.failures = 0
    if draft.editing:
        draft.editing = False
        draft.index = len(service_of(state, ctx).fields)
    elif draft.index == 0:
        state.step = Step.SERVICE
        return Transition(state, [render.services(state, ctx)])
    else:
        draft.index -= 1
    return Transition(state, [question(state, ctx)])


def _fail(state: State, ctx: Context, spec: FieldSpec, error: fields.Invalid,
          asked: Reply) -> Transition:
    draft = state.draft
    assert draft is not None
    draft.failures += 1
    reply = render.invalid_answer(state, ctx, error, asked, spec)
    if draft.failures >= MAX_FAILURES:
        state.step = Step.OFFER_HUMAN
        problem = reply.text.split("\n\n")[0]
        return Transition(state, [render.offer_human(state, ctx, problem)])
    return Transition(state, [reply])


def on_offer_human(state: State, event: Event, ctx: Context) -> Transition:
    """After repeated failures: a social researcher, or another try."""
    _, spec = current(state, ctx)
    offer = render.offer_human(state, ctx, "")
    picked = match_choice(event, offer.choices) or _yes_no(state, event, ctx, "human", "retry")
    if picked == "human":
        return escalate(state, "repeated_failures", spec.key)
    if picked == "retry":
        assert state.draft is not None
        state.draft.failures = 0
        return Transition(state, [question(state, ctx)])
    state.step = Step.FIELD  # they typed an answer instead: take it as one
    return on_field(state, event, ctx)


def _yes_no(state: State, event: Event, ctx: Context, yes: str, no: str) -> str | None:
    """A typed yes or no, in either language, for questions that are yes-or-no."""
    if event.kind != "text":
        return None
    typed = fold(event.text).strip(" .!؟?")
    for lang in ("ar", "en"):
        _ = ctx.tr(lang).gettext
        if typed in {fold(w).strip() for w in _("yes,ok,agree").split(",")}:
            return yes
        if typed in {fold(w).strip() for w in _("no").split(",")}:
            return no
    return None


def on_summary(state: State, event: Event, ctx: Context) -> Transition:
    service = service_of(state, ctx)
    reply = render.summary(state, ctx, service)
    picked = match_choice(event, reply.choices)
    if picked == "confirm":
        if first_missing(state, service) is not None:  # the profile changed meanwhile
            return Transition(state, [question(state, ctx)])
        if ctx.profile.signature.mode == "typed_name":
            state.step = Step.SIGNATURE
            return Transition(state, [render.signature_prompt(state, ctx)])
        return submit(state, ctx, None)
    if picked == "edit":
        state.step = Step.EDIT
        return Transition(state, [render.edit_menu(state, ctx, service)])
    if picked == "cancel":
        return cancel(state, ctx)
    if picked == "human":
        return escalate(state, "asked", "summary")
    return Transition(state, [_not_understood(state, ctx, reply)])


def on_edit(state: State, event: Event, ctx: Context) -> Transition:
    service = service_of(state, ctx)
    reply = render.edit_menu(state, ctx, service)
    picked = match_choice(event, reply.choices)
    draft = state.draft
    assert draft is not None
    if picked == "back":
        state.step = Step.SUMMARY
        return Transition(state, [render.summary(state, ctx, service)])
    if picked:
        draft.index = [f.key for f in service.fields].index(picked)
        draft.editing, draft.failures = True, 0
        return Transition(state, [question(state, ctx)])
    return Transition(state, [_not_understood(state, ctx, reply)])


def on_signature(state: State, event: Event, ctx: Context) -> Transition:
    """Typed signature: the full name typed again must match the name in the request."""
    service = service_of(state, ctx)
    prompt = render.signature_prompt(state, ctx)
    picked = match_choice(event, prompt.choices)  # a name is never a number
    if picked == "back":
        state.step = Step.SUMMARY
        return Transition(state, [render.summary(state, ctx, service)])
    if picked == "cancel":
        return cancel(state, ctx)
    if picked == "human":
        return escalate(state, "asked", "signature")
    assert state.draft is not None
    name = str(state.draft.answers.get(ctx.profile.signature.name_field or "", ""))
    typed = clean(event.text) if event.kind == "text" else ""
    if typed and " ".join(fold(typed).split()) == " ".join(fold(name).split()):
        return submit(state, ctx, typed)
    _ = ctx.tr(state.lang).gettext
    lead = _("The name you typed does not match the full name in the request. "
             "Please type it exactly as you wrote it.")
    return Transition(state, [render.signature_prompt(state, ctx, lead)])


def submit(state: State, ctx: Context, signature: str | None) -> Transition:
    """Confirmed: the request is recorded; the notice and number come with the action."""
    draft = state.draft
    assert draft is not None
    action = SubmitRequest(
        service=draft.service,
        answers=dict(draft.answers),
        ack_version=f"{render.ACK_VERSION}/{state.lang}",
        ack_text=render.acknowledgment_text(state, ctx),
        signature=signature,
    )
    state.draft = None
    state.step = Step.MENU
    return Transition(state, [render.menu(state, ctx)], [action])


def escalate(state: State, reason: str, detail: str | None) -> Transition:
    """Refer to a social researcher; an unfinished draft is kept for later."""
    if state.draft:
        state.draft.failures = 0
    state.step = Step.CASE
    return Transition(state, [], [OpenCase(reason, detail)])


def cancel(state: State, ctx: Context) -> Transition:
    _ = ctx.tr(state.lang).gettext
    state.draft = None
    state.step = Step.MENU
    lead = _("Your request was cancelled; nothing was submitted.")
    return Transition(state, [render.menu(state, ctx, lead)], [DiscardDraft()])


def _not_understood(state: State, ctx: Context, reply: Reply) -> Reply:
    _ = ctx.tr(state.lang).gettext
    lead = _("Sorry, I did not understand. Please choose one of the options.")
    return Reply(f"{lead}\n\n{reply.text}", reply.choices, reply.expects)
