"""Telegram: Bot API updates to InboundEvents and Replies to Bot API messages.

Works on plain Bot API JSON, so it is the same whichever runtime talks to the
API (python-telegram-bot or aiogram, see client.py). Messages are sent as plain
text (no parse mode), so nothing a beneficiary types is ever read as markup.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import Any

from bot.channels import sniff
from bot.channels.pieces import split
from bot.channels.telegram.client import TelegramClient
from conversations.base import Event, FileRef, InboundEvent, Reply

CHANNEL = "telegram"
CALLBACK = "c:"  # callback data is "c:<choice id>": short, opaque, at most 64 bytes
TEXT_LIMIT = 4096
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Incoming:
    inbound: InboundEvent
    callback_id: str | None = None  # to answer, so the button stops spinning
    message_id: str | None = None  # the message whose keyboard was pressed


def _heard(chat: dict[str, Any], staff_group: int | None) -> bool:
    """Private chats, and the staff group named in the profile; every other group is ignored."""
    return chat.get("type") == "private" or (staff_group is not None and chat.get("id") == staff_group)


async def incoming(update: dict[str, Any], client: TelegramClient, max_bytes: int,
                   staff_group: int | None = None) -> Incoming | None:
    """The event in an update from a private chat (or the staff group), with its file
    downloaded; None otherwise."""
    uid = str(update.get("update_id"))
    if query := update.get("callback_query"):
        message = query.get("message") or {}
        if not _heard(message.get("chat") or {}, staff_group):
            return None
        data = str(query.get("data") or "")
        event = Event("choice", choice=data[len(CALLBACK):] if data.startswith(CALLBACK) else "")
        mid = str(message.get("message_id"))
        inbound = InboundEvent(CHANNEL, str(query["from"]["id"]), str(message["chat"]["id"]), event,
                               dedupe_id=uid, language_hint=query["from"].get("language_code"),
                               reply_to=mid, thread_id=_thread(message))
        return Incoming(inbound, str(query["id"]), mid)
    message = update.get("message")
    if not message or not _heard(message.get("chat") or {}, staff_group) or "from" not in message:
        return None
    sender = str(message["from"]["id"])
    event = await _event(message, sender, uid, client, max_bytes)
    replied = (message.get("reply_to_message") or {}).get("message_id")
    return Incoming(InboundEvent(CHANNEL, sender, str(message["chat"]["id"]), event, dedupe_id=uid,
                                 language_hint=message["from"].get("language_code"),
                                 reply_to=str(replied) if replied else None,
                                 thread_id=_thread(message)))


def _thread(message: dict[str, Any]) -> str | None:
    """The forum topic of a group message (None in private chats and outside topics)."""
    thread = message.get("message_thread_id")
    return str(thread) if thread and message.get("is_topic_message") else None


async def _event(message: dict[str, Any], sender: str, uid: str, client: TelegramClient,
                 max_bytes: int) -> Event:
    if "text" in message:
        return Event("text", text=str(message["text"]))
    if contact := message.get("contact"):
        own = str(contact.get("user_id")) == sender  # only the sender's own card counts
        return Event("contact", contact=str(contact.get("phone_number", "")), contact_is_own=own)
    if photos := message.get("photo"):
        best = max(photos, key=lambda p: (p.get("width", 0) * p.get("height", 0), p.get("file_size", 0)))
        return Event("file", text=str(message.get("caption") or ""),
                     file=await _file(best, f"photo-{uid}.jpg", "image/jpeg", client, max_bytes))
    if document := message.get("document"):
        name = document.get("file_name") or f"document-{uid}"
        mime = document.get("mime_type") or "application/octet-stream"
        return Event("file", text=str(message.get("caption") or ""),
                     file=await _file(document, name, mime, client, max_bytes))
    return Event("other")


async def _file(info: dict[str, Any], name: str, mime: str, client: TelegramClient,
                max_bytes: int) -> FileRef:
    """Download a photo or document, unless Telegram already says it is too large."""
    size = int(info.get("file_size") or 0)
    if size > max_bytes:  # not downloaded: the flow explains the limit from the size alone
        return FileRef(name, mime, size, "")
    content = await client.download(str(info["file_id"]))
    return FileRef(name, sniff(content, mime), len(content), hashlib.sha256(content).hexdigest(),
                   content)


def markup(reply: Reply) -> dict[str, Any]:
    """Choices as inline buttons; a phone question offers "share my contact" instead."""
    if reply.expects and reply.expects.kind == "phone":
        rows = [[{"text": reply.contact_label or "📱", "request_contact": True}]]
        rows += [[{"text": c.label}] for c in reply.choices]
        return {"keyboard": rows, "resize_keyboard": True, "one_time_keyboard": True}
    if reply.choices:
        rows = [[{"text": c.label, "callback_data": f"{CALLBACK}{c.id}"}] for c in reply.choices]
        return {"inline_keyboard": rows}
    return {"remove_keyboard": True}


def messages(reply: Reply) -> list[tuple[str, dict[str, Any] | None]]:
    """The Bot API messages of one reply: its text in pieces, the buttons on the last.
    An announcement carries no keyboard at all, so the buttons of the question the
    person is answering stay where they are."""
    pieces = split(reply.text, TEXT_LIMIT)
    last = None if reply.announcement else markup(reply)
    return [(p, last if i == len(pieces) - 1 else None) for i, p in enumerate(pieces)]

