"""Volunteering («خدمات التطوع», a channel in every policy; Al-Huda's objective is to
organise its youth's volunteering): a sign-up from the menu, with the profile's questions
checked as the intake checks them, then a consent of its own (the purpose differs from
being served), then `SignUpVolunteer`. Admins list and export volunteers (`wasl
volunteers`) and announce to them (the "volunteers" segment); a volunteer withdraws from
«My data and privacy», which deletes the sign-up.

Pure, like the journey; the diagram is docs/conversations/volunteer.mmd."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from conversations import desk, fields, intake, kinds, privacy, render
from conversations.base import Choice, Context, Event, Expects, Reply, match_choice
from conversations.profile import FieldKind, FieldSpec
from conversations.state import SignUpVolunteer, State, Step, Transition, VolunteerDraft

MENU_CHOICE = "volunteer"
VERSION = "wasl-volunteer-1"  # of the consent's wording: bump when it changes
CONSENT = "volunteer_consent"  # what the consent question expects


def start(state: State, ctx: Context) -> Transition:
    """The association's words on volunteering, then the first question."""
    _ = ctx.tr(state.lang).gettext
    own = ctx.profile.volunteering.intro
    count = len(ctx.profile.volunteering.fields)
    lead = "\n".join(part for part in (
        own.get(state.lang) if own else "",
        _("Thank you for wanting to volunteer with {association}. We ask {n} short questions; "
          "you can stop at any time with /menu.").format(
            association=ctx.profile.association.get(state.lang), n=count)) if part)
    state.step, state.volunteer = Step.VOLUNTEER, VolunteerDraft()
    return Transition(state, [prompt(state, ctx, lead)])


def _spec(form: VolunteerDraft, ctx: Context) -> FieldSpec | None:
    """The question asked, or None once every one is answered (the consent)."""
    specs = ctx.profile.volunteering.fields
    return specs[form.index] if form.index < len(specs) else None


def prompt(state: State, ctx: Context, lead: str | None = None) -> Reply:
    """The question the sign-up is at, or its consent."""
    form = state.volunteer or VolunteerDraft()
    spec = _spec(form, ctx)
    reply = _question(state, ctx, spec, form) if spec else consent_question(state, ctx)
    return replace(reply, text=f"{lead}\n\n{reply.text}") if lead else reply


def _question(state: State, ctx: Context, spec: FieldSpec, form: VolunteerDraft) -> Reply:
    _ = ctx.tr(state.lang).gettext
    specs = ctx.profile.volunteering.fields
    lines = [f"({form.index + 1}/{len(specs)}) " + render.question_text(spec, state.lang, ctx)]
    hint = kinds.hint(spec, state.lang, ctx)
    if hint:
        lines.append(hint)
    options = render.option_choices(state, spec) if spec.kind is FieldKind.CHOICE else ()
    contact = _("📱 Share my number") if spec.kind is FieldKind.PHONE else None
    return Reply("\n".join(lines), (*options, Choice("back", _("↩ Back")),
                                    Choice("cancel", _("✖ Cancel"))),
                 Expects(spec.key, spec.kind.value), contact, numbered=len(options))


def consent_question(state: State, ctx: Context) -> Reply:
    _ = ctx.tr(state.lang).gettext
    form = state.volunteer or VolunteerDraft()
    lines = [_("Please check your details:")]
    for spec in ctx.profile.volunteering.fields:
        value = form.answers.get(spec.key)
        lines.append(f"• {spec.label.get(state.lang)}: "
                     f"{kinds.for_beneficiary(spec, value, state.lang, ctx)}")
    lines += ["", _(
        "Do you agree that {association} keeps these details to contact you about "
        "volunteering? Only its staff who organise volunteering see them; they are used for "
        "nothing else and kept {days} days from your sign-up. You can withdraw at any time "
        "from «🔒 My data and privacy», and your details are then deleted.").format(
            association=ctx.profile.association.get(state.lang),
            days=ctx.profile.volunteering.keep_days)]
    return Reply("\n".join(lines),
                 (Choice("accept", _("✅ I agree")), Choice("back", _("↩ Back")),
                  Choice("cancel", _("✖ Cancel"))), Expects(CONSENT, "choice"))


def on_volunteer(state: State, event: Event, ctx: Context) -> Transition:
    form = state.volunteer
    if form is None:  # (the sign-up was lost, as after a profile change): from the start
        return start(state, ctx)
    asked = prompt(state, ctx)
    picked = match_choice(event, asked.choices, numbered=False)
    if picked is None and asked.numbered and intake.typed_number(event):
        picked = match_choice(event, asked.choices[:asked.numbered])  # a number: an option
    if picked is None and _spec(form, ctx) is None:  # the consent: a typed yes or no
        picked = intake.yes_no(state, event, ctx, "accept", "cancel")
    if picked == "cancel":
        return _leave(state, ctx, ctx.tr(state.lang).gettext(
            "The volunteer sign-up was cancelled; nothing was kept."))
    if picked == "back":
        if form.index == 0:
            return _leave(state, ctx, None)
        form.index -= 1  # (from the consent: the last question)
        return Transition(state, [prompt(state, ctx)])
    spec = _spec(form, ctx)
    if spec is None:  # the consent
        if picked == "accept":
            answers = dict(form.answers)
            state.step, state.volunteer = Step.MENU, None
            return Transition(state, [], [SignUpVolunteer(answers, VERSION)])
        return Transition(state, [prompt(state, ctx, _not_understood(state, ctx))])
    try:
        value = _read(spec, event, picked, ctx)
    except fields.Invalid as error:
        _ = ctx.tr(state.lang).gettext
        problem = _(fields.MESSAGES[error.code]).format(**error.params)
        return Transition(state, [prompt(state, ctx, problem)])
    form.answers[spec.key] = value
    form.index += 1
    return Transition(state, [prompt(state, ctx)])


def _read(spec: FieldSpec, event: Event, picked: str | None, ctx: Context) -> Any:
    """The answer, checked as the intake checks it (a choice by button, number or name)."""
    if spec.kind is FieldKind.CHOICE:
        if picked in {o.key for o in spec.options}:
            return picked
        raise fields.Invalid("choice.unknown")
    value, _ = intake.read(spec, event, ctx)
    return value


def _not_understood(state: State, ctx: Context) -> str:
    return ctx.tr(state.lang).gettext(
        "Sorry, I did not understand. Please choose one of the options by its number.")


def _leave(state: State, ctx: Context, lead: str | None) -> Transition:
    state.step, state.volunteer = Step.MENU, None
    return Transition(state, [render.menu(state, ctx, lead)])


def signed_up(state: State, ctx: Context, replaced: bool) -> list[Reply]:
    """After `SignUpVolunteer`: thanks, and the menu."""
    _ = ctx.tr(state.lang).gettext
    lead = _("Thank you! Your volunteer sign-up is recorded, and {association} will contact "
             "you about volunteering.").format(
        association=ctx.profile.association.get(state.lang))
    if replaced:
        lead += "\n" + _("It replaces your earlier sign-up.")
    return [render.menu(state, ctx, lead)]


def free_text(state: State, ctx: Context) -> bool:
    """Whether the question asked takes free text (a name, skills): then "موظف" is an
    answer, not a request for a person."""
    form = state.volunteer
    spec = _spec(form, ctx) if form else None
    return spec is not None and spec.kind is FieldKind.TEXT


def table(volunteers: list[Any], lang: str, ctx: Context) -> tuple[list[str], list[list[str]]]:
    """The admins' list (`wasl volunteers list|export`): the profile's questions as the
    columns, each answer as staff read it (in full: reaching volunteers is its purpose),
    then when they signed up (Riyadh) and on which channel."""
    _ = ctx.tr(lang).gettext
    specs = ctx.profile.volunteering.fields
    headers = ["#", *(s.label.get(lang) for s in specs), _("Signed up"), _("Channel")]
    rows = [[str(v.id), *(kinds.for_staff(s, v.answers.get(s.key), full=True, lang=lang,
                                          ctx=ctx) for s in specs),
             desk.when(v.signed_up_at, lang, ctx), privacy.channel_name(v.channel, lang, ctx)]
            for v in volunteers]
    return headers, rows
