"""The HTTP entry points under hostile or odd input, against a real `wasl serve` (and, for
the database being busy, the same app in this process): malformed but authenticated
webhooks, bodies too large to read, forged forwarding headers, made-up cookies, and the
503 that makes Telegram, WhatsApp and the page deliver again later."""

from __future__ import annotations

import contextlib
import json
import secrets
import socket
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from bot import i18n
from bot.channels.web.routes import NEW_CHATS
from bot.config import Settings
from bot.server import create_server
from storage.db import Unavailable
from tests.e2e.telegram_bot import SECRET
from tests.e2e.web_page import WebServer
from tests.fakes.telegram import TOKEN, FakeTelegram
from tests.fakes.whatsapp import FakeWhatsApp, dumps, signature

MB = 1024 * 1024
PRIVATE = "سرّ-خاص-٩٩"  # personal data in a malformed body: never in the log


def _platforms(graph: FakeWhatsApp, telegram: FakeTelegram) -> dict[str, str]:
    return dict(WASL_TELEGRAM_TOKEN=TOKEN, WASL_TELEGRAM_API_BASE=telegram.url,
                WASL_TELEGRAM_WEBHOOK_SECRET=SECRET, WASL_TELEGRAM_CHAT_INTERVAL="0.05",
                WASL_WHATSAPP_API_BASE=graph.url, WASL_WHATSAPP_API_VERSION=graph.version,
                WASL_WHATSAPP_PHONE_NUMBER_ID=graph.phone_number_id,
                WASL_WHATSAPP_ACCESS_TOKEN=graph.token, WASL_WHATSAPP_APP_SECRET=graph.app_secret,
                WASL_OUTBOX_BACKOFF="0.2")


@pytest.fixture(scope="module")
def server(graph, telegram, tmp_path_factory) -> Iterator[WebServer]:
    tmp = tmp_path_factory.mktemp("hardening")
    with WebServer(f"sqlite:///{tmp}/wasl.db", tmp / "serve.log",
                   **_platforms(graph, telegram)) as running:
        graph.webhook_url = f"{running.url}/webhooks/whatsapp"
        yield running


def _telegram_post(server: WebServer, content: bytes) -> httpx.Response:
    return httpx.post(f"{server.url}/webhooks/telegram", content=content, timeout=30,
                      headers={"X-Telegram-Bot-Api-Secret-Token": SECRET,
                               "Content-Type": "application/json"})


def _signed_post(server: WebServer, graph: FakeWhatsApp, payload: object) -> httpx.Response:
    body = dumps(payload)  # type: ignore[arg-type]
    return httpx.post(f"{server.url}/webhooks/whatsapp", content=body, timeout=30,
                      headers={"X-Hub-Signature-256": signature(body, graph.app_secret),
                               "Content-Type": "application/json"})


def _wait(predicate, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


# 7. Malformed but authenticated webhooks -------------------------------------------------

def test_malformed_telegram_updates_with_the_right_secret_never_get_500(server, telegram):
    private = {"id": 777001, "type": "private"}
    sender = {"id": 777001, "is_bot": False, "first_name": PRIVATE}
    bodies: list[object] = [
        [1, 2, 3], None, "x", 5, {}, {"update_id": 1},
        {"update_id": 2, "message": {"text": PRIVATE}},  # no chat, no from
        {"update_id": 3, "message": {"message_id": 1, "date": 1, "chat": private, "text": PRIVATE}},
        {"update_id": 4, "message": "abc"}, {"update_id": "z", "message": {}},
        {"update_id": 5, "message": {"message_id": 1, "date": 1, "chat": "abc", "from": sender,
                                     "text": PRIVATE}},
        {"update_id": 6, "message": {"message_id": 1, "date": 1, "chat": private, "from": "abc",
                                     "text": PRIVATE}},
        {"update_id": 7, "callback_query": {"id": "1", "data": "c:x", "chat_instance": "1"}},
        {"update_id": 8, "callback_query": {"id": "1", "data": "c:x", "chat_instance": "1",
                                            "from": sender, "message": "abc"}},
        {"update_id": 9, "message": {"message_id": 1, "date": 1, "chat": private, "from": sender,
                                     "photo": [1, "x", None]}},
        {"update_id": 10, "message": {"message_id": 1, "date": 1, "chat": private,
                                      "from": sender, "document": {"file_size": "big"}}},
    ]
    for body in bodies:
        response = _telegram_post(server, json.dumps(body).encode())
        assert response.status_code in (200, 400), (body, response.status_code, response.text)
    assert _telegram_post(server, b"{not json").status_code == 400
    # Still working: a real update is answered.
    update = telegram.text_update(777002, "/start")
    assert _telegram_post(server, json.dumps(update).encode()).status_code == 200
    _wait(lambda: telegram.sent_to(777002))
    log = server.log.read_text()
    assert "Traceback" not in log and PRIVATE not in log
    assert "malformed Telegram update" in log


def test_malformed_signed_whatsapp_payloads_get_200_and_the_readable_rest_is_handled(server, graph):
    value = {"messaging_product": "whatsapp",
             "metadata": {"display_phone_number": graph.display_phone_number,
                          "phone_number_id": graph.phone_number_id}}

    def wrap(**fields: object) -> dict:
        return {"object": "whatsapp_business_account",
                "entry": [{"id": "1", "changes": [{"field": "messages", "value": {**value, **fields}}]}]}

    hostile: list[object] = [
        {"entry": ["x"]}, {"entry": "abc"}, {"entry": [{"changes": "abc"}]},
        {"entry": [{"changes": ["x", 1, None]}]}, {"entry": [{"changes": [{"field": "messages",
                                                                            "value": "abc"}]}]},
        wrap(metadata="abc"), wrap(messages=["x"]), wrap(messages="abc"), wrap(statuses="abc"),
        wrap(statuses=[{"id": "wamid.x", "status": "failed", "errors": 5, "timestamp": "9" * 40}]),
        wrap(messages=[{"type": "text", "text": {"body": PRIVATE}}]),  # no from, no id
        wrap(messages=[{"from": {"a": 1}, "id": ["x"], "type": "text", "text": PRIVATE}]),
        wrap(messages=[{"from": "966500", "id": "wamid.t", "timestamp": "9" * 30, "type": "text",
                        "text": "abc"}]),
        wrap(messages=[{"from": "966500", "id": "wamid.i", "type": "interactive",
                        "interactive": {"type": ["x"]}}]),
        wrap(messages=[{"from": "966500", "id": "wamid.c", "type": "contacts", "contacts": "x"}]),
        wrap(messages=[{"from": "966500", "id": "wamid.c2", "type": "contacts",
                        "contacts": [{"phones": ["x", 1]}]}]),
        wrap(messages=[{"from": "966500", "id": "wamid.l", "type": "location", "location": "x"}]),
        wrap(messages=[{"from": "966500", "id": "wamid.m", "type": "image", "image": "x"}]),
        wrap(messages=[{"from": "9" * 200, "id": "wamid.long", "type": "text", "text": {"body": "x"}}]),
        [1, 2, 3], None, "x",
    ]
    for payload in hostile:
        response = _signed_post(server, graph, payload)
        assert response.status_code in (200, 400), (payload, response.status_code, response.text)
        if isinstance(payload, dict):
            assert response.status_code == 200, (payload, response.text)
    # An unreadable message does not take the readable one beside it down with it.
    good = graph.text_message("966511223344", "السلام عليكم")
    messages = good["entry"][0]["changes"][0]["value"]["messages"]
    good["entry"][0]["changes"][0]["value"]["messages"] = ["x", {"type": "text"}, *messages]
    assert _signed_post(server, graph, good).status_code == 200
    _wait(lambda: graph.sent_to("966511223344"))
    log = server.log.read_text()
    assert "Traceback" not in log and PRIVATE not in log


# 8. Bodies too large are refused before they are read -------------------------------------

def _raw(port: int, head: str, chunks: Iterable[bytes] = (), wait: float = 10) -> bytes:
    """Send a request by hand (headers, then `chunks` as they come) and return what the
    server answered, even if it answered (and closed) before the body was all sent."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as sock:
        sock.sendall(head.encode("latin-1"))
        sock.setblocking(False)
        answer = b""
        for chunk in chunks:
            with contextlib.suppress(BlockingIOError):
                answer += sock.recv(65536)
            if answer:
                break
            try:
                sock.setblocking(True)
                sock.sendall(chunk)
                sock.setblocking(False)
            except (BrokenPipeError, ConnectionResetError):
                break
        sock.setblocking(True)
        sock.settimeout(wait)
        try:
            while b"\r\n\r\n" not in answer:
                got = sock.recv(65536)
                if not got:
                    break
                answer += got
        except (TimeoutError, ConnectionResetError):
            pass
        return answer


def _status(answer: bytes) -> int:
    assert answer.startswith(b"HTTP/1.1 "), answer[:200]
    return int(answer[9:12])


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def _chunked(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    piece = b"a" * size
    for _ in range(total // size):
        yield f"{size:x}\r\n".encode() + piece + b"\r\n"
    yield b"0\r\n\r\n"


ROUTES = [  # path, extra headers: each authenticated or from the page as far as it can be
    ("/webhooks/telegram", f"X-Telegram-Bot-Api-Secret-Token: {SECRET}\r\n"),
    ("/webhooks/whatsapp", ""),  # unsigned: refused unread all the same
    ("/webhooks/whatsapp", "X-Hub-Signature-256: sha256=" + "0" * 64 + "\r\n"),
]


def _web_headers(server: WebServer) -> str:
    token = httpx.get(f"{server.url}/chat/").cookies["wasl_chat"]
    return f"Origin: {server.url}\r\nCookie: wasl_chat={token}\r\n"


def _post_head(server: WebServer, route: int, length: str) -> str:
    """The head of a POST to a webhook (ROUTES) or, past them, to the web chat's message
    and file routes, with how its body's length is given."""
    if route < len(ROUTES):
        path, extra = ROUTES[route]
    else:
        path = "/chat/api/message" if route == len(ROUTES) else "/chat/api/file?name=a.jpg"
        extra = _web_headers(server)
    return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n{extra}"
            f"Content-Type: application/json\r\n{length}\r\n\r\n")


@pytest.mark.parametrize("route", range(len(ROUTES) + 2))
def test_a_huge_declared_body_is_refused_at_once_without_being_read(server, route):
    head = _post_head(server, route, f"Content-Length: {64 * MB}")
    started = time.monotonic()
    answer = _raw(server.port, head)  # nothing of the body is ever sent
    assert _status(answer) == 413, answer[:300]
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("route", range(len(ROUTES) + 2))
def test_a_chunked_body_without_a_length_is_cut_off_and_memory_stays_flat(server, route):
    head = _post_head(server, route, "Transfer-Encoding: chunked")
    assert server.proc is not None
    before = _rss_kb(server.proc.pid)
    answer = _raw(server.port, head, _chunked(64 * MB))
    grown = _rss_kb(server.proc.pid) - before
    # refused as too large once it passes the limit; without a signature, before a byte is read
    assert _status(answer) == (401 if route == 1 else 413), answer[:300]
    assert grown < 30 * 1024, f"the server grew by {grown} kB"
    assert httpx.get(f"{server.url}/healthz").status_code == 200


# 9. Forwarded headers and made-up cookies ---------------------------------------------------

@contextlib.contextmanager
def _visitor(server: WebServer, lang: str = "ar-SA,ar;q=0.9",
             token: str | None = None, **headers: str) -> Iterator[httpx.Client]:
    """A browser: the cookie of its first visit, or a made-up one (`token`)."""
    with httpx.Client(base_url=server.url, timeout=30,
                      headers={"Accept-Language": lang, "Origin": server.url, **headers}) as http:
        if token is None:
            assert http.get("/chat/").status_code == 200
        else:
            http.cookies.set("wasl_chat", token, domain="127.0.0.1", path="/chat")
        yield http


def test_x_forwarded_for_from_a_client_does_not_lift_the_per_address_limit(tmp_path):
    with WebServer(f"sqlite+aiosqlite:///{tmp_path}/w.db", tmp_path / "serve.log",
                   WASL_WEB_IP_MESSAGES_PER_MINUTE="3") as server:
        codes = []
        for n in range(5):
            with _visitor(server, **{"X-Forwarded-For": f"10.9.8.{n}"}) as http:
                codes.append(http.post("/chat/api/message", json={"text": f"مرحبا {n}"}).status_code)
        assert codes == [202] * 3 + [429] * 2
        # Nor does X-Forwarded-Proto make a plain-HTTP visit look like HTTPS.
        page = httpx.get(f"{server.url}/chat/", headers={"X-Forwarded-Proto": "https"})
        assert "Secure" not in page.headers["set-cookie"]
        log = server.log.read_text()
        assert "too many messages from addr:" in log  # a tag: an address is personal data
        assert "127.0.0.1" not in log.split("to quit)")[-1] and "10.9.8." not in log


def test_a_configured_proxy_is_trusted_for_the_visitors_address(tmp_path):
    with WebServer(f"sqlite+aiosqlite:///{tmp_path}/w.db", tmp_path / "serve.log",
                   WASL_WEB_IP_MESSAGES_PER_MINUTE="2",
                   WASL_TRUSTED_PROXIES="127.0.0.1, ::1") as server:
        codes = []
        for n in range(3):  # three visitors behind the proxy, each from an address of their own
            with _visitor(server, **{"X-Forwarded-For": f"10.9.8.{n}"}) as http:
                codes += [http.post("/chat/api/message", json={"text": f"مرحبا {k}"}).status_code
                          for k in range(3)]
        assert codes == [202, 202, 429] * 3
        log = server.log.read_text()
        assert log.count("too many messages from addr:") == 3 and "10.9.8." not in log
        page = httpx.get(f"{server.url}/chat/", headers={"X-Forwarded-Proto": "https"})
        assert "Secure" in page.headers["set-cookie"]


def test_made_up_cookies_cannot_start_new_chats_without_end(tmp_path):
    with WebServer(f"sqlite+aiosqlite:///{tmp_path}/w.db", tmp_path / "serve.log",
                   WASL_WEB_NEW_CHATS_PER_HOUR="3") as server:
        known = httpx.Client(base_url=server.url, timeout=30, headers={"Origin": server.url})
        assert known.get("/chat/").status_code == 200
        assert known.post("/chat/api/message", json={"start": True}).status_code == 202
        codes = []
        for _ in range(3):
            with _visitor(server, token=secrets.token_urlsafe(32)) as http:
                codes.append(http.post("/chat/api/message", json={"start": True}).status_code)
        assert codes == [202, 202, 429]
        with _visitor(server, token=secrets.token_urlsafe(32)) as http:
            refused = http.post("/chat/api/message", json={"start": True})
            assert refused.status_code == 429
            assert refused.json()["error"] == i18n.load_translations()["ar"].gettext(NEW_CHATS)
            upload = http.post("/chat/api/file?name=a.png", content=b"\x89PNG\r\n\x1a\n" * 10)
            assert upload.status_code == 429
        with _visitor(server, "en-GB,en;q=0.9", token=secrets.token_urlsafe(32)) as http:
            refused = http.post("/chat/api/message", json={"start": True})
            assert refused.status_code == 429 and refused.json()["error"] == NEW_CHATS
        # A chat that already exists goes on as before.
        assert known.post("/chat/api/message", json={"text": "مرحبا"}).status_code == 202
        known.close()


# The database busy: 503, so the platform or the page delivers again ------------------------

@pytest.fixture
def busy(graph, telegram, tmp_path, monkeypatch) -> Iterator[tuple[httpx.Client, list[bool]]]:
    """The real app (`create_server`, served by uvicorn in a thread of this process), whose
    router cannot commit while busy[0] is True."""
    for key, value in _platforms(graph, telegram).items():
        monkeypatch.setenv(key, value)
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/w.db", profile="bakkah")
    app = create_server(settings)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           proxy_headers=False, timeout_graceful_shutdown=1))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    _wait(lambda: server.started or not thread.is_alive())
    assert server.started
    state = [True]
    router = app.state.web.app.router
    real = router.handle

    async def handle(*args, **kwargs):
        if state[0]:
            raise Unavailable("database is locked")
        return await real(*args, **kwargs)

    router.handle = handle
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            yield client, state
    finally:
        server.should_exit = True
        thread.join(10)


def test_a_busy_database_answers_503_on_every_entry_point_and_the_retry_is_handled(
        busy, telegram, graph, tmp_path):
    client, state = busy
    update = telegram.text_update(778001, "/start")
    tg = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    assert client.post("/webhooks/telegram", json=update, headers=tg).status_code == 503

    payload = graph.text_message("966522334455", "السلام عليكم")
    body = dumps(payload)
    wa = {"X-Hub-Signature-256": signature(body, graph.app_secret)}
    assert client.post("/webhooks/whatsapp", content=body, headers=wa).status_code == 503

    page = client.get("/chat/", headers={"Accept-Language": "ar"})
    origin = {"Origin": str(client.base_url).rstrip("/")}
    said = client.post("/chat/api/message", json={"text": "مرحبا"}, headers=origin)
    assert said.status_code == 503 and "لم تُرسل رسالتك" in said.json()["error"], said.text
    sent = client.post("/chat/api/file?name=a.png", content=b"\x89PNG\r\n\x1a\n" * 10,
                       headers={**origin, "Content-Type": "image/png"})
    assert sent.status_code == 503 and "لم تُرسل رسالتك" in sent.json()["error"]
    assert page.status_code == 200
    # What was refused is not left in the transcript: the page sends it again.
    with contextlib.closing(sqlite3.connect(tmp_path / "w.db")) as db:
        assert db.execute("SELECT count(*) FROM web_messages").fetchone() == (0,)

    state[0] = False  # the database is free again: each delivery is handled once
    assert client.post("/webhooks/telegram", json=update, headers=tg).status_code == 200
    assert client.post("/webhooks/whatsapp", content=body, headers=wa).status_code == 200
    assert client.post("/chat/api/message", json={"text": "مرحبا"}, headers=origin).status_code == 202
    _wait(lambda: telegram.sent_to(778001) and graph.sent_to("966522334455"))
