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

from conversations import intake, kinds, render, transcript
from conversations.base import RIYADH, Choice, Context, Event, Expects, Reply, match_choice
from conversations.state import ExportData, State, Step, Transition
from conversations.text import fold

N_ = str  # marks a message for extraction; translated where it is shown

COPY, NOTICE, REQUEST = "my_data", "privacy_notice", "privacy_request"
MENU_CHOICE = "privacy"  # the main menu's item


def menu(state: State, ctx: Context, lead: str | None = None) -> Reply:
    """The rights, how to use each one here, and the way to each."""
    _ = ctx.tr(state.lang).gettext
    text = _(
        "Your data with {association} is yours. From here:\n"
        "• A copy of all your data: «📄 A copy of my data», or send /mydata. It comes as a "
        "file to read (PDF) and a file for other systems (JSON).\n"
        "• Correcting or deleting your data, or withdrawing your consent: «🙋 Correct, "
        "delete or withdraw consent». A social researcher takes up your request; it is "
        "answered within 30 days.\n"
        "• Announcements: /stop stops them, /subscribe brings them back.\n"
        "• The privacy notice in full: «📜 Privacy notice»."
    ).format(association=ctx.profile.association.get(state.lang))
    return Reply(
        f"{lead}\n\n{text}" if lead else text,
        (Choice(COPY, _("📄 A copy of my data")),
         Choice(REQUEST, _("🙋 Correct, delete or withdraw consent")),
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
    if event.text.strip().lower().split("@")[0] == "/mydata":
        return COPY
    if len(event.text.split()) > 7:
        return None
    typed = " " + " ".join(re.sub(r"[^\w\s]", " ", fold(event.text)).split()) + " "
    for lang in ("ar", "en"):
        _ = ctx.tr(lang).gettext
        for found, words in (
                (COPY, _("copy of my data,my data copy,send me my data,what do you hold about me,"
                         "what data do you have about me,download my data")),
                (MENU_CHOICE, _("my data,my privacy,privacy,my personal data,data protection"))):
            phrases = {f" {' '.join(fold(w).split())} " for w in words.split(",") if w.strip()}
            if typed in phrases or (not exact and any(p in typed for p in phrases)):
                return found
    return None


def on_menu(state: State, event: Event, ctx: Context) -> Transition:
    """A choice of the privacy menu."""
    shown = menu(state, ctx)
    picked = match_choice(event, shown.choices)
    if picked == COPY:
        return Transition(state, [], [ExportData()])
    if picked == NOTICE:
        return Transition(state, [menu(state, ctx, render.privacy_notice(state, ctx))])
    if picked == REQUEST:
        return intake.escalate(state, "privacy", "menu")
    if picked == "back":
        state.step = Step.MENU
        return Transition(state, [render.menu(state, ctx)])
    _ = ctx.tr(state.lang).gettext
    lead = _("Sorry, I did not understand. Please choose one of the options by its number.")
    return Transition(state, [menu(state, ctx, lead)])


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
    out.append(Section(_("Your messages with the bot"), (), tuple(
        f"{who[m['from']]} ({when(m['at'], lang)}): {transcript.line(m['text'], lang, ctx)}"
        for m in facts["conversation_log"])))
    out.append(Section(_("Your rights"), (), (
        _("You may ask for this copy at any time (/mydata), and ask for your data to be "
          "corrected or deleted, or withdraw your consent, from «🔒 My data and privacy» in "
          "the menu. A complaint may also go to the Saudi Data and AI Authority (SDAIA)."),)))
    return out


CONSENT_NAMES = {
    render.CONSENT_PURPOSE: N_("Using your data to study your requests and serve you"),
    render.SENSITIVE_PURPOSE: N_("Questions about health and finances"),
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
