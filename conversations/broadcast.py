"""Announcements to beneficiaries: who receives one (a segment), what they see, the
admin's composer (`compose` and `after`, over a typed `Draft`), and the words that stop
and restart them. Pure: handlers/broadcasts.py reads and writes the database.

A segment combines conditions: every kind given must hold (AND), any value within
a kind may (OR). The request conditions (status, service, profile field) must all
hold for one and the same request. Nobody who stopped announcements or blocked
the bot is ever in a segment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from conversations import render
from conversations.base import Choice, Context, Event, FileRef, Reply
from conversations.desk import LIFECYCLE
from conversations.fields import N_
from conversations.profile import FieldKind, FieldSpec, Profile
from conversations.text import clean, fold

TEXT_LIMIT = 3800  # Telegram's 4096 less the footer, in either language
CAPTION_LIMIT = 900  # a caption holds 1024 characters, less the footer
SEGMENT_KINDS = ("status", "service", "field", "open_case", "volunteers")
FILE_TYPES = frozenset({"image/jpeg", "image/png", "application/pdf"})  # what one may carry


class Segment(BaseModel):
    """Who receives an announcement; empty means everyone reachable."""

    statuses: list[str] = Field(default_factory=list)
    services: list[str] = Field(default_factory=list)
    fields: dict[str, list[str]] = Field(default_factory=dict)  # field key -> accepted values
    open_case: bool = False
    volunteers: bool = False  # those who signed up to volunteer

    @property
    def by_request(self) -> bool:
        return bool(self.statuses or self.services or self.fields)

    def matches(self, request_status: str, request_service: str, values: dict) -> bool:
        """Whether one request meets every request condition."""
        if self.statuses and request_status not in self.statuses:
            return False
        if self.services and request_service not in self.services:
            return False
        for key, wanted in self.fields.items():
            value = values.get(key)
            if value is None or fold(str(value)) not in {fold(w) for w in wanted}:
                return False
        return True


class SegmentError(ValueError):
    pass


@dataclass(frozen=True)
class BroadcastView:
    """One announcement as storage/broadcasts_store.py gives it: never an ORM row."""

    id: int  # its number for the admin
    status: str  # draft -> sending <-> paused -> done | cancelled
    actor: str  # who sent it (channel:sender, or "cli")
    text: str
    document_id: int | None  # a photo or file, the text its caption
    segment: Segment
    total: int  # recipients, once it is sending
    created_at: datetime
    language: str  # the admin's: the delivery report's
    report_channel: str | None = None  # where the delivery report goes (the admin's chat)
    report_chat: str | None = None


class Draft(BaseModel):
    """The announcement an admin is composing, and what it waits for: its content, who
    receives it (the segment menu), a text field's value, or the go after the preview.
    Frozen: `compose` returns a new draft, so a refused input leaves the old one as it was."""

    model_config = ConfigDict(frozen=True)

    stage: Literal["content", "segment", "value", "confirm"] = "content"
    field: str | None = None  # stage "value": the text field whose value is awaited
    segment: Segment = Field(default_factory=Segment)
    text: str = ""
    document_id: int | None = None

    @property
    def awaits_text(self) -> bool:
        """Whether what the admin writes next is for the draft (its content or a value)
        rather than words for a case."""
        return self.stage in ("content", "value")


def parse_segment(specs: list[str], profile: Profile) -> Segment:
    """The shell's `--segment` options: `status=submitted,approved`, `service=KEY`,
    `open-case`, `volunteers`, or `FIELD=VALUE` for any profile field
    (`district=العزيزية`)."""
    segment = Segment()
    fields = {f.key: f for f in segmentable_fields(profile)}
    for spec in specs:
        name, _, values = spec.partition("=")
        name = name.strip().replace("-", "_")
        parts = [clean(v) for v in values.split(",") if clean(v)]
        if name == "open_case" and not values:
            segment.open_case = True
        elif name == "volunteers" and not values:
            segment.volunteers = True
        elif not parts:
            raise SegmentError(f"{spec!r}: give a value, as in status=submitted")
        elif name == "status":
            unknown = [p for p in parts if p not in LIFECYCLE]
            if unknown:
                raise SegmentError(f"unknown status {unknown}; one of {', '.join(LIFECYCLE)}")
            segment.statuses += parts
        elif name == "service":
            known = [s.key for s in profile.services]
            if any(p not in known for p in parts):
                raise SegmentError(f"unknown service in {parts}; one of {', '.join(known)}")
            segment.services += parts
        elif name in fields:
            segment.fields.setdefault(name, []).extend(_option_keys(fields[name], parts))
        else:
            raise SegmentError(f"{name!r} is not a status, a service or a profile field "
                               f"({', '.join(fields)})")
    return segment


def _option_keys(spec: FieldSpec, values: list[str]) -> list[str]:
    """A choice field is stored by option key; its label in either language works too."""
    if spec.kind is not FieldKind.CHOICE:
        return values
    out = []
    for value in values:
        key = next((o.key for o in spec.options if fold(value) in
                    {fold(o.key), fold(o.label.get("ar")), fold(o.label.get("en"))}), None)
        if key is None:
            raise SegmentError(f"{spec.key}: {value!r} is not one of its options "
                               f"({', '.join(o.key for o in spec.options)})")
        out.append(key)
    return out


def segmentable_fields(profile: Profile) -> list[FieldSpec]:
    """Profile fields an announcement may be aimed by: text and choice fields that are
    not sensitive (a district, a city, a source of income...), once each."""
    seen: dict[str, FieldSpec] = {}
    for service in profile.services:
        for spec in service.fields:
            if spec.kind in (FieldKind.TEXT, FieldKind.CHOICE) and not spec.sensitive:
                seen.setdefault(spec.key, spec)
    return list(seen.values())


def describe(segment: Segment, lang: str, ctx: Context) -> str:
    """The segment in words, one condition a line."""
    _ = ctx.tr(lang).gettext
    lines = []
    if segment.statuses:
        words = [_(render.STATUS_WORDS[s]) for s in segment.statuses]
        lines.append(_("Request status: {values}").format(values=_(" or ").join(words)))
    if segment.services:
        names = [_label(ctx.profile, s, lang) for s in segment.services]
        lines.append(_("Service: {values}").format(values=_(" or ").join(names)))
    fields = {f.key: f for f in segmentable_fields(ctx.profile)}
    for key, values in segment.fields.items():
        spec = fields.get(key)
        shown = [_option_label(spec, v, lang) for v in values]
        name = spec.label.get(lang) if spec else key
        lines.append(f"{name}: {_(' or ').join(shown)}")
    if segment.open_case:
        lines.append(_("Talking with a researcher now (an open case)"))
    if segment.volunteers:
        lines.append(_("Signed up to volunteer"))
    return "\n".join(f"• {line}" for line in lines) or "• " + _("Everyone reachable")


def _label(profile: Profile, service: str, lang: str) -> str:
    found = profile.service(service)
    return found.label.get(lang) if found else service


def _option_label(spec: FieldSpec | None, value: str, lang: str) -> str:
    if spec is not None:
        for option in spec.options:
            if option.key == value:
                return option.label.get(lang)
    return value


# -- what a beneficiary sees --------------------------------------------------------
def message(text: str, lang: str, ctx: Context, document_id: int | None = None) -> Reply:
    """The announcement as one beneficiary gets it: the admin's words as they wrote them
    (plain text, like every reply), the association's name, and how to stop them."""
    _ = ctx.tr(lang).gettext
    name = ctx.profile.association.get(lang)
    footer = _("An announcement from {association}. To stop announcements, send /stop.").format(
        association=name)
    return Reply(f"{text}\n\n— {footer}", document_id=document_id, announcement=True)


def wants(event: Event, ctx: Context) -> bool | None:
    """/stop or "إيقاف" (any spelling): False; /subscribe or "اشتراك": True; else None.
    Only the word alone counts, never inside a sentence."""
    if event.kind != "text":
        return None
    typed = " ".join(fold(event.text).split())
    if typed in ("/stop", "/unsubscribe"):
        return False
    if typed in ("/subscribe", "/resume"):
        return True
    if typed in ctx.phrases(STOP_WORDS):
        return False
    if typed in ctx.phrases(START_WORDS):
        return True
    return None


STOP_WORDS = N_("stop,unsubscribe,stop announcements")
START_WORDS = N_("subscribe,resume announcements,start announcements")


def stopped(lang: str, ctx: Context) -> Reply:
    _ = ctx.tr(lang).gettext
    return Reply(_("You will no longer receive announcements from {association}. Replies "
                   "about your own requests will still reach you. To receive announcements "
                   "again, send /subscribe.").format(association=ctx.profile.association.get(lang)))


def subscribed(lang: str, ctx: Context) -> Reply:
    _ = ctx.tr(lang).gettext
    return Reply(_("You will receive announcements from {association} again. To stop them, "
                   "send /stop.").format(association=ctx.profile.association.get(lang)))


# -- the admin's side ------------------------------------------------------------
def ask_content(lang: str, ctx: Context) -> Reply:
    _ = ctx.tr(lang).gettext
    return Reply(_("New announcement. Send its text, or a photo or document with a caption. "
                   "/broadcast_cancel stops here."))


def content_problem(text: str, has_file: bool, lang: str, ctx: Context) -> str | None:
    """Why this cannot be an announcement, or None."""
    _ = ctx.tr(lang).gettext
    limit = CAPTION_LIMIT if has_file else TEXT_LIMIT
    if not has_file and not text.strip():
        return _("Send the announcement as text, or a photo or document with a caption.")
    if len(text) > limit:
        return _("This is {n} characters long; an announcement holds at most {limit}. "
                 "Please shorten it and send it again.").format(n=len(text), limit=limit)
    return None


def segment_menu(segment: Segment, lang: str, ctx: Context) -> Reply:
    _ = ctx.tr(lang).gettext
    text = _("Who should receive it?\n{conditions}\n\nAdd a condition, or press Done.").format(
        conditions=describe(segment, lang, ctx))
    return Reply(text, choices=(
        Choice("bc_pick:status", _("📋 By request status")),
        Choice("bc_pick:service", _("🧾 By service")),
        Choice("bc_pick:field", _("📍 By district, city or another answer")),
        Choice("bc_pick:open_case", _("💬 Talking with a researcher")),
        *((Choice("bc_pick:volunteers", _("🤝 Volunteers")),)
          if ctx.profile.volunteering.enabled else ()),
        Choice("bc_pick:clear", _("👥 Everyone reachable (clear conditions)")),
        Choice("bc_pick:done", _("✅ Done")),
        Choice("broadcast_cancel:", _("✖ Cancel")),
    ))


def status_menu(lang: str, ctx: Context) -> Reply:
    _ = ctx.tr(lang).gettext
    return Reply(_("Requests in which status?"), choices=tuple(
        Choice(f"bc_add:status={s}", _(render.STATUS_WORDS[s])) for s in LIFECYCLE))


def service_menu(lang: str, ctx: Context) -> Reply:
    _ = ctx.tr(lang).gettext
    return Reply(_("Requests for which service?"), choices=tuple(
        Choice(f"bc_add:service={s.key}", s.label.get(lang)) for s in ctx.profile.services))


def field_menu(lang: str, ctx: Context) -> Reply:
    _ = ctx.tr(lang).gettext
    return Reply(_("Which answer?"), choices=tuple(
        Choice(f"bc_field:{f.key}", f.label.get(lang)) for f in segmentable_fields(ctx.profile)))


def value_menu(spec: FieldSpec, lang: str, ctx: Context) -> Reply:
    _ = ctx.tr(lang).gettext
    if spec.kind is FieldKind.CHOICE:
        return Reply(spec.label.get(lang), choices=tuple(
            Choice(f"bc_add:{spec.key}={o.key}", o.label.get(lang)) for o in spec.options))
    return Reply(_("Type the value of “{field}” (for example a district's name):").format(
        field=spec.label.get(lang)))


def confirm(count: int, excluded: int, lang: str, ctx: Context) -> Reply:
    t = ctx.tr(lang)
    _ = t.gettext
    text = t.ngettext("This announcement will reach {n} beneficiary.",
                      "This announcement will reach {n} beneficiaries.", count).format(n=count)
    if excluded:
        text += "\n" + t.ngettext(
            "{n} person who stopped announcements or blocked the bot is left out.",
            "{n} people who stopped announcements or blocked the bot are left out.",
            excluded).format(n=excluded)
    text += "\n" + _("The message above is exactly what they will see. Send it?")
    return Reply(text, choices=(
        Choice("bc_send:", t.ngettext("📣 Send to {n} beneficiary", "📣 Send to {n} beneficiaries",
                                      count).format(n=count)),
        Choice("bc_pick:again", _("🎯 Change who receives it")),
        Choice("broadcast_cancel:", _("✖ Cancel")),
    ))


def progress(number: int, status: str, counts: dict[str, int], total: int, rate: float | None,
             lang: str, ctx: Context) -> Reply:
    """Where a broadcast stands, with the buttons that fit its state."""
    _ = ctx.tr(lang).gettext
    left = counts.get("pending", 0) + counts.get("sending", 0)
    lines = [_("Announcement #{number}: {state}").format(number=number,
                                                         state=state_word(status, lang, ctx)),
             _("Recipients: {n}").format(n=total),
             _("Sent: {n}").format(n=counts.get("sent", 0)),
             _("Failed: {n}").format(n=counts.get("failed", 0)),
             _("Blocked the bot: {n}").format(n=counts.get("unreachable", 0)),
             _("Left to send: {n}").format(n=left)]
    if counts.get("cancelled"):
        lines.append(_("Not sent (cancelled or stopped): {n}").format(n=counts["cancelled"]))
    if status == "sending" and left and rate:
        minutes = max(1, round(left / rate / 60))
        lines.append(ctx.tr(lang).ngettext("About {n} minute left.", "About {n} minutes left.",
                                           minutes).format(n=minutes))
    choices: tuple[Choice, ...] = ()
    if status == "sending":
        choices = (Choice(f"bc_pause:{number}", _("⏸ Pause")),
                   Choice(f"bc_cancel:{number}", _("✖ Cancel the rest")),
                   Choice(f"broadcast:{number}", _("🔄 Refresh")))
    elif status == "paused":
        choices = (Choice(f"bc_resume:{number}", _("▶ Resume")),
                   Choice(f"bc_cancel:{number}", _("✖ Cancel the rest")))
    return Reply("\n".join(lines), choices=choices)


def state_word(status: str, lang: str, ctx: Context) -> str:
    _ = ctx.tr(lang).gettext
    words = {"sending": _("sending"), "paused": _("paused"), "done": _("finished"),
             "cancelled": _("cancelled"), "draft": _("being composed")}
    return words.get(status, status)


# -- the admin's composer (pure) -------------------------------------------------
# What the admin does while composing: each a button or command (Write is the text or
# file they send when the draft awaits text).
@dataclass(frozen=True)
class Begin:
    """/broadcast: a new announcement; one being composed is dropped."""


@dataclass(frozen=True)
class Write:
    """What the admin writes while composing: the announcement, or a field's value."""

    event: Event


@dataclass(frozen=True)
class Pick:
    """A segment menu button: status, service, field (their menus), open_case, volunteers, clear,
    done (the preview); anything else (again) shows the menu."""

    kind: str


@dataclass(frozen=True)
class AddValue:
    """A value's button, in the shell's syntax: status=approved, service=KEY, FIELD=OPTION."""

    spec: str


@dataclass(frozen=True)
class ChooseField:
    """A profile field picked to aim the announcement by."""

    key: str


@dataclass(frozen=True)
class Send:
    """The go after the preview."""


@dataclass(frozen=True)
class Cancel:
    """/broadcast_cancel, or the Cancel button."""


Input = Begin | Write | Pick | AddValue | ChooseField | Send | Cancel


# What the handler carries out, in the admin's unit of work.
@dataclass(frozen=True)
class Open:
    """Store a new draft for the admin (its number is the announcement's)."""


@dataclass(frozen=True)
class Drop:
    """Cancel the admin's draft: nothing was sent."""


@dataclass(frozen=True)
class StoreFile:
    """Keep the photo or PDF the announcement carries; gives back its document id."""

    file: FileRef


@dataclass(frozen=True)
class Preview:
    """Resolve the segment now; gives back (recipients, left out)."""

    segment: Segment


@dataclass(frozen=True)
class Launch:
    """Queue one copy per recipient and start sending the draft; gives back Launched."""


@dataclass(frozen=True)
class Launched:
    """What Launch gives back: the announcement's number and how many it goes to."""

    number: int
    count: int


Action = Open | Drop | StoreFile | Preview | Launch


@dataclass(frozen=True)
class ComposeStep:
    """The draft to keep (None: nothing is being composed any more), what the admin is
    told, and what the handler does, in order (each result goes through `after`)."""

    draft: Draft | None
    replies: tuple[Reply, ...] = ()
    actions: tuple[Action, ...] = ()


def compose(draft: Draft | None, given: Input, lang: str, ctx: Context) -> ComposeStep:
    """The admin's next step in composing an announcement: content first, then who
    receives it, then the preview and count, then send. Whatever is refused keeps the
    draft as it was and asks again, in the admin's language."""
    _ = ctx.tr(lang).gettext
    if isinstance(given, Begin):
        dropped: tuple[Action, ...] = () if draft is None else (Drop(),)
        return ComposeStep(Draft(), (ask_content(lang, ctx),), (*dropped, Open()))
    if draft is None:
        text = (_("You are not composing an announcement.") if isinstance(given, Cancel) else
                _("You are not composing an announcement. /broadcast starts one."))
        return ComposeStep(None, (Reply(text),))
    if isinstance(given, Cancel):
        return ComposeStep(None, (Reply(_("The announcement was dropped; nothing was sent.")),),
                           (Drop(),))
    if draft.stage == "content" and not isinstance(given, Write):
        return _again(draft, lang, ctx)  # the content comes first
    match given:
        case Write(event) if draft.stage == "content":
            return _content(draft, event, lang, ctx)
        case Write(event) if draft.stage == "value" and draft.field:
            return _typed_value(draft, draft.field, event, lang, ctx)
        case Pick(kind):
            return _picked(draft, kind, lang, ctx)
        case AddValue(spec):
            return _added(draft, spec, lang, ctx)
        case ChooseField(key):
            return _field_chosen(draft, key, lang, ctx)
        case Send() if draft.stage == "confirm":
            return ComposeStep(draft, (), (Launch(),))
    return _again(draft, lang, ctx)


def after(action: Action, result: Any, draft: Draft | None, lang: str,
          ctx: Context) -> ComposeStep:
    """The draft and the replies once an action's result is known: the file's id, who
    the segment reaches (the preview, or the menu again when nobody does), the launch."""
    _ = ctx.tr(lang).gettext
    match action, result, draft:
        case StoreFile(), int(), Draft():
            stored = draft.model_copy(update={"document_id": result})
            return ComposeStep(stored, (segment_menu(stored.segment, lang, ctx),))
        case Preview(), (0, int()), Draft():  # no Send while nobody would receive it
            changed = _on_menu(draft)
            return ComposeStep(changed, (Reply(_("Nobody matches these conditions. Change them:")),
                                         segment_menu(changed.segment, lang, ctx)))
        case Preview(), (int() as count, int() as left_out), Draft():
            sample = message(draft.text, lang, ctx, draft.document_id)
            return ComposeStep(draft.model_copy(update={"stage": "confirm"}),
                               (sample, confirm(count, left_out, lang, ctx)))
        case Launch(), Launched(number, count), _:
            return ComposeStep(None, _launched(number, count, lang, ctx))
    return ComposeStep(draft)


def _launched(number: int, count: int, lang: str, ctx: Context) -> tuple[Reply, Reply]:
    """Sent: how many it goes to, and where it stands (every copy waiting to go)."""
    lead = ctx.tr(lang).ngettext(
        "Announcement #{number} is on its way to {n} beneficiary.",
        "Announcement #{number} is on its way to {n} beneficiaries.", count).format(
        number=number, n=count)
    return Reply(lead), progress(number, "sending", {"pending": count}, count, None, lang, ctx)


def _content(draft: Draft, event: Event, lang: str, ctx: Context) -> ComposeStep:
    """The announcement itself: text, or a photo or PDF with an optional caption."""
    _ = ctx.tr(lang).gettext
    file = event.file if event.kind == "file" else None
    text = event.text.strip() if event.kind in ("text", "file") else ""
    if file is not None and not file.content:  # the channel would not fetch it
        return ComposeStep(draft, (Reply(_("This file is too large. Please send a smaller one.")),))
    problem = content_problem(text, file is not None, lang, ctx)
    if problem:
        return ComposeStep(draft, (Reply(problem),))
    if file is not None and file.mime not in FILE_TYPES:
        return ComposeStep(draft, (Reply(_("Please send a photo (JPEG or PNG) or a PDF document.")),))
    written = draft.model_copy(update={"text": text, "stage": "segment"})
    if file is not None:  # the menu comes once the file is kept (after)
        return ComposeStep(written, (), (StoreFile(file),))
    return _menu(written, lang, ctx)


def _typed_value(draft: Draft, key: str, event: Event, lang: str, ctx: Context) -> ComposeStep:
    _ = ctx.tr(lang).gettext
    value = clean(event.text) if event.kind == "text" else ""
    if not value:
        return ComposeStep(draft, (Reply(_("Please type the value as text.")),))
    return _menu(_on_menu(draft, _merged(draft.segment, Segment(fields={key: [value]}))),
                 lang, ctx)


def _picked(draft: Draft, kind: str, lang: str, ctx: Context) -> ComposeStep:
    """A segment menu button; whatever was awaited before (a value) is no longer."""
    menus = {"status": status_menu, "service": service_menu, "field": field_menu}
    if kind in menus:
        return ComposeStep(_on_menu(draft), (menus[kind](lang, ctx),))
    if kind == "done":
        return ComposeStep(_on_menu(draft), (), (Preview(draft.segment),))
    if kind == "open_case":
        return _menu(_on_menu(draft, _merged(draft.segment, Segment(open_case=True))), lang, ctx)
    if kind == "volunteers":
        return _menu(_on_menu(draft, _merged(draft.segment, Segment(volunteers=True))), lang, ctx)
    if kind == "clear":
        return _menu(_on_menu(draft, Segment()), lang, ctx)
    return _menu(_on_menu(draft), lang, ctx)


def _added(draft: Draft, spec: str, lang: str, ctx: Context) -> ComposeStep:
    try:
        added = parse_segment([spec], ctx.profile)
    except SegmentError:  # a stale or forged button: the conditions so far, asked again
        return _menu(_on_menu(draft), lang, ctx)
    return _menu(_on_menu(draft, _merged(draft.segment, added)), lang, ctx)


def _field_chosen(draft: Draft, key: str, lang: str, ctx: Context) -> ComposeStep:
    """A choice field offers its options as buttons; a text field waits for a typed value."""
    spec = _aimable(key, ctx.profile)
    if spec is None:
        return ComposeStep(_on_menu(draft), (field_menu(lang, ctx),))
    if spec.kind is FieldKind.CHOICE:
        return ComposeStep(_on_menu(draft), (value_menu(spec, lang, ctx),))
    return ComposeStep(draft.model_copy(update={"stage": "value", "field": spec.key}),
                       (value_menu(spec, lang, ctx),))


def _again(draft: Draft, lang: str, ctx: Context) -> ComposeStep:
    """What the draft waits for, asked again (a stale button, Send before the preview)."""
    if draft.stage == "content":
        return ComposeStep(draft, (ask_content(lang, ctx),))
    spec = _aimable(draft.field, ctx.profile)
    if draft.stage == "value" and spec is not None:
        return ComposeStep(draft, (value_menu(spec, lang, ctx),))
    if draft.stage == "confirm":  # the count again, as it is now
        return ComposeStep(draft, (), (Preview(draft.segment),))
    return _menu(_on_menu(draft), lang, ctx)


def _aimable(key: str | None, profile: Profile) -> FieldSpec | None:
    """The profile field an announcement may be aimed by, if that is one."""
    return next((f for f in segmentable_fields(profile) if f.key == key), None)


def _on_menu(draft: Draft, segment: Segment | None = None) -> Draft:
    """The draft back at the segment menu, with these conditions (or its own)."""
    return draft.model_copy(update={"stage": "segment", "field": None,
                                    "segment": draft.segment if segment is None else segment})


def _menu(draft: Draft, lang: str, ctx: Context) -> ComposeStep:
    return ComposeStep(draft, (segment_menu(draft.segment, lang, ctx),))


def _merged(segment: Segment, added: Segment) -> Segment:
    """The conditions with the added ones, each value once (a new segment: the draft's
    own is left as it was)."""
    fields = dict(segment.fields)
    for key, values in added.fields.items():
        fields[key] = sorted({*fields.get(key, []), *values})
    return Segment(statuses=sorted({*segment.statuses, *added.statuses}),
                   services=sorted({*segment.services, *added.services}),
                   fields=fields, open_case=segment.open_case or added.open_case,
                   volunteers=segment.volunteers or added.volunteers)
