"""Announcements to beneficiaries: who receives one (a segment), what they see, the
words an admin composes it with, and the words that stop and restart them. Pure:
handlers/broadcasts.py reads and writes the database.

A segment combines conditions: every kind given must hold (AND), any value within
a kind may (OR). The request conditions (status, service, profile field) must all
hold for one and the same request. Nobody who stopped announcements or blocked
the bot is ever in a segment.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from conversations import render
from conversations.base import Choice, Context, Event, Reply
from conversations.desk import LIFECYCLE
from conversations.profile import FieldKind, FieldSpec, Profile
from conversations.text import clean, fold

TEXT_LIMIT = 3800  # Telegram's 4096 less the footer, in either language
CAPTION_LIMIT = 900  # a caption holds 1024 characters, less the footer
SEGMENT_KINDS = ("status", "service", "field", "open_case")


class Segment(BaseModel):
    """Who receives an announcement; empty means everyone reachable."""

    statuses: list[str] = Field(default_factory=list)
    services: list[str] = Field(default_factory=list)
    fields: dict[str, list[str]] = Field(default_factory=dict)  # field key -> accepted values
    open_case: bool = False

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


def parse_segment(specs: list[str], profile: Profile) -> Segment:
    """The shell's `--segment` options: `status=submitted,approved`, `service=KEY`,
    `open-case`, or `FIELD=VALUE` for any profile field (`district=العزيزية`)."""
    segment = Segment()
    fields = {f.key: f for f in segmentable_fields(profile)}
    for spec in specs:
        name, _, values = spec.partition("=")
        name = name.strip().replace("-", "_")
        parts = [clean(v) for v in values.split(",") if clean(v)]
        if name == "open_case" and not values:
            segment.open_case = True
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
    for lang in ("ar", "en"):
        _ = ctx.tr(lang).gettext
        stop = _("stop,unsubscribe,stop announcements")
        start = _("subscribe,resume announcements,start announcements")
        if typed in {" ".join(fold(w).split()) for w in stop.split(",") if w.strip()}:
            return False
        if typed in {" ".join(fold(w).split()) for w in start.split(",") if w.strip()}:
            return True
    return None


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
