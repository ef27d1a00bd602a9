"""Tests of the WhatsApp Cloud API fake itself: that it answers with Meta's shapes and errors,
and that its webhooks are built and signed as Meta's are (tests/fakes/whatsapp.py)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from tests.fakes.whatsapp import ERRORS, FakeWhatsApp, dumps, signature

USER = "966512345678"
OTHER = "966598765432"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeWhatsApp]:
    server = FakeWhatsApp().start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _clean(fake: FakeWhatsApp) -> None:
    with fake.cond:
        fake.calls.clear()
        fake.faults.clear()
        fake.templates.clear()
        fake.deliveries.clear()


@pytest.fixture
def graph(fake: FakeWhatsApp) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fake.graph, headers={"Authorization": f"Bearer {fake.token}"},
                      timeout=10) as client:
        yield client


def text(to: str = USER, body: str = "السلام عليكم", **extra: Any) -> dict[str, Any]:
    return {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to,
            "type": "text", "text": {"body": body}, **extra}


def buttons(*titles: str, body: str = "اختر") -> dict[str, Any]:
    return {"messaging_product": "whatsapp", "to": USER, "type": "interactive", "interactive": {
        "type": "button", "body": {"text": body}, "action": {"buttons": [
            {"type": "reply", "reply": {"id": f"b{i}", "title": t}} for i, t in enumerate(titles)]}}}


def rows(*titles: str, description: str = "وصف") -> dict[str, Any]:
    return {"messaging_product": "whatsapp", "to": USER, "type": "interactive", "interactive": {
        "type": "list", "body": {"text": "القائمة"}, "action": {"button": "الخيارات", "sections": [
            {"title": "القسم", "rows": [{"id": f"r{i}", "title": t, "description": description}
                                        for i, t in enumerate(titles)]}]}}}


def send(graph: httpx.Client, fake: FakeWhatsApp, body: dict[str, Any]) -> httpx.Response:
    return graph.post(f"/{fake.phone_number_id}/messages", json=body)


def assert_meta_error(response: httpx.Response, status: int, code: int) -> dict[str, Any]:
    """Meta's error body (support/error-codes, "Error response syntax")."""
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "code", "error_data", "fbtrace_id"}
    assert error["type"] == "OAuthException" and error["code"] == code
    assert error["message"].startswith(f"(#{code}) ")
    assert error["error_data"]["messaging_product"] == "whatsapp"
    assert isinstance(error["error_data"]["details"], str) and error["error_data"]["details"]
    assert isinstance(error["fbtrace_id"], str) and error["fbtrace_id"]
    return error


# -- sending ---------------------------------------------------------------------------


def test_text_send_answers_metas_success_shape_and_is_recorded(fake, graph) -> None:
    response = send(graph, fake, text(to="+" + USER))
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"messaging_product", "contacts", "messages"}
    assert body["messaging_product"] == "whatsapp"
    assert body["contacts"] == [{"input": "+" + USER, "wa_id": USER}]
    (message,) = body["messages"]
    assert set(message) == {"id"} and message["id"].startswith("wamid.")
    assert fake.sent_to(USER) == [text(to="+" + USER)]
    assert fake.last_message_id(USER) == message["id"]
    (call,) = fake.called("/messages")
    assert call.method == "POST" and call.status == 200 and call.response == body
    assert call.path == f"/{fake.version}/{fake.phone_number_id}/messages"


def test_message_ids_are_unique(fake, graph) -> None:
    ids = {send(graph, fake, text()).json()["messages"][0]["id"] for _ in range(5)}
    assert len(ids) == 5


def test_type_defaults_to_text_and_limits_count_characters(fake, graph) -> None:
    body = text(body="ع" * 4096)  # 4096 Arabic letters: 8192 bytes, still within the limit
    del body["type"]
    assert send(graph, fake, body).status_code == 200


VALID = [
    buttons("نعم", "لا", "ربما"),
    buttons("ت" * 20, body="ن" * 1024),
    rows(*[f"خيار {i}" for i in range(10)]),
    rows("ص" * 24, description="و" * 72),
    {"messaging_product": "whatsapp", "to": USER, "type": "interactive", "interactive": {
        "type": "list", "body": {"text": "ن" * 4096}, "action": {"button": "ز" * 20, "sections": [
            {"title": "أ", "rows": [{"id": "a", "title": "أ"}]},
            {"title": "ب", "rows": [{"id": "b", "title": "ب"}]}]}}},
    {"messaging_product": "whatsapp", "to": USER, "type": "image",
     "image": {"link": "https://example.org/a.png", "caption": "ص" * 1024}},
    {"messaging_product": "whatsapp", "to": USER, "type": "template", "template": {
        "name": "reminder", "language": {"code": "ar"}, "components": [
            {"type": "body", "parameters": [{"type": "text", "text": "فاطمة"}]}]}},
]


@pytest.mark.parametrize("body", VALID)
def test_valid_sends_are_accepted(fake, graph, body) -> None:
    assert send(graph, fake, body).status_code == 200


INVALID = [
    ("4 buttons", buttons("أ", "ب", "ج", "د"), 131009, "Invalid buttons count"),
    ("no buttons", buttons(), 131009, "Invalid buttons count"),
    ("21-char button title", buttons("ت" * 21), 131009,
     "Button title length invalid. Min length: 1, Max length: 20"),
    ("duplicate button titles", buttons("نعم", "نعم"), 131009, "Button title must be unique"),
    ("1025-char button body", buttons("نعم", body="ن" * 1025), 131009, "Body text length invalid"),
    ("11-row list", rows(*[f"خيار {i}" for i in range(11)]), 131009,
     "Total row count exceed max allowed count: 10"),
    ("25-char row title", rows("ص" * 25), 131009,
     "Row title length invalid. Min length: 1, Max length: 24"),
    ("73-char row description", rows("ص", description="و" * 73), 131009,
     "Row description length invalid"),
    ("missing messaging_product", {k: v for k, v in text().items() if k != "messaging_product"},
     100, "The parameter messaging_product is required."),
    ("missing to", {k: v for k, v in text().items() if k != "to"}, 100, "The parameter to is required."),
    ("4097-char text", text(body="ع" * 4097), 100,
     "Param text['body'] must be at most 4096 characters long."),
    ("unknown type", {**text(), "type": "fax"}, 100, "Param type must be one of"),
    ("1025-char caption", {"messaging_product": "whatsapp", "to": USER, "type": "image",
                           "image": {"link": "https://example.org/a.png", "caption": "ص" * 1025}},
     100, "Param image['caption'] must be at most 1024 characters long."),
    ("unknown media id", {"messaging_product": "whatsapp", "to": USER, "type": "document",
                          "document": {"id": "999", "filename": "a.pdf"}}, 131009,
     "Invalid media attachment ID"),
    ("template without language", {"messaging_product": "whatsapp", "to": USER, "type": "template",
                                   "template": {"name": "reminder"}}, 100,
     "The parameter template['language']['code'] is required."),
]


@pytest.mark.parametrize(("body", "code", "rule"), [case[1:] for case in INVALID],
                         ids=[case[0] for case in INVALID])
def test_each_rule_gets_400_with_metas_error_body(fake, graph, body, code, rule) -> None:
    error = assert_meta_error(send(graph, fake, body), 400, code)
    assert rule in error["error_data"]["details"]
    if code == 100:  # Graph's parameter errors carry the rule in `message` too
        assert error["message"] == f"(#100) {error['error_data']['details']}"
    else:
        assert error["message"] == f"(#{code}) {ERRORS[code].title}"
    assert fake.sent_to(USER) == []
    assert fake.called("/messages")[-1].status == 400


@pytest.mark.parametrize("header", [{"Authorization": "Bearer wrong"}, {}])
def test_bad_or_missing_token_is_401_oauth_190(fake, header) -> None:
    response = httpx.post(f"{fake.graph}/{fake.phone_number_id}/messages", json=text(),
                          headers=header)
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["type"] == "OAuthException" and error["code"] == 190
    assert error["message"] == "Invalid OAuth access token - Cannot parse access token"
    assert fake.sent_to(USER) == [] and fake.called("/messages")[-1].status == 401


def test_unknown_phone_number_id_is_graphs_unknown_object(fake, graph) -> None:
    response = graph.post("/111/messages", json=text())
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == 100 and error["error_subcode"] == 33
    assert "Object with ID '111' does not exist" in error["message"]


@pytest.mark.parametrize(("code", "status"), [(130429, 429), (131056, 429), (80007, 429),
                                              (131047, 400), (131026, 400), (131000, 500),
                                              (100, 400)])
def test_injected_error_answers_its_body_then_the_next_send_succeeds(fake, graph, code,
                                                                     status) -> None:
    fake.fail(code)
    error = assert_meta_error(send(graph, fake, text()), status, code)
    assert error["message"] == f"(#{code}) {ERRORS[code].title}"
    assert error["error_data"]["details"] == ERRORS[code].details
    assert send(graph, fake, text()).status_code == 200
    assert len(fake.sent_to(USER)) == 1  # the refused send is not a delivery


def test_documented_error_texts() -> None:
    assert ERRORS[130429].title == "Rate limit hit"
    assert ERRORS[130429].details == "Cloud API message throughput has been reached."
    assert ERRORS[131056].title == "(Business Account, Consumer Account) pair rate limit hit"
    assert ERRORS[131047].title == "Re-engagement message"
    assert "24 hours" in ERRORS[131047].details


def test_fault_only_for_one_recipient_times_and_status(fake, graph) -> None:
    fake.fail(131047, times=2, to="+" + USER, status=400)
    assert send(graph, fake, text(to=OTHER)).status_code == 200
    assert_meta_error(send(graph, fake, text()), 400, 131047)
    assert_meta_error(send(graph, fake, text()), 400, 131047)
    assert send(graph, fake, text()).status_code == 200
    fake.fail(130429, status=400)  # a channel must read `code`, not the HTTP status
    assert_meta_error(send(graph, fake, text()), 400, 130429)


def test_an_invalid_send_does_not_use_up_a_fault(fake, graph) -> None:
    fake.fail(131000)
    assert_meta_error(send(graph, fake, text(body="")), 400, 100)
    assert_meta_error(send(graph, fake, text()), 500, 131000)


def test_fail_refuses_a_code_without_a_known_body(fake) -> None:
    with pytest.raises(ValueError):
        fake.fail(999)


def test_template_send_is_accepted_and_registered_templates_are_checked(fake, graph) -> None:
    template = VALID[-1]
    message = send(graph, fake, template).json()["messages"][0]
    assert message["message_status"] == "accepted"
    fake.add_template("reminder", "ar", body_params=2)
    error = assert_meta_error(send(graph, fake, template), 400, 132000)
    assert "number of localizable_params (1)" in error["error_data"]["details"]
    other = json.loads(json.dumps(template))
    other["template"]["name"] = "nope"
    assert_meta_error(send(graph, fake, other), 404, 132001)


def test_read_receipt_is_answered_and_is_not_a_delivery(fake, graph) -> None:
    response = send(graph, fake, {"messaging_product": "whatsapp", "status": "read",
                                  "message_id": "wamid.X"})
    assert response.json() == {"success": True}
    assert fake.sent_to(USER) == []


def test_wait_sees_a_send_from_another_thread(fake, graph) -> None:
    threading.Timer(0.1, lambda: send(graph, fake, text(body="لاحقاً"))).start()
    fake.wait(lambda: len(fake.sent_to(USER)) == 1, timeout=5)
    with pytest.raises(TimeoutError):
        fake.wait(lambda: False, timeout=0.05)


# -- media ---------------------------------------------------------------------------


def test_upload_then_metadata_then_download_round_trips_the_bytes(fake, graph) -> None:
    content = b"%PDF-1.4 report " + bytes(range(256))
    response = graph.post(f"/{fake.phone_number_id}/media",
                          data={"messaging_product": "whatsapp", "type": "application/pdf"},
                          files={"file": ("report.pdf", content, "application/pdf")})
    assert response.status_code == 200
    (media_id,) = response.json().values()
    assert set(response.json()) == {"id"} and media_id.isdigit()

    meta = graph.get(f"/{media_id}").json()
    assert set(meta) == {"messaging_product", "url", "mime_type", "sha256", "file_size", "id"}
    assert meta["messaging_product"] == "whatsapp" and meta["id"] == media_id
    assert meta["mime_type"] == "application/pdf" and meta["file_size"] == len(content)
    assert meta["sha256"] == hashlib.sha256(content).hexdigest()
    assert meta["url"].startswith(fake.url + "/whatsapp_business/attachments/?mid=" + media_id)

    download = httpx.get(meta["url"], headers={"Authorization": f"Bearer {fake.token}"})
    assert download.status_code == 200 and download.content == content
    assert download.headers["content-type"].startswith("application/pdf")
    assert httpx.get(meta["url"]).status_code == 401
    assert httpx.get(meta["url"], headers={"Authorization": "Bearer wrong"}).status_code == 401
    fake.expire_media_urls()
    expired = httpx.get(meta["url"], headers={"Authorization": f"Bearer {fake.token}"})
    assert expired.status_code == 404

    # the uploaded file can be sent, and the test can read what was sent
    sent = send(graph, fake, {"messaging_product": "whatsapp", "to": USER, "type": "document",
                              "document": {"id": media_id, "filename": "report.pdf"}})
    assert sent.status_code == 200
    assert fake.media[fake.sent_to(USER)[-1]["document"]["id"]].content == content


def test_upload_checks_its_fields(fake, graph) -> None:
    path = f"/{fake.phone_number_id}/media"
    no_product = graph.post(path, files={"file": ("a.png", b"png", "image/png")})
    assert_meta_error(no_product, 400, 100)
    no_file = graph.post(path, data={"messaging_product": "whatsapp"})
    assert "The parameter file is required." in assert_meta_error(no_file, 400, 100)["message"]
    wrong = graph.post(path, data={"messaging_product": "whatsapp"},
                       files={"file": ("a.exe", b"MZ", "application/x-msdownload")})
    assert "Received file of type" in assert_meta_error(wrong, 400, 100)["error_data"]["details"]


def test_a_users_file_by_media_id_and_unknown_ids(fake, graph) -> None:
    media_id = fake.add_media(b"\xff\xd8\xff photo", "image/jpeg")
    meta = graph.get(f"/{media_id}", params={"phone_number_id": fake.phone_number_id}).json()
    download = httpx.get(meta["url"], headers={"Authorization": f"Bearer {fake.token}"})
    assert download.content == b"\xff\xd8\xff photo"
    assert download.headers["content-type"] == "image/jpeg"
    missing = graph.get("/123")
    assert missing.status_code == 400
    error = missing.json()["error"]
    assert error["code"] == 100 and error["error_subcode"] == 33
    assert httpx.get(f"{fake.graph}/{media_id}").status_code == 401
    assert graph.delete(f"/{media_id}").json() == {"success": True}
    assert graph.get(f"/{media_id}").status_code == 400


# -- webhooks ----------------------------------------------------------------------------


class Receiver:
    """A stand-in for the app's webhook endpoint: keeps the raw bodies and headers, checks
    the signature on the raw bytes and answers the verification handshake."""

    def __init__(self, secret: str, verify_token: str = "verify-me") -> None:
        self.secret, self.verify_token = secret, verify_token
        self.received: list[tuple[bytes, dict[str, str], bool]] = []
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        app = Starlette(routes=[Route("/webhooks/whatsapp", self._hook, methods=["GET", "POST"])])
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
        threading.Thread(target=self.server.run, kwargs={"sockets": [sock]}, daemon=True).start()
        deadline = time.monotonic() + 10
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.02)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/webhooks/whatsapp"

    async def _hook(self, request: Request) -> Response:
        if request.method == "GET":
            q = request.query_params
            if q.get("hub.mode") == "subscribe" and q.get("hub.verify_token") == self.verify_token:
                return PlainTextResponse(q["hub.challenge"])
            return Response(status_code=403)
        raw = await request.body()
        expected = "sha256=" + hmac.new(self.secret.encode(), raw, hashlib.sha256).hexdigest()
        ok = hmac.compare_digest(expected, request.headers.get("x-hub-signature-256", ""))
        self.received.append((raw, dict(request.headers), ok))
        return Response(status_code=200 if ok else 401)


@pytest.fixture(scope="module")
def receiver(fake: FakeWhatsApp) -> Iterator[Receiver]:
    app = Receiver(fake.app_secret)
    fake.webhook_url = app.url
    yield app
    app.server.should_exit = True


def value_of(payload: dict[str, Any]) -> dict[str, Any]:
    assert payload["object"] == "whatsapp_business_account"
    (entry,) = payload["entry"]
    (change,) = entry["changes"]
    assert change["field"] == "messages"
    return change["value"]


def the_message(fake: FakeWhatsApp, payload: dict[str, Any], wa_id: str = USER) -> dict[str, Any]:
    value = value_of(payload)
    assert value["messaging_product"] == "whatsapp"
    assert value["metadata"] == {"display_phone_number": fake.display_phone_number,
                                 "phone_number_id": fake.phone_number_id}
    (message,) = value["messages"]
    assert value["contacts"][0]["wa_id"] == wa_id
    assert message["from"] == wa_id and message["id"].startswith("wamid.")
    assert message["timestamp"].isdigit()
    return message


def test_signature_is_hmac_of_the_exact_posted_bytes(fake, receiver) -> None:
    payload = fake.text_message(USER, "مرحبا / أهلاً")
    response = fake.post(payload)
    assert response.status_code == 200
    raw, headers, ok = receiver.received[-1]
    assert ok
    assert raw == dumps(payload) == fake.deliveries[-1].body
    assert headers["x-hub-signature-256"] == signature(raw, fake.app_secret)
    assert headers["x-hub-signature"] == "sha1=" + hmac.new(
        fake.app_secret.encode(), raw, hashlib.sha1).hexdigest()
    assert headers["content-type"] == "application/json"
    # Meta signs the escaped-unicode payload: the Arabic name and text travel as \u escapes
    assert b"\\u0641\\u0627\\u0637\\u0645\\u0629" in raw and b"\\/" in raw
    assert raw.isascii() and json.loads(raw) == payload
    # re-serialising the parsed JSON gives other bytes, which a receiver must not hash
    again = json.dumps(json.loads(raw), ensure_ascii=False).encode()
    assert signature(again, fake.app_secret) != headers["x-hub-signature-256"]


def test_forged_missing_and_wrong_secret_signatures(fake, receiver) -> None:
    payload = fake.text_message(USER, "hi")
    assert fake.post(payload, signature=False).status_code == 401
    assert "x-hub-signature-256" not in receiver.received[-1][1]
    assert "x-hub-signature" not in receiver.received[-1][1]
    assert fake.post(payload, signature="sha256=" + "0" * 64).status_code == 401
    assert receiver.received[-1][1]["x-hub-signature-256"] == "sha256=" + "0" * 64
    assert fake.post(payload, secret="not-the-app-secret").status_code == 401
    assert [d.status for d in fake.deliveries] == [401, 401, 401]


async def test_apost_from_an_async_test(fake, receiver) -> None:
    response = await fake.apost(fake.text_message(USER, "async"))
    assert response.status_code == 200 and receiver.received[-1][2]


def test_verification_handshake(fake, receiver) -> None:
    ok = fake.verify("subscribe", "verify-me", "1158201444")
    assert ok.status_code == 200 and ok.text == "1158201444"
    assert fake.verify("subscribe", "wrong", "1").status_code == 403
    assert fake.verify("unsubscribe", "verify-me").status_code == 403


def test_text_message_matches_metas_example(fake) -> None:
    payload = fake.text_message(USER, "هل هو متاح؟", name="Sheena", timestamp=1749416383)
    value = value_of(payload)
    assert payload["entry"][0]["id"] == fake.waba_id
    assert value["contacts"] == [{"profile": {"name": "Sheena"}, "wa_id": USER}]
    message = the_message(fake, payload)
    assert list(message) == ["from", "id", "timestamp", "type", "text"]
    assert message["timestamp"] == "1749416383"
    assert message["type"] == "text" and message["text"] == {"body": "هل هو متاح؟"}
    assert value["contacts"][0]["profile"]["name"] == "Sheena"
    assert fake.text_message(USER, "x")["entry"][0]["changes"][0]["value"]["contacts"][0][
        "profile"]["name"] == "فاطمة"


def test_replies_carry_the_context_of_the_message_they_answer(fake, graph) -> None:
    sent = send(graph, fake, buttons("نعم", "لا")).json()["messages"][0]["id"]
    message = the_message(fake, fake.button_reply(USER, "b0", "نعم"))
    assert message["context"] == {"from": fake.display_phone_number, "id": sent}
    assert message["type"] == "interactive"
    assert message["interactive"] == {"type": "button_reply",
                                      "button_reply": {"id": "b0", "title": "نعم"}}
    message = the_message(fake, fake.list_reply(USER, "r1", "الثاني", "وصف", context_id="wamid.L"))
    assert message["context"]["id"] == "wamid.L"
    assert message["interactive"] == {"type": "list_reply", "list_reply": {
        "id": "r1", "title": "الثاني", "description": "وصف"}}
    assert "description" not in the_message(fake, fake.list_reply(USER, "r1", "x"))[
        "interactive"]["list_reply"]


def test_media_messages(fake) -> None:
    media_id = fake.add_media(b"jpeg bytes", "image/jpeg")
    image = the_message(fake, fake.image_message(USER, media_id, caption="صورة"))["image"]
    assert list(image) == ["caption", "mime_type", "sha256", "id", "url"]
    assert image["mime_type"] == "image/jpeg" and image["id"] == media_id
    assert base64.b64decode(image["sha256"]) == hashlib.sha256(b"jpeg bytes").digest()
    download = httpx.get(image["url"], headers={"Authorization": f"Bearer {fake.token}"})
    assert download.content == b"jpeg bytes"
    given = the_message(fake, fake.image_message(USER, "42", "image/png", "abc="))["image"]
    assert given["sha256"] == "abc=" and given["mime_type"] == "image/png" and "caption" not in given

    doc_id = fake.add_media(b"%PDF", "application/pdf", filename="id.pdf")
    message = the_message(fake, fake.document_message(USER, doc_id, caption="هويتي"))
    assert message["type"] == "document"
    document = message["document"]
    assert list(document) == ["caption", "filename", "mime_type", "sha256", "id", "url"]
    assert document["filename"] == "id.pdf" and document["mime_type"] == "application/pdf"

    audio = the_message(fake, fake.audio_message(USER, fake.add_media(b"OggS", "audio/ogg")))
    assert audio["type"] == "audio" and audio["audio"]["voice"] is True


def test_contacts_location_and_unsupported_messages(fake) -> None:
    message = the_message(fake, fake.contacts_message(USER, "+966 55 111 2222", "Nura Saad",
                                                      phone_wa_id="966551112222"))
    assert message["type"] == "contacts"
    assert message["contacts"] == [{"name": {"formatted_name": "Nura Saad", "first_name": "Nura"},
                                    "phones": [{"phone": "+966 55 111 2222",
                                                "wa_id": "966551112222", "type": "CELL"}]}]
    message = the_message(fake, fake.location_message(USER, 24.7136, 46.6753, "المكتب", "الرياض"))
    assert message["type"] == "location"
    assert message["location"] == {"address": "الرياض", "latitude": 24.7136,
                                   "longitude": 46.6753, "name": "المكتب"}
    assert the_message(fake, fake.location_message(USER, 1.5, 2.5))["location"] == {
        "latitude": 1.5, "longitude": 2.5}
    message = the_message(fake, fake.unsupported_message(USER, "edit"))
    assert message["type"] == "unsupported" and message["unsupported"] == {"type": "edit"}
    assert message["errors"] == [{"code": 131051, "title": "Message type unknown",
                                  "message": "Message type unknown",
                                  "error_data": {"details": "Message type is currently not supported."}}]


def test_status_updates(fake) -> None:
    value = value_of(fake.status_update("wamid.A", "+" + USER, "sent", timestamp=1750030073))
    assert "messages" not in value and "contacts" not in value
    (sent,) = value["statuses"]
    assert {k: sent[k] for k in ("id", "status", "timestamp", "recipient_id")} == {
        "id": "wamid.A", "status": "sent", "timestamp": "1750030073", "recipient_id": USER}
    assert sent["conversation"]["expiration_timestamp"] == str(1750030073 + 86400)
    assert sent["conversation"]["origin"] == {"type": "service"}
    assert sent["pricing"] == {"billable": False, "pricing_model": "PMP",
                               "type": "free_customer_service", "category": "service"}
    (read,) = value_of(fake.status_update("wamid.A", USER, "read"))["statuses"]
    assert set(read) == {"id", "status", "timestamp", "recipient_id"}
    (failed,) = value_of(fake.status_update("wamid.A", USER, "failed", errors=131047))["statuses"]
    (error,) = failed["errors"]
    assert error == {"code": 131047, "title": "Re-engagement message",
                     "message": "Re-engagement message",
                     "error_data": {"details": ERRORS[131047].details},
                     "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"}
    assert value_of(fake.status_update("wamid.A", USER, "failed"))["statuses"][0]["errors"][0][
        "code"] == 131026
    with pytest.raises(ValueError):
        fake.status_update("wamid.A", USER, "seen")


def test_status_without_conversation_from_v24() -> None:
    (sent,) = value_of(FakeWhatsApp(version="v24.0").status_update("wamid.A", USER, "sent"))[
        "statuses"]
    assert "conversation" not in sent and "pricing" in sent


def test_batched_webhook_and_post_many(fake, receiver) -> None:
    first = fake.text_message(USER, "واحد")
    second = fake.text_message(USER, "اثنان")
    third = fake.text_message(OTHER, "ثلاثة", name="نورة")
    status = fake.status_update("wamid.A", USER, "delivered")
    merged = fake.batch(first, second, third, status)
    value = value_of(merged)
    assert [c["wa_id"] for c in value["contacts"]] == [USER, OTHER]
    assert [m["text"]["body"] for m in value["messages"]] == ["واحد", "اثنان", "ثلاثة"]
    assert len({m["id"] for m in value["messages"]}) == 3
    assert value["statuses"][0]["status"] == "delivered"
    assert fake.post_many([first, second]).status_code == 200
    raw, _, ok = receiver.received[-1]
    assert ok and len(json.loads(raw)["entry"][0]["changes"][0]["value"]["messages"]) == 2


def test_post_without_webhook_url_is_refused() -> None:
    with pytest.raises(RuntimeError):
        FakeWhatsApp().post({})
