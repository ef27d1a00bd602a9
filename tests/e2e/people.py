"""Beneficiaries and staff written straight into a test database (for tests about many
people, where walking each one through the intake would only be slow)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select, update

from storage import models as m
from storage.db import Database

NOW = datetime.now(UTC)


@dataclass
class Person:
    uid: int
    lang: str = "ar"
    requests: list[tuple[str, str]] = field(default_factory=list)  # (service, status)
    fields: dict[str, Any] = field(default_factory=dict)
    stopped: bool = False
    unreachable: bool = False
    open_case: bool = False


def seed(url: str, people: list[Person], staff: list[tuple[int, str, str]] = ()) -> dict[int, int]:
    """Write them (the database is migrated first); beneficiary id by Telegram uid."""
    return asyncio.run(_seed(url, people, list(staff)))


async def _seed(url: str, people: list[Person], staff: list[tuple[int, str, str]]) -> dict[int, int]:
    db = Database(url)
    await db.migrate()
    ids = {}
    try:
        async with db.unit_of_work() as uow:
            for uid, name, role in staff:
                await uow.desk.add_staff("telegram", str(uid), name, role, NOW)
            for n, p in enumerate(people):
                bid = await uow.add_beneficiary("telegram", str(p.uid), str(p.uid), p.lang, NOW)
                ids[p.uid] = bid
                await uow.session.execute(update(m.Beneficiary).where(m.Beneficiary.id == bid).values(
                    unreachable=p.unreachable, announcements_off_at=NOW if p.stopped else None))
                for k, (service, status) in enumerate(p.requests):
                    uow.session.add(m.Request(
                        number=f"BK-T-{p.uid}-{k}", beneficiary_id=bid, service=service,
                        fields=p.fields, status=status, language=p.lang, channel="telegram",
                        created_at=NOW, confirmed_at=NOW, decision_due=date(2026, 12, 31),
                        updated_at=NOW))
                if p.open_case:
                    uow.session.add(m.Case(beneficiary_id=bid, status="queued", reason="asked",
                                           channel="telegram", created_at=NOW))
                if n % 500 == 499:
                    await uow.session.flush()
    finally:
        await db.close()
    return ids


def outbox(url: str, broadcast_id: int | None = None) -> list[m.OutboxMessage]:
    stmt = select(m.OutboxMessage).order_by(m.OutboxMessage.id)
    if broadcast_id is not None:
        stmt = stmt.where(m.OutboxMessage.broadcast_id == broadcast_id)
    return _read(url, stmt)


def broadcasts(url: str) -> list[m.Broadcast]:
    return _read(url, select(m.Broadcast).order_by(m.Broadcast.id))


def _read(url: str, stmt: Any) -> list[Any]:
    """The rows of one query, detached from their session (storage picks the async driver)."""
    async def read() -> list[Any]:
        db = Database(url)
        try:
            async with db.unit_of_work() as uow:
                rows = list((await uow.session.execute(stmt)).scalars())
                uow.session.expunge_all()
                return rows
        finally:
            await db.close()
    return asyncio.run(read())
