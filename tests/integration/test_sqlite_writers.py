"""SQLite takes one writer at a time: concurrent events in one process take turns instead
of failing with "database is locked" (and losing the event), and an event that cannot be
committed is refused so the platform delivers it again."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest
from sqlalchemy import event, func, select

from bot.app import assemble
from bot.config import Settings
from conversations.base import Event, InboundEvent
from storage import models as m
from storage.db import Database, Unavailable
from tests.conftest import NOW


@pytest.fixture
async def sqlite_db(tmp_path):
    db = Database(f"sqlite+aiosqlite:///{tmp_path}/wasl.db")
    await db.migrate()
    yield db
    await db.close()


async def test_an_event_waits_its_turn_behind_a_long_one_instead_of_failing(sqlite_db):
    """One event holds the write lock longer than SQLite's busy timeout (5 s), as a queue
    of sixteen busy events together can: the next one waits its turn and commits. Before,
    it failed with "database is locked" and the update was lost."""
    order = []

    async def long_event() -> None:
        async with sqlite_db.unit_of_work() as uow:
            assert await uow.first_time("telegram", "update-1", NOW)
            order.append("long wrote")
            await asyncio.sleep(5.5)
        order.append("long committed")

    async def next_event() -> None:
        await asyncio.sleep(0.1)
        async with sqlite_db.unit_of_work() as uow:
            order.append("next wrote")
            assert await uow.first_time("telegram", "update-2", NOW)
        order.append("next committed")

    await asyncio.gather(long_event(), next_event())
    # the next one waited for the long one's work, then both were committed together
    assert order[:2] == ["long wrote", "next wrote"]
    assert sorted(order[2:]) == ["long committed", "next committed"]
    async with sqlite_db.session() as s:
        assert (await s.execute(select(func.count()).select_from(m.ProcessedEvent))).scalar_one() == 2


async def test_an_event_the_database_cannot_take_is_refused_not_dropped(sqlite_db, bakkah,
                                                                        translations, tmp_path):
    """Another process holds the write lock past the busy timeout: the router raises
    Unavailable (the webhook answers 503), nothing of the event is kept, and the same
    update delivered again later is processed once."""
    app = assemble(Settings(), bakkah, sqlite_db, translations, lambda: NOW)
    update = InboundEvent("telegram", "5551", "5551", Event("text", text="السلام عليكم"),
                          dedupe_id="9001")
    other = sqlite3.connect(f"{tmp_path}/wasl.db", timeout=0, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(Unavailable):
            await app.router.handle(update)
    finally:
        other.execute("ROLLBACK")
        other.close()
    async with sqlite_db.session() as s:
        assert (await s.execute(select(func.count()).select_from(m.ProcessedEvent))).scalar_one() == 0
        assert (await s.execute(select(func.count()).select_from(m.OutboxMessage))).scalar_one() == 0

    assert await app.router.handle(update)  # delivered again: processed
    assert not await app.router.handle(update)  # and only once
    async with sqlite_db.session() as s:
        [welcome] = (await s.execute(select(m.OutboxMessage))).scalars()
    assert "السلام عليكم" in welcome.payload["text"]


async def test_an_event_stuck_behind_others_too_long_is_refused(sqlite_db, monkeypatch):
    """The turn has a limit: a unit of work that waited too long (another is stuck) raises
    Unavailable, so the channel answers 503 and the platform retries, instead of hanging."""
    import storage.db

    monkeypatch.setattr(storage.db, "TURN_WAIT", 0.2)
    stuck = asyncio.Event()

    async def stuck_event() -> None:
        async with sqlite_db.unit_of_work():
            stuck.set()
            await asyncio.sleep(1)

    holder = asyncio.create_task(stuck_event())
    await stuck.wait()
    with pytest.raises(Unavailable):
        async with sqlite_db.unit_of_work() as uow:
            await uow.first_time("telegram", "update-3", NOW)
    await holder
    async with sqlite_db.unit_of_work() as uow:  # its turn comes once the other is done
        assert await uow.first_time("telegram", "update-3", NOW)


async def test_events_that_wait_together_commit_together_each_on_its_own(sqlite_db, tmp_path):
    """While one event holds the turn, five more arrive: they share the next commit (one,
    not five), one of them failing takes only its own work with it, and each returns only
    once its work is on disk (read back from another connection the moment it returns)."""
    commits = []
    event.listen(sqlite_db.engine.sync_engine, "commit", lambda conn: commits.append(1))
    first_in = asyncio.Event()
    seen_on_disk: dict[str, bool] = {}

    def on_disk(event_id: str) -> bool:
        other = sqlite3.connect(f"{tmp_path}/wasl.db")
        try:
            return other.execute("SELECT count(*) FROM processed_events WHERE event_id = ?",
                                 (event_id,)).fetchone()[0] == 1
        finally:
            other.close()

    async def one(n: int) -> None:
        if n:
            await first_in.wait()
        async with sqlite_db.unit_of_work() as uow:
            assert await uow.first_time("telegram", f"u{n}", NOW)
            if not n:
                first_in.set()
                await asyncio.sleep(0.3)  # the others queue up behind it meanwhile
            if n == 3:
                raise ValueError("this event's handler failed")
        seen_on_disk[f"u{n}"] = on_disk(f"u{n}")

    results = await asyncio.gather(*(one(n) for n in range(6)), return_exceptions=True)
    assert [type(r).__name__ for r in results] == ["NoneType"] * 3 + ["ValueError"] + ["NoneType"] * 2
    assert seen_on_disk == {f"u{n}": True for n in (0, 1, 2, 4, 5)}
    assert not on_disk("u3")  # the failed one's work is gone, and only its
    assert len(commits) == 1  # one commit for the six of them


async def test_a_failing_first_event_leaves_those_behind_it_unharmed(sqlite_db):
    """The first in a turn fails (no savepoint: nothing else was in the transaction): the
    transaction begins again for those waiting, and their work is kept."""
    first_in = asyncio.Event()

    async def failing() -> None:
        async with sqlite_db.unit_of_work() as uow:
            await uow.first_time("telegram", "bad", NOW)
            first_in.set()
            await asyncio.sleep(0.2)
            raise ValueError("broken")

    async def fine(n: int) -> None:
        await first_in.wait()
        async with sqlite_db.unit_of_work() as uow:
            assert await uow.first_time("telegram", f"ok{n}", NOW)

    results = await asyncio.gather(failing(), fine(1), fine(2), return_exceptions=True)
    assert isinstance(results[0], ValueError) and results[1:] == [None, None]
    async with sqlite_db.session() as s:
        ids = sorted((await s.execute(select(m.ProcessedEvent.event_id))).scalars())
    assert ids == ["ok1", "ok2"]


async def test_a_turn_whose_first_caller_gave_up_is_begun_by_the_next(sqlite_db, monkeypatch):
    """The one who opened a turn is cancelled while it waits for the write lock (a sender
    stopped, a request gone): the one queued behind it in that turn begins it and commits,
    instead of failing with it."""
    import storage.db

    monkeypatch.setattr(storage.db, "GROUP_MAX", 2)
    holding = asyncio.Event()

    async def holder(n: int) -> None:
        async with sqlite_db.unit_of_work() as uow:
            await uow.first_time("telegram", f"held{n}", NOW)
            holding.set()
            await asyncio.sleep(0.4)

    async def one(event_id: str) -> None:
        async with sqlite_db.unit_of_work() as uow:
            await uow.first_time("telegram", event_id, NOW)

    first_turn = [asyncio.create_task(holder(n)) for n in (1, 2)]  # the first turn, full
    await holding.wait()
    opener = asyncio.create_task(one("opener"))  # opens the next turn, waits for the lock
    await asyncio.sleep(0.05)
    behind = asyncio.create_task(one("behind"))  # joins that turn
    await asyncio.sleep(0.05)
    opener.cancel()
    await asyncio.gather(*first_turn)
    await behind  # commits: it raised "the turn could not begin" before
    assert opener.cancelled()
    async with sqlite_db.session() as s:
        ids = sorted((await s.execute(select(m.ProcessedEvent.event_id))).scalars())
    assert ids == ["behind", "held1", "held2"]
