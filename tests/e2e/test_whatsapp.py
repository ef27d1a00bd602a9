"""WhatsApp end to end: a real `wasl serve` talking to the local fake of the Graph API
(tests/fakes/whatsapp.py), which posts signed webhooks shaped as in Meta's reference.
The association's profile here is Bakkah's with seven services, so that choosing one is
a list. One server per module; each test is a different person (a new wa_id)."""

from __future__ import annotations

import io
import itertools
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from pypdf import PdfReader
from sqlalchemy import select

from storage import models as m
from tests.e2e.people import _read
from tests.e2e.sim import NAME, staff_add, wasl
from tests.e2e.telegram_bot import ROOT, SECRET, undelivered
from tests.e2e.web_page import WebServer, id_card
from tests.fakes.telegram import TOKEN, FakeTelegram
from tests.fakes.whatsapp import FakeWhatsApp

VERIFY = "wasl-verify-token"
NUMBERS = itertools.count(966501110001)
EXTRA = [("school_bag", "حقيبة مدرسية"), ("eid_clothes", "كسوة العيد"), ("water_bill", "سداد فاتورة مياه"),
         ("medical_aid", "مساعدة علاجية")]


@pytest.fixture(scope="module")
def profile(tmp_path_factory) -> Path:
    """Bakkah with seven services (its three and four more like the food basket)."""
    data = yaml.safe_load((ROOT / "bot" / "profiles" / "bakkah.yaml").read_text(encoding="utf-8"))
    basket = next(s for s in data["services"] if s["key"] == "food_basket")
    for key, label in EXTRA:
        data["services"].append({**basket, "key": key, "label": {"ar": label, "en": key}})
    path = tmp_path_factory.mktemp("profile") / "bakkah7.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def server(graph, telegram, profile, tmp_path_factory) -> Iterator[WebServer]:
    """`wasl serve` with WhatsApp and Telegram (its webhook, for the staff) on."""
    tmp = tmp_path_factory.mktemp("wa")
    with WebServer(f"sqlite:///{tmp}/wasl.db", tmp / "serve.log", WASL_PROFILE=str(profile),
                   WASL_TELEGRAM_TOKEN=TOKEN, WASL_TELEGRAM_API_BASE=telegram.url,
                   WASL_TELEGRAM_WEBHOOK_SECRET=SECRET, WASL_TELEGRAM_CHAT_INTERVAL="0.05",
                   WASL_WHATSAPP_API_BASE=graph.url, WASL_WHATSAPP_API_VERSION=graph.version,
                   WASL_WHATSAPP_PHONE_NUMBER_ID=graph.phone_number_id,
                   WASL_WHATSAPP_ACCESS_TOKEN=graph.token, WASL_WHATSAPP_APP_SECRET=graph.app_secret,
                   WASL_WHATSAPP_VERIFY_TOKEN=VERIFY, WASL_OUTBOX_BACKOFF="0.2",
                   WASL_SCHEDULER_INTERVAL="0.5") as running:
        graph.webhook_url = f"{running.url}/webhooks/whatsapp"
        yield running


class Person:
    """Someone on WhatsApp: what they send is a signed webhook; what they get, the fake's."""

    def __init__(self, graph: FakeWhatsApp, server: WebServer) -> None:
        self.graph, self.server, self.wa_id = graph, server, str(next(NUMBERS))

    def got(self) -> list[dict[str, Any]]:
        return self.graph.sent_to(self.wa_id)

    def _exchange(self, payload: dict[str, Any]) -> list[dict[str, Any]]:
        before = len(self.got())
        response = self.graph.post(payload)
        assert response.status_code == 200, response.text
        self.graph.wait(lambda: len(self.got()) > before, timeout=30)
        self.settle()
        return self.got()[before:]

    def settle(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while undelivered(self.server.db, self.wa_id, "whatsapp"):
            assert time.monotonic() < deadline, "the bot still has messages to send"
            time.sleep(0.05)

    def say(self, text: str) -> list[dict[str, Any]]:
        return self._exchange(self.graph.text_message(self.wa_id, text))

    def press(self, title: str) -> list[dict[str, Any]]:
        """The button or list row titled `title` of the latest interactive message."""
        message = [m for m in self.got() if m.get("type") == "interactive"][-1]
        inter = message["interactive"]
        if inter["type"] == "button":
            [reply] = [b["reply"] for b in inter["action"]["buttons"] if b["reply"]["title"] == title]
            return self._exchange(self.graph.button_reply(self.wa_id, reply["id"], title))
        rows = [r for s in inter["action"]["sections"] for r in s["rows"] if r["title"] == title]
        assert rows, (title, inter)
        return self._exchange(self.graph.list_reply(self.wa_id, rows[0]["id"], title,
                                                    rows[0].get("description")))

    def photo(self, content: bytes, mime: str = "image/jpeg") -> list[dict[str, Any]]:
        media = self.graph.add_media(content, mime)
        return self._exchange(self.graph.image_message(self.wa_id, media))

    def own_contact(self) -> list[dict[str, Any]]:
        return self._exchange(self.graph.contacts_message(
            self.wa_id, f"+{self.wa_id}", "أنا", phone_wa_id=self.wa_id))


def text_of(message: dict[str, Any]) -> str:
    if message["type"] == "text":
        return message["text"]["body"]
    if message["type"] == "interactive":
        return message["interactive"]["body"]["text"]
    return message.get(message["type"], {}).get("caption", "")


def said(messages: list[dict[str, Any]]) -> str:
    return "\n".join(text_of(m) for m in messages)


def titles(message: dict[str, Any]) -> list[str]:
    inter = message["interactive"]
    if inter["type"] == "button":
        return [b["reply"]["title"] for b in inter["action"]["buttons"]]
    return [r["title"] for s in inter["action"]["sections"] for r in s["rows"]]


def agree(person: Person) -> None:
    welcome = person.say("السلام عليكم")
    assert "هل تتم الموافقة على استخدامنا لبياناتك" in said(welcome)
    assert welcome[-1]["interactive"]["type"] == "button"
    assert titles(welcome[-1]) == ["✅ أوافق", "✖ لا أوافق", "English"]
    menu = person.press("✅ أوافق")
    assert "كيف يمكننا خدمتك" in said(menu)


def test_the_whole_journey_over_whatsapp(graph, server, tmp_path):
    person = Person(graph, server)
    agree(person)
    menu = [m for m in graph.sent_to(person.wa_id) if m["type"] == "interactive"][-1]
    assert menu["interactive"]["type"] == "list" and len(titles(menu)) == 8  # (volunteering)
    services = person.press("📝 طلب دعم جديد")
    listed = services[-1]
    assert listed["interactive"]["type"] == "list"
    rows = titles(listed)
    for _, label in [("food_basket", "سلة غذائية"), *EXTRA]:
        assert label in rows, rows
    assert all(len(t) <= 24 for t in rows)
    assert len(rows) <= 10 and listed["interactive"]["action"]["button"] == "الخيارات"
    to_the_photo(person)
    photo = id_card(tmp_path / "id.jpg").read_bytes()
    summary = said(person.photo(photo))
    assert "نرجو مراجعة طلبك" in summary and f"+{person.wa_id}" in summary
    assert "للتوقيع" in said(person.press("✅ أؤكد وأوقّع"))
    done = said(person.say(NAME))
    number = re.search(r"BK-\d{4}-\d{6}", done).group(0)
    assert "تم استلام طلبك" in done
    status = said(person.say("/status"))
    assert number in status
    [request] = [r for r in requests(server) if r["number"] == number]
    assert request["channel"] == "whatsapp" and request["fields"]["mobile"] == f"+{person.wa_id}"
    assert request["fields"]["district"] == "المنزل, العزيزية, مكة المكرمة (21.4187, 39.8445)"
    assert [d["mime"] for d in request["documents"]] == ["image/jpeg"]
    # the copy of their data: a PDF, and the JSON as plain text (what WhatsApp takes)
    person.say("/mydata")
    documents = [m for m in graph.sent_to(person.wa_id) if m["type"] == "document"]
    files = {m["document"]["filename"]: graph.media[m["document"]["id"]] for m in documents}
    pdf = next(f for name, f in files.items() if name.endswith(".pdf"))
    machine = next(f for name, f in files.items() if name.endswith(".json"))
    assert pdf.mime == "application/pdf" and machine.mime == "text/plain"
    assert json.loads(machine.content)["requests"][0]["number"] == number
    assert number in "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)


def test_a_consent_withdrawn_then_everything_deleted_over_whatsapp(graph, server, tmp_path):
    """Two rights on WhatsApp, in words: the consent to the health and financial questions
    withdrawn (with what follows said first), then destruction. A request just submitted
    is destroyed at once; the phone number stays nowhere in the audit log (a keyed hash
    in its place)."""
    person = Person(graph, server)
    agree(person)
    person.press("📝 طلب دعم جديد")
    to_the_photo(person)
    person.photo(id_card(tmp_path / "id.jpg").read_bytes())
    person.press("✅ أؤكد وأوقّع")
    number = re.search(r"BK-\d{4}-\d{6}", said(person.say(NAME))).group(0)
    asked = person.say("أبي أسحب موافقتي")
    assert "تم سحب موافقتك" not in said(asked)  # what follows from each is said first
    assert titles(asked[-1]) == ["📢 الإعلانات", "🩺 الأسئلة الصحية والمال…", "🗂 استخدام بياناتي",
                                 "🤝 التطوع", "↩ رجوع"]  # a list row's title: 24 characters
    assert "تم سحب موافقتك على الأسئلة الصحية والمالية" in said(
        person.press("🩺 الأسئلة الصحية والمال…"))
    question = person.say("احذفوا بياناتي")
    assert "هل نحذف بياناتك؟" in said(question) and number not in said(question)  # not held
    yes = titles(question[-1])[0]
    assert yes.startswith("🗑 نعم، احذفوا")  # a reply button's title: 20 characters
    gone = said(person.press(yes))
    assert "تم حذف بياناتك من نظام جمعية بكة للخدمات الإنسانية." in gone
    assert number not in [r["number"] for r in requests(server)]
    audit = json.loads(wasl("audit", "--json", db=server.db).stdout)
    theirs = [e for e in audit if e["action"] in ("consent_withdrawn", "data_destroyed")]
    assert [e["action"] for e in theirs] == ["consent_withdrawn", "data_destroyed"]
    assert all(e["actor"].startswith("whatsapp:#") for e in theirs)
    assert not [e for e in audit if person.wa_id in json.dumps(e)]
    again = said(person.say("السلام عليكم"))  # a stranger again: the welcome and consent
    assert "هل تتم الموافقة على استخدامنا لبياناتك" in again


def to_the_photo(person: Person) -> None:
    """From the list of services to the food basket's last question, the ID photo."""
    assert "الاسم الرباعي" in said(person.press("سلة غذائية"))
    assert "رقم الهوية" in said(person.say(NAME))
    assert "تاريخ انتهاء الهوية" in said(person.say("١٢٣٤٥٦٧٨٩٧"))
    assert "رقم الجوال" in said(person.say("15/10/1450"))
    assert "الحي" in said(person.own_contact())  # the shared card is their own number
    where = person._exchange(person.graph.location_message(  # a shared location answers it
        person.wa_id, 21.4187, 39.8445, name="المنزل", address="العزيزية، مكة المكرمة"))
    assert "عدد أفراد الأسرة" in said(where)
    assert "بيانات حساسة" in said(person.say("٥"))
    assert "إجمالي دخل" in said(person.press("✅ أوافق"))
    sources = person.say("3000")
    assert sources[-1]["interactive"]["type"] == "list"  # 7 sources and the ways out: 10 rows
    assert "صورة الهوية" in said(person.press("راتب"))


def requests(server: WebServer) -> list[dict]:
    return json.loads(wasl("requests", "list", "--json", db=server.db).stdout)


def test_forged_and_missing_signatures_are_refused_and_never_processed(graph, server):
    person = Person(graph, server)
    payload = graph.text_message(person.wa_id, "السلام عليكم")
    assert graph.post(payload, signature=False).status_code == 401
    assert graph.post(payload, signature="sha256=" + "0" * 64).status_code == 403
    assert graph.post(payload, secret="another-secret").status_code == 403
    time.sleep(1)
    assert person.got() == []
    assert _read(server.db, select(m.ProcessedEvent).where(
        m.ProcessedEvent.channel == "whatsapp", m.ProcessedEvent.event_id == payload[
            "entry"][0]["changes"][0]["value"]["messages"][0]["id"])) == []
    log = server.log.read_text()
    assert "without a signature" in log and "wrong signature" in log
    # Meta's subscription check
    assert graph.verify(token=VERIFY, challenge="1158201444").text == "1158201444"
    assert graph.verify(token="wrong", challenge="x").status_code == 403


def test_duplicate_and_out_of_order_webhooks(graph, server):
    person = Person(graph, server)
    agree(person)
    first = graph.text_message(person.wa_id, "/status")
    assert graph.post(first).status_code == 200
    person.settle()
    count = len(person.got())
    assert graph.post(first).status_code == 200  # WhatsApp delivers it again
    time.sleep(1)
    person.settle()
    assert len(person.got()) == count
    # Delivery reports out of order and repeated: read wins over delivered, and stays.
    wamid = graph.last_message_id(person.wa_id)
    for state in ("read", "delivered", "sent", "read"):
        assert graph.post(graph.status_update(wamid, person.wa_id, state)).status_code == 200
    [row] = _read(server.db, select(m.OutboxMessage).where(m.OutboxMessage.message_ref == wamid))
    assert row.delivery == "read" and row.status == "sent"


@pytest.mark.parametrize("code", [130429, 131056, 80007])
def test_rate_limit_errors_back_off_and_deliver_once(graph, server, code):
    person = Person(graph, server)
    graph.fail(code, times=2, to=person.wa_id)
    started = time.monotonic()
    welcome = person.say("مرحبا")
    assert "هل تتم الموافقة" in said(welcome)
    attempts = [c for c in graph.called("/messages") if c.params.get("to") == person.wa_id]
    assert len(attempts) == 3 and [c.status for c in attempts[:2]] != [200, 200]
    assert len(person.got()) == 1  # once, despite the retries
    assert time.monotonic() - started >= 0.3


def test_an_unknown_error_is_recorded_on_the_message(graph, server):
    person = Person(graph, server)
    graph.fail(131026, times=1, to=person.wa_id)
    response = graph.post(graph.text_message(person.wa_id, "مرحبا"))
    assert response.status_code == 200
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        rows = _read(server.db, select(m.OutboxMessage).where(
            m.OutboxMessage.chat_id == person.wa_id))
        if rows and rows[0].status == "failed":
            break
        time.sleep(0.1)
    assert rows[0].status == "failed" and "131026" in rows[0].error


def test_anything_else_gets_a_polite_message(graph, server):
    person = Person(graph, server)
    agree(person)  # (a voice note is heard: test_a_voice_note_on_whatsapp_...)
    media = graph.add_media(b"RIFF\0\0\0\0WEBPVP8 " + b"\0" * 100, "image/webp")
    reply = said(person._exchange(graph.sticker_message(person.wa_id, media)))
    assert "نص" in reply or "صور" in reply, reply


def test_outside_the_window_a_status_goes_as_a_template_and_a_reply_waits(graph, server, tmp_path):
    person = Person(graph, server)
    staff_add(server.db, ("sim:noura", "researcher", "نورة العتيبي"))
    agree(person)
    opened = said(person.say("/menu"))
    assert "كيف يمكننا خدمتك" in opened
    case = said(person.press("🙋 التحدث مع باحث اجتماعي"))
    case_id = re.search(r"(\d+)", case.split("رقم إحالتك")[1]).group(1)
    # A day and more passes without a word from them.
    shift_window(server.db, person.wa_id, hours=25)
    desk = wasl_sim(server, [("noura", f"/claim {case_id}"), ("noura", "موعدك يوم الأحد")])
    assert any(f"استلمت الإحالة #{case_id}" in r.get("text", "") for r in desk), desk
    time.sleep(2)
    held = _read(server.db, select(m.OutboxMessage).where(
        m.OutboxMessage.chat_id == person.wa_id, m.OutboxMessage.status == "held"))
    assert held, "the researcher's messages wait"
    assert not any("موعدك يوم الأحد" in text_of(m) for m in person.got())
    told = _read(server.db, select(m.OutboxMessage).where(
        m.OutboxMessage.channel == "sim", m.OutboxMessage.chat_id == "noura"))
    # she is told: by the simulator, if the notice came while it still ran, or in its outbox
    notices = [r.get("text", "") for r in desk] + [r.payload.get("text", "") for r in told]
    assert any("على واتساب في الانتظار" in text for text in notices), notices
    # They write again: what waited goes, in order.
    back = person.say("السلام عليكم")
    assert any("موعدك يوم الأحد" in text_of(m) for m in back), said(back)

    # Another day of silence. Closing the case asks about the help: a survey, so its
    # template; an announcement goes as its template too, with the text as a parameter.
    for name, params in (("wasl_survey_invitation", 1), ("wasl_announcement", 2),
                         ("wasl_request_update", 2)):
        graph.add_template(name, "ar", params)
    shift_window(server.db, person.wa_id, hours=30)
    before = len(person.got())
    wasl_sim(server, [("noura", "/close")])
    graph.wait(lambda: len(person.got()) > before, timeout=30)
    time.sleep(1)  # anything else the closing sends has gone by now
    [template] = [m for m in person.got()[before:] if m["type"] == "template"]  # one, not one each
    assert template["template"]["name"] == "wasl_survey_invitation"
    assert template["template"]["language"] == {"code": "ar"}
    assert template["template"]["components"][0]["parameters"] == [
        {"type": "text", "text": "جمعية بكة للخدمات الإنسانية"}]
    notice = tmp_path / "notice.txt"
    notice.write_text("توزيع السلال يوم الخميس\nفي مقر الجمعية", encoding="utf-8")
    before = len(person.got())
    wasl("broadcast", "--text-file", str(notice), "--yes", "--no-watch", db=server.db)
    graph.wait(lambda: any(m.get("template", {}).get("name") == "wasl_announcement"
                           for m in person.got()[before:]), timeout=30)
    [announcement] = [m for m in person.got() if m["type"] == "template"
                      and m["template"]["name"] == "wasl_announcement"]
    association, text = announcement["template"]["components"][0]["parameters"]
    assert "توزيع السلال يوم الخميس في مقر الجمعية" in text["text"] and "\n" not in text["text"]


def shift_window(db: str, wa_id: str, hours: float) -> None:
    """They last wrote `hours` ago."""
    import asyncio
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import update

    from storage.db import Database

    async def go() -> None:
        database = Database(db)
        async with database.unit_of_work() as uow:
            await uow.session.execute(update(m.ChatWindow).where(m.ChatWindow.chat_id == wa_id)
                                      .values(last_inbound_at=datetime.now(UTC) - timedelta(hours=hours)))
        await database.close()
    asyncio.run(go())


def wasl_sim(server: WebServer, lines: list[tuple[str, str]]) -> list[dict]:
    body = "".join(json.dumps({"from": who, "text": text, "lang": "ar"}, ensure_ascii=False) + "\n"
                   for who, text in lines)
    out = wasl("simulate", db=server.db, input=body)
    return [json.loads(line) for line in out.stdout.splitlines() if line.strip()]


def telegram_says(telegram: FakeTelegram, server: WebServer, uid: int, text: str,
                  answered: bool = True) -> list[dict]:
    """A Telegram user writes; what the bot sent them in answer, once it has (a message
    a researcher relays gets none)."""
    before = len(telegram.sent_to(uid))
    response = httpx.post(f"{server.url}/webhooks/telegram", json=telegram.text_update(uid, text),
                          headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}, timeout=30)
    assert response.status_code == 200
    if not answered:
        return []
    telegram.wait(lambda: len(telegram.sent_to(uid)) > before, timeout=30)
    deadline = time.monotonic() + 30
    while undelivered(server.db, uid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return telegram.sent_to(uid)[before:]


def test_staff_on_telegram_answer_whatsapp_and_staff_on_whatsapp_answer_telegram(
        graph, telegram, server):
    researcher_tg, researcher_wa = 900900, Person(graph, server)
    staff_add(server.db, (f"telegram:{researcher_tg}", "researcher", "نورة العتيبي"),
              (f"whatsapp:{researcher_wa.wa_id}", "researcher", "سارة القحطاني"))
    # A beneficiary on WhatsApp, a researcher on Telegram.
    person = Person(graph, server)
    agree(person)
    case = said(person.press("🙋 التحدث مع باحث اجتماعي"))
    case_id = re.search(r"(\d+)", case.split("رقم إحالتك")[1]).group(1)
    took = telegram_says(telegram, server, researcher_tg, f"/claim {case_id}")
    assert any(f"#{case_id}" in p["text"] for p in took)
    person.settle()
    assert "نورة" in text_of(person.got()[-1]) and "العتيبي" not in text_of(person.got()[-1])
    before = len(person.got())
    telegram_says(telegram, server, researcher_tg, "أهلًا، كيف أساعدك؟", answered=False)
    graph.wait(lambda: any("كيف أساعدك" in text_of(m) for m in person.got()[before:]), timeout=30)
    before_tg = len(telegram.sent_to(researcher_tg))
    assert graph.post(graph.text_message(person.wa_id, "أحتاج موعدًا للزيارة")).status_code == 200
    telegram.wait(lambda: any("أحتاج موعدًا للزيارة" in p["text"]
                              for p in telegram.sent_to(researcher_tg)[before_tg:]), timeout=30)

    # A beneficiary on Telegram, a researcher on WhatsApp.
    uid = 555000777
    assert "هل تتم الموافقة" in telegram_says(telegram, server, uid, "السلام عليكم")[-1]["text"]
    telegram_says(telegram, server, uid, "أوافق")
    asked = telegram_says(telegram, server, uid, "التحدث مع باحث اجتماعي")[-1]["text"]
    tg_case = re.search(r"(\d+)", asked.split("رقم إحالتك")[1]).group(1)
    assert f"#{tg_case}" in said(researcher_wa.say(f"/claim {tg_case}"))
    before = len(telegram.sent_to(uid))
    assert researcher_wa.graph.post(graph.text_message(researcher_wa.wa_id, "وعليكم السلام، معك سارة")
                                    ).status_code == 200
    telegram.wait(lambda: any("معك سارة" in p["text"] for p in telegram.sent_to(uid)[before:]),
                  timeout=30)


def test_a_voice_note_on_whatsapp_reaches_a_researcher_there_as_audio(graph, server):
    """A voice note is kept and offered to a researcher; one answering from WhatsApp opens
    it and gets an audio message (which takes no caption: its words come just before)."""
    researcher = Person(graph, server)
    staff_add(server.db, (f"whatsapp:{researcher.wa_id}", "researcher", "سارة القحطاني"))
    person = Person(graph, server)
    agree(person)
    voice = b"OggS\x00\x02" + b"\x00" * 20 + b"a voice note" * 50
    offered = person._exchange(graph.audio_message(person.wa_id, graph.add_media(voice, "audio/ogg")))
    assert "وصلتنا رسالتك الصوتية" in said(offered)
    listen = titles(offered[-1])[0]
    assert listen.startswith("🎧 نعم")
    case_id = re.search(r"(\d+)", said(person.press(listen)).split("رقم إحالتك")[1]).group(1)
    claimed = said(researcher.say(f"/claim {case_id}"))
    doc = re.search(r"🎤 رسالة صوتية \(1 كيلوبايت\) \(/doc (\d+)\)", claimed).group(1)
    researcher.say(f"/doc {doc}")
    researcher.settle()
    [audio] = [m for m in researcher.got() if m["type"] == "audio"]
    assert set(audio["audio"]) == {"id"} and graph.media[audio["audio"]["id"]].content == voice
    assert graph.media[audio["audio"]["id"]].mime == "audio/ogg"


def test_when_whatsapp_says_the_window_is_closed_a_notice_goes_as_its_template(graph, server, tmp_path):
    person = Person(graph, server)
    agree(person)  # the window is open as far as Wasl knows
    graph.add_template("wasl_announcement", "ar", 2)
    graph.fail(131047, times=1, to=person.wa_id)
    notice = tmp_path / "notice.txt"
    notice.write_text("الجمعية مغلقة يوم الجمعة", encoding="utf-8")
    before = len(person.got())
    wasl("broadcast", "--text-file", str(notice), "--yes", "--no-watch", db=server.db)
    graph.wait(lambda: any(m["type"] == "template" for m in person.got()[before:]), timeout=30)
    [template] = [m for m in person.got()[before:] if m["type"] == "template"]
    assert template["template"]["name"] == "wasl_announcement"
    refused = [c for c in graph.called("/messages") if c.params.get("to") == person.wa_id
               and c.status != 200]
    assert len(refused) == 1 and refused[0].params["type"] == "text"  # tried as text first


def test_a_photo_over_the_limit_is_explained_and_not_downloaded(graph, server):
    person = Person(graph, server)
    agree(person)
    person.press("📝 طلب دعم جديد")
    to_the_photo(person)
    media = graph.add_media(b"\xff\xd8\xff\xe0" + bytes(11 * 1024 * 1024), "image/jpeg")
    downloads = len([c for c in graph.calls if "attachments" in c.path])
    reply = said(person._exchange(graph.image_message(person.wa_id, media)))
    assert "الحد الأقصى 10 ميجابايت" in reply, reply  # the limit, in Arabic
    assert len([c for c in graph.calls if "attachments" in c.path]) == downloads


def test_an_announcement_with_a_photo_is_uploaded_once_and_sent_as_an_image(graph, server, tmp_path):
    people = [Person(graph, server) for _ in range(2)]
    for person in people:
        agree(person)
    poster = id_card(tmp_path / "poster.png")
    notice = tmp_path / "notice.txt"
    notice.write_text("موعد توزيع الكسوة", encoding="utf-8")
    uploads = len(graph.called("/media"))
    before = [len(p.got()) for p in people]
    wasl("broadcast", "--text-file", str(notice), "--attach", str(poster), "--yes", "--no-watch",
         db=server.db)
    for person, n in zip(people, before, strict=True):
        graph.wait(lambda p=person, k=n: any(m["type"] == "image" for m in p.got()[k:]), timeout=30)
        [image] = [m for m in person.got()[n:] if m["type"] == "image"]
        assert "موعد توزيع الكسوة" in image["image"]["caption"]
        assert graph.media[image["image"]["id"]].content == poster.read_bytes()
    assert len(graph.called("/media")) - uploads == 1  # once for everyone
