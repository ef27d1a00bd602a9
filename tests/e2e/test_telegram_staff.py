"""The team on Telegram, end to end: the real bot process (python-telegram-bot and aiogram,
long polling) against the local fake Bot API, with a staff group that has a forum topic per
case. What each staff member sees in their command menu, and the desk's promises as the
group sees them: a case's topic and its buttons, one researcher per case, a researcher's
words reaching exactly their beneficiary, and nothing done for anyone who is not staff."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from typer.testing import CliRunner

from bot.channels.telegram import command_menu
from bot.cli import cli
from bot.i18n import load_translations
from conversations import desk
from storage import models as m
from storage.db import Database
from tests.e2e.sim import staff_add
from tests.e2e.telegram_bot import User, WaslProcess, buttons
from tests.fakes.telegram import FakeTelegram

RUNTIMES = ["ptb", "aiogram"]
GROUP = -1001234567890
NOURA, SARA, HUDA, STRANGER = 900900, 700700, 800800, 424242
LANGUAGES = (None, "ar", "en")


@pytest.fixture
def db(tmp_path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path}/wasl.db"


@pytest.fixture(params=RUNTIMES)
def runtime(request) -> str:
    """Every test here runs on both runtimes."""
    return request.param


@pytest.fixture
def profile(tmp_path) -> str:
    """The default profile, with a staff group that opens a forum topic for each case."""
    from bot.profiles import resolve
    path = tmp_path / "with-group.yaml"
    path.write_text(resolve("bakkah").read_text(encoding="utf-8")
                    + f"\nstaff_group: {{telegram_chat_id: {GROUP}, topics: true}}\n",
                    encoding="utf-8")
    return str(path)


@pytest.fixture
def launch(fake, db, tmp_path, runtime, profile):
    started: list[WaslProcess] = []

    def start(**env: str) -> WaslProcess:
        proc = WaslProcess(fake, db, runtime, "polling", tmp_path / "bot.log",
                           WASL_PROFILE=profile, **env).start()
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.stop()


@pytest.fixture
def team(db) -> None:
    staff_add(db, (f"telegram:{NOURA}", "researcher", "Noura Alotaibi"),
              (f"telegram:{SARA}", "researcher", "Sara Alharbi"))


# -- helpers ---------------------------------------------------------------------------------
def read(db: str, query):
    """Something read from the bot's database, in this process (`query(uow)`)."""
    async def go():
        database = Database(db)
        try:
            async with database.unit_of_work() as uow:
                return await query(uow)
        finally:
            await database.close()
    return asyncio.run(go())


def case_row(db: str, case_id: int) -> m.Case:
    return read(db, lambda uow: uow.session.get(m.Case, case_id))


def refusals(db: str, actor: int) -> list[tuple[str, int | None]]:
    """The audit log's refusals of one Telegram user: (action, case)."""
    async def query(uow):
        return [(e.action, e.case_id) for e in await uow.audit_entries(actor=f"telegram:{actor}")
                if not e.allowed]
    return read(db, query)


def staff_id(db: str, sender: int) -> int:
    async def query(uow):
        member = await uow.desk.staff_member("telegram", str(sender))
        return member.id
    return read(db, query)


def asks_for_a_researcher(user: User) -> None:
    user.say("/start")
    user.press("accept")
    user.press("human")


def case_post(fake: FakeTelegram, case_id: int) -> dict[str, Any]:
    """The bot's message that opened a case in the staff group, as posted (with its buttons,
    even once a press took them off)."""
    fake.wait(lambda: _posts(fake, case_id) != [])
    return _posts(fake, case_id)[0]


def _posts(fake: FakeTelegram, case_id: int) -> list[dict[str, Any]]:
    with fake.cond:
        sent = [c.params for c in fake.calls if c.method == "sendMessage" and c.status == 200
                and str(c.params["chat_id"]) == str(GROUP)
                and f"c:claim:{case_id}" in buttons(c.params)]
        stored = [msg for (chat, _), msg in sorted(fake.messages.items(), key=lambda kv: kv[0][1])
                  if chat == str(GROUP) and msg.get("text") in {p["text"] for p in sent}]
    return [{**msg, "reply_markup": sent[0]["reply_markup"]} for msg in stored[:1]]


def quiet(fake: FakeTelegram, bot: WaslProcess, *chats: int) -> None:
    """Wait until the bot has nothing left to send to these chats."""
    for chat in chats:
        User(fake, bot, uid=chat).settle()


def texts(fake: FakeTelegram, chat: int) -> list[str]:
    return [p["text"] for p in fake.sent_to(chat)]


def press(fake: FakeTelegram, bot: WaslProcess, who: int, message: dict[str, Any],
          data: str) -> None:
    """A button pressed by `who` (in the group, or a private chat), handled and committed."""
    User(fake, bot, uid=who).deliver(fake.press_update(who, message, data))


def write_in_topic(fake: FakeTelegram, bot: WaslProcess, who: int, thread: int, text: str) -> None:
    User(fake, bot, uid=who).deliver(fake.group_text_update(who, GROUP, text, thread))


# -- the command menus -------------------------------------------------------------------------
def expected_menu(role: str) -> list[str]:
    return [spec.name.lstrip("/") for spec in desk.menu_commands(role)]


def descriptions(fake: FakeTelegram, chat: int, lang: str | None) -> list[str]:
    scope = {"type": "chat", "chat_id": chat}
    [call] = [c for c in fake.called("setMyCommands")
              if c.params.get("scope") == scope and c.params.get("language_code") == lang][-1:]
    return [c["description"] for c in call.params["commands"]]


def test_each_staff_member_gets_their_roles_menu_in_their_chat_and_the_group_its_own(
        fake, launch, db):
    staff_add(db, (f"telegram:{NOURA}", "researcher", "Noura Alotaibi"),
              (f"telegram:{HUDA}", "admin", "Huda"),
              ("telegram:600600", "researcher", "Never Wrote"))  # Telegram knows no such chat
    fake.fail("setMyCommands", 400, chat_id="600600", times=10**6)  # until they open the bot
    launch(WASL_TELEGRAM_TEAM_CHECK="0.5")  # started all the same

    researcher, admin = expected_menu("researcher"), expected_menu("admin")
    assert {"claim", "queue", "close", "note", "help"} <= set(researcher)
    assert {"audit", "staff", "report", "broadcast"} & set(researcher) == set()
    assert {"audit", "staff", "report", "broadcast"} <= set(admin)
    for lang in LANGUAGES:
        assert fake.menu(NOURA, lang) == researcher, lang
        assert fake.menu(HUDA, lang) == admin, lang
        assert fake.menu(600600, lang) is None
        group = fake.menu(GROUP, lang)
        assert {"claim", "close", "file", "note", "history", "read", "help"} <= set(group)
        assert {"queue", "cases", "find", "audit", "staff", "report", "broadcast"} & set(group) == set()
        # the beneficiaries' menu, for every other chat, is as it was
        assert fake.menu(None, lang) == ["start", "menu", "status", "cancel", "language", "help",
                                         "stop", "subscribe", "mydata"]
    # each command's help, in Arabic by default and for Arabic, in English for English
    tr = load_translations()
    for lang in LANGUAGES:
        _ = tr[lang or "ar"].gettext
        said = descriptions(fake, HUDA, lang)
        assert said == [" ".join(_(spec.help).split())[:256] for spec in desk.menu_commands("admin")]
        assert all(1 <= len(text) <= 256 for text in said)

    # The team changes while the bot runs (`wasl staff` in a shell): each chat's menu
    # follows within the team check, without a restart.
    staff_add(db, (f"telegram:{SARA}", "researcher", "Sara Alharbi"),
              (f"telegram:{NOURA}", "admin", "Noura Alotaibi"))
    assert CliRunner().invoke(cli, ["staff", "remove", f"telegram:{HUDA}", "--db", db]).exit_code == 0
    fake.wait(lambda: all(fake.menu(SARA, lang) == researcher and fake.menu(NOURA, lang) == admin
                          and fake.menu(HUDA, lang) is None for lang in LANGUAGES))
    # "Never Wrote" opens the bot at last: their menu is set at the next look
    with fake.cond:
        fake.faults.pop("setMyCommands", None)
    fake.wait(lambda: all(fake.menu(600600, lang) == researcher for lang in LANGUAGES))
    deleted = [c.params for c in fake.called("deleteMyCommands")]
    assert {(p["scope"]["chat_id"], p.get("language_code")) for p in deleted} >= {
        (HUDA, lang) for lang in LANGUAGES}


def test_a_menu_is_cut_to_what_telegram_takes():
    long = "ا" * 300
    menu = command_menu([("/claim", "  take\n case N "), ("/claim", "again"), ("/Bad-Name", "x"),
                         ("/" + "n" * 33, "too long a name"), ("/note", long), ("/help", "")]
                        + [(f"/c{i}", "x") for i in range(120)])
    assert menu[:3] == [("claim", "take case N"), ("note", "ا" * 255 + "…"), ("help", "help")]
    assert len(menu) == 100 and all(1 <= len(text) <= 256 for _, text in menu)


# -- the staff group -------------------------------------------------------------------------
def test_a_beneficiary_asking_for_a_researcher_gets_a_topic_with_the_cases_buttons(
        fake, launch, team):
    bot = launch()
    asks_for_a_researcher(User(fake, bot))
    post = case_post(fake, 1)
    [topic] = fake.called("createForumTopic")
    assert str(topic.params["chat_id"]) == str(GROUP) and topic.params["name"].startswith("#1")
    assert post["message_thread_id"] and post["is_topic_message"]
    assert buttons(post) == ["c:claim:1", "c:file:1", "c:close:1"]  # take, file, close


def test_take_in_the_topic_claims_the_case_and_the_words_there_reach_exactly_that_beneficiary(
        fake, launch, db, team):
    bot = launch()
    first, second = User(fake, bot, uid=555000111), User(fake, bot, uid=555000222)
    asks_for_a_researcher(first)
    asks_for_a_researcher(second)
    post, other = case_post(fake, 1), case_post(fake, 2)
    assert post["message_thread_id"] != other["message_thread_id"]  # a topic each

    press(fake, bot, NOURA, post, "c:claim:1")
    fake.wait(lambda: any("Noura" in t for t in texts(fake, first.uid)))
    case = case_row(db, 1)
    assert case.status == "claimed" and case.claimed_by == staff_id(db, NOURA)
    assert case_row(db, 2).status == "queued"

    quiet(fake, bot, first.uid, second.uid)
    before_first, before_second = len(texts(fake, first.uid)), len(texts(fake, second.uid))
    write_in_topic(fake, bot, NOURA, post["message_thread_id"], "أهلًا، معك نورة. كيف أخدمك؟")
    fake.wait(lambda: len(texts(fake, first.uid)) > before_first)
    quiet(fake, bot, first.uid, second.uid, NOURA, GROUP)
    [relayed] = texts(fake, first.uid)[before_first:]
    assert relayed.endswith("أهلًا، معك نورة. كيف أخدمك؟") and "Noura" in relayed
    assert len(texts(fake, second.uid)) == before_second
    assert not any("كيف أخدمك" in t for t in texts(fake, NOURA) + texts(fake, GROUP))


def test_a_second_researcher_cannot_take_or_close_a_case_the_first_holds(fake, launch, db, team):
    bot = launch()
    beneficiary = User(fake, bot)
    asks_for_a_researcher(beneficiary)
    post = case_post(fake, 1)
    press(fake, bot, NOURA, post, "c:claim:1")
    fake.wait(lambda: any("Noura" in t for t in texts(fake, beneficiary.uid)))
    quiet(fake, bot, beneficiary.uid, GROUP)
    told, in_group = len(texts(fake, beneficiary.uid)), len(texts(fake, GROUP))

    press(fake, bot, SARA, post, "c:claim:1")
    press(fake, bot, SARA, post, "c:close:1")
    write_in_topic(fake, bot, SARA, post["message_thread_id"], "أنا سارة، سأكمل معك")
    fake.wait(lambda: len(texts(fake, GROUP)) >= in_group + 3)
    quiet(fake, bot, beneficiary.uid, GROUP, SARA)

    answers = texts(fake, GROUP)[in_group:]
    assert len(answers) == 3 and all("Noura Alotaibi" in t for t in answers)  # who holds it
    case = case_row(db, 1)
    assert case.status == "claimed" and case.claimed_by == staff_id(db, NOURA)
    assert len(texts(fake, beneficiary.uid)) == told  # not closed, not joined, nothing relayed
    assert refusals(db, SARA) == [("group_action", 1)] * 3
    assert refusals(db, NOURA) == []


def test_someone_who_is_not_staff_gets_nothing_done_in_the_staff_group(fake, launch, db, team):
    bot = launch()
    beneficiary = User(fake, bot)
    asks_for_a_researcher(beneficiary)
    post = case_post(fake, 1)
    thread = post["message_thread_id"]
    quiet(fake, bot, beneficiary.uid, GROUP)
    told, in_group = len(texts(fake, beneficiary.uid)), len(texts(fake, GROUP))

    write_in_topic(fake, bot, STRANGER, thread, "مرحبا، أنا من الجمعية")
    write_in_topic(fake, bot, STRANGER, thread, "/claim 1")
    press(fake, bot, STRANGER, post, "c:claim:1")
    press(fake, bot, STRANGER, post, "c:close:1")
    User(fake, bot, uid=STRANGER).deliver(fake.group_text_update(STRANGER, GROUP, "/queue"))
    quiet(fake, bot, beneficiary.uid, GROUP, STRANGER)

    assert case_row(db, 1).status == "queued"
    assert len(texts(fake, beneficiary.uid)) == told  # nothing relayed
    assert len(texts(fake, GROUP)) == in_group and texts(fake, STRANGER) == []  # nothing said
    entries = read(db, lambda uow: uow.audit_entries(actor=f"telegram:{STRANGER}"))
    assert [e.action for e in entries if e.action == "staff_group"] == ["staff_group"] * 5
    assert not any(e.allowed for e in entries)  # every one of them a refusal


def test_a_beneficiary_forging_a_staff_button_is_refused_and_audited(fake, launch, db, team):
    bot = launch()
    beneficiary = User(fake, bot)
    asks_for_a_researcher(beneficiary)
    case_post(fake, 1)
    quiet(fake, bot, GROUP)
    in_group = len(texts(fake, GROUP))

    own = beneficiary.latest_with_buttons()  # a message of their own chat, its data forged
    for data in ("c:claim:1", "c:close:1", "c:file:1"):
        before = len(texts(fake, beneficiary.uid))
        press(fake, bot, beneficiary.uid, own, data)
        fake.wait(lambda n=before: len(texts(fake, beneficiary.uid)) > n)
        beneficiary.settle()
        assert not any("File of" in t or "ملف المستفيد" in t
                       for t in texts(fake, beneficiary.uid)[before:])
    quiet(fake, bot, GROUP, NOURA, SARA)

    assert case_row(db, 1).status == "queued" and case_row(db, 1).claimed_by is None
    # The topic shows what the beneficiary sent, as it shows all they send in a case, and
    # nothing else: no case taken, closed or opened; no researcher was told anything.
    assert all(t.startswith("← ") for t in texts(fake, GROUP)[in_group:])
    assert texts(fake, NOURA) == texts(fake, SARA) == []

    async def query(uow):
        return [(e.role, e.allowed, e.detail) for e in await uow.audit_entries(
            actor=f"telegram:{beneficiary.uid}", action="staff_command")]
    assert read(db, query) == [("beneficiary", False, f"button {data[2:]}")
                               for data in ("c:claim:1", "c:close:1", "c:file:1")]

