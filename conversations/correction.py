"""Correcting one's data (the PDPL's right to correction): an answer of a submitted request
is chosen, given again and checked as the intake checks it, confirmed and (where the
profile asks for it) signed, then sent to staff. Staff approve it against the documents
(`/privacy approve N`), because the signed acknowledgment covers the old data: an approved
correction renews the acknowledgment (conversations/desk_step.py `on_privacy`).

Pure, like the journey: the beneficiary's requests come in `Context.requests`; the
diagram is docs/conversations/correction.mmd."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from conversations import desk, fields, intake, kinds, privacy, render
from conversations.base import Choice, Context, Event, Expects, Reply, RequestView, match_choice
from conversations.profile import FieldKind, FieldSpec
from conversations.state import Correction, RequestCorrection, State, Step, Transition
from conversations.text import ascii_digits, clean

FIX = "fix:"  # a request's button: fix:NUMBER
ANSWERS = "correction"  # what a reply showing the request's answers expects (never logged)
REQUESTS_SHOWN = 8  # the latest requests offered (a correction of an older one: a researcher)


def start(state: State, ctx: Context) -> Transition:
    """Which request (or, with one request, which of its answers)."""
    _ = ctx.tr(state.lang).gettext
    if not ctx.requests:
        state.step, state.correction = Step.PRIVACY, None
        lead = _("You have no submitted request, so there is nothing to correct yet. An "
                 "answer of a request you are filling in is changed from its summary "
                 "(«✏️ Edit an answer»).")
        return Transition(state, [privacy.menu(state, ctx, lead)])
    state.step = Step.CORRECTING
    state.correction = Correction()
    if len(ctx.requests) == 1:
        state.correction.number, state.correction.stage = ctx.requests[0].number, "field"
    return Transition(state, [prompt(state, ctx)])


def prompt(state: State, ctx: Context, lead: str | None = None) -> Reply:
    """What the correction asks now."""
    fix = state.correction or Correction()
    request = _request(fix, ctx)
    if fix.stage == "request" or request is None:
        reply = _which_request(state, ctx)
    elif fix.stage == "field" or (spec := _spec(request, fix.field, ctx)) is None:
        reply = _which_field(state, ctx, request)
    elif fix.stage == "value":
        reply = _value_question(state, ctx, request, spec)
    elif fix.stage == "sign":
        reply = _sign_prompt(state, ctx)
    else:
        reply = _confirm_question(state, ctx, request, spec)
    return replace(reply, text=f"{lead}\n\n{reply.text}") if lead else reply


def on_correcting(state: State, event: Event, ctx: Context) -> Transition:
    fix = state.correction
    if fix is None:  # (a state from before a correction was asked for)
        return start(state, ctx)
    request = _request(fix, ctx)
    if fix.stage != "request" and request is None:  # it went (destroyed): choose again
        fix.stage, fix.number, fix.field = "request", None, None
    match fix.stage:
        case "request":
            return _on_request(state, event, ctx, fix)
        case "field":
            assert request is not None
            return _on_field(state, event, ctx, fix, request)
        case "value":
            assert request is not None
            return _on_value(state, event, ctx, fix, request)
        case "sign":
            assert request is not None
            return _on_sign(state, event, ctx, fix, request)
    assert request is not None
    return _on_confirm(state, event, ctx, fix, request)


# -- the stages ------------------------------------------------------------------------------
def _on_request(state: State, event: Event, ctx: Context, fix: Correction) -> Transition:
    shown = _which_request(state, ctx)
    picked = match_choice(event, shown.choices)
    if picked == "back":
        return _leave(state, ctx, None)
    if picked and picked.startswith(FIX):
        fix.number, fix.stage = picked[len(FIX):], "field"
        return Transition(state, [prompt(state, ctx)])
    typed = _typed_number(event, ctx)  # the request's number typed, as its receipt gives it
    if typed:
        fix.number, fix.stage = typed, "field"
        return Transition(state, [prompt(state, ctx)])
    return Transition(state, [prompt(state, ctx, _sorry(state, ctx))])


def _on_field(state: State, event: Event, ctx: Context, fix: Correction,
              request: RequestView) -> Transition:
    shown = _which_field(state, ctx, request)
    picked = match_choice(event, shown.choices)
    if picked == "back":
        if len(ctx.requests) == 1:
            return _leave(state, ctx, None)
        fix.stage, fix.number = "request", None
        return Transition(state, [prompt(state, ctx)])
    if picked:
        fix.field, fix.stage, fix.failures = picked, "value", 0
        return Transition(state, [prompt(state, ctx)])
    return Transition(state, [prompt(state, ctx, _sorry(state, ctx))])


def _on_value(state: State, event: Event, ctx: Context, fix: Correction,
              request: RequestView) -> Transition:
    spec = _spec(request, fix.field, ctx)
    assert spec is not None
    question = _value_question(state, ctx, request, spec)
    options = render.option_choices(state, spec) if spec.kind is FieldKind.CHOICE else ()
    picked = match_choice(event, question.choices, numbered=False)  # pressed, or a label typed
    if picked is None and options:  # a number picks an option, never a way out
        picked = match_choice(event, question.choices[:len(options)])
    if picked == "back":
        fix.stage, fix.field = "field", None
        return Transition(state, [prompt(state, ctx)])
    if picked == "human":
        state.correction = None
        return intake.escalate(state, "privacy", "correction")
    if picked and picked in {o.id for o in options}:
        value: Any = picked
    else:
        try:
            value, _actions = intake.read(spec, event, ctx)  # (never a file: not offered)
        except fields.Invalid as error:
            fix.failures += 1
            reply = render.invalid_answer(state, ctx, error, question, spec)
            return Transition(state, [reply])
    _ = ctx.tr(state.lang).gettext
    if value == request.fields.get(spec.key):
        return Transition(state, [prompt(state, ctx, _(
            "This is the answer the request already has. Please send the right one, or "
            "choose «↩ Back»."))])
    fix.value, fix.stage, fix.failures = value, "confirm", 0
    return Transition(state, [prompt(state, ctx)])


def _on_confirm(state: State, event: Event, ctx: Context, fix: Correction,
                request: RequestView) -> Transition:
    shown = prompt(state, ctx)
    picked = match_choice(event, shown.choices) or intake.yes_no(
        state, event, ctx, "confirm", "cancel")
    if picked == "change":
        fix.stage, fix.value = "value", None
        return Transition(state, [prompt(state, ctx)])
    if picked == "cancel":
        return _leave(state, ctx, ctx.tr(state.lang).gettext(
            "The correction was cancelled; nothing was sent."))
    if picked == "confirm":
        if ctx.profile.signature.mode == "typed_name":
            fix.stage = "sign"
            return Transition(state, [prompt(state, ctx)])
        return _send(state, ctx, fix, request, None)
    return Transition(state, [prompt(state, ctx, _sorry(state, ctx))])


def _on_sign(state: State, event: Event, ctx: Context, fix: Correction,
             request: RequestView) -> Transition:
    shown = _sign_prompt(state, ctx)
    picked = match_choice(event, shown.choices)  # a name is never a number
    if picked == "back":
        fix.stage = "confirm"
        return Transition(state, [prompt(state, ctx)])
    if picked == "cancel":
        return _leave(state, ctx, ctx.tr(state.lang).gettext(
            "The correction was cancelled; nothing was sent."))
    name_field = ctx.profile.signature.signer(request.fields)  # (a guardian's, if one applied)
    name = str(fix.value if fix.field == name_field else request.fields.get(name_field, ""))
    typed = clean(event.text) if event.kind == "text" else ""
    if typed and intake.same_name(typed, name):
        return _send(state, ctx, fix, request, typed)
    _ = ctx.tr(state.lang).gettext
    return Transition(state, [prompt(state, ctx, _(
        "The name you typed does not match the full name in the request. Please type it "
        "exactly as it is there."))])


def _send(state: State, ctx: Context, fix: Correction, request: RequestView,
          signature: str | None) -> Transition:
    spec = _spec(request, fix.field, ctx)
    assert spec is not None and fix.field is not None
    action = RequestCorrection(
        number=request.number, field=fix.field, value=fix.value,
        ack_version=f"{render.ACK_VERSION}/{state.lang}",
        ack_text=ack_text(spec, state.lang, ctx), signature=signature)
    state.step, state.correction = Step.PRIVACY, None
    return Transition(state, [], [action])  # what was filed is said with the result (`filed`)


def _leave(state: State, ctx: Context, lead: str | None) -> Transition:
    state.step, state.correction = Step.PRIVACY, None
    return Transition(state, [privacy.menu(state, ctx, lead)])


# -- what is shown ---------------------------------------------------------------------------
def _which_request(state: State, ctx: Context) -> Reply:
    _ = ctx.tr(state.lang).gettext
    shown = ctx.requests[-REQUESTS_SHOWN:]
    return Reply(
        _("Which request has the answer to correct?"),
        (*(Choice(f"{FIX}{r.number}",
                  f"{r.number} · {desk.service_label(r.service, state.lang, ctx)}")
           for r in reversed(shown)),
         Choice("back", _("↩ Back"))),
        Expects("correction_request", "choice"))


def correctable(request: RequestView, state: State, ctx: Context) -> list[FieldSpec]:
    """The answers of a request that may be corrected here: every one but a document's,
    and the health and financial ones only with consent to those questions."""
    service = ctx.profile.service(request.service)
    if service is None:
        return []
    return [f for f in intake.relevant(service, request.fields)
            if f.kind is not FieldKind.FILE and (state.sensitive_consent or not f.sensitive)]


def _which_field(state: State, ctx: Context, request: RequestView) -> Reply:
    _ = ctx.tr(state.lang).gettext
    specs = correctable(request, state, ctx)
    lines = [_("Request {number} ({service}). Which answer is not right?").format(
        number=request.number, service=desk.service_label(request.service, state.lang, ctx))]
    lines += [f"• {f.label.get(state.lang)}: "
              f"{kinds.for_beneficiary(f, request.fields.get(f.key), state.lang, ctx)}"
              for f in specs]
    lines.append(_("A document cannot be replaced here; a social researcher can help with "
                   "that («🙋 Social researcher» in the menu)."))
    return Reply("\n".join(lines),
                 (*(Choice(f.key, f.label.get(state.lang)) for f in specs),
                  Choice("back", _("↩ Back"))),
                 Expects(ANSWERS, "choice"))


def _value_question(state: State, ctx: Context, request: RequestView, spec: FieldSpec) -> Reply:
    _ = ctx.tr(state.lang).gettext
    lines = [_("The right answer for «{label}»:").format(label=spec.label.get(state.lang))]
    if spec.hint:
        lines.append(spec.hint.get(state.lang))
    hint = kinds.hint(spec, state.lang, ctx)
    if hint:
        lines.append(hint)
    options = render.option_choices(state, spec) if spec.kind is FieldKind.CHOICE else ()
    contact = _("📱 Share my number") if spec.kind is FieldKind.PHONE else None
    return Reply("\n".join(lines),
                 (*options, Choice("back", _("↩ Back")),
                  Choice("human", _("🙋 Social researcher"))),
                 Expects(spec.key, spec.kind.value), contact, numbered=len(options))


def _confirm_question(state: State, ctx: Context, request: RequestView, spec: FieldSpec) -> Reply:
    _ = ctx.tr(state.lang).gettext
    fix = state.correction
    assert fix is not None
    text = _(
        "Request {number}: «{label}» is to be corrected\n"
        "from: {old}\n"
        "to: {new}\n\n"
        "Staff check the correction against your documents and reply to you here within "
        "30 days. Once it is approved, your acknowledgment is renewed with the corrected "
        "data.\n\n{acknowledgment}").format(
            number=request.number, label=spec.label.get(state.lang),
            old=kinds.for_beneficiary(spec, request.fields.get(spec.key), state.lang, ctx),
            new=kinds.for_beneficiary(spec, fix.value, state.lang, ctx),
            acknowledgment=ack_text(spec, state.lang, ctx))
    return Reply(text, (Choice("confirm", _("✅ Confirm and send")),
                        Choice("change", _("✏️ Change the answer")),
                        Choice("cancel", _("✖ Cancel the correction"))),
                 Expects(ANSWERS, "confirm"))


def _sign_prompt(state: State, ctx: Context) -> Reply:
    _ = ctx.tr(state.lang).gettext
    return Reply(_("To sign the correction, please type your full name exactly as it is in "
                   "the request (the corrected name, if that is what you corrected)."),
                 (Choice("back", _("↩ Back")), Choice("cancel", _("✖ Cancel the correction"))),
                 Expects("signature", "confirm"))


def ack_text(spec: FieldSpec, lang: str, ctx: Context) -> str:
    """The statement signed with a correction, kept as the request's new acknowledgment."""
    return ctx.tr(lang).gettext(
        "Acknowledgment: I confirm that the corrected answer «{label}» is correct, that the "
        "rest of the request is as I confirmed it, and I am directly responsible for its "
        "accuracy.").format(label=spec.label.get(lang))


def filed(state: State, ctx: Context, result: Any) -> list[Reply]:
    """After RequestCorrection: its number and date, or why it could not be sent."""
    _ = ctx.tr(state.lang).gettext
    if result is None:
        lead = _("Sorry, this request can no longer be corrected here. A social researcher "
                 "can help: «🙋 Social researcher» in the menu.")
    else:
        lead = _("Your correction was sent (data request #{n}). Staff check it against your "
                 "documents and reply to you here by {day}.").format(
                     n=result.id, day=kinds.both_calendars(result.due, state.lang, ctx))
    return [privacy.menu(state, ctx, lead)]


def answered(number: str, spec: FieldSpec | None, value: Any, reason: str | None, lang: str,
             ctx: Context) -> Reply:
    """Staff's answer to a correction: approved (`reason` None), or not, and why."""
    _ = ctx.tr(lang).gettext
    label = spec.label.get(lang) if spec else "-"
    if reason is None and (spec is None or spec.sensitive):  # health and money: not in a chat
        return Reply(_("Your correction to request {number} was approved: «{label}» is "
                       "corrected. Your acknowledgment was renewed with it.").format(
                           number=number, label=label))
    if reason is None:
        shown = kinds.for_beneficiary(spec, value, lang, ctx)
        return Reply(_("Your correction to request {number} was approved: «{label}» is now "
                       "{value}. Your acknowledgment was renewed with it.").format(
                           number=number, label=label, value=shown))
    return Reply(_("Your correction to request {number} («{label}») was not approved: "
                   "{reason}\nA social researcher can help: «🙋 Social researcher» in the "
                   "menu.").format(number=number, label=label, reason=reason))


# -- helpers ---------------------------------------------------------------------------------
def asked(state: State, ctx: Context) -> FieldSpec | None:
    """The question whose new answer is awaited now (None at the other stages): what the
    log masks or withholds, and whether free text is expected."""
    fix = state.correction
    if state.step != Step.CORRECTING or fix is None or fix.stage != "value":
        return None
    request = _request(fix, ctx)
    return _spec(request, fix.field, ctx) if request else None


def _request(fix: Correction, ctx: Context) -> RequestView | None:
    return next((r for r in ctx.requests if r.number == fix.number), None)


def _spec(request: RequestView, key: str | None, ctx: Context) -> FieldSpec | None:
    return ctx.profile.field(request.service, key) if key else None


def _typed_number(event: Event, ctx: Context) -> str | None:
    if event.kind != "text":
        return None
    typed = ascii_digits(event.text).strip().upper()
    return next((r.number for r in ctx.requests if r.number.upper() == typed), None)


def _sorry(state: State, ctx: Context) -> str:
    return ctx.tr(state.lang).gettext(
        "Sorry, I did not understand. Please choose one of the options by its number.")
