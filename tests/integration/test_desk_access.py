"""The desk's two privacy promises, through the router as every channel reaches it: staff
see and do only what their role allows, from every entry point (private chat, the staff
group and its topics, buttons), and a researcher's words reach exactly the beneficiary
they meant."""

from __future__ import annotations

import hashlib
from collections import defaultdict

import pytest
from sqlalchemy import select

from bot.app import App, assemble
from bot.config import Settings
from conversations.base import Event, FileRef, InboundEvent, Reply
from conversations.profile import StaffGroup
from storage import models as m
from tests.conftest import NOW

GROUP = "-1001234567890"
CHANNEL = "telegram"


class Room:
    """Beneficiaries and staff in one process; `say` returns what each chat was sent."""

    def __init__(self, app: App) -> None:
        self.app = app

    async def say(self, who: str, text: str | None = None, *, choice: str | None = None,
                  file: FileRef | None = None, chat: str | None = None,
                  thread: str | None = None, lang: str = "en") -> dict[str, list[Reply]]:
        event = (Event("choice", choice=choice) if choice else Event("file", file=file) if file
                 else Event("text", text=text or ""))
        await self.app.router.handle(InboundEvent(CHANNEL, who, chat or who, event,
                                                  language_hint=lang, thread_id=thread))
        got: dict[str, list[Reply]] = defaultdict(list)

        async def send(chat_id: str, reply: Reply) -> None:
            got[chat_id].append(reply)

        await self.app.outbox.deliver(CHANNEL, send)
        return got

    async def texts(self, who: str, text: str | None = None, **kw) -> dict[str, str]:
        return {chat: "\n".join(r.text for r in replies)
                for chat, replies in (await self.say(who, text, **kw)).items()}

    async def case_for(self, beneficiary: str) -> int:
        """A beneficiary who consents and asks for a researcher: their new case's number."""
        await self.say(beneficiary, "السلام عليكم")
        await self.say(beneficiary, choice="accept")
        await self.say(beneficiary, choice="human")
        async with self.app.db.session() as s:
            return (await s.execute(select(m.Case.id).order_by(m.Case.id.desc()))).scalars().first()

    async def audit(self, action: str | None = None) -> list[m.AuditEntry]:
        async with self.app.db.session() as s:
            stmt = select(m.AuditEntry).order_by(m.AuditEntry.id)
            if action:
                stmt = stmt.where(m.AuditEntry.action == action)
            return list((await s.execute(stmt)).scalars())


@pytest.fixture
async def room(database, bakkah, translations) -> Room:
    profile = bakkah.model_copy(update={"staff_group": StaffGroup(telegram_chat_id=int(GROUP))})
    app = assemble(Settings(), profile, database, translations, lambda: NOW)
    async with database.unit_of_work() as uow:
        for sender, name, role in (("r1", "Noura Alotaibi", "researcher"),
                                   ("r2", "Sara Alharbi", "researcher"),
                                   ("admin", "Huda", "admin")):
            await uow.desk.add_staff(CHANNEL, sender, name, role, NOW)
    return Room(app)


async def test_a_researcher_cannot_run_admin_commands_from_a_case_topic(room):
    case = await room.case_for("b1")
    async with room.app.db.unit_of_work() as uow:
        await uow.desk.set_topic(case, "77")
    await room.say("r1", f"/claim {case}")
    in_topic = {"chat": GROUP, "thread": "77"}
    for command in ("/audit", "/staff", "/report", "/broadcasts", "/broadcast"):
        got = await room.texts("r1", command, **in_topic)
        assert got == {GROUP: "Only an admin can do this."}, command
    got = await room.texts("r1", choice="bc_cancel:1", **in_topic)  # an announcement's button
    assert got == {GROUP: "Only an admin can do this."}
    refused = [(e.action, e.allowed, e.case_id) for e in await room.audit()
               if e.actor == f"{CHANNEL}:r1" and not e.allowed]
    assert refused == [(name, False, case) for name in
                       ("audit", "staff", "report", "broadcasts", "broadcast", "bc_cancel")]
    assert not [e for e in await room.audit("view_audit")]  # nothing was shown
    async with room.app.db.session() as s:  # no report file was made
        assert not (await s.execute(select(m.Document).where(
            m.Document.field_key == "report"))).scalars().first()

    # The same commands from the same place work for an admin, and for a researcher the
    # case's own commands still do.
    assert "claim" in (await room.texts("admin", "/audit", **in_topic))[GROUP]
    assert [e.allowed for e in await room.audit("view_audit")] == [True]
    assert "File of beneficiary" in (await room.texts("r1", "/file", **in_topic))[GROUP]


async def test_a_researcher_cannot_run_admin_commands_in_private_or_by_button(room):
    assert (await room.texts("r1", "/audit")) == {"r1": "Only an admin can do this."}
    assert (await room.texts("r1", choice="bc_pause:1")) == {"r1": "Only an admin can do this."}
    assert [e.allowed for e in await room.audit("bc_pause")] == [False]


async def test_a_transfer_never_changes_where_a_colleagues_next_message_goes(room):
    a, b, c = [await room.case_for(who) for who in ("a", "b", "c")]
    await room.say("r2", "/language en")  # a handed case is told in the colleague's language
    await room.say("r2", f"/claim {b}")  # R2 is talking with B
    await room.say("r1", f"/claim {a}")
    await room.say("r1", f"/claim {c}")
    await room.say("r1", f"/switch {a}")

    moved = await room.texts("r1", "/transfer Sara")
    assert f"Case #{a} is now with Sara Alharbi" in moved["r1"]
    assert f"What you write now goes to case #{c}" in moved["r1"]  # the only one left
    assert f"still goes to case #{b}" in moved["r2"] and f"/switch {a}" in moved["r2"]

    to_b = await room.texts("r2", "أهلًا، وصلتني أوراقك")
    assert "وصلتني أوراقك" in to_b["b"] and "a" not in to_b
    assert to_b["r2"] == f"✓ Sent → #{b}"
    to_c = await room.texts("r1", "تفضل بالسؤال")
    assert "تفضل بالسؤال" in to_c["c"] and "a" not in to_c
    assert to_c["r1"] == f"✓ Sent → #{c}"

    # R2 answers A only after choosing to.
    await room.say("r2", f"/switch {a}")
    assert "a" in await room.texts("r2", "مرحبا")


async def test_after_handing_one_case_over_a_researcher_holding_several_is_asked_which(room):
    a, b, c = [await room.case_for(who) for who in ("a", "b", "c")]
    for case in (a, b, c):
        await room.say("r1", f"/claim {case}")
    closed = await room.say("r1", "/close")  # the current one: c
    [asked] = [r for r in closed["r1"] if r.choices]
    assert "Which one do you continue?" in asked.text
    assert [ch.id for ch in asked.choices] == [f"switch:{a}", f"switch:{b}"]
    unsent = await room.texts("r1", "هل وصلتك الرسالة؟")
    assert set(unsent) == {"r1"} and "Which one do you continue?" in unsent["r1"]
    await room.say("r1", "2")  # the second button: case b
    assert "هل وصلتك" in (await room.texts("r1", "هل وصلتك الرسالة؟"))["b"]


async def test_closing_a_case_in_its_topic_keeps_the_private_current_case(room):
    a, b = [await room.case_for(who) for who in ("a", "b")]
    async with room.app.db.unit_of_work() as uow:
        await uow.desk.set_topic(a, "70")
    await room.say("r1", f"/claim {a}")
    await room.say("r1", f"/claim {b}")  # current: b
    await room.say("r1", "/close", chat=GROUP, thread="70")
    assert "b" in await room.texts("r1", "ما زلت معك")


async def test_a_number_typed_by_a_researcher_presses_a_button_and_is_never_relayed(room):
    a = await room.case_for("a")
    await room.say("r1", f"/claim {a}")
    b = await room.case_for("b")
    queue = await room.say("r1", "/queue")
    assert [ch.id for ch in queue["r1"][0].choices] == [f"claim:{b}"]
    pressed = await room.texts("r1", "1")  # "1" presses "Take #b"
    assert "a" not in pressed and f"You took case #{b}" in pressed["r1"]

    for typed in ("٩", "9", "#7", "-1"):  # no button has these numbers: nothing is relayed
        got = await room.texts("r1", typed)
        assert set(got) == {"r1"} and "/say" in got["r1"], typed
    said = await room.texts("r1", "/say ٣")
    assert said["b"].endswith("٣")  # a number sent on purpose
    assert "3 أكياس" in (await room.texts("r1", "3 أكياس"))["b"]  # a number with words


async def test_the_beneficiarys_menu_while_a_researcher_holds_the_case(room):
    a = await room.case_for("a")
    await room.say("r1", f"/claim {a}")
    got = await room.say("a", "/menu")
    [menu] = got["a"]
    assert menu.expects.field == "menu" and "new_request" in [ch.id for ch in menu.choices]
    told = room.app.translations["ar"].gettext(
        "They went back to the bot's menu. What you write still reaches them.")
    assert got["r1"][0].text == f"← #{a}:\n{told}"  # the researcher knows which case
    assert "أهلًا" in (await room.texts("r1", "أهلًا، هل من سؤال آخر؟"))["a"]
    back = await room.texts("a", "نعم، متى التوزيع؟")  # their answer reaches the researcher
    assert "متى التوزيع" in back["r1"] and "a" not in back


async def test_a_forged_staff_button_from_a_beneficiary_changes_nothing_and_is_audited(room):
    case = await room.case_for("b1")
    await room.say("b1", choice=f"claim:{case}")
    await room.say("b1", choice="bc_cancel:1")
    async with room.app.db.session() as s:
        assert (await s.get(m.Case, case)).status == "queued"
    refused = [(e.actor, e.allowed, e.detail) for e in await room.audit("staff_command")]
    assert refused == [(f"{CHANNEL}:b1", False, f"button claim:{case}"),
                       (f"{CHANNEL}:b1", False, "button bc_cancel:1")]


async def test_a_forged_staff_button_in_a_live_case_never_reaches_the_researcher(room):
    case = await room.case_for("b1")
    await room.say("r1", f"/claim {case}")
    got = await room.texts("b1", choice=f"close:{case}")
    assert list(got) == ["b1"] and "I can read text" in got["b1"]  # told what works; no one else
    async with room.app.db.session() as s:
        assert (await s.get(m.Case, case)).status == "claimed"
        said = (await s.execute(select(m.CaseMessage.text).where(
            m.CaseMessage.case_id == case))).scalars().all()
    assert not any("close" in t for t in said)
    assert "ما زلت هنا" in (await room.texts("b1", "ما زلت هنا"))["r1"]  # talk goes on



async def test_control_characters_from_anyone_never_reach_the_database(room):
    """A NUL or an escape sequence, from staff or a beneficiary, in text, a command or a
    file name: stripped at the door, so PostgreSQL (which cannot store a NUL) takes it
    and a terminal reading the audit later is safe."""
    case = await room.case_for("b1")
    await room.say("r1", f"/claim {case}")
    got = await room.texts("r1", "أهلًا\x00 بك\x1b[2J")
    assert got["b1"].endswith("أهلًا بك") and "\x00" not in got["b1"]
    content = b"\x89PNG\r\n\x1a\n" + b"x" * 200
    photo = FileRef("id\x00\x1b.png", "image/png", len(content), hashlib.sha256(content).hexdigest(),
                    content)
    assert "/doc" in (await room.texts("b1", file=photo))["r1"]
    await room.say("b2", "/queue\x00\x1b]0;title\x07")  # a beneficiary trying a staff command
    async with room.app.db.session() as s:
        names = (await s.execute(select(m.Document.name))).scalars().all()
        said = (await s.execute(select(m.CaseMessage.text))).scalars().all()
    assert names == ["id.png"] and not any("\x00" in t or "\x1b" in t for t in said)
    [refused] = await room.audit("staff_command")
    assert refused.detail == "/queue"


def png(tag: bytes = b"x") -> FileRef:
    content = b"\x89PNG\r\n\x1a\n" + tag * 200
    return FileRef("id.png", "image/png", len(content), hashlib.sha256(content).hexdigest(), content)


async def test_a_document_opens_only_for_whoever_holds_a_case_of_its_beneficiary(room):
    case = await room.case_for("b1")
    await room.say("r1", f"/claim {case}")
    sent = await room.texts("b1", file=png())
    doc = sent["r1"].rsplit("/doc ", 1)[1].split()[0]
    refused = await room.say("r2", f"/doc {doc}")  # holds no case of b1
    assert [r.document_id for r in refused["r2"]] == [None]
    assert "only while you hold a case" in refused["r2"][0].text
    assert [r.document_id for r in (await room.say("r1", f"/doc {doc}"))["r1"]] == [int(doc)]
    assert [r.document_id for r in (await room.say("admin", f"/doc {doc}"))["admin"]] == [int(doc)]
    assert [(e.actor, e.allowed) for e in await room.audit("view_document")] == [
        (f"{CHANNEL}:r2", False), (f"{CHANNEL}:r1", True), (f"{CHANNEL}:admin", True)]


async def test_staff_read_labels_in_their_language_never_internal_keys(room):
    await room.say("b1", "السلام عليكم", lang="ar")
    await room.say("b1", choice="accept", lang="ar")
    await room.say("b1", choice="new_request", lang="ar")
    await room.say("b1", choice="food_basket", lang="ar")
    await room.say("b1", choice="human", lang="ar")  # at the first question: the full name
    await room.case_for("b2")  # from the menu
    tr = room.app.translations["ar"].gettext
    queue = (await room.texts("r1", "/queue", lang="ar"))["r1"]
    label = room.app.profile.service("food_basket").field("full_name").label.get("ar")
    assert tr("at the question: {label}").format(label=label) in queue
    assert tr("from the menu") in queue
    assert "(full_name)" not in queue and "(menu)" not in queue

    audit = (await room.texts("admin", "/audit", lang="ar"))["admin"]
    assert tr("The latest audit entries (Riyadh time):") in audit
    assert "2026-11-23 12:00" in audit and "09:00" not in audit  # 09:00 UTC is noon in Riyadh


async def test_a_transcript_masks_the_mobile_as_the_file_does(room):
    await room.say("b1", "السلام عليكم")
    await room.say("b1", choice="accept")
    await room.say("b1", choice="new_request")
    await room.say("b1", choice="food_basket")
    for answer in ("محمد عبدالله أحمد الغامدي", "1048213373", "1449-01-01", "0558765432"):
        await room.say("b1", answer)
    await room.say("b1", choice="human")
    async with room.app.db.session() as s:
        case = (await s.execute(select(m.Case.id))).scalars().one()
    transcript = (await room.texts("r1", f"/claim {case}"))["r1"]
    assert "0558765432" not in transcript and "+9665••••5432" in transcript
    assert "1048213373" not in transcript and "••••••3373" in transcript


async def test_a_reopened_case_closed_again_returns_the_beneficiary_to_the_menu(room):
    """The help of a case is put to a rating once: closed a second time after a reopen,
    the beneficiary gets the menu instead of a question that will not come."""
    case = await room.case_for("b1")
    await room.say("r1", f"/claim {case}")
    await room.say("r1", "أهلًا")
    first = await room.say("r1", "/close")
    assert len(first["b1"]) >= 2  # closed, then the question about the help
    await room.say("r2", f"/reopen {case}")
    await room.say("r2", "هل من شيء آخر؟")
    second = await room.say("r2", "/close")
    closed, menu = second["b1"]  # no second question: the menu, as after any closed talk
    assert "closed" in closed.text and "new_request" in {c.id for c in menu.choices}


async def test_the_lost_race_for_a_case_names_the_colleague_who_won(room, monkeypatch):
    """Another researcher's claim commits between what the desk read and what it writes:
    nothing of the loser's step happens, and they are told who has the case."""
    from sqlalchemy import update

    from handlers.staff import Desk

    case = await room.case_for("b1")
    original, raced = Desk.load, []

    async def load(self, command):
        facts = await original(self, command)
        if command is not None and command.name == "/claim" and not raced:
            raced.append(True)  # Sara's claim lands after the read
            sara = (await self.uow.session.execute(select(m.Staff.id).where(
                m.Staff.name == "Sara Alharbi"))).scalar_one()
            await self.uow.session.execute(update(m.Case).where(m.Case.id == case).values(
                status="claimed", claimed_by=sara))
        return facts

    monkeypatch.setattr(Desk, "load", load)
    got = await room.texts("r1", f"/claim {case}")
    assert "already taken by Sara Alharbi" in got["r1"] and "b1" not in got
    assert [(e.allowed, e.detail) for e in await room.audit("claim")] == [(False, "not queued")]


async def test_a_file_asked_by_number_on_two_lines_is_that_cases_file(room):
    a = await room.case_for("b1")
    b = await room.case_for("b2")
    await room.say("r1", f"/claim {a}")
    await room.say("r1", f"/claim {b}")  # b is the current case now
    said = (await room.texts("r1", f"/file {a}\nfull"))["r1"]
    assert f"#{a} (" in said and f"#{b} (" not in said
    [seen] = [e for e in await room.audit("view_file")]
    assert (seen.case_id, seen.detail) == (a, "full")


async def test_an_announcement_number_too_long_or_odd_is_answered(room):
    for typed in ("/broadcast 99999999999999999999", "/broadcast ²", "/bc_pause 99999999999999999999"):
        assert "There is no announcement" in (await room.texts("admin", typed))["admin"], typed
