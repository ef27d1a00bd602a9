"""The social researcher's desk: staff commands and what the desk says, to staff
and to beneficiaries. Pure: parsing and wording only; handlers/staff.py acts.

Staff commands work as text on every channel (and as buttons where there are
buttons): /queue, /claim N, /release, /transfer NAME, /cases, /switch N,
/note TEXT, /canned [KEY], /file [full], /request NUMBER STATUS [note],
/close, /help; admins also /staff, /audit, /report and the announcement
commands (/broadcast, /broadcasts and the buttons that compose one). Anything else a researcher
writes goes to the beneficiary of their current case.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from conversations import render
from conversations.base import RIYADH, CaseView, Choice, Context, Event, Reply, StaffView
from conversations.fields import N_
from conversations.profile import WorkingHours
from conversations.text import ascii_digits, fold

RESEARCHER, ADMIN = "researcher", "admin"
EVERYONE = frozenset({RESEARCHER, ADMIN})
ADMINS = frozenset({ADMIN})


@dataclass(frozen=True)
class CommandSpec:
    """One staff command: who may use it. Typed (/claim 3) or pressed (claim:3)."""

    name: str
    roles: frozenset[str] = EVERYONE


# The one table of staff commands. Every entry point (private chat, the staff group and
# its topics, buttons) asks `allowed` about it before anything runs (handlers/staff.py).
COMMAND_TABLE: dict[str, CommandSpec] = {spec.name: spec for spec in (
    *(CommandSpec(name) for name in (
        "/queue", "/claim", "/release", "/transfer", "/cases", "/switch", "/note", "/canned",
        "/file", "/doc", "/request", "/close", "/help", "/say")),
    *(CommandSpec(name, ADMINS) for name in (
        "/staff", "/audit", "/report",
        # announcements: typed, or pressed as buttons while composing and following one
        "/broadcast", "/broadcasts", "/broadcast_cancel", "/bc_pick", "/bc_add", "/bc_field",
        "/bc_send", "/bc_pause", "/bc_resume", "/bc_cancel")),
)}
STAFF_COMMANDS = tuple(COMMAND_TABLE)
ADMIN_ONLY = frozenset(name for name, spec in COMMAND_TABLE.items() if spec.roles == ADMINS)


def allowed(role: str, name: str) -> bool:
    """The authorization check: may a staff member with this role run this command?"""
    spec = COMMAND_TABLE.get(name)
    return spec is not None and role in spec.roles


# The request lifecycle (docs/architecture.md): which status may follow which.
LIFECYCLE: dict[str, tuple[str, ...]] = {
    "submitted": ("under_review", "needs_info", "committee", "rejected", "closed"),
    "under_review": ("needs_info", "committee", "rejected", "closed"),
    "needs_info": ("under_review", "committee", "rejected", "closed"),
    "committee": ("approved", "rejected", "needs_info"),
    "approved": ("service_delivered", "closed"),
    "rejected": ("closed",),
    "service_delivered": ("closed",),
    "closed": (),
}
NEEDS_NOTE = {"needs_info", "rejected"}  # what is missing / why

# A request's status as staff read it (the beneficiary's wording is render.STATUS_WORDS),
# and the words staff may type for it (comma-separated, translated: Arabic words too).
STAFF_STATUS = {
    "submitted": (N_("submitted"), N_("submitted,received")),
    "under_review": (N_("under review"), N_("under_review,review,under review,study")),
    "needs_info": (N_("needs information"), N_("needs_info,needs info,missing,information")),
    "committee": (N_("with the committee"), N_("committee,to the committee")),
    "approved": (N_("approved"), N_("approved,approve,accept")),
    "rejected": (N_("rejected"), N_("rejected,reject,refuse")),
    "service_delivered": (N_("service delivered"),
                          N_("service_delivered,delivered,service delivered")),
    "closed": (N_("closed"), N_("closed,close")),
}
CASE_STATUS = {"queued": N_("waiting"), "claimed": N_("with a researcher"), "closed": N_("closed")}
# Where a beneficiary asked for a researcher, besides a question of the intake (its label).
DETAILS = {
    "keyword": N_("in their own words"),
    "menu": N_("from the menu"),
    "summary": N_("at the summary of their request"),
    "signature": N_("at the signature"),
}

REASONS = {
    "asked": N_("asked for a researcher"),
    "repeated_failures": N_("could not answer a question"),
    "not_understood": N_("a message the bot did not understand"),
    "message": N_("wrote after a closed case"),
    "low_rating": N_("a low rating with a comment"),
    "complaint": N_("a complaint"),
    "suggestion": N_("a suggestion"),
}


@dataclass(frozen=True)
class Command:
    name: str
    args: str = ""


def parse(event: Event) -> Command | None:
    """A staff command typed or pressed; None for a message meant for a beneficiary."""
    if event.kind == "choice":
        name, _, args = event.choice.partition(":")
        return Command("/" + name, args)
    if event.kind == "text" and event.text.strip().startswith("/"):
        word, _, args = event.text.strip().partition(" ")
        return Command(word.split("@")[0].lower(), args.strip())
    return None


def is_staff_command(event: Event) -> bool:
    """A staff command typed, or a staff button pressed (claim:3), e.g. by a beneficiary who
    forged one: the beneficiary's own choices never look like these."""
    if event.kind == "choice" and ":" not in event.choice and event.choice != "queue":
        return False
    command = parse(event) if event.kind in ("text", "choice") else None
    return command is not None and command.name in STAFF_COMMANDS


def number_alone(event: Event) -> bool:
    """A message that is only a number (any digits, perhaps with # or a sign): typed to press
    a numbered button, so never relayed to a beneficiary as it is (/say sends one)."""
    typed = ascii_digits(event.text.strip())
    return event.kind == "text" and re.fullmatch(r"[#+-]?\d{1,15}", typed) is not None


def waited(since: datetime, now: datetime, lang: str, ctx: Context) -> str:
    t = ctx.tr(lang)
    minutes = max(0, int((now - since).total_seconds() // 60))
    if minutes < 60:
        return t.ngettext("{n} minute", "{n} minutes", minutes).format(n=minutes)
    hours = minutes // 60
    return t.ngettext("{n} hour", "{n} hours", hours).format(n=hours)


def queue(cases: list[tuple[CaseView, str]], lang: str, ctx: Context) -> Reply:
    """Waiting cases, oldest first, each with how long it waited, why, and who."""
    _ = ctx.tr(lang).gettext
    if not cases:
        return Reply(_("No one is waiting. The queue is empty."))
    lines = [_("Waiting for a researcher (oldest first):")]
    for case, name in cases:
        why = _(REASONS.get(case.reason, case.reason))
        detail = f" ({detail_label(case.detail, lang, ctx)})" if case.detail else ""
        lines.append(f"#{case.id} · {waited(case.created_at, ctx.now, lang, ctx)} · {why}{detail}"
                     f" · {name}")
    choices = tuple(Choice(f"claim:{c.id}", _("Take #{case}").format(case=c.id)) for c, _n in cases[:10])
    return Reply("\n".join(lines), choices)


def detail_label(detail: str, lang: str, ctx: Context) -> str:
    """Where a case was opened, in words: the intake question by its label, never its key."""
    _ = ctx.tr(lang).gettext
    if detail in DETAILS:
        return _(DETAILS[detail])
    for service in ctx.profile.services:
        for spec in service.fields:
            if spec.key == detail:
                return _("at the question: {label}").format(label=spec.label.get(lang))
    return detail  # a ticket number or the like, shown as it is


def status_label(status: str, lang: str, ctx: Context) -> str:
    words = STAFF_STATUS.get(status)
    return ctx.tr(lang).gettext(words[0]) if words else status


def parse_status(text: str, ctx: Context) -> tuple[str | None, str]:
    """The status at the start of what a researcher typed after the request number, by its
    key or any of its words in Arabic or English ("اللجنة", "committee"), and the rest
    (the note). (None, text) when no status is recognised."""
    words = text.split()
    for length in (3, 2, 1):  # the longest phrase first: "under review" before "under"
        typed = fold(" ".join(words[:length]))
        if len(words) < length or not typed:
            continue
        for status, (_label, typable) in STAFF_STATUS.items():
            names = {fold(w) for lang in ("ar", "en") for w in ctx.tr(lang).gettext(typable).split(",")}
            if typed in names - {""}:
                return status, " ".join(words[length:])
    return None, text


def help_text(staff: StaffView, lang: str, ctx: Context) -> Reply:
    _ = ctx.tr(lang).gettext
    text = _(
        "Social researcher desk:\n"
        "/queue: who is waiting\n"
        "/claim N: take case N\n"
        "/release: put your current case back in the queue\n"
        "/transfer NAME: hand your current case to a colleague\n"
        "/cases: your open cases; /switch N to change the current one\n"
        "/note TEXT: an internal note the beneficiary never sees\n"
        "/canned: ready answers; /canned KEY sends one\n"
        "/file: the beneficiary's file (/file full shows numbers unmasked); /doc N sends document N\n"
        "/request NUMBER STATUS [note]: change a request's status\n"
        "/close: close your current case\n"
        "Anything else you write goes to the beneficiary of your current case."
    )
    text += "\n" + _("/say TEXT: send the text exactly as written (a number typed alone "
                     "presses the button with that number instead)")
    if staff.role == "admin":
        text += "\n" + _("Admins: /staff lists the team, /audit shows the latest audit entries, "
                        "/report [FROM] [TO] [staff] sends the board report (this month by default).")
        text += "\n" + _("/broadcast: a new announcement to beneficiaries; /broadcast N: how "
                         "announcement N is going (pause, resume, cancel); /broadcasts: the latest.")
    return Reply(text, (Choice("queue", _("📋 Queue")),))


def researcher_label(staff: StaffView, lang: str, ctx: Context) -> str:
    """How a beneficiary sees a researcher: a first name at most (profile setting)."""
    _ = ctx.tr(lang).gettext
    if ctx.profile.staff_first_name:
        return _("{name}, social researcher").format(name=staff.first_name)
    return _("Social researcher")


def joined(staff: StaffView, lang: str, ctx: Context) -> Reply:
    _ = ctx.tr(lang).gettext
    return Reply(_("{who} is with you now. Write your question here and they will answer you.")
                 .format(who=researcher_label(staff, lang, ctx)))


def relayed(staff: StaffView, text: str, lang: str, ctx: Context) -> Reply:
    return Reply(f"💬 {researcher_label(staff, lang, ctx)}:\n{text}")


def closed(lang: str, ctx: Context, state_reply: Reply) -> list[Reply]:
    _ = ctx.tr(lang).gettext
    return [Reply(_("Your conversation with the social researcher is now closed. Thank you. "
                    "You can write to us again at any time.")), state_reply]


def status_changed(number: str, status: str, note: str | None, lang: str, ctx: Context) -> Reply:
    """What a beneficiary is told when their request moves along the lifecycle."""
    _ = ctx.tr(lang).gettext
    lines = [_("Update on your request {number}: {status}.").format(
        number=number, status=_(render.STATUS_WORDS.get(status, status)))]
    if status == "needs_info" and note:
        lines.append(_("Needed from you: {what}").format(what=note))
        lines.append(_("Please send it here now: write it, or send a photo or a document."))
    if status == "rejected" and note:
        lines.append(_("Reason: {reason}").format(reason=note))
    if status == "approved":
        lines.append(_("We will contact you about receiving the service."))
    return Reply("\n".join(lines))


def next_opening(hours: WorkingHours, now: datetime) -> datetime | None:
    """When researchers are next at work, or None if they are at work now (Riyadh time)."""
    local = now.astimezone(RIYADH)
    if local.weekday() in hours.days and hours.start <= local.time() < hours.end:
        return None
    day = local.date()
    for offset in range(8):
        candidate = day + timedelta(days=offset)
        opening = datetime.combine(candidate, hours.start, tzinfo=RIYADH)
        if candidate.weekday() in hours.days and opening > local:
            return opening
    return None


def after_hours(lang: str, ctx: Context) -> str | None:
    """A line for a new case outside working hours: when to expect an answer."""
    opening = next_opening(ctx.profile.working_hours, ctx.now)
    if opening is None:
        return None
    _ = ctx.tr(lang).gettext
    day = render.gregorian_weekday(lang, opening)
    return _("Our researchers are not at work now. Expect a reply from {day} at {time}.").format(
        day=day, time=opening.strftime("%H:%M"))
