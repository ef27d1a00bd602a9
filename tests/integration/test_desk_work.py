"""A researcher's day at the desk, through the router as every channel reaches it: told of
new work in their own chat and language (or held for the morning digest after hours),
searching for a beneficiary, reading their history and a closed case, reopening it, the
team's board against the reply target, and a complaint's ticket closed as a ticket."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from bot.app import assemble
from bot.config import Settings
from conversations.profile import StaffGroup
from handlers.notices import Digest
from tests.conftest import NOW
from tests.integration.test_desk_access import GROUP, Room
from tests.integration.test_handler import BAKKAH_FOOD, Clock, png

EVENING = NOW + timedelta(hours=11)  # Monday 23 November, 23:00 in Riyadh
NEXT_MORNING = NOW + timedelta(hours=23, minutes=10)  # Tuesday 11:10 in Riyadh


class Desk(Room):
    def __init__(self, app, clock: Clock) -> None:
        super().__init__(app)
        self.clock = clock
        self.inbox: dict[str, list] = {}  # everything each chat was sent

    async def say(self, who, text=None, **kw):
        got = await super().say(who, text, **kw)
        for chat, replies in got.items():
            self.inbox.setdefault(chat, []).extend(replies)
        return got

    async def submit(self, beneficiary: str) -> str:
        """A beneficiary files Bakkah's food basket request; its number."""
        await self.say(beneficiary, "السلام عليكم")
        for said in BAKKAH_FOOD:
            await self.say(beneficiary, choice=said["choice"]) if isinstance(said, dict) \
                else await self.say(beneficiary, said)
        await self.say(beneficiary, file=png())
        await self.say(beneficiary, choice="confirm")
        done = await self.texts(beneficiary, "محمد عبدالله أحمد الغامدي")
        return re.search(r"BK-\d{4}-\d{6}", done[beneficiary]).group(0)

    async def digest(self) -> int:
        app = self.app
        return await Digest(app.db, app.profile, app.translations, self.clock).tick()


async def _staff(database) -> None:
    async with database.unit_of_work() as uow:
        for sender, name, role in (("r1", "Noura Alotaibi", "researcher"),
                                   ("r2", "Sara Alharbi", "researcher"),
                                   ("admin", "Huda", "admin")):
            await uow.desk.add_staff("telegram", sender, name, role, NOW)


@pytest.fixture
async def desk(database, bakkah, translations) -> Desk:
    """Bakkah with no staff group: staff work from their own chats."""
    clock = Clock()
    app = assemble(Settings(desk_notices=True), bakkah, database, translations, clock)
    await _staff(database)
    return Desk(app, clock)


@pytest.fixture
async def grouped(database, bakkah, translations) -> Desk:
    profile = bakkah.model_copy(update={"staff_group": StaffGroup(telegram_chat_id=int(GROUP))})
    clock = Clock()
    app = assemble(Settings(desk_notices=True), profile, database, translations, clock)
    await _staff(database)
    return Desk(app, clock)


async def test_researchers_are_told_of_a_new_case_in_their_own_chat_and_language(desk):
    await desk.say("r2", "/language en")
    await desk.say("r1", "/language ar")
    await desk.say("b1", "السلام عليكم")
    await desk.say("b1", choice="accept")
    got = await desk.say("b1", choice="human")
    [to_r1], [to_r2] = got["r1"], got["r2"]
    assert to_r2.text.startswith("🔔 New case #1: asked for a researcher (from the menu).")
    assert "Waiting since 13 Jumada al-Akhirah 1448 AH · 2026-11-23 12:00" in to_r2.text  # Riyadh time
    assert to_r1.text.startswith("🔔 إحالة جديدة #1")  # in the language Noura chose
    assert [c.id for c in to_r2.choices] == ["claim:1", "queue"]
    assert to_r2.notice == to_r1.notice == "desk"  # on WhatsApp: the profile's desk template
    assert "admin" not in got  # the desk is the researchers'; admins see it on /team

    # Pressing the notice's button takes the case (and says so in English for Sara).
    taken = await desk.texts("r2", choice="claim:1", lang="ar")
    assert "You took case #1." in taken["r2"]


async def test_after_hours_a_new_case_waits_for_the_morning_digest(desk):
    desk.clock.now = EVENING
    await desk.say("b1", "السلام عليكم")
    await desk.say("b1", choice="accept")
    got = await desk.say("b1", choice="human")
    assert set(got) == {"b1"}  # no one is woken at 23:00
    ar = desk.app.translations["ar"].gettext
    assert "Expect a reply from Tuesday 24 November at 08:00" in got["b1"][-1].text
    assert await desk.digest() == 0  # and no digest at night

    desk.clock.now = NEXT_MORNING
    assert await desk.digest() == 3  # both researchers and the admin
    got = await desk.say("r1", "/help")  # delivers what waits in the outbox too
    [digest] = [r for r in got["r1"] if r.text.startswith(ar("Good morning. What waits today:"))]
    assert ar("Cases waiting for a researcher: {n}").format(n=1) in digest.text
    assert ar("Cases past the reply target: {n}").format(n=1) in digest.text  # 3h10 at work
    assert [c.id for c in digest.choices] == ["team", "queue"]
    assert await desk.digest() == 0  # once a day


async def test_a_submitted_request_is_told_and_found_by_number_id_mobile_and_name(desk):
    await desk.say("r1", "/language en")
    await desk.say("r2", "/language en")
    number = await desk.submit("b1")
    for researcher in ("r1", "r2"):  # each told once, with a button to the history
        [notice] = desk.inbox[researcher][1:]  # after "The desk speaks English with you"
        assert notice.text.startswith(f"🔔 New request {number} from محمد عبدالله أحمد الغامدي: "
                                      "Food basket. It waits for review.")
        assert [c.id for c in notice.choices] == [f"review:{number}", "history:1"]
    assert "admin" not in desk.inbox

    for query in (number.lower(), "١٢٣٤٥٦٧٨٩٧", "0501234567", "+966 50 123 4567",
                  "محمد الغامدى", "احمد"):
        found = (await desk.texts("r1", f"/find {query}"))["r1"]
        assert "محمد عبدالله أحمد الغامدي" in found and number in found, query
    compound = (await desk.texts("r1", "/find محمد عبد الله"))["r1"]  # عبدالله, spaced
    assert "محمد عبدالله أحمد الغامدي (name)" in compound
    an_id = (await desk.texts("r1", "/find 1501234567"))["r1"]  # an ID, not her mobile's tail
    assert "No beneficiary found" in an_id
    none = (await desk.texts("r1", "/find خالد"))["r1"]
    assert "No beneficiary found" in none
    searches = await desk.audit("search")
    assert [e.detail for e in searches] == ["1 found"] * 7 + ["0 found"] * 2
    assert all("0501234567" not in (e.detail or "") for e in searches)  # never the query


async def test_history_reads_a_closed_case_and_reopens_it(desk):
    number = await desk.submit("b1")
    await desk.say("b1", "/menu")
    await desk.say("b1", choice="human")
    await desk.say("r1", "/claim 1")
    await desk.say("r1", "وصل طلبك، سنراجعه اليوم")
    await desk.say("r1", "/note اتصلت بها هاتفيًا")
    await desk.say("r1", f"/review {number}")
    await desk.say("r1", "/close")

    history = (await desk.say("r2", "/history 1"))["r2"][0]
    assert f"{number} · Food basket · under review" in history.text
    assert "submitted · " in history.text and "Noura Alotaibi" in history.text
    assert "#1 · asked for a researcher (from the menu)" in history.text
    assert "closed 13 Jumada al-Akhirah 1448 AH" in history.text
    assert [c.id for c in history.choices] == ["read:1", "reopen:1"]

    read = (await desk.texts("r2", choice="read:1"))["r2"]
    assert "→ Noura Alotaibi 12:00 وصل طلبك، سنراجعه اليوم" in read
    assert "✎ Noura Alotaibi 12:00 اتصلت بها هاتفيًا" in read  # notes for staff only
    assert [e.action for e in await desk.audit() if e.actor == "telegram:r2"] == [
        "view_history", "read_case"]

    reopened = await desk.say("r2", choice="reopen:1")
    assert "You reopened case #1." in reopened["r2"][0].text
    assert "Sara" in reopened["b1"][0].text  # the beneficiary is told who is with them
    back = await desk.texts("b1", "شكرًا، متى تتصلون؟")
    assert "شكرًا، متى تتصلون؟" in back["r2"] and "r1" not in back


async def test_a_case_cannot_be_reopened_while_another_is_open(desk):
    await desk.case_for("b1")
    await desk.say("r1", "/claim 1")
    await desk.say("r1", "/close")
    await desk.say("b1", "/menu")
    await desk.say("b1", choice="human")  # case 2
    refused = (await desk.texts("r2", "/reopen 1"))["r2"]
    assert "another open case, #2" in refused
    assert [(e.action, e.allowed) for e in await desk.audit("reopen")] == [("reopen", False)]


async def test_the_team_board_shows_every_open_case_overdue_first(desk):
    await desk.case_for("b1")  # case 1 at 12:00, taken and answered
    await desk.say("r1", "/claim 1")
    await desk.say("r1", "أهلًا")
    desk.clock.now = NOW + timedelta(minutes=30)
    await desk.case_for("b2")  # case 2 at 12:30, waiting
    desk.clock.now = NOW + timedelta(hours=2, minutes=45)  # 14:45: case 2 waited 2h15
    board = (await desk.say("r2", "/team"))["r2"][0]
    lines = board.text.splitlines()
    assert lines[0] == ("Open cases: 2 · overdue: 1 · reply target: 2 hours of working time")
    assert lines[1].startswith("⚠️ #2 · waiting for a researcher · waits 2 hours 15 minutes")
    assert lines[2].startswith("#1 · Noura Alotaibi · answered")
    assert [c.id for c in board.choices] == ["claim:2", "read:1"]

    # The beneficiary writes again: case 1 waits for Noura's answer, in working time only.
    await desk.say("b1", "هل من جديد؟")
    desk.clock.now = NOW + timedelta(hours=4)  # 16:00: after the 15:00 closing
    board = (await desk.texts("r2", "/team"))["r2"]
    assert "#1 · Noura Alotaibi · waits 15 minutes" in board


async def test_closing_a_complaint_closes_its_ticket_and_asks_for_no_rating(desk):
    await desk.say("b1", "السلام عليكم")
    await desk.say("b1", choice="accept")
    await desk.say("b1", choice="feedback")
    await desk.say("b1", choice="complaint")
    filed = await desk.texts("b1", "انتظرت ساعتين في المقر")
    ticket = re.search(r"FB-\d{4}-\d{6}", filed["b1"]).group(0)
    await desk.say("r1", "/claim 1")
    closed = await desk.say("r1", "/close")
    told = "\n".join(r.text for r in closed["b1"])
    assert ticket in told and "social researcher" not in told and "الباحث" not in told
    assert closed["b1"][-1].expects.field == "menu"  # no "rate the help" question


async def test_in_the_staff_group_a_submitted_request_is_posted_there_once(grouped):
    number = await grouped.submit("b1")
    [notice] = grouped.inbox[GROUP]
    assert number in notice.text and [c.id for c in notice.choices] == [f"review:{number}",
                                                                        "history:1"]
    assert not {"r1", "r2", "admin"} & set(grouped.inbox)


async def test_an_association_that_watches_the_queue_itself_is_told_nothing(database, bakkah,
                                                                           translations):
    quiet = bakkah.model_copy(update={"desk": bakkah.desk.model_copy(update={"notices": False})})
    clock = Clock()
    desk = Desk(assemble(Settings(desk_notices=None), quiet, database, translations, clock), clock)
    await _staff(database)
    await desk.say("b1", "السلام عليكم")
    await desk.say("b1", choice="accept")
    assert set(await desk.say("b1", choice="human")) == {"b1"}
    desk.clock.now = NEXT_MORNING
    assert await desk.digest() == 0
    assert "#1" in (await desk.texts("r1", "/queue"))["r1"]  # the queue has it


async def test_every_action_on_a_case_is_also_a_button(desk):
    number = await desk.submit("b1")
    await desk.say("b1", choice="human")
    taken = (await desk.say("r1", "/claim 1"))["r1"][-1]
    assert [c.id for c in taken.choices] == [  # each names its case (or its beneficiary)
        "file:1", "history:1", "canned:", "transfer:1", "release:1", "close:1"]

    file = (await desk.say("r1", choice="file:1"))["r1"][0]
    assert [c.id for c in file.choices] == ["doc:1", f"request:{number}"]
    statuses = (await desk.say("r1", choice=f"request:{number}"))["r1"][0]
    assert f"{number} is: submitted. It can go to:" in statuses.text
    assert "needs information (write the note after it" in statuses.text  # a note is needed
    assert "closed (write the note after it" in statuses.text  # closing unserved: a reason
    assert [(c.label, c.id) for c in statuses.choices] == [  # the policy's step: its command
        ("under review", f"review:{number}")]
    moved = await desk.texts("r1", choice=f"review:{number}")
    assert f"You took {number} for review." in moved["r1"]
    assert number in moved["b1"]  # the beneficiary is told

    whom = (await desk.say("r1", choice="transfer:1"))["r1"][0]
    assert "To whom do you hand case #1?" in whom.text
    assert [c.label for c in whom.choices] == ["Sara Alharbi", "Huda"]
    handed = await desk.texts("r1", choice=whom.choices[0].id)
    assert "Case #1 is now with Sara Alharbi." in handed["r1"] and "r2" in handed


async def test_an_old_button_acts_on_its_own_case_only(desk):
    await desk.case_for("b1")
    first = (await desk.say("r1", "/claim 1"))["r1"][-1]
    await desk.case_for("b2")
    await desk.say("r1", "/claim 2")  # now current: case 2
    closed = await desk.texts("r1", choice=first.choices[-1].id)  # case 1's "Close"
    assert "Case #1 is closed." in closed["r1"] and "b1" in closed and "b2" not in closed
    assert "You do not hold case #1." in (await desk.texts("r1", choice="close:1"))["r1"]
    assert "You do not hold case #3." in (await desk.texts("r2", choice="release:3"))["r2"]


async def test_a_number_typed_never_presses_a_notice_that_arrived_meanwhile(desk):
    await desk.case_for("b1")
    await desk.say("r1", "/claim 1")
    await desk.say("r1", "أهلًا")
    got = await desk.say("b2", "السلام عليكم")
    got = await desk.say("b2", choice="accept")
    got = await desk.say("b2", choice="human")
    assert got["r1"][0].text.startswith("🔔")  # Noura is told of case 2 ...
    typed = await desk.texts("r1", "1")  # ... and a 1 she types takes nothing
    assert "/say 1" in typed["r1"] and "b2" not in typed
    assert (await desk.texts("r1", "تفضل"))["r1"] == "✓ Sent → #1"  # still on case 1


async def test_an_admins_follow_up_stays_with_admins(desk):
    await desk.case_for("b1")
    async with desk.app.db.unit_of_work() as uow:
        # a follow-up of another beneficiary's rating (one open case each)
        rated = await uow.add_beneficiary("telegram", "b9", "b9", "ar", NOW)
        follow_up = await uow.desk.add_case(rated, "low_rating", "BK-2026-000001 · 1/5", "telegram",
                                            NOW, [], audience="admin")
    await desk.say("admin", f"/claim {follow_up.id}")
    assert "Only an admin can do this." in (await desk.texts("r1", f"/read {follow_up.id}"))["r1"]
    assert "You do not hold case #2." in (await desk.texts("r1", f"/file {follow_up.id}"))["r1"]
    whom = (await desk.say("admin", "/transfer"))["admin"][0]
    assert whom.text.startswith("There is no colleague")  # no researcher is offered it
    refused = await desk.texts("admin", "/transfer Sara")
    assert "no single colleague" in refused["admin"] and "r2" not in refused


async def test_numbers_too_long_or_odd_are_answered_not_crashed_on(desk):
    for typed in ("/read 99999999999999999999", "/read ²", "/claim ٩٩٩", "/history 0"):
        said = (await desk.texts("r1", typed))["r1"]
        assert "There is no" in said or "Which" in said or "Whose" in said, (typed, said)


async def test_in_the_group_outside_a_topic_no_ones_file_is_posted(grouped):
    await grouped.case_for("b1")
    await grouped.say("r1", "/claim 1")
    for typed in ("/file", "/file 999", "/history", "/note x", "/close"):
        assert GROUP not in await grouped.texts("r1", typed, chat=GROUP), typed
    found = await grouped.texts("r1", "/find 1048213373", chat=GROUP)  # a search works there
    assert found[GROUP].startswith('No beneficiary found for "1048213373"')
    async with grouped.app.db.unit_of_work() as uow:
        # a follow-up of another beneficiary's rating (one open case each)
        rated = await uow.add_beneficiary("telegram", "b9", "b9", "ar", NOW)
        follow_up = await uow.desk.add_case(rated, "low_rating", "x · 1/5", "telegram", NOW, [],
                                            audience="admin")
    pressed = await grouped.texts("r1", choice=f"file:{follow_up.id}", chat=GROUP)
    assert pressed == {GROUP: "Only an admin can do this."}  # an admins' follow-up's file
