"""Wasl on Telegram, end to end: the real bot process (python-telegram-bot and aiogram,
polling and webhook) against the local fake Bot API server."""

from __future__ import annotations

import io
import json
import re
import time

import pytest
from pypdf import PdfReader
from sqlalchemy import create_engine, text

from tests.e2e.sim import NAME, wasl
from tests.e2e.telegram_bot import SECRET, User, WaslProcess, buttons
from tests.fakes.telegram import FakeTelegram

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 2048
OGG = b"OggS\x00\x02" + b"\x00" * 20 + b"a voice note" * 100
RUNTIMES = ["ptb", "aiogram"]


@pytest.fixture
def db(tmp_path) -> str:
    return f"sqlite:///{tmp_path}/wasl.db"


@pytest.fixture(params=RUNTIMES)
def runtime(request) -> str:
    """Every test here runs on both runtimes: the same suite for each."""
    return request.param


@pytest.fixture
def launch(fake, db, tmp_path, runtime):
    started: list[WaslProcess] = []

    def start(mode: str = "polling", **env: str) -> WaslProcess:
        proc = WaslProcess(fake, db, runtime, mode, tmp_path / "bot.log", **env).start()
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.stop()


def to_question(user: User, field_label: str) -> None:
    """Consent, start a food basket request, answer up to the question with that label."""
    user.say("/start")
    user.press("accept")
    user.press("new_request")
    replies = user.press("food_basket")
    answers = {"الاسم الرباعي": NAME, "رقم الهوية": "١٢٣٤٥٦٧٨٩٧", "تاريخ انتهاء": "1449/1/1"}
    while field_label not in replies[-1]["text"]:
        said = next(a for label, a in answers.items() if label in replies[-1]["text"])
        replies = user.say(said)


@pytest.mark.parametrize("mode", ["polling", "webhook"])
def test_whole_journey(fake, launch, db, mode):
    bot = launch(mode)
    user = User(fake, bot)
    welcome = user.say("/start")
    assert "جمعية بكة للخدمات الإنسانية" in welcome[0]["text"]
    assert buttons(welcome[0]) == ["c:accept", "c:decline", "c:language"]
    assert "parse_mode" not in welcome[0]  # plain text: nothing typed is read as markup
    menu = user.press("accept")
    assert buttons(menu[-1]) == ["c:new_request", "c:status", "c:human", "c:language", "c:feedback",
                                "c:contact", "c:privacy", "c:volunteer"]
    user.press("new_request")
    user.press("food_basket")
    user.say(NAME)
    user.say("١٢٣٤٥٦٧٨٩٧")
    phone_question = user.say("1449/1/1")[-1]
    keyboard = phone_question["reply_markup"]["keyboard"]
    assert keyboard[0][0]["request_contact"] is True and "مشاركة رقمي" in keyboard[0][0]["text"]
    user.contact("+966 50 123 4567")
    user.say("العزيزية")
    consent = user.say("5")[-1]
    assert "c:accept" in buttons(consent)  # health and financial questions need consent first
    user.press("accept")
    user.say("3000")
    user.press("salary")
    summary = user.photo(PNG)[-1]
    assert "••••••7897" in summary["text"] and "+966501234567" in summary["text"]
    user.press("confirm")
    done = user.say(NAME)
    number = re.search(r"BK-\d{4}-\d{6}", done[0]["text"]).group(0)
    assert "لجنة البحث" in done[0]["text"] and "هـ" in done[0]["text"]
    status = user.say("/status")
    assert number in status[0]["text"]
    # the right of access: a copy of everything, as files in the chat, opened here
    user.say("أبغى نسخة من بياناتي")
    calls = [c.params for c in fake.called("sendDocument") if c.params["chat_id"] == str(user.uid)]
    sent = dict(next(v for k, v in c.items() if k.endswith(":file")) for c in calls)
    pdf = next(v for k, v in sent.items() if k.endswith(".pdf"))
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    for shown in ("نسخة من بياناتك لدى جمعية بكة للخدمات الإنسانية", number, "1234567897",
                  NAME, "Telegram", "العزيزية", "الطلب رقم"):
        assert shown in text, shown
    copy = json.loads(next(v for k, v in sent.items() if k.endswith(".json")))
    assert copy["requests"][0]["number"] == number
    assert copy["requests"][0]["answers"]["national_id"] == "1234567897"
    assert copy["accounts"] == [{"channel": "telegram", "account": str(user.uid),
                                 "since": copy["accounts"][0]["since"]}]

    [record] = json.loads(wasl("requests", "list", "--json", db=db).stdout)
    assert record["channel"] == "telegram" and record["beneficiary"] == str(user.uid)
    assert record["fields"]["mobile"] == "+966501234567"
    assert record["documents"][0]["mime"] == "image/png"
    assert record["acknowledgment"]["hash_matches"]
    for lang in (None, "ar", "en"):
        assert [c["command"] for c in fake.commands[lang]] == [
            "start", "menu", "status", "cancel", "language", "help", "stop", "subscribe", "mydata"]
    assert fake.commands["en"][0]["description"] != fake.commands["ar"][0]["description"]


def test_a_pressed_button_is_answered_and_its_keyboard_removed(fake, launch):
    user = User(fake, launch())
    user.say("/start")
    user.press("accept")
    assert len(fake.called("answerCallbackQuery")) == 1
    [edit] = fake.called("editMessageReplyMarkup")
    assert "reply_markup" not in fake.message(user.uid, edit.params["message_id"])


def test_a_button_from_an_old_keyboard_changes_nothing(fake, launch):
    user = User(fake, launch())
    user.say("/start")
    user.press("accept")
    old_menu = user.latest_with_buttons()
    user.press("new_request")
    replies = user.press("status", message=old_menu)  # the menu from before
    assert "رسالة سابقة" in replies[0]["text"]
    assert "c:food_basket" in buttons(replies[-1])  # still at the services question


def test_a_contact_card_of_someone_else_is_refused(fake, launch):
    user = User(fake, launch())
    to_question(user, "رقم الجوال")
    replies = user.contact("+966501234567", owner=999)
    assert "رقمك أنت" in replies[0]["text"]


def test_a_file_over_the_limit_is_refused_without_downloading(fake, launch):
    user = User(fake, launch())
    to_question(user, "رقم الجوال")
    for said in ["0501234567", "العزيزية", "5"]:
        user.say(said)
    user.press("accept")
    user.say("3000")
    user.press("salary")
    replies = user.document(b"%PDF-1.4", "big.pdf", "application/pdf", size=30 * 1024 * 1024)
    assert "كبير" in replies[0]["text"] and "10" in replies[0]["text"]
    assert fake.called("getFile") == []
    wrong = user.document(b"MZ\x90\x00", "photo.jpg", "image/jpeg")
    assert "غير مقبول" in wrong[0]["text"]


def test_markup_in_a_name_is_shown_as_typed(fake, launch, db):
    user = User(fake, launch())
    to_question(user, "الاسم الرباعي")
    hostile = "<b>فاطمة</b> <a href='tg://user?id=1'>x</a> *bold* _i_"
    user.say(hostile)
    user.say("/help")
    for params in fake.called("sendMessage"):
        assert "parse_mode" not in params.params and "entities" not in params.params


def test_429_waits_and_then_delivers_once(fake, launch):
    bot = launch()
    user = User(fake, bot)
    fake.fail("sendMessage", 429, retry_after=2)
    started = time.monotonic()
    welcome = user.say("/start")
    assert welcome and time.monotonic() - started >= 2
    assert [c.status for c in fake.called("sendMessage")] == [429, 200]  # delivered once


def test_403_marks_the_beneficiary_unreachable_and_stops(fake, launch, db):
    bot = launch()
    user = User(fake, bot)
    user.say("/start")
    user.press("accept")
    fake.fail("sendMessage", 403, chat_id=str(user.uid), times=5)
    fake.push(fake.text_update(user.uid, "/menu"))
    fake.wait(lambda: len(fake.called("sendMessage")) >= 3, timeout=20)
    time.sleep(1.5)
    assert [c.status for c in fake.called("sendMessage")] == [200, 200, 403]  # no retries
    with create_engine(db).connect() as conn:
        assert conn.execute(text("select unreachable from beneficiaries")).scalar_one() in (1, True)
        statuses = conn.execute(text("select status from outbox order by id")).scalars().all()
    assert statuses[-1] == "unreachable"


def test_network_errors_are_retried_with_backoff(fake, launch):
    user = User(fake, launch())
    fake.fail("sendMessage", 502, times=1)
    welcome = user.say("/start")
    assert "جمعية بكة" in welcome[0]["text"]
    assert [c.status for c in fake.called("sendMessage")] == [502, 200]


def test_forged_webhook_secret_is_refused_and_never_processed(fake, launch):
    bot = launch("webhook")
    update = fake.text_update(777, "/start")
    assert bot.post(update, secret="guess").status_code == 403
    assert bot.post(update, secret=None).status_code == 403
    time.sleep(1)
    assert fake.sent_to(777) == []
    assert bot.post(update, secret=SECRET).status_code == 200
    fake.wait(lambda: fake.sent_to(777) != [])
    assert "refused a Telegram webhook call" in bot.log.read_text()


def test_a_webhook_retry_is_processed_once(fake, launch):
    bot = launch("webhook")
    update = fake.text_update(778, "/start")
    assert bot.post(update).status_code == 200
    fake.wait(lambda: len(fake.sent_to(778)) == 1)
    assert bot.post(update).status_code == 200  # Telegram delivers it again
    time.sleep(1)
    assert len(fake.sent_to(778)) == 1


def test_kill_mid_journey_and_restart(fake, launch, db):
    bot = launch()
    user = User(fake, bot)
    to_question(user, "تاريخ انتهاء")
    # The next getUpdates (which would confirm the update) hangs; the bot dies meanwhile.
    fake.slow("getUpdates", 30)
    update = fake.text_update(user.uid, "1449/1/1")
    fake.push(update)
    fake.wait(lambda: any("رقم الجوال" in p["text"] for p in fake.sent_to(user.uid)))
    user.settle()  # its outbox row is marked sent: only the update stays unconfirmed
    bot.kill()
    assert fake.confirmed <= update["update_id"]  # Telegram still holds the update
    fake.faults.clear()
    before = len(fake.sent_to(user.uid))
    bot = launch()
    fake.handled(update["update_id"])
    time.sleep(1)
    assert len(fake.sent_to(user.uid)) == before  # redelivered, recognised, not answered twice
    user.bot = bot
    replies = user.say("0501234567")  # the conversation resumes where it was
    assert "الحي" in replies[-1]["text"]


def test_a_correction_asked_on_telegram_is_approved_by_an_admin_there(fake, launch, db):
    """The right to correction on a real channel: buttons all the way, the admin's too."""
    wasl("staff", "add", "telegram:900901", "--role", "admin", "--name", "Huda Alqahtani", db=db)
    bot = launch()
    user, admin = User(fake, bot), User(fake, bot, uid=900901)
    to_question(user, "رقم الجوال")
    for said in ("0501234567", "العزيزية", "5"):
        user.say(said)
    user.press("accept")
    user.say("3000")
    user.press("salary")
    user.photo(PNG)
    user.press("confirm")
    number = re.search(r"BK-\d{4}-\d{6}", user.say(NAME)[0]["text"]).group(0)
    user.press("privacy")
    answers = user.press("privacy_request")[-1]
    assert "c:mobile" in buttons(answers) and "+966501234567" in answers["text"]
    user.press("mobile")
    confirm = user.say("٠٥٥ ١١١ ٢٢٣٣")[-1]
    assert "+966551112233" in confirm["text"]
    user.press("confirm")
    sent = user.say(NAME)
    assert "أُرسل التصحيح (طلب البيانات #1)" in sent[0]["text"]
    fake.wait(lambda: any("طلب مستفيد تصحيح إجابة" in p["text"] for p in fake.sent_to(admin.uid)))
    listed = admin.press("privacy:")[-1]
    assert "+966501234567 → +966551112233" in listed["text"]
    admin.press("privacy:approve 1")
    fake.wait(lambda: any("اعتُمد تصحيح الطلب" in p["text"] for p in fake.sent_to(user.uid)))
    [record] = json.loads(wasl("requests", "list", "--json", db=db).stdout)
    assert record["number"] == number and record["fields"]["mobile"] == "+966551112233"
    ack = record["acknowledgment"]
    assert ack["hash_matches"] and ack["text_version"] == "wasl-ack-2/ar+c1"
    assert ack["signature"] == NAME and "«رقم الجوال»" in ack["text"]


def test_a_voice_note_on_telegram_is_heard_by_a_researcher(fake, launch, db):
    """Someone who speaks rather than types: kept and offered a researcher; in the case,
    the researcher gets the voice note itself."""
    wasl("staff", "add", "telegram:900900", "--role", "researcher", "--name", "Noura Alotaibi",
         db=db)
    bot = launch()
    user, researcher = User(fake, bot), User(fake, bot, uid=900900)
    user.say("/start")
    user.press("accept")
    offered = user.voice(OGG)[-1]
    assert "وصلتنا رسالتك الصوتية" in offered["text"]
    assert buttons(offered) == ["c:listen", "c:write"]
    user.press("listen")
    researcher.say("/claim 1")
    audio = lambda: [c.params for c in fake.called("sendDocument")  # noqa: E731
                     if str(c.params.get("chat_id")) == str(researcher.uid)]
    researcher.deliver(fake.text_update(researcher.uid, "/doc 1"))  # a file comes back
    fake.wait(lambda: len(audio()) == 1)
    [(name, content)] = [v for k, v in audio()[0].items() if k.endswith(":file")]
    assert content == OGG and name.endswith(".ogg")  # the voice itself, to play
    user.deliver(fake.voice_update(user.uid, OGG))  # in the case now: straight to her
    fake.wait(lambda: len(audio()) == 2)


def test_a_researcher_on_telegram_answers_a_beneficiary_with_photos(fake, launch, db):
    wasl("staff", "add", "telegram:900900", "--role", "researcher", "--name", "Noura Alotaibi",
         db=db)
    bot = launch()
    beneficiary = User(fake, bot)
    researcher = User(fake, bot, uid=900900)
    beneficiary.say("/start")
    beneficiary.press("accept")
    beneficiary.press("human")
    queue = researcher.say("/queue")
    assert "#1" in queue[0]["text"]
    claimed = researcher.press("claim:1")
    assert "#1" in claimed[0]["text"]
    fake.wait(lambda: any("Noura" in p["text"] for p in fake.sent_to(beneficiary.uid)))
    researcher.deliver(fake.text_update(researcher.uid, "السلام عليكم، معك نورة"))
    fake.wait(lambda: any("معك نورة" in p["text"] for p in fake.sent_to(beneficiary.uid)))
    beneficiary.deliver(fake.photo_update(beneficiary.uid, PNG))
    photos = lambda: [c.params for c in fake.called("sendPhoto")  # noqa: E731
                      if str(c.params.get("chat_id")) == str(researcher.uid)]
    fake.wait(lambda: len(photos()) == 1)  # the photo itself reaches the researcher
    assert "/doc" in photos()[0]["caption"]
    assert all("/doc" not in p["text"] for p in fake.sent_to(beneficiary.uid))
    doc = re.search(r"/doc (\d+)", photos()[0]["caption"]).group(1)
    researcher.deliver(fake.text_update(researcher.uid, f"/doc {doc}"))  # and again on request
    fake.wait(lambda: len(photos()) == 2)


GROUP = -1001234567890


def with_staff_group(tmp_path, topics: bool) -> str:
    """The default profile, with a Telegram staff group."""
    from bot.profiles import resolve
    path = tmp_path / "with-group.yaml"
    path.write_text(resolve("bakkah").read_text(encoding="utf-8")
                    + f"\nstaff_group: {{telegram_chat_id: {GROUP}, topics: {str(topics).lower()}}}\n",
                    encoding="utf-8")
    return str(path)


def group_messages(fake: FakeTelegram) -> list[dict]:
    return fake.sent_to(GROUP)


def test_each_case_gets_a_topic_in_the_staff_group(fake, launch, db, tmp_path):
    wasl("staff", "add", "telegram:900900", "--role", "researcher", "--name", "Noura Alotaibi",
         db=db)
    bot = launch(WASL_PROFILE=with_staff_group(tmp_path, topics=True))
    beneficiary = User(fake, bot)
    beneficiary.say("/start")
    beneficiary.press("accept")
    beneficiary.press("human")
    fake.wait(lambda: len(group_messages(fake)) >= 1)
    [topic] = fake.called("createForumTopic")
    assert topic.params["name"].startswith("#1")
    opening = group_messages(fake)[0]
    thread = str(opening["message_thread_id"])
    assert buttons(opening) == ["c:claim:1", "c:file:1", "c:close:1"]

    # A researcher writes in the topic: they take the case and it reaches the beneficiary.
    researcher = 900900
    bot_msg = fake.message(GROUP, max(mid for (chat, mid) in fake.messages if chat == str(GROUP)))
    assert str(bot_msg.get("message_thread_id")) == thread
    researcher_user = User(fake, bot, uid=researcher)
    researcher_user.deliver(fake.group_text_update(researcher, GROUP, "أهلًا، معك نورة", int(thread)))
    fake.wait(lambda: any("معك نورة" in p["text"] for p in fake.sent_to(beneficiary.uid)))
    # The beneficiary's answer is copied into the topic.
    beneficiary.deliver(fake.text_update(beneficiary.uid, "أحتاج سلة غذائية"))
    fake.wait(lambda: any("أحتاج سلة غذائية" in p["text"] and str(p.get("message_thread_id")) == thread
                          for p in group_messages(fake)))
    # Someone in the group who is not staff is not heard.
    before = len(fake.sent_to(beneficiary.uid))
    researcher_user.deliver(fake.group_text_update(424242, GROUP, "مرحبا", int(thread)))
    time.sleep(1)
    assert len(fake.sent_to(beneficiary.uid)) == before
    # A colleague cannot close a case someone else holds.
    wasl("staff", "add", "telegram:700700", "--role", "researcher", "--name", "Sara", db=db)
    User(fake, bot, uid=700700).deliver(fake.press_update(700700, bot_msg, "c:close:1"))
    fake.wait(lambda: any("Noura Alotaibi" in p["text"] for p in group_messages(fake)))
    # The buttons in the topic: the file, then close.
    researcher_user.deliver(fake.press_update(researcher, bot_msg, "c:file:1"))
    fake.wait(lambda: any("ملف المستفيد" in p["text"] and str(p.get("message_thread_id")) == thread
                          for p in group_messages(fake)))
    researcher_user.deliver(fake.press_update(researcher, bot_msg, "c:close:1"))
    fake.wait(lambda: any("انتهت محادثتك" in p["text"] for p in fake.sent_to(beneficiary.uid)))
    [case] = json.loads(wasl("cases", "list", "--json", db=db).stdout)
    assert case["status"] == "closed"
    refused = json.loads(wasl("audit", "--json", "--action", "staff_group", db=db).stdout)
    assert refused and refused[0]["actor"] == "telegram:424242" and not refused[0]["allowed"]
    held = json.loads(wasl("audit", "--json", "--action", "group_action", db=db).stdout)
    assert held[0]["actor"] == "telegram:700700" and not held[0]["allowed"]


def test_without_topics_a_reply_to_the_bots_message_reaches_the_beneficiary(fake, launch, db,
                                                                          tmp_path):
    wasl("staff", "add", "telegram:900900", "--role", "researcher", "--name", "Noura", db=db)
    bot = launch(WASL_PROFILE=with_staff_group(tmp_path, topics=False))
    beneficiary = User(fake, bot)
    beneficiary.say("/start")
    beneficiary.press("accept")
    beneficiary.press("human")
    fake.wait(lambda: len(group_messages(fake)) >= 1)
    assert fake.called("createForumTopic") == []
    posted = fake.message(GROUP, max(mid for (chat, mid) in fake.messages if chat == str(GROUP)))
    User(fake, bot, uid=900900).deliver(
        fake.group_text_update(900900, GROUP, "أبشر، سنخدمك", reply_to=posted))
    fake.wait(lambda: any("أبشر، سنخدمك" in p["text"] for p in fake.sent_to(beneficiary.uid)))
