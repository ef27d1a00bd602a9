"""Delivery of outbox rows through a channel's send function.

Rows are written in the same transaction as the state change; delivery runs
right after the commit. A row is marked sent only after its send returned, so
a crash in between sends it again rather than losing it (at least once). A
failed send is recorded on its row and retried later with a growing delay.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from conversations.base import Reply
from storage.db import Database

Send = Callable[[str, Reply], Awaitable[None]]
log = logging.getLogger(__name__)
MAX_ATTEMPTS = 10


def backoff(attempts: int) -> timedelta:
    """2 s, 4 s, 8 s ... capped at 5 minutes."""
    return timedelta(seconds=min(2 ** (attempts + 1), 300))


class Outbox:
    def __init__(self, db: Database, clock: Callable[[], datetime]) -> None:
        self.db, self.clock = db, clock

    async def deliver(self, channel: str, send: Send) -> int:
        """Send the pending rows of a channel, oldest first; stop at the first failure so that
        a chat's messages never overtake each other. Returns how many were sent."""
        sent = 0
        while True:
            async with self.db.unit_of_work() as uow:
                rows = [(r.id, r.chat_id, r.payload, r.attempts)
                        for r in await uow.pending(channel, self.clock())]
            if not rows:
                return sent
            for row_id, chat_id, payload, attempts in rows:
                try:
                    await send(chat_id, Reply.from_dict(payload))
                except Exception as exc:  # the edge of a channel: every failure is recorded
                    await self._failed(row_id, attempts, exc)
                    return sent
                async with self.db.unit_of_work() as uow:
                    await uow.mark_sent([row_id], self.clock())
                sent += 1

    async def _failed(self, row_id: int, attempts: int, exc: Exception) -> None:
        give_up = attempts + 1 >= MAX_ATTEMPTS
        log.warning("outbox row %s failed (attempt %s%s): %s", row_id, attempts + 1,
                    ", giving up" if give_up else "", type(exc).__name__)
        retry_at = None if give_up else self.clock() + backoff(attempts)
        async with self.db.unit_of_work() as uow:
            await uow.mark_failed(row_id, f"{type(exc).__name__}: {exc}", retry_at)
