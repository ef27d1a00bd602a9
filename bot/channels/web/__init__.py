"""Wasl on the association's website: a chat page at /chat (see routes.py).

A browser is known by a random token in an HttpOnly cookie; the database keeps
only a hash of it (the chat id), so a copy of the database cannot be used to
take over a conversation. Both sides of the conversation are stored
(`web_messages`): a page shows the history when it opens, and replies that come
later (a researcher's answer, a status change, an announcement) are pushed to
the open pages of that chat over server-sent events, or wait for the next visit.
Replies leave through the outbox like on every channel: the web "send" is
storing the message and waking the chat's open pages. A researcher's own words
are stored as theirs (`staff`, with how they are named), so that the page shows
who is speaking: the bot, or a person.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import secrets
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, timedelta
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from bot.app import App
from bot.config import Settings
from bot.outbox import Limits, Sender
from conversations.base import Event, InboundEvent, Reply
from storage.db import Unavailable
from storage.models import WebMessage

log = logging.getLogger(__name__)
CHANNEL = "web"
TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")  # secrets.token_urlsafe(32)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def chat_id_of(token: str) -> str:
    """The id stored for a browser: a hash of its token, never the token itself."""
    return hashlib.sha256(token.encode()).hexdigest()[:40]


class Hub:
    """Wakes the open pages of a chat in this process when one of its messages is stored.
    Pages also look in the database every few seconds, for messages another process
    stored (several `wasl serve` processes behind one address)."""

    def __init__(self) -> None:
        self._pages: dict[str, set[asyncio.Event]] = defaultdict(set)

    @contextmanager
    def listen(self, chat_id: str) -> Iterator[asyncio.Event]:
        event = asyncio.Event()
        self._pages[chat_id].add(event)
        try:
            yield event
        finally:
            self._pages[chat_id].discard(event)
            if not self._pages[chat_id]:
                del self._pages[chat_id]

    def notify(self, chat_id: str) -> None:
        for event in self._pages.get(chat_id, ()):
            event.set()

    def pages(self, chat_id: str) -> int:
        return len(self._pages.get(chat_id, ()))


class Limiter:
    """At most `limit` events per key in any sliding `window` of seconds (a minute unless
    told; this process's count)."""

    def __init__(self, limit: int, clock: Callable[[], float] = time.monotonic,
                 window: float = 60.0) -> None:
        self.limit, self.clock, self.window = limit, clock, window
        self._seen: dict[str, deque[float]] = {}

    def allow(self, key: str) -> bool:
        now = self.clock()
        if len(self._seen) > 10_000:  # forget keys that have been quiet for a window
            self._seen = {k: q for k, q in self._seen.items() if q and q[-1] > now - self.window}
        times = self._seen.setdefault(key, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        if len(times) >= self.limit:
            return False
        times.append(now)
        return True


def shown(row: WebMessage) -> dict[str, Any]:
    """A stored message as the page receives it, with when it was stored (UTC; the page
    shows it in Riyadh time, as the association keeps it)."""
    data: dict[str, Any] = {"id": row.id, "from": "bot" if row.direction == "out" else "me",
                            "at": row.created_at.astimezone(UTC).isoformat(timespec="seconds"),
                            **row.payload}
    if row.document_id is not None and "file" in data:
        data["file"] = {**data["file"], "url": f"api/document/{row.document_id}"}
    return data


class WebChat:
    """The web channel of one process: its sender, its open pages and its limits."""

    def __init__(self, app: App, settings: Settings) -> None:
        self.app, self.settings, self.hub = app, settings, Hub()
        limits = Limits(None, 0.0, None, settings.outbox_lease, settings.outbox_max_attempts,
                        settings.outbox_backoff)
        self.sender = Sender(app.outbox, CHANNEL, self._send, limits, app.broadcasts.finish)
        self.max_bytes = int(app.profile.max_file_mb * 1024 * 1024)
        self.per_browser = Limiter(settings.web_messages_per_minute)
        self.per_address = Limiter(settings.web_ip_messages_per_minute)
        self.new_chats = Limiter(settings.web_new_chats_per_hour, window=3600.0)  # per address
        self._known: set[str] = set()  # chats seen in this process (they have a transcript)
        self.wake: Callable[[], None] = self.sender.wake  # the server wakes every channel
        self.page_settings: dict[str, Any] | None = None  # built by routes.page_config

    async def _send(self, chat_id: str, reply: Reply) -> str | None:
        payload: dict[str, Any] = {
            "text": reply.text,
            "choices": [{"id": c.id, "label": c.label} for c in reply.choices],
            "typed": reply.expects is not None and reply.expects.kind not in ("choice", "confirm"),
        }
        if reply.expects is not None:
            payload["kind"] = reply.expects.kind
        if reply.announcement:
            payload["announcement"] = True
        if reply.lasting:
            payload["lasting"] = True
        async with self.app.db.unit_of_work() as uow:
            payload["lang"] = await uow.conversation_language(CHANNEL, chat_id)
            if reply.relayed_by:  # a researcher's own words, under their name
                words = reply.text.partition("\n")[2]
                payload.update(text=words, staff=True, by=reply.relayed_by)
            doc = await uow.document(reply.document_id) if reply.document_id else None
            if doc is not None:
                payload["file"] = {"name": doc.name, "mime": doc.mime}
            row_id = await uow.web_add(chat_id, "out", payload, self.app.outbox.clock(),
                                       doc.id if doc is not None else None)
        self.hub.notify(chat_id)
        return str(row_id)

    async def is_new(self, chat_id: str) -> bool:
        """Whether this chat has never stored a message: a browser not seen before (or a
        made-up cookie)."""
        if chat_id in self._known:
            return False
        async with self.app.db.unit_of_work() as uow:
            seen = bool(await uow.web_messages(chat_id, 0, limit=1))
        if seen:
            self.remember(chat_id)
        return not seen

    def remember(self, chat_id: str) -> None:
        if len(self._known) > 100_000:  # asked again of the database after this
            self._known.clear()
        self._known.add(chat_id)

    async def receive(self, chat_id: str, event: Event, mine: dict[str, Any],
                      language_hint: str | None) -> None:
        """The visitor's message: shown in their transcript, then handled like any other.
        Raises storage.db.Unavailable when the database cannot take it now; it is then
        taken out of the transcript again (if it can be), as the page sends it again."""
        async with self.app.db.unit_of_work() as uow:
            row_id = await uow.web_add(chat_id, "in", mine, self.app.outbox.clock())
        self.hub.notify(chat_id)
        try:
            await self.app.router.handle(InboundEvent(CHANNEL, chat_id, chat_id, event,
                                                      language_hint=language_hint))
        except Unavailable:
            try:
                async with self.app.db.unit_of_work() as uow:
                    await uow.web_take_back(row_id)
            except (SQLAlchemyError, Unavailable):  # still busy: the transcript shows it twice, no more
                log.warning("web chat: could not take back a message the database refused")
            raise
        self.wake()

    async def housekeeping(self, every: float = 3600.0) -> None:
        """Forever: delete transcript rows older than the cookie's life (no page can show
        them any more; the association's records are elsewhere)."""
        while True:
            try:
                before = self.app.outbox.clock() - timedelta(days=self.settings.web_cookie_days)
                async with self.app.db.unit_of_work() as uow:
                    gone = await uow.web_purge(before)
                if gone:
                    log.info("web chat: deleted %d transcript rows older than %s", gone, before)
            except Exception:  # the loop must outlive one bad round (a database restart)
                log.exception("web chat housekeeping failed")
            await asyncio.sleep(every)

    async def messages(self, chat_id: str, after: int = 0) -> list[dict[str, Any]]:
        async with self.app.db.unit_of_work() as uow:
            return [shown(row) for row in await uow.web_messages(chat_id, after)]

    async def language(self, chat_id: str) -> str | None:
        async with self.app.db.unit_of_work() as uow:
            return await uow.conversation_language(CHANNEL, chat_id)

    async def step(self, chat_id: str) -> str | None:
        """Where the chat's conversation is (conversations.state.Step), if it has begun."""
        async with self.app.db.unit_of_work() as uow:
            conv = await uow.conversation(CHANNEL, chat_id)
        return conv.state.get("step") if conv is not None else None

    async def label(self, chat_id: str, choice_id: str) -> str | None:
        """The label of a button of the chat's latest question, or of the lasting ones just
        before it (an answer's "did this help?"; announcements, which carry no buttons, leave
        the question before them in place); None if they have none."""
        async with self.app.db.unit_of_work() as uow:
            recent = await uow.web_recent_out(chat_id)
        shown = [row for row in recent if not row.payload.get("announcement")]
        for n, row in enumerate(shown):
            if n and not row.payload.get("lasting"):
                break
            for choice in row.payload.get("choices") or []:
                if choice.get("id") == choice_id:
                    return str(choice.get("label"))
        return None
