"""Correcting one's data, as dialogues: a submitted request's answer chosen, given again and
checked like the intake, confirmed (and signed), and sent to staff; what is kept in the log
of it; and the ways back out."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import date

import pytest

from conversations import journey, transcript
from conversations.base import Event, RequestView
from conversations.profile import Profile
from conversations.state import Correction, ExportData, OpenCase, RequestCorrection, State, Step
from tests.unit.dialogue import World, run
from tests.unit.test_dialogues import NOW, PROFILE

FIELDS = {"full_name": "Fatimah Saleh", "national_id": "1234567897", "family_size": 5,
          "housing": "owned", "mobile": "+966501234567", "iban": "SA0380000000608010167519",
          "id_expiry": "2027-06-16", "income": None,
          "id_photo": {"name": "id.jpg", "mime": "image/jpeg", "size": 50000, "sha256": "ab" * 32}}
ANSWERS = ["full_name", "national_id", "family_size", "housing", "mobile", "iban", "id_expiry",
           "income", "back"]  # every answer but the document


def request(number: str = "BK-2026-000001", service: str = "financial_aid",
            fields: dict | None = None) -> RequestView:
    return RequestView(1, number, service, "under_review", date(2026, 12, 20), None, NOW, NOW,
                       dict(FIELDS if fields is None else fields), "sim", "ar", 1)


@pytest.fixture
def profile() -> Profile:
    return Profile.model_validate(PROFILE)


@pytest.fixture
def ctx(ctx_for, profile):
    return replace(ctx_for(profile), requests=(request(),))


def at(step: Step = Step.MENU, lang: str = "ar") -> State:
    return State(step=step, lang=lang, consented=True)


def sent(world: World) -> list[RequestCorrection]:
    return [a for a in world.actions if isinstance(a, RequestCorrection)]


def test_a_wrong_mobile_is_corrected_from_the_privacy_menu(ctx):
    state, world, replies = run([
        ({"choice": "privacy"}, {"step": Step.PRIVACY}),
        ({"choice": "privacy_request"}, {
            "step": Step.CORRECTING, "choices": ANSWERS,
            # the answers as they are, the ID masked; the document is not offered
            "contains": ["BK-2026-000001", "ما الإجابة غير الصحيحة؟", "الجوال", "+966501234567",
                         "••••••7897", "لا يمكن استبدال مستند"],
            "absent": "1234567897"}),
        ({"choice": "mobile"}, {"expects": ("mobile", "phone"), "contains": "الإجابة الصحيحة عن «الجوال»"}),
        ("12345", {"expects": ("mobile", "phone"), "contains": "05"}),  # checked like the intake
        ("0501234567", {"expects": ("mobile", "phone"), "contains": "هذه هي الإجابة الموجودة"}),
        ("٠٥٥ ٩٨٧ ٦٥٤٣", {"expects": ("correction", "confirm"), "choices": ["confirm", "change", "cancel"],
                          "contains": ["من: ", "+966501234567", "إلى: ", "+966559876543",
                                       "خلال 30 يومًا", "إقرار: أُقر بأن الإجابة المصححة «الجوال»"]}),
        ({"choice": "confirm"}, {"step": Step.PRIVACY, "contains": [
            "أُرسل التصحيح (طلب البيانات #7)", "23 ديسمبر 2026"]}),
    ], ctx, at())
    [asked] = sent(world)
    assert (asked.number, asked.field, asked.value, asked.signature) == (
        "BK-2026-000001", "mobile", "+966559876543", None)
    assert asked.ack_version == "wasl-ack-2/ar" and "«الجوال»" in asked.ack_text
    assert state.correction is None


@pytest.mark.parametrize("typed", ["أبي أعدل رقم جوالي", "بياناتي غلط", "correct my data"])
def test_a_correction_asked_for_in_words_starts_at_the_requests_answers(ctx, typed):
    state, world, _ = run([(typed, {"step": Step.CORRECTING, "choices": ANSWERS})], ctx, at())
    assert not world.cases and state.correction == Correction(number="BK-2026-000001", stage="field")


def test_with_two_requests_the_latest_comes_first_and_a_typed_number_picks_one(ctx):
    older, newer = request("BK-2026-000001"), request("BK-2026-000009", "food_basket",
                                                      {"full_name": "Fatimah Saleh"})
    ctx = replace(ctx, requests=(older, newer))
    run([
        ("أبي أعدل بياناتي", {"step": Step.CORRECTING, "contains": "في أي طلب",
                             "choices": ["fix:BK-2026-000009", "fix:BK-2026-000001", "back"]}),
        ("1", {"choices": ["full_name", "back"], "contains": "سلة غذائية"}),
        ({"choice": "back"}, {"contains": "في أي طلب"}),
        ("bk-2026-000001", {"choices": ANSWERS}),  # its number, as the receipt gives it
        ({"choice": "back"}, {"contains": "في أي طلب"}),
        ({"choice": "back"}, {"step": Step.PRIVACY}),
    ], ctx, at(Step.PRIVACY))


def test_without_a_submitted_request_there_is_nothing_to_correct(ctx):
    state, world, _ = run([
        ({"choice": "privacy_request"}, {"step": Step.PRIVACY, "contains": "لا يوجد طلب مقدَّم",
                                         "expects": ("privacy", "choice")}),
    ], replace(ctx, requests=()), at(Step.PRIVACY))
    assert world.actions == []


def test_a_choice_is_picked_by_its_number_and_nothing_is_sent_when_cancelled(ctx):
    run([
        ({"choice": "privacy_request"}, {}),
        ({"choice": "housing"}, {"expects": ("housing", "choice"),
                                 "choices": ["owned", "rented", "back", "human"]}),
        ("٢", {"contains": ["إيجار", "ملك"], "expects": ("correction", "confirm")}),
        ({"choice": "change"}, {"expects": ("housing", "choice")}),
        ("2", {"expects": ("correction", "confirm")}),
        ("لا", {"step": Step.PRIVACY, "contains": "أُلغي التصحيح، ولم يُرسل شيء"}),
    ], ctx, at(Step.PRIVACY))


def test_a_number_never_presses_a_way_out_of_a_typed_answer(ctx):
    state, world, _ = run([
        ({"choice": "privacy_request"}, {}),
        ({"choice": "family_size"}, {"expects": ("family_size", "integer")}),
        ("2", {"expects": ("correction", "confirm")}),  # two people, not the second button
    ], ctx, at(Step.PRIVACY))
    assert state.correction.value == 2


def test_the_way_back_goes_one_stage_at_a_time(ctx):
    run([
        ({"choice": "privacy_request"}, {}),
        ({"choice": "iban"}, {"expects": ("iban", "iban")}),
        ({"choice": "back"}, {"choices": ANSWERS}),
        ({"choice": "back"}, {"step": Step.PRIVACY}),  # one request: no list of requests
    ], ctx, at(Step.PRIVACY))


def test_a_researcher_takes_over_when_the_answer_cannot_be_given(ctx):
    state, world, _ = run([
        ({"choice": "privacy_request"}, {}),
        ({"choice": "iban"}, {}),
        ("SA00 1234", {"expects": ("iban", "iban")}),
        ({"choice": "human"}, {"step": Step.CASE}),
    ], ctx, at(Step.PRIVACY))
    assert [(c.reason, c.detail) for c in world.cases] == [("privacy", "correction")]
    assert not sent(world) and state.correction is None


def test_health_and_money_answers_are_offered_only_with_consent_to_them(ctx, profile):
    data = copy.deepcopy(PROFILE)
    data["services"][0]["fields"][7]["sensitive"] = True  # income
    ctx = replace(ctx, profile=Profile.model_validate(data))
    without = [a for a in ANSWERS if a != "income"]
    run([({"choice": "privacy_request"}, {"choices": without})], ctx, at(Step.PRIVACY))
    consenting = at(Step.PRIVACY).model_copy(update={"sensitive_consent": True})
    run([({"choice": "privacy_request"}, {"choices": ANSWERS})], ctx, consenting)


def test_where_the_profile_signs_by_name_the_correction_is_signed_with_the_new_name(ctx, profile):
    data = copy.deepcopy(PROFILE)
    data["signature"] = {"mode": "typed_name", "name_field": "full_name"}
    ctx = replace(ctx, profile=Profile.model_validate(data))
    state, world, _ = run([
        ({"choice": "privacy_request"}, {}),
        ({"choice": "full_name"}, {"expects": ("full_name", "text")}),
        ("Fatimah Saleh Alharbi", {"expects": ("correction", "confirm")}),
        ({"choice": "confirm"}, {"expects": ("signature", "confirm")}),
        ("Fatimah Saleh", {"expects": ("signature", "confirm"), "contains": "لا يطابق"}),
        ({"choice": "back"}, {"expects": ("correction", "confirm")}),
        ({"choice": "confirm"}, {"expects": ("signature", "confirm")}),
        ("fatimah  saleh alharbi", {"step": Step.PRIVACY, "contains": "#7"}),
    ], ctx, at(Step.PRIVACY))
    [asked] = sent(world)
    assert asked.value == "Fatimah Saleh Alharbi" and asked.signature == "fatimah saleh alharbi"


def test_a_request_gone_meanwhile_is_said_plainly(ctx):
    world = World(gone={"BK-2026-000001"})
    run([
        ({"choice": "privacy_request"}, {}), ({"choice": "family_size"}, {}), ("4", {}),
        ({"choice": "confirm"}, {"step": Step.PRIVACY, "contains": "لم يعد تصحيح هذا الطلب ممكنًا"}),
    ], ctx, at(Step.PRIVACY), world)


def test_the_copy_of_ones_data_comes_in_the_middle_and_the_question_is_asked_again(ctx):
    state, world, _ = run([
        ({"choice": "privacy_request"}, {}), ({"choice": "mobile"}, {}),
        ("/mydata", {"expects": ("mobile", "phone")}),
        ("أبي أعدل رقم جوالي", {"expects": ("mobile", "phone")}),  # already correcting it
    ], ctx, at(Step.PRIVACY))
    assert sum(isinstance(a, ExportData) for a in world.actions) == 1
    assert not world.cases


def test_in_the_middle_of_a_request_correcting_is_the_requests_own_edit(ctx):
    state, world, _ = run([
        ({"choice": "new_request"}, {}), ("1", {}), ("Fatimah Saleh", {}),
        ("أبي أعدل رقم جوالي", {"expects": ("national_id", "national_id")}),
    ], ctx, at())
    assert state.step == Step.FIELD and state.correction is None


def test_the_log_keeps_a_new_id_masked_and_not_the_answers_shown(ctx, profile):
    state = at(Step.PRIVACY)
    state, _, replies = run([({"choice": "privacy_request"}, {}), ({"choice": "national_id"}, {})],
                            ctx, state)
    assert journey.loggable(state, Event("text", text="1098765436"), ctx) == "••••••5436"
    listed = journey.step(at(Step.PRIVACY), Event("choice", choice="privacy_request"), ctx).replies
    assert journey.loggable_reply(listed[-1]) == transcript.ANSWERS_SHOWN
    # the answer is not a phrase for a right or a researcher where free text is asked
    state, world, _ = run([({"choice": "back"}, {}), ({"choice": "full_name"}, {}),
                           ("نورة موظف", {"expects": ("correction", "confirm")})], ctx, state)
    assert state.correction.value == "نورة موظف"


def test_english_throughout(ctx):
    run([
        ({"choice": "privacy_request"}, {"contains": "Which answer is not right?"}),
        ({"choice": "mobile"}, {"contains": "The right answer for «Mobile»"}),
        ("0559876543", {"contains": ["from: ", "to: ", "Acknowledgment: I confirm"]}),
        ({"choice": "confirm"}, {"contains": "Your correction was sent (data request #7)"}),
    ], ctx, at(Step.PRIVACY, "en"))


def test_staffs_answer_reaches_the_beneficiary_in_their_language(ctx, profile):
    from conversations import correction

    spec = profile.service("financial_aid").field("mobile")
    yes = correction.answered("BK-2026-000001", spec, "+966559876543", None, "ar", ctx)
    assert "اعتُمد تصحيح الطلب BK-2026-000001" in yes.text and "+966559876543" in yes.text
    no = correction.answered("BK-2026-000001", spec, None, "الرقم لا يطابق المستند", "en", ctx)
    assert "was not approved: الرقم لا يطابق المستند" in no.text
    income = profile.service("financial_aid").field("income")
    hidden = correction.answered("BK-2026-000001", replace_sensitive(income), 9000, None, "ar", ctx)
    assert "9000" not in hidden.text and "صُحّحت «الدخل»" in hidden.text


def replace_sensitive(spec):
    return spec.model_copy(update={"sensitive": True})


def test_a_state_without_its_correction_starts_one(ctx):
    state, world, _ = run([("anything", {"choices": ANSWERS})], ctx,
                          at(Step.CORRECTING).model_copy(update={"correction": None}))
    assert not any(isinstance(a, OpenCase) for a in world.actions)
