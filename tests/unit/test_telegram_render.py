"""The Telegram adapter's pure parts: real Bot API JSON in, Bot API messages out."""

from __future__ import annotations

import asyncio

import pytest

from bot import profiles
from bot.channels.pieces import split
from bot.channels.telegram import CALLBACK, TEXT_LIMIT, incoming, markup, messages
from conversations.base import Choice, Expects, Reply
from tests.fakes.telegram import FakeTelegram


class Files:
    """Stands in for the Bot API client where only downloads are needed."""

    def __init__(self, content: bytes = b"\x89PNG\r\n\x1a\nxx") -> None:
        self.content, self.asked = content, []

    async def download(self, file_id: str) -> bytes:
        self.asked.append(file_id)
        return self.content


def parse(update, client=None, max_bytes=10 * 1024 * 1024):
    return asyncio.run(incoming(update, client or Files(), max_bytes))


FAKE = FakeTelegram()  # only its update builders are used here


def test_text_and_command():
    got = parse(FAKE.text_update(42, "/start"))
    assert got.inbound.event.text == "/start" and got.inbound.sender_id == "42"
    assert got.inbound.dedupe_id and got.inbound.language_hint == "ar"


def test_callback_carries_the_choice_and_the_message_it_was_on():
    message = {"message_id": 9, "chat": {"id": 42, "type": "private"}, "date": 1, "text": "x"}
    got = parse(FAKE.press_update(42, message, "c:accept"))
    assert got.inbound.event.kind == "choice" and got.inbound.event.choice == "accept"
    assert got.inbound.reply_to == "9" and got.callback_id and got.message_id == "9"


def test_only_the_senders_own_contact_counts():
    assert parse(FAKE.contact_update(42, "+966501234567")).inbound.event.contact_is_own
    assert not parse(FAKE.contact_update(42, "+966501234567", owner=7)).inbound.event.contact_is_own


def test_the_largest_photo_is_downloaded_and_typed_by_its_bytes():
    files = Files()
    got = parse(FAKE.photo_update(42, b"\x89PNG\r\n\x1a\nxx"), files)
    assert len(files.asked) == 1
    assert not files.asked[0].endswith("-s")  # not the thumbnail
    assert got.inbound.event.file.mime == "image/png" and got.inbound.event.file.size == 10


def test_a_document_over_the_limit_is_not_downloaded():
    files = Files()
    got = parse(FAKE.document_update(42, b"", "big.pdf", "application/pdf", size=30_000_000),
                files, max_bytes=10 * 1024 * 1024)
    assert files.asked == [] and got.inbound.event.file.size == 30_000_000


def test_stickers_are_other_and_groups_are_ignored():
    sticker = FAKE._message(42, sticker={"file_id": "x", "file_unique_id": "y", "type": "regular",
                                         "width": 512, "height": 512, "is_animated": False,
                                         "is_video": False})
    assert parse(sticker).inbound.event.kind == "other"
    group = FAKE.text_update(42, "hi")
    group["message"]["chat"] = {"id": -100123, "type": "supergroup", "title": "staff"}
    assert parse(group) is None


def test_long_text_is_split_on_line_ends_and_buttons_go_last():
    text = "\n".join(f"سطر رقم {i} " + "ن" * 50 for i in range(200))
    reply = Reply(text, (Choice("confirm", "أؤكد"),))
    parts = messages(reply)
    assert len(parts) > 1 and all(len(t) <= 4096 for t, _ in parts)
    assert "".join(t + "\n" for t, _ in parts).strip() == text
    assert [m is None for _, m in parts] == [True] * (len(parts) - 1) + [False]
    assert split("x" * 9000, TEXT_LIMIT) == ["x" * 4096, "x" * 4096, "x" * 808]


def test_phone_questions_offer_the_contact_button():
    reply = Reply("الجوال؟", (Choice("back", "رجوع"),), Expects("mobile", "phone"), "📱 مشاركة رقمي")
    keyboard = markup(reply)["keyboard"]
    assert keyboard[0] == [{"text": "📱 مشاركة رقمي", "request_contact": True}]
    assert keyboard[1] == [{"text": "رجوع"}]  # typing or tapping the label works
    assert markup(Reply("نص")) == {"remove_keyboard": True}


@pytest.mark.parametrize("name", profiles.shipped())
def test_every_callback_fits_telegrams_64_bytes(name):
    for service in profiles.load(name).services:
        ids = [service.key] + [f.key for f in service.fields]
        ids += [o.key for f in service.fields for o in f.options]
        assert all(len(f"{CALLBACK}{i}".encode()) <= 64 for i in ids)


def test_an_update_of_an_unknown_shape_is_skipped_not_fatal():
    from types import SimpleNamespace

    from bot.channels.telegram.service import TelegramService

    service = TelegramService.__new__(TelegramService)
    service.client, service.max_bytes = Files(), 10
    service.app = SimpleNamespace(profile=SimpleNamespace(staff_group=None))

    async def go():
        await service.handle({"update_id": 5, "message": {"chat": {"type": "private"},
                                                          "from": {"no_id": True}}})

    asyncio.run(go())  # returns quietly: the polling loop moves on
