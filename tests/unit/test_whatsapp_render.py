"""WhatsApp's side of the channel, without a network: replies to Graph API messages within
WhatsApp's limits, webhook payloads (shaped as in Meta's messages-webhook reference) to
events, and what each Graph API error code means to the outbox."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from bot.channels.errors import Rejected, RetryLater, TemporaryFailure
from bot.channels.pieces import clip, graphemes, split
from bot.channels.whatsapp import incoming, messages
from bot.channels.whatsapp.client import OutsideWindow, WhatsAppClient
from conversations.base import Choice, Expects, Reply

PHONE_ID = "106540352242922"


def choices(*labels: str) -> tuple[Choice, ...]:
    return tuple(Choice(f"c{n}", label) for n, label in enumerate(labels))


def test_up_to_three_choices_are_reply_buttons_with_short_titles():
    [message] = messages("966501234567", Reply("هل توافق؟", choices("✅ أوافق", "✖ لا أوافق")))
    assert message["type"] == "interactive" and message["to"] == "966501234567"
    inter = message["interactive"]
    assert inter["type"] == "button" and inter["body"]["text"] == "هل توافق؟"
    assert [b["reply"] for b in inter["action"]["buttons"]] == [
        {"id": "c0", "title": "✅ أوافق"}, {"id": "c1", "title": "✖ لا أوافق"}]


def test_four_to_ten_choices_are_a_list_with_long_labels_in_the_description():
    long = "مساعدة مالية للأسر المحتاجة بعد دراسة الحالة"
    [message] = messages("1", Reply("اختر", choices("سلة غذائية", long, "دعم الإيجار", "أخرى")),
                         "الخيارات")
    inter = message["interactive"]
    assert inter["type"] == "list" and inter["action"]["button"] == "الخيارات"
    rows = inter["action"]["sections"][0]["rows"]
    assert rows[0] == {"id": "c0", "title": "سلة غذائية"}
    assert len(rows[1]["title"]) <= 24 and rows[1]["title"].endswith("…")
    assert rows[1]["description"] == long  # 44 characters: within 72


def test_more_than_ten_choices_are_numbered_lines_answered_by_number():
    labels = [f"خيار {n}" for n in range(1, 13)]
    [message] = messages("1", Reply("اختر رقمًا", choices(*labels)))
    assert message["type"] == "text"
    assert "1. خيار 1" in message["text"]["body"] and "12. خيار 12" in message["text"]["body"]


def test_long_text_is_split_and_the_buttons_go_on_the_last_piece():
    text = ("سطر طويل من النص " * 40 + "\n") * 8  # about 5,500 characters
    out = messages("1", Reply(text, choices("نعم", "لا")))
    assert all(len(m["text"]["body"]) <= 4096 for m in out[:-1])
    assert out[-1]["type"] == "interactive" and len(out[-1]["interactive"]["body"]["text"]) <= 1024
    joined = "".join(m["text"]["body"] if m["type"] == "text" else m["interactive"]["body"]["text"]
                     for m in out)
    assert joined.replace("\n", "").replace(" ", "") == text.replace("\n", "").replace(" ", "")
    plain = messages("1", Reply("ا" * 9000))
    assert [len(m["text"]["body"]) for m in plain] == [4096, 4096, 808]


def test_an_announcement_carries_no_buttons():
    [message] = messages("1", Reply("إعلان", choices("نعم"), announcement=True))
    assert message["type"] == "text"


def test_cutting_keeps_whole_letters_and_emoji():
    name = "مُحَمَّدٌ عَبْدُ اللَّهِ الْغَامِدِيُّ"
    cut = clip(name, 20)
    assert len(cut) <= 20 and cut.endswith("…")
    clusters = graphemes(name)
    prefixes = {"".join(clusters[:n]).rstrip() for n in range(len(clusters) + 1)}
    assert cut[:-1] in prefixes  # whole letters, each with all its marks
    family = "👨\u200d👩\u200d👧"  # one emoji of five code points
    assert clip(family * 10, 20) == family * 3 + "…"
    assert clip("قصير", 20) == "قصير"
    marked = "بِ" * 10  # no space or line end to cut at: cut between letters
    pieces = split(marked, 5)
    assert "".join(pieces) == marked and all(p.startswith("ب") and len(p) <= 5 for p in pieces)


def test_repeated_titles_are_made_unique():
    [message] = messages("1", Reply("?", choices("نعم", "نعم")))
    titles = [b["reply"]["title"] for b in message["interactive"]["action"]["buttons"]]
    assert len(set(titles)) == 2 and all(len(t) <= 20 for t in titles)


def webhook(*messages: dict, statuses: list | None = None, phone_id: str = PHONE_ID) -> dict:
    value = {"messaging_product": "whatsapp",
             "metadata": {"display_phone_number": "15550783881", "phone_number_id": phone_id},
             "contacts": [{"profile": {"name": "فاطمة"}, "wa_id": "966501234567"}]}
    if messages:
        value["messages"] = list(messages)
    if statuses:
        value["statuses"] = statuses
    return {"object": "whatsapp_business_account",
            "entry": [{"id": "102290129340398", "changes": [{"value": value, "field": "messages"}]}]}


def msg(kind: str, **body: object) -> dict:
    return {"from": "966501234567", "id": f"wamid.{kind}", "timestamp": "1749416383",
            "type": kind, **body}


def test_webhook_messages_become_events():
    payload = webhook(
        msg("text", text={"body": "السلام عليكم"}),
        msg("interactive", context={"from": "15550783881", "id": "wamid.question"},
            interactive={"type": "button_reply", "button_reply": {"id": "accept", "title": "أوافق"}}),
        msg("interactive", interactive={"type": "list_reply",
                                        "list_reply": {"id": "food", "title": "سلة", "description": ""}}),
        msg("image", image={"caption": "هويتي", "mime_type": "image/jpeg", "sha256": "x", "id": "m1"}),
        msg("document", document={"filename": "سجل.pdf", "mime_type": "application/pdf",
                                  "sha256": "y", "id": "m2"}),
        msg("contacts", contacts=[{"name": {"formatted_name": "أحمد"},
                                   "phones": [{"phone": "+966 50 123 4567", "wa_id": "966501234567",
                                               "type": "CELL"}]}]),
        msg("contacts", contacts=[{"name": {"formatted_name": "جار"},
                                   "phones": [{"phone": "+966 55 000 0000", "type": "CELL"}]}]),
        msg("location", location={"latitude": 21.42, "longitude": 39.82, "name": "المنزل",
                                  "address": "العزيزية، مكة"}),
        msg("sticker", sticker={"id": "s1", "mime_type": "image/webp", "animated": False}),
    )
    found, statuses = incoming(payload, PHONE_ID)
    assert statuses == []
    text, button, row, image, document, own, other, place, sticker = found
    assert text.event.kind == "text" and text.event.text == "السلام عليكم"
    assert button.event.choice == "accept" and button.reply_to == "wamid.question"
    assert row.event.choice == "food"
    assert image.event is None and image.media.media_id == "m1" and image.media.caption == "هويتي"
    assert image.media.name.endswith(".jpg")
    assert document.media.name == "سجل.pdf" and document.media.mime == "application/pdf"
    assert own.event.kind == "contact" and own.event.contact_is_own
    assert other.event.kind == "contact" and not other.event.contact_is_own
    assert place.event.text == "المنزل, العزيزية، مكة (21.42, 39.82)"
    assert sticker.event.kind == "other"
    assert incoming(payload, "another-number") == ([], [])  # not for our number


def test_status_updates_are_read_apart_from_messages():
    status = {"id": "wamid.out", "status": "delivered", "timestamp": "1749416390",
              "recipient_id": "966501234567"}
    found, statuses = incoming(webhook(statuses=[status]), PHONE_ID)
    assert found == [] and statuses == [status]


def error(code: int, status: int = 400) -> httpx.Response:
    return httpx.Response(status, json={"error": {
        "message": f"(#{code}) something", "type": "OAuthException", "code": code,
        "error_data": {"messaging_product": "whatsapp", "details": f"details of {code}"},
        "fbtrace_id": "Az8or2yhqkZfEZ-_4Qn_Bam"}})


@pytest.mark.parametrize(("code", "status", "raised"), [
    (130429, 400, RetryLater), (80007, 400, RetryLater), (131056, 400, TemporaryFailure),
    (131047, 400, OutsideWindow), (131000, 500, TemporaryFailure), (100, 400, Rejected),
    (131026, 400, Rejected),
])
def test_each_error_code_means_what_the_outbox_should_do(code, status, raised):
    async def go() -> None:
        client = WhatsAppClient("http://graph.test", "v21.0", PHONE_ID, "token")
        client.http = httpx.AsyncClient(transport=httpx.MockTransport(lambda r: error(code, status)))
        with pytest.raises(raised) as caught:
            await client.send({"messaging_product": "whatsapp", "to": "1", "type": "text",
                               "text": {"body": "x"}})
        assert str(code) in str(caught.value)
        await client.close()
    asyncio.run(go())


def test_throughput_errors_in_a_row_wait_longer_and_a_success_resets():
    replies = [error(130429), error(130429), error(130429),
               httpx.Response(200, json={"messaging_product": "whatsapp",
                                         "contacts": [{"input": "1", "wa_id": "1"}],
                                         "messages": [{"id": "wamid.ok"}]}),
               error(130429)]

    async def go() -> list[float]:
        client = WhatsAppClient("http://graph.test", "v21.0", PHONE_ID, "token")
        client.http = httpx.AsyncClient(transport=httpx.MockTransport(lambda r: replies.pop(0)))
        waits = []
        for _ in range(5):
            try:
                assert await client.send({"to": "1"}) == "wamid.ok"
            except RetryLater as exc:
                waits.append(exc.seconds)
        await client.close()
        return waits
    assert asyncio.run(go()) == [2.0, 4.0, 8.0, 2.0]


def test_a_phone_question_needs_no_contact_button_on_whatsapp():
    [message] = messages("1", Reply("رقم الجوال؟", choices("↩ رجوع"), expects=Expects("mobile", "phone"),
                                    contact_label="📱 مشاركة رقمي"))
    assert message["type"] == "interactive"
    assert [b["reply"]["title"] for b in message["interactive"]["action"]["buttons"]] == ["↩ رجوع"]
