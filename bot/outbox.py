"""Delivery of outbox rows through a channel's send function, within its limits.

Rows are written in the same transaction as the state change; delivery runs
right after the commit and in a loop that retries what is left. A row is
marked sent only after its send returned, so a crash in between sends it
again rather than losing it (at least once). Each chat's messages go out in
order; a failed send holds that chat's later messages back until it succeeds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.channels.errors import Rejected, RetryLater, Unreachable
from conversations.base import Reply
from storage.db import Database

# A send returns the platform's id of the message it created (or None).
Send = Callable[[str, Reply], Awaitable[str | None]]
log = logging.getLogger(__name__)
MAX_ATTEMPTS = 10


def backoff(attempts: int) -> timedelta:
    """2 s, 4 s, 8 s ... capped at 5 minutes."""
    return timedelta(seconds=min(2 ** (attempts + 1), 300))


@dataclass(frozen=True)
class Limits:
    """A platform's sending limits; None means unlimited (console, simulator)."""

    per_second: float | None = None  # all chats together
    chat_interval: float = 0.0  # seconds between two messages to one private chat
    group_per_minute: int | None = None  # messages to one group chat


class Outbox:
    def __init__(self, db: Database, clock: Callable[[], datetime]) -> None:
        self.db, self.clock = db, clock

    async def deliver(self, channel: str, send: Send) -> int:
        """Send what is due now, with no limits (console and simulator)."""
        return await Sender(self, channel, send, Limits()).drain()


class Sender:
    """Delivers one channel's rows, oldest first within each priority, within its limits."""

    def __init__(self, outbox: Outbox, channel: str, send: Send, limits: Limits) -> None:
        self.outbox, self.channel, self.send, self.limits = outbox, channel, send, limits
        self._next_slot = 0.0  # monotonic time of the next global sending slot
        self._chat_free: dict[str, float] = {}  # monotonic time each chat may get a message
        self._paused_until = 0.0
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """New rows were committed: look now rather than at the next tick."""
        self._wake.set()

    async def run(self, tick: float = 1.0) -> None:
        """Deliver until cancelled; looks again when woken or every `tick` seconds."""
        while True:
            self._wake.clear()
            try:
                await self.drain()
            except Exception:  # a database hiccup must not stop delivery for good
                log.exception("outbox delivery for %s failed; retrying", self.channel)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=tick)

    async def drain(self) -> int:
        """Send every row that is due and allowed now; returns how many were sent."""
        sent, held = 0, set()
        while True:
            db, clock = self.outbox.db, self.outbox.clock
            if time.monotonic() < self._paused_until:
                return sent
            async with db.unit_of_work() as uow:
                rows = [(r.id, r.chat_id, r.payload, r.attempts)
                        for r in await uow.pending(self.channel, clock(), exclude=held)]
            if not rows:
                return sent
            for row_id, chat_id, payload, attempts in rows:
                if chat_id in held:
                    continue
                wait = self._chat_free.get(chat_id, 0.0) - time.monotonic()
                if wait > 0.05:
                    held.add(chat_id)  # not yet: its later messages wait too, to keep order
                    continue
                await self._global_slot()
                if not await self._send_one(row_id, chat_id, payload, attempts):
                    held.add(chat_id)
                    if time.monotonic() < self._paused_until:
                        return sent
                    continue
                sent += 1
                self._chat_free[chat_id] = time.monotonic() + self._interval(chat_id)

    def _interval(self, chat_id: str) -> float:
        group = chat_id.startswith("-")  # Telegram group and channel ids are negative
        if group and self.limits.group_per_minute:
            return 60.0 / self.limits.group_per_minute
        return self.limits.chat_interval

    async def _global_slot(self) -> None:
        if not self.limits.per_second:
            return
        now = time.monotonic()
        if self._next_slot > now:
            await asyncio.sleep(self._next_slot - now)
        self._next_slot = max(now, self._next_slot) + 1.0 / self.limits.per_second

    async def _send_one(self, row_id: int, chat_id: str, payload: dict, attempts: int) -> bool:
        db, clock = self.outbox.db, self.outbox.clock
        try:
            ref = await self.send(chat_id, Reply.from_dict(payload))
        except RetryLater as exc:
            self._paused_until = time.monotonic() + exc.seconds
            log.warning("%s asks to wait %s s", self.channel, exc.seconds)
            async with db.unit_of_work() as uow:  # not the message's fault: no attempt counted
                await uow.postpone(row_id, clock() + timedelta(seconds=exc.seconds), str(exc))
            return False
        except Unreachable as exc:
            log.warning("%s chat unreachable (row %s): %s", self.channel, row_id, exc)
            async with db.unit_of_work() as uow:
                await uow.mark_unreachable(self.channel, chat_id, f"{type(exc).__name__}: {exc}")
            return False
        except Rejected as exc:
            log.error("%s rejected row %s: %s", self.channel, row_id, exc)
            async with db.unit_of_work() as uow:
                await uow.mark_failed(row_id, f"Rejected: {exc}", None)
            return False
        except Exception as exc:  # the edge of a channel: every other failure is retried
            give_up = attempts + 1 >= MAX_ATTEMPTS
            log.warning("%s row %s failed (attempt %s%s): %s", self.channel, row_id, attempts + 1,
                        ", giving up" if give_up else "", type(exc).__name__)
            retry_at = None if give_up else clock() + backoff(attempts)
            async with db.unit_of_work() as uow:
                await uow.mark_failed(row_id, f"{type(exc).__name__}: {exc}", retry_at)
            return False
        async with db.unit_of_work() as uow:
            await uow.mark_sent([row_id], clock(), ref)
        return True
