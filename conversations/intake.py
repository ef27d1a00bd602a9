"""The intake: one question per field, the summary, the accuracy confirmation.

Diagram: docs/conversations/intake.mmd. Every function takes the state and
returns a Transition; nothing here does I/O.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from conversations import fields, kinds, render, review
from conversations.base import Choice, Context, Event, Reply, match_choice
from conversations.profile import FieldKind, FieldSpec, Service
from conversations.state import (
    DiscardDraft,
    Draft,
    OpenCase,
    RecordConsent,
    State,
    Step,
    StoreDocument,
    SubmitRequest,
    Transition,
)
from conversations.text import clean, fold, has_letter, printable

MAX_FAILURES = 3  # failed attempts at one field before a social researcher is offered
_CHOICE_NUMBER = re.compile(r"\d{1,3}[.)]?")  # "2", "٢", "2." or "2)", never "-1" or "1.5"


def readable(event: Event) -> Event:
    """The event without control characters (a NUL, ESC sequences) in its text, its
    choice, its contact or its file name: what every flow, the log, a case, the audit log
    and PostgreSQL (which cannot store a NUL) get of it. The router applies it to every
    event; the flows again, so that they hold when driven directly."""
    file = event.file
    if file is not None and not file.name.isprintable():
        file = replace(file, name=printable(file.name) or "file")
    cleaned = replace(event, text=printable(event.text), choice=printable(event.choice),
                      contact=printable(event.contact), file=file)
    return event if cleaned == event else cleaned


def typed_number(event: Event) -> bool:
    """Typed text that is a number of some kind: digits, and no letters."""
    if event.kind != "text":
        return False
    text = clean(event.text)
    return any(ch.isdigit() for ch in text) and not has_letter(text)


def service_of(state: State, ctx: Context) -> Service:
    assert state.draft is not None
    service = ctx.profile.service(state.draft.service)
    if service is None:  # the profile dropped the service since the draft was started
        raise LookupError(state.draft.service)
    return service


def applies(spec: FieldSpec, answers: dict[str, Any]) -> bool:
    """A field with a `when` condition is asked only when its earlier choice matches."""
    return all(answers.get(key) in wanted for key, wanted in (spec.when or {}).items())


def relevant(service: Service, answers: dict[str, Any]) -> list[FieldSpec]:
    return [f for f in service.fields if applies(f, answers)]


def first_missing(state: State, service: Service) -> int | None:
    """Index of the first required field that applies and has no answer."""
    assert state.draft is not None
    answers = state.draft.answers
    return next((i for i, f in enumerate(service.fields)
                 if f.required and applies(f, answers) and answers.get(f.key) is None), None)


def current(state: State, ctx: Context) -> tuple[Service, FieldSpec]:
    service = service_of(state, ctx)
    assert state.draft is not None
    return service, service.fields[min(state.draft.index, len(service.fields) - 1)]


def locate(state: State, ctx: Context) -> None:
    """Move to the next question that applies (or to the summary) and set the step."""
    service, draft = service_of(state, ctx), state.draft
    assert draft is not None
    while draft.index < len(service.fields):
        spec = service.fields[draft.index]
        if not applies(spec, draft.answers):
            draft.index += 1
        elif spec.sensitive and draft.sensitive_declined and not spec.required:
            draft.answers[spec.key] = None  # declined: optional sensitive questions are skipped
            draft.index += 1
        else:
            break
    if draft.index >= len(service.fields):
        missing = first_missing(state, service)
        if missing is None:
            state.step = Step.SUMMARY
            return
        draft.index = missing  # the profile gained a required field meanwhile
    spec = service.fields[draft.index]
    state.step = Step.SENSITIVE if spec.sensitive and not state.sensitive_consent else Step.FIELD


def prompt(state: State, ctx: Context) -> Reply:
    """What the current intake step asks (after `locate`)."""
    service, spec = current(state, ctx)
    assert state.draft is not None
    if state.step == Step.SUMMARY:
        return render.summary(state, ctx, service, relevant(service, state.draft.answers))
    if state.step == Step.SENSITIVE:
        return render.sensitive_consent(state, ctx)
    reply = render.field_question(state, ctx, service, spec)
    if state.draft.answers.get(spec.key) is not None:
        keep = keep_choice(state, ctx)
        reply = replace(reply, choices=(keep, *reply.choices), numbered=(reply.numbered or 0) + 1)
    return reply


def keep_choice(state: State, ctx: Context) -> Choice:
    """At a question already answered: go on with that answer."""
    return Choice("keep", ctx.tr(state.lang).gettext("✔ Keep the current answer"))


def ask(state: State, ctx: Context, actions: list | None = None) -> Transition:
    locate(state, ctx)
    return Transition(state, [prompt(state, ctx)], actions or [])


def start(state: State, ctx: Context, service_key: str) -> Transition:
    actions = []
    if state.draft and state.draft.service != service_key:
        actions.append(DiscardDraft(state.draft.started))
        state.draft = None
    state.draft = state.draft or Draft(service=service_key, started=ctx.now)
    state.draft.index, state.draft.failures, state.draft.editing = 0, 0, False
    return ask(state, ctx, actions)


def on_field(state: State, event: Event, ctx: Context) -> Transition:
    _, spec = current(state, ctx)
    asked = prompt(state, ctx)
    options = render.option_choices(state, spec) if spec.kind is FieldKind.CHOICE else ()
    picked = match_choice(event, asked.choices, numbered=False)  # pressed, or a label typed
    if picked is None and options and _CHOICE_NUMBER.fullmatch(clean(event.text)):
        # A number picks what answers the question (the options, "keep"), numbered as every
        # channel shows them; the ways out (skip, back, cancel, a researcher) are pressed
        # or typed by name, so that a mistyped number never cancels or opens a case.
        picked = match_choice(event, asked.choices[:asked.numbered])
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
        value, actions = read(spec, event, ctx)
    except fields.Invalid as error:
        return _fail(state, ctx, spec, error, asked)
    return _accept(state, ctx, spec, value, actions)


def read(spec: FieldSpec, event: Event, ctx: Context) -> tuple[object, list]:
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
        if not event.contact_is_own:
            raise fields.Invalid("phone.not_own")
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
    return ask(state, ctx)


def _back(state: State, ctx: Context) -> Transition:
    service, draft = service_of(state, ctx), state.draft
    assert draft is not None
    draft.failures = 0
    if draft.editing:
        draft.editing = False
        draft.index = len(service.fields)
        return ask(state, ctx)
    earlier = [i for i in range(min(draft.index, len(service.fields)))
               if applies(service.fields[i], draft.answers)]
    if not earlier:
        state.step = Step.SERVICE
        return Transition(state, [render.services(state, ctx)])
    draft.index = earlier[-1]
    return ask(state, ctx)


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
    # A question answered with a number (kinds.NUMBER_KINDS): "1" is a family size, not "yes".
    if spec.kind in kinds.NUMBER_KINDS and typed_number(event):
        state.step = Step.FIELD
        return on_field(state, event, ctx)
    offer = render.offer_human(state, ctx, "")
    picked = match_choice(event, offer.choices) or yes_no(state, event, ctx, "human", "retry")
    if picked == "human":
        return escalate(state, "repeated_failures", spec.key)
    if picked == "retry":
        assert state.draft is not None
        state.draft.failures = 0
        return ask(state, ctx)
    state.step = Step.FIELD  # they typed an answer instead: take it as one
    return on_field(state, event, ctx)


def on_sensitive(state: State, event: Event, ctx: Context) -> Transition:
    """Explicit consent before health or financial questions (PDPL: sensitive data)."""
    _, spec = current(state, ctx)
    shown = render.sensitive_consent(state, ctx)
    picked = match_choice(event, shown.choices) or yes_no(state, event, ctx, "accept", "decline")
    draft = state.draft
    assert draft is not None
    if picked == "accept":
        state.sensitive_consent = True
        version = f"{render.SENSITIVE_VERSION}/{state.lang}"
        return ask(state, ctx, [RecordConsent(render.SENSITIVE_PURPOSE, version)])
    if picked == "decline" and not spec.required:
        draft.sensitive_declined = True
        return ask(state, ctx)
    if picked == "decline":
        _ = ctx.tr(state.lang).gettext
        lead = _("This information is needed for {body} to study this request. You may "
                 "agree, talk to a social researcher, or cancel the request.").format(
                     body=review.body(state.lang, ctx))
        return Transition(state, [render.sensitive_consent(state, ctx, lead)])
    if picked == "human":
        return escalate(state, "asked", spec.key)
    if picked == "cancel":
        return cancel(state, ctx)
    return Transition(state, [_not_understood(state, ctx, shown)])


def yes_no(state: State, event: Event, ctx: Context, yes: str, no: str) -> str | None:
    """A typed yes or no, in either language, for questions that are yes-or-no."""
    if event.kind != "text":
        return None
    typed = " ".join(fold(event.text).strip(" .!؟?").split())
    if typed in ctx.phrases(YES_WORDS):
        return yes
    if typed in ctx.phrases(NO_WORDS):
        return no
    return None


YES_WORDS, NO_WORDS = fields.N_("yes,ok,agree"), fields.N_("no")


def on_summary(state: State, event: Event, ctx: Context) -> Transition:
    service = service_of(state, ctx)
    reply = prompt(state, ctx)
    picked = match_choice(event, reply.choices)
    if picked == "confirm":
        if first_missing(state, service) is not None:  # the profile changed meanwhile
            return ask(state, ctx)
        if ctx.profile.signature.mode == "typed_name":
            state.step = Step.SIGNATURE
            return Transition(state, [render.signature_prompt(state, ctx)])
        return submit(state, ctx, None)
    if picked == "edit":
        state.step = Step.EDIT
        return Transition(state, [edit_menu(state, ctx)])
    if picked == "back":
        return _back(state, ctx)
    if picked == "cancel":
        return cancel(state, ctx)
    if picked == "human":
        return escalate(state, "asked", "summary")
    return Transition(state, [_not_understood(state, ctx, reply)])


def edit_menu(state: State, ctx: Context) -> Reply:
    service = service_of(state, ctx)
    assert state.draft is not None
    return render.edit_menu(state, ctx, relevant(service, state.draft.answers))


def on_edit(state: State, event: Event, ctx: Context) -> Transition:
    service, draft = service_of(state, ctx), state.draft
    assert draft is not None
    reply = edit_menu(state, ctx)
    picked = match_choice(event, reply.choices)
    if picked == "back":
        return ask(state, ctx)
    if picked:
        draft.index = [f.key for f in service.fields].index(picked)
        draft.editing, draft.failures = True, 0
        return ask(state, ctx)
    return Transition(state, [_not_understood(state, ctx, reply)])


def on_signature(state: State, event: Event, ctx: Context) -> Transition:
    """Typed signature: the full name typed again must match the name in the request
    (spaces, hamza and taa marbuta forms do not matter)."""
    prompt_ = render.signature_prompt(state, ctx)
    picked = match_choice(event, prompt_.choices)  # a name is never a number
    if picked == "back":
        return ask(state, ctx)
    if picked == "cancel":
        return cancel(state, ctx)
    if picked == "human":
        return escalate(state, "asked", "signature")
    draft = state.draft
    assert draft is not None
    name = str(draft.answers.get(ctx.profile.signature.signer(draft.answers), ""))
    typed = clean(event.text) if event.kind == "text" else ""
    if same_name(typed, name):
        return submit(state, ctx, typed)
    draft.failures += 1
    _ = ctx.tr(state.lang).gettext
    lead = _("The name you typed does not match the full name in the request. "
             "Please type it exactly as you wrote it.")
    if draft.failures >= MAX_FAILURES:
        lead += "\n" + _("If this step is not clear, choose \"Social researcher\" and one of "
                         "our researchers will help you.")
    return Transition(state, [render.signature_prompt(state, ctx, lead)])


def _letters(name: str) -> str:
    return "".join(fold(name).split())


def same_name(typed: str, name: str) -> bool:
    """A signature: the name typed again is the name given (spaces, hamza and taa marbuta
    forms aside)."""
    return bool(typed) and _letters(typed) == _letters(name)


def submit(state: State, ctx: Context, signature: str | None) -> Transition:
    """Confirmed: the request is recorded; the notice and number come with the action."""
    draft = state.draft
    assert draft is not None
    service = service_of(state, ctx)
    action = SubmitRequest(
        service=draft.service,
        answers={f.key: draft.answers.get(f.key) for f in relevant(service, draft.answers)},
        ack_version=render.acknowledgment_version(state, ctx),
        ack_text=render.acknowledgment_text(state, ctx),
        signature=signature,
    )
    state.draft = None
    state.step = Step.MENU
    return Transition(state, [render.menu(state, ctx)], [action])


def escalate(state: State, reason: str, detail: str | None) -> Transition:
    """Refer to a social researcher; an unfinished draft is kept for later."""
    since = state.draft.started if state.draft else None
    if state.draft:
        state.draft.failures = 0
    state.step = Step.CASE
    return Transition(state, [], [OpenCase(reason, detail, since)])


def cancel(state: State, ctx: Context) -> Transition:
    _ = ctx.tr(state.lang).gettext
    started = state.draft.started if state.draft else None
    state.draft = None
    state.step = Step.MENU
    lead = _("Your request was cancelled; nothing was submitted.")
    return Transition(state, [render.menu(state, ctx, lead)], [DiscardDraft(started)])


def _not_understood(state: State, ctx: Context, reply: Reply) -> Reply:
    _ = ctx.tr(state.lang).gettext
    lead = _("Sorry, I did not understand. Please choose one of the options.")
    return replace(reply, text=f"{lead}\n\n{reply.text}")
