"""What the WhatsApp channel keeps (both engines): when each person last wrote, messages
held outside the 24-hour window, and delivery reports that repeat and come out of order."""

from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy import select

from storage import models as m
from tests.conftest import NOW


async def test_only_a_later_message_moves_the_window(database):
    async with database.unit_of_work() as uow:
        await uow.saw("whatsapp", "9665", NOW)
        await uow.saw("whatsapp", "9665", NOW - timedelta(hours=2))  # an older one, late
    async with database.unit_of_work() as uow:
        assert await uow.last_seen("whatsapp", "9665") == NOW
        await uow.saw("whatsapp", "9665", NOW + timedelta(minutes=5))
    async with database.unit_of_work() as uow:
        assert await uow.last_seen("whatsapp", "9665") == NOW + timedelta(minutes=5)
        assert await uow.last_seen("whatsapp", "other") is None


async def test_held_messages_go_first_and_in_order_when_the_person_writes(database):
    async with database.unit_of_work() as uow:
        for n in range(3):
            await uow.enqueue("whatsapp", "9665", {"text": str(n)}, NOW)
        await uow.enqueue("whatsapp", "other", {"text": "x"}, NOW)
    async with database.unit_of_work() as uow:
        stmt = select(m.OutboxMessage).order_by(m.OutboxMessage.id)
        rows = (await uow.session.execute(stmt)).scalars().all()
        for row in rows[:2]:
            await uow.hold(row.id, "Held: outside the window")
    async with database.unit_of_work() as uow:
        # A held message does not hold back the next (it may be a notice with a template).
        assert [r.payload["text"] for r in await uow.pending("whatsapp", NOW)] == ["2", "x"]
        assert await uow.release_held("whatsapp", "9665", NOW) == 2
    async with database.unit_of_work() as uow:
        assert [r.payload["text"] for r in await uow.pending("whatsapp", NOW)] == ["0", "x"]


async def test_delivery_reports_keep_the_furthest_state(database):
    async with database.unit_of_work() as uow:
        await uow.enqueue("whatsapp", "9665", {"text": "a"}, NOW)
        await uow.enqueue("whatsapp", "9665", {"text": "b"}, NOW)
        a, b = (await uow.session.execute(select(m.OutboxMessage.id).order_by(m.OutboxMessage.id))).scalars()
        await uow.sent({a: "wamid.a", b: "wamid.b"}, NOW)
    async with database.unit_of_work() as uow:
        for state in ("read", "delivered", "sent"):
            assert await uow.delivered("whatsapp", "wamid.a", state, NOW)
        assert await uow.delivered("whatsapp", "wamid.a", "failed", NOW, "131026") is True
        assert await uow.delivered("whatsapp", "wamid.b", "failed", NOW, "WhatsApp error 131026")
        assert not await uow.delivered("whatsapp", "wamid.unknown", "read", NOW)
    async with database.unit_of_work() as uow:
        rows = {r.message_ref: r for r in (await uow.session.execute(select(m.OutboxMessage))).scalars()}
    assert (rows["wamid.a"].delivery, rows["wamid.a"].status) == ("read", "sent")  # read stays read
    assert (rows["wamid.b"].delivery, rows["wamid.b"].status) == ("failed", "failed")
    assert "131026" in rows["wamid.b"].error


async def test_one_person_gets_a_burst_at_once_then_one_message_per_interval(database,
                                                                            monkeypatch):
    """WhatsApp's pair limit: a burst, then one every interval (here 3, then 1 s). "At
    once" is said by the sender's waits (none before the first three), not by a stopwatch
    a busy machine slows; a send can only be late, never early, so the lower bounds hold
    either way."""
    import asyncio
    import types
    from datetime import UTC, datetime

    import bot.outbox
    from bot.outbox import Limits, Outbox, Sender

    async with database.unit_of_work() as uow:
        for n in range(5):
            await uow.enqueue("whatsapp", "9665", {"text": str(n)}, NOW)
        await uow.enqueue("whatsapp", "other", {"text": "x"}, NOW)
    times: dict[str, list[float]] = {}
    events: list[str] = []  # "9665", "other", or "wait" (the sender waited for a chat)

    async def send(chat_id: str, reply) -> str:
        times.setdefault(chat_id, []).append(time.monotonic())
        events.append(chat_id)
        return f"wamid.{reply.text}"

    async def sleep(seconds: float) -> None:
        if seconds >= 0.5:
            events.append("wait")
        await asyncio.sleep(seconds)

    monkeypatch.setattr(bot.outbox, "asyncio", types.SimpleNamespace(
        **{**{k: getattr(asyncio, k) for k in dir(asyncio) if not k.startswith("_")},
           "sleep": sleep}))
    sender = Sender(Outbox(database, lambda: datetime.now(UTC)), "whatsapp", send,
                    Limits(None, 1.0, None, chat_burst=3))
    start = time.monotonic()
    while sum(len(t) for t in times.values()) < 6 and time.monotonic() - start < 15:
        await sender.drain()
    mine = [t - times["9665"][0] for t in times["9665"]]
    assert len(mine) == 5 and len(times["other"]) == 1
    before_waiting = events[:events.index("wait")] if "wait" in events else events
    assert before_waiting.count("9665") >= 3, events  # the first three at once
    for k, at in enumerate(mine):  # never more than the burst plus one per second since
        assert at >= (k - 2) * 1.0 - 0.1, mine
