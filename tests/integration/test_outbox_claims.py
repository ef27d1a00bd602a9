"""How senders share the outbox: claims, leases, the shared rate clock, opt-out."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from bot.channels.errors import RetryLater
from bot.outbox import Limits, Outbox, Sender
from conversations.base import Reply
from storage import models as m
from storage.db import Database
from tests.conftest import NOW


async def fill(db: Database, chats: int) -> None:
    async with db.unit_of_work() as uow:
        for n in range(chats):
            await uow.enqueue("telegram", str(1000 + n), {"text": f"{n}"}, NOW)


async def test_two_senders_never_take_the_same_row(database):
    if database.is_sqlite:
        pytest.skip("several processes share a PostgreSQL database")
    await fill(database, 60)
    other = Database(database.engine.url.render_as_string(hide_password=False))
    taken: list[list[int]] = [[], []]

    async def sender(db: Database, mine: list[int]) -> None:
        while True:
            async with db.unit_of_work() as uow:
                rows = await uow.take("telegram", NOW, 7, NOW + timedelta(minutes=1), "x")
                await asyncio.sleep(0.01)  # hold the lock a moment, as a real claim does
            if not rows:
                return
            mine += [r.id for r in rows]

    try:
        await asyncio.gather(sender(database, taken[0]), sender(other, taken[1]))
    finally:
        await other.close()
    assert sorted(taken[0] + taken[1]) == list(range(1, 61))  # each row once, none left
    assert taken[0] and taken[1]  # both took a share


async def test_a_claim_that_ran_out_is_taken_again(database):
    await fill(database, 1)
    async with database.unit_of_work() as uow:
        [row] = await uow.take("telegram", NOW, 10, NOW + timedelta(seconds=60), "dead:1")
    async with database.unit_of_work() as uow:
        assert await uow.take("telegram", NOW + timedelta(seconds=59), 10, NOW, "b") == []
        again = await uow.take("telegram", NOW + timedelta(seconds=61), 10,
                               NOW + timedelta(seconds=121), "alive:2")
    assert [r.id for r in again] == [row.id]


async def test_a_chats_later_message_waits_for_the_one_in_flight(database):
    async with database.unit_of_work() as uow:
        await uow.enqueue("telegram", "5", {"text": "first"}, NOW)
        await uow.enqueue("telegram", "5", {"text": "second"}, NOW)
    async with database.unit_of_work() as uow:
        [first] = await uow.take("telegram", NOW, 10, NOW + timedelta(minutes=1), "a")
        assert await uow.take("telegram", NOW, 10, NOW + timedelta(minutes=1), "b") == []
        await uow.sent({first.id: "77"}, NOW)
        [second] = await uow.take("telegram", NOW, 10, NOW + timedelta(minutes=1), "b")
    assert second.payload["text"] == "second"


async def test_the_shared_clock_gives_each_sender_its_own_slots(database):
    async with database.unit_of_work() as uow:
        a = await uow.reserve("telegram", 10, 10.0, 1000.0)
        b = await uow.reserve("telegram", 5, 10.0, 1000.2)  # another process, a moment later
        c = await uow.reserve("telegram", 0, 10.0, 1000.3, pause=5.0)  # a 429: everyone waits
        d = await uow.reserve("telegram", 1, 10.0, 1000.4)
        e = await uow.reserve("telegram", 1, 10.0, 2000.0)  # idle for long: no debt kept
    assert (a, b) == (1000.0, 1001.0)  # the second batch starts where the first ends
    assert c == pytest.approx(1005.3) and d == pytest.approx(1005.3)
    assert e == 2000.0


async def test_stopping_withdraws_waiting_announcements_but_not_replies(database):
    async with database.unit_of_work() as uow:
        person = await uow.add_beneficiary("telegram", "9", "9", "ar", NOW)
        await uow.enqueue("telegram", "9", {"text": "your request"}, NOW)
        await uow.broadcasts.queue_copies([{
            "channel": "telegram", "chat_id": "9", "payload": {"text": "x"}, "priority": 10,
            "status": "pending", "attempts": 0, "available_at": NOW, "created_at": NOW,
            "has_choices": False, "broadcast_id": 1, "beneficiary_id": person}])
        assert await uow.set_announcements(person, False, NOW) == 1
    async with database.unit_of_work() as uow:
        rows = await uow.pending("telegram", NOW)
        statuses = {r.payload.get("text"): r.status for r in
                    (await uow.session.execute(m.OutboxMessage.__table__.select())).all()}
    assert [r.payload["text"] for r in rows] == ["your request"]
    assert statuses == {"your request": "pending", None: "cancelled"}


async def test_a_sender_paused_by_a_429_waits_it_out_though_commits_wake_it(database):
    """Telegram asks to wait (429) while new replies are committed, each waking the sender:
    it looks again once per wake at most, rather than spinning through the pause, and the
    message that was refused goes out after it."""
    now = datetime.now(UTC)
    async with database.unit_of_work() as uow:
        await uow.enqueue("telegram", "77", {"text": "first"}, now)
    sent: list[str] = []

    async def send(chat_id: str, reply: Reply) -> str:
        if not sent:
            sent.append("refused")
            raise RetryLater(1.0, "Too Many Requests: retry after 1")
        sent.append(reply.text)
        return "1"

    sender = Sender(Outbox(database, lambda: datetime.now(UTC)), "telegram", send, Limits())
    drains = 0
    drain = sender.drain

    async def counted() -> int:
        nonlocal drains
        drains += 1
        return await drain()

    sender.drain = counted  # type: ignore[method-assign]
    runner = asyncio.create_task(sender.run(tick=0.2))
    try:
        for _ in range(20):  # commits during the pause
            await asyncio.sleep(0.025)
            sender.wake()
        for _ in range(100):
            if "first" in sent:
                break
            await asyncio.sleep(0.05)
    finally:
        runner.cancel()
    assert sent == ["refused", "first"]
    assert drains <= 40, drains  # one per wake and tick at most; a spin made thousands
