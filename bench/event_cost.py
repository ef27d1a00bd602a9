"""Benchmark: what one event costs in Wasl beside a bare storage loop on the same database.

    .venv/bin/python bench/event_cost.py [--people 40] [--pg postgresql://postgres@127.0.0.1/wasl_bench]

For each engine (a fresh SQLite file and, with --pg, that PostgreSQL database, emptied
first: give it a scratch one) it runs the same events three ways, one after another:

- bare loop: per event, one transaction of the four statements an event needs at the
  least (record the update id, read the chat's state, write it, queue one reply), through
  SQLAlchemy Core on the same tables, columns sealed as Wasl seals them;
- Wasl, handled: the router and the beneficiary journey, one event at a time, the sender
  delivering the replies in the background as `wasl serve` does (waking on each commit);
- Wasl, delivered: each event handled and its replies delivered before the next (what
  `wasl simulate` does), so delivery is counted in the event.

Each beneficiary greets, consents, starts a food-basket request and answers its first
questions, asks for the status and goes back to the menu (the typed Arabic of a real
intake, `SCRIPT`). Prints events per second, the ratio to the bare loop and per-event
latency (p50, p99), and the SQL statements and transactions per event. The target is a
ratio of at least 0.6 and a p99 of at most 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402
from sqlalchemy import event as sa_event  # noqa: E402
from sqlalchemy import func, select, update  # noqa: E402
from sqlalchemy.dialects.postgresql import insert as pg_insert  # noqa: E402
from sqlalchemy.dialects.sqlite import insert as sqlite_insert  # noqa: E402

from bot.app import App, build_app  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.outbox import Sender  # noqa: E402
from conversations.base import Event, InboundEvent, Reply  # noqa: E402
from storage import models as m  # noqa: E402
from tests.scratch import empty  # noqa: E402

CHANNEL = "sim"
SCRIPT: list[Event] = [
    Event("text", text="السلام عليكم"), Event("choice", choice="accept"),
    Event("choice", choice="new_request"), Event("choice", choice="food_basket"),
    Event("text", text="محمد عبدالله أحمد الغامدي"), Event("text", text="١٢٣٤٥٦٧٨٩٧"),
    Event("text", text="1449/1/1"), Event("text", text="0501234567"),
    Event("text", text="العزيزية"), Event("text", text="/status"), Event("text", text="/menu"),
]


@dataclass
class Result:
    events: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statements: int = 0
    transactions: int = 0
    delivered: int = 0

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0

    def quantile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000 if ordered else 0.0


class Counter:
    """Counts the statements and transactions the engine runs while `on`."""

    def __init__(self, app: App) -> None:
        self.on, self.statements, self.transactions = False, 0, 0
        engine = app.db.engine.sync_engine
        sa_event.listen(engine, "before_cursor_execute", self._statement)
        sa_event.listen(engine, "commit", self._commit)

    def _statement(self, *_: object) -> None:
        if self.on:
            self.statements += 1

    def _commit(self, *_: object) -> None:
        if self.on:
            self.transactions += 1


async def fresh(url: str) -> App:
    # a scratch database: sealed with a key of the run's own unless one is given
    os.environ.setdefault("WASL_DATA_KEY", base64.b64encode(os.urandom(32)).decode())
    app = await build_app(Settings(database_url=url, profile="bakkah"))
    await empty(app.db)
    return app


def events(people: int, tag: str) -> list[InboundEvent]:
    """Each person's script in turn; every event with an update id of its own."""
    out, n = [], 0
    for person in range(people):
        sender = f"{tag}{person}"
        for event in SCRIPT:
            n += 1
            out.append(InboundEvent(CHANNEL, sender, sender, event, dedupe_id=f"{tag}-{n}"))
    return out


async def bare(url: str, people: int) -> Result:
    """The four statements per event, in one transaction each, nothing else."""
    app = await fresh(url)
    counter, result = Counter(app), Result()
    now = datetime.now(UTC)
    state = {"step": "menu", "lang": "ar", "consented": True, "answers": {"name": "x" * 40}}
    reply = Reply("نص الرد " * 10).to_dict()
    insert = sqlite_insert if app.db.is_sqlite else pg_insert
    counter.on = True
    started = time.perf_counter()
    for inbound in events(people, "bare"):
        t0 = time.perf_counter()
        async with app.db.session() as session, session.begin():
            await session.execute(
                insert(m.ProcessedEvent).values(channel=CHANNEL, event_id=inbound.dedupe_id,
                                                       at=now).on_conflict_do_nothing())
            row = (await session.execute(
                select(m.Conversation.id).where(m.Conversation.channel == CHANNEL,
                                                m.Conversation.sender_id == inbound.sender_id)
                .with_for_update())).scalar_one_or_none()
            if row is None:
                await session.execute(m.Conversation.__table__.insert().values(
                    channel=CHANNEL, sender_id=inbound.sender_id, state=state, updated_at=now))
            else:
                await session.execute(update(m.Conversation).where(m.Conversation.id == row)
                                      .values(state=state, updated_at=now))
            await session.execute(m.OutboxMessage.__table__.insert().values(
                channel=CHANNEL, chat_id=inbound.chat_id, payload=reply, priority=0,
                status="pending", attempts=0, available_at=now, created_at=now,
                has_choices=False))
        result.latencies.append(time.perf_counter() - t0)
    result.seconds = time.perf_counter() - started
    counter.on = False
    result.events, result.statements, result.transactions = (
        len(result.latencies), counter.statements, counter.transactions)
    await app.close()
    return result


async def wasl(url: str, people: int, background: bool) -> Result:
    """Every event through the router; its replies sent after (`background`: by a running
    sender woken on each commit, as `wasl serve` does)."""
    app = await fresh(url)
    counter, result = Counter(app), Result()

    async def send(chat_id: str, reply: Reply) -> None:
        result.delivered += 1

    sender = Sender(app.outbox, CHANNEL, send, app.outbox.limits, app.broadcasts.finish)
    runner = asyncio.create_task(sender.run()) if background else None
    deliver: Callable = sender.wake if background else None  # type: ignore[assignment]
    counter.on = True
    started = time.perf_counter()
    for inbound in events(people, "wasl"):
        t0 = time.perf_counter()
        await app.router.handle(inbound)
        if background:
            deliver()
        else:
            await sender.drain()
        result.latencies.append(time.perf_counter() - t0)
    while runner is not None and await unsent(app):  # the last replies out, then the clock stops
        await asyncio.sleep(0.005)
    result.seconds = time.perf_counter() - started
    counter.on = False
    if runner is not None:
        runner.cancel()
    result.events, result.statements, result.transactions = (
        len(result.latencies), counter.statements, counter.transactions)
    async with app.db.unit_of_work() as uow:
        requests = len(await uow.requests.all_requests())
    await app.close()
    assert result.delivered >= result.events, f"{result.delivered} replies for {result.events} events"
    assert requests == 0, "the script stops before submitting"
    return result


async def unsent(app: App) -> int:
    """Replies waiting or being sent."""
    async with app.db.session() as session:
        return (await session.execute(select(func.count()).select_from(m.OutboxMessage).where(
            m.OutboxMessage.status.in_(("pending", "sending"))))).scalar_one()


async def measure(url: str, people: int) -> list[tuple[str, Result]]:
    """The three loops, each on a database of its own: a fresh SQLite file (the URL's {}
    is the loop's name), or the PostgreSQL one emptied again."""
    return [("bare loop", await bare(url.format("bare"), people)),
            ("Wasl, handled", await wasl(url.format("handled"), people, background=True)),
            ("Wasl, delivered", await wasl(url.format("delivered"), people, background=False))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=40)
    parser.add_argument("--pg", help="PostgreSQL URL to measure as well (emptied first)")
    args = parser.parse_args()
    table = Table("engine", "loop", "events", "events/s", "× bare", "p50 ms", "p99 ms",
                  "statements/event", "transactions/event",
                  title=f"One event, {args.people} beneficiaries × {len(SCRIPT)} events")
    with tempfile.TemporaryDirectory() as tmp:
        engines = [("sqlite", f"sqlite+aiosqlite:///{tmp}/{{}}.db")]
        if args.pg:
            engines.append(("postgresql", args.pg))
        for name, url in engines:
            rows = asyncio.run(measure(url, args.people))
            base = rows[0][1].rate
            for loop, r in rows:
                table.add_row(name, loop, str(r.events), f"{r.rate:.0f}", f"{r.rate / base:.2f}",
                              f"{r.quantile(0.5):.1f}", f"{r.quantile(0.99):.1f}",
                              f"{r.statements / r.events:.1f}",
                              f"{r.transactions / r.events:.1f}")
    Console(width=160).print(table)


if __name__ == "__main__":
    main()
