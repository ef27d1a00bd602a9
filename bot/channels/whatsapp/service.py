"""Wasl on WhatsApp: webhooks in (bot/server.py checks their signature first), messages
out through the outbox within WhatsApp's rules.

The 24-hour window: WhatsApp lets a business write freely only within 24 hours of the
person's last message (`chat_windows`). Outside it, a notice the person must get (a
status change, a survey, an announcement, a researcher's reply) goes as the approved
template the profile names for its kind; without one, the message is held in the
outbox, the staff member behind it is told, and it goes as soon as the person writes.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.app import App
from bot.channels import sniff
from bot.channels.errors import Held, TemporaryFailure
from bot.channels.whatsapp import CHANNEL, Incoming, incoming, messages
from bot.channels.whatsapp.client import OutsideWindow, WhatsAppClient
from bot.config import Settings
from bot.outbox import Limits, Sender
from conversations.base import Event, FileRef, InboundEvent, Reply
from conversations.fields import N_
from storage.db import Unavailable

log = logging.getLogger(__name__)
WINDOW = timedelta(hours=24) - timedelta(minutes=5)  # a margin for clocks and queues
PARAM_LIMIT = 1024  # characters in one template parameter (on one line)
AUDIO_TYPES = frozenset({"audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg"})
# the document types the Cloud API accepts (its media reference); others go as text/plain
DOCUMENT_TYPES = frozenset({
    "text/plain", "application/pdf", "application/msword", "application/vnd.ms-excel",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation"})


class WhatsAppService:
    def __init__(self, app: App, client: WhatsAppClient, settings: Settings) -> None:
        self.app, self.client, self.settings = app, client, settings
        limits = Limits(settings.whatsapp_rate, settings.whatsapp_chat_interval, None,
                        settings.outbox_lease, settings.outbox_max_attempts,
                        settings.outbox_backoff, settings.whatsapp_chat_burst)
        self.sender = Sender(app.outbox, CHANNEL, self._send, limits, app.broadcasts.finish)
        self.wake: Callable[[], None] = self.sender.wake  # `wasl serve` wakes every channel
        self.max_bytes = int(app.profile.max_file_mb * 1024 * 1024)
        self._uploaded: dict[tuple[int, str], str] = {}  # (document id, sha256) -> media id
        self._uploading: dict[tuple[int, str], asyncio.Lock] = {}  # copies sent at once upload it once

    # -- in ------------------------------------------------------------------------------
    async def handle(self, payload: dict[str, Any]) -> None:
        """One webhook call: delivery reports, then each message in the order it was
        written. Raises TemporaryFailure when a file could not be fetched (WhatsApp then
        delivers the call again; the dedupe makes that safe)."""
        found, statuses = incoming(payload, self.client.phone_number_id)
        for status in statuses:
            await self._status(status)
        for item in sorted(found, key=lambda i: i.timestamp):
            event = item.event or await self._fetch(item)
            now = self.app.outbox.clock()
            written = datetime.fromtimestamp(item.timestamp, UTC) if item.timestamp else now
            async with self.app.db.unit_of_work() as uow:
                await uow.saw(CHANNEL, item.wa_id, min(written, now))
                released = await uow.release_held(CHANNEL, item.wa_id, now)
            if released:
                log.info("whatsapp: %d held messages go now that the person wrote", released)
            await self.app.router.handle(InboundEvent(
                CHANNEL, item.wa_id, item.wa_id, event, dedupe_id=item.message_id,
                reply_to=item.reply_to))
        if found or statuses:
            self.wake()

    async def _fetch(self, item: Incoming) -> Event:
        """A photo or document: its details, then its bytes, unless it is too large."""
        media = item.media
        assert media is not None
        info = await self.client.media(media.media_id)
        size = int(info.get("file_size") or 0)
        mime = str(info.get("mime_type") or media.mime).split(";")[0].strip()
        kind = "voice" if media.voice else "file"
        if size > self.max_bytes:  # not downloaded: the flow explains the limit
            return Event(kind, text=media.caption, file=FileRef(media.name, mime, size, ""))
        content = await self.client.download(str(info["url"]), self.max_bytes)
        if len(content) > self.max_bytes:
            return Event(kind, text=media.caption,
                         file=FileRef(media.name, mime, len(content), ""))
        return Event(kind, text=media.caption, file=FileRef(
            media.name, sniff(content, mime), len(content), hashlib.sha256(content).hexdigest(),
            content))

    async def _status(self, status: dict[str, Any]) -> None:
        state, ref = status.get("status"), status.get("id")
        if state not in ("sent", "delivered", "read", "failed") or not isinstance(ref, str) \
                or not 0 < len(ref) <= 64:
            return
        errors = status.get("errors")
        error = "; ".join(f"WhatsApp error {e.get('code')}: {e.get('title') or e.get('message')}"
                          for e in (errors if isinstance(errors, list) else [])
                          if isinstance(e, dict))[:1000] or None
        stamp = status.get("timestamp")
        at = (datetime.fromtimestamp(int(stamp), UTC)
              if isinstance(stamp, str) and stamp.isdigit() and len(stamp) <= 11
              else self.app.outbox.clock())
        async with self.app.db.unit_of_work() as uow:
            known = await uow.delivered(CHANNEL, ref, state, at, error)
        if state == "failed" and known:
            log.warning("whatsapp: message %s failed: %s", ref, error)

    # -- out -----------------------------------------------------------------------------
    async def _send(self, chat_id: str, reply: Reply) -> str | None:
        async with self.app.db.unit_of_work() as uow:
            seen = await uow.last_seen(CHANNEL, chat_id)
            lang = await uow.conversation_language(CHANNEL, chat_id) or "ar"
        if seen is None or self.app.outbox.clock() - seen > WINDOW:
            return await self._outside(chat_id, reply, lang)
        try:
            return await self._deliver(chat_id, reply, lang)
        except OutsideWindow:  # our idea of the window was wrong (a clock, a lost webhook)
            return await self._outside(chat_id, reply, lang)

    async def _deliver(self, chat_id: str, reply: Reply, lang: str) -> str | None:
        if reply.document_id is not None:
            media = await self._media(reply.document_id)
            if media is not None:
                kind, media_id, name = media
                body: dict[str, Any] = {"id": media_id, "caption": reply.text[:1024]}
                if kind == "document":
                    body["filename"] = name
                if kind == "audio":  # an audio message takes no caption: its words go first
                    body = {"id": media_id}
                    await self._words(chat_id, replace(reply, document_id=None), lang)
                return await self.client.send({"messaging_product": "whatsapp",
                                               "recipient_type": "individual", "to": chat_id,
                                               "type": kind, kind: body})
        return await self._words(chat_id, reply, lang)

    async def _words(self, chat_id: str, reply: Reply, lang: str) -> str | None:
        word = self.app.translations[lang].gettext(N_("Options"))
        ref = None
        for message in messages(chat_id, reply, word):
            ref = await self.client.send(message)
        return ref

    async def _media(self, document_id: int) -> tuple[str, str, str] | None:
        """A stored document uploaded to WhatsApp (once per process): kind, id, name."""
        async with self.app.db.unit_of_work() as uow:
            doc = await uow.document(document_id)
        if doc is None:
            return None
        kind = ("image" if doc.mime in ("image/jpeg", "image/png") else
                "audio" if doc.mime in AUDIO_TYPES else "document")
        # WhatsApp takes documents of a few types only; another (the JSON copy of one's data)
        # goes as plain text, under its own name
        mime = doc.mime if kind != "document" or doc.mime in DOCUMENT_TYPES else "text/plain"
        key = (document_id, doc.sha256)  # (SQLite may give a deleted document's id again)
        async with self._uploading.setdefault(key, asyncio.Lock()):
            if key not in self._uploaded:
                self._uploaded[key] = await self.client.upload(doc.content, mime, doc.name)
        return kind, self._uploaded[key], doc.name

    async def _outside(self, chat_id: str, reply: Reply, lang: str) -> str | None:
        """The window is closed: the notice's template, or hold it."""
        kind = "announcement" if reply.announcement else reply.notice
        template = self.app.profile.whatsapp.templates.get(kind) if kind else None
        if template is None:
            await self._tell_staff(chat_id, reply)
            raise Held("outside WhatsApp's 24-hour window, and no template for "
                       f"{kind or 'a reply'}")
        code = template.languages.get(lang) or next(iter(template.languages.values()))
        values = {"association": self.app.profile.association.get(lang),
                  "text": " ".join(reply.text.split())[:PARAM_LIMIT]}
        components = [{"type": "body", "parameters": [
            {"type": "text", "text": values[p]} for p in template.params]}]
        return await self.client.send({
            "messaging_product": "whatsapp", "recipient_type": "individual", "to": chat_id,
            "type": "template",
            "template": {"name": template.name, "language": {"code": code},
                         "components": components}})

    async def _tell_staff(self, chat_id: str, reply: Reply) -> None:
        """The staff member behind a held message learns it waits, on their own channel."""
        if reply.staff_id is None:
            return
        async with self.app.db.unit_of_work() as uow:
            staff = await uow.desk.staff_by_id(reply.staff_id)
            if staff is None:
                return
            _ = self.app.translations[staff.language or "ar"].gettext  # the desk's language
            text = _("Your message to the beneficiary on WhatsApp waits: they have not written "
                     "for 24 hours, and WhatsApp allows only approved templates then. It will "
                     "go as soon as they write.")
            await uow.enqueue(staff.channel, staff.sender_id, Reply(text).to_dict(),
                              self.app.outbox.clock())


async def retrying_handle(service: WhatsAppService, payload: dict[str, Any]) -> bool:
    """Handle a webhook call; False when it should be delivered again later (a file that
    could not be fetched, the database busy: what was handled is not handled twice)."""
    try:
        await service.handle(payload)
    except TemporaryFailure as exc:
        log.warning("whatsapp: could not fetch a file now (%s); WhatsApp will retry", exc)
        return False
    except Unavailable:
        log.warning("whatsapp: the database is busy; WhatsApp will deliver the call again")
        return False
    return True

