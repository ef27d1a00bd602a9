"""The admin's announcement composer as a pure step (conversations.broadcast.compose and
after), without a database: what the admin is told, what the draft keeps, what the
handler is asked to do."""

from __future__ import annotations

import hashlib

import pytest

from conversations import broadcast
from conversations.base import Event, FileRef
from conversations.broadcast import (
    AddValue,
    Begin,
    Cancel,
    ChooseField,
    Draft,
    Drop,
    Launch,
    Launched,
    Open,
    Pick,
    Preview,
    Segment,
    Send,
    StoreFile,
    Write,
    after,
    compose,
)

SUBMITTED = Segment(statuses=["submitted"])
ON_MENU = Draft(stage="segment", text="توزيع السلال يوم الخميس", segment=SUBMITTED)
AWAITS_DISTRICT = ON_MENU.model_copy(update={"stage": "value", "field": "district"})
CONFIRM = ON_MENU.model_copy(update={"stage": "confirm"})


@pytest.fixture
def ctx(ctx_for, bakkah):
    return ctx_for(bakkah)


def text(words: str) -> Write:
    return Write(Event("text", text=words))


def file(mime: str, caption: str = "", content: bytes = b"\x89PNG\r\n\x1a\n" + b"0" * 64) -> Write:
    ref = FileRef("poster", mime, len(content), hashlib.sha256(content).hexdigest(), content)
    return Write(Event("file", text=caption, file=ref))


def said(step: broadcast.ComposeStep) -> str:
    return "\n".join(r.text for r in step.replies)


def buttons(step: broadcast.ComposeStep) -> list[str]:
    return [c.id for r in step.replies for c in r.choices]


def test_the_content_is_asked_first(ctx):
    step = compose(None, Begin(), "en", ctx)
    assert step.draft == Draft() and step.draft.stage == "content"
    assert "Send its text, or a photo or document" in said(step)
    assert step.actions == (Open(),)


def test_a_new_broadcast_drops_the_one_being_composed(ctx):
    step = compose(ON_MENU, Begin(), "en", ctx)
    assert step.draft == Draft() and step.actions == (Drop(), Open())


@pytest.mark.parametrize("given,told", [
    (text(""), "Send the announcement as text"),
    (text("   "), "Send the announcement as text"),
    (Write(Event("other")), "Send the announcement as text"),  # a sticker, a voice note
    (text("ش" * (broadcast.TEXT_LIMIT + 1)), f"at most {broadcast.TEXT_LIMIT}"),
    (file("image/png", "ص" * (broadcast.CAPTION_LIMIT + 1)), f"at most {broadcast.CAPTION_LIMIT}"),
    (file("image/gif"), "a photo (JPEG or PNG) or a PDF document"),
    (file("text/plain", "the list"), "a photo (JPEG or PNG) or a PDF document"),
    (file("image/png", content=b""), "This file is too large"),  # the channel did not fetch it
], ids=["empty", "blank", "sticker", "too-long", "caption-too-long", "gif", "text-file",
        "too-large"])
def test_content_that_cannot_be_an_announcement_is_refused_and_the_draft_kept(ctx, given, told):
    step = compose(Draft(), given, "en", ctx)
    assert told in said(step)
    assert step.draft == Draft() and step.actions == ()


def test_a_refusal_is_in_the_admins_language(ctx):
    step = compose(Draft(), text("ش" * (broadcast.TEXT_LIMIT + 1)), "ar", ctx)
    assert said(step) == broadcast.content_problem("ش" * (broadcast.TEXT_LIMIT + 1), False,
                                                   "ar", ctx)
    assert "Please shorten" not in said(step) and step.draft == Draft()


def test_the_text_leads_to_the_segment_menu(ctx):
    step = compose(Draft(), text("  توزيع السلال يوم الخميس  "), "en", ctx)
    assert step.draft == Draft(stage="segment", text="توزيع السلال يوم الخميس")
    assert "Who should receive it?" in said(step) and "Everyone reachable" in said(step)
    assert "bc_pick:done" in buttons(step) and step.actions == ()


def test_a_photo_is_kept_and_the_menu_comes_once_it_is(ctx):
    given = file("image/png", "موعد التوزيع")
    step = compose(Draft(), given, "en", ctx)
    assert step.replies == () and step.actions == (StoreFile(given.event.file),)
    kept = after(step.actions[0], 42, step.draft, "en", ctx)
    assert kept.draft == Draft(stage="segment", text="موعد التوزيع", document_id=42)
    assert "bc_pick:done" in buttons(kept)


@pytest.mark.parametrize("given", [Pick("done"), AddValue("status=approved"),
                                   ChooseField("district"), Send()],
                         ids=["done", "add", "field", "send"])
def test_nothing_but_the_content_is_taken_before_it(ctx, given):
    step = compose(Draft(), given, "en", ctx)
    assert step.draft == Draft() and step.actions == ()
    assert "Send its text, or a photo or document" in said(step)


def test_a_free_text_field_waits_for_a_typed_value(ctx):
    step = compose(ON_MENU, ChooseField("district"), "en", ctx)
    assert step.draft == AWAITS_DISTRICT and step.draft.awaits_text
    assert "Type the value of “District in Makkah”" in said(step)


def test_a_choice_field_offers_its_options(ctx):
    step = compose(ON_MENU, ChooseField("income_source"), "en", ctx)
    assert step.draft == ON_MENU and not step.draft.awaits_text
    assert "bc_add:income_source=social_security" in buttons(step)


@pytest.mark.parametrize("given", [text(""), text("  \u200f "), file("image/png", "العزيزية")],
                         ids=["empty", "blank", "a-file"])
def test_a_blank_value_is_refused_and_the_segment_kept(ctx, given):
    step = compose(AWAITS_DISTRICT, given, "en", ctx)
    assert said(step) == "Please type the value as text."
    assert step.draft == AWAITS_DISTRICT  # still waiting, the status chosen before kept


def test_a_typed_value_joins_the_conditions(ctx):
    step = compose(AWAITS_DISTRICT, text(" العزيزية "), "en", ctx)
    assert step.draft.stage == "segment" and step.draft.field is None
    assert step.draft.segment == Segment(statuses=["submitted"], fields={"district": ["العزيزية"]})
    assert "District in Makkah: العزيزية" in said(step) and "Request status:" in said(step)


@pytest.mark.parametrize("given,segment", [
    (AddValue("service=food_basket"), Segment(statuses=["submitted"], services=["food_basket"])),
    (AddValue("status=submitted"), SUBMITTED),  # once, however often it is pressed
    (AddValue("status=approved"), Segment(statuses=["approved", "submitted"])),
    (AddValue("income_source=social_security"),
     Segment(statuses=["submitted"], fields={"income_source": ["social_security"]})),
    (AddValue("status=sent"), SUBMITTED),  # a stale or forged button: nothing lost
    (AddValue("colour=red"), SUBMITTED),
    (Pick("open_case"), Segment(statuses=["submitted"], open_case=True)),
    (Pick("volunteers"), Segment(statuses=["submitted"], volunteers=True)),
    (Pick("clear"), Segment()),
    (ChooseField("iban"), SUBMITTED),  # sensitive: never a condition, the fields again
], ids=["service", "same-status", "second-status", "choice", "bad-status", "bad-field",
        "open-case", "volunteers", "clear", "sensitive-field"])
def test_the_segment_menu_buttons(ctx, given, segment):
    step = compose(ON_MENU, given, "en", ctx)
    assert step.draft == ON_MENU.model_copy(update={"segment": segment})
    assert step.actions == ()


def test_done_previews_who_it_reaches(ctx):
    step = compose(ON_MENU, Pick("done"), "en", ctx)
    assert step.actions == (Preview(SUBMITTED),) and step.replies == ()
    shown = after(step.actions[0], (2, 1), step.draft, "en", ctx)
    assert shown.draft == CONFIRM
    sample, count = shown.replies
    assert sample.text.startswith(ON_MENU.text) and sample.announcement and "/stop" in sample.text
    assert "will reach 2 beneficiaries" in count.text
    assert "1 person who stopped announcements or blocked the bot is left out" in count.text
    assert "bc_send:" in buttons(shown)


def test_done_with_nobody_matching_shows_the_menu_again(ctx):
    step = compose(ON_MENU, Pick("done"), "en", ctx)
    shown = after(step.actions[0], (0, 3), step.draft, "en", ctx)
    assert shown.draft == ON_MENU  # no confirm: there is nothing to send
    assert "Nobody matches these conditions" in said(shown)
    assert "bc_pick:done" in buttons(shown) and "bc_send:" not in buttons(shown)


@pytest.mark.parametrize("draft,actions", [
    (ON_MENU, ()), (AWAITS_DISTRICT, ()), (CONFIRM, (Launch(),)),
], ids=["segment", "value", "confirm"])
def test_send_only_from_the_confirm(ctx, draft, actions):
    step = compose(draft, Send(), "en", ctx)
    assert step.actions == actions and step.draft == draft


def test_the_launch_says_how_many_it_goes_to(ctx):
    sent = after(Launch(), Launched(7, 2), CONFIRM, "en", ctx)
    assert sent.draft is None
    assert "Announcement #7 is on its way to 2 beneficiaries." in said(sent)
    assert "Left to send: 2" in said(sent) and "bc_pause:7" in buttons(sent)


def test_change_who_receives_it_goes_back_to_the_menu(ctx):
    step = compose(CONFIRM, Pick("again"), "en", ctx)
    assert step.draft == ON_MENU and "bc_pick:done" in buttons(step)


@pytest.mark.parametrize("draft", [Draft(), ON_MENU, AWAITS_DISTRICT, CONFIRM],
                         ids=["content", "segment", "value", "confirm"])
def test_cancel_drops_it(ctx, draft):
    step = compose(draft, Cancel(), "en", ctx)
    assert step.draft is None and step.actions == (Drop(),)
    assert said(step) == "The announcement was dropped; nothing was sent."


@pytest.mark.parametrize("given,told", [
    (Cancel(), "You are not composing an announcement."),
    (Send(), "You are not composing an announcement. /broadcast starts one."),
    (Pick("done"), "You are not composing an announcement. /broadcast starts one."),
    (text("hello"), "You are not composing an announcement. /broadcast starts one."),
])
def test_without_a_draft_nothing_happens(ctx, given, told):
    step = compose(None, given, "en", ctx)
    assert (step.draft, step.actions, said(step)) == (None, (), told)


@pytest.mark.parametrize("draft,waits", [(Draft(), True), (ON_MENU, False),
                                         (AWAITS_DISTRICT, True), (CONFIRM, False)])
def test_what_the_admin_writes_is_for_the_draft_only_when_it_waits_for_text(draft, waits):
    assert draft.awaits_text is waits
