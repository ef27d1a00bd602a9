"""The right to destruction end to end, over the real `wasl simulate` process, on each
engine: beneficiaries who applied, wrote to a researcher, made a suggestion and rated a
service ask for their data to be deleted. Afterwards no column of any table (every column
holding text, JSON or bytes, read as the bot reads it) holds anything of theirs but what the
policy still holds: a request with the committee is kept until it is decided, then destroyed
by the scheduler and its beneficiary told. Someone else's data is untouched."""

from __future__ import annotations

import asyncio
import json

from sqlalchemy import JSON, LargeBinary, String, Text, select

from storage import models as m
from storage.crypto import SealedBytes, SealedJson, SealedText
from storage.db import Database
from tests.e2e.sim import NAME, Simulator, apply, register, staff_add, wasl
from tests.e2e.test_sealed_at_rest import IBAN, NATIONAL_ID

# the senders look like phone numbers, as they are on WhatsApp
GONE, HELD, OTHER = "966551112222", "966553334444", "966557778888"
SUGGESTION = "نرجو توفير مواقف للسيارات قرب المقر"
TO_RESEARCHER = "عندي سؤال عن موعد الصرف يا أستاذة"
TEXT_TYPES = (String, Text, JSON, LargeBinary, SealedText, SealedJson, SealedBytes)


def everything(db: str) -> dict[str, list[str]]:
    """Every value of every column holding text, JSON or bytes, per table.column, opened."""
    async def read() -> dict[str, list[str]]:
        database = Database(db)
        found: dict[str, list[str]] = {}
        async with database.session() as session:
            for table in m.Base.metadata.sorted_tables:
                columns = [c for c in table.columns if isinstance(c.type, TEXT_TYPES)]
                if not columns:
                    continue
                for row in (await session.execute(select(*columns))).all():
                    for column, value in zip(columns, row, strict=True):
                        if value is None:
                            continue
                        shown = (value.decode("latin-1") if isinstance(value, bytes)
                                 else json.dumps(value, ensure_ascii=False)
                                 if not isinstance(value, str) else value)
                        found.setdefault(f"{table.name}.{column.name}", []).append(shown)
        await database.close()
        return found
    return asyncio.run(read())


def traces(db: str, *marks: str) -> dict[str, list[str]]:
    """Where any of `marks` is found: table.column -> the marks found there."""
    hits: dict[str, list[str]] = {}
    for where, values in everything(db).items():
        for mark in marks:
            if any(mark in v for v in values):
                hits.setdefault(where, []).append(mark)
    return hits


def after_goodbye(db: str, chat: str) -> int:
    """The outbox rows to `chat` (all of them sent after the destruction, their text dropped
    once sent): how many."""
    async def read() -> int:
        database = Database(db)
        async with database.session() as session:
            rows = (await session.execute(select(m.OutboxMessage).where(
                m.OutboxMessage.chat_id == chat))).scalars().all()
            destroyed = (await session.execute(select(m.Beneficiary.destroyed_at).where(
                m.Beneficiary.destroyed_at.is_not(None)))).scalars().all()
        await database.close()
        assert all(r.status == "sent" and not r.payload.get("text") for r in rows)
        assert all(r.created_at >= min(destroyed) for r in rows)
        return len(rows)
    return asyncio.run(read())


def test_destruction_leaves_nothing_but_what_the_policy_holds(database, tmp_path):
    db = database.url
    staff_add(db, ("sim:r1", "researcher", "Noura"), ("sim:c1", "committee", "Khalid"))
    sim = Simulator(db)
    try:
        gone = apply(sim, GONE, tmp_path)
        sim.send(GONE, choice="feedback")
        sim.send(GONE, choice="suggestion")
        sim.send(GONE, text=SUGGESTION)
        sim.send(GONE, choice="human")
        sim.send(GONE, text=TO_RESEARCHER)
        sim.send("r1", text="/queue")
        held = apply(sim, HELD, tmp_path)
        register(sim, held, "r1")  # now with the committee: held
        other = apply(sim, OTHER, tmp_path)

        asked = sim.send(GONE, text="احذفوا بياناتي لو سمحتوا")
        assert "حذف بياناتك يزيل نهائيًا" in asked[-1]["text"]
        assert [c["id"] for c in asked[-1]["choices"]] == ["confirm_delete", "keep_data"]
        done = sim.send(GONE, choice="confirm_delete")
        assert done[-1]["text"].startswith("تم حذف بياناتك من نظام جمعية بكة للخدمات الإنسانية.")
        assert "يُحتفظ" not in done[-1]["text"]

        asked = sim.send(HELD, text="/delete")
        assert held in asked[-1]["text"] and "قيد الدراسة لدى اللجنة" in asked[-1]["text"]
        done = sim.send(HELD, choice="confirm_delete")
        assert f"حتى اكتمالها كما تقتضي سياسة الجمعية: {held}" in done[-1]["text"]
        again = sim.send(GONE, text="السلام عليكم")  # a stranger now: the welcome again
        assert again[-1]["expects"] == {"field": "consent", "kind": "choice"}
    finally:
        sim.close()

    # nothing of the first is left anywhere; the held request is all that is left of the second
    # (request numbers stay in the audit log, which keeps what staff did, pointing at nothing)
    found = traces(db, GONE, SUGGESTION, TO_RESEARCHER)
    # but the chat the goodbye (and, after it, the new welcome) went to: sent, its text gone
    assert found == {"outbox.chat_id": [GONE]}, found
    assert after_goodbye(db, GONE) == 2
    requests = json.loads(wasl("requests", "list", "--json", db=db).stdout)
    assert sorted(r["number"] for r in requests) == sorted([held, other])  # not `gone`
    assert gone not in {r["number"] for r in requests}
    kept = next(r for r in requests if r["number"] == held)
    assert kept["fields"]["national_id"] == NATIONAL_ID and kept["fields"]["iban"] == IBAN
    audit = json.loads(wasl("audit", "--json", db=db).stdout)
    destroyed = [e for e in audit if e["action"] == "data_destroyed"]
    assert len(destroyed) == 2 and all(e["actor"].startswith("sim:#") for e in destroyed)
    assert not any(GONE in e["actor"] or HELD in e["actor"] for e in audit)

    # the committee decides: the scheduler destroys the rest and tells them
    sim = Simulator(db)
    try:
        sim.send("c1", choice=f"decide:{held}")
        sim.send("c1", choice=f"decide:{held} reject")
        decided = sim.send("c1", text="3 الدخل يتجاوز الحد المعتمد")
        told = [r["text"] for r in decided if r["to"] == HELD]
        assert any("قد رُفض بعد دراسته" in t for t in told), decided
        finished = sim.send("c1", text="/committee")  # a later line: the scheduler's tick
        told = [r["text"] for r in finished if r["to"] == HELD]
        assert told == ["اكتملت طلباتك المتبقية، وتم الآن حذف بياناتك من نظام جمعية بكة "
                        "للخدمات الإنسانية."], finished
    finally:
        sim.close()
    found = traces(db, GONE, HELD, SUGGESTION, TO_RESEARCHER)
    assert found == {"outbox.chat_id": [GONE, HELD]}, found
    assert after_goodbye(db, HELD) == 1  # "deleted now" (the rows before it went with the rest)
    # someone else's data is all there
    assert {"requests.fields", "messages.text", "identities.sender_id"} <= set(
        traces(db, OTHER, NAME, NATIONAL_ID))
    requests = json.loads(wasl("requests", "list", "--json", db=db).stdout)
    assert [r["number"] for r in requests] == [other]
