"""Satisfaction surveys, the beneficiary's right to rate the service (every policy), and
suggestions and complaints from the main menu. Pure: the handlers store the answers.

A survey asks, in order: the 1-5 rating, the profile's extra questions (service surveys
only), with a name or anonymously (when the profile allows it; just before the comment, the
answer a name lets a supervisor follow up), and an optional comment. A number typed at a
question picks the option shown with that number; "Later", shown without one, leaves the
survey for the reminder.
"""

from __future__ import annotations

from dataclasses import replace

from conversations import render
from conversations.base import Choice, Context, Event, Expects, Reply, match_choice
from conversations.fields import N_
from conversations.state import State, Step, SubmitFeedback, SubmitSurvey, SurveyDraft, Transition

RATING_WORDS = {
    1: N_("Very dissatisfied"),
    2: N_("Dissatisfied"),
    3: N_("Neutral"),
    4: N_("Satisfied"),
    5: N_("Very satisfied"),
}
MAX_COMMENT = 1000
LOW = 2  # a rating at or below this, with a comment, is followed up by an admin
STARS = frozenset("⭐★☆*")


def stages(draft: SurveyDraft, ctx: Context) -> list[str]:
    extra = [q.key for q in ctx.profile.surveys.questions] if draft.kind == "service" else []
    anonymous = ["anonymous"] if ctx.profile.surveys.anonymous else []
    return ["rating", *extra, *anonymous, "comment"]


def begin(state: State, draft: SurveyDraft, ctx: Context, *, reminder: bool = False) -> list[Reply]:
    """Start (or, on a reminder, restart) a survey; the interrupted step is kept to go back to."""
    if state.step != Step.SURVEY:
        draft.return_to = state.step if state.step not in (Step.WELCOME, Step.CASE) else Step.MENU
    elif state.survey is not None:
        draft.return_to = state.survey.return_to
    draft.stage = stages(draft, ctx)[0]
    draft.reminded = reminder
    state.survey, state.step = draft, Step.SURVEY
    _ = ctx.tr(state.lang).gettext
    if draft.kind == "service":
        service = ctx.profile.service(draft.service or "")
        name = service.label.get(state.lang) if service else draft.service
        lead = _("Your request {number} ({service}) has been delivered. How satisfied are you "
                 "with the service?").format(number=draft.subject, service=name)
    else:
        lead = _("How satisfied are you with the help you received from the social researcher "
                 "(case {case})?").format(case=draft.subject)
    why = _("Rating the service is your right. We use your answers only to improve our "
            "service, never to blame or punish anyone.")
    if reminder:
        lead = _("A reminder: we would value your opinion; it takes less than a minute.") + "\n" + lead
    return [Reply(f"{lead}\n{why}"), question(state, ctx)]


def question(state: State, ctx: Context) -> Reply:
    """The survey's current question, with its buttons."""
    assert state.survey is not None
    _ = ctx.tr(state.lang).gettext
    draft = state.survey
    later = Choice("later", _("⏳ Later"))
    if draft.stage == "anonymous":
        return Reply(
            _("Should your answers be recorded with your name or anonymously? Anonymous "
              "answers are stored without any link to you, so no one can follow them up "
              "with you."),
            (Choice("named", _("👤 Answer with my name")),
             Choice("anonymous", _("🕶 Answer anonymously")), later),
            Expects("survey_anonymous", "choice"), numbered=2)
    if draft.stage == "rating":
        return Reply(_("Choose from 1 (very dissatisfied) to 5 (very satisfied):"),
                     _rating_choices(state, ctx) + (later,), Expects("survey_rating", "choice"),
                     numbered=5)
    if draft.stage == "comment":
        return Reply(_("Would you like to add a comment or a suggestion? Write it here, or choose "
                       "\"No comment\"."),
                     (Choice("no_comment", _("No comment")),), Expects("survey_comment", "text"))
    spec = next(q for q in ctx.profile.surveys.questions if q.key == draft.stage)
    if spec.kind == "rating":
        choices = _rating_choices(state, ctx)
    else:
        choices = tuple(Choice(o.key, o.label.get(state.lang)) for o in spec.options)
    return Reply(spec.text.get(state.lang), choices + (later,), Expects(f"survey_{spec.key}", "choice"),
                 numbered=len(choices))


def _rating_choices(state: State, ctx: Context) -> tuple[Choice, ...]:
    """1 to 5 in this order, so that a typed number (in any digits) is the rating itself."""
    _ = ctx.tr(state.lang).gettext
    return tuple(Choice(f"rate:{n}", f"{'⭐' * n} {_(RATING_WORDS[n])}") for n in range(1, 6))


def _picked(event: Event, shown: Reply) -> str | None:
    """The option pressed, typed by name, or typed as the number it is shown with; the ways
    out ("Later") are shown without a number, so a mistyped number never leaves the survey."""
    return (match_choice(event, shown.choices[:shown.numbered])
            or match_choice(event, shown.choices, numbered=False))


def _rating(event: Event, shown: Reply) -> int | str | None:
    """1-5 from a button, a digit in any script, a label or stars; or "later"."""
    if event.kind == "text" and event.text.strip() and set(event.text.strip()) <= STARS:
        n = len(event.text.strip())
        return n if 1 <= n <= 5 else None
    picked = _picked(event, shown)
    if picked is None or not picked.startswith("rate:"):
        return picked
    return int(picked.split(":")[1])


def on_survey(state: State, event: Event, ctx: Context) -> Transition:
    draft = state.survey
    if draft is None:  # nothing to answer any more
        state.step = Step.MENU
        return Transition(state, [render.menu(state, ctx)])
    _ = ctx.tr(state.lang).gettext
    order = stages(draft, ctx)
    if draft.stage not in order:  # the profile changed meanwhile: start from the rating
        draft.stage = "rating"
    if draft.stage == "comment":
        return _on_comment(state, event, ctx)
    shown = question(state, ctx)
    if draft.stage == "anonymous":
        picked = _picked(event, shown)
        if picked in ("named", "anonymous"):
            draft.anonymous = picked == "anonymous"
            return _next(state, ctx)
    elif draft.stage == "rating":
        picked = _rating(event, shown)
        if isinstance(picked, int):
            draft.answers["rating"] = picked
            return _next(state, ctx)
    else:
        spec = next(q for q in ctx.profile.surveys.questions if q.key == draft.stage)
        picked = _rating(event, shown) if spec.kind == "rating" else _picked(event, shown)
        if picked is not None and picked != "later":
            draft.answers[spec.key] = picked
            return _next(state, ctx)
    if picked == "later" and draft.reminded:  # no second reminder will come: say so
        return _leave(state, ctx, _("All right. You can no longer be reminded of this survey; "
                                    "thank you for your time."))
    if picked == "later":
        return _leave(state, ctx, _("All right. We will remind you once; you can answer then."))
    lead = _("Sorry, I did not understand. Please choose one of the options by its number.")
    return Transition(state, [replace(shown, text=f"{lead}\n\n{shown.text}")])


def _on_comment(state: State, event: Event, ctx: Context) -> Transition:
    _ = ctx.tr(state.lang).gettext
    draft = state.survey
    assert draft is not None
    if match_choice(event, question(state, ctx).choices) == "no_comment":
        return _finish(state, ctx, None)
    if event.kind != "text" or not event.text.strip():
        return Transition(state, [Reply(_("Please write your comment as text, or choose "
                                          "\"No comment\".")), question(state, ctx)])
    comment = event.text.strip()
    if len(comment) > MAX_COMMENT:
        return Transition(state, [Reply(_("Your comment is too long; please keep it under {n} "
                                          "characters.").format(n=MAX_COMMENT)),
                                  question(state, ctx)])
    return _finish(state, ctx, comment)


def _next(state: State, ctx: Context) -> Transition:
    """The following question; or one before it still unanswered, in a survey begun when
    the anonymity question came first."""
    draft = state.survey
    assert draft is not None
    order = stages(draft, ctx)
    after = order[order.index(draft.stage) + 1:]
    unanswered = [s for s in order[:order.index(draft.stage)]
                  if s not in ("anonymous", "comment") and s not in draft.answers]
    draft.stage = (unanswered or after)[0]
    return Transition(state, [question(state, ctx)])


def _finish(state: State, ctx: Context, comment: str | None) -> Transition:
    draft = state.survey
    assert draft is not None
    extra = {k: v for k, v in draft.answers.items() if k != "rating"}
    action = SubmitSurvey(draft.id, int(draft.answers["rating"]), comment, extra, draft.anonymous)
    _back(state)
    return Transition(state, [], [action])


def _back(state: State) -> None:
    """Out of the survey, back where the beneficiary was."""
    back = state.survey.return_to if state.survey else None
    state.survey, state.step = None, back or Step.MENU


def _leave(state: State, ctx: Context, text: str) -> Transition:
    from conversations.journey import prompt  # the interrupted step's question

    _back(state)
    return Transition(state, [Reply(text), prompt(state, ctx)])


def thanks(state: State, ctx: Context, stored: bool, follow_up: int | None) -> list[Reply]:
    """After the answers were stored (or found the survey closed)."""
    from conversations.journey import prompt

    _ = ctx.tr(state.lang).gettext
    if not stored:
        text = _("This survey has closed, so your answer was not recorded. Thank you all the same.")
    else:
        text = _("Thank you. Your opinion helps us improve our service.")
    if follow_up is not None:
        text += "\n" + _("We are sorry the service fell short. A supervisor will read your comment "
                         "and may write to you here (reference {case}).").format(case=follow_up)
    return [Reply(text), prompt(state, ctx)]


# -- suggestions and complaints ------------------------------------------------------------
FEEDBACK_KINDS = {"suggestion": N_("💡 A suggestion"), "complaint": N_("📣 A complaint")}


def feedback_menu(state: State, ctx: Context) -> Reply:
    _ = ctx.tr(state.lang).gettext
    if state.feedback_kind is None:
        return Reply(_("Is it a suggestion or a complaint? Both reach our team, and a complaint "
                       "is studied and answered."),
                     tuple(Choice(k, _(label)) for k, label in FEEDBACK_KINDS.items())
                     + (Choice("back", _("↩ Back")),), Expects("feedback_kind", "choice"))
    return Reply(_("Please write it in one message (you may attach a photo or a document "
                   "instead)."), (Choice("back", _("↩ Back")),), Expects("feedback_text", "text"))


def start_feedback(state: State, ctx: Context) -> Transition:
    state.step, state.feedback_kind = Step.FEEDBACK, None
    return Transition(state, [feedback_menu(state, ctx)])


def on_feedback(state: State, event: Event, ctx: Context) -> Transition:
    shown = feedback_menu(state, ctx)
    picked = match_choice(event, shown.choices)
    if picked == "back":
        if state.feedback_kind is None:
            state.step = Step.MENU
            return Transition(state, [render.menu(state, ctx)])
        state.feedback_kind = None
        return Transition(state, [feedback_menu(state, ctx)])
    if state.feedback_kind is None:
        if picked in FEEDBACK_KINDS:
            state.feedback_kind = picked
            return Transition(state, [feedback_menu(state, ctx)])
        _ = ctx.tr(state.lang).gettext
        lead = _("Sorry, I did not understand. Please choose one of the options by its number.")
        return Transition(state, [Reply(f"{lead}\n\n{shown.text}", shown.choices, shown.expects)])
    text = event.describe().strip() if event.kind in ("text", "file") else ""
    if not text:
        return Transition(state, [shown])
    kind, state.feedback_kind, state.step = state.feedback_kind, None, Step.MENU
    return Transition(state, [], [SubmitFeedback(kind, text[:4000], event.file)])


def feedback_received(state: State, ctx: Context, ticket: str, kind: str) -> Reply:
    _ = ctx.tr(state.lang).gettext
    if kind == "complaint":
        text = _("Your complaint was received. Its ticket number is {ticket}. Our team will study "
                 "it and reply to you here.")
    else:
        text = _("Thank you for your suggestion. Its ticket number is {ticket}; our team will "
                 "read it.")
    return render.menu(state, ctx, text.format(ticket=ticket))
