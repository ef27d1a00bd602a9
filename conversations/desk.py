"""The social researcher's desk: staff commands and what the desk says, to staff
and to beneficiaries. Pure: parsing and wording only; handlers/staff.py acts.

Staff commands work as text on every channel (and as buttons where there are
buttons); COMMAND_TABLE below declares each one: who may use it, its arguments, its
name and help. Anything else a researcher writes goes to the beneficiary of their
current case.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from conversations import kinds, render, review
from conversations.base import (
    RIYADH,
    CaseView,
    Choice,
    Context,
    Event,
    FileRef,
    Found,
    OpenCase,
    Reply,
    RequestStep,
    RequestView,
    StaffView,
)
from conversations.fields import N_
from conversations.profile import WorkingHours
from conversations.text import ascii_digits, fold

RESEARCHER, COMMITTEE, ADMIN = "researcher", "committee", "admin"
ROLES = (RESEARCHER, COMMITTEE, ADMIN)
DESK = frozenset({RESEARCHER, ADMIN})  # who works cases and reviews requests
DECIDERS = frozenset({COMMITTEE, ADMIN})  # who records the committee's decision
ANYONE = frozenset(ROLES)
ADMINS = frozenset({ADMIN})


@dataclass(frozen=True)
class CommandSpec:
    """One staff command: who may use it, what it takes, its name and help in words.
    Typed (/claim 3) or pressed as a button (claim:3); `menu` puts it in the chat's
    command menu (Telegram) and the help."""

    name: str
    roles: frozenset[str] = DESK
    args: str = ""  # e.g. "N", shown in the help after the command
    title: str = ""  # its name in words (buttons, menus), a msgid
    help: str = ""  # one line of help, a msgid
    menu: bool = True


def _spec(name: str, title: str, help: str, args: str = "", roles: frozenset[str] = DESK,
          menu: bool = True) -> CommandSpec:
    return CommandSpec(name, roles, args, title, help, menu)


# The one table of staff commands. Every entry point (private chat, the staff group and
# its topics, buttons, the CLI) asks `allowed` about it before anything runs (handlers/staff.py).
COMMAND_TABLE: dict[str, CommandSpec] = {spec.name: spec for spec in (
    _spec("/queue", N_("Queue"), N_("who is waiting")),
    _spec("/team", N_("Team"), N_("every open case, its holder and how long it waits, "
                                  "overdue first")),
    _spec("/claim", N_("Take"), N_("take case N"), "N"),
    _spec("/cases", N_("My cases"), N_("your open cases")),
    _spec("/switch", N_("Switch"), N_("make case N your current one"), "N"),
    _spec("/release", N_("Release"), N_("put your current case back in the queue")),
    _spec("/transfer", N_("Transfer"), N_("hand your current case to a colleague"), "NAME"),
    _spec("/note", N_("Note"), N_("an internal note the beneficiary never sees"), "TEXT"),
    _spec("/canned", N_("Ready answers"), N_("ready answers; /canned KEY sends one"), "[KEY]"),
    _spec("/teach", N_("Teach the bot"), N_("save your last reply in the current case as an "
                                            "answer the bot gives itself (to the question "
                                            "just before it): shown first, with a button "
                                            "to save it")),
    _spec("/say", N_("Send as written"), N_("send the text exactly as written (a number "
                                            "typed alone presses the button with that "
                                            "number instead)"), "TEXT"),
    _spec("/file", N_("File"), N_("the beneficiary's file (/file full shows numbers "
                                  "unmasked)"), "[full]"),
    _spec("/doc", N_("Document"), N_("send document N of a beneficiary whose case you hold, "
                                     "or of a request you review or decide on"), "N", ANYONE),
    _spec("/find", N_("Search"), N_("find a beneficiary by request number, national ID, "
                                    "mobile or name"), "TEXT"),
    _spec("/history", N_("History"), N_("a beneficiary's requests and cases (N: the "
                                        "beneficiary's number; without it, your current "
                                        "case's)"), "[N]"),
    _spec("/read", N_("Read"), N_("the whole conversation of case N, closed ones too"), "N"),
    _spec("/reopen", N_("Reopen"), N_("reopen closed case N and take it"), "N"),
    _spec("/request", N_("Request status"), N_("ask the beneficiary for information, or close "
                                               "a request with the reason"),
          "NUMBER STATUS [note]"),
    _spec("/reviews", N_("Reviews"), N_("submitted requests waiting for review, oldest first")),
    _spec("/review", N_("Review"), N_("take request NUMBER for review, or go on with it: "
                                      "match its answers and documents one by one"), "NUMBER"),
    _spec("/deliver", N_("Delivered"), N_("record that the service of an approved request "
                                          "was provided (an amount and its unit, a receipt "
                                          "photo)"), "NUMBER [AMOUNT UNIT]"),
    _spec("/committee", N_("Committee"), N_("registered requests waiting for a decision"),
          roles=DECIDERS),
    _spec("/decide", N_("Decide"), N_("record the decision on request NUMBER: approve or "
                                      "reject, the meeting's number and date (a rejection "
                                      "with its reason)"),
          "NUMBER [approve|reject MEETING [DATE] [REASON]]", DECIDERS),
    _spec("/close", N_("Close"), N_("close your current case")),
    _spec("/language", N_("Language"), N_("the desk's language: /language ar or "
                                          "/language en"), "ar|en", ANYONE),
    _spec("/help", N_("Help"), N_("this help"), roles=ANYONE),
    _spec("/staff", N_("Team list"), N_("the team"), roles=ADMINS),
    _spec("/audit", N_("Audit"), N_("the latest audit entries"), roles=ADMINS),
    _spec("/report", N_("Report"), N_("the board report (this month by default; add "
                                      "\"staff\" for figures per researcher)"),
          "[FROM] [TO] [staff]", ADMINS),
    _spec("/broadcast", N_("Announcement"), N_("a new announcement to beneficiaries; "
                                               "/broadcast N: how announcement N is going"),
          "[N]", ADMINS),
    _spec("/broadcasts", N_("Announcements"), N_("the latest announcements"), roles=ADMINS),
    # (a Telegram command's description holds 256 characters: kept short in every language)
    _spec("/privacy", N_("Data requests"), N_("beneficiaries' data requests on the PDPL "
                                              "clock; /privacy extend N: its one extension; "
                                              "/privacy approve N: correction N applied, the "
                                              "acknowledgment renewed; /privacy reject N "
                                              "REASON"),
          "[extend N | approve N | reject N REASON]", ADMINS),
    # the buttons of a review (pressed, or the note asked for typed next)
    *(CommandSpec(name, DESK, menu=False) for name in (
        "/match", "/mismatch", "/sendback", "/register")),
    # the buttons that compose and follow an announcement (pressed, or typed by number)
    *(CommandSpec(name, ADMINS, menu=False) for name in (
        "/broadcast_cancel", "/bc_pick", "/bc_add", "/bc_field", "/bc_send", "/bc_pause",
        "/bc_resume", "/bc_cancel")),
)}
STAFF_COMMANDS = tuple(COMMAND_TABLE)
ADMIN_ONLY = frozenset(name for name, spec in COMMAND_TABLE.items() if spec.roles == ADMINS)


def allowed(role: str, name: str) -> bool:
    """The authorization check: may a staff member with this role run this command?"""
    spec = COMMAND_TABLE.get(name)
    return spec is not None and role in spec.roles


def refusal(name: str, lang: str, ctx: Context) -> str:
    """Why a command is not theirs, by who may run it."""
    _ = ctx.tr(lang).gettext
    spec = COMMAND_TABLE.get(name)
    if spec is not None and spec.roles == DECIDERS:
        return _("Only the {body} or an admin records a decision.").format(
            body=_(review.BODY_TITLE[ctx.profile.decision.body]))
    if spec is not None and spec.roles == DESK:
        return _("This is the social researchers' work.")
    return _("Only an admin can do this.")


def menu_commands(role: str) -> list[CommandSpec]:
    """The commands a staff member with this role sees in the help and the command menu."""
    return [spec for spec in COMMAND_TABLE.values() if spec.menu and role in spec.roles]


# The request lifecycle (docs/architecture.md): which status may follow which. Each step
# of the policy has its command (STEP_COMMAND); /request makes the other moves (back to
# the beneficiary for information, closing with a reason).
LIFECYCLE: dict[str, tuple[str, ...]] = {
    "submitted": ("under_review", "needs_info", "closed"),
    "under_review": ("needs_info", "committee", "closed"),
    "needs_info": ("under_review", "closed"),
    "committee": ("approved", "rejected", "needs_info"),
    "approved": ("service_delivered", "closed"),
    "rejected": ("closed",),
    "service_delivered": ("closed",),
    "closed": (),
}
STEP_COMMAND = {"under_review": "/review", "committee": "/register", "approved": "/decide",
                "rejected": "/decide", "service_delivered": "/deliver"}
NEEDS_NOTE = {"needs_info", "rejected"}  # what is missing / why


def needs_note(status: str, to: str) -> bool:
    """Whether moving a request needs a note: what is missing, why it was rejected, and
    why it is closed without its service (a reason is kept for every such closing)."""
    return to in NEEDS_NOTE or (to == "closed" and status not in ("service_delivered",
                                                                   "rejected"))


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
    "privacy": N_("a request to correct their personal data"),
    "voice": N_("a voice message, to listen to"),
    "message": N_("wrote after a closed case"),
    "low_rating": N_("a low rating with a comment"),
    "complaint": N_("a complaint"),
    "suggestion": N_("a suggestion"),
    "question": N_("a question the bot had no answer to"),
    "unhelpful": N_("the bot's answer did not help"),
}


@dataclass(frozen=True)
class Command:
    name: str
    args: str = ""
    file: FileRef | None = None  # a photo sent where a command asked for one (a receipt)


AWAIT_MINUTES = 30  # a note asked for and not given by then is no longer awaited


def awaiting_value(command: str, now: datetime) -> str:
    """What `staff.awaiting` stores: when it was asked, and the command to complete."""
    return f"{now.astimezone(RIYADH):%Y-%m-%dT%H:%M:%S%z} {command}"


def awaited(stored: str | None, now: datetime) -> str | None:
    """The command a staff member's next message completes, if it was asked for in the
    last AWAIT_MINUTES (a message much later is meant for someone, not for that)."""
    if not stored:
        return None
    when, _sep, command = stored.partition(" ")
    try:
        asked = datetime.strptime(when, "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        return None
    return command if timedelta(0) <= now - asked <= timedelta(minutes=AWAIT_MINUTES) else None


def completed(awaiting: str, event: Event) -> Command | None:
    """The command a staff member's message completes when one asked for it (its note, a
    meeting's number, a receipt's photo); None for a message that cannot (a sticker)."""
    command = parse(Event("text", text=awaiting))
    if command is None:
        return None
    if event.kind == "text" and event.text.strip():
        return Command(command.name, f"{command.args} {event.text.strip()}".strip())
    if event.kind == "file" and event.file is not None:
        return Command(command.name, command.args, event.file)
    return None


def parse(event: Event) -> Command | None:
    """A staff command typed or pressed; None for a message meant for a beneficiary."""
    if event.kind == "choice":
        name, _, args = event.choice.partition(":")
        return Command("/" + name, args)
    if event.kind == "text" and event.text.strip().startswith("/"):
        word, _, args = event.text.strip().partition(" ")
        return Command(word.split("@")[0].lower(), args.strip())
    return None


def case_buttons(case: CaseView, lang: str, ctx: Context) -> tuple[Choice, ...]:
    """The actions on a case a researcher holds, as buttons (each is also a command); each
    names its case, so an old message's button never acts on the case current now."""
    _ = ctx.tr(lang).gettext
    buttons = [Choice(f"file:{case.id}", _("📁 File")),
               Choice(f"history:{case.beneficiary_id}", _("🗂 History"))]
    if ctx.profile.canned_replies:
        buttons.append(Choice("canned:", _("💬 Ready answers")))
    buttons += [Choice(f"transfer:{case.id}", _("↪ Transfer")),
                Choice(f"release:{case.id}", _("↩ Release")),
                Choice(f"close:{case.id}", _("✖ Close"))]
    return tuple(buttons)


def is_staff_command(event: Event) -> bool:
    """A staff command typed, or a staff button pressed (claim:3), e.g. by a beneficiary who
    forged one: the beneficiary's own choices never look like these."""
    if event.kind == "choice" and ":" not in event.choice and event.choice not in (
            "queue", "team", "reviews", "committee"):
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


def queue(cases: list[tuple[CaseView, str | None]], lang: str, ctx: Context) -> Reply:
    """Waiting cases, oldest first, each with how long it waited, why, and who."""
    _ = ctx.tr(lang).gettext
    if not cases:
        return Reply(_("No one is waiting. The queue is empty."))
    lines = [_("Waiting for a researcher (oldest first):")]
    for case, name in cases:
        lines.append(f"{tag(case.id, name)} · {waited(case.created_at, ctx.now, lang, ctx)} · "
                     f"{reason_label(case, lang, ctx)}")
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


# steps of a request's history that are not statuses (never typed as one)
HISTORY_STEPS = {"corrected": N_("an answer corrected at the beneficiary's request")}


def status_label(status: str, lang: str, ctx: Context) -> str:
    words = STAFF_STATUS.get(status)
    if words is None:
        return ctx.tr(lang).gettext(HISTORY_STEPS[status]) if status in HISTORY_STEPS else status
    return ctx.tr(lang).gettext(words[0])


def status_word(status: str, lang: str, ctx: Context) -> str:
    """The first word staff may type for a status, in their language (never its key)."""
    words = STAFF_STATUS.get(status)
    typable = ctx.tr(lang).gettext(words[1]).split(",") if words else []
    return next((w.strip() for w in typable if w.strip() and w.strip() != status), status)


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
    """The help, drawn from the command table: what this staff member's role may do."""
    _ = ctx.tr(lang).gettext
    committee = staff.role == COMMITTEE
    lines = [_("Desk of the {body}:").format(body=review.body_title(lang, ctx)) if committee
             else _("Social researcher desk:")]
    for spec in menu_commands(staff.role):
        lines.append(f"{spec.name}{' ' + spec.args if spec.args else ''}: {_(spec.help)}")
    if committee:
        return Reply("\n".join(lines), (Choice("committee", _("🏛 Waiting for a decision")),))
    lines.append(_("Anything else you write goes to the beneficiary of your current case."))
    return Reply("\n".join(lines), (Choice("queue", _("📋 Queue")), Choice("team", _("👥 Team")),
                                    Choice("reviews", _("🔎 Reviews"))))


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
    label = researcher_label(staff, lang, ctx)
    return Reply(f"💬 {label}:\n{text}", relayed_by=label)


def closed(lang: str, ctx: Context, state_reply: Reply) -> list[Reply]:
    _ = ctx.tr(lang).gettext
    return [Reply(_("Your conversation with the social researcher is now closed. Thank you. "
                    "You can write to us again at any time.")), state_reply]


TICKETS = ("suggestion", "complaint")  # a case that is a ticket, not a talk with a researcher


def ticket_closed(ticket: str, lang: str, ctx: Context) -> Reply:
    """A suggestion or complaint dealt with: its ticket is closed (no help survey)."""
    _ = ctx.tr(lang).gettext
    return Reply(_("Your ticket {ticket} has been dealt with and is now closed. Thank you for "
                   "writing to us; you can write again at any time.").format(ticket=ticket))


def next_statuses(number: str, status: str, lang: str, ctx: Context) -> Reply:
    """Where a request may go from its status by /request (a status that needs a note, what
    is missing or why, asks for it when pressed); the policy's steps by their command."""
    _ = ctx.tr(lang).gettext
    allowed = LIFECYCLE.get(status, ())
    lines = [_("{number} is: {status}. It can go to:").format(
        number=number, status=status_label(status, lang, ctx))]
    for a in allowed:
        line = f"• {status_label(a, lang, ctx)}"
        if a in STEP_COMMAND:
            line += " " + _("(with {command} {number})").format(command=STEP_COMMAND[a],
                                                               number=number)
        elif needs_note(status, a):
            line += " " + _("(write the note after it: /request {number} {status} NOTE)").format(
                number=number, status=status_word(a, lang, ctx))
        lines.append(line)
    buttons: dict[str, str] = {}  # a step's command pressed, or the move itself
    for a in allowed:
        if a in STEP_COMMAND:
            pressed = "review" if a == "committee" else STEP_COMMAND[a].lstrip("/")  # its card
            buttons.setdefault(f"{pressed}:{number}", status_label(a, lang, ctx))
        elif not needs_note(status, a):
            buttons[f"request:{number} {a}"] = status_label(a, lang, ctx)
    return Reply("\n".join(lines), tuple(Choice(i, label) for i, label in buttons.items()))


def status_changed(number: str, status: str, note: str | None, lang: str, ctx: Context) -> Reply:
    """What a beneficiary is told when their request moves along the lifecycle."""
    _ = ctx.tr(lang).gettext
    lines = [_("Update on your request {number}: {status}.").format(
        number=number, status=_(render.status_words(status, ctx)))]
    if status == "needs_info" and note:  # a reviewer's list starts on its own line
        lines.append(_("Needed from you: {what}").format(
            what="\n" + note if note.startswith("•") else note).replace(" \n", "\n"))
        lines.append(_("Please send it here now: write it, or send a photo or a document."))
    if status == "closed" and note:
        lines.append(_("Reason: {reason}").format(reason=note))
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


# -- time on staff screens -----------------------------------------------------------
def when(moment: datetime, lang: str, ctx: Context) -> str:
    """A moment as staff read it: the Hijri date, the Gregorian date and the time, in
    Riyadh ("12 جمادى الآخرة 1448 هـ · 2026-12-03 10:30")."""
    local = moment.astimezone(RIYADH)
    hijri = kinds.hijri(local.date(), lang, ctx)
    plain = f"{local:%Y-%m-%d %H:%M}"
    return f"{hijri} · {plain}" if hijri else plain


def working_minutes(hours: WorkingHours, start: datetime, end: datetime) -> int:
    """Minutes of working time between two moments (Riyadh working days and hours): how
    long a beneficiary has waited, as the reply target counts it."""
    if end <= start:
        return 0
    s, e = start.astimezone(RIYADH), end.astimezone(RIYADH)
    total, day = 0.0, s.date()
    while day <= e.date() and (day - s.date()).days <= 400:
        if day.weekday() in hours.days:
            lo = max(datetime.combine(day, hours.start, tzinfo=RIYADH), s)
            hi = min(datetime.combine(day, hours.end, tzinfo=RIYADH), e)
            if hi > lo:
                total += (hi - lo).total_seconds()
        day += timedelta(days=1)
    return int(total // 60)


def duration(minutes: int, lang: str, ctx: Context) -> str:
    t = ctx.tr(lang)
    if minutes < 60:
        return t.ngettext("{n} minute", "{n} minutes", minutes).format(n=minutes)
    hours, rest = divmod(minutes, 60)
    text = t.ngettext("{n} hour", "{n} hours", hours).format(n=hours)
    if rest and hours < 10:
        text += " " + t.ngettext("{n} minute", "{n} minutes", rest).format(n=rest)
    return text


def tag(case_id: int, name: str | None) -> str:
    """Which case and beneficiary a line concerns: "#12 · فاطمة"."""
    return f"#{case_id} · {name}" if name else f"#{case_id}"


def reason_label(case: CaseView, lang: str, ctx: Context) -> str:
    _ = ctx.tr(lang).gettext
    why = _(REASONS[case.reason]) if case.reason in REASONS else case.reason
    return f"{why} ({detail_label(case.detail, lang, ctx)})" if case.detail else why


def role_label(role: str, lang: str, ctx: Context) -> str:
    _ = ctx.tr(lang).gettext
    if role == COMMITTEE:
        return review.body_title(lang, ctx)
    return _({"researcher": N_("social researcher"), "admin": N_("admin")}.get(role, role))


def service_label(key: str, lang: str, ctx: Context) -> str:
    service = ctx.profile.service(key)
    return service.label.get(lang) if service else key


# -- the team's board -------------------------------------------------------------
def board(rows: list[OpenCase], lang: str, ctx: Context,
          requests: review.Waiting | None = None) -> Reply:
    """Every open case with its holder and how long the beneficiary has waited for an
    answer, in working time against the profile's target, overdue first; then the
    requests waiting at the policy's steps."""
    _ = ctx.tr(lang).gettext
    footer = ["", *review.waiting_lines(requests, lang, ctx)] if requests else []
    if not rows:
        return Reply("\n".join([_("No case is open."), *footer]),
                     (Choice("reviews", _("🔎 Reviews")),) if requests and requests.review else ())
    target = ctx.profile.desk.reply_within_minutes
    hours = ctx.profile.working_hours
    waits = [(row, working_minutes(hours, row.waiting_since, ctx.now)
              if row.waiting_since else None) for row in rows]
    waits.sort(key=lambda rw: (rw[1] is None, -(rw[1] or 0)))
    overdue = sum(1 for _r, w in waits if w is not None and w > target)
    lines = [_("Open cases: {n} · overdue: {late} · reply target: {target} of working time")
             .format(n=len(rows), late=overdue, target=duration(target, lang, ctx))]
    for row, minutes in waits:
        holder = row.holder or _("waiting for a researcher")
        if minutes is None:
            wait = _("answered")
        else:
            wait = _("waits {time}").format(time=duration(minutes, lang, ctx))
        mark = "⚠️ " if minutes is not None and minutes > target else ""
        lines.append(f"{mark}{tag(row.case.id, row.name)} · {holder} · {wait} · "
                     f"{reason_label(row.case, lang, ctx)}")
    choices = tuple(
        Choice(f"claim:{row.case.id}", _("Take #{case}").format(case=row.case.id))
        if row.case.status == "queued" else
        Choice(f"read:{row.case.id}", _("Read #{case}").format(case=row.case.id))
        for row, _m in waits[:10])
    return Reply("\n".join(lines + footer), choices)


# -- search and history -------------------------------------------------------------
MATCHED = {"number": N_("request number"), "national_id": N_("national ID"),
           "phone": N_("mobile"), "name": N_("name")}


def search_results(query: str, found: list[Found], lang: str, ctx: Context) -> Reply:
    _ = ctx.tr(lang).gettext
    if not found:
        return Reply(_("No beneficiary found for \"{query}\". Search by request number, "
                       "national ID, mobile or name.").format(query=query))
    lines = [_("Found for \"{query}\":").format(query=query)]
    for hit in found[:10]:
        who = hit.name or _("beneficiary #{id}").format(id=hit.beneficiary_id)
        parts = [f"{who} ({_(MATCHED.get(hit.matched, hit.matched))})"]
        parts += [f"{number} {status_label(status, lang, ctx)}" for number, status in hit.requests[:3]]
        if hit.open_case:
            parts.append(_("open case #{case}").format(case=hit.open_case))
        lines.append(" · ".join(parts))
    if len(found) > 10:
        lines.append(_("… and {n} more: write more of the name or the number.").format(
            n=len(found) - 10))
    return Reply("\n".join(lines), tuple(
        Choice(f"history:{hit.beneficiary_id}",
               _("History: {who}").format(who=(hit.name or f"#{hit.beneficiary_id}")[:30]))
        for hit in found[:10]))


def history(beneficiary_id: int, name: str | None, requests: list[RequestView],
            steps: dict[int, list[RequestStep]], cases: list[CaseView],
            staff: dict[int, str], lang: str, ctx: Context) -> Reply:
    """A beneficiary's every request with its steps and every case with its reason and
    dates; buttons read a case and reopen the latest closed one."""
    _ = ctx.tr(lang).gettext
    who = name or _("beneficiary #{id}").format(id=beneficiary_id)
    lines = [_("History of {who}:").format(who=who)]
    lines.append(_("Requests:") if requests else _("No requests."))
    for request in requests:
        lines.append(f"{request.number} · {service_label(request.service, lang, ctx)} · "
                     f"{status_label(request.status, lang, ctx)}")
        for step in steps.get(request.id, []):
            by = actor_label(step.actor, staff, lang, ctx)
            note = f" · «{step.note}»" if step.note else ""
            lines.append(f"  {status_label(step.status, lang, ctx)} · {when(step.at, lang, ctx)}"
                         f" · {by}{note}")
    lines.append(_("Cases:") if cases else _("No cases."))
    for case in cases:
        holder = staff.get(case.claimed_by or 0)
        parts = [f"#{case.id}", reason_label(case, lang, ctx),
                 _("opened {when}").format(when=when(case.created_at, lang, ctx))]
        if case.status == "closed" and case.closed_at:
            parts.append(_("closed {when}").format(when=when(case.closed_at, lang, ctx)))
        else:
            parts.append(_(CASE_STATUS.get(case.status, case.status)))
        if holder:
            parts.append(holder)
        lines.append(" · ".join(parts))
    choices = [Choice(f"read:{c.id}", _("Read #{case}").format(case=c.id)) for c in cases[-8:]]
    closed = [c for c in cases if c.status == "closed"]
    if closed and not any(c.status != "closed" for c in cases):
        choices.append(Choice(f"reopen:{closed[-1].id}",
                              _("Reopen #{case}").format(case=closed[-1].id)))
    return Reply("\n".join(lines), tuple(choices))


def actor_label(actor: str, staff: dict[int, str], lang: str, ctx: Context) -> str:
    """Who set a request's status, in words: the beneficiary, a staff member by name."""
    _ = ctx.tr(lang).gettext
    kind, _sep, ident = actor.partition(":")
    if kind == "staff" and ident.isdigit():
        return staff.get(int(ident), _("a staff member"))
    if kind == "beneficiary":
        return _("the beneficiary")
    return _("the system")


def conversation(case: CaseView, name: str | None, entries: list[str], lang: str,
                 ctx: Context) -> Reply:
    """A case's whole conversation, as /read shows it (entries already in words)."""
    _ = ctx.tr(lang).gettext
    head = [f"{tag(case.id, name)} · {reason_label(case, lang, ctx)}",
            _("opened {when}").format(when=when(case.created_at, lang, ctx))]
    if case.closed_at:
        head.append(_("closed {when}").format(when=when(case.closed_at, lang, ctx)))
    body = entries or [_("(nothing was written in this case)")]
    choices: tuple[Choice, ...] = ()
    if case.status == "closed":
        choices = (Choice(f"reopen:{case.id}", _("Reopen #{case}").format(case=case.id)),)
    elif case.status == "queued":
        choices = (Choice(f"claim:{case.id}", _("Take #{case}").format(case=case.id)),)
    return Reply("\n".join([*head, "", *body]), choices)


# -- telling staff of new work ------------------------------------------------------
def new_case_notice(case: CaseView, name: str | None, lang: str, ctx: Context) -> Reply:
    _ = ctx.tr(lang).gettext
    text = _("🔔 New case {case}: {why}. Waiting since {when}.").format(
        case=tag(case.id, name), why=reason_label(case, lang, ctx),
        when=when(case.created_at, lang, ctx))
    return Reply(text, (Choice(f"claim:{case.id}", _("Take #{case}").format(case=case.id)),
                        Choice("queue", _("📋 Queue"))))


def submitted_notice(request: RequestView, name: str | None, lang: str, ctx: Context) -> Reply:
    _ = ctx.tr(lang).gettext
    who = name or _("beneficiary #{id}").format(id=request.beneficiary_id)
    text = _("🔔 New request {number} from {who}: {service}. It waits for review.").format(
        number=request.number, who=who, service=service_label(request.service, lang, ctx))
    return Reply(text, (Choice(f"review:{request.number}",
                               _("Review {number}").format(number=request.number)),
                        Choice(f"history:{request.beneficiary_id}",
                               _("History: {who}").format(who=who[:30]))))


def correction_notice(number: str, privacy_id: int, lang: str, ctx: Context) -> Reply:
    """To admins: a correction waits for them on the PDPL clock."""
    _ = ctx.tr(lang).gettext
    return Reply(_("A beneficiary asked to correct an answer of {number} (data request #{n}, "
                   "due within 30 days). /privacy shows it, to approve it or say why not.").format(
                       number=number, n=privacy_id),
                 (Choice("privacy:", _("🔒 Data requests")),))


def registered_notice(request: RequestView, file_number: str, name: str | None, lang: str,
                      ctx: Context) -> Reply:
    _ = ctx.tr(lang).gettext
    who = name or _("beneficiary #{id}").format(id=request.beneficiary_id)
    text = _("🏛 {number} from {who} ({service}) is registered under file {file} and waits for "
             "the decision of the {body}: {due}.").format(
        number=request.number, who=who, service=service_label(request.service, lang, ctx),
        file=file_number, body=review.body_title(lang, ctx),
        due=review.due_for_staff(request.decision_due, lang, ctx))
    return Reply(text, (Choice(f"decide:{request.number}",
                               _("Decide {number}").format(number=request.number)),))


def committee_digest(waiting: list[RequestView], late: list[RequestView], lang: str,
                     ctx: Context) -> Reply | None:
    """A committee member's morning: what waits for their decision, and what is past its
    decision date. None when nothing waits."""
    if not waiting:
        return None
    _ = ctx.tr(lang).gettext
    lines = [_("Good morning. Waiting for the decision of the {body}: {n}").format(
        body=review.body_title(lang, ctx), n=len(waiting))]
    overdue = [r for r in late if r.status == "committee"]
    if overdue:
        lines.append(_("Past their decision date: {n}").format(n=len(overdue)))
        lines += [f"  ⚠️ {r.number}" for r in overdue[:5]]
    return Reply("\n".join(lines), (Choice("committee", _("🏛 Waiting for a decision")),))


def info_arrived_notice(number: str, name: str | None, text: str, lang: str,
                        ctx: Context) -> str:
    _ = ctx.tr(lang).gettext
    who = f" ({name})" if name else ""
    return _("📎 The missing information for {number}{who} arrived: {text}\nThe request is "
             "back under review.").format(number=number, who=who, text=text)


def digest(board_rows: list[OpenCase], submitted: list[RequestView], late: list[RequestView],
           mine: list[OpenCase], lang: str, ctx: Context) -> Reply | None:
    """What waits when the working day starts: cases, overdue ones, requests to review and
    past their decision date, and the cases this staff member holds that wait for them.
    None when nothing waits."""
    if not (board_rows or submitted or late):
        return None
    _ = ctx.tr(lang).gettext
    target = ctx.profile.desk.reply_within_minutes
    hours = ctx.profile.working_hours
    queued = [r for r in board_rows if r.case.status == "queued"]
    overdue = [r for r in board_rows if r.waiting_since is not None
               and working_minutes(hours, r.waiting_since, ctx.now) > target]
    lines = [_("Good morning. What waits today:")]
    lines.append(_("Cases waiting for a researcher: {n}").format(n=len(queued)))
    lines.append(_("Cases past the reply target: {n}").format(n=len(overdue)))
    lines.append(_("Requests waiting for review: {n}").format(n=len(submitted)))
    limit = ctx.profile.review_within_days
    late_reviews = sum(1 for r in submitted if review.working_days(hours, r.confirmed_at,
                                                                    ctx.now) > limit)
    if late_reviews:
        lines.append(_("Of these, waiting longer than {days} working days: {n}").format(
            days=limit, n=late_reviews))
    lines.append(_("Requests past their decision date: {n}").format(n=len(late)))
    for request in late[:5]:
        lines.append(f"  ⚠️ {request.number} · {status_label(request.status, lang, ctx)}")
    waiting_mine = [r for r in mine if r.waiting_since is not None]
    if waiting_mine:
        lines.append(_("Your cases waiting for your answer: {cases}").format(
            cases=", ".join(tag(r.case.id, r.name) for r in waiting_mine[:10])))
    return Reply("\n".join(lines), (Choice("team", _("👥 Team")), Choice("queue", _("📋 Queue"))))


# -- the diagram (docs/conversations/desk.mmd is this function's output) -----------------
# A case's life: (from, to, what moves it); a command's name is one of COMMAND_TABLE's.
CASE_MOVES = (
    ("[*]", "queued", "a beneficiary asks for a researcher, a complaint or suggestion, "
                      "repeated failures, a message after a closed case"),
    ("queued", "claimed", "/claim"),
    ("claimed", "queued", "/release"),
    ("claimed", "claimed", "/transfer"),
    ("claimed", "closed", "/close"),
    ("closed", "claimed", "/reopen"),
)
# In a case's topic of the staff group, these act on the topic's case: its holder only
# (a waiting case is taken first); every other command works there as in a private chat.
ON_TOPIC_CASE = frozenset({"/claim", "/close", "/release", "/transfer", "/note", "/canned",
                           "/say", "/teach"})
# In the staff group outside a case's topic: the commands that never fall back on the
# sender's current case (whose file or history would be posted for the whole group).
GROUP_ANYWHERE = frozenset({"/find", "/team", "/queue", "/read", "/request", "/help"})
ON_CASE = ("/note", "/canned", "/say", "/file", "/doc", "/history", "/request", "/teach")
# Done in the staff member's private chat even when pressed in the staff group: a review
# shows every answer unmasked and asks for notes, which must never be taken for words to
# the beneficiary of the topic's case.
PRIVATE = frozenset({"/reviews", "/review", "/match", "/mismatch", "/sendback", "/register",
                     "/committee", "/decide", "/deliver"})


def diagram() -> str:
    """The desk as a mermaid state diagram, drawn from CASE_MOVES and COMMAND_TABLE."""
    def named(move: str) -> str:
        spec = COMMAND_TABLE.get(move)
        return f"{spec.name} {spec.args}".strip() if spec else move

    lines = ["%% The social researcher desk, drawn from conversations/desk.py "
             "(COMMAND_TABLE, CASE_MOVES):",
             "%% regenerate with: python -m conversations.desk > docs/conversations/desk.mmd",
             "stateDiagram-v2"]
    lines += [f"    {a} --> {b}: {named(move)}" for a, b, move in CASE_MOVES]
    lines.append("    closed --> [*]")
    lines += ["    note right of claimed",
              "        In the current case, what the researcher writes goes to its beneficiary",
              "        (a number alone presses a button). On the case: "
              + ", ".join(named(c) for c in ON_CASE),
              "    end note",
              "    note left of queued"]
    anywhere = [s for s in COMMAND_TABLE.values() if s.menu and s.name not in ON_CASE
                and s.name not in {m for _a, _b, m in CASE_MOVES}]
    lines.append("        Anywhere: " + ", ".join(
        named(s.name) + (" (admins)" if s.roles == ADMINS else "") for s in anywhere))
    lines += ["        Every command and button passes one role check (allowed); refusals",
              "        are audited. New cases, submitted requests and missing information",
              "        are told to staff (outside working hours: the morning digest).",
              "    end note"]
    return "\n".join(lines) + "\n"


def lifecycle_diagram() -> str:
    """A request's life as a mermaid state diagram, drawn from LIFECYCLE and STEP_COMMAND:
    each move with the command that makes it (the policy's steps) or /request."""
    moves = {"needs_info": {"under_review": "the beneficiary sends what is missing"},
             "under_review": {"needs_info": "/sendback with what does not match, or /request"}}
    lines = ["%% A request's life, drawn from conversations/desk.py (LIFECYCLE, STEP_COMMAND):",
             "%% regenerate with: python -m conversations.desk lifecycle "
             "> docs/conversations/request.mmd",
             "stateDiagram-v2",
             "    [*] --> submitted: the beneficiary confirms and signs (policy step 4)"]
    by = {"under_review": "/review (step 2, match the data)",
          "committee": "/register (step 6, the file number) after every item matched",
          "approved": "/decide approve, committee or admin (step 5)",
          "rejected": "/decide reject with the reason, committee or admin (step 5)",
          "service_delivered": "/deliver (step 7), then the survey"}
    for status, nexts in LIFECYCLE.items():
        for to in nexts:
            how = moves.get(status, {}).get(to) or by.get(to) or (
                "/request with what is missing" if to == "needs_info" else
                "/request closed" + (" with the reason" if needs_note(status, to) else ""))
            lines.append(f"    {status} --> {to}: {how}")
    lines.append("    closed --> [*]")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    import sys

    print(lifecycle_diagram() if sys.argv[1:] == ["lifecycle"] else diagram(), end="")


# -- where a staff event goes (pure) ---------------------------------------------------
@dataclass(frozen=True)
class DeskState:
    """What the desk knows of a staff member when their event arrives: their role, whether
    an announcement they compose waits for its text, the buttons last offered to them (a
    typed number presses one) and, in the staff group, the case the message is about."""

    role: str
    staff_id: int
    awaiting: str | None = None  # the command their next message completes
    composing: bool = False
    choices: tuple[str, ...] = ()
    in_group: bool = False
    topic_case: CaseView | None = None


@dataclass(frozen=True)
class Run:
    """Run a command through the one door (Desk.execute: the role check first)."""

    command: Command


@dataclass(frozen=True)
class Relay:
    """Send the event to the beneficiary of the current case (or the topic's case)."""

    event: Event


@dataclass(frozen=True)
class Compose:
    """The text (or a field's value) of the announcement being composed."""

    event: Event


@dataclass(frozen=True)
class Refuse:
    """Not theirs to do: audited with this detail, and they are told who holds the case."""

    detail: str


@dataclass(frozen=True)
class NumberHint:
    """A number alone that presses no button: held back, with how to send it."""

    text: str


Route = Run | Relay | Compose | Refuse | NumberHint


def route(state: DeskState, event: Event) -> tuple[Route, ...]:
    """Where one staff event goes, in order; empty when it is not for the desk (talk in
    the staff group that is about no case). The authorization of each command is
    Desk.execute's, so every route passes the same check."""
    command = parse(event)
    if state.in_group:
        return _in_group(state, event, command)
    if command is None and state.awaiting:  # the note (or photo) a command asked for
        done = completed(state.awaiting, event) or parse(Event("text", text=state.awaiting))
        return (Run(done),) if done is not None else ()  # a sticker: the question again
    if command is None and state.composing:
        return (Compose(event),)
    if command is None and number_alone(event):
        typed = ascii_digits(event.text.strip()).lstrip("#")
        if typed.isdigit() and 1 <= int(typed) <= len(state.choices):
            pressed = parse(Event("choice", choice=state.choices[int(typed) - 1]))
            if pressed is not None:
                return (Run(pressed),)
        return (NumberHint(event.text.strip()),)
    return (Relay(event),) if command is None else (Run(command),)


def _in_group(state: DeskState, event: Event, command: Command | None) -> tuple[Route, ...]:
    """In the staff group, the topic's case: its own commands are its holder's (writing in
    a waiting case's topic takes it first); any other command works as in private."""
    case = state.topic_case
    if command is not None and command.name in PRIVATE:
        return (Run(command),)  # answered in their private chat (Desk.dispatch)
    if command is None and state.awaiting:  # the note asked for in private, written here:
        asked = parse(Event("text", text=state.awaiting))  # never relayed; asked again there
        return (Run(asked),) if asked is not None else ()
    if case is None:  # outside any case's topic: only what names no one's current case
        if command is not None and (command.name in GROUP_ANYWHERE or (
                command.name == "/history" and command.args.strip())):
            return (Run(command),)
        return ()  # the group's own talk, or a case command with no case to act on
    if command is not None and command.name not in ON_TOPIC_CASE:
        return (Run(Command("/file") if command.name == "/file" else command),)
    if case.status == "claimed" and case.claimed_by != state.staff_id:
        return (Refuse("held by another researcher"),)
    if case.status == "closed":
        return (Run(Command("/claim", str(case.id))),)  # told that it is closed
    if command is None and number_alone(event):  # the group's buttons are not numbered
        return (NumberHint(event.text.strip()),)
    steps: list[Route] = []
    if case.status == "queued":
        steps.append(Run(Command("/claim", str(case.id))))
    if command is None:
        steps.append(Relay(event))
    elif command.name == "/close":
        steps.append(Run(Command("/close")))
    elif command.name != "/claim" or case.status != "queued":
        steps.append(Run(Command("/claim", str(case.id)) if command.name == "/claim" else command))
    return tuple(steps)
