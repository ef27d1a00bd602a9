"""Storage on both engines: migrations match the models, counters, dedupe, outbox."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from storage.db import Database, Unavailable, alembic_config, normalise_url
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


async def test_a_reopen_and_a_new_case_at_the_same_moment_leave_one_open_case(database):
    """A researcher reopens a beneficiary's closed case while the beneficiary asks for a
    new one: whichever commits first wins, the other is refused (the reopen says so; the
    new case's event is delivered again and then goes into the reopened case)."""
    async with database.unit_of_work() as uow:
        staff = await uow.desk.add_staff("sim", "a", "A", "researcher", NOW)
        person = await uow.add_beneficiary("sim", "u", "u", "ar", NOW)
        old = await uow.desk.add_case(person, "asked", None, "sim", NOW, [])
        await uow.desk.claim(old.id, staff.id, NOW)
        await uow.desk.close_case(old.id, staff.id, NOW)

    async def reopen() -> bool:
        async with database.unit_of_work() as uow:
            return await uow.desk.reopen(old.id, staff.id, NOW)

    async def ask() -> str:
        try:
            async with database.unit_of_work() as uow:
                await uow.desk.add_case(person, "asked", None, "sim", NOW, [])
            return "opened"
        except Unavailable:
            return "again later"

    results = await asyncio.gather(reopen(), ask(), reopen(), ask())
    async with database.unit_of_work() as uow:
        open_ = [c for c in await uow.desk.cases_of(person) if c.status != "closed"]
    assert len(open_) == 1
    if open_[0].id == old.id:
        assert results.count(True) == 1 and results.count("opened") == 0
    else:
        assert results.count(True) == 0 and results.count("opened") == 1


async def test_upgrading_keeps_only_the_newest_open_case_of_each_beneficiary(database):
    """A database from before the one-open-case index, holding two open cases of one
    beneficiary: the upgrade closes the older one instead of failing."""
    async with database.engine.begin() as conn:
        await conn.run_sync(lambda c: command.downgrade(alembic_config(c), "0010"))
    async with database.unit_of_work() as uow:  # beneficiaries as that schema had them
        insert = text("INSERT INTO beneficiaries (language, unreachable, created_at) "
                      "VALUES ('ar', false, :at)")
        await uow.session.execute(insert, {"at": NOW})
        await uow.session.execute(insert, {"at": NOW})
        person, other = (await uow.session.execute(
            text("SELECT id FROM beneficiaries ORDER BY id"))).scalars().all()
        older = await uow.desk.add_case(person, "asked", None, "sim", NOW, [])
        newer = await uow.desk.add_case(person, "message", None, "sim", NOW, [])
        theirs = await uow.desk.add_case(other, "asked", None, "sim", NOW, [])
    await database.migrate()
    async with database.unit_of_work() as uow:
        got = {c.id: c for c in await uow.desk.cases()}
    assert got[older.id].status == "closed" and got[older.id].closed_at is not None
    assert (got[newer.id].status, got[theirs.id].status) == ("queued", "queued")
    async with database.unit_of_work() as uow:  # and the index holds from now on
        with pytest.raises(Unavailable):
            await uow.desk.add_case(person, "asked", None, "sim", NOW, [])
