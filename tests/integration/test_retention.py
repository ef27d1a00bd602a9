"""Retention by a moved clock, on each engine: what a beneficiary left a year ago (an
unfinished request with its photo, their messages, a copy of their data, the web chat,
messages sent) is destroyed by the scheduler once its period has passed, what is kept
longer (a closed case's transcript, a rejected request, the audit log) stays until its own
period; `--dry-run` only counts; once a day is enough."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import func, select
from typer.testing import CliRunner

from bot.cli import cli
from handlers.surveys import Scheduler
from storage import models as m
from storage import retention
from tests.conftest import NOW

PHOTO = b"\x89PNG\r\n\x1a\n" + b"5" * 40


async def seed(database) -> int:
    async with database.unit_of_work() as uow:
        person = await uow.add_beneficiary("web", "chat-1", "chat-1", "ar", NOW)
        await uow.save_conversation("web", "chat-1", person, {
            "step": "field", "lang": "ar", "consented": True,
            "draft": {"service": "food_basket", "answers": {"full_name": "سارة علي"}}}, NOW)
        for field in ("id_photo", "data_copy", "case", "voice"):
            await uow.add_document(m.Document(
                beneficiary_id=person, field_key=field, name=f"{field}.png", mime="image/png",
                size=len(PHOTO), sha256=field.ljust(64, "0"), content=PHOTO, created_at=NOW))
        await uow.log_message(person, "in", "حي العزيزية", NOW)
        await uow.web_add("chat-1", "in", {"text": "السلام عليكم"}, NOW)
        await uow.enqueue("web", "chat-1", {"text": "أهلًا"}, NOW)
        await uow.session.flush()
        await uow.session.execute(m.OutboxMessage.__table__.update().values(status="sent"))
        case = m.Case(beneficiary_id=person, status="closed", reason="asked", channel="web",
                      created_at=NOW, closed_at=NOW)
        uow.session.add(case)
        await uow.session.flush()
        uow.session.add(m.CaseMessage(case_id=case.id, direction="in", text="سؤال", at=NOW))
        uow.session.add(m.Request(number="BK-2026-000001", beneficiary_id=person,
                                  service="food_basket", fields={"full_name": "سارة علي"},
                                  status="rejected", language="ar", channel="web", created_at=NOW,
                                  confirmed_at=NOW, decision_due=NOW.date(), updated_at=NOW))
        await uow.audit(m.AuditEntry(at=NOW, actor="cli", role="admin", action="staff_add",
                                     allowed=True))
        await uow.saw("whatsapp", "966551112222", NOW)  # its 24-hour window
        return person


async def counts(database) -> dict[str, int]:
    found = {}
    async with database.session() as session:
        for name, model in (("documents", m.Document), ("messages", m.Message),
                            ("web", m.WebMessage), ("outbox", m.OutboxMessage),
                            ("transcript", m.CaseMessage), ("requests", m.Request),
                            ("audit", m.AuditEntry), ("windows", m.ChatWindow)):
            found[name] = await session.scalar(select(func.count()).select_from(model))
        state = (await session.execute(select(m.Conversation.state))).scalar_one()
        found["draft"] = int(bool(state.get("draft")))
    return found


async def test_the_scheduler_destroys_each_kind_after_its_period(database, bakkah, translations):
    await seed(database)
    start = {"documents": 4, "messages": 1, "web": 1, "outbox": 1, "transcript": 1,
             "requests": 1, "audit": 1, "draft": 1, "windows": 1}
    assert await counts(database) == start
    later = [NOW + timedelta(days=400)]
    async with database.unit_of_work() as uow:
        planned = await retention.run(uow, bakkah.retention, later[0], dry_run=True)
    assert {k.key: k.count for k in planned} == {
        "drafts_days": 1, "messages_days": 1, "transcripts_days": 0, "closed_requests_days": 0,
        "web_chat_days": 1, "copies_days": 1, "outbox_days": 1, "audit_days": 0,
        "chat_windows_days": 1, "voice_days": 1}
    assert await counts(database) == start  # a dry run destroys nothing

    scheduler = Scheduler(database, bakkah, translations, lambda: later[0])
    await scheduler.tick()
    # the draft and its photo, the log, the web chat, the copy, the sent message, the voice
    # note no researcher was asked to hear: gone; the case's file stays with the case
    assert await counts(database) == {**start, "documents": 1, "messages": 0, "web": 0,
                                      "outbox": 0, "draft": 0, "windows": 0}
    async with database.session() as session:
        assert (await session.execute(select(m.Document.field_key))).scalars().all() == ["case"]
        state = (await session.execute(select(m.Conversation.state))).scalar_one()
        assert state["step"] == "menu"  # not left at a question of a request that is gone
    assert await scheduler.retain(later[0]) is None  # once a day

    later[0] = NOW + timedelta(days=2000)
    await scheduler.tick()
    assert await counts(database) == {**start, "documents": 1, "messages": 0, "web": 0,
                                      "outbox": 0, "draft": 0, "transcript": 0, "requests": 0,
                                      "audit": 0, "windows": 0}


async def test_wasl_retention_dry_run_lists_what_would_go(database):
    await seed(database)
    url = database.engine.url.render_as_string(hide_password=False)
    done = await asyncio.to_thread(  # (the command runs its own event loop)
        CliRunner().invoke, cli, ["retention", "--dry-run", "--json", "--db", url])
    assert done.exit_code == 0, done.output
    import json

    kinds = {k["kind"]: (k["days"], k["count"]) for k in json.loads(done.output)["kinds"]}
    # nothing is old enough today; every kind is listed with its period
    assert kinds["drafts_days"] == (30, 0) and kinds["audit_days"] == (1825, 0)
    assert len(kinds) == 11  # the ten periods of `retention:`, and the volunteers'
    assert (await counts(database))["draft"] == 1
