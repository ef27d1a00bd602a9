"""The neutral vocabulary between channels, handlers and flows.

A channel turns a platform update into an `Event`; a flow's `step()` returns a
`Transition`: the next state, the `Reply`s to send and the `Action`s the
handler must carry out in the same transaction. No I/O and no platform types
here.
"""

from __future__ import annotations

import functools
import gettext
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Literal, Protocol

from conversations.profile import Profile
from conversations.text import fold

if TYPE_CHECKING:
    from conversations.knowledge import Knowledge

RIYADH = timezone(timedelta(hours=3), "AST")  # Saudi Arabia keeps no daylight saving time


@dataclass(frozen=True)
class FileRef:
    """A received photo or document. `content` stays with the handler, flows read the rest."""

    name: str
    mime: str
    size: int
    sha256: str
    content: bytes = field(default=b"", repr=False, compare=False)


@dataclass(frozen=True)
class Event:
    """One thing a person did: typed text, pressed a choice, shared a contact or sent a file."""

    # voice: a voice note (its audio in `file`); other: a sticker, a location without words...
    kind: Literal["text", "choice", "contact", "file", "voice", "other"]
    text: str = ""
    choice: str = ""
    contact: str = ""
    contact_is_own: bool = True  # a shared contact card is the sender's own number
    file: FileRef | None = None

    def describe(self) -> str:
        """One line for the conversation log."""
        if self.kind in ("file", "voice") and self.file:
            return f"[{self.kind}] {self.file.name} ({self.file.mime}, {self.file.size} B)"
        if self.kind == "contact":
            return f"[contact] {self.contact}"
        if self.kind == "choice":
            return f"[choice] {self.choice}"
        if self.kind == "other":
            return "[unsupported message]"
        return self.text


@dataclass(frozen=True)
class InboundEvent:
    """An event as a channel delivers it: who, where, and the platform's id for dedupe."""

    channel: str
    sender_id: str
    chat_id: str
    event: Event
    dedupe_id: str | None = None
    language_hint: str | None = None
    reply_to: str | None = None  # the platform id of the message pressed or replied to
    thread_id: str | None = None  # the forum topic a group message was written in


@dataclass(frozen=True)
class Choice:
    id: str
    label: str


@dataclass(frozen=True)
class Expects:
    field: str
    kind: str


@dataclass(frozen=True)
class Reply:
    text: str
    choices: tuple[Choice, ...] = ()
    expects: Expects | None = None
    contact_label: str | None = None  # a "share my number" button, where a channel has one
    document_id: int | None = None  # a stored document sent with the text (its caption)
    case_id: int | None = None  # to the staff group: the case it is about (its topic)
    open_topic: str | None = None  # to the staff group: create the case's topic with this title
    announcement: bool = False  # a broadcast: sent without touching the chat's buttons
    # a message the person did not ask for just now (a status change, a survey, a
    # researcher's reply): WhatsApp sends it as a template outside its 24-hour window
    notice: str | None = None
    staff_id: int | None = None  # the staff member whose action it comes from
    # a researcher's own words, relayed: how they are named (the text's first line says it,
    # "💬 name:"); the web chat shows them apart from the bot's words
    relayed_by: str | None = None
    # how many of the first choices a typed number picks (None: all); the rest, the ways
    # out of a question, are shown by name where a channel numbers choices
    numbered: int | None = None
    # the topic this reply answers a question from (the FAQ or the profile): what the
    # simulator shows, so that an association can check its FAQ
    answered: str | None = None
    # its choices stay pressable under the next question, until the person's next message
    # (an answer's "did this help?" in the middle of a request, asked again just after it)
    lasting: bool = False

    def numbered_lines(self) -> list[str]:
        """The choices as lines of a text channel: numbered, the ways out by name."""
        count = len(self.choices) if self.numbered is None else self.numbered
        return [f"{n}. {c.label}" if n <= count else f"[{c.label}]"
                for n, c in enumerate(self.choices, 1)]

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "text": self.text,
            "choices": [{"id": c.id, "label": c.label} for c in self.choices],
            "expects": {"field": self.expects.field, "kind": self.expects.kind}
            if self.expects else None,
        }
        if self.contact_label:
            data["contact_label"] = self.contact_label
        for key in ("document_id", "case_id", "open_topic", "announcement", "notice", "staff_id",
                    "relayed_by", "answered", "lasting"):
            if getattr(self, key):
                data[key] = getattr(self, key)
        if self.numbered is not None:
            data["numbered"] = self.numbered
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Reply:
        exp = data.get("expects")
        return cls(
            text=data["text"],
            choices=tuple(Choice(c["id"], c["label"]) for c in data.get("choices", [])),
            expects=Expects(exp["field"], exp["kind"]) if exp else None,
            contact_label=data.get("contact_label"),
            document_id=data.get("document_id"),
            case_id=data.get("case_id"),
            open_topic=data.get("open_topic"),
            announcement=bool(data.get("announcement")),
            notice=data.get("notice"),
            staff_id=data.get("staff_id"),
            relayed_by=data.get("relayed_by"),
            numbered=data.get("numbered"),
            answered=data.get("answered"),
            lasting=bool(data.get("lasting")),
        )


class Translator(Protocol):
    def gettext(self, message: str) -> str: ...
    def ngettext(self, singular: str, plural: str, n: int) -> str: ...


@functools.lru_cache(maxsize=1024)  # folded once per catalog, not on every message
def _phrases(translator: Translator, msgid: str) -> frozenset[str]:
    return frozenset(" ".join(fold(w).split()) for w in translator.gettext(msgid).split(",")
                     if w.strip())


@dataclass(frozen=True)
class Context:
    """Everything a flow may know besides its state: the profile, the time, the language."""

    profile: Profile
    now: datetime
    channel: str
    translations: dict[str, Translator]
    case: CaseView | None = None  # the beneficiary's open case, when they are in one
    knowledge: Knowledge | None = None  # what the bot can answer itself (none: it answers nothing)
    # the beneficiary's requests, loaded only where a correction may be asked for
    requests: tuple[RequestView, ...] = ()

    def tr(self, lang: str) -> Translator:
        return self.translations.get(lang) or gettext.NullTranslations()

    def phrases(self, msgid: str) -> frozenset[str]:
        """The comma-separated phrases of `msgid` (a message marked for translation) in
        Arabic and in English, folded, single-spaced: what a typed message is matched
        against, in any spelling of either language."""
        found = _phrases(self.tr("ar"), msgid) | _phrases(self.tr("en"), msgid)
        for lang in ("ar", "en"):  # Wasl's own words too, where the association's differ
            inner = getattr(self.tr(lang), "inner", None)
            if inner is not None:
                found |= _phrases(inner, msgid)
        return found

    @property
    def today(self) -> date:
        """The date in Saudi Arabia, which is what 'today' means to a beneficiary."""
        return self.now.astimezone(RIYADH).date()


def match_choice(event: Event, choices: tuple[Choice, ...], *, numbered: bool = True) -> str | None:
    """The id of the choice a person picked: pressed, typed by number, or typed as its label.

    Typed labels match after Arabic folding (hamza, taa marbuta, tashkeel, digits).
    """
    ids = [c.id for c in choices]
    if event.kind == "choice":
        return event.choice if event.choice in ids else None
    if event.kind != "text":
        return None
    typed = _key(event.text)
    if not typed:
        return None
    if numbered and typed.isdigit():
        n = int(typed)
        return ids[n - 1] if 1 <= n <= len(ids) else None
    for c in choices:
        if typed in (_key(c.label), c.id.casefold()):
            return c.id
    return None


def _key(text: str) -> str:
    """A label reduced to letters and digits, for loose comparison."""
    kept = "".join(ch if ch.isalnum() else " " for ch in fold(text))
    return " ".join(kept.split())


@dataclass(frozen=True)
class RequestView:
    """What a beneficiary or an admin sees of a request."""

    id: int
    number: str
    service: str
    status: str
    decision_due: date
    needs_info: str | None
    created_at: datetime
    confirmed_at: datetime
    fields: dict[str, Any]
    channel: str
    language: str
    beneficiary_id: int
    reviewer_id: int | None = None  # the staff member who took it for review


@dataclass(frozen=True)
class DocumentView:
    """A stored document as staff see it (never its content): whose, which request and
    question it answers, its name, type and size."""

    id: int
    beneficiary_id: int | None
    name: str
    mime: str
    size: int
    request_id: int | None = None
    field_key: str = ""


@dataclass(frozen=True)
class ReviewMark:
    """A reviewer's finding on one item of a request (an answer the documents prove, or a
    document): it matches, or not, and why. The latest mark of an item counts."""

    item: str  # a field's key, or "doc:ID"
    matched: bool
    note: str | None
    staff_id: int
    at: datetime


@dataclass(frozen=True)
class Registration:
    """The request complete and registered (the policy's step 6): the beneficiary's file
    number at the association, who registered it and when."""

    file_number: str
    staff_id: int
    at: datetime


@dataclass(frozen=True)
class DecisionView:
    """The committee's decision (step 5): approved or rejected, why, at which meeting."""

    outcome: str  # approved | rejected
    reason: str | None
    meeting: str
    meeting_date: date
    staff_id: int
    at: datetime


@dataclass(frozen=True)
class DeliveryView:
    """The service provided (step 7): what, how much, when, by whom, and its receipt."""

    service: str
    amount: str | None  # a decimal as typed, normalised ("500", "2.5")
    unit: str | None
    staff_id: int
    at: datetime
    receipt_document_id: int | None = None


@dataclass(frozen=True)
class CaseView:
    id: int
    status: str
    reason: str
    detail: str | None
    beneficiary_id: int
    channel: str
    created_at: datetime
    claimed_by: int | None = None
    audience: str = "researcher"  # or "admin": only admins take it (a low rating's follow-up)
    claimed_at: datetime | None = None
    closed_at: datetime | None = None


@dataclass(frozen=True)
class CaseEntry:
    """One line of a case's conversation: from the beneficiary (in), to them (out), or a
    staff note."""

    direction: str  # in | out | note
    text: str
    at: datetime
    staff_id: int | None = None
    document_id: int | None = None


@dataclass(frozen=True)
class AckView:
    """The beneficiary's signed acknowledgment of a request (the policy's إقرار)."""

    text_version: str
    text: str
    sha256: str
    signature: str | None
    channel: str
    at: datetime


@dataclass(frozen=True)
class RequestStep:
    """One status a request took: who set it, when, with what note."""

    status: str
    actor: str
    note: str | None
    at: datetime


@dataclass(frozen=True)
class OpenCase:
    """A case on the team's board: who holds it, and since when the beneficiary waits for
    an answer (None: the last word was the researcher's)."""

    case: CaseView
    name: str | None
    holder: str | None
    waiting_since: datetime | None


@dataclass(frozen=True)
class Found:
    """A beneficiary found by a staff search: how they matched, their requests."""

    beneficiary_id: int
    name: str | None
    matched: str  # number | national_id | phone | name
    requests: tuple[tuple[str, str], ...]  # (number, status), newest first
    open_case: int | None


@dataclass(frozen=True)
class StaffView:
    id: int
    channel: str
    sender_id: str
    name: str
    role: str  # researcher | committee | admin
    current_case_id: int | None = None
    language: str | None = None  # the desk's language they chose; None: Arabic
    awaiting: str | None = None  # the command their next message completes (a note asked for)

    @property
    def first_name(self) -> str:
        return self.name.split()[0] if self.name.split() else self.name
