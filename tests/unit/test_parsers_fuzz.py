"""The webhook parsers take any JSON: real Telegram updates and WhatsApp payloads with any
part replaced by anything (or left out), and plain random JSON. They never raise; what they
return has the types and sizes the rest of the bot stores."""

from __future__ import annotations

import asyncio
import contextlib
import copy
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.channels.telegram import Incoming as TelegramIncoming
from bot.channels.telegram import incoming as telegram_incoming
from bot.channels.telegram.client import make_client
from bot.channels.whatsapp import Media
from bot.channels.whatsapp import incoming as whatsapp_incoming
from bot.channels.whatsapp.service import WhatsAppService
from conversations.base import Event
from tests.fakes.telegram import FakeTelegram
from tests.fakes.whatsapp import FakeWhatsApp

FUZZ = settings(max_examples=300, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
TG, WA = FakeTelegram(), FakeWhatsApp()  # only their payload builders are used here
PHONE_ID = WA.phone_number_id

scalars = (st.none() | st.booleans() | st.integers(min_value=-2**70, max_value=2**70)
           | st.floats(allow_nan=False) | st.text(max_size=12)
           | st.sampled_from(["", "x", "private", "text", "image", "messages", "c:x", "9" * 40,
                              "-100123", "1700000000", PHONE_ID]))
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=10), inner, max_size=4),
                           max_leaves=16)


def _paths(node: Any, here: tuple = ()) -> list[tuple]:
    found = [here]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*here, key))
    elif isinstance(node, list):
        for n, value in enumerate(node):
            found += _paths(value, (*here, n))
    return found


@st.composite
def mutated(draw: st.DrawFn, bases: list[Any]) -> Any:
    """One of `bases` with a few of its parts replaced by any JSON, or deleted."""
    payload = copy.deepcopy(draw(st.sampled_from(bases)))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(payload)))
        if not path:
            payload = draw(json_values)
            continue
        parent = payload
        try:
            for step in path[:-1]:
                parent = parent[step]
            if draw(st.booleans()) and isinstance(parent, dict):
                del parent[path[-1]]
            else:
                parent[path[-1]] = draw(json_values)
        except (KeyError, IndexError, TypeError):  # an earlier change moved the path
            pass
    return payload


# Telegram -----------------------------------------------------------------------------------

class Files:
    async def download(self, file_id: str) -> bytes:
        assert isinstance(file_id, str)
        return b"\x89PNG\r\n\x1a\nxx"


_message = {"message_id": 9, "chat": {"id": 42, "type": "private"}, "date": 1, "text": "x"}
UPDATES = [TG.text_update(42, "/start"), TG.contact_update(42, "+966501234567"),
           TG.photo_update(42, b"\x89PNG\r\n\x1a\nxx", "cap"),
           TG.document_update(42, b"%PDF-1.4", "a.pdf", "application/pdf"),
           TG.press_update(42, _message, "c:accept"),
           TG.group_text_update(42, -100123, "hi", thread_id=5)]


def _check_telegram(update: Any, staff_group: int | None = None) -> None:
    got = asyncio.run(telegram_incoming(update, Files(), 1024, staff_group))  # never raises
    if got is None:
        return
    assert isinstance(got, TelegramIncoming)
    inbound = got.inbound
    assert isinstance(inbound.sender_id, str) and 0 < len(inbound.sender_id) <= 64
    assert isinstance(inbound.chat_id, str) and 0 < len(inbound.chat_id) <= 64
    assert isinstance(inbound.dedupe_id, str) and len(inbound.dedupe_id) <= 100
    assert isinstance(inbound.event, Event)
    for text in (inbound.event.text, inbound.event.choice, inbound.event.contact):
        assert text is None or isinstance(text, str)
    for ref in (inbound.reply_to, inbound.thread_id, got.callback_id, got.message_id,
                inbound.language_hint):
        assert ref is None or isinstance(ref, str)
    if inbound.event.file is not None:
        assert isinstance(inbound.event.file.name, str) and isinstance(inbound.event.file.size, int)


@FUZZ
@given(mutated(UPDATES), st.sampled_from([None, -100123]))
def test_telegram_updates_of_any_shape_are_read_or_skipped(update, staff_group):
    _check_telegram(update, staff_group)


@FUZZ
@given(json_values)
def test_telegram_random_json_is_skipped(value):
    _check_telegram(value)


CLIENTS = [make_client(runtime, "123456:ABC", "http://127.0.0.1:9") for runtime in ("ptb", "aiogram")]


@FUZZ
@given(mutated(UPDATES), st.sampled_from(CLIENTS))
def test_what_a_runtime_makes_of_any_update_is_read_or_skipped(update, client):
    """The webhook reads a body through the runtime first (which may refuse it: the server
    answers that), then the same parser."""
    try:
        parsed = client.parse(update)
    except Exception:
        return
    _check_telegram(parsed)


# WhatsApp -----------------------------------------------------------------------------------

PAYLOADS = [WA.text_message("966500000001", "مرحبا"),
            WA.button_reply("966500000001", "accept", "أوافق", context_id="wamid.1"),
            WA.list_reply("966500000001", "food_basket", "سلة", "سلة غذائية", context_id="wamid.1"),
            WA.image_message("966500000001", "1037543291543636", "image/jpeg"),
            WA.document_message("966500000001", "1037543291543637", "application/pdf"),
            WA.contacts_message("966500000001", "+966500000001", "أنا",
                                phone_wa_id="966500000001"),
            WA.location_message("966500000001", 21.4, 39.8, "مكة"),
            WA.status_update("wamid.1", "966500000001", "failed"),
            WA.status_update("wamid.1", "966500000001", "read")]


def _check_whatsapp(payload: Any) -> None:
    found, statuses = whatsapp_incoming(payload, PHONE_ID)  # never raises
    assert all(isinstance(s, dict) for s in statuses)
    for item in found:
        assert isinstance(item.wa_id, str) and 0 < len(item.wa_id) <= 64
        assert isinstance(item.message_id, str) and 0 < len(item.message_id) <= 100
        assert isinstance(item.timestamp, int)
        datetime.fromtimestamp(item.timestamp, UTC)  # the service turns it into a time
        assert item.reply_to is None or (isinstance(item.reply_to, str) and len(item.reply_to) <= 100)
        assert (item.event is None) != (item.media is None)
        if item.media is not None:
            assert isinstance(item.media, Media)
            assert all(isinstance(v, str) for v in (item.media.media_id, item.media.name,
                                                      item.media.mime, item.media.caption))
        else:
            for text in (item.event.text, item.event.choice, item.event.contact):
                assert text is None or isinstance(text, str)


@FUZZ
@given(mutated(PAYLOADS))
def test_whatsapp_payloads_of_any_shape_are_read_or_skipped(payload):
    _check_whatsapp(payload)


@FUZZ
@given(json_values)
def test_whatsapp_random_json_is_skipped(value):
    _check_whatsapp(value)


class _Uow:
    def __init__(self, seen: list) -> None:
        self.seen = seen

    async def delivered(self, channel: str, ref: str, state: str, at: datetime,
                        error: str | None = None) -> bool:
        assert isinstance(ref, str) and len(ref) <= 64 and isinstance(at, datetime)
        assert error is None or isinstance(error, str)
        self.seen.append(state)
        return True


@FUZZ
@given(mutated(PAYLOADS[-2:]))
def test_delivery_reports_of_any_shape_are_recorded_or_skipped(payload):
    seen: list[str] = []

    @contextlib.asynccontextmanager
    async def unit_of_work():
        yield _Uow(seen)

    service = WhatsAppService.__new__(WhatsAppService)
    service.app = SimpleNamespace(db=SimpleNamespace(unit_of_work=unit_of_work),
                                  outbox=SimpleNamespace(clock=lambda: datetime.now(UTC)))
    _, statuses = whatsapp_incoming(payload, PHONE_ID)

    async def go() -> None:
        for status in statuses:
            await service._status(status)

    asyncio.run(go())
    assert all(state in ("sent", "delivered", "read", "failed") for state in seen)
