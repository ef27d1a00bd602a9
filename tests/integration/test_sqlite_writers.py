"""SQLite takes one writer at a time: concurrent events in one process take turns instead
of failing with "database is locked" (and losing the event), and an event that cannot be
committed is refused so the platform delivers it again."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest
from sqlalchemy import func, select

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
            assert await uow.first_time("telegram", "update-2", NOW)
        order.append("next committed")

    await asyncio.gather(long_event(), next_event())
    assert order == ["long wrote", "long committed", "next committed"]
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
