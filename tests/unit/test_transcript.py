"""The conversation log as a researcher reads it: words in their language, never the bot's
internal markers, and never a value the log withholds."""

from __future__ import annotations

import functools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.i18n import load_translations
from conversations import journey, transcript
from conversations.base import Context, Event, FileRef, Reply
from conversations.profile import Profile
from conversations.state import Draft, State, Step
from tests.conftest import NOW
from tests.unit.dialogue import photo, run
from tests.unit.test_dialogues import PROFILE, SENSITIVE


@pytest.fixture
def ctx(ctx_for):
    return ctx_for(Profile.model_validate(PROFILE))


def words(ctx, lang: str, msgid: str, **params) -> str:
    return ctx.tr(lang).gettext(msgid).format(**params)


@pytest.mark.parametrize("text", [
    "أحتاج مساعدة في دفع الإيجار", "hello", "••••••7897", "", "سطر\nوسطر",
    "[FB-2026-000001] الخدمة بطيئة",  # a ticket's case entry: not a marker
    "[choice]", "[file] no size", "\\no marker after the backslash",
])
def test_plain_text_passes_through_unchanged(ctx, text):
    assert transcript.line(text, "ar", ctx) == text


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_a_pressed_choice_reads_as_the_label_the_beneficiary_saw(ctx, lang):
    stored = transcript.said(Event("choice", choice="accept"), "✅ أوافق")
    assert stored == "[choice] accept «✅ أوافق»"
    shown = transcript.line(stored, lang, ctx)
    assert shown == words(ctx, lang, "Choice: {label}", label="✅ أوافق")
    assert "accept" not in shown and "[" not in shown


@pytest.mark.parametrize("key,msgid_or_label", [
    ("new_request", "📝 New support request"),  # the bot's own buttons, translated
    ("confirm", "✅ I confirm"),
    ("keep", "✔ Keep the current answer"),
    ("info_given", "✅ Yes, this is it"),
    ("food_basket", None),  # the profile's service, option and question labels
    ("rented", None),
    ("family_size", None),
])
def test_an_older_entry_without_its_label_is_looked_up_in_the_staff_language(ctx, key,
                                                                             msgid_or_label):
    profile_labels = {"food_basket": "سلة غذائية", "rented": "إيجار", "family_size": "عدد الأفراد"}
    label = profile_labels.get(key) or words(ctx, "ar", msgid_or_label)
    assert transcript.line(f"[choice] {key}", "ar", ctx) == words(ctx, "ar", "Choice: {label}",
                                                                  label=label)


def test_an_older_entry_reads_in_english_for_english_staff_or_as_its_key(ctx):
    assert transcript.line("[choice] rented", "en", ctx) == "Choice: Rented"
    assert transcript.line("[choice] no_such_key", "en", ctx) == "Choice: no_such_key"


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_markers_read_as_words(ctx, lang):
    said = {
        transcript.WITHHELD: "(a sensitive answer, about health or finances, is not kept in the log)",
        transcript.SUMMARY_SHOWN: "(the summary of the request was shown for review)",
        transcript.SURVEY_ANSWER: "(a survey answer, kept apart from the conversation)",
        transcript.UNSUPPORTED: "(a sticker, a voice note or another message the bot cannot read)",
    }
    for stored, msgid in said.items():
        assert transcript.line(stored, lang, ctx) == words(ctx, lang, msgid)
    file = transcript.said(photo("صك الطلاق.pdf", "application/pdf", 200_000))
    assert file == "[file] صك الطلاق.pdf (application/pdf, 200000 B)"
    assert transcript.line(file, lang, ctx) == words(
        ctx, lang, "📎 File: {name} ({type}, {size} KB)", name="صك الطلاق.pdf", type="PDF", size=195)
    contact = transcript.said(Event("contact", contact="+966501234567"))
    assert transcript.line(contact, lang, ctx) == words(ctx, lang, "📱 Contact shared: {number}",
                                                        number="+966501234567")


def test_english_staff_read_it_in_english(ctx):
    assert transcript.line(transcript.WITHHELD, "en", ctx).startswith("(a sensitive answer")
    assert transcript.line("[choice] accept «✅ I agree»", "en", ctx) == "Choice: ✅ I agree"
    assert transcript.line("[file] id.jpg (image/jpeg, 50000 B)", "en", ctx) == (
        "📎 File: id.jpg (JPG, 49 KB)")


MARKERS = st.sampled_from([transcript.WITHHELD, transcript.SUMMARY_SHOWN, "[choice] accept",
                           "[choice] accept «✅ أوافق»", "[file] a.jpg (image/jpeg, 1 B)",
                           "[contact] +966501234567", transcript.SURVEY_ANSWER])


@given(st.one_of(st.text(), MARKERS, st.builds(lambda n, m: "\\" * n + m,
                                                 st.integers(1, 3), MARKERS)))
def test_typed_text_always_reads_back_as_typed_even_when_it_looks_like_a_marker(text):
    stored = transcript.said(Event("text", text=text))
    assert transcript.line(stored, "ar", _ctx()) == text


@functools.cache
def _ctx() -> Context:  # hypothesis runs the test many times: one context for all
    return Context(Profile.model_validate(PROFILE), NOW, "sim", load_translations())


def test_a_beneficiary_cannot_type_what_reads_as_the_bot_recording(ctx):
    assert transcript.said(Event("text", text="[withheld: sensitive]")) == "\\[withheld: sensitive]"
    state = State(step=Step.MENU, lang="ar", consented=True)
    stored = journey.loggable(state, Event("text", text="[choice] accept «✅ أوافق»"), ctx)
    assert transcript.line(stored, "ar", ctx) == "[choice] accept «✅ أوافق»"


def at_question(ctx, key: str, lang: str = "en", profile: Profile | None = None) -> State:
    service = (profile or ctx.profile).services[0]
    index = [f.key for f in service.fields].index(key)
    return State(step=Step.FIELD, lang=lang, consented=True, sensitive_consent=True,
                 draft=Draft(service=service.key, index=index))


def test_the_log_masks_numbers_as_what_they_are_and_keeps_a_pressed_way_out(ctx):
    assert journey.loggable(at_question(ctx, "national_id"), Event("text", text="١٢٣٤٥٦٧٨٩٧"),
                            ctx) == "••••••7897"
    assert journey.loggable(at_question(ctx, "mobile"), Event("text", text="0501234567"),
                            ctx) == "+9665••••4567"
    shared = journey.loggable(at_question(ctx, "mobile"), Event("contact", contact="+966501234567"),
                              ctx)
    assert shared == "[contact] +9665••••4567"
    assert transcript.line(shared, "en", ctx) == "📱 Contact shared: +9665••••4567"
    back = journey.loggable(at_question(ctx, "national_id"), Event("choice", choice="back"), ctx)
    assert back == "[choice] back «↩ Back»"  # not an empty line
    option = journey.loggable(at_question(ctx, "housing", "ar"), Event("choice", choice="rented"),
                              ctx)
    assert transcript.line(option, "en", ctx) == "Choice: إيجار"  # what they saw, in Arabic


def test_a_sensitive_answer_is_withheld_whatever_form_it_takes(ctx_for):
    profile = Profile.model_validate(SENSITIVE)
    ctx = ctx_for(profile)
    state = at_question(ctx, "illness", profile=profile)
    for event in (Event("text", text="Diabetes"), Event("choice", choice="skip"),
                  Event("file", file=FileRef("diabetes-report.pdf", "application/pdf", 9, "ab"))):
        stored = journey.loggable(state, event, ctx)
        assert stored == transcript.WITHHELD
        shown = transcript.line(stored, "ar", ctx)
        assert "Diabetes" not in shown and "diabetes" not in shown and "[" not in shown


def test_a_shown_summary_is_logged_as_shown_and_read_as_such(ctx):
    state, world, replies = run([({"choice": "new_request"}, {}), ("2", {}),
                                 ("Fatimah Saleh", {"expects": ("acknowledgment", "confirm")})],
                                ctx, State(step=Step.MENU, lang="en", consented=True))
    stored = journey.loggable_reply(replies[-1])
    assert stored == transcript.SUMMARY_SHOWN and "Fatimah" not in stored
    assert transcript.line(stored, "en", ctx) == "(the summary of the request was shown for review)"
    assert journey.loggable_reply(Reply("How can we help you?")) == "How can we help you?"
