"""The handler over a real database (SQLite, and PostgreSQL when configured):
one transaction per event, dedupe, documents, acknowledgment hash, cases."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from bot.app import App, assemble
from bot.config import Settings
from bot.records import case_records, request_records
from conversations.base import Event, FileRef, InboundEvent, Reply
from storage import models as m
from tests.conftest import NOW


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self):
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def app(database, bakkah, translations, clock) -> App:
    return assemble(Settings(), bakkah, database, translations, clock)


def png(tag: bytes = b"x") -> FileRef:
    content = b"\x89PNG\r\n\x1a\n" + tag * 100
    return FileRef("id.png", "image/png", len(content), hashlib.sha256(content).hexdigest(), content)


class Person:
    """A beneficiary talking to the handler; collects what the outbox delivers."""

    def __init__(self, app: App, sender: str = "966500000001") -> None:
        self.app, self.sender, self.seen = app, sender, []
        self.update = 0

    async def say(self, what, dedupe: str | None = None) -> list[Reply]:
        if isinstance(what, FileRef):
            event = Event("file", file=what)
        elif isinstance(what, dict):
            event = Event("choice", choice=what["choice"])
        else:
            event = Event("text", text=what)
        await self.app.beneficiaries.handle(
            InboundEvent("sim", self.sender, self.sender, event, dedupe_id=dedupe))
        got: list[Reply] = []

        async def send(chat_id: str, reply: Reply) -> None:
            assert chat_id == self.sender
            got.append(reply)

        await self.app.outbox.deliver("sim", send)
        self.seen += got
        return got


BAKKAH_FOOD = [
    {"choice": "accept"}, {"choice": "new_request"}, {"choice": "food_basket"},
    "محمد عبدالله أحمد الغامدي", "١٢٣٤٥٦٧٨٩٧", "1449-01-01", "0501234567", "العزيزية", "5",
    {"choice": "accept"}, "3000", {"choice": "salary"},  # sensitive-data consent, then income
]


async def count(db, model) -> int:
    async with db.session() as s:
        return (await s.execute(select(func.count()).select_from(model))).scalar_one()


async def test_whole_journey_is_stored_with_a_verifiable_acknowledgment(app):
    p = Person(app)
    await p.say("السلام عليكم")
    for said in BAKKAH_FOOD:
        await p.say(said)
    last = await p.say(png())
    assert last[-1].expects.field == "acknowledgment"
    await p.say({"choice": "confirm"})
    done = await p.say("محمد  عبدالله احمد الغامدي")  # typed signature, hamza folded
    assert "BK-2026-000001" in done[0].text

    [record] = await request_records(app)
    assert record["number"] == "BK-2026-000001" and record["status"] == "submitted"
    assert record["beneficiary"] == p.sender and record["service"] == "food_basket"
    assert record["fields"]["national_id"] == "1234567897"
    assert record["fields"]["mobile"] == "+966501234567"
    assert record["fields"]["monthly_income"] == "3000.00"
    assert record["decision_due"] == "2026-12-07"
    assert record["documents"][0]["field"] == "id_photo"
    ack = record["acknowledgment"]
    assert ack["hash_matches"] and ack["text_version"] == "wasl-ack-2/ar"
    assert ack["signature"] == "محمد عبدالله احمد الغامدي" and len(ack["sha256"]) == 64

    # Someone changes the stored data afterwards: the acknowledgment no longer matches.
    async with app.db.unit_of_work() as uow:
        await uow.session.execute(update(m.Request).values(
            fields={**record["fields"], "monthly_income": "300.00"}))
    [tampered] = await request_records(app)
    assert tampered["acknowledgment"]["hash_matches"] is False

    async with app.db.unit_of_work() as uow:
        consent, sensitive = await uow.consents(1)
    assert consent.purpose == "beneficiary_services" and consent.channel == "sim"
    assert consent.text_version == "wasl-privacy-2/ar" and consent.given_at == NOW
    assert sensitive.purpose == "sensitive_data"  # asked before the income question
    assert sensitive.text_version == "wasl-sensitive-1/ar"


async def test_request_numbers_follow_each_other(app):
    for n, sender in enumerate(["a", "b"], 1):
        p = Person(app, sender)
        for said in ["hi", *BAKKAH_FOOD, png(sender.encode()), {"choice": "confirm"},
                     "محمد عبدالله أحمد الغامدي"]:
            await p.say(said)
        assert f"BK-2026-{n:06d}" in p.seen[-2].text


async def test_decline_keeps_nothing(app, database):
    p = Person(app)
    await p.say("hello")
    await p.say({"choice": "language"})  # a language choice alone is remembered...
    assert await count(database, m.Conversation) == 1
    await p.say({"choice": "decline"})  # ...and forgotten on decline
    for model in (m.Conversation, m.Beneficiary, m.Identity, m.Consent, m.Message):
        assert await count(database, model) == 0


async def test_redelivered_update_is_processed_once(app, database):
    p = Person(app)
    await p.say("hello", dedupe="1")
    await p.say({"choice": "accept"}, dedupe="2")
    again = await p.say({"choice": "accept"}, dedupe="2")
    assert again == [] and await count(database, m.Consent) == 1


async def test_a_failing_event_changes_nothing_and_apologises(app, database, monkeypatch):
    p = Person(app)
    for said in ["hi", {"choice": "accept"}, {"choice": "new_request"}, {"choice": "food_basket"}]:
        await p.say(said)

    async def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(app.beneficiaries, "_record", broken)
    replies = await p.say("محمد عبدالله أحمد الغامدي")
    assert len(replies) == 1 and "لم تُحفظ رسالتك" in replies[0].text
    monkeypatch.undo()
    async with database.unit_of_work() as uow:
        conv = await uow.conversation("sim", p.sender)
    assert conv.state["draft"]["answers"] == {}  # the failed answer was not half-kept
    retry = await p.say("محمد عبدالله أحمد الغامدي")
    assert retry[-1].expects.field == "national_id"


async def test_escalation_opens_one_queued_case_with_the_conversation(app, database):
    p = Person(app)
    for said in ["hi", {"choice": "accept"}, {"choice": "new_request"}, {"choice": "food_basket"},
                 "محمد عبدالله أحمد الغامدي", "1", "2", "3"]:
        await p.say(said)
    assert p.seen[-1].expects.field == "escalate"
    await p.say({"choice": "human"})
    await p.say("ما عندي هوية")
    await p.say("/menu")
    await p.say({"choice": "human"})  # already open: no second case
    [case] = await case_records(app)
    assert case["status"] == "queued" and case["reason"] == "repeated_failures"
    assert case["detail"] == "national_id" and case["beneficiary"] == p.sender
    texts = [msg["text"] for msg in case["messages"]]
    assert "محمد عبدالله أحمد الغامدي" in texts and "3" in texts and "ما عندي هوية" in texts
    assert await count(database, m.Case) == 1


async def test_cancelled_draft_drops_its_documents(app, database):
    p = Person(app)
    for said in ["hi", *BAKKAH_FOOD, png()]:
        await p.say(said)
    assert await count(database, m.Document) == 1
    await p.say({"choice": "cancel"})
    assert await count(database, m.Document) == 0


async def test_state_survives_a_new_handler(app, database, bakkah, translations, clock):
    p = Person(app)
    for said in ["hi", {"choice": "accept"}, {"choice": "new_request"}, {"choice": "food_basket"},
                 "محمد عبدالله أحمد الغامدي"]:
        await p.say(said)
    clock.now = NOW + timedelta(days=2)
    fresh = assemble(Settings(), bakkah, database, translations, clock)
    q = Person(fresh, p.sender)
    replies = await q.say("/start")
    assert replies[-1].expects.field == "resume"
    replies = await q.say({"choice": "continue"})
    assert replies[-1].expects.field == "national_id"


async def messages(db) -> list[tuple[str, str]]:
    async with db.session() as s:
        rows = await s.execute(select(m.Message.direction, m.Message.text).order_by(m.Message.id))
        return [tuple(r) for r in rows]


async def test_the_log_masks_ids_withholds_sensitive_answers_and_skips_summaries(app, database):
    p = Person(app)
    for said in ["hi", *BAKKAH_FOOD, png()]:
        await p.say(said)
    log = await messages(database)
    said_in = [t for d, t in log if d == "in"]
    assert "••••••7897" in said_in and not any("1234567897" in t or "١٢٣٤" in t for t in said_in)
    assert "[withheld: sensitive]" in said_in and "3000" not in said_in
    assert ("out", "[request summary shown]") in log


async def test_a_cancelled_request_leaves_nothing_in_the_log(app, database):
    p = Person(app)
    for said in ["hi", {"choice": "accept"}]:
        await p.say(said)
    before = await messages(database)
    app.beneficiaries.clock.now = NOW + timedelta(minutes=1)
    for said in [{"choice": "new_request"}, {"choice": "food_basket"}, "محمد عبدالله أحمد الغامدي",
                 {"choice": "cancel"}]:
        await p.say(said)
    after = await messages(database)
    assert after[:len(before)] == before
    assert not any("محمد" in t for _, t in after)


async def test_sent_messages_keep_no_text(app, database):
    p = Person(app)
    await p.say("hi")
    async with database.session() as s:
        payloads = (await s.execute(select(m.OutboxMessage.payload))).scalars().all()
    assert payloads == [{}]


async def test_a_send_that_fails_is_kept_and_retried(app, database, clock):
    calls = []

    async def flaky(chat_id, reply):
        calls.append(reply)
        if len(calls) == 1:
            raise ConnectionError("network down")

    await app.beneficiaries.handle(InboundEvent("sim", "u", "u", Event("text", text="hi")))
    assert await app.outbox.deliver("sim", flaky) == 0
    async with database.session() as s:
        row = (await s.execute(select(m.OutboxMessage))).scalar_one()
    assert row.status == "pending" and row.attempts == 1 and "network down" in row.error
    assert await app.outbox.deliver("sim", flaky) == 0  # not due yet
    clock.now = NOW + timedelta(seconds=3)
    assert await app.outbox.deliver("sim", flaky) == 1 and calls[0] == calls[1]
