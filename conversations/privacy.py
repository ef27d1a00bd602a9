"""The beneficiary's rights over their data (the PDPL), as the privacy notice promises them:
the "My data and privacy" menu, what asks for a right in their own words, and the copy of
everything Wasl holds about them, in words they read (sections of the PDF) from the same
facts as the machine-readable copy (JSON). Pure: the handler gathers the facts
(handlers/mydata.py) and makes the files."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from babel.dates import format_datetime

from conversations import kinds, render, transcript
from conversations.base import RIYADH, Choice, Context, Event, Expects, Reply, match_choice
from conversations.state import (
    DeleteData,
    ExportData,
    PlanDeletion,
    SetAnnouncements,
    State,
    Step,
    Transition,
    WithdrawConsent,
)
from conversations.text import fold

N_ = str  # marks a message for extraction; translated where it is shown

COPY, NOTICE, REQUEST, DELETE = "my_data", "privacy_notice", "privacy_request", "delete_data"
CONFIRM_DELETE, KEEP = "confirm_delete", "keep_data"
WITHDRAW = "withdraw_consent"
CORRECT = "correct_data"  # asked in words; the menu's button is REQUEST
# what consent may be withdrawn: announcements, the health and financial questions, and the
# use of one's data itself (which can only mean destroying it)
ANNOUNCEMENTS, SENSITIVE, PROCESSING = "withdraw_announcements", "withdraw_sensitive", "withdraw_all"
VOLUNTEERING = "withdraw_volunteering"
MENU_CHOICE = "privacy"  # the main menu's item


def menu(state: State, ctx: Context, lead: str | None = None) -> Reply:
    """The rights, how to use each one here, and the way to each."""
    _ = ctx.tr(state.lang).gettext
    text = _(
        "Your data with {association} is yours. From here:\n"
        "• A copy of all your data: «📄 A copy of my data», or send /mydata. It comes as a "
        "file to read (PDF) and a file for other systems (JSON).\n"
        "• Deleting your data: «🗑 Delete my data», or send /delete. You are told first what "
        "is deleted and what must be kept, and asked to confirm.\n"
        "• Withdrawing a consent (announcements, the health and financial questions, or the "
        "use of your data): «✋ Withdraw a consent». You are told first what follows.\n"
        "• Correcting your data: «✏️ Correct my data». Choose the request and the answer, "
        "and send the right one; staff check it against your documents and reply within "
        "30 days.\n"
        "• Announcements: /stop stops them, /subscribe brings them back.\n"
        "• The privacy notice in full: «📜 Privacy notice»."
    ).format(association=ctx.profile.association.get(state.lang))
    return Reply(
        f"{lead}\n\n{text}" if lead else text,
        (Choice(COPY, _("📄 A copy of my data")),
         Choice(DELETE, _("🗑 Delete my data")),
         Choice(WITHDRAW, _("✋ Withdraw a consent")),
         Choice(REQUEST, _("✏️ Correct my data")),
         Choice(NOTICE, _("📜 Privacy notice")),
         Choice("back", _("↩ Back"))),
        Expects(MENU_CHOICE, "choice"),
    )


def open_menu(state: State, ctx: Context) -> Transition:
    state.step = Step.PRIVACY
    return Transition(state, [menu(state, ctx)])


def wants(event: Event, ctx: Context, exact: bool = False) -> str | None:
    """A right asked for in words ("أبغى نسخة من بياناتي", "my data"): COPY, or MENU_CHOICE
    for the privacy menu; None for anything else. Where free text is expected, only the
    phrase alone counts."""
    if event.kind != "text":
        return None
    command = event.text.strip().lower().split("@")[0]
    if command in ("/mydata", "/delete"):
        return COPY if command == "/mydata" else DELETE
    if len(event.text.split()) > 7:
        return None
    typed = " " + " ".join(re.sub(r"[^\w\s]", " ", fold(event.text)).split()) + " "
    for found, words in RIGHTS_IN_WORDS:
        phrases = {f" {p} " for p in ctx.phrases(words)}
        if typed in phrases or (not exact and any(p in typed for p in phrases)):
            return found
    return None


# each right in words, the most particular first ("copy of my data" before "my data")
RIGHTS_IN_WORDS = (
    (DELETE, N_("delete my data,erase my data,remove my data,delete my information,"
                "delete everything about me")),
    (WITHDRAW, N_("withdraw my consent,withdraw consent,cancel my consent,"
                  "I withdraw my consent")),
    (CORRECT, N_("correct my data,change my mobile number,my data is wrong,"
                 "update my data,correct my name")),
    (COPY, N_("copy of my data,my data copy,send me my data,what do you hold about me,"
              "what data do you have about me,download my data")),
    (MENU_CHOICE, N_("my data,my privacy,privacy,my personal data,data protection")),
)


def on_menu(state: State, event: Event, ctx: Context) -> Transition:
    """A choice of the privacy menu."""
    shown = menu(state, ctx)
    picked = match_choice(event, shown.choices)
    if picked == COPY:
        return Transition(state, [], [ExportData()])
    if picked == DELETE:
        return ask_to_delete(state)
    if picked == WITHDRAW:
        state.step = Step.WITHDRAW
        return Transition(state, [withdraw_menu(state, ctx)])
    if picked == NOTICE:
        return Transition(state, [menu(state, ctx, render.privacy_notice(state, ctx))])
    if picked == REQUEST:
        from conversations import correction  # (it shows this menu when it ends)

        return correction.start(state, ctx)
    if picked == "back":
        state.step = Step.MENU
        return Transition(state, [render.menu(state, ctx)])
    _ = ctx.tr(state.lang).gettext
    lead = _("Sorry, I did not understand. Please choose one of the options by its number.")
    return Transition(state, [menu(state, ctx, lead)])


def withdraw_menu(state: State, ctx: Context, lead: str | None = None) -> Reply:
    """Each consent that may be withdrawn, with what follows from withdrawing it."""
    _ = ctx.tr(state.lang).gettext
    text = _(
        "Which consent do you want to withdraw?\n"
        "• Announcements: the association's announcements stop; replies about your requests "
        "still reach you.\n"
        "• The health and financial questions: they are no longer asked, and the answers "
        "to them in an unfinished request are removed. A service that needs them cannot be "
        "requested until you agree again; requests already submitted are studied as they "
        "were signed.\n"
        "• The use of your data: the association can then no longer serve you, so your data "
        "is deleted (you are told first what must be kept).")
    volunteering = ctx.profile.volunteering.enabled
    if volunteering:
        text += "\n" + _("• Volunteering: your volunteer sign-up is deleted, and you are no "
                         "longer contacted about volunteering.")
    return Reply(f"{lead}\n\n{text}" if lead else text,
                 (Choice(ANNOUNCEMENTS, _("📢 Announcements")),
                  Choice(SENSITIVE, _("🩺 Health and financial questions")),
                  Choice(PROCESSING, _("🗂 The use of my data")),
                  *((Choice(VOLUNTEERING, _("🤝 Volunteering")),) if volunteering else ()),
                  Choice("back", _("↩ Back"))),
                 Expects(WITHDRAW, "choice"))


def on_withdraw(state: State, event: Event, ctx: Context) -> Transition:
    shown = withdraw_menu(state, ctx)
    picked = match_choice(event, shown.choices)
    _ = ctx.tr(state.lang).gettext
    if picked == ANNOUNCEMENTS:
        state.step = Step.PRIVACY
        from conversations import broadcast

        return Transition(state, [broadcast.stopped(state.lang, ctx), menu(state, ctx)],
                          [SetAnnouncements(False)])
    if picked == SENSITIVE:
        state.step, state.sensitive_consent = Step.PRIVACY, False
        if state.draft is not None:
            service = ctx.profile.service(state.draft.service)
            secret = {f.key for f in (service.fields if service else ()) if f.sensitive}
            state.draft.answers = {k: v for k, v in state.draft.answers.items() if k not in secret}
            state.draft.sensitive_declined = True
        lead = _("Your consent to the health and financial questions is withdrawn. They will "
                 "not be asked again unless you agree when a request needs them.")
        return Transition(state, [menu(state, ctx, lead)],
                          [WithdrawConsent(render.SENSITIVE_PURPOSE)])
    if picked == PROCESSING:
        return ask_to_delete(state)
    if picked == VOLUNTEERING:
        state.step = Step.PRIVACY
        lead = _("Your volunteer sign-up is withdrawn and its details deleted. Thank you for "
                 "your wish to help.")
        return Transition(state, [menu(state, ctx, lead)], [WithdrawConsent(render.VOLUNTEER_PURPOSE)])
    if picked == "back":
        state.step = Step.PRIVACY
        return Transition(state, [menu(state, ctx)])
    lead = _("Sorry, I did not understand. Please choose one of the options by its number.")
    return Transition(state, [withdraw_menu(state, ctx, lead)])


def ask_to_delete(state: State) -> Transition:
    """What would be kept is looked up (PlanDeletion); the question comes with it."""
    if state.step != Step.DELETING:  # back to a question of a request, or to the menus
        state.return_to = state.step if state.step in (Step.FIELD, Step.SUMMARY,
                                                       Step.CASE) else (
            Step.PRIVACY if state.step in (Step.PRIVACY, Step.WITHDRAW) else Step.MENU)
    state.step = Step.DELETING
    return Transition(state, [], [PlanDeletion()])


def delete_question(state: State, ctx: Context, held: tuple[tuple[str, str], ...],
                    lead: str | None = None) -> Reply:
    """What destruction removes, what it must keep and why, and the question."""
    _ = ctx.tr(state.lang).gettext
    text = _(
        "Deleting your data removes, for good: your answers and documents, your requests, "
        "your conversations with the association and with the social researchers, your "
        "suggestions and complaints, your consents and your account with us. Your survey "
        "ratings stay, without your name or comments. A record that the deletion was done "
        "is kept, with nothing about you in it.")
    if held:
        lines = "\n".join(f"• {number}: {_(HOLD_REASONS.get(status, HOLD_REASONS['committee']))}"
                           for number, status in held)
        text += "\n\n" + _(
            "These requests must be kept until they are finished, as the association's "
            "policy requires; we keep only what they need, and you will be told when they "
            "are deleted (within 30 days, or 60 with notice):\n{requests}").format(requests=lines)
    text += "\n\n" + _("Do you want your data deleted?")
    return Reply(f"{lead}\n\n{text}" if lead else text,
                 (Choice(CONFIRM_DELETE, _("🗑 Yes, delete my data")),
                  Choice(KEEP, _("↩ No, keep it"))),
                 Expects("delete", "confirm"))


HOLD_REASONS = {
    "committee": N_("being decided by the committee"),
    "approved": N_("approved, the service not yet provided"),
}


def on_deleting(state: State, event: Event, ctx: Context) -> Transition:
    """The answer to the question: destroy, or keep everything and go back."""
    shown = delete_question(state, ctx, ())
    picked = match_choice(event, shown.choices)
    if picked == CONFIRM_DELETE:
        return Transition(state, [], [DeleteData()])
    if picked == KEEP or (event.kind == "text" and fold(event.text.strip()) in (fold("لا"), "no")):
        _ = ctx.tr(state.lang).gettext
        state.step, state.return_to = state.return_to or Step.PRIVACY, None
        lead = _("Nothing was deleted.")
        if state.step == Step.PRIVACY:
            return Transition(state, [menu(state, ctx, lead)])
        from conversations import journey

        return Transition(state, [Reply(lead), journey.prompt(state, ctx)])
    return Transition(state, [], [PlanDeletion()])  # asked again, with what would be kept


def deleted(state: State, ctx: Context, held: tuple[tuple[str, str], ...]) -> list[Reply]:
    """Done: what was deleted, what was kept and why, and how to come back."""
    _ = ctx.tr(state.lang).gettext
    text = _("Your data has been deleted from {association}'s system.").format(
        association=ctx.profile.association.get(state.lang))
    if held:
        text += "\n" + _("Kept until they are finished, as the policy requires: {numbers}. "
                          "Replies about them still reach you here.").format(
                              numbers=", ".join(n for n, _s in held))
    text += "\n\n" + _("If you need the association again, send any message to start anew.")
    return [Reply(text)]


def extended(due: date, lang: str, ctx: Context) -> Reply:
    """The one extension of a request about their data, told with its reason and date."""
    _ = ctx.tr(lang).gettext
    return Reply(_("Your request about your data needs more time: a request of yours is still "
                   "being studied, as the association's policy requires. It will be done by "
                   "{day}.").format(day=kinds.both_calendars(due, lang, ctx)))


def copy_sent(state: State, ctx: Context, files: tuple[int, int] | None,
              again: Reply) -> list[Reply]:
    """The two files of the copy, each with its caption, then what they were asked before
    (`again`)."""
    _ = ctx.tr(state.lang).gettext
    if files is None:
        return [Reply(_("Sorry, the copy could not be made just now. Please try again in a "
                        "few minutes.")), again]
    readable, machine = files
    return [
        Reply(_("A copy of all the data {association} holds about you, made just now. Keep "
                "it safe: it holds your personal data.").format(
                    association=ctx.profile.association.get(state.lang)),
              document_id=readable),
        Reply(_("The same data for other systems (JSON)."), document_id=machine),
        again,
    ]


# --- the copy -----------------------------------------------------------------------------
LOG_LINES = 300  # the conversation log's latest messages in the readable copy
@dataclass(frozen=True)
class Section:
    """A part of the readable copy: a title, label-value rows, and lines (a transcript)."""

    title: str
    rows: tuple[tuple[str, str], ...] = ()
    lines: tuple[str, ...] = ()


def when(value: str | None, lang: str) -> str:
    """A stored time (ISO, UTC) as the beneficiary reads it: Riyadh date and time."""
    if not value:
        return "-"
    moment = datetime.fromisoformat(value).astimezone(RIYADH)
    return format_datetime(moment, "d MMMM y، HH:mm" if lang == "ar" else "d MMMM y, HH:mm",
                           tzinfo=RIYADH, locale=lang)


def _day(value: str | None, lang: str, ctx: Context) -> str:
    return kinds.both_calendars(date.fromisoformat(value), lang, ctx) if value else "-"


def _answer(service_key: str, key: str, value: Any, lang: str, ctx: Context) -> tuple[str, str]:
    service = ctx.profile.service(service_key)
    spec = next((f for f in service.fields if f.key == key), None) if service else None
    label = spec.label.get(lang) if spec else key
    return label, kinds.for_staff(spec, value, full=True, lang=lang, ctx=ctx)


def sections(facts: dict[str, Any], lang: str, ctx: Context) -> list[Section]:
    """The readable copy of `facts` (handlers/mydata.py gathers them; the JSON copy is the
    facts themselves), in the beneficiary's language."""
    _ = ctx.tr(lang).gettext
    you = facts["you"]
    out = [Section(
        _("A copy of your data with {association}").format(
            association=ctx.profile.association.get(lang)),
        ((_("Made on"), when(facts["made_at"], lang)),
         (_("With us since"), when(you["since"], lang)),
         (_("Language"), render.LANGUAGE_NAMES.get(you["language"], you["language"])),
         (_("File number"), you["file_number"] or "-"),
         (_("Announcements"), _("stopped since {when}").format(
             when=when(you["announcements_off_at"], lang)) if you["announcements_off_at"]
          else _("on"))),
    )]
    out.append(Section(_("How you reach us"), tuple(
        (channel_name(a["channel"], lang, ctx), _("since {when}").format(when=when(a["since"], lang)))
        for a in facts["accounts"])))
    out.append(Section(_("Your consents"), tuple(
        (_(CONSENT_NAMES[c["purpose"]]) if c["purpose"] in CONSENT_NAMES else c["purpose"],
         _("given {when} ({version})").format(when=when(c["given_at"], lang), version=c["version"])
         + (" · " + _("withdrawn {when}").format(when=when(c["withdrawn_at"], lang))
            if c["withdrawn_at"] else ""))
        for c in facts["consents"])))
    for r in facts["requests"]:
        rows = [(_("Service"), _service(r["service"], lang, ctx)),
                (_("Status"), _status(r["status"], lang, ctx)),
                (_("Submitted"), when(r["submitted_at"], lang)),
                (_("Answer expected"), _day(r["decision_due"], lang, ctx))]
        rows += [_answer(r["service"], k, v, lang, ctx) for k, v in r["answers"].items()]
        rows += [(_("Document"), f"{d['name']} ({d['mime']}, {when(d['received_at'], lang)})")
                 for d in r["documents"]]
        ack = r["acknowledgment"]
        if ack:
            rows += [(_("Your acknowledgment"), ack["text"]),
                     (_("Signed"), f"{ack['signature'] or '-'} · {when(ack['at'], lang)}"),
                     (_("Its fingerprint (SHA-256)"), ack["sha256"])]
        if r["registration"]:
            rows.append((_("Registered"), f"{r['registration']['file_number']} · "
                         f"{when(r['registration']['at'], lang)}"))
        if r["decision"]:
            d = r["decision"]
            rows.append((_("Decision"), _status(d["outcome"], lang, ctx)
                         + (f": {d['reason']}" if d["reason"] else "")
                         + f" · {_day(d['meeting_date'], lang, ctx)}"))
        if r["delivery"]:
            d = r["delivery"]
            amount = " ".join(x for x in (d["amount"], d["unit"]) if x)
            rows.append((_("Service provided"), f"{amount or '-'} · {when(d['at'], lang)}"))
        rows += [(_("Step"), f"{_status(s['status'], lang, ctx)} · {when(s['at'], lang)}")
                 for s in r["history"]]
        out.append(Section(_("Request {number}").format(number=r["number"]), tuple(rows)))
    draft = facts["unfinished_request"]
    if draft:
        out.append(Section(_("Your unfinished request ({service})").format(
            service=_service(draft["service"], lang, ctx)),
            tuple(_answer(draft["service"], k, v, lang, ctx) for k, v in draft["answers"].items())))
    who = {"you": _("You"), "researcher": _("Social researcher"), "bot": _("The bot")}
    for c in facts["conversations_with_researchers"]:
        out.append(Section(
            _("Conversation with a social researcher (case {case})").format(case=c["case"]),
            ((_("Opened"), when(c["opened_at"], lang)), (_("Closed"), when(c["closed_at"], lang))),
            tuple(f"{who[m['from']]} ({when(m['at'], lang)}): {transcript.line(m['text'], lang, ctx)}"
                  for m in c["messages"])))
    if facts["surveys"]:
        out.append(Section(_("Surveys you answered with your name"), tuple(
            (when(s["answered_at"], lang), f"{s['rating']}/5" + (f" · {s['comment']}"
                                                                  if s["comment"] else ""))
            for s in facts["surveys"])))
    if facts["suggestions_and_complaints"]:
        out.append(Section(_("Your suggestions and complaints"), tuple(
            (f["ticket"], f"{when(f['at'], lang)} · {f['text']}")
            for f in facts["suggestions_and_complaints"])))
    for v in facts.get("volunteering") or ():
        specs = {f.key: f for f in ctx.profile.volunteering.fields}
        out.append(Section(_("Your volunteer sign-up ({when})").format(
            when=when(v["signed_up_at"], lang)), tuple(
            (specs[k].label.get(lang) if k in specs else k,
             kinds.for_beneficiary(specs[k], value, lang, ctx) if k in specs else str(value))
            for k, value in v["answers"].items())))
    if facts.get("data_requests"):
        services = {r["number"]: r["service"] for r in facts["requests"]}
        out.append(Section(_("Your requests about your data"), tuple(
            _data_request(p, services, lang, ctx) for p in facts["data_requests"])))
    log = facts["conversation_log"]
    shown = [f"{who[m['from']]} ({when(m['at'], lang)}): {transcript.line(m['text'], lang, ctx)}"
             for m in log[-LOG_LINES:]]
    if len(log) > LOG_LINES:  # a file to read stays readable; the JSON holds every message
        shown.insert(0, _("The latest {shown} of your {count} messages; all of them are in the "
                          "JSON file.").format(shown=LOG_LINES, count=len(log)))
    out.append(Section(_("Your messages with the bot"), (), tuple(shown)))
    out.append(Section(_("Your rights"), (), (
        _("You may ask for this copy at any time (/mydata), and ask for your data to be "
          "corrected or deleted, or withdraw your consent, from «🔒 My data and privacy» in "
          "the menu. A complaint may also go to the Saudi Data and AI Authority (SDAIA)."),)))
    return out


DATA_REQUESTS = {"deletion": N_("Deletion, once the requests the policy holds are finished"),
                 "correction": N_("Correction")}
DATA_OUTCOMES = {"approved": N_("approved"), "rejected": N_("not approved")}


def _data_request(p: dict[str, Any], services: dict[str, str], lang: str,
                  ctx: Context) -> tuple[str, str]:
    """A request about their data: what, when, due, and how it ended."""
    _ = ctx.tr(lang).gettext
    what = _(DATA_REQUESTS.get(p["kind"], p["kind"]))
    fix = p.get("correction")
    if fix and fix.get("request"):
        label, value = _answer(services.get(fix["request"], ""), fix["answer"], fix["value"],
                               lang, ctx)
        what += f": {fix['request']} · {label} → {value}"
    if p["status"] == "open":
        state = _("due {day}").format(day=_day(p["due_on"], lang, ctx))
    else:
        outcome = (fix or {}).get("outcome")
        state = (_(DATA_OUTCOMES[outcome]) if outcome in DATA_OUTCOMES else _("done")) + \
            f" · {when(p['closed_at'], lang)}"
    return f"#{p['id']} · {when(p['asked_at'], lang)}", f"{what} · {state}"


CONSENT_NAMES = {
    render.CONSENT_PURPOSE: N_("Using your data to study your requests and serve you"),
    render.SENSITIVE_PURPOSE: N_("Questions about health and finances"),
    render.VOLUNTEER_PURPOSE: N_("Keeping your details for volunteering"),
}


def channel_name(channel: str, lang: str, ctx: Context) -> str:
    _ = ctx.tr(lang).gettext
    return {"telegram": "Telegram", "whatsapp": "WhatsApp", "web": _("The web chat"),
            "sim": _("The simulator"), "console": _("The console")}.get(channel, channel)


def _service(key: str, lang: str, ctx: Context) -> str:
    service = ctx.profile.service(key)
    return service.label.get(lang) if service else key


def _status(status: str, lang: str, ctx: Context) -> str:
    return ctx.tr(lang).gettext(render.status_words(status, ctx))
