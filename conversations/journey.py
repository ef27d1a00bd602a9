"""The beneficiary's journey: consent, menu, language, status, escalation, and
the routing into the intake. `step()` is the whole conversation as a pure
function; diagrams in docs/conversations/.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from conversations import (
    broadcast,
    correction,
    desk,
    faq,
    fields,
    intake,
    kinds,
    privacy,
    render,
    review,
    survey,
    transcript,
    volunteer,
)
from conversations.base import (
    RIYADH,
    CaseView,
    Choice,
    Context,
    Event,
    Expects,
    Reply,
    RequestView,
    match_choice,
)
from conversations.fields import N_
from conversations.profile import FieldKind
from conversations.state import (
    Action,
    AddToCase,
    Asked,
    CaseOpened,
    DeleteData,
    DeletionPlan,
    ExportData,
    FeedbackStored,
    Forget,
    KeepVoice,
    OpenCase,
    PlanDeletion,
    ProvideInfo,
    RecordConsent,
    RequestCorrection,
    SetAnnouncements,
    SetLanguage,
    ShowStatus,
    SignUpVolunteer,
    State,
    Step,
    SubmitFeedback,
    SubmitRequest,
    SubmitSurvey,
    Submitted,
    SurveyStored,
    Transition,
)
from conversations.text import clean, fold

RESUME_AFTER = timedelta(minutes=30)  # a longer silence mid-request earns a "welcome back"
# after this long, nothing typed is taken as the answer to the question left open: they
# are welcomed back and asked whether to continue (a day later, "السلام عليكم" is no district)
LONG_AWAY = timedelta(hours=6)
WHATSAPP_REMINDER_HOURS = 20  # WhatsApp takes a free message within 24 hours of theirs
INTAKE_STEPS = {Step.FIELD, Step.SENSITIVE, Step.OFFER_HUMAN, Step.SUMMARY, Step.EDIT,
                Step.SIGNATURE}
# Where a question in the middle of something is answered, and the same thing asked again.
ASKING_STEPS = {Step.SERVICE, Step.FIELD, Step.SENSITIVE, Step.OFFER_HUMAN, Step.SUMMARY,
                Step.EDIT, Step.SIGNATURE, Step.RESUME}
COMMANDS = {"/start", "/menu", "/status", "/cancel", "/help", "/language", "/stop",
            "/subscribe", "/mydata", "/delete"}


def step(state: State, event: Event, ctx: Context) -> Transition:
    """The next state, replies and actions after one event from a beneficiary."""
    state, event = state.model_copy(deep=True), intake.readable(event)  # no NUL, no ESC
    if state.step != Step.CASE:  # offered as the missing information only right after it
        state.info_text, state.info_pressed_only = None, False
    if event.kind == "other":  # a sticker, voice note, location...: say what works, ask again
        _ = ctx.tr(state.lang).gettext
        return Transition(state, [Reply(_("I can read text, photos and documents.")),
                                  prompt(state, ctx)])
    if not state.consented:
        return on_welcome(state, event, ctx)
    command = _command(event)
    silence = ctx.now - state.touched if state.touched is not None else timedelta(0)
    away = silence >= RESUME_AFTER
    state.touched = ctx.now
    wanted = broadcast.wants(event, ctx)
    if wanted is not None:  # announcements on or off; the conversation stays where it was
        said = broadcast.subscribed if wanted else broadcast.stopped
        talking = state.step == Step.CASE and ctx.case is not None and ctx.case.status == "claimed"
        again = [] if talking else [prompt(state, ctx)]
        return Transition(state, [said(state.lang, ctx), *again], [SetAnnouncements(wanted)])
    if state.step == Step.CASE and ctx.case is not None and ctx.case.status == "claimed":
        # Talking with a researcher: the bot's own flows pause; everything goes to them,
        # except a way back to the menu (the researcher is told they stepped out).
        if command in ("/menu", "/start"):
            state.step = Step.MENU
            return Transition(state, [render.menu(state, ctx)],
                              [AddToCase(command, stepped_out=True)])
        if command == "/status":  # works at every step; the conversation stays with them
            return Transition(state, [], [ShowStatus()])
        if command == "/mydata":
            return Transition(state, [], [ExportData()])
        return on_case(state, event, ctx)
    if event.kind == "voice" and state.step != Step.CASE:  # (in a case: to the researcher)
        return _voice_kept(state, event, ctx)
    if command:
        return on_command(state, command, ctx)
    if state.draft and state.step in INTAKE_STEPS:  # a greeting is never an answer
        if greets(event, ctx):
            return _offer_resume(state, ctx) if away else _greeted(state, event, ctx)
        if silence >= LONG_AWAY and event.kind == "text":
            return _offer_resume(state, ctx)
    # (while a researcher holds the case, the words went to them above)
    right = privacy.wants(event, ctx, exact=_free_text(state, ctx))
    if right == privacy.COPY:  # the copy, and the same question again after it
        return Transition(state, [], [ExportData()])
    if right == privacy.DELETE:
        return privacy.ask_to_delete(state)
    if right == privacy.CORRECT and state.step not in INTAKE_STEPS | {Step.CORRECTING}:
        return correction.start(state, ctx)  # (a draft is corrected by its own edit)
    if right == privacy.WITHDRAW:
        state.step = Step.WITHDRAW
        return Transition(state, [privacy.withdraw_menu(state, ctx)])
    if right == privacy.MENU_CHOICE:
        return privacy.open_menu(state, ctx)
    if state.step != Step.CASE and asks_for_human(event, ctx, exact=_free_text(state, ctx)):
        return intake.escalate(state, "asked", "keyword")
    answer = _question(state, event, ctx)
    if answer is not None:
        return answer
    transition = HANDLERS[state.step](state.model_copy(deep=True), event, ctx)
    if away and state.draft and state.step in INTAKE_STEPS and _refused(state, transition):
        return _offer_resume(state, ctx)  # back after a while, with something else in mind
    return transition


def reads_requests(state: State, event: Event, ctx: Context) -> bool:
    """Whether this event may need the beneficiary's requests (`Context.requests`): a
    correction asked for, or under way."""
    if state.step in (Step.PRIVACY, Step.CORRECTING):
        return True
    return (state.consented and state.step not in INTAKE_STEPS | {Step.CASE}
            and privacy.wants(event, ctx) == privacy.CORRECT)


def _question(state: State, event: Event, ctx: Context) -> Transition | None:
    """In the middle of something, a question answered and the same thing asked again
    (None: the step takes the event). `state` may be changed: an answer's buttons last
    until the next message."""
    if state.step not in ASKING_STEPS:
        if state.step != Step.ANSWERED:
            state.asked = None
        return None
    again = prompt(state, ctx)
    if state.asked and event.kind == "choice" and faq.from_answer(event.choice):
        return faq.chosen(state.model_copy(deep=True), event.choice, ctx, again)
    state.asked = None
    if not faq.clearly_question(event) or match_choice(event, again.choices):
        return None
    answered = faq.answered(state.model_copy(deep=True), event, ctx, again)
    free = _free_text(state, ctx) or state.step == Step.SIGNATURE
    if answered is None and ctx.knowledge is not None and not free:
        return faq.unanswered(state.model_copy(deep=True), ctx, again)
    return answered  # where free text is asked, only a sure answer; anything else is the answer


def asks_for_human(event: Event, ctx: Context, exact: bool = False) -> bool:
    """A short message asking for a person ("موظف", "ما فهمت", "أبي أكلم أحد"), in any
    spelling. Where a free-text answer is expected, only the phrase alone counts
    ("أنا موظف" may be someone's occupation)."""
    if event.kind != "text" or len(event.text.split()) > 5:
        return False
    typed = " " + " ".join(fold(event.text).split()) + " "
    phrases = {f" {p} " for p in ctx.phrases(ASKS_FOR_HUMAN)}
    return typed in phrases or (not exact and any(p in typed for p in phrases))


ASKS_FOR_HUMAN = N_("staff,employee,a person,human,agent,I did not understand,talk to someone")


def _free_text(state: State, ctx: Context) -> bool:
    """Whether the current question takes free text (a name, a district, a comment...)."""
    if state.step == Step.FEEDBACK and state.feedback_kind:
        return True
    if state.step == Step.SURVEY and state.survey and state.survey.stage == "comment":
        return True
    if state.step == Step.VOLUNTEER:
        return volunteer.free_text(state, ctx)
    fixing = correction.asked(state, ctx)
    if fixing is not None:
        return fixing.kind is FieldKind.TEXT
    if state.step != Step.FIELD or state.draft is None:
        return False
    return intake.current(state, ctx)[1].kind is FieldKind.TEXT


def _refused(before: State, after: Transition) -> bool:
    """The event was not taken as an answer (a failure was counted)."""
    was = before.draft.failures if before.draft else 0
    return after.state.draft is not None and after.state.draft.failures > was


def _command(event: Event) -> str | None:
    if event.kind != "text" or not event.text.strip().startswith("/"):
        return None
    word = event.text.strip().split()[0].split("@")[0].lower()  # /start@WaslBot in groups
    return word


def on_welcome(state: State, event: Event, ctx: Context) -> Transition:
    """Greeting, privacy notice and consent; nothing is kept before consent."""
    shown = render.welcome(state, ctx)
    picked = match_choice(event, shown.choices) or intake.yes_no(
        state, event, ctx, "accept", "decline")
    if picked == "language":
        state.lang = "en" if state.lang == "ar" else "ar"
        return Transition(state, [render.welcome(state, ctx)])
    if picked == "accept":
        _ = ctx.tr(state.lang).gettext
        state.consented, state.step, state.touched = True, Step.MENU, ctx.now
        version = f"{render.privacy_version(ctx)}/{state.lang}"
        lead = _("Thank you. Your consent has been recorded.")
        return Transition(state, [render.menu(state, ctx, lead)],
                          [RecordConsent(render.CONSENT_PURPOSE, version)])
    if picked == "decline":
        _ = ctx.tr(state.lang).gettext
        text = _(
            "We respect your choice; nothing about you has been recorded. You can still "
            "reach {association} through:\n{channels}\n\nIf you change your mind, send any "
            "message to start again."
        ).format(association=ctx.profile.association.get(state.lang),
                 channels=render.contact_channels(state, ctx))
        return Transition(State(lang=state.lang), [Reply(text)], [Forget()])
    return Transition(state, [shown])


def on_command(state: State, command: str, ctx: Context) -> Transition:
    """Commands work at every step, on every channel."""
    _ = ctx.tr(state.lang).gettext
    if command == "/start":
        if state.draft:
            return _offer_resume(state, ctx)
        state.step = Step.MENU
        return Transition(state, [render.menu(state, ctx, render.greeting(state, ctx))])
    if command == "/status":
        state.step = Step.MENU
        return Transition(state, [render.menu(state, ctx)], [ShowStatus()])
    if command == "/cancel":
        if state.draft:
            return intake.cancel(state, ctx)
        state.step = Step.MENU
        return Transition(state, [render.menu(state, ctx)])
    if command == "/language":
        state.return_to = state.step if state.step in INTAKE_STEPS else None
        state.step = Step.LANGUAGE
        return Transition(state, [render.language_menu(state, ctx)])
    if command == "/mydata":
        return Transition(state, [], [ExportData()])
    if command == "/delete":
        return privacy.ask_to_delete(state)
    if command == "/help":
        again = prompt(state, ctx)
        return Transition(state, [Reply(render.help_text(state, ctx)), again])
    if command not in COMMANDS:
        unknown = Reply(_("I do not know this command.") + "\n\n" + render.help_text(state, ctx))
        return Transition(state, [unknown, prompt(state, ctx)])
    state.step = Step.MENU
    return Transition(state, [render.menu(state, ctx)])


def remind_at(state: State, ctx: Context) -> datetime | None:
    """When the one reminder of an unfinished request is due (None: none is)."""
    hours = ctx.profile.reminders.unfinished_after_hours
    if ctx.channel == "whatsapp" and "reminder" not in ctx.profile.whatsapp.templates:
        hours = min(hours, WHATSAPP_REMINDER_HOURS)  # while a free message can still go
    if (not hours or state.draft is None or state.draft.reminded or state.reminders_off
            or state.step not in INTAKE_STEPS | {Step.RESUME}):
        return None
    return ctx.now + timedelta(hours=hours)


def reminder(state: State, ctx: Context) -> list[Reply]:
    """The one reminder (`state` moves to the question of continuing); none when the
    request is no longer unfinished."""
    if remind_at(state, ctx) is None:
        return []
    assert state.draft is not None
    state.draft.reminded, state.step = True, Step.RESUME
    return [render.resume(state, ctx, intake.service_of(state, ctx), reminder=True)]


def greets(event: Event, ctx: Context) -> bool:
    """A greeting ("السلام عليكم", "مرحبا", "صباح الخير يا جماعة"), in any spelling: the
    message begins with one and says little else."""
    if event.kind != "text":
        return False
    words = re.sub(r"[^\w\s]", " ", fold(event.text)).split()
    return any(words[:len(wanted)] == wanted and len(words) <= len(wanted) + 3
               for wanted in (p.split() for p in ctx.phrases(GREETINGS)))


GREETINGS = N_("hello,hi,hey,good morning,good evening,peace be upon you,greetings")


def _greeted(state: State, event: Event, ctx: Context) -> Transition:
    """A greeting mid-request: returned, and the same question again."""
    _ = ctx.tr(state.lang).gettext
    salam = fold("سلام") in fold(event.text)  # (السلام عليكم, سلام عليكم)
    hello = _("And peace be upon you.") if salam else _("Hello!")
    return Transition(state, [Reply(f"{hello} " + _("Here is where we were:")), prompt(state, ctx)])


def voice_offer(state: State, ctx: Context, lead: str | None = None) -> Reply:
    """A voice note arrived (and is kept): a researcher can listen to it, or they write."""
    _ = ctx.tr(state.lang).gettext
    text = _("Thank you, your voice message reached us and is kept. The bot reads only what "
             "is written, but a social researcher can listen to it. Shall a social researcher "
             "listen to it and reply to you here?")
    return Reply(f"{lead}\n\n{text}" if lead else text,
                 (Choice("listen", _("🎧 Yes, a researcher listens")),
                  Choice("write", _("✍️ I will write instead"))),
                 Expects("voice", "choice"))


def _voice_kept(state: State, event: Event, ctx: Context) -> Transition:
    assert event.file is not None
    try:
        fields.check_size(event.file.size, ctx.profile.max_file_mb)
    except fields.Invalid as error:  # too long to keep: said, and nothing moves
        _ = ctx.tr(state.lang).gettext
        problem = _(fields.MESSAGES[error.code]).format(**error.params)
        return Transition(state, [Reply(problem + "\n" + _(
            "Please send a shorter voice message, or write your message.")), prompt(state, ctx)])
    if state.step != Step.VOICE:
        state.voice_from = state.step
    state.step = Step.VOICE
    return Transition(state, [voice_offer(state, ctx)], [KeepVoice(event.file)])


def on_voice(state: State, event: Event, ctx: Context) -> Transition:
    """After a voice note: a researcher listens (a case with it), or back where they were
    (something typed instead is taken there)."""
    picked = match_choice(event, voice_offer(state, ctx).choices)
    back, state.voice_from = state.voice_from or Step.MENU, None
    if picked == "listen":
        return intake.escalate(state, "voice", None)
    state.step = back
    if picked == "write":
        return Transition(state, [prompt(state, ctx)])
    return step(state, event, ctx)


def _offer_resume(state: State, ctx: Context) -> Transition:
    state.step = Step.RESUME
    return Transition(state, [render.resume(state, ctx, intake.service_of(state, ctx))])


def stale(state: State, ctx: Context) -> list[Reply]:
    """A button from an earlier message was pressed: nothing happens but a reminder."""
    _ = ctx.tr(state.lang).gettext
    return [Reply(_("That button belongs to an earlier message. Please answer the latest "
                    "question:")), prompt(state, ctx)]


def prompt(state: State, ctx: Context) -> Reply:
    """What the current step asks, said again (after /help, or a misunderstanding)."""
    match state.step:
        case Step.WELCOME:
            return render.welcome(state, ctx)
        case Step.MENU:
            return render.menu(state, ctx)
        case Step.LANGUAGE:
            return render.language_menu(state, ctx)
        case Step.SERVICE:
            return render.services(state, ctx)
        case Step.RESUME:
            return render.resume(state, ctx, intake.service_of(state, ctx))
        case Step.EDIT:
            return intake.edit_menu(state, ctx)
        case Step.SIGNATURE:
            return render.signature_prompt(state, ctx)
        case Step.CASE:
            return _case_prompt(state, ctx)
        case Step.NEEDS_INFO:
            return _needs_info_prompt(state, ctx)
        case Step.OFFER_HUMAN:
            return render.offer_human(state, ctx, "")
        case Step.SURVEY if state.survey:
            return survey.question(state, ctx)
        case Step.SURVEY:
            return render.menu(state, ctx)
        case Step.FEEDBACK:
            return survey.feedback_menu(state, ctx)
        case Step.ANSWERED:
            return faq.shown_after(state, ctx, state.asked or Asked())
        case Step.PRIVACY:
            return privacy.menu(state, ctx)
        case Step.DELETING:  # (what would be kept is not known here: the question alone)
            return privacy.delete_question(state, ctx, ())
        case Step.WITHDRAW:
            return privacy.withdraw_menu(state, ctx)
        case Step.CORRECTING:
            return correction.prompt(state, ctx)
        case Step.VOICE:
            return voice_offer(state, ctx)
        case Step.VOLUNTEER:
            return volunteer.prompt(state, ctx)
        case _:
            return intake.prompt(state, ctx)


def on_menu(state: State, event: Event, ctx: Context) -> Transition:
    shown = render.menu(state, ctx)
    picked = match_choice(event, shown.choices)
    if picked == "new_request":
        if state.draft:
            return _offer_resume(state, ctx)
        state.step = Step.SERVICE
        return Transition(state, [render.services(state, ctx)])
    if picked == "status":
        return Transition(state, [render.menu(state, ctx)], [ShowStatus()])
    if picked == "human":
        return intake.escalate(state, "asked", "menu")
    if picked == "language":
        state.step = Step.LANGUAGE
        return Transition(state, [render.language_menu(state, ctx)])
    if picked == "feedback":
        return survey.start_feedback(state, ctx)
    if picked == privacy.MENU_CHOICE:
        return privacy.open_menu(state, ctx)
    if picked == volunteer.MENU_CHOICE:
        return volunteer.start(state, ctx)
    if picked == "contact":  # the channels and hours, and the menu under them
        return Transition(state, [render.menu(state, ctx, render.contact(state, ctx))])
    if picked == "provide_info" and state.info_for:
        state.step = Step.NEEDS_INFO
        return Transition(state, [_needs_info_prompt(state, ctx)])
    if event.kind == "file" and state.info_for:  # a document at the menu: what was asked for
        return on_needs_info(state, event, ctx)
    if event.kind == "text" and ctx.case is None:  # a question the bot may answer itself
        answered = faq.answered(state.model_copy(deep=True), event, ctx)
        if answered is not None:
            return answered
    if _own_words(event):  # a question in their own words: a person will read it
        if ctx.case is not None:  # in their open case, back in the conversation
            state.step = Step.CASE
            _ = ctx.tr(state.lang).gettext
            sent = Reply(_("Your message was added to your case (number {case}); the social "
                           "researcher will read it and reply here.").format(case=ctx.case.id))
            return Transition(state, [sent], [AddToCase(said(state, event, ctx))])
        if ctx.knowledge is not None:  # offered, with the question kept for them
            return faq.unanswered(state, ctx)
        return intake.escalate(state, "not_understood", "menu")
    _ = ctx.tr(state.lang).gettext
    lead = _("Sorry, I did not understand. Please choose one of the options by its number.")
    return Transition(state, [render.menu(state, ctx, lead)])


def on_answered(state: State, event: Event, ctx: Context) -> Transition:
    """After an answer or an offer of a researcher: what they made of it; anything else is
    taken as at the menu (another question, a menu choice)."""
    done = faq.on_answered(state.model_copy(deep=True), event, ctx)
    if done is not None:
        return done
    state.step, state.asked = Step.MENU, None
    return on_menu(state, event, ctx)


def _own_words(event: Event) -> bool:
    """Three words or more, in Arabic or ending with a question mark (not stray symbols)."""
    if event.kind != "text" or len(event.text.split()) < 3:
        return False
    text = event.text.strip()
    return any("\u0621" <= ch <= "\u064a" for ch in text) or text.endswith(("?", "؟"))


def on_needs_info(state: State, event: Event, ctx: Context) -> Transition:
    """The information a researcher asked for: text, a photo or a document."""
    if event.kind == "choice" or not state.info_for:
        state.step = Step.MENU
        return Transition(state, [render.menu(state, ctx)])
    number, state.info_for, state.step = state.info_for, None, Step.MENU
    return Transition(state, [render.menu(state, ctx)],
                      [ProvideInfo(number, transcript.said(event), event.file)])


def _needs_info_prompt(state: State, ctx: Context) -> Reply:
    _ = ctx.tr(state.lang).gettext
    return Reply(_("Please send the information requested for {number} now: write it, or send "
                   "a photo or a document.").format(number=state.info_for))


def on_language(state: State, event: Event, ctx: Context) -> Transition:
    shown = render.language_menu(state, ctx)
    picked = match_choice(event, shown.choices)
    if picked in render.LANGUAGE_NAMES:
        state.lang = picked
        _ = ctx.tr(state.lang).gettext
        done = Reply(_("Done: I will talk to you in English."))
        return Transition(state, [done, _return(state, ctx)], [SetLanguage(picked)])
    if picked == "back":
        return Transition(state, [_return(state, ctx)])
    return Transition(state, [shown])


def _return(state: State, ctx: Context) -> Reply:
    """Back to the question the language was changed from, or to the menu."""
    state.step, state.return_to = state.return_to or Step.MENU, None
    return prompt(state, ctx)


def on_service(state: State, event: Event, ctx: Context) -> Transition:
    shown = render.services(state, ctx)
    picked = match_choice(event, shown.choices)
    if picked == "back":
        state.step = Step.MENU
        return Transition(state, [render.menu(state, ctx)])
    if picked:
        return intake.start(state, ctx, picked)
    _ = ctx.tr(state.lang).gettext
    lead = _("Sorry, I did not understand. Please choose one of the options by its number.")
    return Transition(state, [render.services(state, ctx, lead)])


def on_resume(state: State, event: Event, ctx: Context) -> Transition:
    shown = render.resume(state, ctx, intake.service_of(state, ctx))
    picked = match_choice(event, shown.choices)
    if event.kind == "choice" and event.choice == render.NO_REMINDERS:  # (the reminder's)
        _ = ctx.tr(state.lang).gettext
        state.reminders_off = True
        return Transition(state, [Reply(_("No more reminders will come. Your answers are kept "
                                          "for {days} days after your last message.").format(
                                              days=ctx.profile.retention.drafts_days)), shown])
    if picked == "continue":
        return intake.ask(state, ctx)
    if picked == "restart":
        tr = intake.cancel(state, ctx)
        tr.state.step = Step.SERVICE
        tr.replies = [render.services(state, ctx)]
        return tr
    return Transition(state, [shown])


def on_case(state: State, event: Event, ctx: Context) -> Transition:
    """While a case is open, what the beneficiary sends goes into it (to the researcher).
    When a researcher asked for information meanwhile (`info_for`), a file is that
    information; a text is, when they press "Yes, this is it" (or type its number) right
    after it."""
    relay = AddToCase(said(state, event, ctx), event.file)
    pending, state.info_text = state.info_text, None
    typed_ok, state.info_pressed_only = not state.info_pressed_only, False
    offer = render.info_offer(state, ctx)
    if (event.kind == "choice" and event.choice == render.INFO_GIVEN) or (
            pending is not None and typed_ok and match_choice(event, offer.choices)):
        return _info_given(state, ctx, pending, offer)
    if state.info_for is None:
        return Transition(state, [], [relay])
    if event.kind == "file":  # the document asked for
        number, state.info_for = state.info_for, None
        return Transition(state, [], [relay, ProvideInfo(number, relay.text, event.file)])
    if event.kind == "text" and event.text.strip() and not event.text.strip().startswith("/"):
        state.info_text = event.text[:MAX_INFO]
        return Transition(state, [offer], [relay])
    return Transition(state, [], [relay])


def _info_given(state: State, ctx: Context, pending: str | None, offer: Reply) -> Transition:
    """The text just sent is the information asked for: attached, and the researcher reads
    that it was pressed."""
    number = state.info_for
    if number is None or pending is None:  # pressed twice, or with nothing before it
        return Transition(state, [_needs_info_prompt(state, ctx)] if number else [])
    state.info_for = None
    pressed = transcript.choice(render.INFO_GIVEN, offer.choices[0].label)  # or its number typed
    return Transition(state, [], [AddToCase(pressed), ProvideInfo(number, pending)])


MAX_INFO = 4000  # characters of a text kept as the missing information


def researcher_wrote(state: State) -> None:
    """A researcher's message reached the beneficiary (handlers/staff.py): a number they type
    now answers it; only the button still says the text before is the information."""
    if state.info_text is not None:
        state.info_pressed_only = True


def _case_prompt(state: State, ctx: Context) -> Reply:
    if state.info_for and state.info_text is not None:
        return render.info_offer(state, ctx)
    _ = ctx.tr(state.lang).gettext
    return Reply(_("A social researcher will reply to you here. Write your message, "
                   "or send /menu for the main menu."))


HANDLERS: dict[Step, Callable[[State, Event, Context], Transition]] = {
    Step.MENU: on_menu,
    Step.LANGUAGE: on_language,
    Step.SERVICE: on_service,
    Step.FIELD: intake.on_field,
    Step.SENSITIVE: intake.on_sensitive,
    Step.OFFER_HUMAN: intake.on_offer_human,
    Step.SUMMARY: intake.on_summary,
    Step.EDIT: intake.on_edit,
    Step.SIGNATURE: intake.on_signature,
    Step.RESUME: on_resume,
    Step.CASE: on_case,
    Step.NEEDS_INFO: on_needs_info,
    Step.SURVEY: survey.on_survey,
    Step.FEEDBACK: survey.on_feedback,
    Step.ANSWERED: on_answered,
    Step.PRIVACY: privacy.on_menu,
    Step.DELETING: privacy.on_deleting,
    Step.WITHDRAW: privacy.on_withdraw,
    Step.CORRECTING: correction.on_correcting,
    Step.VOICE: on_voice,
    Step.VOLUNTEER: volunteer.on_volunteer,
}


def after(action: Action, result: Any, state: State, ctx: Context) -> list[Reply]:
    """Replies that depend on what an action produced (a request number, a case, a list)."""
    _ = ctx.tr(state.lang).gettext
    match action, result:
        case SignUpVolunteer(), bool():
            return volunteer.signed_up(state, ctx, result)
        case SubmitRequest(), Submitted():
            return [_submitted(state, ctx, result)]
        case ShowStatus(), list():
            return [status(state, ctx, result)]
        case OpenCase(), CaseOpened(case_id=case_id, already_open=True):
            return [Reply(_("You already have an open case (number {case}). A social researcher "
                            "will reply to you here; write your message and it will be added "
                            "to it.").format(case=case_id))]
        case OpenCase(), CaseOpened(case_id=case_id):
            text = _("I have referred you to a social researcher. Your case number is "
                     "{case}. A researcher will reply to you here as soon as possible; "
                     "write your question now and it will reach them. To return to "
                     "the menu, send /menu.").format(case=case_id)
            later = desk.after_hours(state.lang, ctx)
            return [Reply(f"{text}\n\n{later}" if later else text)]
        case AddToCase(), CaseView(status="claimed"):
            return []  # a conversation: the researcher answers, no receipt needed
        case AddToCase(), CaseView():
            return [Reply(_("Received. Your message was added to your case number {case}.")
                          .format(case=result.id))]
        case ProvideInfo(), str():
            return [Reply(_("Thank you. We added this to your request {number}; it is back "
                            "under study.").format(number=result))]
        case ProvideInfo(), None:
            return [Reply(_("This request no longer needs information from you."))]
        case SubmitSurvey(), SurveyStored(stored=stored, follow_up=follow_up):
            return survey.thanks(state, ctx, stored, follow_up)
        case SubmitFeedback(kind=kind), FeedbackStored(ticket=ticket):
            return [survey.feedback_received(state, ctx, ticket, kind)]
        case ExportData(), _:
            return privacy.copy_sent(state, ctx, result, prompt(state, ctx))
        case PlanDeletion(), DeletionPlan(held=held):
            return [privacy.delete_question(state, ctx, held)]
        case DeleteData(), DeletionPlan(held=held):
            return privacy.deleted(state, ctx, held)
        case RequestCorrection(), _:
            return correction.filed(state, ctx, result)
    return []


def _submitted(state: State, ctx: Context, result: Submitted) -> Reply:
    """The policy's step 5, in its own words: who studies the request, within what period."""
    t = ctx.tr(state.lang)
    return Reply(t.gettext(
        "Your request has been received. Its number is {number}; keep it to ask about it.\n\n"
        "{studies} {due}\n"
        "You can ask about its status at any time from the menu or by sending /status."
    ).format(number=result.number, studies=review.studies(state.lang, ctx),
             due=review.due_sentence(result.decision_due, state.lang, ctx)))


def status(state: State, ctx: Context, requests: list[RequestView]) -> Reply:
    """Each request with its status in words, its expected answer date, what is needed."""
    _ = ctx.tr(state.lang).gettext
    if not requests:
        return Reply(_("You have no requests yet. Choose \"New support request\" to start one."))
    parts = [_("Your requests:")]
    for r in requests:
        service = ctx.profile.service(r.service)
        name = service.label.get(state.lang) if service else r.service
        lines = [
            f"• {r.number}: {name}",
            _("Status: {status}").format(status=_(render.status_words(r.status, ctx))),
            _("Submitted on: {date}").format(date=render.gregorian(
                state, r.confirmed_at.astimezone(RIYADH).date())),
        ]
        if r.status in ("submitted", "under_review", "needs_info", "committee"):
            lines.append(review.due_label(r.decision_due, state.lang, ctx))
        if r.status == "needs_info" and r.needs_info:
            lines.append(_("Needed from you: {what}").format(what=r.needs_info))
        parts.append("\n".join(lines))
    return Reply("\n\n".join(parts))


# The log's markers (conversations/transcript.py says what each means to staff).
WITHHELD = transcript.WITHHELD
SUMMARY_SHOWN = transcript.SUMMARY_SHOWN
SURVEY_ANSWER = transcript.SURVEY_ANSWER  # kept apart from the log: anonymous means anonymous


def loggable(state: State, event: Event, ctx: Context) -> str:
    """What of an event may be kept in the conversation log (and a case transcript):
    identifying numbers masked as what they are, health and financial answers withheld
    (a pressed option or a file too), survey answers left out, a pressed choice with the
    label the beneficiary saw."""
    event = intake.readable(event)  # PostgreSQL text cannot hold a NUL
    if state.step == Step.SURVEY:
        return SURVEY_ANSWER
    if state.step == Step.VOLUNTEER and not (  # an answer is kept with the sign-up only
            event.kind == "choice" and event.choice in ("back", "cancel", "accept")):
        return transcript.VOLUNTEER_ANSWER
    if event.kind == "voice":  # never an answer: kept as what it is, for a researcher
        return transcript.said(event)
    spec = correction.asked(state, ctx)
    if spec is None and state.step in (Step.FIELD, Step.OFFER_HUMAN) and state.draft:
        _, spec = intake.current(state, ctx)
    if spec is not None:
        if spec.sensitive:
            return WITHHELD
        if spec.kind in kinds.MASKED and event.kind in ("text", "contact"):
            # the mobile too: a transcript shows what the staff's masked file shows
            hidden = kinds.mask(spec.kind, clean(event.text or event.contact))
            return transcript.contact(hidden) if event.kind == "contact" else hidden
    return said(state, event, ctx)


def said(state: State, event: Event, ctx: Context) -> str:
    """An event as the log and a case keep it, a choice with the label shown for it."""
    if event.kind != "choice":
        return transcript.said(event)
    try:
        offered = [*prompt(state, ctx).choices, *render.menu(state, ctx).choices]
    except LookupError:  # the draft's service left the profile: no label to find
        offered = []
    label = next((c.label for c in offered if c.id == event.choice), None)
    return transcript.said(event, label)


def loggable_reply(reply: Reply) -> str:
    """The summary repeats every answer, and so does a correction's list and its
    confirmation; the log keeps only that they were shown."""
    if reply.expects and reply.expects.field == "acknowledgment":
        return SUMMARY_SHOWN
    if reply.expects and reply.expects.field == correction.ANSWERS:
        return transcript.ANSWERS_SHOWN
    if reply.expects and reply.expects.field == volunteer.CONSENT:
        return transcript.VOLUNTEER_SHOWN
    return reply.text
