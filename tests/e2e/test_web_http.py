"""The web chat's HTTP side, against a real `wasl serve`: the cookie, forged and abusive
requests, sizes, the event stream and its resumption, documents, the embed snippet, and
`wasl run` without a Telegram token. (The page itself is driven in Chromium in
test_web_chat.py.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from storage import models as m
from tests.e2e.people import _read
from tests.e2e.sim import wasl
from tests.e2e.telegram_bot import ROOT, free_port
from tests.e2e.web_page import WebServer

HOSTILE = "<img src=x onerror=alert(1)>"


class Visitor:
    """A browser as the server sees it: the cookie from its first visit, an Origin on POSTs."""

    def __init__(self, server: WebServer, lang: str = "ar-SA,ar;q=0.9") -> None:
        self.server = server
        self.http = httpx.Client(base_url=server.url, timeout=30,
                                 headers={"Accept-Language": lang})
        self.page = self.http.get("/chat/")
        assert self.page.status_code == 200

    @property
    def origin(self) -> dict[str, str]:
        return {"Origin": self.server.url}

    def send(self, **data: object) -> httpx.Response:
        return self.http.post("/chat/api/message", json=data, headers=self.origin)

    def events(self, after: int = 0, until: str | None = None, seconds: float = 15,
               last_event_id: int | None = None) -> list[dict]:
        """The stream's events (hello and messages) until a message says `until` (or a
        quiet `seconds` when None)."""
        headers = {"Last-Event-ID": str(last_event_id)} if last_event_id is not None else {}
        got: list[dict] = []
        deadline = time.monotonic() + seconds
        with self.http.stream("GET", f"/chat/api/events?after={after}", headers=headers,
                              timeout=httpx.Timeout(seconds, read=4)) as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            kind, lines = None, stream.iter_lines()
            while time.monotonic() < deadline:
                try:
                    line = next(lines)
                except (httpx.ReadTimeout, StopIteration):
                    if until is None:
                        return got
                    continue
                if line.startswith("event: "):
                    kind = line[7:]
                elif line.startswith("data: "):
                    got.append({"event": kind, **json.loads(line[6:])})
                    if until is not None and until in got[-1].get("text", ""):
                        return got
        if until is not None:
            raise AssertionError(f"no message with {until!r}; got {got}")
        return got

    def close(self) -> None:
        self.http.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[WebServer]:
    tmp = tmp_path_factory.mktemp("web")
    with WebServer(f"sqlite+aiosqlite:///{tmp}/w.db", tmp / "serve.log",
                   WASL_WEB_ALLOWED_ORIGINS="https://assoc.example.org.sa",
                   WASL_TRUSTED_PROXIES="127.0.0.1") as running:  # the HTTPS proxy's headers
        yield running


@pytest.fixture
def visitor(server) -> Iterator[Visitor]:
    v = Visitor(server)
    yield v
    v.close()


def web_rows(db: str) -> list[m.WebMessage]:
    return _read(db, select(m.WebMessage).order_by(m.WebMessage.id))


def test_the_page_sets_a_private_cookie_and_allows_only_the_configured_embedders(server):
    http = httpx.Client(base_url=server.url, timeout=30)
    moved = http.get("/chat?embed=1")
    assert moved.status_code == 308 and moved.headers["location"] == "/chat/?embed=1"
    page = http.get("/chat/")
    cookie = page.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/chat" in cookie
    token = page.cookies["wasl_chat"]
    assert len(token) == 43 and token not in page.text  # nothing identifying in the page
    csp = page.headers["content-security-policy"]
    assert "frame-ancestors 'self' https://assoc.example.org.sa" in csp
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert '<html lang="ar" dir="rtl"' in page.text
    assert "جمعية بكة للخدمات الإنسانية" in page.text and "نص الرسالة" in page.text
    # The same browser comes back with the same token; an English browser gets English.
    again = http.get("/chat/")
    assert again.cookies.get("wasl_chat", token) == token
    english = httpx.get(f"{server.url}/chat/", headers={"Accept-Language": "en-GB,en;q=0.9,ar;q=0.5"})
    assert '<html lang="en" dir="ltr"' in english.text and "Write your message" in english.text
    # Small, and nothing from elsewhere: every script and style is this server's.
    for asset in ("/chat/static/chat.js", "/chat/static/chat.css"):
        body = http.get(asset)
        assert body.status_code == 200 and len(body.content) < 20_000
    assert "http" not in page.text.split("<body>")[0].replace('content="width', "")
    # Behind an HTTPS proxy (which says so from 127.0.0.1), the cookie also works framed
    # on the association's site: Secure, SameSite=None, Partitioned.
    proxied = httpx.get(f"{server.url}/chat/", headers={"X-Forwarded-Proto": "https"})
    cookie = proxied.headers["set-cookie"]
    assert "Secure" in cookie and "SameSite=none" in cookie and "Partitioned" in cookie


def test_forged_requests_are_refused_logged_and_change_nothing(server, visitor):
    before = len(web_rows(server.db))
    url = "/chat/api/message"
    no_origin = visitor.http.post(url, json={"text": "مرحبا"})
    elsewhere = visitor.http.post(url, json={"text": "مرحبا"}, headers={"Origin": "https://evil.example"})
    no_cookie = httpx.post(f"{server.url}{url}", json={"text": "مرحبا"}, headers=visitor.origin)
    bad_cookie = httpx.post(f"{server.url}{url}", json={"text": "مرحبا"},
                            headers={**visitor.origin, "Cookie": "wasl_chat=abc"})
    as_form = visitor.http.post(url, data={"text": "مرحبا"}, headers=visitor.origin)
    file_elsewhere = visitor.http.post("/chat/api/file?name=a.png", content=b"\x89PNG\r\n\x1a\n",
                                       headers={"Origin": "https://evil.example"})
    stream = httpx.get(f"{server.url}/chat/api/events")
    for response in (no_origin, elsewhere, no_cookie, bad_cookie, as_form, file_elsewhere, stream):
        assert response.status_code == 403, response.text
    assert len(web_rows(server.db)) == before
    log = server.log.read_text()
    assert "no Origin header" in log and "'https://evil.example' is not this server" in log
    assert log.count("refused a web chat request") >= 7


def test_a_conversation_streams_and_resumes_where_the_page_left_off(server, visitor):
    hello = visitor.events(seconds=2)
    assert hello == [{"event": "hello", "lang": "ar", "empty": True, "last": 0}]
    before = max((r.id for r in web_rows(server.db)), default=0)
    assert visitor.send(start=True).status_code == 202
    # The welcome is delivered after the answer (202); once it is stored, a page opened
    # says it has it: it is not news
    deadline = time.monotonic() + 15
    while not any(r.direction == "out" and r.id > before for r in web_rows(server.db)):
        assert time.monotonic() < deadline, "no welcome stored"
        time.sleep(0.05)
    first = visitor.events(until="هل تتم الموافقة")
    assert first[0]["event"] == "hello" and first[0]["empty"] is False
    welcome = first[-1]
    assert welcome["from"] == "bot"
    assert first[0]["last"] == welcome["id"]  # what the page has when it opens: not news
    assert datetime.fromisoformat(welcome["at"]).utcoffset() == timedelta(0)  # when, in UTC
    assert [c["label"] for c in welcome["choices"]][:1] == ["✅ أوافق"]
    agree = welcome["choices"][0]["id"]
    assert visitor.send(choice=agree).status_code == 202
    later = visitor.events(last_event_id=welcome["id"], until="كيف يمكننا خدمتك")
    messages = [e for e in later if e["event"] == "message"]
    # Only what came after the page's last message; my press shows with its label.
    assert all(e["id"] > welcome["id"] for e in messages)
    assert messages[0] == {**messages[0], "from": "me", "text": "✅ أوافق"}
    assert messages[-1]["lang"] == "ar"  # the conversation's language, once there is one
    # The hostile text goes back as JSON text, and never into the page's HTML.
    assert visitor.send(text=HOSTILE).status_code == 202
    echoed = visitor.events(after=messages[-1]["id"], seconds=3)
    assert any(e.get("text") == HOSTILE and e["from"] == "me" for e in echoed)
    assert HOSTILE not in visitor.http.get("/chat/").text
    stored = [r for r in web_rows(server.db) if r.payload.get("text") == HOSTILE]
    assert len(stored) == 1 and len(stored[0].chat_id) == 40  # a hash, not the cookie
    assert stored[0].chat_id != visitor.http.cookies["wasl_chat"]


def test_bad_input_gets_a_clear_message_and_the_conversation_stays(server, visitor):
    visitor.send(start=True)
    welcome = visitor.events(until="هل تتم الموافقة")[-1]
    cases = [
        (dict(content=b"{not json", headers={"Content-Type": "application/json"}), 400,
         "تعذّرت قراءة هذه الرسالة"),
        (dict(json={"text": "   "}), 400, "نرجو كتابة رسالة أولًا"),
        (dict(json={"text": "ا" * 4001}), 413, "هذه الرسالة طويلة جدًا"),
        (dict(content=b'{"text": "' + b"a" * 20_000 + b'"}',
              headers={"Content-Type": "application/json"}), 413, "هذه الرسالة طويلة جدًا"),
        (dict(json={"command": "drop_tables"}), 400, "تعذّرت قراءة هذه الرسالة"),
        (dict(json=["text"]), 400, "تعذّرت قراءة هذه الرسالة"),
        (dict(json={"text": "\x00"}), 400, "تعذّرت قراءة هذه الرسالة"),
    ]
    for request, status, words in cases:
        headers = {**visitor.origin, **request.pop("headers", {})}
        response = visitor.http.post("/chat/api/message", headers=headers, **request)
        assert response.status_code == status and words in response.json()["error"], request
    # Still at the consent question: pressing "agree" goes on as if nothing had happened.
    visitor.send(choice=welcome["choices"][0]["id"])
    visitor.events(after=welcome["id"], until="كيف يمكننا خدمتك")


def test_too_many_messages_from_one_browser_are_refused_politely(tmp_path):
    db = f"sqlite+aiosqlite:///{tmp_path}/w.db"
    with WebServer(db, tmp_path / "serve.log", WASL_WEB_MESSAGES_PER_MINUTE="4") as server:
        visitor = Visitor(server)
        codes = [visitor.send(text=f"مرحبا {n}").status_code for n in range(6)]
        assert codes == [202] * 4 + [429] * 2
        refused = visitor.send(text="مرحبا")
        assert "أرسلت رسائل كثيرة" in refused.json()["error"]
        # Another browser is not held back by this one.
        other = Visitor(server)
        assert other.send(start=True).status_code == 202
        assert [r.payload.get("text") for r in web_rows(db) if r.direction == "in"][:4] == [
            f"مرحبا {n}" for n in range(4)]


def test_a_file_over_the_limit_is_refused_unread_and_the_conversation_stays(tmp_path):
    profile = tmp_path / "small.yaml"
    original = (ROOT / "bot" / "profiles" / "bakkah.yaml").read_text(encoding="utf-8")
    assert "max_file_mb:" not in original
    profile.write_text(original + "\nmax_file_mb: 1\n", encoding="utf-8")
    db = f"sqlite+aiosqlite:///{tmp_path}/w.db"
    with WebServer(db, tmp_path / "serve.log", WASL_PROFILE=str(profile)) as server:
        visitor = Visitor(server)
        visitor.send(start=True)
        welcome = visitor.events(until="هل تتم الموافقة")[-1]
        big = b"\xff\xd8\xff" + os.urandom(1_300_000)
        response = visitor.http.post("/chat/api/file?name=هوية.jpg", content=big,
                                     headers={**visitor.origin, "Content-Type": "image/jpeg"})
        assert response.status_code == 413
        assert response.json()["error"] == "هذا الملف كبير جدًا: الحد الأقصى 1 ميجابايت."
        empty = visitor.http.post("/chat/api/file?name=a.jpg", content=b"", headers=visitor.origin)
        assert empty.status_code == 400
        # A small one is taken (the consent question then asks again), its path dropped.
        small = visitor.http.post("/chat/api/file?name=../../etc/هوية.jpg", content=big[:5000],
                                  headers={**visitor.origin, "Content-Type": "image/jpeg"})
        assert small.status_code == 202
        events = visitor.events(after=welcome["id"], until="هل تتم الموافقة")
        assert [e["file"] for e in events if e.get("file")] == [{"name": "هوية.jpg"}]
        visitor.send(choice="accept")
        visitor.events(after=welcome["id"], until="كيف يمكننا خدمتك")
    assert _read(db, select(m.Document)) == []  # nothing is kept before a question asks for it


def test_a_photo_announcement_reaches_the_web_chat_and_only_its_owner_can_open_it(server, visitor, tmp_path):
    visitor.send(start=True)
    welcome = visitor.events(until="هل تتم الموافقة")[-1]
    visitor.send(choice=welcome["choices"][0]["id"])
    visitor.events(after=welcome["id"], until="كيف يمكننا خدمتك")
    photo = tmp_path / "eid.png"
    from tests.e2e.web_page import id_card
    id_card(photo)
    note = tmp_path / "note.txt"
    note.write_text("توزيع السلال الغذائية يوم الخميس", encoding="utf-8")
    wasl("broadcast", "--text-file", str(note), "--attach", str(photo), "--yes", "--no-watch",
         db=server.db)
    got = visitor.events(after=welcome["id"], until="السلال الغذائية")[-1]
    assert got["announcement"] is True and got["file"]["name"] == "eid.png"
    assert got["file"]["mime"] == "image/png"
    url = "/chat/" + got["file"]["url"]
    mine = visitor.http.get(url)
    assert mine.status_code == 200 and mine.content == photo.read_bytes()
    assert mine.headers["content-type"] == "image/png" and mine.headers["x-content-type-options"] == "nosniff"
    stranger = Visitor(server)
    assert stranger.http.get(url).status_code == 404
    assert httpx.get(server.url + url).status_code == 403


def test_the_embed_snippet_adds_a_chat_button_pointing_here(server):
    script = httpx.get(f"{server.url}/chat/embed.js")
    assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")
    assert "للتواصل معنا" in script.text and "Chat with us" in script.text
    assert '"/chat/?embed=1"' in script.text and "/*CONFIG*/" not in script.text
    # Before it opens a frame, the snippet asks whether its site may show the chat; any site
    # may ask (it learns only about itself), and the answer is the CSP's frame-ancestors.
    for origin, allowed in [("https://assoc.example.org.sa", True), (server.url, True),
                            ("https://elsewhere.example", False), (None, False)]:
        asked = httpx.get(f"{server.url}/chat/api/embedding",
                          headers={"Origin": origin} if origin else {})
        assert asked.status_code == 200 and asked.json() == {"allowed": allowed}, origin
        assert asked.headers["access-control-allow-origin"] == "*"
        assert "set-cookie" not in asked.headers


def test_wasl_run_without_a_token_serves_the_web_chat_and_says_where(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("WASL_")}
    proc = subprocess.Popen([sys.executable, "-m", "bot", "run", "--port", str(port),
                             "--db", f"sqlite+aiosqlite:///{tmp_path}/w.db"], cwd=ROOT,
                            env={**env, "PYTHONUTF8": "1"}, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        first = proc.stdout.readline() if proc.stdout else ""
        assert f"http://127.0.0.1:{port}/chat" in first, first
        page = httpx.get(f"http://127.0.0.1:{port}/chat/", timeout=30)
        assert page.status_code == 200 and 'id="wasl-log"' in page.text
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def test_a_recording_sent_in_the_web_chat_is_a_voice_note_kept_for_a_researcher(server, visitor):
    visitor.send(start=True)
    welcome = visitor.events(until="هل تتم الموافقة")[-1]
    visitor.send(choice=welcome["choices"][0]["id"])
    menu = visitor.events(after=welcome["id"], until="كيف يمكننا خدمتك")[-1]
    sent = visitor.http.post("/chat/api/file?name=تسجيل.ogg", content=b"OggS\x00\x02" + b"1" * 900,
                             headers={**visitor.origin, "Content-Type": "audio/ogg"})
    assert sent.status_code == 202
    offer = visitor.events(after=menu["id"], until="وصلتنا رسالتك الصوتية")[-1]
    assert [c["id"] for c in offer["choices"]] == ["listen", "write"]
    kept = [d for d in _read(server.db, select(m.Document)) if d.field_key == "voice"]
    assert [(d.name, d.mime) for d in kept] == [("تسجيل.ogg", "audio/ogg")]
