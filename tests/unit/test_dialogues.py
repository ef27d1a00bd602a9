"""The beneficiary journey as dialogues: what they say, what the bot must answer."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from conversations import journey, render
from conversations.base import CaseView, Event
from conversations.profile import Profile
from conversations.state import (
    AddToCase,
    DiscardDraft,
    Forget,
    OpenCase,
    ProvideInfo,
    RecordConsent,
    SetLanguage,
    State,
    Step,
    StoreDocument,
)
from tests.conftest import NOW
from tests.unit.dialogue import World, photo, run, say

PROFILE = {
    "key": "test",
    "association": {"ar": "جمعية الاختبار", "en": "Test Association"},
    "request_prefix": "BK",
    "privacy": {"version": "test-1"},
    "contact_channels": [{"kind": "phone", "value": "0556609192",
                          "label": {"ar": "الهاتف", "en": "Phone"}}],
    "services": [
        {"key": "financial_aid", "label": {"ar": "مساعدة مالية", "en": "Financial aid"},
         "fields": [
             {"key": "full_name", "kind": "text", "label": {"ar": "الاسم", "en": "Full name"}},
             {"key": "national_id", "kind": "national_id",
              "label": {"ar": "رقم الهوية", "en": "ID number"}},
             {"key": "family_size", "kind": "integer", "label": {"ar": "عدد الأفراد", "en": "Family size"},
              "rules": {"min": 1, "max": 30}},
             {"key": "housing", "kind": "choice", "label": {"ar": "السكن", "en": "Housing"},
              "options": [{"key": "owned", "label": {"ar": "ملك", "en": "Owned"}},
                          {"key": "rented", "label": {"ar": "إيجار", "en": "Rented"}}]},
             {"key": "mobile", "kind": "phone", "label": {"ar": "الجوال", "en": "Mobile"}},
             {"key": "iban", "kind": "iban", "label": {"ar": "الآيبان", "en": "IBAN"}},
             {"key": "id_expiry", "kind": "date", "label": {"ar": "انتهاء الهوية", "en": "ID expiry"},
              "rules": {"not_expired": True}},
             {"key": "income", "kind": "money", "label": {"ar": "الدخل", "en": "Income"},
              "required": False},
             {"key": "id_photo", "kind": "file", "label": {"ar": "صورة الهوية", "en": "ID photo"}},
         ]},
        {"key": "food_basket", "label": {"ar": "سلة غذائية", "en": "Food basket"},
         "fields": [{"key": "full_name", "kind": "text", "label": {"ar": "الاسم", "en": "Full name"}}]},
    ],
}


@pytest.fixture
def profile() -> Profile:
    return Profile.model_validate(PROFILE)


@pytest.fixture
def ctx(ctx_for, profile):
    return ctx_for(profile)


def at_menu(lang: str = "en") -> State:
    return State(step=Step.MENU, lang=lang, consented=True)


ANSWERS = [
    ("Fatimah Saleh", {"expects": ("national_id", "national_id")}),
    ("١٢٣٤٥٦٧٨٩٧", {"expects": ("family_size", "integer")}),
    ("٥", {"expects": ("housing", "choice")}),
    ("2", {"expects": ("mobile", "phone")}),
    ("050 123 4567", {"expects": ("iban", "iban")}),
    ("SA03 8000 0000 6080 1016 7519", {"expects": ("id_expiry", "date")}),
    ("1449-01-01", {"expects": ("income", "money")}),
    ({"choice": "skip"}, {"expects": ("id_photo", "file")}),
    (photo(), {"expects": ("acknowledgment", "confirm")}),
]


def test_consent_then_menu(ctx):
    state, world, replies = run([
        ("السلام عليكم", {"expects": ("consent", "choice"), "choices": ["accept", "decline", "language"],
                          "contains": ["جمعية الاختبار"]}),
        ({"choice": "accept"}, {"expects": ("menu", "choice"), "step": Step.MENU,
                                "choices": ["new_request", "status", "human", "language",
                                            "feedback", "contact", "privacy", "volunteer"]}),
    ], ctx)
    assert state.consented
    consent = world.actions[0]
    assert isinstance(consent, RecordConsent)
    assert consent.purpose == "beneficiary_services" and consent.text_version == "wasl-privacy-2/ar"


def test_privacy_notice_in_english_says_what_why_who_and_rights(ctx):
    _, _, replies = run([
        ("hi", {}),
        ({"choice": "language"}, {"expects": ("consent", "choice")}),
    ], ctx)
    text = replies[-1].text
    for words in ("Test Association", "What we collect", "Why", "Who sees it", "delete"):
        assert words in text


def test_declining_collects_nothing_and_gives_other_channels(ctx):
    state, world, replies = run([
        ("hello", {}),
        ({"choice": "decline"}, {"contains": "0556609192"}),
    ], ctx)
    assert not state.consented
    assert [type(a) for a in world.actions] == [Forget]


def test_typed_yes_in_arabic_is_consent(ctx):
    state, world, _ = run([("مرحبا", {}), ("موافق", {"step": Step.MENU})], ctx)
    assert state.consented


def test_whole_intake_summary_confirm_and_notice(ctx):
    state, world, replies = run([
        ({"choice": "new_request"}, {"expects": ("service", "choice")}),
        ("1", {"expects": ("full_name", "text")}),
        *ANSWERS,
    ], ctx, at_menu())
    summary = replies[-1].text
    assert "••••••7897" in summary and "1234567897" not in summary  # ID masked
    assert "7519" in summary and "SA0380000000608010167519" not in summary  # IBAN masked
    assert "+966501234567" in summary and "Rented" in summary and "(skipped)" in summary
    assert "responsible" in summary  # the acknowledgment text
    state, replies = say(state, {"choice": "confirm"}, ctx, world)
    submitted = world.requests[0]
    assert submitted.answers == {
        "full_name": "Fatimah Saleh", "national_id": "1234567897", "family_size": 5,
        "housing": "rented", "mobile": "+966501234567", "iban": "SA0380000000608010167519",
        "id_expiry": "2027-06-06", "income": None,
        "id_photo": {"name": "id.jpg", "mime": "image/jpeg", "size": 50000, "sha256": "ab" * 32},
    }
    assert submitted.ack_version == "wasl-ack-2/en" and submitted.signature is None
    notice = replies[0].text
    assert "BK-2026-000001" in notice and "research committee" in notice
    assert "within a set period of 2 weeks" in notice and "Expect the answer by" in notice
    assert "7 December 2026" in notice or "December 7, 2026" in notice
    assert "27 Jumada al-Akhirah 1448 AH" in notice  # Umm al-Qura of 7 Dec 2026
    assert state.step == Step.MENU and state.draft is None
    assert any(isinstance(a, StoreDocument) for a in world.actions)


def test_mistake_gets_kind_message_example_and_same_question(ctx):
    state, world, replies = run([
        ({"choice": "new_request"}, {}), ("1", {}), ("Fatimah Saleh", {}),
        ("1000000000", {"expects": ("national_id", "national_id"),
                        "contains": ["not valid", "1234567897", "ID number"]}),
        ("12345", {"expects": ("national_id", "national_id"), "contains": "I received 5"}),
    ], ctx, at_menu())
    assert state.draft.answers == {"full_name": "Fatimah Saleh"}  # nothing lost


def test_three_failures_offer_a_researcher_and_open_a_case(ctx):
    state, world, replies = run([
        ({"choice": "new_request"}, {}), ("1", {}), ("Fatimah Saleh", {}),
        ("1", {}), ("2", {}),
        ("3", {"expects": ("escalate", "choice"), "choices": ["human", "retry"]}),
        ({"choice": "human"}, {"contains": "case number is 1", "step": Step.CASE}),
        ("I do not have my ID with me", {"contains": "added to your case"}),
    ], ctx, at_menu())
    assert world.cases == [OpenCase("repeated_failures", "national_id", NOW)]
    assert world.case_messages == ["I do not have my ID with me"]
    assert state.draft.answers == {"full_name": "Fatimah Saleh"}  # kept for later


def test_declining_the_researcher_asks_again(ctx):
    state, world, _ = run([
        ({"choice": "new_request"}, {}), ("1", {}), ("Fatimah Saleh", {}),
        ("1", {}), ("2", {}), ("3", {"expects": ("escalate", "choice")}),
        ("لا", {"expects": ("national_id", "national_id")}),
        ("1234567897", {"expects": ("family_size", "integer")}),
    ], ctx, at_menu())
    assert not world.cases


def test_back_keeps_answers_and_keep_skips_retyping(ctx):
    state, world, replies = run([
        ({"choice": "new_request"}, {}), ("1", {}), ("Fatimah Saleh", {}), ("1234567897", {}),
        ({"choice": "back"}, {"expects": ("national_id", "national_id"),
                              "contains": "Current answer: ⁦••••••7897⁩"}),
        ({"choice": "keep"}, {"expects": ("family_size", "integer")}),
    ], ctx, at_menu())
    assert state.draft.answers["national_id"] == "1234567897"


def test_back_from_first_question_returns_to_services(ctx):
    run([({"choice": "new_request"}, {}), ("1", {}),
         ({"choice": "back"}, {"expects": ("service", "choice")})], ctx, at_menu())


def test_cancel_mid_intake_discards_draft(ctx):
    state, world, replies = run([
        ({"choice": "new_request"}, {}), ("1", {}), ("Fatimah Saleh", {}),
        ({"choice": "cancel"}, {"expects": ("menu", "choice"), "contains": "nothing was submitted"}),
    ], ctx, at_menu())
    assert state.draft is None and isinstance(world.actions[-1], DiscardDraft)


def test_human_from_any_question(ctx):
    state, world, _ = run([
        ({"choice": "new_request"}, {}), ("1", {}),
        ({"choice": "human"}, {"step": Step.CASE}),
    ], ctx, at_menu())
    assert world.cases == [OpenCase("asked", "full_name", NOW)]


def test_edit_one_field_from_summary_returns_to_summary(ctx):
    state, world, _ = run([({"choice": "new_request"}, {}), ("1", {}), *ANSWERS], ctx, at_menu())
    state, world, _ = run([
        ({"choice": "edit"}, {"expects": ("edit", "choice")}),
        ({"choice": "family_size"}, {"expects": ("family_size", "integer")}),
        ("7", {"expects": ("acknowledgment", "confirm"), "contains": "Family size: 7"}),
    ], ctx, state, world)
    assert state.draft.answers["family_size"] == 7


def test_wrong_file_type_and_text_instead_of_file(ctx):
    state, world, _ = run([({"choice": "new_request"}, {}), ("1", {}), *ANSWERS[:-1]],
                          ctx, at_menu())
    run([
        (photo("a.zip", "application/zip"), {"expects": ("id_photo", "file"),
                                             "contains": "not accepted"}),
        ("here it is", {"expects": ("id_photo", "file"), "contains": "photo or a document"}),
        (photo("big.jpg", size=30 * 1024 * 1024), {"contains": "too large"}),
    ], ctx, state, world)


def test_shared_contact_answers_phone(ctx):
    state, world, _ = run([({"choice": "new_request"}, {}), ("1", {}), *ANSWERS[:4]],
                          ctx, at_menu())
    state, _, _ = run([({"contact": "+966501234567"}, {"expects": ("iban", "iban")})],
                      ctx, state, world)
    assert state.draft.answers["mobile"] == "+966501234567"


def test_typed_labels_with_other_spellings_and_digits(ctx):
    state, world, _ = run([
        ("طلب دعم جديد", {"expects": ("service", "choice")}),
        ("مُسَاعَدَه ماليه", {"expects": ("full_name", "text")}),
    ], ctx, at_menu("ar"))
    assert state.draft.service == "financial_aid"
    run([("١", {"expects": ("service", "choice")})], ctx, at_menu("ar"))


def test_typed_signature_must_match_the_name(ctx_for):
    data = {**PROFILE, "signature": {"mode": "typed_name", "name_field": "full_name"}}
    ctx = ctx_for(Profile.model_validate(data))
    state, world, _ = run([({"choice": "new_request"}, {}), ("1", {}), *ANSWERS], ctx, at_menu())
    state, world, _ = run([
        ({"choice": "confirm"}, {"expects": ("signature", "confirm")}),
        ("Fatima Salih", {"expects": ("signature", "confirm"), "contains": "does not match"}),
        ("  fatimah   SALEH ", {"step": Step.MENU, "contains": "BK-2026-000001"}),
    ], ctx, state, world)
    assert world.requests[0].signature == "fatimah SALEH"


def later(ctx, hours: int = 5):
    return ctx.__class__(ctx.profile, ctx.now + timedelta(hours=hours), ctx.channel,
                         ctx.translations)


def test_back_after_a_long_absence_with_something_else_offers_resume(ctx):
    state, world, _ = run([({"choice": "new_request"}, {}), ("1", {}), ("Fatimah Saleh", {})],
                          ctx, at_menu())
    state, world, _ = run([
        ("السلام عليكم", {"expects": ("resume", "choice"), "contains": "1 of 9"}),
        ({"choice": "continue"}, {"expects": ("national_id", "national_id")}),
    ], later(ctx), state, world)
    assert state.draft.answers == {"full_name": "Fatimah Saleh"} and state.draft.failures == 0


def test_a_valid_answer_after_a_long_absence_is_simply_taken(ctx):
    state, world, _ = run([({"choice": "new_request"}, {}), ("1", {}), ("Fatimah Saleh", {})],
                          ctx, at_menu())
    state, _, _ = run([("1234567897", {"expects": ("family_size", "integer")})],
                      later(ctx), state, world)
    assert state.draft.answers["national_id"] == "1234567897"


def test_start_command_offers_resume_and_restart_clears(ctx):
    state, world, _ = run([({"choice": "new_request"}, {}), ("1", {}), ("Fatimah Saleh", {}),
                           ("/start", {"expects": ("resume", "choice")}),
                           ({"choice": "restart"}, {"expects": ("service", "choice")})],
                          ctx, at_menu())
    assert state.draft is None


def test_commands_work_everywhere(ctx):
    state, world, replies = run([
        ({"choice": "new_request"}, {}), ("1", {}),
        ("/help", {"contains": "/status", "expects": ("full_name", "text")}),
        ("/status", {"contains": "no requests", "expects": ("menu", "choice")}),
        ("/language", {"expects": ("language", "choice")}),
        ({"choice": "ar"}, {"expects": ("menu", "choice")}),
        ("/cancel", {"expects": ("menu", "choice")}),
        ("/nonsense", {"contains": "/menu"}),
    ], ctx, at_menu())
    assert state.lang == "ar" and SetLanguage("ar") in world.actions


def test_status_lists_requests_with_expected_date(ctx):
    state, world, _ = run([({"choice": "new_request"}, {}), ("2", {}), ("Fatimah Saleh", {}),
                           ({"choice": "confirm"}, {})], ctx, at_menu())
    run([({"choice": "status"}, {"contains": ["BK-2026-000001", "Food basket",
                                              "Received, waiting for social research",
                                              "Answer expected by"]})], ctx, state, world)


def test_unknown_text_at_menu_is_not_understood(ctx):
    run([("blah", {"contains": "did not understand", "expects": ("menu", "choice")})],
        ctx, at_menu())


def test_a_required_field_added_to_the_profile_is_asked_before_the_summary(ctx_for, profile):
    old = {**PROFILE, "services": [{**PROFILE["services"][1]}]}
    ctx = ctx_for(Profile.model_validate(old))
    state, world, _ = run([({"choice": "new_request"}, {}), ("1", {}),
                           ("Fatimah Saleh", {"expects": ("acknowledgment", "confirm")})],
                          ctx, at_menu())
    fields = [*PROFILE["services"][1]["fields"],
              {"key": "mobile", "kind": "phone", "label": {"ar": "الجوال", "en": "Mobile"}}]
    grown = {**PROFILE, "services": [{**PROFILE["services"][1], "fields": fields}]}
    ctx = ctx_for(Profile.model_validate(grown))
    run([({"choice": "confirm"}, {"expects": ("mobile", "phone")})], ctx, state, world)
    assert world.requests == []


SENSITIVE = {**PROFILE, "services": [{
    "key": "medical", "label": {"ar": "علاج", "en": "Treatment"},
    "fields": [
        {"key": "full_name", "kind": "text", "label": {"ar": "الاسم", "en": "Full name"}},
        {"key": "illness", "kind": "text", "label": {"ar": "الحالة", "en": "Condition"},
         "sensitive": True, "required": False},
        {"key": "income", "kind": "money", "label": {"ar": "الدخل", "en": "Income"},
         "sensitive": True},
    ]}]}


def test_sensitive_questions_need_their_own_explicit_consent(ctx_for):
    ctx = ctx_for(Profile.model_validate(SENSITIVE))
    state, world, _ = run([
        ({"choice": "new_request"}, {}), ("1", {}),
        ("Fatimah Saleh", {"expects": ("sensitive_consent", "choice"), "contains": "sensitive"}),
        ({"choice": "accept"}, {"expects": ("illness", "text")}),
        ("Diabetes", {"expects": ("income", "money")}),  # asked once, not again
    ], ctx, at_menu())
    consents = [a for a in world.actions if isinstance(a, RecordConsent)]
    assert consents == [RecordConsent("sensitive_data", "wasl-sensitive-1/en")]


def test_declining_sensitive_skips_optional_and_explains_required(ctx_for):
    ctx = ctx_for(Profile.model_validate(SENSITIVE))
    state, world, _ = run([
        ({"choice": "new_request"}, {}), ("1", {}), ("Fatimah Saleh", {}),
        ({"choice": "decline"}, {"expects": ("sensitive_consent", "choice")}),  # income is required
        ({"choice": "decline"}, {"contains": "needed for the research committee",
                                 "expects": ("sensitive_consent", "choice")}),
        ({"choice": "accept"}, {"expects": ("income", "money")}),
    ], ctx, at_menu())
    assert state.draft.answers["illness"] is None  # the optional one was skipped, not asked


def test_a_field_with_a_condition_is_asked_only_when_it_applies(ctx_for):
    data = {**PROFILE, "services": [{
        "key": "aid", "label": {"ar": "مساعدة", "en": "Aid"},
        "fields": [
            {"key": "housing", "kind": "choice", "label": {"ar": "السكن", "en": "Housing"},
             "options": [{"key": "owned", "label": {"ar": "ملك", "en": "Owned"}},
                         {"key": "rented", "label": {"ar": "إيجار", "en": "Rented"}}]},
            {"key": "rent", "kind": "money", "label": {"ar": "الإيجار", "en": "Yearly rent"},
             "when": {"housing": ["rented"]}},
            {"key": "full_name", "kind": "text", "label": {"ar": "الاسم", "en": "Full name"}},
        ]}]}
    ctx = ctx_for(Profile.model_validate(data))
    state, world, _ = run([
        ({"choice": "new_request"}, {}), ("1", {}),
        ({"choice": "rented"}, {"expects": ("rent", "money")}), ("12000", {}),
        ("Fatimah Saleh", {"expects": ("acknowledgment", "confirm"), "contains": "Yearly rent"}),
        ({"choice": "edit"}, {}), ({"choice": "housing"}, {}),
        ({"choice": "owned"}, {"expects": ("acknowledgment", "confirm")}),
        ({"choice": "back"}, {"expects": ("full_name", "text")}),  # back skips the rent question
    ], ctx, at_menu())
    run([("Fatimah Saleh", {}), ({"choice": "confirm"}, {})], ctx, state, world)
    assert world.requests[0].answers == {"housing": "owned", "full_name": "Fatimah Saleh"}


def test_language_change_mid_intake_returns_to_the_question(ctx):
    state, world, _ = run([
        ({"choice": "new_request"}, {}), ("1", {}), ("Fatimah Saleh", {}),
        ("/language", {"expects": ("language", "choice")}),
        ({"choice": "ar"}, {"expects": ("national_id", "national_id"), "contains": "رقم الهوية"}),
    ], ctx, at_menu())
    assert state.lang == "ar" and state.draft.answers == {"full_name": "Fatimah Saleh"}


def test_signature_ignores_spacing_and_suggests_a_researcher_after_three_misses(ctx_for):
    data = {**PROFILE, "signature": {"mode": "typed_name", "name_field": "full_name"}}
    ctx = ctx_for(Profile.model_validate(data))
    state, world, _ = run([({"choice": "new_request"}, {}), ("2", {}), ("عبد الله الغامدي", {}),
                           ({"choice": "confirm"}, {}), ("x", {}), ("y", {}),
                           ("z", {"contains": "Social researcher", "choices": ["back", "cancel", "human"]}),
                           ("عبدالله  الغامدي", {"step": Step.MENU})], ctx, at_menu())
    assert world.requests[0].signature == "عبدالله الغامدي"


def test_letters_in_an_id_and_someone_elses_contact_get_clear_messages(ctx):
    state, world, _ = run([
        ({"choice": "new_request"}, {}), ("1", {}), ("Fatimah Saleh", {}),
        ("my id", {"contains": "digits only", "expects": ("national_id", "national_id")}),
    ], ctx, at_menu())
    state, world, _ = run([("1234567897", {}), ("3", {}), ("1", {})], ctx, state, world)
    from conversations.base import Event
    run([(Event("contact", contact="+966501234567", contact_is_own=False),
          {"contains": "your own number", "expects": ("mobile", "phone")})], ctx, state, world)


def test_asking_for_a_person_in_words_opens_a_case_from_any_step(ctx):
    state, world, _ = run([({"choice": "new_request"}, {}), ("1", {}),
                           ("ما فهمت", {"step": Step.CASE})], ctx, at_menu("ar"))
    assert world.cases[0].reason == "asked" and world.cases[0].detail == "keyword"
    state, world, _ = run([("أبغى اكلم احد", {"step": Step.CASE})], ctx, at_menu("ar"))
    assert world.cases
    state, world, _ = run([("أنا موظف متقاعد وعندي خمسة أطفال وأحتاج مساعدة", {})], ctx,
                          at_menu("ar"))
    assert world.cases[0].reason == "not_understood"  # a long question: to a person as well


def test_a_new_case_outside_working_hours_says_when_to_expect_a_reply(ctx_for, profile):
    friday = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)  # Friday 13:00 in Riyadh
    _, _, replies = run([({"choice": "human"}, {"contains": "Sunday"})], ctx_for(profile, friday),
                        at_menu())
    assert "08:00" in replies[-1].text
    monday = ctx_for(profile)  # Monday 12:00 in Riyadh: researchers are at work
    _, _, replies = run([({"choice": "human"}, {})], monday, at_menu())
    assert "not at work" not in replies[-1].text


def test_a_keyword_inside_a_free_text_answer_is_an_answer(ctx):
    state, world, _ = run([({"choice": "new_request"}, {}), ("1", {}),
                           ("أنا موظف", {"expects": ("national_id", "national_id")})],
                          ctx, at_menu("ar"))
    assert not world.cases and state.draft.answers["full_name"] == "أنا موظف"
    state, world, _ = run([("موظف", {"step": Step.CASE})], ctx, state, world)  # alone, it asks


def test_markup_or_symbols_at_the_menu_are_not_a_question_for_a_person(ctx):
    for junk in ["<img src=x onerror=alert(1)>", "'; DROP TABLE requests;--"]:
        state, world, _ = run([(junk, {"expects": ("menu", "choice")})], ctx, at_menu("ar"))
        assert not world.cases
    state, world, _ = run([("when is the next distribution?", {"step": Step.CASE})], ctx, at_menu())


def test_a_typed_number_past_the_options_is_refused_not_taken_as_a_way_out(ctx):
    state, world, _ = run([({"choice": "new_request"}, {}), ("1", {}), *ANSWERS[:3]],
                          ctx, at_menu())
    state, world, _ = run([
        ("5", {"expects": ("housing", "choice"), "contains": "pick one of the options"}),  # human
        ("4", {"expects": ("housing", "choice")}),  # cancel
        ("Back", {"expects": ("family_size", "integer")}),  # by name it is a way out
    ], ctx, state, world)
    assert not world.cases and state.draft.answers["national_id"] == "1234567897"


# -- information a researcher asks for while they talk with the beneficiary ---------------
NUMBER = "BK-2026-000001"


def talking(ctx):
    """The context while a researcher holds the beneficiary's case."""
    return replace(ctx, case=CaseView(1, "claimed", "asked", None, 1, "sim", ctx.now, claimed_by=7))


def in_live_chat(ctx, lang: str = "en") -> tuple[State, World]:
    """A submitted request, a case a researcher took, and their request, during the chat,
    for a missing document."""
    state, world, _ = run([({"choice": "new_request"}, {}), ("2", {}), ("Fatimah Saleh", {}),
                           ({"choice": "confirm"}, {}), ({"choice": "human"}, {"step": Step.CASE})],
                          ctx, at_menu(lang))
    world.case_status = "claimed"
    return world.ask_for_info(state, NUMBER, "the divorce deed"), world


def given(world: World) -> list[ProvideInfo]:
    return [a for a in world.actions if isinstance(a, ProvideInfo)]


def test_a_file_sent_in_a_live_chat_is_relayed_and_attached_as_the_missing_document(ctx):
    state, world = in_live_chat(ctx)
    assert state.step == Step.CASE and state.info_for == NUMBER
    state, world, _ = run([(photo("deed.jpg"), {"contains": f"We added this to your request {NUMBER}",
                                                "step": Step.CASE})], talking(ctx), state, world)
    relayed, attached = world.actions[-2:]
    assert isinstance(relayed, AddToCase) and relayed.file is not None  # the researcher sees it
    assert attached == ProvideInfo(NUMBER, "[file] deed.jpg (image/jpeg, 50000 B)", relayed.file)
    assert state.info_for is None and world.statuses[NUMBER] == "under_review"
    state, world, _ = run([(photo("another.jpg"), {"absent": "We added this"})],
                          talking(ctx), state, world)  # now only relayed
    assert len(given(world)) == 1 and world.case_messages[-1].startswith("[file] another.jpg")


def test_after_the_case_closes_the_status_no_longer_asks_for_what_was_sent(ctx):
    state, world = in_live_chat(ctx)
    run([("/status", {"contains": "Needed from you: the divorce deed"})], ctx,
        world.close_case(state), world)  # closed without it, it would still ask
    world.case_status = "claimed"
    state, world, _ = run([(photo("deed.jpg"), {})], talking(ctx), state, world)
    run([("/status", {"contains": "Being studied by the social researcher",
                      "absent": ["Needed from you", "Waiting for more information"]})],
        ctx, world.close_case(state), world)


def test_a_text_in_a_live_chat_is_attached_once_they_say_it_is_the_information(ctx):
    state, world = in_live_chat(ctx)
    state, world, _ = run([
        ("The deed number is 4410, dated 1445", {"expects": ("info_given", "choice"),
                                                  "choices": ["info_given"], "contains": NUMBER}),
        ({"choice": "info_given"}, {"contains": f"We added this to your request {NUMBER}"}),
    ], talking(ctx), state, world)
    assert given(world) == [ProvideInfo(NUMBER, "The deed number is 4410, dated 1445")]
    assert world.case_messages[-2:] == [  # the researcher reads both, the press by its label
        "The deed number is 4410, dated 1445",
        "[choice] info_given «✅ Yes, this is it»"]
    assert state.info_for is None and state.info_text is None
    state, world, replies = run([("Thank you", {})], talking(ctx), state, world)
    assert replies == [] and world.case_messages[-1] == "Thank you"  # no offer any more


def test_typing_the_buttons_number_in_arabic_digits_says_it_too(ctx):
    state, world = in_live_chat(ctx, "ar")
    state, world, _ = run([("رقم الصك ٤٤١٠", {"choices": ["info_given"]}), ("١", {})],
                          talking(ctx), state, world)
    assert given(world) == [ProvideInfo(NUMBER, "رقم الصك ٤٤١٠")]
    assert "١" not in world.case_messages and world.statuses[NUMBER] == "under_review"


def test_after_the_researcher_writes_a_typed_number_is_an_answer_but_the_button_still_works(ctx):
    state, world = in_live_chat(ctx)
    state, world, _ = run([("I have the deed", {"choices": ["info_given"]})],
                          talking(ctx), state, world)
    journey.researcher_wrote(state)  # "How many children do you have?"
    state, world, _ = run([("1", {"absent": "We added this"})], talking(ctx), state, world)
    assert given(world) == [] and world.case_messages[-1] == "1"  # relayed as an answer
    state, world = in_live_chat(ctx)
    state, world, _ = run([("Deed 4410", {})], talking(ctx), state, world)
    journey.researcher_wrote(state)
    state, world, _ = run([({"choice": "info_given"}, {"contains": "We added this"})],
                          talking(ctx), state, world)
    assert given(world) == [ProvideInfo(NUMBER, "Deed 4410")]


def test_a_text_without_the_button_is_only_relayed_and_the_request_still_waits(ctx):
    state, world = in_live_chat(ctx)
    state, world, _ = run([
        ("I will bring it tomorrow", {"choices": ["info_given"]}),
        ("Is that alright?", {"choices": ["info_given"]}),
        (photo("selfie.jpg", mime="image/png"), {}),  # a file is the document, and ends it
    ], talking(ctx), state, world)
    assert [a.text for a in given(world)] == ["[file] selfie.jpg (image/png, 50000 B)"]
    state, world = in_live_chat(ctx)
    state, world, _ = run([("I will bring it tomorrow", {}), ("/menu", {"step": Step.MENU})],
                          talking(ctx), state, world)
    state, world, _ = run([("1", {"expects": ("service", "choice")})], ctx, state, world)
    assert given(world) == [] and world.case_messages[-2:] == ["I will bring it tomorrow", "/menu"]
    run([("/status", {"contains": "Needed from you: the divorce deed"})], ctx, state, world)


def test_the_button_pressed_again_or_first_attaches_nothing(ctx):
    state, world = in_live_chat(ctx)
    state, world, replies = run([({"choice": "info_given"}, {"contains": "send the information"})],
                                talking(ctx), state, world)
    assert given(world) == [] and world.case_messages == []
    state, world, _ = run([("Deed 4410", {}), ({"choice": "info_given"}, {}),
                           ({"choice": "info_given"}, {})], talking(ctx), state, world)
    assert len(given(world)) == 1 and world.case_messages[-1].startswith("[choice] info_given")


def test_a_command_in_a_live_chat_is_not_offered_as_the_information(ctx):
    state, world = in_live_chat(ctx)
    state, world, replies = run([("/help", {})], talking(ctx), state, world)
    assert replies == [] and world.case_messages == ["/help"] and state.info_text is None


def test_before_a_researcher_takes_the_case_a_text_can_be_the_information_too(ctx):
    state, world = in_live_chat(ctx)
    world.case_status = "queued"
    state, world, replies = run([
        ("Deed 4410", {"contains": ["added to your case number 1", NUMBER],
                       "choices": ["info_given"]}),
        ("1", {"contains": f"We added this to your request {NUMBER}"}),
    ], ctx, state, world)
    assert given(world) == [ProvideInfo(NUMBER, "Deed 4410")]


def test_at_the_menu_the_information_awaited_has_a_button_and_a_file_is_it(ctx):
    state, world = in_live_chat(ctx)
    state = world.close_case(state)
    state, world, _ = run([
        ("hello", {"choices": ["new_request", "status", "human", "language", "feedback",
                               "contact", "privacy", "volunteer", "provide_info"],
                   "contains": "did not understand"}),
        ({"choice": "provide_info"}, {"contains": f"information requested for {NUMBER}",
                                      "step": Step.NEEDS_INFO}),
        ({"choice": "back"}, {"expects": ("menu", "choice")}),
        (photo("deed.pdf", mime="application/pdf"), {"contains": "We added this",
                                                     "expects": ("menu", "choice")}),
    ], ctx, state, world)
    assert [a.number for a in given(world)] == [NUMBER] and state.info_for is None
    run([("hello", {"choices": ["new_request", "status", "human", "language", "feedback",
                                "contact", "privacy", "volunteer"]})],
        ctx, state, world)


def test_information_asked_for_at_the_menu_is_the_next_message(ctx):
    state, world, _ = run([({"choice": "new_request"}, {}), ("2", {}), ("Fatimah Saleh", {}),
                           ({"choice": "confirm"}, {})], ctx, at_menu())
    state = world.ask_for_info(state, NUMBER, "the divorce deed")
    assert state.step == Step.NEEDS_INFO
    state, world, _ = run([("Deed 4410", {"contains": "We added this", "step": Step.MENU})],
                          ctx, state, world)
    assert given(world) == [ProvideInfo(NUMBER, "Deed 4410")] and not world.case_messages


def test_the_log_keeps_the_label_of_what_was_pressed(ctx):
    state, world = in_live_chat(ctx)
    state, world, _ = run([("Deed 4410", {})], talking(ctx), state, world)
    pressed = Event("choice", choice="info_given")
    assert journey.loggable(state, pressed, talking(ctx)) == (
        "[choice] info_given «✅ Yes, this is it»")
    menu = at_menu()
    assert journey.loggable(menu, Event("choice", choice="status"), ctx) == (
        "[choice] status «📋 Status of my requests»")
    assert journey.loggable(menu, Event("text", text="[choice] status"), ctx) == "\\[choice] status"


def test_the_menu_says_how_to_reach_the_association_and_when_researchers_answer(ctx):
    """Before, only someone who declined consent saw the channels; the hours nowhere."""
    state, _world, replies = run([
        ("hello", {"expects": ("menu", "choice")}),
        ({"choice": "contact"}, {"expects": ("menu", "choice"), "step": Step.MENU,
                                 "contains": ["0556609192", "Sunday to Thursday",
                                              "from 08:00 to 15:00 (Riyadh time)"]}),
        ("6", {"contains": "0556609192"}),  # its number works too
    ], ctx, at_menu("en"))
    arabic, _world, said = run([({"choice": "contact"}, {
        "contains": ["الهاتف: 0556609192", "من الأحد إلى الخميس"]})], ctx, at_menu("ar"))
    assert arabic.step == Step.MENU


def test_the_acknowledgment_is_in_the_profiles_own_words_when_it_has_them(ctx_for):
    from bot import profiles

    alhuda = ctx_for(profiles.load("alhuda"))
    state = State(step=Step.MENU, lang="ar", consented=True)
    text = render.acknowledgment_text(state, alhuda)
    assert "وأتحمل المسؤولية النظامية عن ذلك" in text  # Al-Huda's policy, word for word
    assert render.acknowledgment_version(state, alhuda) == "alhuda-ack-1/ar"
    bakkah = ctx_for(profiles.load("bakkah"))
    assert render.acknowledgment_version(state, bakkah) == "wasl-ack-2/ar"
    assert "وأتحمل المسؤولية المباشرة عن صحتها" in render.acknowledgment_text(state, bakkah)
