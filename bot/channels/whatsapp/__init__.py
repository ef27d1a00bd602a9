"""WhatsApp (Cloud API): webhook JSON to InboundEvents, Replies to Graph API messages.

Plain JSON on both sides, no SDK. Choices become reply buttons (at most 3, titles
of 20 characters), a list (at most 10 rows of 24 characters, the full label moved
to the row's description) or, beyond that, numbered lines that the flows accept
as typed numbers. Titles are cut between whole characters (a letter keeps its
marks, an emoji its joiners) and end with "…".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.channels.pieces import clip, split
from conversations.base import Event, Reply

CHANNEL = "whatsapp"
TEXT_LIMIT = 4096
BODY_LIMIT = 1024  # an interactive message's body; also a media caption
BUTTONS, BUTTON_TITLE = 3, 20
ROWS, ROW_TITLE, ROW_DESCRIPTION, LIST_BUTTON = 10, 24, 72, 20


def _text(to: str, body: str) -> dict[str, Any]:
    return {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to,
            "type": "text", "text": {"body": body, "preview_url": False}}


def _interactive(to: str, body: str, action: dict[str, Any], kind: str) -> dict[str, Any]:
    return {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to,
            "type": "interactive",
            "interactive": {"type": kind, "body": {"text": body}, "action": action}}


def messages(to: str, reply: Reply, list_button: str = "☰") -> list[dict[str, Any]]:
    """The Graph API message bodies of one reply, in order; the choices are on the last.
    An announcement carries none, so the question being answered keeps its buttons."""
    choices = () if reply.announcement else reply.choices
    if not choices:
        return [_text(to, piece) for piece in split(reply.text, TEXT_LIMIT)]
    if len(choices) > ROWS:  # too many for a list: numbered lines, answered by number
        lines = "\n".join(f"{n}. {c.label}" for n, c in enumerate(choices, 1))
        return [_text(to, piece) for piece in split(f"{reply.text}\n\n{lines}", TEXT_LIMIT)]
    *before, body = split(reply.text, BODY_LIMIT) if reply.text.strip() else ["…"]
    out = [_text(to, piece) for piece in before]
    if len(choices) <= BUTTONS:
        buttons = [{"type": "reply", "reply": {"id": c.id, "title": clip(c.label, BUTTON_TITLE)}}
                   for c in choices]
        out.append(_interactive(to, body, {"buttons": _unique_titles(buttons)}, "button"))
        return out
    rows = []
    for c in choices:
        row: dict[str, Any] = {"id": c.id, "title": clip(c.label, ROW_TITLE)}
        if row["title"] != " ".join(c.label.split()):
            row["description"] = clip(c.label, ROW_DESCRIPTION)
        rows.append(row)
    action = {"button": clip(list_button, LIST_BUTTON), "sections": [{"rows": _unique_titles(rows)}]}
    out.append(_interactive(to, body, action, "list"))
    return out


def _unique_titles(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """WhatsApp refuses two buttons (or rows) with the same title: number the repeats."""
    seen: set[str] = set()
    for item in items:
        holder = item.get("reply", item)
        title, n = holder["title"], 2
        while holder["title"] in seen:
            holder["title"] = clip(f"{title} ({n})", len(title) + 4)
            n += 1
        seen.add(holder["title"])
    return items


@dataclass(frozen=True)
class Media:
    """A photo or document a beneficiary sent: fetched by its id before the event is built."""

    media_id: str
    name: str
    mime: str
    caption: str


@dataclass(frozen=True)
class Incoming:
    """One message from a webhook: who, its WhatsApp id, what it is, when it was sent."""

    wa_id: str
    message_id: str
    event: Event | None  # None when the file must be fetched first (`media`)
    timestamp: int
    media: Media | None = None
    reply_to: str | None = None  # the message whose button or list row was pressed


def incoming(payload: dict[str, Any], phone_number_id: str) -> tuple[list[Incoming], list[dict]]:
    """The messages and the status updates in a webhook payload for our number."""
    found: list[Incoming] = []
    statuses: list[dict] = []
    for entry in payload.get("entry") or []:
        for change in entry.get("changes") or []:
            value = change.get("value") or {}
            if change.get("field") != "messages" or (
                    (value.get("metadata") or {}).get("phone_number_id") != phone_number_id):
                continue
            statuses += [s for s in value.get("statuses") or [] if isinstance(s, dict)]
            for message in value.get("messages") or []:
                found.append(_message(message))
    return found, statuses


def _message(message: dict[str, Any]) -> Incoming:
    kind = message.get("type")
    wa_id, mid = str(message["from"]), str(message["id"])
    timestamp = int(message.get("timestamp") or 0)
    context = (message.get("context") or {}).get("id")

    def made(event: Event | None, media: Media | None = None) -> Incoming:
        return Incoming(wa_id, mid, event, timestamp, media, context)

    if kind == "text":
        return made(Event("text", text=str((message.get("text") or {}).get("body", ""))))
    if kind == "interactive":
        inter = message.get("interactive") or {}
        picked = inter.get(inter.get("type")) or {}  # button_reply or list_reply
        return made(Event("choice", choice=str(picked.get("id", ""))))
    if kind == "button":  # a quick-reply button of a template
        button = message.get("button") or {}
        return made(Event("text", text=str(button.get("text") or button.get("payload") or "")))
    if kind in ("image", "document"):
        media = message.get(kind) or {}
        mime = str(media.get("mime_type") or "application/octet-stream").split(";")[0].strip()
        default = f"photo-{mid[-10:]}.{_extension(mime)}" if kind == "image" else f"document-{mid[-10:]}"
        name = str(media.get("filename") or default)
        return made(None, Media(str(media.get("id")), name, mime, str(media.get("caption") or "")))
    if kind == "contacts":
        cards = message.get("contacts") or []
        phones = [p for card in cards for p in (card.get("phones") or [])]
        if phones:
            phone = phones[0]
            own = str(phone.get("wa_id") or "") == wa_id  # only the sender's own card counts
            return made(Event("contact", contact=str(phone.get("phone") or phone.get("wa_id") or ""),
                              contact_is_own=own))
    if kind == "location":
        place = message.get("location") or {}
        where = ", ".join(str(place[k]) for k in ("name", "address") if place.get(k))
        coords = f"{place.get('latitude')}, {place.get('longitude')}"
        return made(Event("text", text=f"{where} ({coords})" if where else coords))
    return made(Event("other"))


def _extension(mime: str) -> str:
    return {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}.get(mime, "jpg")
