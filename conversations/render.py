"""What the bot says: prompts, values and dates in the beneficiary's language.

Every sentence goes through gettext (`_`), every association-specific word
comes from the profile.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from babel.dates import format_date

from conversations import fields, kinds, review
from conversations.base import Choice, Context, Expects, Reply
from conversations.profile import FieldKind, FieldSpec, Service
from conversations.state import State

ACK_VERSION = "wasl-ack-2"  # bump when the wording of the acknowledgment changes
GUARDIAN_ACK_VERSION = "wasl-ack-guardian-1"  # a guardian's, for a child
PRIVACY_VERSION = "wasl-privacy-2"  # of the standard notice, used when a profile has none
CONSENT_PURPOSE = "beneficiary_services"
SENSITIVE_PURPOSE = "sensitive_data"  # health and financial data: a consent of its own
SENSITIVE_VERSION = "wasl-sensitive-1"
VOLUNTEER_PURPOSE = "volunteering"  # a volunteer's details: a consent of its own


def greeting(state: State, ctx: Context) -> str:
    _ = ctx.tr(state.lang).gettext
    return _("Peace be upon you, and welcome to {association}.").format(
        association=ctx.profile.association.get(state.lang)
    )


def privacy_version(ctx: Context) -> str:
    privacy = ctx.profile.privacy
    return privacy.version if privacy.notice or privacy.collects else PRIVACY_VERSION


COLLECTS = fields.N_("name, ID number, contact details, family and income information, "
                     "documents")


def collected(lang: str, ctx: Context) -> str:
    """What the standard notice says is collected: the profile's words, or a family's."""
    collects = ctx.profile.privacy.collects
    return collects.get(lang) if collects else ctx.tr(lang).gettext(COLLECTS)


def welcome(state: State, ctx: Context) -> Reply:
    """Greeting, privacy notice and the consent question."""
    _ = ctx.tr(state.lang).gettext
    privacy = ctx.profile.privacy
    controller = privacy.controller.get(state.lang) if privacy.controller else None
    text = "\n\n".join(
        part for part in (
            greeting(state, ctx),
            privacy_notice(state, ctx),
            _("Responsible for your data: {controller}").format(controller=controller)
            if controller else "",
            _("Do you agree that we use your data for this purpose?"),
        ) if part
    )
    other = "en" if state.lang == "ar" else "ar"
    return Reply(
        text,
        (Choice("accept", _("✅ I agree")), Choice("decline", _("✖ I do not agree")),
         Choice("language", LANGUAGE_NAMES[other])),
        Expects("consent", "choice"),
    )


def privacy_notice(state: State, ctx: Context) -> str:
    """What is collected, why, who sees it, the rights: the profile's notice or ours."""
    _ = ctx.tr(state.lang).gettext
    privacy = ctx.profile.privacy
    return privacy.notice.get(state.lang) if privacy.notice else _(
        "Before we begin, a word about your data:\n"
        "• What we collect: only what you give in your request ({collects}).\n"
        "• Why: to study your request and serve you, and for nothing else.\n"
        "• Who sees it: the association's social researchers and {body}; "
        "it is not shared with anyone else unless the law requires it.\n"
        "• How long: an unfinished request {drafts} days, our conversations {messages} days, "
        "a finished request and its documents {closed} days; then it is destroyed. Your data "
        "is kept encrypted.\n"
        "• Your rights, here in the chat: a copy of your data (/mydata), deleting it (/delete), "
        "correcting it or withdrawing your consent (from «🔒 My data and privacy» in the "
        "menu), at any time; we answer within 30 days. You may also complain to the Saudi "
        "Data and AI Authority (SDAIA).\n"
        "Before any question about health or finances, we will ask for your consent again."
    ).format(body=review.body(state.lang, ctx), collects=collected(state.lang, ctx),
             drafts=ctx.profile.retention.drafts_days,
             messages=ctx.profile.retention.messages_days,
             closed=ctx.profile.retention.closed_requests_days)


def contact_channels(state: State, ctx: Context) -> str:
    lines = []
    for ch in ctx.profile.contact_channels:
        label = ch.label.get(state.lang) if ch.label else ch.kind
        lines.append(f"• {label}: {ch.value}")
    return "\n".join(lines)


def working_hours_line(lang: str, ctx: Context) -> str:
    """When researchers answer ("from Sunday to Thursday, from 08:00 to 15:00"): under
    «Contact us and working hours», and above the web chat's message box."""
    _ = ctx.tr(lang).gettext
    hours = ctx.profile.working_hours
    monday = date(2026, 11, 30)  # any Monday: Python's weekday 0
    ordered = _week_order(hours.days)
    day_names = [format_date(monday + timedelta(days=d), format="EEEE", locale=lang)
                 for d in ordered]
    in_a_row = [(d + 1) % 7 for d in ordered] == list(range((ordered[0] + 1) % 7,
                                                            (ordered[0] + 1) % 7 + len(ordered)))
    names = (_("{first} to {last}").format(first=day_names[0], last=day_names[-1])
             if in_a_row and len(ordered) > 2 else
             ("، " if lang == "ar" else ", ").join(day_names))
    return _("Our social researchers answer {days}, from {start} to {end} (Riyadh time).").format(
        days=names, start=hours.start.strftime("%H:%M"), end=hours.end.strftime("%H:%M"))


def contact(state: State, ctx: Context) -> str:
    """How to reach the association and when its researchers answer (the policies list
    their channels; until now only someone who declined consent saw them)."""
    _ = ctx.tr(state.lang).gettext
    return "\n".join([
        _("To reach {association}:").format(association=ctx.profile.association.get(state.lang)),
        contact_channels(state, ctx), "",
        working_hours_line(state.lang, ctx),
        _("Outside these hours you can still write: your message waits for them."),
    ])


def _week_order(days: tuple[int, ...]) -> list[int]:
    """Working days in the order of the Saudi week, Sunday first (Python: Monday is 0)."""
    return sorted(days, key=lambda d: (d + 1) % 7)


def menu(state: State, ctx: Context, lead: str | None = None) -> Reply:
    _ = ctx.tr(state.lang).gettext
    text = _("How can we help you? Choose a number or write the option.")
    return Reply(
        f"{lead}\n\n{text}" if lead else text,
        (
            Choice("new_request", _("📝 New support request")),
            Choice("status", _("📋 Status of my requests")),
            Choice("human", _("🙋 Talk to a social researcher")),
            Choice("language", _("🌐 Language / اللغة")),
            Choice("feedback", _("💡 Suggestion or complaint")),
            Choice("contact", _("☎️ Contact us and working hours")),
            Choice("privacy", _("🔒 My data and privacy")),
            *((Choice("volunteer", _("🤝 Volunteering")),)
              if ctx.profile.volunteering.enabled else ()),
            # last, so that the numbers of the others never change
            *((Choice("provide_info", _("📎 Send requested info")),)
              if state.info_for else ()),
        ),
        Expects("menu", "choice"),
    )


LANGUAGE_NAMES = {"ar": "العربية", "en": "English"}
INFO_GIVEN = "info_given"


def info_offer(state: State, ctx: Context) -> Reply:
    """After a text in a case while information is awaited (`info_for`): one button says
    that the text is that information."""
    _ = ctx.tr(state.lang).gettext
    return Reply(_("Is this the information requested for your request {number}? If it is, "
                   "press the button (or send 1). If not, carry on writing.").format(
                       number=state.info_for),
                 (Choice(INFO_GIVEN, _("✅ Yes, this is it")),),
                 Expects(INFO_GIVEN, "choice"))


def language_menu(state: State, ctx: Context) -> Reply:
    _ = ctx.tr(state.lang).gettext
    choices = tuple(Choice(code, name) for code, name in LANGUAGE_NAMES.items())
    return Reply(
        _("Choose your language:"),
        (*choices, Choice("back", _("↩ Back"))),
        Expects("language", "choice"),
    )


def service_lines(state: State, ctx: Context) -> list[str]:
    """Each service of the profile on a line, with what it is."""
    return [f"• {s.label.get(state.lang)}" + (f": {s.description.get(state.lang)}"
                                              if s.description else "")
            for s in ctx.profile.services]


def services(state: State, ctx: Context, lead: str | None = None) -> Reply:
    _ = ctx.tr(state.lang).gettext
    text = "\n".join([_("Which service would you like to request?"), *service_lines(state, ctx)])
    choices = tuple(Choice(s.key, s.label.get(state.lang)) for s in ctx.profile.services)
    return Reply(
        f"{lead}\n\n{text}" if lead else text,
        (*choices, Choice("back", _("↩ Back"))),
        Expects("service", "choice"),
    )


def nav_choices(state: State, ctx: Context, spec: FieldSpec) -> tuple[Choice, ...]:
    """Ways out of any intake question: skip (optional fields), back, cancel, a human."""
    _ = ctx.tr(state.lang).gettext
    skip = (Choice("skip", _("⏭ Skip")),) if not spec.required else ()
    return (
        *skip,
        Choice("back", _("↩ Back")),
        Choice("cancel", _("✖ Cancel the request")),
        Choice("human", _("🙋 Social researcher")),
    )


def option_choices(state: State, spec: FieldSpec) -> tuple[Choice, ...]:
    return tuple(Choice(o.key, o.label.get(state.lang)) for o in spec.options)


ASK = {FieldKind.CHOICE: fields.N_("Please choose: {label}"),
       FieldKind.FILE: fields.N_("Please send: {label}")}
WRITE = fields.N_("Please write: {label}")


def question_text(spec: FieldSpec, lang: str, ctx: Context) -> str:
    """A field's question as a request ("نرجو كتابة الاسم الرباعي…"), not a bare label; a
    label that is already a question is asked as it is."""
    label = spec.label.get(lang)
    if label.rstrip().endswith(("؟", "?")):
        return label
    return ctx.tr(lang).gettext(ASK.get(spec.kind, WRITE)).format(label=label)


def asked_fields(service: Service, answers: dict[str, Any]) -> list[FieldSpec]:
    """The questions this beneficiary is asked, for the "(3/11)" before each: a field whose
    condition is not answered yet counts as if its first option were chosen (the usual
    path), so the count changes only when another path is taken."""
    assumed = dict(answers)
    asked = []
    for spec in service.fields:
        for key in spec.when or {}:
            if key not in assumed:
                options = service.field(key).options
                assumed[key] = options[0].key if options else None
        if all(assumed.get(key) in wanted for key, wanted in (spec.when or {}).items()):
            asked.append(spec)
    return asked


def field_question(state: State, ctx: Context, service: Service, spec: FieldSpec) -> Reply:
    """One intake question, with its position, a hint, and the current answer if any."""
    _ = ctx.tr(state.lang).gettext
    draft = state.draft
    assert draft is not None
    asked = asked_fields(service, draft.answers)
    number = asked.index(spec) + 1 if spec in asked else service.fields.index(spec) + 1
    lines = [f"({number}/{len(asked)}) " + question_text(spec, state.lang, ctx)]
    if spec.hint:
        lines.append(spec.hint.get(state.lang))
    hint = kinds.hint(spec, state.lang, ctx)
    if hint:
        lines.append(hint)
    if not spec.required:
        lines.append(_("This answer is optional; you may skip it."))
    if spec.key in draft.answers and draft.answers[spec.key] is not None:
        lines.append(_("Current answer: {value}").format(
            value=kinds.for_beneficiary(spec, draft.answers[spec.key], state.lang, ctx)))
    choices = option_choices(state, spec) if spec.kind is FieldKind.CHOICE else ()
    contact = _("📱 Share my number") if spec.kind is FieldKind.PHONE else None
    return Reply("\n".join(lines), choices + nav_choices(state, ctx, spec),
                 Expects(spec.key, spec.kind.value), contact, numbered=len(choices))


def invalid_answer(state: State, ctx: Context, error: fields.Invalid, question: Reply,
                   spec: FieldSpec) -> Reply:
    """A kind explanation of what is wrong, an example, and the same question again."""
    _ = ctx.tr(state.lang).gettext
    problem = _(fields.MESSAGES[error.code]).format(**error.params)
    example = kinds.example(spec.kind)
    lines = [problem]
    if example:
        lines.append(_("Example of a correct answer: {example}").format(example=example))
    return replace(question, text="\n".join(lines) + "\n\n" + question.text)


def gregorian(state: State, day: date) -> str:
    return kinds.gregorian(day, state.lang)


def gregorian_weekday(lang: str, day: date) -> str:
    """A weekday and date, such as "الأحد، 29 نوفمبر"."""
    return format_date(day, format="EEEE d MMMM", locale=lang)


def both_calendars(state: State, ctx: Context, day: date) -> str:
    """A day in Hijri (Umm al-Qura) and Gregorian, in the beneficiary's language."""
    return kinds.both_calendars(day, state.lang, ctx)


def summary(state: State, ctx: Context, service: Service, shown: list[FieldSpec]) -> Reply:
    """Every answer, then the accuracy confirmation (the policy's إقرار)."""
    _ = ctx.tr(state.lang).gettext
    draft = state.draft
    assert draft is not None
    lines = [_("Please review your request for: {service}").format(
        service=service.label.get(state.lang)), ""]
    for spec in shown:
        value = kinds.for_beneficiary(spec, draft.answers.get(spec.key), state.lang, ctx)
        lines.append(f"• {spec.label.get(state.lang).rstrip('؟?')}: {value}")
    lines += ["", acknowledgment_text(state, ctx)]
    typed = ctx.profile.signature.mode == "typed_name"
    confirm = _("✅ I confirm and sign") if typed else _("✅ I confirm")
    return Reply(
        "\n".join(lines),
        (Choice("confirm", confirm), Choice("edit", _("✏️ Edit an answer")),
         Choice("back", _("↩ Back")), Choice("cancel", _("✖ Cancel the request")),
         Choice("human", _("🙋 Social researcher"))),
        Expects("acknowledgment", "confirm"),
    )


def guardian(state: State, ctx: Context) -> str | None:
    """The guardian applying for a child, by the name they gave, or None."""
    key = ctx.profile.signature.guardian_field
    value = state.draft.answers.get(key) if key and state.draft else None
    return str(value) if value else None


def acknowledgment_version(state: State, ctx: Context) -> str:
    """The version recorded with a signature: the wording's, and the language."""
    if guardian(state, ctx):
        return f"{GUARDIAN_ACK_VERSION}/{state.lang}"
    own = ctx.profile.acknowledgment
    return f"{own.version if own else ACK_VERSION}/{state.lang}"


def acknowledgment_text(state: State, ctx: Context) -> str:
    """The policy's إقرار: the association's own wording, or Wasl's; a guardian's names
    them and the child they answer for."""
    _ = ctx.tr(state.lang).gettext
    name = guardian(state, ctx)
    if name:
        assert state.draft is not None
        child = state.draft.answers.get(ctx.profile.signature.name_field or "full_name")
        return _("Acknowledgment: I, {guardian}, the guardian of {child}, confirm that the "
                 "information above is correct and complete, and I am directly responsible "
                 "for its accuracy.").format(guardian=name, child=child or "-")
    if ctx.profile.acknowledgment is not None:
        return ctx.profile.acknowledgment.text.get(state.lang)
    return _(
        "Acknowledgment: I confirm that the information above is correct and complete, "
        "and I am directly responsible for its accuracy."
    )


def signature_prompt(state: State, ctx: Context, lead: str | None = None) -> Reply:
    _ = ctx.tr(state.lang).gettext
    text = _("To sign, please type your full name exactly as you wrote it in the request.")
    return Reply(
        f"{lead}\n\n{text}" if lead else text,
        (Choice("back", _("↩ Back")), Choice("cancel", _("✖ Cancel the request")),
         Choice("human", _("🙋 Social researcher"))),
        Expects("signature", "confirm"),
    )


def edit_menu(state: State, ctx: Context, shown: list[FieldSpec]) -> Reply:
    _ = ctx.tr(state.lang).gettext
    choices = tuple(Choice(f.key, f.label.get(state.lang)) for f in shown)
    return Reply(_("Which answer would you like to change?"),
                 (*choices, Choice("back", _("↩ Back"))), Expects("edit", "choice"))


def sensitive_consent(state: State, ctx: Context, lead: str | None = None) -> Reply:
    """Explicit consent for health or financial questions, asked once, before the first one."""
    _ = ctx.tr(state.lang).gettext
    text = _(
        "The next questions ask about health or financial matters, which the law treats as "
        "sensitive. Your answers will be used only to study your request and will be seen only "
        "by the social researchers and {body}. Do you agree to answer them?"
    ).format(body=review.body(state.lang, ctx))
    return Reply(
        f"{lead}\n\n{text}" if lead else text,
        (Choice("accept", _("✅ I agree")), Choice("decline", _("✖ I do not agree")),
         Choice("human", _("🙋 Social researcher")), Choice("cancel", _("✖ Cancel the request"))),
        Expects("sensitive_consent", "choice"),
    )


def apology(_: Callable[[str], str]) -> str:
    """When an event could not be handled: nothing of it was kept."""
    return _("Sorry, something went wrong on our side and your last message was not "
             "saved. Please send it again.")


def offer_human(state: State, ctx: Context, lead: str) -> Reply:
    _ = ctx.tr(state.lang).gettext
    text = _(
        "It seems this question is not clear enough, and that is alright. "
        "Would you like a social researcher to help you?"
    )
    return Reply(
        f"{lead}\n\n{text}",
        (Choice("human", _("🙋 Yes, talk to a researcher")),
         Choice("retry", _("↩ No, let me try again"))),
        Expects("escalate", "choice"),
    )


def resume(state: State, ctx: Context, service: Service, reminder: bool = False) -> Reply:
    """Back to an unfinished request (a welcome back, or the one reminder): how far it
    got, how long it is kept, and continue or start again."""
    _ = ctx.tr(state.lang).gettext
    draft = state.draft
    assert draft is not None
    done = sum(1 for f in service.fields if f.key in draft.answers)
    lead = (_("Your request for {service} is waiting for you ({done} of {total} answers "
              "given).") if reminder else
            _("Welcome back! You have an unfinished request for {service} ({done} of {total} "
              "answers given).")).format(
        service=service.label.get(state.lang), done=done, total=len(service.fields))
    text = lead + " " + _(
        "Your answers are kept for {days} days after your last message. Would you like to "
        "continue where you left off, or start again?").format(
            days=ctx.profile.retention.drafts_days)
    choices = (Choice("continue", _("▶ Continue where I left off")),
               Choice("restart", _("🔄 Start again")))
    if reminder:
        choices += (Choice(NO_REMINDERS, _("🔕 No more reminders")),)
    return Reply(text, choices, Expects("resume", "choice"))


NO_REMINDERS = "no_reminders"  # the reminder's button: no other reminder will come


def help_text(state: State, ctx: Context) -> str:
    _ = ctx.tr(state.lang).gettext
    return _(
        "You can send these commands at any time:\n"
        "/menu: the main menu\n"
        "/status: the status of your requests\n"
        "/cancel: cancel the request you are filling in\n"
        "/language: change the language\n"
        "/help: this help\n"
        "You can answer a question with options by typing the option's number or its name."
    ) + "\n" + _("/stop: no more announcements from the association; /subscribe: receive them "
                 "again. Replies about your requests always reach you.") + "\n" + _(
        "/mydata: a copy of all your data with us; /delete: delete your data (you are asked "
        "first)")


STATUS_WORDS = {
    "submitted": fields.N_("Received, waiting for social research"),
    "under_review": fields.N_("Being studied by the social researcher"),
    "needs_info": fields.N_("Waiting for more information from you"),
    "committee": fields.N_("With the research committee"),
    "approved": fields.N_("Approved"),
    "rejected": fields.N_("Rejected"),
    "service_delivered": fields.N_("Service delivered"),
    "closed": fields.N_("Closed"),
    "corrected": fields.N_("An answer corrected at your request"),  # a step, never a status
}
BODY_STATUS = fields.N_("With the competent body in the association")  # Al-Huda's words


def status_words(status: str, ctx: Context) -> str:
    """A request's status as its beneficiary reads it (a msgid), in the policy's words:
    with the research committee, or with "the competent body"."""
    if status == "committee" and ctx.profile.decision.body == "competent_body":
        return BODY_STATUS
    return STATUS_WORDS.get(status, status)


# The commands every channel understands, with the description Telegram shows in its menu.
COMMANDS = [
    ("start", fields.N_("Start, or continue an unfinished request")),
    ("menu", fields.N_("Main menu")),
    ("status", fields.N_("Status of my requests")),
    ("cancel", fields.N_("Cancel the request I am filling in")),
    ("language", fields.N_("Change the language")),
    ("help", fields.N_("Help")),
    ("stop", fields.N_("Stop announcements")),
    ("subscribe", fields.N_("Receive announcements again")),
    ("mydata", fields.N_("A copy of my data")),
]
