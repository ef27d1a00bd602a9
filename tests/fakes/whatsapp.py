"""A local fake of Meta's Graph API for the WhatsApp Cloud API, the test double for the
WhatsApp channel.

It serves what Wasl uses (send a message, upload media, look a media id up, download it)
with Meta's JSON shapes and error bodies, keeps every call, can inject Meta's real send
errors, and builds and posts signed webhooks to the app under test. It runs uvicorn in a
thread on 127.0.0.1, so the bot under test talks HTTP to it exactly as to
graph.facebook.com (point the channel's Graph base URL at `fake.url`).

Shapes follow Meta's pages under
https://developers.facebook.com/documentation/business-messaging/whatsapp/ (read in the
copies dated 2026-09-11):
- messages/text-messages, messages/interactive-reply-buttons-messages,
  messages/interactive-list-messages, messages/image-messages, messages/document-messages
  (request bodies, limits, the success response);
- templates/... (custom marketing templates: the template send response carries
  `"message_status": "accepted"`);
- business-phone-numbers/media (upload, GET /MEDIA_ID, download with the bearer token);
- support/error-codes (the error body: message "(#CODE) Title", type, code,
  error_data.messaging_product/details, fbtrace_id; the codes and their `details`);
- webhooks/reference/messages/{text,image,document,contacts,location,unsupported,status}
  and the webhook examples on the interactive pages (button_reply, list_reply);
- Graph API webhooks "validate payloads": X-Hub-Signature-256 is sha256=HMAC(app secret,
  the exact bytes sent), and Meta signs "an escaped unicode version of the payload, with
  lowercase hex digits" - so `post` sends non-ASCII as \\u escapes (and "/" as "\\/"),
  as Meta does: an app that re-serialises the JSON before checking fails on Arabic names.

Character limits are counted as Python `len()` of the str (code points). Meta's pages say
"characters" and do not say whether they count UTF-16 units (where an emoji outside the BMP
would count 2); the fake does not model that.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes import serve

DOCS = "https://developers.facebook.com/documentation/business-messaging/whatsapp"
ERROR_CODES_HREF = "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"
WABA_ID = "102290129340398"  # the WhatsApp Business Account id in Meta's examples


@dataclass(frozen=True)
class MetaError:
    """One row of Meta's error-codes page (support/error-codes)."""

    code: int
    title: str  # Meta puts it in `message` as "(#CODE) Title"
    details: str  # error_data.details
    status: int  # HTTP status the fake answers with


# HTTP statuses: the current error-codes page has no HTTP column and says to key on `code`,
# not on the HTTP status. Earlier versions of the table (as copied by SDKs and BSPs) gave
# 400 for most codes, 500 for 131000, 404 for 132001, and for the throttling codes either
# 400 (older copies) or 429 "Too Many Requests" (newer copies); the fake answers 429 for
# those. `fail(..., status=400)` checks that the channel reads `code`, not the status.
ERRORS: dict[int, MetaError] = {e.code: e for e in [
    MetaError(100, "Invalid parameter",
              "The request included one or more unsupported or misspelled parameters.", 400),
    MetaError(131008, "Required parameter is missing",
              "The request is missing a required parameter.", 400),
    MetaError(131009, "Parameter value is not valid",
              "One or more parameter values are invalid.", 400),
    MetaError(130429, "Rate limit hit", "Cloud API message throughput has been reached.", 429),
    MetaError(131056, "(Business Account, Consumer Account) pair rate limit hit",
              "Too many messages sent from the sender phone number to the same recipient phone "
              "number in a short period of time.", 429),
    MetaError(80007, "Rate limit issues",
              "The WhatsApp Business Account has reached its rate limit.", 429),
    MetaError(131048, "Spam rate limit hit",
              "Message failed to send because there are restrictions on how many messages can "
              "be sent from this phone number. This may be because too many previous messages "
              "were blocked or flagged as spam.", 429),
    # details as Meta returns it (seen in real responses and in failed-status webhooks); the
    # error-codes page paraphrases it as "More than 24 hours have passed since the recipient
    # last replied to the sender number."
    MetaError(131047, "Re-engagement message",
              "Message failed to send because more than 24 hours have passed since the "
              "customer last replied to this number.", 400),
    MetaError(131026, "Message undeliverable",
              "Unable to deliver message. Reasons can include: The recipient phone number is "
              "not a WhatsApp phone number; the recipient has not accepted the new Terms of "
              "Service and Privacy Policy; the recipient is using an old WhatsApp version.", 400),
    MetaError(131000, "Something went wrong", "Message failed to send due to an unknown error.",
              500),
    MetaError(131053, "Media upload error", "Unable to upload the media used in the message.", 400),
    MetaError(132000, "Number of parameters does not match the expected number of params",
              "The number of variable parameter values included in the request did not match "
              "the number of variable parameters defined in the template.", 400),
    MetaError(132001, "Template name does not exist in the translation",
              "The template does not exist in the specified language or the template has not "
              "been approved.", 404),
]}

MESSAGE_TYPES = ("audio", "contacts", "document", "image", "interactive", "location", "reaction",
                 "sticker", "template", "text", "video")
MEDIA_TYPES = ("audio", "document", "image", "sticker", "video")
INTERACTIVE_TYPES = ("button", "catalog_message", "cta_url", "flow", "list",
                     "location_request_message", "product", "product_list")
# business-phone-numbers/media, "Supported media types"
SUPPORTED_MIME = ("audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg", "text/plain",
                  "application/vnd.ms-excel",
                  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                  "application/msword",
                  "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                  "application/vnd.ms-powerpoint",
                  "application/vnd.openxmlformats-officedocument.presentationml.presentation",
                  "application/pdf", "image/jpeg", "image/png", "image/webp", "video/3gpp",
                  "video/mp4")


class Invalid(Exception):
    """A send Meta would refuse: the error code and the rule that failed."""

    def __init__(self, code: int, detail: str, message: str | None = None) -> None:
        super().__init__(detail)
        self.code, self.detail, self.message = code, detail, message


@dataclass
class Fault:
    code: int
    to: str | None = None  # only sends to this wa_id
    status: int | None = None  # HTTP status instead of the table's


@dataclass
class Call:
    method: str  # HTTP method
    path: str
    params: dict[str, Any]  # the JSON body, the form fields, or the query
    at: float = field(default_factory=time.monotonic)
    status: int = 200  # what the fake answered
    response: Any = None  # the JSON it answered (None for a download)


@dataclass
class Media:
    content: bytes
    mime: str
    filename: str | None = None
    uploaded: bool = True  # False: a file a user sent (add_media)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


@dataclass
class Delivery:
    """A webhook the fake posted: the exact bytes, the headers, the app's answer."""

    payload: dict[str, Any]
    body: bytes
    headers: dict[str, str]
    status: int


def digits(number: str) -> str:
    """A wa_id from a `to` ("+966 50..." -> "96650..."): Meta answers the digits only."""
    return re.sub(r"\D", "", str(number))


def fbtrace_id() -> str:
    return secrets.token_urlsafe(17)[:23]


def graph_error(code: int, detail: str | None = None, *, message: str | None = None,
                subcode: int | None = None) -> dict[str, Any]:
    """Meta's error body (support/error-codes, "Error response syntax"). error_subcode is
    deprecated and "will not be returned in v16.0+ responses", so it is left out unless
    given."""
    known = ERRORS.get(code)
    title = known.title if known else "Invalid parameter"
    error: dict[str, Any] = {
        "message": message or f"(#{code}) {title}", "type": "OAuthException", "code": code,
        "error_data": {"messaging_product": "whatsapp",
                       "details": detail or (known.details if known else title)}}
    if subcode is not None:
        error["error_subcode"] = subcode
    error["fbtrace_id"] = fbtrace_id()
    return {"error": error}


def auth_error() -> dict[str, Any]:
    """A wrong or missing access token: Graph's OAuthException, code 190 (HTTP 401)."""
    return {"error": {"message": "Invalid OAuth access token - Cannot parse access token",
                      "type": "OAuthException", "code": 190, "fbtrace_id": fbtrace_id()}}


def unknown_object(node: str, verb: str = "get") -> dict[str, Any]:
    """Graph's answer for an id that does not exist (HTTP 400, code 100, subcode 33)."""
    return {"error": {
        "message": f"Unsupported {verb} request. Object with ID '{node}' does not exist, cannot be "
                   "loaded due to missing permissions, or does not support this operation. Please "
                   "read the Graph API documentation at https://developers.facebook.com/docs/graph-api",
        "type": "GraphMethodException", "code": 100, "error_subcode": 33,
        "fbtrace_id": fbtrace_id()}}


def dumps(payload: dict[str, Any]) -> bytes:
    """The bytes Meta would post: compact JSON, non-ASCII as lowercase \\u escapes, "/" as "\\/"."""
    return json.dumps(payload, ensure_ascii=True, separators=(",", ":")).replace("/", "\\/").encode()


def signature(body: bytes, secret: str) -> str:
    """The X-Hub-Signature-256 header for these exact bytes."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _length(value: Any, low: int, high: int) -> bool:
    return isinstance(value, str) and low <= len(value) <= high


class FakeWhatsApp:
    def __init__(self, token: str = "test-access-token", phone_number_id: str = "106540352242922",
                 display_phone_number: str = "966500000000", app_secret: str = "test-app-secret",
                 version: str = "v21.0", *, waba_id: str = WABA_ID) -> None:
        self.token = token
        self.phone_number_id = phone_number_id
        self.display_phone_number = display_phone_number
        self.app_secret = app_secret
        self.version = version
        self.waba_id = waba_id
        self.webhook_url: str | None = None  # set by the test: where `post` delivers
        self.url_ttl = 300.0  # media URLs "expire after 5 minutes"
        self.cond = threading.Condition()
        self.calls: list[Call] = []
        self.faults: list[Fault] = []
        self.media: dict[str, Media] = {}
        self.messages: dict[str, dict[str, Any]] = {}  # wamid -> the body sent
        self.templates: dict[tuple[str, str], int] = {}  # (name, language) -> body params
        self.deliveries: list[Delivery] = []
        self._media_ids = itertools.count(1037543291543636)
        self._serial = itertools.count(1)
        self._urls: dict[str, tuple[str, float]] = {}  # download hash -> (media id, issued)
        self._server: uvicorn.Server | None = None
        self.port = 0

    # -- running ---------------------------------------------------------------
    @property
    def url(self) -> str:
        """The Graph base URL: requests go to f"{url}/{version}/..."."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def graph(self) -> str:
        return f"{self.url}/{self.version}"

    def start(self) -> FakeWhatsApp:
        app = Starlette(routes=[
            Route("/whatsapp_business/attachments/", self._download, methods=["GET"]),
            Route("/{version}/{node}/messages", self._send, methods=["POST"]),
            Route("/{version}/{node}/media", self._upload, methods=["POST"]),
            Route("/{version}/{node}", self._node, methods=["GET", "DELETE"]),
        ])
        self._server, self.port = serve(app, "fake WhatsApp")
        return self

    def stop(self) -> None:
        if self._server:
            self._server.should_exit = True

    def __enter__(self) -> FakeWhatsApp:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- the test's side -------------------------------------------------------
    def fail(self, code: int, times: int = 1, to: str | None = None,
             status: int | None = None) -> None:
        """The next `times` sends (to `to` only, if given) get Meta's error `code`."""
        if code not in ERRORS:
            raise ValueError(f"no Meta error body for code {code}; known: {sorted(ERRORS)}")
        with self.cond:
            self.faults.extend(Fault(code, digits(to) if to else None, status) for _ in range(times))

    def add_media(self, content: bytes, mime: str, filename: str | None = None) -> str:
        """Register a file a user sent (as in an incoming image/document webhook); its media id."""
        media_id = str(next(self._media_ids))
        with self.cond:
            self.media[media_id] = Media(content, mime, filename, uploaded=False)
        return media_id

    def add_template(self, name: str, language: str = "ar", body_params: int = 0) -> None:
        """An approved template. Once any is added, sends of other templates get 132001 and a
        wrong number of body parameters gets 132000; with none added, any template is sent."""
        with self.cond:
            self.templates[(name, language)] = body_params

    def expire_media_urls(self) -> None:
        """Every media URL handed out so far stops working (Meta's expire after 5 minutes)."""
        with self.cond:
            self._urls.clear()

    def called(self, path_suffix: str) -> list[Call]:
        with self.cond:
            return [c for c in self.calls if c.path.endswith(path_suffix)]

    def sent_to(self, wa_id: str) -> list[dict[str, Any]]:
        """Message bodies delivered to a user, in order (calls answered with an error, and
        read receipts, are not deliveries)."""
        who = digits(wa_id)
        return [c.params for c in self.called("/messages")
                if c.status == 200 and "status" not in c.params
                and digits(c.params.get("to", "")) == who]

    def last_message_id(self, wa_id: str) -> str | None:
        """The wamid of the last message delivered to a user."""
        who = digits(wa_id)
        with self.cond:
            ids = [m for m, body in self.messages.items() if digits(body.get("to", "")) == who]
        return ids[-1] if ids else None

    def wait(self, predicate: Callable[[], bool], timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        with self.cond:
            while not predicate():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("fake WhatsApp: condition not met in time")
                self.cond.wait(left)

    # -- webhooks built like Meta's ----------------------------------------------
    def _wamid(self, wa_id: str, incoming: bool) -> str:
        # Meta's ids are base64 of a small binary record holding the user's number; these
        # follow that look ("wamid.HBgM...") and are unique.
        serial = f"{next(self._serial):08X}{secrets.token_hex(5).upper()}".encode()
        number = digits(wa_id).encode()
        raw = (b"\x1c\x18" + bytes([len(number)]) + number + b"\x15\x02\x00"
               + (b"\x12" if incoming else b"\x11") + b"\x18\x12" + serial + b"\x00")
        return "wamid." + base64.b64encode(raw).decode()

    @staticmethod
    def _ts(timestamp: int | str | None) -> str:
        return str(int(time.time()) if timestamp is None else int(timestamp))

    def _value(self) -> dict[str, Any]:
        return {"messaging_product": "whatsapp",
                "metadata": {"display_phone_number": self.display_phone_number,
                             "phone_number_id": self.phone_number_id}}

    def _envelope(self, value: dict[str, Any]) -> dict[str, Any]:
        return {"object": "whatsapp_business_account",
                "entry": [{"id": self.waba_id, "changes": [{"value": value, "field": "messages"}]}]}

    def _inbound(self, wa_id: str, name: str, content: dict[str, Any],
                 timestamp: int | str | None, context: dict[str, Any] | None = None,
                 errors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """A messages webhook with one message from a user (webhooks/reference/messages/*)."""
        message: dict[str, Any] = {}
        if context is not None:
            message["context"] = context
        message.update({"from": digits(wa_id), "id": self._wamid(wa_id, incoming=True),
                        "timestamp": self._ts(timestamp)})
        if errors is not None:
            message["errors"] = errors
        message.update(content)
        return self._envelope({**self._value(),
                               "contacts": [{"profile": {"name": name}, "wa_id": digits(wa_id)}],
                               "messages": [message]})

    def _context(self, wa_id: str, context_id: str | None) -> dict[str, Any]:
        return {"from": self.display_phone_number,
                "id": context_id or self.last_message_id(wa_id) or self._wamid(wa_id, False)}

    def media_url(self, media_id: str) -> str:
        """A download URL for a media id, shaped like Meta's lookaside URLs; valid url_ttl s."""
        key = secrets.token_urlsafe(12)
        with self.cond:
            self._urls[key] = (media_id, time.monotonic())
        return (f"{self.url}/whatsapp_business/attachments/?mid={media_id}"
                f"&ext={int(time.time())}&hash={key}")

    def text_message(self, wa_id: str, body: str, name: str = "فاطمة",
                     timestamp: int | str | None = None) -> dict[str, Any]:
        """webhooks/reference/messages/text, "Text message" example."""
        return self._inbound(wa_id, name, {"type": "text", "text": {"body": body}}, timestamp)

    def button_reply(self, wa_id: str, reply_id: str, title: str, context_id: str | None = None,
                     name: str = "فاطمة", timestamp: int | str | None = None) -> dict[str, Any]:
        """A tap on a reply button (messages/interactive-reply-buttons-messages, "Example
        webhook"). context.id is the message with the buttons: by default the last message
        this fake delivered to the user."""
        return self._inbound(wa_id, name, {"type": "interactive", "interactive": {
            "type": "button_reply", "button_reply": {"id": reply_id, "title": title}}},
            timestamp, context=self._context(wa_id, context_id))

    def list_reply(self, wa_id: str, row_id: str, title: str, description: str | None = None,
                   context_id: str | None = None, name: str = "فاطمة",
                   timestamp: int | str | None = None) -> dict[str, Any]:
        """A row picked in a list (messages/interactive-list-messages, "Webhooks")."""
        reply = {"id": row_id, "title": title}
        if description is not None:
            reply["description"] = description
        return self._inbound(wa_id, name, {"type": "interactive", "interactive": {
            "type": "list_reply", "list_reply": reply}},
            timestamp, context=self._context(wa_id, context_id))

    def _media_fields(self, media_id: str, mime: str | None, sha256: str | None) -> dict[str, Any]:
        known = self.media.get(media_id)
        if sha256 is None:
            # webhooks give the hash base64-encoded ("SfInY0gG...=" in Meta's example)
            raw = hashlib.sha256(known.content).digest() if known else secrets.token_bytes(32)
            sha256 = base64.b64encode(raw).decode()
        return {"mime_type": mime or (known.mime if known else "application/octet-stream"),
                "sha256": sha256, "id": media_id, "url": self.media_url(media_id)}

    def image_message(self, wa_id: str, media_id: str, mime: str | None = None,
                      sha256: str | None = None, caption: str | None = None, name: str = "فاطمة",
                      timestamp: int | str | None = None) -> dict[str, Any]:
        """webhooks/reference/messages/image (caption, mime_type, sha256, id, url). mime and
        sha256 default to those of the file given to add_media."""
        image: dict[str, Any] = {"caption": caption} if caption is not None else {}
        image.update(self._media_fields(media_id, mime, sha256))
        return self._inbound(wa_id, name, {"type": "image", "image": image}, timestamp)

    def document_message(self, wa_id: str, media_id: str, mime: str | None = None,
                         sha256: str | None = None, filename: str | None = None,
                         caption: str | None = None, name: str = "فاطمة",
                         timestamp: int | str | None = None) -> dict[str, Any]:
        """webhooks/reference/messages/document (caption, filename, mime_type, sha256, id, url)."""
        document: dict[str, Any] = {"caption": caption} if caption is not None else {}
        known = self.media.get(media_id)
        document["filename"] = filename or (known.filename if known and known.filename else "file")
        document.update(self._media_fields(media_id, mime, sha256))
        return self._inbound(wa_id, name, {"type": "document", "document": document}, timestamp)

    def audio_message(self, wa_id: str, media_id: str, mime: str = "audio/ogg; codecs=opus",
                      sha256: str | None = None, voice: bool = True, name: str = "فاطمة",
                      timestamp: int | str | None = None) -> dict[str, Any]:
        """A voice note (webhooks/reference/messages/audio: id, mime_type, sha256, voice, url)."""
        fields = self._media_fields(media_id, mime, sha256)
        audio = {"mime_type": fields["mime_type"], "sha256": fields["sha256"], "id": media_id,
                 "voice": voice, "url": fields["url"]}
        return self._inbound(wa_id, name, {"type": "audio", "audio": audio}, timestamp)

    def sticker_message(self, wa_id: str, media_id: str, animated: bool = False,
                        name: str = "فاطمة", timestamp: int | str | None = None) -> dict[str, Any]:
        """webhooks/reference/messages/sticker (mime_type image/webp, sha256, id, animated)."""
        fields = self._media_fields(media_id, "image/webp", None)
        sticker = {"mime_type": "image/webp", "sha256": fields["sha256"], "id": media_id,
                   "animated": animated, "url": fields["url"]}
        return self._inbound(wa_id, name, {"type": "sticker", "sticker": sticker}, timestamp)

    def contacts_message(self, wa_id: str, phone: str, name: str, phone_wa_id: str | None = None,
                         phone_type: str = "CELL", sender_name: str = "فاطمة",
                         timestamp: int | str | None = None) -> dict[str, Any]:
        """A shared contact card (webhooks/reference/messages/contacts): contacts[{name
        {formatted_name, first_name}, phones[{phone, wa_id, type}]}]. Meta leaves out what the
        user's device does not share, so wa_id is there only when given."""
        card_phone: dict[str, Any] = {"phone": phone}
        if phone_wa_id is not None:
            card_phone["wa_id"] = phone_wa_id
        card_phone["type"] = phone_type
        card = {"name": {"formatted_name": name, "first_name": name.split()[0] if name else name},
                "phones": [card_phone]}
        return self._inbound(wa_id, sender_name, {"type": "contacts", "contacts": [card]},
                             timestamp)

    def location_message(self, wa_id: str, lat: float, lon: float, name: str | None = None,
                         address: str | None = None, sender_name: str = "فاطمة",
                         timestamp: int | str | None = None) -> dict[str, Any]:
        """webhooks/reference/messages/location: location{address, latitude, longitude, name}
        (latitude/longitude numbers; name and address only for a named place)."""
        location: dict[str, Any] = {"address": address} if address is not None else {}
        location.update({"latitude": lat, "longitude": lon})
        if name is not None:
            location["name"] = name
        return self._inbound(wa_id, sender_name, {"type": "location", "location": location},
                             timestamp)

    def unsupported_message(self, wa_id: str, kind: str = "unknown", name: str = "فاطمة",
                            timestamp: int | str | None = None) -> dict[str, Any]:
        """A message Cloud API does not support (webhooks/reference/messages/unsupported):
        errors[131051 "Message type unknown"] and unsupported.type (e.g. "edit", "poll_update",
        "unknown"). Stickers and audio are not unsupported: see sticker_message/audio_message."""
        errors = [{"code": 131051, "title": "Message type unknown", "message": "Message type unknown",
                   "error_data": {"details": "Message type is currently not supported."}}]
        return self._inbound(wa_id, name, {"type": "unsupported", "unsupported": {"type": kind}},
                             timestamp, errors=errors)

    def error_entry(self, code: int) -> dict[str, Any]:
        """An errors[] item as webhooks carry it (code, title, message, error_data, href)."""
        known = ERRORS[code]
        return {"code": code, "title": known.title, "message": known.title,
                "error_data": {"details": known.details}, "href": ERROR_CODES_HREF}

    def status_update(self, message_id: str, recipient_id: str, status: str,
                      errors: list[dict[str, Any]] | int | None = None,
                      timestamp: int | str | None = None) -> dict[str, Any]:
        """webhooks/reference/messages/status. `conversation` comes with sent and delivered
        (expiration_timestamp with sent only) and is omitted from v24.0; `pricing` comes with
        sent and delivered (a service reply in the window: free_customer_service); failed
        carries errors[] (default 131026; an int is a code from ERRORS)."""
        if status not in ("sent", "delivered", "read", "failed", "played"):
            raise ValueError(f"unknown status {status!r}")
        ts = self._ts(timestamp)
        entry: dict[str, Any] = {"id": message_id, "status": status, "timestamp": ts,
                                 "recipient_id": digits(recipient_id)}
        if status in ("sent", "delivered"):
            if self._major() < 24:
                conversation: dict[str, Any] = {"id": hashlib.md5(message_id.encode()).hexdigest()}
                if status == "sent":
                    conversation["expiration_timestamp"] = str(int(ts) + 86400)
                conversation["origin"] = {"type": "service"}
                entry["conversation"] = conversation
            entry["pricing"] = {"billable": False, "pricing_model": "PMP",
                                "type": "free_customer_service", "category": "service"}
        if status == "failed":
            if errors is None:
                errors = 131026
            entry["errors"] = [self.error_entry(errors)] if isinstance(errors, int) else errors
        return self._envelope({**self._value(), "statuses": [entry]})

    def _major(self) -> int:
        found = re.match(r"v(\d+)", self.version)
        return int(found.group(1)) if found else 0

    @staticmethod
    def batch(*payloads: dict[str, Any]) -> dict[str, Any]:
        """Several webhooks merged as Meta batches them: one change whose value holds all the
        contacts (once each), messages and statuses, in order."""
        if not payloads:
            raise ValueError("nothing to batch")
        first = payloads[0]
        value: dict[str, Any] = {k: v for k, v in first["entry"][0]["changes"][0]["value"].items()
                                 if k not in ("contacts", "messages", "statuses")}
        contacts: list[dict[str, Any]] = []
        messages: list[dict[str, Any]] = []
        statuses: list[dict[str, Any]] = []
        for payload in payloads:
            for entry in payload["entry"]:
                for change in entry["changes"]:
                    v = change["value"]
                    for contact in v.get("contacts", []):
                        if all(c["wa_id"] != contact["wa_id"] for c in contacts):
                            contacts.append(contact)
                    messages.extend(v.get("messages", []))
                    statuses.extend(v.get("statuses", []))
        for key, items in (("contacts", contacts), ("messages", messages), ("statuses", statuses)):
            if items:
                value[key] = items
        return {"object": first["object"],
                "entry": [{"id": first["entry"][0]["id"],
                           "changes": [{"value": value, "field": "messages"}]}]}

    # -- delivering webhooks -----------------------------------------------------
    def _signed(self, payload: dict[str, Any], secret: str | None,
                sig: str | bool | None) -> tuple[bytes, dict[str, str]]:
        if not self.webhook_url:
            raise RuntimeError("set fake.webhook_url before posting webhooks")
        body = dumps(payload)  # serialised once; the signature is over these bytes
        headers = {"Content-Type": "application/json", "User-Agent": "facebookexternalua"}
        if sig is None:
            key = (self.app_secret if secret is None else secret).encode()
            headers["X-Hub-Signature"] = "sha1=" + hmac.new(key, body, hashlib.sha1).hexdigest()
            headers["X-Hub-Signature-256"] = signature(body, key.decode())
        elif sig is not False:
            headers["X-Hub-Signature-256"] = str(sig)
        return body, headers

    def post(self, payload: dict[str, Any], *, secret: str | None = None,
             signature: str | bool | None = None, timeout: float = 30.0) -> httpx.Response:
        """POST a webhook to `webhook_url` as Meta does: signed with the app secret (or
        `secret`) over the exact bytes; signature=False sends no signature headers, a string
        is sent verbatim as X-Hub-Signature-256."""
        body, headers = self._signed(payload, secret, signature)
        response = httpx.post(str(self.webhook_url), content=body, headers=headers, timeout=timeout)
        self._delivered(payload, body, headers, response.status_code)
        return response

    async def apost(self, payload: dict[str, Any], *, secret: str | None = None,
                    signature: str | bool | None = None, timeout: float = 30.0) -> httpx.Response:
        """`post` for a test whose app runs in the test's own event loop."""
        body, headers = self._signed(payload, secret, signature)
        async with httpx.AsyncClient(timeout=timeout) as client:
            response = await client.post(str(self.webhook_url), content=body, headers=headers)
        self._delivered(payload, body, headers, response.status_code)
        return response

    def post_many(self, payloads: Iterable[dict[str, Any]], **kwargs: Any) -> httpx.Response:
        """Several messages/statuses in one webhook (see `batch`)."""
        return self.post(self.batch(*payloads), **kwargs)

    def _delivered(self, payload: dict[str, Any], body: bytes, headers: dict[str, str],
                   status: int) -> None:
        with self.cond:
            self.deliveries.append(Delivery(payload, body, headers, status))
            self.cond.notify_all()

    @staticmethod
    def _handshake(mode: str, token: str, challenge: str | None) -> dict[str, str]:
        return {"hub.mode": mode, "hub.verify_token": token,
                "hub.challenge": challenge if challenge is not None else str(secrets.randbelow(10**10))}

    def verify(self, mode: str = "subscribe", token: str = "", challenge: str | None = None,
               timeout: float = 30.0) -> httpx.Response:
        """The verification request Meta sends when the webhook is set up: GET webhook_url with
        hub.mode, hub.verify_token, hub.challenge (the app must echo the challenge)."""
        if not self.webhook_url:
            raise RuntimeError("set fake.webhook_url before verifying")
        return httpx.get(self.webhook_url, params=self._handshake(mode, token, challenge),
                         headers={"User-Agent": "facebookplatform/1.0"}, timeout=timeout)

    async def averify(self, mode: str = "subscribe", token: str = "",
                      challenge: str | None = None, timeout: float = 30.0) -> httpx.Response:
        if not self.webhook_url:
            raise RuntimeError("set fake.webhook_url before verifying")
        async with httpx.AsyncClient(timeout=timeout) as client:
            return await client.get(self.webhook_url, params=self._handshake(mode, token, challenge))

    # -- the Graph API -----------------------------------------------------------
    def _authorised(self, request: Request) -> bool:
        header = request.headers.get("authorization", "")
        given = header[7:] if header[:7].lower() == "bearer " else request.query_params.get(
            "access_token")
        return given is not None and hmac.compare_digest(given.encode(), self.token.encode())

    def _record(self, request: Request, params: dict[str, Any], status: int,
                response: Any) -> None:
        with self.cond:
            self.calls.append(Call(request.method, request.url.path, params, status=status,
                                   response=response))
            self.cond.notify_all()

    def _answer(self, request: Request, params: dict[str, Any], body: Any,
                status: int = 200) -> JSONResponse:
        self._record(request, params, status, body)
        return JSONResponse(body, status_code=status)

    async def _send(self, request: Request) -> Response:
        """POST /{version}/{phone_number_id}/messages."""
        raw = await request.body()
        try:
            params = json.loads(raw) if raw else {}
        except ValueError:
            params = {"<raw>": raw.decode(errors="replace")}
        if not isinstance(params, dict):
            params = {"<json>": params}
        if not self._authorised(request):
            return self._answer(request, params, auth_error(), 401)
        if request.path_params["node"] != self.phone_number_id:
            return self._answer(request, params, unknown_object(request.path_params["node"],
                                                                "post"), 400)
        try:
            if params.get("status") == "read":  # a read receipt / typing indicator
                self._check_read(params)
                return self._answer(request, params, {"success": True})
            self._check_send(params)
        except Invalid as invalid:
            body = graph_error(invalid.code, invalid.detail, message=invalid.message)
            return self._answer(request, params, body, ERRORS[invalid.code].status)
        to = digits(params["to"])
        with self.cond:
            fault = next((f for f in self.faults if f.to in (None, to)), None)
            if fault:
                self.faults.remove(fault)
        if fault:
            return self._answer(request, params, graph_error(fault.code),
                                fault.status or ERRORS[fault.code].status)
        wamid = self._wamid(to, incoming=False)
        message: dict[str, Any] = {"id": wamid}
        if params.get("type") == "template":
            message["message_status"] = "accepted"
        with self.cond:
            self.messages[wamid] = params
        return self._answer(request, params, {
            "messaging_product": "whatsapp", "contacts": [{"input": params["to"], "wa_id": to}],
            "messages": [message]})

    @staticmethod
    def _check_read(b: dict[str, Any]) -> None:
        if b.get("messaging_product") != "whatsapp":
            raise Invalid(100, "The parameter messaging_product is required.",
                          "(#100) The parameter messaging_product is required.")
        if not isinstance(b.get("message_id"), str):
            raise Invalid(100, "The parameter message_id is required.",
                          "(#100) The parameter message_id is required.")

    def _check_send(self, b: dict[str, Any]) -> None:
        """Meta's checks on a send (the pages listed in the module docstring). Graph's own
        parameter errors are code 100 with the rule in `message` (as Meta answers them, e.g.
        "(#100) Param text['body'] must be at most 4096 characters long."); WhatsApp's checks
        are 131009/131008 "Parameter value is not valid"/"Required parameter is missing" with
        the rule in error_data.details (e.g. "Button title length invalid. Min length: 1, Max
        length: 20"). Either way error_data.details names the rule."""

        def param(detail: str) -> Invalid:
            return Invalid(100, detail, f"(#100) {detail}")

        product = b.get("messaging_product")
        if product is None:
            raise param("The parameter messaging_product is required.")
        if product != "whatsapp":
            raise param(f"Param messaging_product must be one of {{WHATSAPP}} - got \"{product}\".")
        to = b.get("to")
        if to is None or to == "":
            raise param("The parameter to is required.")
        if not isinstance(to, str) or not re.fullmatch(r"\+?[\d\s()-]{5,30}", to):
            raise param("Param to must be a valid phone number.")
        kind = b.get("type", "text")  # "If omitted, defaults to text"
        if kind not in MESSAGE_TYPES:
            raise param(f"Param type must be one of {{{', '.join(t.upper() for t in MESSAGE_TYPES)}}}"
                        f" - got \"{kind}\".")
        content = b.get(kind)
        if content is None or (kind == "contacts" and not content):
            raise param(f"The parameter {kind} is required.")
        if not isinstance(content, list if kind == "contacts" else dict):
            raise param(f"Param {kind} must be {'an array' if kind == 'contacts' else 'an object'}.")
        if kind == "text":
            self._check_text(content, param)
        elif kind in MEDIA_TYPES:
            self._check_media(kind, content, param)
        elif kind == "interactive":
            self._check_interactive(content)
        elif kind == "template":
            self._check_template(content, param)
        elif kind == "location":
            for key in ("latitude", "longitude"):
                if content.get(key) is None:
                    raise param(f"The parameter location['{key}'] is required.")
        elif kind == "reaction" and not content.get("message_id"):
            raise param("The parameter reaction['message_id'] is required.")

    @staticmethod
    def _check_text(text: dict[str, Any], param: Callable[[str], Invalid]) -> None:
        body = text.get("body")
        if body is None:
            raise param("The parameter text['body'] is required.")
        if not isinstance(body, str):
            raise param("Param text['body'] must be a string.")
        if not body:
            raise param("Param text['body'] must be at least 1 character long.")
        if len(body) > 4096:  # messages/text-messages: "Maximum 4096 characters."
            raise param("Param text['body'] must be at most 4096 characters long.")
        if "preview_url" in text and not isinstance(text["preview_url"], bool):
            raise param("Param text['preview_url'] must be a boolean.")

    def _check_media(self, kind: str, media: dict[str, Any],
                     param: Callable[[str], Invalid]) -> None:
        has_id, has_link = media.get("id") is not None, media.get("link") is not None
        if not has_id and not has_link:
            raise param(f"The parameter {kind}['id'] or {kind}['link'] is required.")
        if has_id and has_link:  # "Required if using uploaded media, otherwise omit."
            raise param(f"Param {kind} must contain either id or link, not both.")
        if has_link and not re.match(r"https?://", str(media["link"])):
            raise param(f"Param {kind}['link'] must be a valid URL.")
        if has_id and str(media["id"]) not in self.media:
            raise Invalid(131009, "Invalid media attachment ID")
        caption = media.get("caption")
        if caption is not None:
            if kind not in ("image", "document", "video"):
                raise param(f"Param {kind}['caption'] is not supported for {kind} messages.")
            if not isinstance(caption, str) or len(caption) > 1024:  # "Maximum 1024 characters."
                raise param(f"Param {kind}['caption'] must be at most 1024 characters long.")
        if "filename" in media and (kind != "document" or not isinstance(media["filename"], str)):
            raise param(f"Param {kind}['filename'] must be a string on a document.")

    @staticmethod
    def _check_interactive(interactive: dict[str, Any]) -> None:
        kind = interactive.get("type")
        if kind is None:
            raise Invalid(131008, "The parameter interactive['type'] is required.")
        if kind not in INTERACTIVE_TYPES:
            raise Invalid(100, f"Param interactive['type'] must be one of "
                          f"{{{', '.join(t.upper() for t in INTERACTIVE_TYPES)}}} - got \"{kind}\".",
                          f"(#100) Param interactive['type'] must be one of "
                          f"{{{', '.join(t.upper() for t in INTERACTIVE_TYPES)}}} - got \"{kind}\".")
        if kind not in ("button", "list"):
            return  # accepted as they come: the fake checks the two kinds Wasl sends
        body = (interactive.get("body") or {}).get("text")
        if body is None:
            raise Invalid(131008, "The parameter interactive['body']['text'] is required.")
        limit = 1024 if kind == "button" else 4096  # the two pages differ: 1024 / 4096
        if not _length(body, 1, limit):
            raise Invalid(131009, f"Body text length invalid. Min length: 1, Max length: {limit}")
        header = interactive.get("header")
        if header is not None:
            allowed = ("text", "image", "video", "document") if kind == "button" else ("text",)
            if header.get("type") not in allowed:
                raise Invalid(131009, f"Header type is not valid. Allowed types: {', '.join(allowed)}")
            if header["type"] == "text" and not _length(header.get("text"), 1, 60):
                raise Invalid(131009, "Header text length invalid. Min length: 1, Max length: 60")
        footer = interactive.get("footer")
        if footer is not None and not _length(footer.get("text"), 1, 60):
            raise Invalid(131009, "Footer text length invalid. Min length: 1, Max length: 60")
        action = interactive.get("action")
        if not isinstance(action, dict):
            raise Invalid(131008, "The parameter interactive['action'] is required.")
        if kind == "button":
            FakeWhatsApp._check_buttons(action)
        else:
            FakeWhatsApp._check_list(action)

    @staticmethod
    def _check_buttons(action: dict[str, Any]) -> None:
        """messages/interactive-reply-buttons-messages: 1-3 buttons of type reply, id <= 256,
        title <= 20 characters and unique."""
        buttons = action.get("buttons")
        if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
            raise Invalid(131009, "Invalid buttons count. Min allowed buttons: 1, Max allowed buttons: 3")
        ids: set[str] = set()
        titles: set[str] = set()
        for button in buttons:
            if not isinstance(button, dict) or button.get("type") != "reply":
                raise Invalid(131009, "Button type is not valid. Allowed types: reply")
            reply = button.get("reply") or {}
            if not _length(reply.get("id"), 1, 256):
                raise Invalid(131009, "Button id length invalid. Min length: 1, Max length: 256")
            if not _length(reply.get("title"), 1, 20):
                raise Invalid(131009, "Button title length invalid. Min length: 1, Max length: 20")
            if reply["id"] in ids:
                raise Invalid(131009, "Button id must be unique within the message")
            if reply["title"] in titles:
                raise Invalid(131009, "Button title must be unique within the message")
            ids.add(reply["id"])
            titles.add(reply["title"])

    @staticmethod
    def _check_list(action: dict[str, Any]) -> None:
        """messages/interactive-list-messages: button <= 20, 1-10 sections, 1-10 rows in all,
        row id <= 200, title <= 24, description <= 72, section title <= 24."""
        if not _length(action.get("button"), 1, 20):
            raise Invalid(131009, "Button text length invalid. Min length: 1, Max length: 20")
        sections = action.get("sections")
        if not isinstance(sections, list) or not 1 <= len(sections) <= 10:
            raise Invalid(131009, "Invalid sections count. Min allowed sections: 1, Max allowed sections: 10")
        rows = 0
        ids: set[str] = set()
        for section in sections:
            title = section.get("title") if isinstance(section, dict) else None
            if title is None and len(sections) > 1:
                raise Invalid(131009, "Section title is required when the message has more than one section")
            if title is not None and not _length(title, 1, 24):
                raise Invalid(131009, "Section title length invalid. Min length: 1, Max length: 24")
            section_rows = section.get("rows") if isinstance(section, dict) else None
            if not isinstance(section_rows, list) or not section_rows:
                raise Invalid(131009, "Invalid rows count. Min allowed rows in a section: 1")
            rows += len(section_rows)
            for row in section_rows:
                if not _length(row.get("id"), 1, 200):
                    raise Invalid(131009, "Row id length invalid. Min length: 1, Max length: 200")
                if not _length(row.get("title"), 1, 24):
                    raise Invalid(131009, "Row title length invalid. Min length: 1, Max length: 24")
                if "description" in row and not _length(row["description"], 0, 72):
                    raise Invalid(131009, "Row description length invalid. Min length: 0, Max length: 72")
                if row["id"] in ids:
                    raise Invalid(131009, "Row id must be unique within the message")
                ids.add(row["id"])
        if rows > 10:
            raise Invalid(131009, "Total row count exceed max allowed count: 10")

    def _check_template(self, template: dict[str, Any], param: Callable[[str], Invalid]) -> None:
        name = template.get("name")
        if not name:
            raise param("The parameter template['name'] is required.")
        code = (template.get("language") or {}).get("code")
        if not code:
            raise param("The parameter template['language']['code'] is required.")
        components = template.get("components", [])
        if not isinstance(components, list):
            raise param("Param template['components'] must be an array.")
        body_params = 0
        for component in components:
            if not isinstance(component, dict) or component.get("type") not in (
                    "header", "body", "button", "footer", "carousel", "limited_time_offer"):
                raise param("Param template['components'][]['type'] must be one of {HEADER, BODY, "
                            "BUTTON, FOOTER, CAROUSEL, LIMITED_TIME_OFFER}.")
            for p in component.get("parameters", []):
                if not isinstance(p, dict) or "type" not in p:
                    raise Invalid(131008, "The parameter template['components'][]['parameters'][]"
                                          "['type'] is required.")
                if p["type"] == "text" and not isinstance(p.get("text"), str):
                    raise Invalid(131009, "Parameter of type text is missing text value")
            if component["type"] == "body":
                body_params += len(component.get("parameters", []))
        if not self.templates:
            return
        expected = self.templates.get((name, code))
        if expected is None:
            raise Invalid(132001, f"template name ({name}) does not exist in {code}")
        if body_params != expected:
            raise Invalid(132000, f"body: number of localizable_params ({body_params}) does not "
                                  f"match the expected number of params ({expected})")

    async def _upload(self, request: Request) -> Response:
        """POST /{version}/{phone_number_id}/media, multipart: file, type, messaging_product."""
        form = await request.form()
        params: dict[str, Any] = {}
        upload: UploadFile | None = None
        for key, value in form.multi_items():
            if isinstance(value, str):
                params[key] = value
            else:
                upload = value if key == "file" else upload
                params[key] = f"<file {value.filename}>"
        if not self._authorised(request):
            return self._answer(request, params, auth_error(), 401)
        if request.path_params["node"] != self.phone_number_id:
            return self._answer(request, params,
                                unknown_object(request.path_params["node"], "post"), 400)

        def invalid(detail: str) -> JSONResponse:
            return self._answer(request, params, graph_error(100, detail, message=f"(#100) {detail}"),
                                400)

        if params.get("messaging_product") != "whatsapp":
            return invalid("The parameter messaging_product is required.")
        if upload is None:
            return invalid("The parameter file is required.")
        mime = params.get("type") or upload.content_type or ""
        if mime.split(";")[0].strip() not in SUPPORTED_MIME:
            return invalid(f"Param file must be a file with one of the following types: "
                           f"{', '.join(SUPPORTED_MIME)}. Received file of type '{mime}'.")
        content = await upload.read()
        media_id = str(next(self._media_ids))
        with self.cond:
            self.media[media_id] = Media(content, mime, upload.filename)
        return self._answer(request, params, {"id": media_id})

    async def _node(self, request: Request) -> Response:
        """GET /{version}/{media_id} (the URL and metadata) and DELETE /{version}/{media_id}."""
        params = dict(request.query_params)
        params.pop("access_token", None)
        if not self._authorised(request):
            return self._answer(request, params, auth_error(), 401)
        node = request.path_params["node"]
        verb = request.method.lower()
        media = self.media.get(node)
        owner = params.get("phone_number_id")
        if media is None or (owner is not None and owner != self.phone_number_id):
            return self._answer(request, params, unknown_object(node, verb), 400)
        if request.method == "DELETE":
            with self.cond:
                self.media.pop(node, None)
            return self._answer(request, params, {"success": True})
        # business-phone-numbers/media, "Get media URL". The page's syntax quotes
        # file_size as a string placeholder; Meta's answers carry a number.
        return self._answer(request, params, {
            "messaging_product": "whatsapp", "url": self.media_url(node),
            "mime_type": media.mime, "sha256": media.sha256, "file_size": len(media.content),
            "id": node})

    async def _download(self, request: Request) -> Response:
        """GET the media URL with the bearer token: the bytes with their Content-Type. Without
        the token "the request will fail" (401 here); an unknown or expired URL is 404."""
        params = dict(request.query_params)
        if not self._authorised(request):
            return self._answer(request, params, auth_error(), 401)
        with self.cond:
            issued = self._urls.get(params.get("hash", ""))
        media = self.media.get(params.get("mid", ""))
        if (issued is None or media is None or issued[0] != params.get("mid")
                or time.monotonic() - issued[1] > self.url_ttl):
            self._record(request, params, 404, None)
            return Response(status_code=404)
        self._record(request, params, 200, None)
        return Response(media.content, media_type=media.mime)
