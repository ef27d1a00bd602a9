"""Storage on both engines: migrations match the models, counters, dedupe, outbox."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from storage.db import Database, normalise_url
from storage.models import Base
from tests.conftest import NOW


async def test_migrations_create_exactly_the_models(database):
    def diff(connection):
        return compare_metadata(MigrationContext.configure(connection), Base.metadata)

    async with database.engine.connect() as conn:
        assert await conn.run_sync(diff) == []


async def test_migrating_twice_is_harmless(database):
    await database.migrate()


async def test_counter_is_atomic_under_concurrency(database):
    async def take() -> int:
        async with database.unit_of_work() as uow:
            return await uow.next_value("request:BK:2026")

    values = await asyncio.gather(*(take() for _ in range(20)))
    assert sorted(values) == list(range(1, 21))


async def test_processed_event_is_seen_once(database):
    async with database.unit_of_work() as uow:
        assert await uow.first_time("telegram", "100", NOW)
        assert not await uow.first_time("telegram", "100", NOW)
        assert await uow.first_time("whatsapp", "100", NOW)


async def test_outbox_order_priority_and_availability(database):
    async with database.unit_of_work() as uow:
        await uow.enqueue("sim", "a", {"text": "broadcast"}, NOW, priority=5)
        await uow.enqueue("sim", "a", {"text": "first"}, NOW)
        await uow.enqueue("sim", "a", {"text": "second"}, NOW)
        await uow.enqueue("sim", "a", {"text": "later"}, NOW + timedelta(minutes=5))
        await uow.enqueue("console", "a", {"text": "other channel"}, NOW)
    async def drain(at):
        order = []
        for _ in range(5):  # one row of a chat at a time, replies before the announcement
            async with database.unit_of_work() as uow:
                rows = await uow.pending("sim", at)
                if not rows:
                    return order
                order.append(rows[0].payload["text"])
                await uow.mark_sent([rows[0].id], at)
        return order

    # "later" is not due yet, and as a reply it goes before the announcement: that waits
    assert await drain(NOW + timedelta(minutes=1)) == ["first", "second"]
    assert await drain(NOW + timedelta(minutes=6)) == ["later", "broadcast"]


async def test_datetimes_come_back_aware_utc(database):
    async with database.unit_of_work() as uow:
        await uow.enqueue("sim", "a", {"text": "x"}, NOW)
    async with database.unit_of_work() as uow:
        [row] = await uow.pending("sim", NOW)
        assert row.created_at == NOW and row.created_at.utcoffset() == timedelta(0)


def test_plain_urls_get_async_drivers():
    assert normalise_url("sqlite:///data/w.db") == "sqlite+aiosqlite:///data/w.db"
    assert normalise_url("postgresql://u:p@h/db") == "postgresql+asyncpg://u:p@h/db"


async def test_rollback_on_error_keeps_nothing(database: Database):
    try:
        async with database.unit_of_work() as uow:
            await uow.enqueue("sim", "a", {"text": "x"}, NOW)
            raise RuntimeError("crash before commit")
    except RuntimeError:
        pass
    async with database.unit_of_work() as uow:
        assert await uow.pending("sim", NOW) == []


async def test_two_researchers_cannot_claim_the_same_case(database):
    async with database.unit_of_work() as uow:
        a = await uow.desk.add_staff("sim", "a", "A", "researcher", NOW)
        b = await uow.desk.add_staff("sim", "b", "B", "researcher", NOW)
        person = await uow.add_beneficiary("sim", "u", "u", "ar", NOW)
        case = await uow.desk.add_case(person, "asked", None, "sim", NOW, [])

    async def claim(staff_id: int) -> bool:
        async with database.unit_of_work() as uow:
            return await uow.desk.claim(case.id, staff_id, NOW)

    results = await asyncio.gather(*(claim(s) for s in [a.id, b.id] * 5))
    assert results.count(True) == 1
    async with database.unit_of_work() as uow:
        assert (await uow.desk.case(case.id)).status == "claimed"
