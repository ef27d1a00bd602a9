"""Segments of an announcement: the shell's syntax, matching one request, the wording."""

from __future__ import annotations

import pytest

from conversations import broadcast
from conversations.base import Event
from conversations.broadcast import Segment, SegmentError, parse_segment


def test_the_shell_syntax_combines_conditions(bakkah):
    segment = parse_segment(["status=submitted,approved", "service=food_basket", "open-case",
                             "district=العزيزية", "income_source=الضمان الاجتماعي"], bakkah)
    assert segment.statuses == ["submitted", "approved"]
    assert segment.services == ["food_basket"]
    assert segment.open_case
    assert segment.fields == {"district": ["العزيزية"], "income_source": ["social_security"]}
    volunteers = parse_segment(["volunteers", "district=العزيزية"], bakkah)
    assert volunteers.volunteers and not volunteers.open_case


@pytest.mark.parametrize("spec", ["status=sent", "service=gold", "colour=red", "status=",
                                  "income_source=lottery"])
def test_a_wrong_condition_is_refused_with_a_reason(bakkah, spec):
    with pytest.raises(SegmentError):
        parse_segment([spec], bakkah)


def test_the_request_conditions_hold_for_one_request():
    segment = Segment(statuses=["submitted"], services=["food_basket"],
                      fields={"district": ["العزيزية"]})
    assert segment.matches("submitted", "food_basket", {"district": "العزيزيه"})  # folded
    assert not segment.matches("approved", "food_basket", {"district": "العزيزية"})
    assert not segment.matches("submitted", "rent_support", {"district": "العزيزية"})
    assert not segment.matches("submitted", "food_basket", {"district": "الشوقية"})
    assert not segment.matches("submitted", "food_basket", {})


def test_sensitive_and_file_fields_cannot_aim_an_announcement(bakkah):
    keys = {f.key for f in broadcast.segmentable_fields(bakkah)}
    assert "district" in keys
    assert not keys & {"national_id", "iban", "mobile", "id_photo", "monthly_income"}


@pytest.mark.parametrize("typed,wanted", [
    ("إيقاف", False), ("ايقاف", False), ("أيقاف", False), ("إِيقَاف", False), ("/stop", False),
    ("STOP", False), ("إلغاء الاشتراك", False), ("/subscribe", True), ("اشتراك", True),
    ("لا أريد إيقاف طلبي", None), ("متى التوزيع", None),
])
def test_stop_and_subscribe_words(ctx_for, bakkah, typed, wanted):
    assert broadcast.wants(Event("text", text=typed), ctx_for(bakkah)) is wanted


def test_the_message_keeps_the_admins_text_and_says_how_to_stop(ctx_for, bakkah):
    ctx = ctx_for(bakkah)
    reply = broadcast.message("<b>غدًا</b> *التوزيع*", "ar", ctx)
    assert reply.text.startswith("<b>غدًا</b> *التوزيع*")
    assert "/stop" in reply.text and "إيقاف" in reply.text and reply.announcement
    assert not reply.choices


def test_an_announcement_fits_a_telegram_message_in_either_language(ctx_for, bakkah):
    ctx = ctx_for(bakkah)
    longest = "ش" * broadcast.TEXT_LIMIT
    for lang in ("ar", "en"):
        assert len(broadcast.message(longest, lang, ctx).text) <= 4096
        assert len(broadcast.message("ص" * broadcast.CAPTION_LIMIT, lang, ctx).text) <= 1024
    assert broadcast.content_problem(longest + "x", False, "ar", ctx)
    assert broadcast.content_problem("", False, "ar", ctx)
    assert broadcast.content_problem("", True, "ar", ctx) is None  # a photo needs no caption
