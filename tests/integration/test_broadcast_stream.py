"""An announcement's recipients read and its outbox rows written a chunk at a time, on each
engine: with chunks of 1 and 3 (many chunks for these twelve beneficiaries) and of 1000
(one), a launch writes exactly one row per reachable recipient on their first channel in
their language, leaves out who stopped announcements or blocked the bot, narrows by every
kind of segment as before, agrees with `audience` and `audience_count`, keeps compact id
ranges in the audit log, and leaves nothing behind when it fails halfway."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select, update

from bot.outbox import BROADCAST
from conversations import broadcast
from conversations.broadcast import Segment
from handlers import broadcasts
from handlers.broadcasts import _Ranges, audience, audience_count, launch
from storage import models as m
from storage.broadcasts_store import BroadcastStore
from tests.conftest import NOW

TEXT = "توزيع السلال الغذائية يوم الخميس بعد العصر في مقر الجمعية."
AZIZIYAH, SHARAIE = "العزيزية", "الشرائع"
# number -> (language, stopped, unreachable, requests (service, status, district),
#            open case, volunteer); number 12 has no channel at all
PEOPLE = {
    1: ("ar", False, False, [("food_basket", "submitted", AZIZIYAH)], False, False),
    2: ("en", False, False, [("food_basket", "approved", SHARAIE)], False, False),
    3: ("fr", False, False, [], True, False),  # a language we do not speak: Arabic
    4: ("ar", True, False, [("food_basket", "submitted", AZIZIYAH)], False, False),
    5: ("en", False, False, [], False, True),  # also on the web, later: sim is their first
    6: ("ar", False, False, [("rent", "submitted", SHARAIE)], True, False),
    7: ("ar", False, True, [], False, True),
    8: ("en", False, True, [], True, False),
    9: ("ar", False, False, [("rent", "approved", AZIZIYAH)], False, True),
    10: ("en", False, False, [], False, False),
    11: ("ar", False, False, [("food_basket", "submitted", SHARAIE)], False, False),
}
EVERYONE = {1, 2, 3, 5, 6, 9, 10, 11}  # 4 stopped, 7 and 8 blocked the bot, 12 has no chat
SEGMENTS = [  # (segment, reached, how many it matches who are left out)
    (Segment(), EVERYONE, 3),
    (Segment(statuses=["submitted"]), {1, 6, 11}, 1),
    (Segment(services=["food_basket"]), {1, 2, 11}, 1),
    (Segment(fields={"district": [AZIZIYAH]}), {1, 9}, 1),
    (Segment(open_case=True), {3, 6}, 1),
    (Segment(volunteers=True), {5, 9}, 1),
    (Segment(statuses=["approved"], volunteers=True), {9}, 0),
    (Segment(services=["rent"], open_case=True), {6}, 0),
    (Segment(statuses=["needs_info"]), set(), 0),
]


@pytest.fixture(params=[1, 3, 1000], ids=["chunk1", "chunk3", "one-chunk"])
def chunk(request, monkeypatch) -> int:
    monkeypatch.setattr(broadcasts, "CHUNK", request.param)
    return request.param


async def people(database) -> dict[int, int]:
    """The beneficiaries of PEOPLE (and number 12, with no channel): number -> id."""
    ids: dict[int, int] = {}
    async with database.unit_of_work() as uow:
        for number, (lang, stopped, unreachable, requests, open_case, volunteer) in PEOPLE.items():
            bid = ids[number] = await uow.add_beneficiary("sim", f"s{number}", f"c{number}", lang,
                                                          NOW)
            await uow.session.execute(update(m.Beneficiary).where(m.Beneficiary.id == bid).values(
                unreachable=unreachable, announcements_off_at=NOW if stopped else None))
            for k, (service, status, district) in enumerate(requests):
                uow.session.add(m.Request(
                    number=f"BK-T-{number}-{k}", beneficiary_id=bid, service=service,
                    fields={"district": district}, status=status, language="ar", channel="sim",
                    created_at=NOW, confirmed_at=NOW, decision_due=date(2026, 12, 31),
                    updated_at=NOW))
            if open_case:
                uow.session.add(m.Case(beneficiary_id=bid, status="queued", reason="asked",
                                       channel="sim", created_at=NOW))
            if volunteer:
                await uow.volunteers.sign_up(bid, {"name": f"v{number}"}, "ar", "sim", NOW)
        uow.session.add(m.Identity(beneficiary_id=ids[5], channel="web", sender_id="w5",
                                   chat_id="w5", created_at=NOW))
        nobody = m.Beneficiary(language="ar", created_at=NOW)
        uow.session.add(nobody)
        await uow.session.flush()
        ids[12] = nobody.id
    assert sorted(ids.values()) == list(range(ids[1], ids[1] + 12))  # the ranges below rely on it
    return ids


async def sent_to(database, number: int) -> list[m.OutboxMessage]:
    async with database.session() as session:
        stmt = (select(m.OutboxMessage).where(m.OutboxMessage.broadcast_id == number)
                .order_by(m.OutboxMessage.id))
        return list((await session.execute(stmt)).scalars())


async def test_a_launch_over_many_chunks_writes_one_row_per_reachable_recipient(
        database, chunk, bakkah, ctx_for):
    ids = await people(database)
    number_of = {bid: number for number, bid in ids.items()}
    ctx = ctx_for(bakkah)
    async with database.unit_of_work() as uow:
        sent = await uow.broadcasts.add("sim:admin", TEXT, None, Segment(), "ar", NOW)
        assert await launch(uow, sent, ctx, NOW) == len(EVERYONE)
    rows = await sent_to(database, sent.id)
    assert sorted(number_of[r.beneficiary_id] for r in rows) == sorted(EVERYONE)  # once each
    expected = {lang: broadcast.message(TEXT, lang, ctx).to_dict() for lang in ("ar", "en")}
    for row in rows:
        number = number_of[row.beneficiary_id]
        lang = "en" if PEOPLE[number][0] == "en" else "ar"
        assert (row.channel, row.chat_id) == ("sim", f"c{number}")  # their first channel
        assert row.payload == expected[lang]
        assert (row.status, row.priority, row.available_at is not None) == (
            "pending", BROADCAST, True)
    async with database.unit_of_work() as uow:
        found = await uow.broadcasts.broadcast(sent.id)
        assert (found.status, found.total) == ("sending", len(EVERYONE))
        [entry] = await uow.audit_entries(action="broadcast")
    first = ids[1]
    ranges = f"{first}-{first + 2},{first + 4}-{first + 5},{first + 8}-{first + 10}"
    assert f"to {len(EVERYONE)} beneficiaries (ids {ranges});" in entry.detail
    assert entry.actor == "sim:admin"


@pytest.mark.parametrize(("segment", "reached", "left_out"), SEGMENTS,
                         ids=[s.model_dump_json(exclude_defaults=True) for s, _, _ in SEGMENTS])
async def test_every_kind_of_segment_streams_as_it_counts(database, chunk, bakkah, ctx_for,
                                                          segment, reached, left_out):
    ids = await people(database)
    number_of = {bid: number for number, bid in ids.items()}
    async with database.unit_of_work() as uow:
        assert await audience_count(uow, segment) == (len(reached), left_out)
        listed, left = await audience(uow, segment)
        assert ([number_of[r.beneficiary_id] for r in listed], left) == (sorted(reached),
                                                                         left_out)
        assert {r.language for r in listed} <= {"ar", "en"}
        sent = await uow.broadcasts.add("cli", TEXT, None, segment, "en", NOW)
        assert await launch(uow, sent, ctx_for(bakkah), NOW) == len(reached)
    rows = await sent_to(database, sent.id)
    assert sorted(number_of[r.beneficiary_id] for r in rows) == sorted(reached)


async def test_a_launch_failing_halfway_leaves_nothing_behind(database, bakkah, ctx_for,
                                                              monkeypatch):
    monkeypatch.setattr(broadcasts, "CHUNK", 3)
    await people(database)
    written = BroadcastStore.queue_copies
    calls = []

    async def fails_second(self, rows):
        calls.append(len(rows))
        if len(calls) == 2:
            raise RuntimeError("the disk is full")
        await written(self, rows)

    monkeypatch.setattr(BroadcastStore, "queue_copies", fails_second)
    with pytest.raises(RuntimeError):
        async with database.unit_of_work() as uow:
            sent = await uow.broadcasts.add("cli", TEXT, None, Segment(), "ar", NOW)
            await launch(uow, sent, ctx_for(bakkah), NOW)
    assert await sent_to(database, sent.id) == []  # the first chunk's rows went with the rest
    async with database.unit_of_work() as uow:
        assert await uow.broadcasts.broadcast(sent.id) is None
        assert await uow.audit_entries(action="broadcast") == []
    monkeypatch.setattr(BroadcastStore, "queue_copies", written)
    async with database.unit_of_work() as uow:  # the stream's cursor did not outlive it
        again = await uow.broadcasts.add("cli", TEXT, None, Segment(), "ar", NOW)
        assert await launch(uow, again, ctx_for(bakkah), NOW) == len(EVERYONE)


def test_the_audit_ranges_are_built_as_the_ids_go_by():
    def ranges(ids: list[int]) -> str:
        built = _Ranges()
        for number in ids:
            built.add(number)
        return str(built)

    assert ranges([]) == ""
    assert ranges([5]) == "5"
    assert ranges([1, 2, 3, 7, 8]) == "1-3,7-8"
    assert ranges([1, 3, 5, 6]) == "1,3,5-6"
    assert ranges(list(range(1, 100_001))) == "1-100000"
    with pytest.raises(ValueError):
        ranges([3, 2])
    with pytest.raises(ValueError):
        ranges([2, 2])
