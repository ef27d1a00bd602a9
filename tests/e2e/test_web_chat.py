"""The web chat at /chat in a real headless Chromium, on a phone, as a beneficiary uses it:
a `wasl serve` process per test on its own SQLite database, one browser per module, and a
fresh browser profile (a new visitor, no cookie) per conversation. Researchers answer from
`wasl simulate` on the same database, as another process would.

Without /usr/bin/chromium (or WASL_CHROMIUM) or the playwright package these are skipped,
except on CI (CI=true), where they fail. WASL_SCREENSHOTS=DIR keeps web-chat-ar.png and
web-chat-en.png there."""

from __future__ import annotations

import contextlib
import functools
import http.server
import json
import os
import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot import i18n
from conversations.base import RIYADH
from conversations.fields import to_hijri
from tests.e2e.sim import NAME, Simulator, riyadh_today, staff_add, wasl
from tests.e2e.web_page import (
    DESKTOP,
    PHONE,
    WAIT_MS,
    Chat,
    WebServer,
    expect,
    id_card,
    launch_browser,
    off_loop,
    png_size,
    visitor,
)

ASSOCIATION = "جمعية بكة للخدمات الإنسانية"
HOSTILE = "<img src=x onerror=alert(1)>"
ARABIC_DIGITS = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
NUMBER = re.compile(r"BK-\d{4}-\d{6}")
MENU = ["📝 طلب دعم جديد", "📋 حالة طلباتي", "🙋 التحدث مع باحث اجتماعي", "🌐 اللغة / Language",
        "💡 اقتراح أو شكوى", "☎️ التواصل وساعات العمل", "🔒 بياناتي وخصوصيتي", "🤝 التطوع"]


@pytest.fixture(scope="module")
def browser():
    with launch_browser() as b:
        yield b


@pytest.fixture
def db(tmp_path) -> str:
    return f"sqlite:///{tmp_path}/wasl.db"


@pytest.fixture
def server(db, tmp_path) -> Iterator[WebServer]:
    """`wasl serve` on this test's database; its log is printed when the test fails."""
    with WebServer(db, tmp_path / "serve.log") as web:
        yield web
        print(f"--- wasl serve log (last lines) ---\n{web.tail()}")


@pytest.fixture
def context(browser, server):
    """A new visitor on a phone: a browser profile of their own, no cookie yet. (Closed
    before the server stops, which would otherwise wait for the page's event stream.)"""
    with visitor(browser) as ctx:
        yield ctx


@pytest.fixture
def desk(server, db) -> Iterator[Simulator]:
    """`wasl simulate` on the server's database (once the server has migrated it), where
    the researcher Noura (sim:noura) works."""
    off_loop(staff_add, db, ("sim:noura", "researcher", "نورة العتيبي"))
    s = Simulator(db)
    yield s
    if s.proc.poll() is None:
        s.kill()


@pytest.fixture
def shots(tmp_path) -> Path:
    """Where the screenshots go: $WASL_SCREENSHOTS when set (to look at), else tmp_path."""
    return Path(os.environ["WASL_SCREENSHOTS"]) if os.environ.get("WASL_SCREENSHOTS") else tmp_path


def hijri(days: int) -> str:
    """A date `days` from today, as a beneficiary might write it: Hijri, Arabic-Indic digits."""
    h = to_hijri(riyadh_today() + timedelta(days=days))
    return f"{h.day}/{h.month}/{h.year} هـ".translate(ARABIC_DIGITS)


def requests(db: str) -> list[dict]:
    return json.loads(wasl("requests", "list", "--json", db=db).stdout)


@functools.cache
def said(lang: str, msgid: str) -> str:
    """A message in the catalog's words (for the page's newest words, whose translations
    may come after the code)."""
    return i18n.load_translations()[lang].gettext(msgid)


def riyadh_clock(at: str, lang: str) -> str:
    """A moment as a person in Riyadh reads it: "٣:٤٥ م" in Arabic, "3:45 PM" in English."""
    local = datetime.fromisoformat(at).astimezone(RIYADH)
    hour, am = local.hour % 12 or 12, local.hour < 12
    if lang == "ar":
        return f"{hour}:{local.minute:02d} {'ص' if am else 'م'}".translate(ARABIC_DIGITS)
    return f"{hour}:{local.minute:02d} {'AM' if am else 'PM'}"


_TIMES = """() => [...document.querySelectorAll('#wasl-log .wasl-msg')].map(m => {
  const t = m.querySelector('time'); return t ? [t.dateTime, t.textContent] : null; })"""


def times(chat: Chat) -> list[tuple[str, str]]:
    """Each message's time as the page shows it: (its datetime, its text, spaces plain)."""
    shown = chat.page.evaluate(_TIMES)
    assert None not in shown, f"a message without its time: {shown}"
    return [(at, " ".join(text.replace("\u200f", "").replace("\u061c", "").split()))
            for at, text in shown]


def assert_screenshot(path: Path, scale: int = PHONE["device_scale_factor"]) -> None:
    """A phone-sized PNG with something on it (not one flat colour)."""
    from PIL import Image

    assert png_size(path) == (390 * scale, 844 * scale), png_size(path)
    assert path.stat().st_size > 20_000, path.stat().st_size
    with Image.open(path) as image:
        colours = image.convert("RGB").getcolors(maxcolors=1_000_000)
    assert colours is None or len(colours) > 50, "the screenshot is (almost) blank"


def start(chat: Chat) -> None:
    """The welcome in Arabic, then consent; the main menu is on the screen."""
    welcome = chat.wait_bot("هل تتم الموافقة على استخدامنا لبياناتك")
    assert f"أهلًا بك في {ASSOCIATION}" in welcome
    assert chat.choices() == ["✅ أوافق", "✖ لا أوافق", "English"]
    chat.press("✅ أوافق", "تم تسجيل موافقتك")
    assert chat.choices() == MENU


def settled(chat: Chat) -> None:
    """No script error, no alert, no notice on the page."""
    assert chat.dialogs == [], chat.dialogs
    assert [e for e in chat.errors if "favicon" not in e] == [], chat.errors
    expect(chat.notice).to_be_hidden()


def test_the_whole_journey_in_arabic(context, server, desk, db, tmp_path, shots):
    chat = Chat.open(context, server.url)
    # What a visitor sees first: Arabic, right to left, the association's name, the welcome.
    expect(chat.html).to_have_attribute("lang", "ar")
    expect(chat.html).to_have_attribute("dir", "rtl")
    expect(chat.page.locator("#wasl-title")).to_have_text(ASSOCIATION)
    # Nothing that identifies anyone in the URL (/chat may redirect to /chat/).
    assert chat.page.url in (f"{server.url}/chat", f"{server.url}/chat/"), chat.page.url
    [cookie] = [c for c in context.cookies() if c["name"] == "wasl_chat"]
    assert cookie["httpOnly"] and cookie["sameSite"] in ("Lax", "Strict")
    assert "wasl_chat" not in chat.page.evaluate("document.cookie")
    start(chat)

    chat.press("📝 طلب دعم جديد", "ما الخدمة المطلوبة")
    chat.press("مساعدة مالية", "الاسم الرباعي كما في الهوية")
    chat.say(NAME, "رقم الهوية الوطنية أو الإقامة")
    chat.say("١٢٣٤٥٦٧٨٩٧", "تاريخ انتهاء الهوية")  # Arabic-Indic digits, as typed on a phone
    assert chat.mine.last.locator(".wasl-text").text_content() == "١٢٣٤٥٦٧٨٩٧"
    chat.say(hijri(400), "رقم الجوال")
    chat.say("٠٥٠ ١٢٣ ٤٥٦٧", "الحي في مكة المكرمة")
    chat.say("العزيزية", "عدد أفراد الأسرة")
    chat.say("٥", "بيانات حساسة")
    chat.press("✅ أوافق", "إجمالي دخل الأسرة الشهري")
    chat.say("٣٠٠٠", "مصدر الدخل الرئيس")
    assert chat.choices()[:3] == ["الضمان الاجتماعي", "راتب", "تقاعد"]
    expect(chat.page.locator("#wasl-log .wasl-choices")).to_have_count(1)  # older ones removed
    assert_screenshot(chat.screenshot(shots / "web-chat-ar.png"))  # mid-intake, buttons showing
    chat.press("راتب", "رقم الآيبان")
    chat.say("SA03 8000 0000 6080 1016 7519", "صورة الهوية")
    chat.attach(id_card(tmp_path / "هويتي.jpg"), "صورة سجل الأسرة")
    chat.attach(id_card(tmp_path / "family.png"), "إثبات الدخل")
    summary = chat.press("⏭ تخطي", "نرجو مراجعة طلبك لخدمة: مساعدة مالية")
    for shown in (NAME, "7897", "+966501234567", "العزيزية", "3,000.00", "📎 هويتي.jpg",
                  "📎 family.png", "إقرار"):
        assert shown in summary, (shown, summary)
    assert "1234567897" not in summary  # the ID is masked
    chat.press("✅ أؤكد وأوقّع", "للتوقيع")
    done = chat.say(NAME, "تم استلام طلبك", button=True)  # the send button this time
    number = NUMBER.search(done).group(0)
    assert "لجنة البحث" in done
    assert chat.choices() == MENU  # back at the menu
    status = chat.press("📋 حالة طلباتي", number)
    assert "تم الاستلام" in status

    # A researcher takes the request up: the page hears of it while it is open.
    before = chat.count()
    moved = desk.send("noura", lang="en", text=f"/review {number}")
    assert any(r["to"] == "noura" for r in moved), moved
    told = chat.wait_bot(number, after=before)
    assert "قيد الدراسة" in told, told
    assert "قيد الدراسة" in chat.say("/status", number)
    desk.close()

    [request] = requests(db)
    assert request["number"] == number and request["service"] == "financial_aid"
    assert request["channel"] == "web" and request["status"] == "under_review"
    fields = request["fields"]
    assert fields["national_id"] == "1234567897" and fields["mobile"] == "+966501234567"
    assert fields["family_size"] == 5 and fields["full_name"] == NAME
    assert fields["iban"].replace(" ", "") == "SA0380000000608010167519"
    assert {d["name"]: d["mime"] for d in request["documents"]} == {
        "هويتي.jpg": "image/jpeg", "family.png": "image/png"}
    assert request["acknowledgment"]["hash_matches"]
    assert request["acknowledgment"]["signature"] == NAME
    settled(chat)


def test_language_switch_turns_the_page_left_to_right(context, server, shots):
    chat = Chat.open(context, server.url)
    start(chat)
    chat.press("🌐 اللغة / Language", "نرجو اختيار اللغة")
    chat.press("English", "How can we help you?")
    expect(chat.html).to_have_attribute("lang", "en")
    expect(chat.html).to_have_attribute("dir", "ltr")
    expect(chat.page.locator("#wasl-title")).to_have_text("Bakkah for Humanitarian Services")
    assert chat.choices()[0] == "📝 New support request"
    # every message's time, the Arabic ones too, now reads "3:45 PM"
    assert [text for _, text in times(chat)] == [riyadh_clock(at, "en") for at, _ in times(chat)]
    chat.press("📝 New support request", "Which service")
    chat.press("Food basket", "Full name")
    assert_screenshot(chat.screenshot(shots / "web-chat-en.png"))
    # Opened again, the page is in English from the start.
    chat.reload()
    expect(chat.html).to_have_attribute("lang", "en")
    expect(chat.html).to_have_attribute("dir", "ltr")
    expect(chat.page.locator("#wasl-title")).to_have_text("Bakkah for Humanitarian Services")
    chat.say(NAME, "National ID or iqama number")
    settled(chat)


def test_a_reload_returns_to_the_same_conversation(browser, context, server):
    chat = Chat.open(context, server.url)
    start(chat)
    chat.press("📝 طلب دعم جديد", "ما الخدمة المطلوبة")
    chat.press("سلة غذائية", "الاسم الرباعي")
    chat.say(NAME, "رقم الهوية")
    before = chat.transcript()
    cookie = [c["value"] for c in context.cookies() if c["name"] == "wasl_chat"]

    chat.reload()
    chat.wait_bot("رقم الهوية")
    expect(chat.page.locator("#wasl-log .wasl-msg")).to_have_count(len(before))
    assert chat.transcript() == before
    assert chat.choices() == ["↩ رجوع", "✖ إلغاء الطلب", "🙋 الباحث الاجتماعي"]
    assert [c["value"] for c in context.cookies() if c["name"] == "wasl_chat"] == cookie
    chat.say("1234567897", "تاريخ انتهاء الهوية", button=True)  # and the intake goes on
    assert chat.bot.count() == sum(who == "bot" for who, _ in before) + 1

    # Another browser is another visitor: a conversation of its own, from the welcome.
    with visitor(browser) as other:
        stranger = Chat.open(other, server.url)
        stranger.wait_bot("هل تتم الموافقة")
        assert NAME not in "".join(text for _, text in stranger.transcript())
        assert stranger.mine.count() == 0
    settled(chat)


def test_a_hostile_name_is_shown_as_text(context, server, db, tmp_path):
    chat = Chat.open(context, server.url)
    start(chat)
    chat.press("📝 طلب دعم جديد", "ما الخدمة")
    chat.press("سلة غذائية", "الاسم الرباعي")
    chat.say(HOSTILE, "رقم الهوية")
    assert chat.mine.last.locator(".wasl-text").text_content() == HOSTILE
    for said, next_question in [("١٢٣٤٥٦٧٨٩٧", "تاريخ انتهاء الهوية"), (hijri(400), "رقم الجوال"),
                                ("0501234567", "الحي"), ("الشوقية", "عدد أفراد الأسرة"),
                                ("4", "بيانات حساسة")]:
        chat.say(said, next_question)
    chat.press("✅ أوافق", "إجمالي دخل")
    chat.say("2500", "مصدر الدخل")
    chat.press("لا يوجد دخل", "صورة الهوية")
    summary = chat.attach(id_card(tmp_path / "id.png"), "نرجو مراجعة طلبك")
    assert HOSTILE in summary  # the bot repeats it, as text
    chat.press("✅ أؤكد وأوقّع", "للتوقيع")
    done = chat.say(HOSTILE, "تم استلام طلبك")  # signed with the same "name"
    assert NUMBER.search(done)

    log = chat.page.locator("#wasl-log")
    assert log.locator("img[src='x']").count() == 0
    assert chat.page.evaluate("[...document.images].filter(i => i.getAttribute('src') === 'x').length") == 0
    assert log.locator("[onerror]").count() == 0
    assert "&lt;img src=x" in log.inner_html()  # escaped wherever it is shown
    settled(chat)
    [request] = requests(db)
    assert request["fields"]["full_name"] == HOSTILE
    assert request["acknowledgment"]["signature"] == HOSTILE


def test_replies_from_the_desk_are_pushed_to_the_open_page(context, server, desk, db, tmp_path):
    chat = Chat.open(context, server.url)
    start(chat)
    opened = chat.press("🙋 التحدث مع باحث اجتماعي", "رقم إحالتك")
    case = re.search(r"رقم إحالتك (\d+)", opened).group(1)
    chat.say("متى موعد توزيع السلال؟", f"أُضيفت رسالتك إلى إحالتك رقم {case}")
    chat.page.evaluate("window.waslNotReloaded = true")
    tab = Chat.open(context, server.url)  # the same visitor in a second tab
    tab.wait_bot(f"أُضيفت رسالتك إلى إحالتك رقم {case}")

    # The researcher, on the simulator's channel, takes the case and answers.
    claimed = desk.send("noura", lang="en", text=f"/claim {case}")
    assert any("You took case" in r["text"] and "متى موعد توزيع السلال" in r["text"]
               for r in claimed if r["to"] == "noura"), claimed
    joined = chat.wait_bot("نورة")  # the researcher joined: pushed, no reload
    assert "العتيبي" not in joined  # first name only
    desk.send("noura", lang="en", text="وعليكم السلام، التوزيع يوم الأحد بإذن الله")
    chat.wait_bot("التوزيع يوم الأحد بإذن الله")
    assert chat.page.evaluate("window.waslNotReloaded") is True
    tab.wait_bot("التوزيع يوم الأحد بإذن الله")  # every open page of the chat hears it
    tab.close()

    # An announcement from a shell reaches the open page too.
    notice = tmp_path / "notice.txt"
    notice.write_text("تنبيه: مقر الجمعية مغلق يوم الخميس", encoding="utf-8")
    wasl("broadcast", "--text-file", str(notice), "--yes", "--no-watch", db=db)
    chat.wait_bot("مقر الجمعية مغلق يوم الخميس")

    # A document from the researcher: a link in the page that this browser may open.
    form = tmp_path / "استمارة.pdf"
    form.write_bytes(b"%PDF-1.4\n% a form to fill in\n%%EOF\n")
    desk.send("noura", lang="en", file={"path": str(form), "name": form.name,
                                        "mime": "application/pdf"})
    link = chat.page.locator("#wasl-log .wasl-bot a.wasl-file").last
    expect(link).to_contain_text(form.name)
    got = context.request.get(link.evaluate("a => a.href"))
    assert got.status == 200 and got.body() == form.read_bytes()
    assert got.headers["content-type"].startswith("application/pdf")

    # What the beneficiary writes goes to the researcher (checked in the case below).
    chat.type("شكرًا، وصلت الرسالة")
    expect(chat.page.locator("#wasl-send")).to_be_enabled()  # sent: the page is done with it
    # With the page closed, a reply waits for the next visit.
    chat.close()
    desk.send("noura", lang="en", text="نرجو إحضار صورة الهوية معك")
    desk.close()
    again = Chat.open(context, server.url)
    again.wait_bot("نرجو إحضار صورة الهوية معك")
    history = [text for _, text in again.transcript()]
    assert any("التوزيع يوم الأحد" in t for t in history) and "شكرًا، وصلت الرسالة" in history
    assert not any("هل تتم الموافقة" in t for t in history[1:])  # not started over
    settled(again)
    [listed] = json.loads(wasl("cases", "list", "--json", db=db).stdout)
    assert listed["status"] == "claimed", listed["status"]
    said = [(m["direction"], m["text"]) for m in listed["messages"]]
    assert any(text == "شكرًا، وصلت الرسالة" for _, text in said), said


def test_refusals_and_a_lost_connection_are_explained_in_the_notice(browser, db, tmp_path):
    log = tmp_path / "serve.log"
    with WebServer(db, log, WASL_WEB_MESSAGES_PER_MINUTE="4") as web, visitor(browser) as context:
        try:
            chat = Chat.open(context, web.url)
            start(chat)  # the page's own start and the consent: 2 of the 4 a minute

            # A file over the profile's limit (10 MB) is refused before it is sent.
            big = tmp_path / "big.jpg"
            big.write_bytes(b"\xff\xd8\xff\xe0" + bytes(10 * 1024 * 1024))
            mine = chat.mine.count()
            chat.page.set_input_files("#wasl-file", str(big))
            expect(chat.notice).to_be_visible()
            expect(chat.notice).to_have_text("هذا الملف كبير جدًا: الحد الأقصى 10 ميجابايت.")
            assert chat.mine.count() == mine

            # Too many messages in a minute: refused, said so, and nothing typed is lost.
            chat.press("📋 حالة طلباتي", "كيف يمكننا خدمتك")
            chat.press("🌐 اللغة / Language", "نرجو اختيار اللغة")
            chat.page.locator("#wasl-input").fill("١")
            chat.page.locator("#wasl-input").press("Enter")
            expect(chat.notice).to_have_text(
                "أرسلت رسائل كثيرة في وقت قصير. نرجو الانتظار دقيقة ثم المحاولة مرة أخرى.")
            expect(chat.page.locator("#wasl-input")).to_have_value("١")
            assert chat.mine.count() == mine + 2

            # The server goes away: the page says so, then comes back by itself, with the
            # conversation as it was (and a new process's count of messages).
            before = chat.transcript()
            web.stop()
            expect(chat.html).to_have_attribute("data-connected", "0")
            expect(chat.notice).to_have_text("انقطع الاتصال، نحاول مرة أخرى…")
            web.restart()
            chat.wait_connected()
            expect(chat.notice).to_be_hidden()
            assert chat.transcript() == before
            chat.page.locator("#wasl-send").click()  # the same "١": Arabic, from the list
            chat.wait_bot("كيف يمكننا خدمتك", after=len(before))
            assert chat.transcript()[len(before)] == ("me", "١")
            assert chat.dialogs == []
        finally:
            print(f"--- wasl serve log (last lines) ---\n{web.tail()}")


@contextlib.contextmanager
def association_site(directory: Path, wasl_url: str) -> Iterator[str]:
    """The association's own website on another origin: one page with the snippet."""
    (directory / "index.html").write_text(
        '<!doctype html><html lang="ar" dir="rtl"><head><meta charset="utf-8"><title>الجمعية</title>'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'</head><body><h1>موقع الجمعية</h1><script src="{wasl_url}/chat/embed.js" async></script>'
        "</body></html>", encoding="utf-8")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(directory))
    handler.log_message = lambda *args: None  # type: ignore[method-assign]
    site = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=site.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{site.server_address[1]}"
    finally:
        site.shutdown()
        site.server_close()


def test_the_snippet_opens_the_chat_on_an_allowed_site_only(browser, db, tmp_path):
    """On the association's site: the button opens the chat beside the page, its × closes
    it, replies that come while it is closed are counted on the button and in the tab's
    title; on a phone the chat covers the screen. A site not listed is told why (and its
    administrator what to do) instead of being shown a grey frame."""
    allowed_dir, other_dir = tmp_path / "allowed", tmp_path / "other"
    allowed_dir.mkdir()
    other_dir.mkdir()
    with WebServer(db, tmp_path / "serve.log") as web, \
            association_site(allowed_dir, web.url) as allowed, \
            association_site(other_dir, web.url) as other:
        web.env["WASL_WEB_ALLOWED_ORIGINS"] = allowed  # known only now: start it again
        web.restart()
        with visitor(browser, **DESKTOP) as context:
            page = context.new_page()
            page.goto(f"{allowed}/index.html")
            button = page.locator("#wasl-chat-button")
            expect(button).to_have_text("💬 للتواصل معنا")
            button.click()
            frame = page.frame_locator("iframe[src$='/chat/?embed=1']")
            expect(frame.locator("#wasl-title")).to_have_text(ASSOCIATION)
            expect(frame.locator("#wasl-log .wasl-bot").first).to_contain_text("هل تتم الموافقة")
            frame.locator(".wasl-choice", has_text="✅ أوافق").click()
            expect(frame.locator("#wasl-log .wasl-bot").last).to_contain_text("كيف يمكننا خدمتك")
            panel = page.locator("iframe").bounding_box()
            assert panel and panel["width"] <= 380 and panel["height"] <= 600, panel  # beside it

            # The × in the chat's own header closes it; the keyboard is back on the button.
            frame.get_by_role("button", name="إغلاق").click()
            expect(page.locator("iframe")).to_be_hidden()
            expect(button).to_have_attribute("aria-expanded", "false")
            expect(button).to_be_focused()
            # Replies while it is closed: counted on the button and in the site's title.
            badge = page.locator("#wasl-chat-unread")
            expect(badge).to_be_hidden()
            for n, words in enumerate(["توزيع السلال يوم الخميس", "المقر مغلق يوم الجمعة"], 1):
                note = tmp_path / f"note{n}.txt"
                note.write_text(words, encoding="utf-8")
                wasl("broadcast", "--text-file", str(note), "--yes", "--no-watch", db=db)
                expect(badge).to_have_text(str(n))
            expect(page).to_have_title("(2) الجمعية")
            unread = said("ar", "New messages: {count}").format(count=2)
            expect(button).to_have_attribute("aria-label", re.compile(re.escape(unread)))
            button.click()  # opened again as it was: seen, the count goes
            expect(frame.locator("#wasl-log .wasl-bot").last).to_contain_text("المقر مغلق")
            expect(badge).to_be_hidden()
            expect(page).to_have_title("الجمعية")
            expect(button).not_to_have_attribute("aria-label", re.compile("."))
            button.click()  # beside the page, the button closes it too
            expect(page.locator("iframe")).to_be_hidden()

            # A site not listed: a message in the panel, a warning in the console, no frame.
            blocked = context.new_page()
            warned: list[str] = []
            blocked.on("console", lambda msg: warned.append(msg.text)
                       if msg.type == "warning" else None)
            blocked.goto(f"{other}/index.html")
            blocked.locator("#wasl-chat-button").click()
            why = blocked.locator("#wasl-chat-blocked")
            expect(why).to_be_visible()
            expect(why).to_contain_text(said("ar", "The chat cannot open on this page yet."))
            expect(why).to_contain_text(said("ar", "For the site's administrator: add {origin} to "
                                                   "WASL_WEB_ALLOWED_ORIGINS on the chat server."
                                             ).format(origin=other))
            expect(blocked.locator("iframe")).to_have_count(0)
            assert any(other in text and "WASL_WEB_ALLOWED_ORIGINS" in text for text in warned), warned
            why.get_by_role("button", name="إغلاق").click()
            expect(why).to_be_hidden()

        with visitor(browser) as phone:  # 390 × 844: the chat covers the screen
            page = phone.new_page()
            page.goto(f"{allowed}/index.html")
            page.locator("#wasl-chat-button").click()
            frame = page.frame_locator("iframe")
            expect(frame.locator("#wasl-log .wasl-bot").first).to_contain_text("هل تتم الموافقة")
            assert page.locator("iframe").bounding_box() == {"x": 0, "y": 0, "width": 390,
                                                             "height": 844}
            frame.get_by_role("button", name="إغلاق").click()  # the way out, on the screen
            expect(page.locator("iframe")).to_be_hidden()
            expect(page.locator("#wasl-chat-button")).to_be_visible()
            blocked = phone.new_page()  # and a site not listed says why, all of it on the screen
            blocked.goto(f"{other}/index.html")
            blocked.locator("#wasl-chat-button").click()
            why = blocked.locator("#wasl-chat-blocked")
            expect(why).to_contain_text(said("ar", "The chat cannot open on this page yet."))
            assert why.bounding_box() == {"x": 0, "y": 0, "width": 390, "height": 844}
            assert why.evaluate("el => el.scrollWidth <= el.clientWidth")  # nothing cut off
            expect(why.get_by_role("button", name="إغلاق")).to_be_in_viewport(ratio=1)


CONTROLS_OUTSIDE_LANDMARKS = """() => [...document.querySelectorAll('button, textarea, input:not([hidden])')]
  .filter(el => el.offsetParent !== null)
  .filter(el => !el.closest('header, nav, main, form[aria-label], footer, [role=region][aria-label]'))
  .map(el => el.id || el.textContent.trim())"""
SMALL_TARGETS = """() => [...document.querySelectorAll('button')]
  .filter(el => el.offsetParent !== null)
  .filter(el => { const r = el.getBoundingClientRect(); return r.width < 44 || r.height < 44; })
  .map(el => el.id || el.textContent.trim())"""
BROKEN_WHOLES = """() => [...document.querySelectorAll('.wasl-whole')]
  .filter(el => el.getClientRects().length !== 1).map(el => el.textContent)"""


def test_elderly_eyes_and_hands_keyboard_touch_and_numbers_kept_whole(context, server, tmp_path):
    """On a 390 px phone: the 📎 is a real button a keyboard reaches and opens; every
    control is in a landmark and at least 44×44 px; borders and the focus ring have 3:1
    contrast; commands and phone numbers stay whole and left to right; Escape closes ☰."""
    chat = Chat.open(context, server.url)
    page = chat.page
    # Listened for from the start: the browser is told to report a file chooser in a
    # message of its own, and a press sent before that message lands opens none.
    choosers: list = []
    page.on("filechooser", lambda chooser: choosers.append(chooser))
    start(chat)
    assert page.evaluate(CONTROLS_OUTSIDE_LANDMARKS) == []
    assert page.evaluate(SMALL_TARGETS) == []
    attach = page.get_by_role("button", name="إرفاق صورة أو مستند")
    expect(attach).to_be_visible()
    assert attach.get_attribute("tabindex") in (None, "0")
    page.locator("#wasl-input").focus()
    page.keyboard.press("Shift+Tab")  # the keyboard reaches it (a <label> it could not)
    expect(attach).to_be_focused()
    ring = page.evaluate("() => { const s = getComputedStyle(document.activeElement); "
                         "return [s.outlineStyle, s.outlineWidth, s.outlineColor]; }")
    assert ring == ["solid", "3px", "rgb(29, 43, 39)"], ring  # the focus ring: 14.7:1 on white
    border = page.evaluate("() => getComputedStyle(document.getElementById('wasl-input'))"
                           ".borderTopColor")
    assert border == "rgb(107, 125, 119)", border  # the input's edge: 4.35:1 on white
    page.keyboard.press("Enter")  # from the keyboard alone
    for _ in range(WAIT_MS // 100):
        if choosers:
            break
        page.wait_for_timeout(100)
    assert [c.element.get_attribute("id") for c in choosers] == ["wasl-file"]
    # a reply with commands and a phone number: each kept whole, isolated left to right
    chat.say("/help", "/menu")
    wholes = page.locator(".wasl-whole").all_text_contents()
    assert "/menu" in wholes and "/status" in wholes, wholes
    assert page.evaluate(BROKEN_WHOLES) == []
    page.get_by_role("button", name="القائمة").click()
    expect(page.locator("#wasl-commands")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("#wasl-commands")).to_be_hidden()
    # after a choice pressed from the keyboard, the focus is on the new question's buttons
    shown = chat.count()
    chat.choice("📝 طلب دعم جديد").focus()
    page.keyboard.press("Enter")
    chat.wait_bot("سلة غذائية", after=shown)
    expect(page.locator(":focus")).to_have_class(re.compile("wasl-choice"))
    assert page.evaluate("() => document.activeElement.closest('.wasl-msg') === "
                         "[...document.querySelectorAll('.wasl-bot')].pop()")
    # larger text, kept when the page is opened again
    size = "() => getComputedStyle(document.body).fontSize"
    assert page.evaluate(size) == "17px"
    page.get_by_role("button", name="تكبير الخط").click()
    assert page.evaluate(size) == "21px"
    expect(page.get_by_role("button", name="تكبير الخط")).to_have_attribute("aria-pressed", "true")
    chat.reload()
    assert page.evaluate(size) == "21px"
    assert page.evaluate(SMALL_TARGETS) == []
    settled(chat)


def test_each_message_shows_its_time_in_riyadh_and_a_researcher_speaks_as_a_person(browser, server,
                                                                                   desk):
    """On a phone set to New York time: every message shows when it came, in Riyadh time
    with Arabic digits; ☰ reaches a researcher from the middle of a question; the researcher's
    own words come in a bubble of their own with their name, and the bot's words (that they
    joined) do not; opened again, the page shows all of it the same."""
    with visitor(browser, timezone_id="America/New_York") as context:
        chat = Chat.open(context, server.url)
        start(chat)
        now = datetime.now(UTC)
        shown = times(chat)
        assert len(shown) == chat.count() == 3  # the welcome, their consent, the menu
        for at, text in shown:
            assert abs(datetime.fromisoformat(at) - now) < timedelta(minutes=5), at
            assert text == riyadh_clock(at, "ar"), (at, text)  # not New York's 8 hours back

        # ☰ at a question with no researcher button of its own (the language): still a person
        chat.press("🌐 اللغة / Language", "نرجو اختيار اللغة")
        page = chat.page
        page.get_by_role("button", name="القائمة").click()
        before = chat.count()
        page.locator("#wasl-commands").get_by_role(
            "button", name="🙋 التحدث مع باحث اجتماعي").click()
        chat.wait_mine("🙋 التحدث مع باحث اجتماعي", before)
        chat.wait_bot("تم تحويلك إلى باحث اجتماعي", before)
        [case] = json.loads(wasl("cases", "list", "--json", db=server.db).stdout)
        assert case["status"] == "queued"

        name = said("ar", "{name}, social researcher").format(name="نورة")
        desk.send("noura", lang="en", text=f"/claim {case['id']}")
        chat.wait_bot(name)  # that she joined: the bot says so
        words = "وعليكم السلام، التوزيع يوم الأحد بإذن الله"
        desk.send("noura", lang="en", text=words)
        assert chat.wait_bot("التوزيع يوم الأحد") == words  # her words, no "💬 name:" before them
        staff = page.locator("#wasl-log .wasl-msg.wasl-staff")
        expect(staff).to_have_count(1)
        expect(staff.locator(".wasl-by")).to_have_text(name)
        joined = chat.bot.filter(has_text=f"{name} معك الآن")
        expect(joined).to_have_count(1)
        expect(joined.locator(".wasl-by")).to_have_count(0)
        colour = "el => getComputedStyle(el).backgroundColor"
        assert staff.evaluate(colour) != joined.evaluate(colour)  # seen at a glance
        assert [t for _, t in times(chat)] == [riyadh_clock(at, "ar") for at, _ in times(chat)]
        history, clocks = chat.transcript(), times(chat)
        chat.close()

        again = Chat.open(context, server.url)
        again.wait_bot("التوزيع يوم الأحد")
        assert again.transcript() == history and times(again) == clocks
        expect(again.page.locator(".wasl-staff .wasl-by")).to_have_text(name)
        settled(again)


HIDE = "Object.defineProperty(document, 'hidden', {configurable: true, get: () => window.waslHidden});"


def test_replies_that_come_while_the_chat_is_not_seen_are_counted_in_the_title(context, server, desk):
    """In another tab: each reply that comes counts in the tab's title, "(2) …", until the
    chat is seen again; what was already there when it opened is not counted."""
    context.add_init_script(HIDE + "window.waslHidden = localStorage.getItem('hidden') === '1';")
    chat = Chat.open(context, server.url)
    start(chat)
    page = chat.page
    chat.press("🙋 التحدث مع باحث اجتماعي", "تم تحويلك إلى باحث اجتماعي")  # from the menu
    [case] = json.loads(wasl("cases", "list", "--json", db=server.db).stdout)
    desk.send("noura", lang="en", text=f"/claim {case['id']}")
    chat.wait_bot("نورة")
    expect(page).to_have_title(ASSOCIATION)  # seen as it came

    def visible(shown: bool) -> None:
        page.evaluate("shown => { window.waslHidden = !shown; "
                      "document.dispatchEvent(new Event('visibilitychange')); }", shown)

    visible(False)
    desk.send("noura", lang="en", text="السلام عليكم")
    expect(page).to_have_title(f"(1) {ASSOCIATION}")
    desk.send("noura", lang="en", text="هل ما زلت هنا؟")
    expect(page).to_have_title(f"(2) {ASSOCIATION}")
    visible(True)
    expect(page).to_have_title(ASSOCIATION)

    page.evaluate("localStorage.setItem('hidden', '1')")  # opened again in a background tab
    chat.reload()
    chat.wait_bot("هل ما زلت هنا")
    expect(page).to_have_title(ASSOCIATION)  # the history is not news
    desk.send("noura", lang="en", text="سأنتظر ردك")
    expect(page).to_have_title(f"(1) {ASSOCIATION}")
    page.evaluate("localStorage.setItem('hidden', '0')")
    visible(True)
    expect(page).to_have_title(ASSOCIATION)
    settled(chat)


def test_the_working_hours_are_on_the_page_before_anyone_asks(browser, server):
    """Above the message box when the page opens: when researchers answer, in the bot's own
    words; outside those hours (on a Friday evening in Riyadh), that a reply comes in
    working hours. It makes room once they have written or pressed something."""
    note, after = "#wasl-hours", "#wasl-after-hours"
    with visitor(browser) as context:  # a Sunday morning in Riyadh: at work
        context.clock.set_fixed_time(datetime(2026, 12, 6, 10, 0, tzinfo=RIYADH))
        chat = Chat.open(context, server.url)
        chat.wait_bot("هل تتم الموافقة")
        hours = chat.page.locator("#wasl-hours-text").text_content()
        assert "الأحد" in hours and "الخميس" in hours and "08:00" in hours and "15:00" in hours
        expect(chat.page.locator(note)).to_be_in_viewport()
        expect(chat.page.locator(after)).to_be_hidden()
        chat.press("✅ أوافق", "تم تسجيل موافقتك")
        expect(chat.page.locator(note)).to_be_hidden()
        told = chat.press("☎️ التواصل وساعات العمل", "بتوقيت الرياض")
        assert hours in told  # the page and the bot say the same
        settled(chat)
    with visitor(browser) as context:  # a Friday evening: nobody at work
        context.clock.set_fixed_time(datetime(2026, 12, 4, 20, 0, tzinfo=RIYADH))
        chat = Chat.open(context, server.url)
        chat.wait_bot("هل تتم الموافقة")
        expect(chat.page.locator(note)).to_be_in_viewport()
        expect(chat.page.locator(after)).to_be_visible()
        expect(chat.page.locator(after)).to_have_text(said("ar", (
            "It is outside working hours now: you can still write, and a researcher will "
            "reply during working hours.")))
        assert chat.page.evaluate("() => document.getElementById('wasl-hours')"
                                  ".closest('aside[aria-label]') !== null")


PROGRESS = """() => { window.waslProgress = [];
  const bar = document.getElementById('wasl-progress');
  new MutationObserver(() => window.waslProgress.push(
    [bar.getAttribute('aria-valuenow'), bar.getAttribute('aria-valuetext')]))
  .observe(bar, {attributes: true, attributeFilter: ['aria-valuenow']}); }"""


def test_a_photo_shows_in_its_bubble_and_its_upload_shows_progress(context, server, tmp_path):
    """On a slow connection (Chromium's own throttling): a bar with a percentage goes up
    while the photo is sent, then goes; the photo shows small in their bubble."""
    from PIL import Image

    photo = tmp_path / "صورة.png"
    Image.frombytes("RGB", (600, 600), os.urandom(600 * 600 * 3)).save(photo)  # ~1 MB
    chat = Chat.open(context, server.url)
    start(chat)
    chat.press("📝 طلب دعم جديد", "ما الخدمة")
    chat.press("سلة غذائية", "الاسم")
    page = chat.page
    page.evaluate(PROGRESS)
    slow = context.new_cdp_session(page)
    slow.send("Network.enable")
    slow.send("Network.emulateNetworkConditions", {
        "offline": False, "latency": 20, "downloadThroughput": -1, "uploadThroughput": 400_000})
    before = chat.count()
    page.set_input_files("#wasl-file", str(photo))
    bar = page.get_by_role("progressbar", name=said("ar", "Sending the file…"))
    expect(bar).to_be_visible()
    chat.wait_mine(photo.name, before)
    expect(page.locator("#wasl-upload")).to_be_hidden()
    seen = page.evaluate("window.waslProgress")
    percents = [int(now) for now, _ in seen]
    assert percents == sorted(percents) and percents[-1] == 100, seen
    assert len([p for p in percents if 0 < p < 100]) >= 3, seen  # it moved, not jumped
    assert all(text.rstrip("\u061c").endswith("٪") for _, text in seen), seen  # "٤٥٪"
    thumb = chat.mine.last.locator("img.wasl-thumb")
    expect(thumb).to_have_attribute("alt", photo.name)
    assert thumb.evaluate("img => [img.src.slice(0, 5), img.naturalWidth]") == ["blob:", 600]
    box = thumb.bounding_box()
    assert box and box["width"] <= 160 and box["height"] <= 160, box  # small
    settled(chat)
