"""WhatsApp (Cloud API): webhook JSON to InboundEvents, Replies to Graph API messages.

Plain JSON on both sides, no SDK. Choices become reply buttons (at most 3, titles
of 20 characters), a list (at most 10 rows of 24 characters, the full label moved
to the row's description) or, beyond that, numbered lines that the flows accept
as typed numbers. Titles are cut between whole characters (a letter keeps its
marks, an emoji its joiners) and end with "…".
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from bot.channels import as_dict, as_list, as_str, audio_extension
from bot.channels.pieces import clip, split
from conversations.base import Event, Reply

CHANNEL = "whatsapp"
log = logging.getLogger(__name__)
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
        lines = "\n".join(reply.numbered_lines())
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
    voice: bool = False  # an audio message (a voice note): for a researcher to listen to


@dataclass(frozen=True)
class Incoming:
    """One message from a webhook: who, its WhatsApp id, what it is, when it was sent."""

    wa_id: str
    message_id: str
    event: Event | None  # None when the file must be fetched first (`media`)
    timestamp: int
    media: Media | None = None
    reply_to: str | None = None  # the message whose button or list row was pressed


# A webhook body is signed by Meta, but its shape is still checked field by field: a
# message that cannot be read is skipped (and logged, without its content), and the rest
# of the call is handled; nothing here raises on any JSON.
def _ref(value: Any, limit: int) -> str | None:
    """An id (a WhatsApp id, a message id) that fits where it is stored, or None."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    return value if isinstance(value, str) and 0 < len(value) <= limit and value.isprintable() \
        and not value.isspace() else None


def _timestamp(value: Any) -> int:
    """Seconds since 1970 as Meta sends them (a string of digits); 0 when not sensible."""
    if isinstance(value, str) and value.isdigit() and len(value) <= 11:
        value = int(value)
    return value if isinstance(value, int) and not isinstance(value, bool) \
        and 0 < value < 10**11 else 0


def incoming(payload: Any, phone_number_id: str) -> tuple[list[Incoming], list[dict]]:
    """The messages and the status updates in a webhook payload for our number."""
    found: list[Incoming] = []
    statuses: list[dict] = []
    skipped = 0
    for entry in as_list(as_dict(payload).get("entry")):
        for change in as_list(as_dict(entry).get("changes")):
            change = as_dict(change)
            value = as_dict(change.get("value"))
            if change.get("field") != "messages" or (
                    as_dict(value.get("metadata")).get("phone_number_id") != phone_number_id):
                continue
            statuses += [s for s in as_list(value.get("statuses")) if isinstance(s, dict)]
            for message in as_list(value.get("messages")):
                item = _message(message)
                if item is None:
                    skipped += 1
                else:
                    found.append(item)
    if skipped:
        log.warning("skipped %d WhatsApp messages we cannot read", skipped)
    return found, statuses


def _message(message: Any) -> Incoming | None:
    if not isinstance(message, dict):
        return None
    wa_id, mid = _ref(message.get("from"), 64), _ref(message.get("id"), 100)
    if wa_id is None or mid is None:
        return None
    kind = message.get("type")
    timestamp = _timestamp(message.get("timestamp"))
    context = _ref(as_dict(message.get("context")).get("id"), 100)

    def made(event: Event | None, media: Media | None = None) -> Incoming:
        return Incoming(wa_id, mid, event, timestamp, media, context)

    if kind == "text":
        return made(Event("text", text=as_str(as_dict(message.get("text")).get("body"))))
    if kind == "interactive":
        inter = as_dict(message.get("interactive"))
        which = inter.get("type")  # button_reply or list_reply
        picked = as_dict(inter.get(which)) if isinstance(which, str) else {}
        return made(Event("choice", choice=as_str(picked.get("id"))))
    if kind == "button":  # a quick-reply button of a template
        button = as_dict(message.get("button"))
        return made(Event("text", text=as_str(button.get("text")) or as_str(button.get("payload"))))
    if kind in ("image", "document"):
        media = as_dict(message.get(kind))
        media_id = _ref(media.get("id"), 200)
        if media_id is None:
            return made(Event("other"))
        mime = (as_str(media.get("mime_type"))[:100] or "application/octet-stream"
                ).split(";")[0].strip()
        default = f"photo-{mid[-10:]}.{_extension(mime)}" if kind == "image" else f"document-{mid[-10:]}"
        name = as_str(media.get("filename"))[:200] or default
        return made(None, Media(media_id, name, mime, as_str(media.get("caption"))))
    if kind == "audio":
        media = as_dict(message.get("audio"))
        media_id = _ref(media.get("id"), 200)
        if media_id is None:
            return made(Event("other"))
        mime = (as_str(media.get("mime_type"))[:100] or "audio/ogg").split(";")[0].strip()
        return made(None, Media(media_id, f"voice-{mid[-10:]}.{audio_extension(mime)}", mime, "",
                                voice=True))
    if kind == "contacts":
        phones = [p for card in as_list(message.get("contacts")) if isinstance(card, dict)
                  for p in as_list(card.get("phones")) if isinstance(p, dict)]
        if phones:
            phone = phones[0]
            own = as_str(phone.get("wa_id")) == wa_id  # only the sender's own card counts
            return made(Event("contact", contact=as_str(phone.get("phone")) or as_str(phone.get("wa_id")),
                              contact_is_own=own))
    if kind == "location":
        place = as_dict(message.get("location"))
        where = ", ".join(place[k] for k in ("name", "address") if as_str(place.get(k)))
        lat, lon = (place.get(k) for k in ("latitude", "longitude"))
        if not all(isinstance(n, int | float) and not isinstance(n, bool) for n in (lat, lon)):
            return made(Event("text", text=where) if where else Event("other"))
        coords = f"{lat}, {lon}"
        return made(Event("text", text=f"{where} ({coords})" if where else coords))
    return made(Event("other"))


def _extension(mime: str) -> str:
    return {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}.get(mime, "jpg")
