"""The survey scheduler against a real database, with a clock the test moves."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from conversations.state import State, Step
from handlers.surveys import Scheduler
from storage import models as m
from storage.db import Database
from tests.conftest import NOW


async def seed(db: Database, step: Step = Step.MENU) -> int:
    """A consenting beneficiary on the simulator and a survey sent to them at NOW."""
    async with db.unit_of_work() as uow:
        who = await uow.add_beneficiary("sim", "u1", "u1", "ar", NOW)
        await uow.save_conversation("sim", "u1", who,
                                    State(consented=True, step=step).model_dump(mode="json"), NOW)
        row = await uow.add_survey(m.Survey(
            subject="case:1", kind="case", beneficiary_id=who, status="sent", sent_at=NOW,
            remind_at=NOW + timedelta(hours=24), expires_at=NOW + timedelta(hours=48)))
        assert row is not None
        return row.id


async def outbox(db: Database) -> list[str]:
    async with db.unit_of_work() as uow:
        rows = (await uow.session.execute(select(m.OutboxMessage).order_by(m.OutboxMessage.id))).scalars()
        return [r.payload["text"] for r in rows]


def scheduler(db: Database, bakkah, translations, at: list) -> Scheduler:
    return Scheduler(db, bakkah, translations, lambda: at[0])


async def test_one_reminder_when_due_then_expiry(database, bakkah, translations):
    survey_id = await seed(database)
    at = [NOW + timedelta(hours=23, minutes=59)]
    tick = scheduler(database, bakkah, translations, at)
    assert await tick.tick() == (0, 0)
    at[0] = NOW + timedelta(hours=24)
    assert await tick.tick() == (1, 0)
    assert await tick.tick() == (0, 0)  # once
    sent = await outbox(database)
    assert len(sent) == 2 and "تذكير" in sent[0]  # the reminder, then the question
    at[0] = NOW + timedelta(hours=48)
    assert await tick.tick() == (0, 1)
    async with database.unit_of_work() as uow:
        row = await uow.survey(survey_id)
        conv = await uow.conversation("sim", "u1")
        assert row is not None and row.status == "expired"
        state = State.model_validate(conv.state)
    assert state.step == Step.MENU and state.survey is None  # left quietly
    assert len(await outbox(database)) == 2


async def test_someone_talking_with_a_researcher_is_asked_an_hour_later(database, bakkah, translations):
    survey_id = await seed(database, step=Step.CASE)
    at = [NOW + timedelta(hours=24)]
    assert await scheduler(database, bakkah, translations, at).tick() == (0, 0)
    async with database.unit_of_work() as uow:
        row = await uow.survey(survey_id)
        assert row is not None and row.remind_at == at[0] + timedelta(hours=1)
    assert await outbox(database) == []


async def test_two_processes_send_one_reminder(database, bakkah, translations):
    if database.is_sqlite:
        pytest.skip("several bot processes share a PostgreSQL database")
    await seed(database)
    at = [NOW + timedelta(hours=24)]
    other = Database(str(database.engine.url.render_as_string(hide_password=False)))
    try:
        results = await asyncio.gather(scheduler(database, bakkah, translations, at).tick(),
                                       scheduler(other, bakkah, translations, at).tick())
    finally:
        await other.close()
    assert sorted(r[0] for r in results) == [0, 1]
    async with database.unit_of_work() as uow:
        count = await uow.session.scalar(select(func.count()).select_from(m.OutboxMessage))
    assert count == 2  # one reminder and its question, not two


async def _unfinished_on_whatsapp(db: Database, seen_hours_ago: float) -> None:
    """A WhatsApp beneficiary left a request half done; their reminder is due now (NOW, a
    Monday at noon in Riyadh: within working hours); they last wrote that long ago."""
    from conversations.state import Draft

    async with db.unit_of_work() as uow:
        who = await uow.add_beneficiary("whatsapp", "966551234567", "966551234567", "ar", NOW)
        state = State(consented=True, step=Step.FIELD, draft=Draft(service="food_basket"))
        await uow.save_conversation("whatsapp", "966551234567", who,
                                    state.model_dump(mode="json"), NOW, NOW)
        await uow.saw("whatsapp", "966551234567", NOW - timedelta(hours=seen_hours_ago))


@pytest.mark.parametrize("seen_hours_ago, reminded", [(20, True), (25, False)])
async def test_on_whatsapp_a_reminder_goes_only_while_it_can_be_read(
        database, bakkah, translations, seen_hours_ago, reminded):
    await _unfinished_on_whatsapp(database, seen_hours_ago)
    tick = scheduler(database, bakkah, translations, [NOW])
    assert await tick.remind_unfinished(NOW) == int(reminded)
    sent = await outbox(database)
    assert (len(sent) == 1 and "بانتظارك" in sent[0]) if reminded else sent == []
    async with database.unit_of_work() as uow:
        conv = await uow.conversation("whatsapp", "966551234567")
        state = State.model_validate(conv.state)
    assert conv.remind_at is None  # (either way: no second try)
    assert state.step == (Step.RESUME if reminded else Step.FIELD)
    assert conv.updated_at == NOW  # a reminder is not their message: the draft's clock stays
