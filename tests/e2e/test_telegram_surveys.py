"""Satisfaction surveys on Telegram, end to end: the real bot process (python-telegram-bot and
aiogram, long polling) against the local fake Bot API, with a researcher in their own chat.
The same scenarios as test_surveys.py, seen as a Telegram user sees them: inline buttons,
answered callback queries, and a reminder sent by the bot's own scheduler loop."""

from __future__ import annotations

import asyncio
import re
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from storage import models as m
from storage.db import Database
from tests.conftest import PG_URL
from tests.e2e.sim import NAME, shift, staff_add, surveys
from tests.e2e.telegram_bot import User, WaslProcess, buttons
from tests.fakes.telegram import FakeTelegram

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 2048
RUNTIMES = ["ptb", "aiogram"]
RESEARCHER = 900900
COMMITTEE = 900901  # a member of the research committee, who records its decisions
RATINGS = [f"c:rate:{n}" for n in range(1, 6)] + ["c:later"]  # the survey's first question
NAMED_OR_NOT = ["c:named", "c:anonymous", "c:later"]  # after the ratings, before the comment
MENU = "c:new_request"


@pytest.fixture
def db(db_url) -> str:
    """SQLite, and PostgreSQL too when WASL_TEST_DATABASE_URL is set; with a researcher and
    a committee member."""
    staff_add(db_url, (f"telegram:{RESEARCHER}", "researcher", "Noura Alotaibi"),
              (f"telegram:{COMMITTEE}", "committee", "Khalid Alzahrani"))
    return db_url


@pytest.fixture(params=RUNTIMES)
def runtime(request) -> str:
    return request.param


# Each engine with one runtime, not all four pairs: the engines are covered by the storage
# and simulator tests, the runtimes by test_telegram.py; this saves CI a minute. Without
# PostgreSQL, SQLite takes both runtimes.
both = pytest.mark.parametrize(
    ("db_url", "runtime"),
    [("sqlite", "ptb"), ("postgresql", "aiogram")] if PG_URL else [("sqlite", "ptb"), ("sqlite", "aiogram")],
    indirect=["db_url"])


@pytest.fixture
def launch(fake, db, tmp_path, runtime):
    started: list[WaslProcess] = []

    def start() -> WaslProcess:
        # The scheduler looks for due reminders every half second instead of every 30.
        proc = WaslProcess(fake, db, runtime, "polling", tmp_path / "bot.log",
                           WASL_SCHEDULER_INTERVAL="0.5").start()
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.stop()


# -- helpers ---------------------------------------------------------------------------------
def settle(user: User, before: int, done, timeout: float = 15) -> list[dict]:
    """The messages a chat got since `before`, once `done(them)` holds and the bot has nothing
    more to send it."""
    fake = user.fake
    fake.wait(lambda: done(fake.sent_to(user.uid)[before:]), timeout=timeout)
    user.settle()
    return fake.sent_to(user.uid)[before:]


def with_buttons(messages: list[dict], first: str) -> bool:
    return any(buttons(p)[:1] == [first] for p in messages)


def intake(user: User) -> str:
    """A food basket request over Telegram, from /start to its number."""
    user.say("/start")
    user.press("accept")
    user.press("new_request")
    user.press("food_basket")
    user.say(NAME)
    user.say("١٢٣٤٥٦٧٨٩٧")
    user.say("1449/1/1")
    user.contact("+966 50 123 4567")
    user.say("العزيزية")
    user.say("5")
    user.press("accept")  # consent to the health and financial questions
    user.say("3000")
    user.press("salary")
    user.photo(PNG)
    user.press("confirm")
    done = user.say(NAME)
    return re.search(r"BK-\d{4}-\d{6}", done[0]["text"]).group(0)


def approve(researcher: User, committee: User, number: str) -> None:
    """The policy's path to an approval over Telegram, as tests.e2e.sim.approve takes it over
    the simulator: the researcher presses ✅ on each item the review card offers, then
    «Complete the registration»; a committee member, in their own chat, approves it."""
    got = researcher.say(f"/review {number}")
    while True:
        card = [p for p in got if buttons(p)][-1]
        match = [b for b in buttons(card) if b.startswith(f"c:match:{number} ")]
        if not match:
            break
        got = researcher.press(match[0].removeprefix("c:"))
    assert f"c:register:{number}" in buttons(card), card["text"]  # everything matched
    researcher.press(f"register:{number}")
    committee.settle()  # the registration's notice reached the committee member first
    decided = committee.say(f"/decide {number} approve 12")
    assert f"تمت الموافقة على الطلب {number}" in decided[0]["text"]


def deliver(fake: FakeTelegram, bot: WaslProcess) -> tuple[User, str, list[dict]]:
    """A beneficiary's request, taken by the researcher and the committee (on Telegram) to a
    delivered service; the messages the beneficiary got from the delivery, up to the survey's
    first question."""
    beneficiary, researcher = User(fake, bot), User(fake, bot, uid=RESEARCHER)
    number = intake(beneficiary)
    approve(researcher, User(fake, bot, uid=COMMITTEE), number)
    beneficiary.settle()  # the notices of the review and the approval came before
    before = len(fake.sent_to(beneficiary.uid))
    researcher.say(f"/deliver {number} 1 سلة")
    told = settle(beneficiary, before, lambda got: with_buttons(got, "c:rate:1"))
    return beneficiary, number, told


def stored(db: str, model: type[m.Base]) -> list[dict]:
    """The rows of a table, read directly: cheap enough to poll (a `wasl` process is not)."""
    async def go() -> list[dict]:
        database = Database(db)
        async with database.unit_of_work() as uow:
            found = (await uow.session.execute(select(model).order_by(model.id))).scalars().all()
            rows = [{c.key: getattr(r, c.key) for c in model.__table__.columns} for r in found]
        await database.close()
        return rows
    return asyncio.run(go())


def statuses(db: str) -> list[str]:
    return [r["status"] for r in stored(db, m.Survey)]


def answered_buttons(fake: FakeTelegram) -> int:
    return len([c for c in fake.called("answerCallbackQuery") if c.status == 200])


# -- the tests -------------------------------------------------------------------------------
@both
def test_a_delivered_service_is_rated_with_a_typed_arabic_digit_and_buttons(fake, launch, db):
    bot = launch()
    beneficiary, number, told = deliver(fake, bot)
    assert "تم تقديم الخدمة" in told[0]["text"] and number in told[0]["text"]  # what happened
    assert "حق لك" in told[0]["text"] and "لتحسين" in told[0]["text"]  # a right, to improve
    assert buttons(told[-1]) == RATINGS  # the rating is the first question
    labels = [b["text"] for row in told[-1]["reply_markup"]["inline_keyboard"] for b in row]
    for n in range(1, 6):  # stars first, as many as the rating
        assert labels[n - 1].startswith("⭐" * n + " ") and "⭐" * (n + 1) not in labels[n - 1]
    assert all("parse_mode" not in p for p in told)

    pressed = answered_buttons(fake)
    ease = beneficiary.say("٤")  # typed, in Arabic-Indic digits: the fourth button
    assert "سهولة تقديم الطلب" in ease[-1]["text"]  # the profile's extra question, `ease`
    assert buttons(ease[-1]) == RATINGS
    named = beneficiary.press("rate:5")
    assert buttons(named[-1]) == NAMED_OR_NOT
    comment = beneficiary.press("named")
    assert buttons(comment[-1]) == ["c:no_comment"]
    thanks = beneficiary.say("شكرًا لكم، الموظف كان متعاونًا جدًا")  # "الموظف": not a call for one
    assert "شكرًا لك" in thanks[0]["text"] and MENU in buttons(thanks[-1])
    # Both presses were answered (no endless spinner) and their keyboards taken off.
    assert answered_buttons(fake) == pressed + 2
    for shown in (ease[-1], named[-1]):
        kept = [msg for (chat, _), msg in fake.messages.items()
                if chat == str(beneficiary.uid) and msg.get("text") == shown["text"]]
        assert "reply_markup" not in kept[-1]

    data = surveys(db)
    [row] = data["surveys"]
    assert row["subject"] == f"request:{number}" and row["status"] == "answered"
    [answer] = data["answers"]
    assert answer["rating"] == 4 and answer["extra"] == {"ease": 5}
    assert answer["comment"] == "شكرًا لكم، الموظف كان متعاونًا جدًا"
    assert answer["survey_id"] == row["id"] and not answer["anonymous"]
    assert stored(db, m.Case) == []  # no escalation


@both
def test_an_anonymous_answer_keeps_no_link(fake, launch, db):
    bot = launch()
    beneficiary, _number, _told = deliver(fake, bot)
    to_staff = len(fake.sent_to(RESEARCHER))
    beneficiary.press("rate:1")
    beneficiary.say("⭐⭐")  # the ease question, typed as stars
    beneficiary.press("anonymous")
    done = beneficiary.say("تأخر التسليم كثيرًا")
    assert "شكرًا لك" in done[0]["text"] and "المشرف" not in done[0]["text"]
    assert MENU in buttons(done[-1])

    data = surveys(db)
    assert data["surveys"][0]["status"] == "answered"
    [answer] = data["answers"]
    assert answer["anonymous"] and answer["survey_id"] is None and answer["answered_at"] is None
    assert answer["rating"] == 1 and answer["extra"] == {"ease": 2}
    assert stored(db, m.Case) == []  # no follow-up
    assert len(fake.sent_to(RESEARCHER)) == to_staff  # nothing reached the desk


# One runtime only: what is tested here (stored due times, the scheduler loop that
# run_polling starts for either runtime) is not runtime code, and aiogram alone takes about
# 4 s to start (its import), twice in this test; aiogram's survey messages and buttons are
# covered by the other tests.
@pytest.mark.parametrize("runtime", ["ptb"])
def test_one_reminder_from_the_scheduler_after_a_restart_then_expiry(fake, launch, db):
    bot = launch()
    beneficiary, number, told = deliver(fake, bot)
    later = beneficiary.press("later")  # not now: back to the menu
    assert "سنذكّرك" in later[0]["text"] and MENU in buttons(later[-1])
    bot.stop()  # the process ends; the reminder's due time stays in the database

    [row] = stored(db, m.Survey)
    assert row["remind_at"] - row["sent_at"] == timedelta(hours=24)
    assert row["expires_at"] - row["sent_at"] == timedelta(hours=48)
    shift(db, remind_at=datetime.now(UTC) - timedelta(minutes=1))

    before = len(fake.sent_to(beneficiary.uid))
    beneficiary.bot = launch()  # nobody writes: the scheduler loop alone finds it
    reminded = settle(beneficiary, before, lambda got: with_buttons(got, "c:rate:1"),
                      timeout=5)
    assert "تذكير" in reminded[0]["text"] and number in reminded[0]["text"]
    assert buttons(reminded[-1]) == RATINGS
    time.sleep(2)  # four more scheduler ticks
    assert len([p for p in fake.sent_to(beneficiary.uid) if "تذكير" in p["text"]]) == 1
    [row] = stored(db, m.Survey)
    assert row["reminded_at"] and row["remind_at"] is None and row["status"] == "sent"

    shift(db, expires_at=datetime.now(UTC) - timedelta(minutes=1))
    deadline = time.monotonic() + 10
    while statuses(db) != ["expired"] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert statuses(db) == ["expired"]
    # The reminder's buttons are still on screen (an expiry sends nothing): pressing one
    # starts nothing, and the menu is shown again.
    pressed = beneficiary.press("rate:5", message=beneficiary.latest_with_buttons())
    assert MENU in buttons(pressed[-1]) and all(buttons(p) != NAMED_OR_NOT for p in pressed)
    too_late = beneficiary.say("⭐⭐⭐⭐⭐")
    assert MENU in buttons(too_late[-1])  # no longer a rating question
    assert all("شكرًا لك" not in p["text"] for p in too_late)
    data = surveys(db)
    assert [r["status"] for r in data["surveys"]] == ["expired"] and data["answers"] == []


# One runtime: as above, the scheduler and the survey flow are not runtime code.
@pytest.mark.parametrize("runtime", ["ptb"])
def test_later_after_the_reminder_promises_no_second_reminder(fake, launch, db):
    bot = launch()
    beneficiary, _number, _told = deliver(fake, bot)
    beneficiary.press("later")
    before = len(fake.sent_to(beneficiary.uid))
    shift(db, remind_at=datetime.now(UTC) - timedelta(minutes=1))
    settle(beneficiary, before, lambda got: with_buttons(got, "c:rate:1"), timeout=5)
    again = beneficiary.press("later")
    time.sleep(1.5)  # three scheduler ticks: no second reminder is sent...
    assert len([p for p in fake.sent_to(beneficiary.uid) if "تذكير" in p["text"]]) == 1
    assert "سنذكّرك" not in again[0]["text"]  # ...so none may be promised
    assert "لن نذكّرك" in again[0]["text"] and MENU in buttons(again[-1])


@both
def test_a_closed_case_is_followed_by_a_short_question_about_the_help(fake, launch, db):
    bot = launch()
    beneficiary, researcher = User(fake, bot), User(fake, bot, uid=RESEARCHER)
    beneficiary.say("/start")
    beneficiary.press("accept")
    opened = beneficiary.say("ابغى اكلم موظف")
    case_no = re.search(r"\d+", opened[0]["text"]).group(0)
    researcher.say("/queue")
    claimed = researcher.press(f"claim:{case_no}")
    assert f"#{case_no}" in claimed[0]["text"]
    before = len(fake.sent_to(beneficiary.uid))
    researcher.deliver(fake.text_update(RESEARCHER, "أهلًا، كيف أخدمك؟"))  # relayed, no reply
    settle(beneficiary, before, lambda got: any("كيف أخدمك" in p["text"] for p in got))

    before = len(fake.sent_to(beneficiary.uid))
    assert f"#{case_no}" in researcher.say("/close")[0]["text"]
    told = settle(beneficiary, before, lambda got: with_buttons(got, "c:rate:1"))
    assert "انتهت محادثتك" in told[0]["text"]  # the closing message, then the question
    assert "الباحث الاجتماعي" in told[1]["text"] and case_no in told[1]["text"]
    assert len(told) == 3 and buttons(told[-1]) == RATINGS  # no menu in between
    named = beneficiary.press("rate:4")
    assert buttons(named[-1]) == NAMED_OR_NOT  # no extra questions about a case
    comment = beneficiary.press("named")
    assert buttons(comment[-1]) == ["c:no_comment"]
    thanks = beneficiary.press("no_comment")
    assert "شكرًا لك" in thanks[0]["text"] and MENU in buttons(thanks[-1])

    data = surveys(db)
    [row] = data["surveys"]
    assert row["kind"] == "case" and row["subject"] == f"case:{case_no}"
    assert row["status"] == "answered"
    [answer] = data["answers"]
    assert answer["rating"] == 4 and answer["comment"] is None and answer["extra"] == {}
    assert answer["survey_id"] == row["id"]
