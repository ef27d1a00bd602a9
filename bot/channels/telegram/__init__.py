"""Telegram: Bot API updates to InboundEvents and Replies to Bot API messages.

Works on plain Bot API JSON, so it is the same whichever runtime talks to the
API (python-telegram-bot or aiogram, see client.py). Messages are sent as plain
text (no parse mode), so nothing a beneficiary types is ever read as markup.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from bot.channels import as_dict, as_str, audio_extension, sniff
from bot.channels.pieces import split
from bot.channels.telegram.client import TelegramClient
from conversations.base import Event, FileRef, InboundEvent, Reply

CHANNEL = "telegram"
CALLBACK = "c:"  # callback data is "c:<choice id>": short, opaque, at most 64 bytes
TEXT_LIMIT = 4096
# What setMyCommands takes: a name of 1-32 lowercase letters, digits and underscores, a
# description of 1-256 characters, at most 100 commands in one menu.
COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")
DESCRIPTION_LIMIT, MENU_LIMIT = 256, 100
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Incoming:
    inbound: InboundEvent
    callback_id: str | None = None  # to answer, so the button stops spinning
    message_id: str | None = None  # the message whose keyboard was pressed


def _heard(chat: dict[str, Any], staff_group: int | None) -> bool:
    """Private chats, and the staff group named in the profile; every other group is ignored."""
    return chat.get("type") == "private" or (staff_group is not None and chat.get("id") == staff_group)


# A webhook body comes from whoever knows the secret, a polled update from a runtime that
# may lag behind the Bot API: every field is checked for its type, and an update that
# cannot be read is skipped (None), never an exception.
def _id(value: Any) -> str | None:
    """A Bot API id (an integer; a string of digits is taken too), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value) if abs(value) < 10**18 else None
    if isinstance(value, str) and value.lstrip("-").isdigit() and len(value) <= 19:
        return value
    return None


def _int(value: Any) -> int:
    """A size or a dimension: 0 when it is not a sensible number."""
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**53 else 0


def _language(user: dict[str, Any]) -> str | None:
    code = user.get("language_code")
    return code if isinstance(code, str) and len(code) <= 35 else None


async def incoming(update: Any, client: TelegramClient, max_bytes: int,
                   staff_group: int | None = None) -> Incoming | None:
    """The event in an update from a private chat (or the staff group), with its file
    downloaded; None otherwise, and for an update of a shape it cannot read."""
    if not isinstance(update, dict) or (uid := _id(update.get("update_id"))) is None:
        return None
    if query := update.get("callback_query"):
        query = as_dict(query)
        message = as_dict(query.get("message"))
        chat, person = as_dict(message.get("chat")), as_dict(query.get("from"))
        sender, chat_id, query_id = _id(person.get("id")), _id(chat.get("id")), query.get("id")
        if sender is None or chat_id is None or not isinstance(query_id, str) \
                or not _heard(chat, staff_group):
            return None
        data = as_str(query.get("data"))
        event = Event("choice", choice=data[len(CALLBACK):] if data.startswith(CALLBACK) else "")
        mid = _id(message.get("message_id"))
        inbound = InboundEvent(CHANNEL, sender, chat_id, event, dedupe_id=uid,
                               language_hint=_language(person), reply_to=mid,
                               thread_id=_thread(message))
        return Incoming(inbound, query_id, mid)
    message = update.get("message")
    if not isinstance(message, dict):
        return None
    chat, person = as_dict(message.get("chat")), as_dict(message.get("from"))
    sender, chat_id = _id(person.get("id")), _id(chat.get("id"))
    if sender is None or chat_id is None or not _heard(chat, staff_group):
        return None
    event = await _event(message, sender, uid, client, max_bytes)
    replied = _id(as_dict(message.get("reply_to_message")).get("message_id"))
    return Incoming(InboundEvent(CHANNEL, sender, chat_id, event, dedupe_id=uid,
                                 language_hint=_language(person), reply_to=replied,
                                 thread_id=_thread(message)))


def _thread(message: dict[str, Any]) -> str | None:
    """The forum topic of a group message (None in private chats and outside topics)."""
    thread = _id(message.get("message_thread_id"))
    return thread if thread and thread != "0" and message.get("is_topic_message") else None


async def _event(message: dict[str, Any], sender: str, uid: str, client: TelegramClient,
                 max_bytes: int) -> Event:
    caption = as_str(message.get("caption"))
    if "text" in message:
        text = message["text"]
        return Event("text", text=text) if isinstance(text, str) else Event("other")
    if isinstance(contact := message.get("contact"), dict):
        own = _id(contact.get("user_id")) == sender  # only the sender's own card counts
        return Event("contact", contact=as_str(contact.get("phone_number")), contact_is_own=own)
    photos = message.get("photo")
    if photos := [p for p in photos if _file_id(p)] if isinstance(photos, list) else []:
        best = max(photos, key=lambda p: (_int(p.get("width")) * _int(p.get("height")),
                                          _int(p.get("file_size"))))
        return Event("file", text=caption,
                     file=await _file(best, f"photo-{uid}.jpg", "image/jpeg", client, max_bytes))
    for key, default in (("voice", "audio/ogg"), ("audio", "audio/mpeg")):  # a voice note
        if _file_id(audio := message.get(key)):
            mime = as_str(audio.get("mime_type"))[:100] or default
            name = as_str(audio.get("file_name"))[:200] or f"voice-{uid}.{audio_extension(mime)}"
            return Event("voice", file=await _file(audio, name, mime, client, max_bytes))
    if _file_id(document := message.get("document")):
        name = as_str(document.get("file_name"))[:200] or f"document-{uid}"
        mime = as_str(document.get("mime_type"))[:100] or "application/octet-stream"
        return Event("file", text=caption, file=await _file(document, name, mime, client, max_bytes))
    return Event("other")


def _file_id(info: Any) -> bool:
    """Whether this is a file Telegram described (a photo size, a document)."""
    return isinstance(info, dict) and isinstance(info.get("file_id"), str) and 0 < len(
        info["file_id"]) <= 1000


async def _file(info: dict[str, Any], name: str, mime: str, client: TelegramClient,
                max_bytes: int) -> FileRef:
    """Download a photo or document, unless Telegram already says it is too large."""
    size = _int(info.get("file_size"))
    if size > max_bytes:  # not downloaded: the flow explains the limit from the size alone
        return FileRef(name, mime, size, "")
    content = await client.download(info["file_id"])
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


def command_menu(commands: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """A command menu Telegram accepts, from (command, description) pairs: the slash taken
    off, each name once, a name Telegram cannot show left out (never cut into another
    command), descriptions cut to the limit, at most 100 commands."""
    menu: dict[str, str] = {}
    for command, description in commands:
        name = command.removeprefix("/")
        text = " ".join(description.split()) or name
        if COMMAND_NAME.fullmatch(name) and name not in menu:
            cut = text if len(text) <= DESCRIPTION_LIMIT else text[:DESCRIPTION_LIMIT - 1].rstrip() + "…"
            menu[name] = cut
    return list(menu.items())[:MENU_LIMIT]
