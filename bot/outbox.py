"""Delivery of outbox rows through a channel's send function, within its limits.

Rows are written in the same transaction as the state change; delivery runs
right after the commit and in a loop that retries what is left. A sender
*claims* a small batch of due rows (status "sending" until a lease runs out;
on PostgreSQL with FOR UPDATE SKIP LOCKED, so several processes never take the
same row), reserves that many slots on the channel's shared clock (the
`send_rates` row, so the global rate holds across processes), sends them at
their slots, then records every outcome in one transaction. A row is marked
sent only after its send returned, so a crash in between sends it again once
the lease runs out rather than losing it (at least once): at most one batch
(`Limits.batch`) per killed process is sent twice. Each chat's messages go out
in order: a chat's later row is never taken while an earlier one waits.
Conversation replies (priority 0) go before surveys and announcements.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.channels.errors import Held, Rejected, RetryLater, Unreachable
from conversations.base import Reply
from storage.db import Database

# A send returns the platform's id of the message it created (or None).
Send = Callable[[str, Reply], Awaitable[str | None]]
log = logging.getLogger(__name__)
MAX_ATTEMPTS = 10
PACE = 0.96  # of a platform's rate limit: the margin that keeps every second within it
EXPIRED_EVERY = 5.0  # seconds between looks for rows whose claim ran out
REPLY, SURVEY, BROADCAST = 0, 5, 10  # priorities: lower goes first


def backoff(attempts: int, base: float = 2.0) -> timedelta:
    """2 s, 4 s, 8 s ... capped at 5 minutes (with the default base)."""
    return timedelta(seconds=min(base * 2 ** attempts, 300))


@dataclass(frozen=True)
class Limits:
    """A platform's sending limits; None means unlimited (console, simulator)."""

    per_second: float | None = None  # all chats together, across processes
    chat_interval: float = 0.0  # seconds between two messages to one private chat
    group_per_minute: int | None = None  # messages to one group chat
    lease: float = 60.0  # seconds a claimed row stays this sender's (longer than a send)
    max_attempts: int = MAX_ATTEMPTS  # failed sends of one row before it is given up
    backoff_base: float = 2.0  # seconds before the first retry; doubles each time
    chat_burst: int = 1  # messages a chat may get at once before `chat_interval` applies

    @property
    def pace(self) -> float | None:
        """The rate sends are spaced at: a little below the platform's limit, so that a
        late send followed by one on time, or a network that delivers two together, never
        puts more than the limit into any one second (measured at the fake Bot API)."""
        return self.per_second * PACE if self.per_second else None

    @property
    def batch(self) -> int:
        """Rows claimed at once: about a quarter of a second's worth, 1 to 100. It is also
        the most one killed process can send twice."""
        if not self.per_second:
            return 100
        return max(1, min(100, math.ceil(self.per_second / 4)))


@dataclass
class Claimed:
    rows: list  # (row id, chat id, payload, attempts), in the order they go out
    first_slot: float  # epoch time of the first row's slot on the shared clock
    announcements: bool  # copies of a broadcast among them (its end may be near)


@dataclass
class Outcome:
    row_id: int
    chat_id: str
    ref: str | None = None
    error: Exception | None = None
    attempts: int = 0
    released: bool = False  # never sent: a 429 came while it waited for its slot


class Outbox:
    def __init__(self, db: Database, clock: Callable[[], datetime],
                 limits: Limits | None = None) -> None:
        self.db, self.clock = db, clock
        self.limits = limits or Limits()  # for `deliver`: the lease and retries of the settings
        self._senders: dict[str, Sender] = {}  # `deliver`'s, one per channel, kept

    async def deliver(self, channel: str, send: Send,
                      on_batch: Callable[[], Awaitable[object]] | None = None) -> int:
        """Send what is due now, with no rate limits (console and simulator)."""
        sender = self._senders.get(channel)
        if sender is None:
            sender = self._senders[channel] = Sender(self, channel, send, self.limits)
        sender.send, sender.on_batch = send, on_batch
        return await sender.drain()


class Sender:
    """Delivers one channel's rows, by priority then age, within its limits."""

    def __init__(self, outbox: Outbox, channel: str, send: Send, limits: Limits,
                 on_batch: Callable[[], Awaitable[object]] | None = None) -> None:
        self.outbox, self.channel, self.send, self.limits = outbox, channel, send, limits
        self.name = f"{socket.gethostname()}:{os.getpid()}"
        self.on_batch = on_batch  # after each batch is recorded (broadcasts that ended)
        self._chat_free: dict[str, float] = {}  # monotonic time each chat may get a message
        self._chat_tokens: dict[str, tuple[float, float]] = {}  # (tokens, when) with a burst
        self._paused_until = 0.0
        self._last_start = 0.0  # epoch time the latest send started (spacing when late)
        self._wake = asyncio.Event()
        self._expired_checked = -math.inf  # when rows whose claim ran out were last looked for
        self._slots = asyncio.Semaphore(8)  # sends in flight at once (within the HTTP pool)

    def wake(self) -> None:
        """New rows were committed: look now rather than at the next tick."""
        self._wake.set()

    async def run(self, tick: float = 1.0) -> None:
        """Deliver until cancelled; looks again when woken or every `tick` seconds. What
        ends broadcasts whose last copies were withdrawn (not sent) runs once a tick."""
        checked = 0.0
        while True:
            self._wake.clear()  # (paused by a 429, drain claims nothing: a wake must not spin)
            try:
                await self.drain()
                if self.on_batch is not None and time.monotonic() - checked >= tick:
                    checked = time.monotonic()
                    await self.on_batch()
            except Exception:  # a database hiccup must not stop delivery for good
                log.exception("outbox delivery for %s failed; retrying", self.channel)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=tick)

    async def drain(self) -> int:
        """Send every row that is due and allowed now; returns how many were sent. The next
        batch is claimed while the last sends of a full batch finish, and a batch is
        recorded before the next is sent, so the clock is not left idle between batches.
        While a chat waits out its interval, a commit (`wake`) is looked at at once."""
        sent = 0
        ahead: Claimed | None = None
        while time.monotonic() >= self._paused_until:
            if ahead is not None:
                claimed, ahead = ahead, None
            else:
                now = time.monotonic()
                busy = self._busy()
                self._wake.clear()  # a commit from here on is seen by the wait below
                claimed = await self._claim(busy)
                if not claimed.rows:
                    soonest = min((self._chat_free[c] for c in busy), default=None)
                    if soonest is None or soonest - now > 1.0:
                        return sent
                    with contextlib.suppress(TimeoutError):  # a chat's next message, after
                        await asyncio.wait_for(self._wake.wait(), soonest - now)  # its interval
                    continue
            tasks, released = await self._launch(claimed.rows, claimed.first_slot)
            if not released and len(claimed.rows) >= self.limits.batch:  # more are waiting
                self._wake.clear()
                ahead = await self._claim(self._busy())
                ahead = ahead if ahead.rows else None
            outcomes = released + list(await asyncio.gather(*tasks))
            sent += await self._record(outcomes)
            if self.on_batch is not None and claimed.announcements:
                await self.on_batch()
        if ahead is not None:  # a 429 came after it was claimed: back to the queue
            async with self.outbox.db.unit_of_work() as uow:
                await uow.give_back([row_id for row_id, *_ in ahead.rows])
        return sent

    def _busy(self) -> set[str]:
        """Chats that must wait a little before their next message (1/s per chat...)."""
        now = time.monotonic()
        return {chat for chat, free in self._chat_free.items() if free - now > 0.05}

    async def _claim(self, busy: set[str]) -> Claimed:
        """Take a batch and reserve its slots on the shared clock. Rows whose claim ran out
        (a sender died with them) are looked for every `EXPIRED_EVERY` seconds, not every
        time: they wait out a lease anyway."""
        db, clock, limits = self.outbox.db, self.outbox.clock, self.limits
        now = clock()
        expired = time.monotonic() - self._expired_checked >= EXPIRED_EVERY
        async with db.unit_of_work() as uow:
            rows = await uow.take(self.channel, now, limits.batch,
                                  now + timedelta(seconds=limits.lease), self.name, busy,
                                  expired=expired)
            batch = [(r.id, r.chat_id, r.payload, r.attempts) for r in rows]
            first = time.time()
            if batch and limits.pace:
                first = await uow.reserve(self.channel, len(batch), limits.pace, first)
        if expired:
            self._expired_checked = time.monotonic()
        return Claimed(batch, first, any(r.broadcast_id is not None for r in rows))

    async def _launch(self, batch: list, first_slot: float) -> tuple[list[asyncio.Task],
                                                                     list[Outcome]]:
        """Start each row's send at its slot on the shared clock (never closer to the
        previous send than one slot, even when running late); several in flight at once.
        Rows left when a 429 arrives are not sent (returned as released)."""
        tasks: list[asyncio.Task] = []
        step = 1.0 / self.limits.pace if self.limits.pace else 0.0
        for i, (row_id, chat_id, payload, attempts) in enumerate(batch):
            at = max(first_slot + i * step, self._last_start + step)
            wait = at - time.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if time.monotonic() < self._paused_until:  # a 429 meanwhile: the rest waits
                return tasks, [Outcome(r, c, released=True) for r, c, _, _ in batch[i:]]
            late = time.time() - at  # a sleep overshoots a little: only real lateness counts
            self._last_start = (at if late < step / 2 else time.time()) if step else 0.0
            self._spend(chat_id)
            await self._slots.acquire()
            tasks.append(asyncio.create_task(self._send_one(row_id, chat_id, payload, attempts)))
        return tasks, []

    async def _send_one(self, row_id: int, chat_id: str, payload: dict,
                        attempts: int) -> Outcome:
        outcome = Outcome(row_id, chat_id, attempts=attempts)
        try:
            outcome.ref = await self.send(chat_id, Reply.from_dict(payload))
        except RetryLater as exc:
            self._paused_until = max(self._paused_until, time.monotonic() + exc.seconds)
            log.warning("%s asks to wait %s s", self.channel, exc.seconds)
            outcome.error = exc
        except Exception as exc:  # the edge of a channel: sorted out in _record
            outcome.error = exc
        finally:
            self._slots.release()
        return outcome

    async def _record(self, outcomes: list[Outcome]) -> int:
        """Every outcome of a batch in one transaction; the number sent."""
        db, clock, limits = self.outbox.db, self.outbox.clock, self.limits
        now = clock()
        sent = {o.row_id: o.ref for o in outcomes if o.error is None and not o.released}
        async with db.unit_of_work() as uow:
            await uow.sent(sent, now)
            await uow.give_back([o.row_id for o in outcomes if o.released])
            for o in outcomes:
                exc = o.error
                if exc is None:
                    continue
                if isinstance(exc, RetryLater):  # not the message's fault: no attempt counted
                    await uow.postpone(o.row_id, now + timedelta(seconds=exc.seconds), str(exc))
                    if limits.pace:  # every process waits: push the shared clock
                        await uow.reserve(self.channel, 0, limits.pace, time.time(),
                                          pause=exc.seconds)
                elif isinstance(exc, Unreachable):
                    log.warning("%s chat unreachable (row %s): %s", self.channel, o.row_id, exc)
                    await uow.mark_unreachable(self.channel, o.chat_id,
                                               f"{type(exc).__name__}: {exc}")
                elif isinstance(exc, Held):
                    log.info("%s row %s held: %s", self.channel, o.row_id, exc)
                    await uow.hold(o.row_id, f"Held: {exc}")
                elif isinstance(exc, Rejected):
                    log.error("%s rejected row %s: %s", self.channel, o.row_id, exc)
                    await uow.mark_failed(o.row_id, f"Rejected: {exc}", None)
                else:  # network trouble, a server error: retried, a bounded number of times
                    give_up = o.attempts + 1 >= limits.max_attempts
                    log.warning("%s row %s failed (attempt %s%s): %s", self.channel, o.row_id,
                                o.attempts + 1, ", giving up" if give_up else "",
                                type(exc).__name__)
                    retry_at = None if give_up else now + backoff(o.attempts, limits.backoff_base)
                    await uow.mark_failed(o.row_id, f"{type(exc).__name__}: {exc}", retry_at)
        for o in outcomes:  # a failed chat waits before its next try, to keep order
            if o.error is not None and not isinstance(o.error, RetryLater):
                self._chat_free.pop(o.chat_id, None)
        return len(sent)

    def _spend(self, chat_id: str) -> None:
        """One message to a chat: it may get the next after its interval or, with a burst
        allowance (WhatsApp: 45 at once, then one per 6 s), when a token has come back."""
        now, interval, burst = time.monotonic(), self._interval(chat_id), self.limits.chat_burst
        if burst <= 1 or interval <= 0:
            self._chat_free[chat_id] = now + interval
            return
        tokens, then = self._chat_tokens.get(chat_id, (float(burst), now))
        tokens = min(float(burst), tokens + (now - then) / interval) - 1
        self._chat_tokens[chat_id] = (tokens, now)
        self._chat_free[chat_id] = now if tokens >= 1 else now + (1 - tokens) * interval
        if len(self._chat_tokens) > 10_000:  # forget chats whose allowance is whole again
            self._chat_tokens = {c: (t, w) for c, (t, w) in self._chat_tokens.items()
                                 if t + (now - w) / interval < burst}

    def _interval(self, chat_id: str) -> float:
        group = chat_id.startswith("-")  # Telegram group and channel ids are negative
        if group and self.limits.group_per_minute:
            return 60.0 / self.limits.group_per_minute
        return self.limits.chat_interval
