"""Delivery of outbox rows through a channel's send function.

Rows are written in the same transaction as the state change; delivery runs
right after the commit. A row is marked sent only after its send returned, so
a crash in between sends it again rather than losing it (at least once).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from conversations.base import Reply
from storage.db import Database

Send = Callable[[str, Reply], Awaitable[None]]


class Outbox:
    def __init__(self, db: Database, clock: Callable[[], datetime]) -> None:
        self.db, self.clock = db, clock

    async def deliver(self, channel: str, send: Send) -> int:
        """Send every pending row of a channel, oldest first; returns how many were sent."""
        sent = 0
        while True:
            async with self.db.unit_of_work() as uow:
                rows = [(r.id, r.chat_id, r.payload) for r in await uow.pending(channel, self.clock())]
            if not rows:
                return sent
            for row_id, chat_id, payload in rows:
                await send(chat_id, Reply.from_dict(payload))
                async with self.db.unit_of_work() as uow:
                    await uow.mark_sent([row_id], self.clock())
                sent += 1
