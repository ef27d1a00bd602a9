"""Answers before a human, as dialogues: a beneficiary of Bakkah asks, the bot answers from
the profile and its FAQ with the bundled sentence model (bot/encoder.py), asks whether it
helped, and otherwise offers a researcher. Mid-request, the same question comes back last."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot import encoder, profiles
from conversations import journey
from conversations.knowledge import Knowledge, topics
from conversations.state import CountAnswer, OpenCase, State, Step
from tests.unit.dialogue import run, say


@pytest.fixture(scope="module")
def model():
    return encoder.load()


@pytest.fixture(scope="module")
def bakkah():
    return profiles.load("bakkah")


@pytest.fixture(scope="module")
def knowledge(bakkah, model):
    return Knowledge(topics(bakkah), model)


@pytest.fixture
def ctx(ctx_for, bakkah, knowledge):
    return replace(ctx_for(bakkah), knowledge=knowledge)


def at_menu(lang: str = "ar") -> State:
    return State(step=Step.MENU, lang=lang, consented=True)


def answered(replies) -> list[str]:
    return [r.answered for r in replies if r.answered]


def test_how_to_register_is_answered_at_the_menu_not_queued(ctx):
    """The issue's own example: at 22:35 this used to open a case for the morning."""
    state, world, replies = run([
        ("كيف اسجل؟ وش الاوراق المطلوبة", {"step": Step.ANSWERED, "choices": [
            "faq_yes", "human", "docs:financial_aid", "docs:food_basket", "docs:rent_support"]}),
    ], ctx, at_menu())
    assert answered(replies) == ["apply"]
    assert "طلب دعم جديد" in replies[0].text  # the menu entry, by its Arabic label
    assert world.cases == []
    assert world.actions == [CountAnswer("apply", "answered")]


def test_where_are_you_gives_the_channels_and_hours(ctx):
    _, _, replies = run([("وين مقركم", {"contains": "0556609192"})], ctx, at_menu())
    assert answered(replies)[0] in ("contact", "hours")
    assert "08:00" in replies[0].text


@pytest.mark.parametrize("said", [
    {"choice": "faq_yes"},  # pressed
    "1",  # typed by its number
])
def test_yes_it_helped_counts_and_returns_to_the_menu(ctx, said):
    state, world, replies = run([
        ("متى الدوام؟", {"step": Step.ANSWERED}),
        (said, {"step": Step.MENU, "expects": ("menu", "choice")}),
    ], ctx, at_menu())
    assert world.actions[-1] == CountAnswer(world.actions[0].topic, "helpful")
    assert answered(replies) == []


def test_no_talk_to_a_researcher_opens_a_case_about_the_unhelpful_answer(ctx):
    state, world, _ = run([
        ("كم ياخذ الطلب وقت عشان يردون", {"step": Step.ANSWERED}),
        ({"choice": "human"}, {"step": Step.CASE, "contains": "رقم إحالتك"}),
    ], ctx, at_menu())
    assert world.cases == [OpenCase("unhelpful", None, None)]
    assert CountAnswer("decision", "escalated") in world.actions


def test_an_answer_about_a_service_offers_to_start_it(ctx):
    state, world, replies = run([
        ("ابي سلة غذائية", {"step": Step.ANSWERED}),
    ], ctx, at_menu())
    check = replies[-1]
    assert [c.id for c in check.choices] == ["faq_yes", "human", "start:food_basket"]
    state, replies = say(state, {"choice": "start:food_basket"}, ctx, world)
    assert state.step == Step.FIELD and state.draft.service == "food_basket"


def test_which_documents_asks_back_which_service_without_counting_an_answer(ctx):
    state, world, replies = run([
        ("وش الاوراق المطلوبة", {"choices": ["docs:financial_aid", "docs:food_basket",
                                             "docs:rent_support"]}),
    ], ctx, at_menu())
    assert answered(replies) == [] and world.actions == []
    state, replies = say(state, "3", ctx, world)  # typed: the third service
    assert answered(replies) == ["documents_for.rent_support"]
    assert "عقد الإيجار" in replies[0].text or "الإيجار" in replies[0].text


@pytest.mark.parametrize("question", ["متى ينزل حساب المواطن", "ابي محامي عندي قضية"])
def test_what_the_association_does_not_do_is_said_kindly_and_never_counted(ctx, question):
    state, world, replies = run([(question, {"step": Step.MENU})], ctx, at_menu())
    assert answered(replies) == [] and world.actions == [] and world.cases == []
    assert "سلة غذائية" in replies[0].text  # what it does offer


@pytest.mark.parametrize("said", ["السلام عليكم", "جزاكم الله خير"])
def test_greetings_and_thanks_are_courtesy_not_answers(ctx, said):
    _, world, replies = run([(said, {"step": Step.MENU, "expects": ("menu", "choice")})],
                            ctx, at_menu())
    assert answered(replies) == [] and world.actions == []


def test_a_question_with_no_sure_answer_offers_a_researcher_never_a_guess(ctx):
    state, world, replies = run([
        ("هل يمكن أن تساعدوني في إصلاح سيارتي المعطلة منذ أسبوع؟",
         {"step": Step.ANSWERED, "choices": ["human", "back"]}),
    ], ctx, at_menu())
    assert answered(replies) == []
    assert world.actions == [CountAnswer(None, "unanswered")]
    state, replies = say(state, {"choice": "human"}, ctx, world)
    assert world.cases == [OpenCase("question", None, None)]


def test_mid_request_the_question_is_answered_and_the_field_asked_again_last(ctx):
    state, world, _ = run([({"choice": "new_request"}, {}), ({"choice": "food_basket"},
                                                           {"expects": ("full_name", "text")})],
                          ctx, at_menu())
    state, replies = say(state, "متى الدوام عندكم؟", ctx, world)
    assert state.step == Step.FIELD
    assert answered(replies) and replies[-2].text == ctx.tr("ar").gettext(
        "Did this answer your question?")
    assert replies[-1].expects.field == "full_name"  # the same question, last
    # the "did this help?" buttons still work, and the question comes back
    state, replies = say(state, {"choice": "faq_yes"}, ctx, world)
    assert replies[-1].expects.field == "full_name"
    # the next real answer is taken
    state, replies = say(state, "فاطمة صالح عبدالله الحربي", ctx, world)
    assert state.draft.answers["full_name"] == "فاطمة صالح عبدالله الحربي"


def test_a_name_at_a_text_field_is_never_taken_for_a_question(ctx):
    state, world, _ = run([({"choice": "new_request"}, {}), ({"choice": "rent_support"}, {})],
                          ctx, at_menu())
    state, replies = say(state, "منى عبدالرحمن محمد الشهري", ctx, world)
    assert state.draft.answers["full_name"] == "منى عبدالرحمن محمد الشهري"
    assert answered(replies) == []


def test_in_english_the_answer_is_in_english(ctx):
    _, _, replies = run([("What documents do I need for rent support?",
                          {"step": Step.ANSWERED})], ctx, at_menu("en"))
    assert answered(replies) == ["documents_for.rent_support"]
    assert replies[0].text.startswith('For "Rent support" we ask for:')


def test_without_the_bot_s_answers_an_own_words_question_still_reaches_a_researcher(ctx):
    off = replace(ctx, knowledge=None)
    _, world, _ = run([("كيف اسجل؟ وش الاوراق المطلوبة", {"step": Step.CASE})], off, at_menu())
    assert world.cases == [OpenCase("not_understood", "menu", None)]


def test_with_an_open_case_the_question_goes_into_it(ctx):
    from conversations.base import CaseView
    from tests.conftest import NOW

    open_case = CaseView(4, "queued", "asked", None, 1, "sim", NOW)
    with_case = replace(ctx, case=open_case)
    _, world, _ = run([("وين مقركم بالضبط يا جماعة", {"step": Step.CASE})], with_case,
                      at_menu())
    assert world.case_messages == ["وين مقركم بالضبط يا جماعة"]


def test_prompt_after_an_answer_is_the_did_it_help_question(ctx):
    state, _, _ = run([("متى الدوام", {})], ctx, at_menu())
    again = journey.prompt(state, ctx)
    assert [c.id for c in again.choices][:2] == ["faq_yes", "human"]


@pytest.mark.parametrize("typed,step,outcome", [
    ("نعم", Step.MENU, "helpful"), ("yes", Step.MENU, "helpful"),
    ("لا", Step.CASE, "escalated"),
])
def test_yes_or_no_typed_after_an_answer(ctx, typed, step, outcome):
    state, world, _ = run([("متى الدوام؟", {"step": Step.ANSWERED}), (typed, {"step": step})],
                          ctx, at_menu())
    counted = [a for a in world.actions if isinstance(a, CountAnswer)]
    assert counted[-1].outcome == outcome


@pytest.mark.parametrize("typed", ["3", "5", "٤"])
def test_a_number_no_choice_has_asks_again_and_opens_nothing(ctx, typed):
    state, world, replies = run([("متى الدوام؟", {"step": Step.ANSWERED}),
                                 (typed, {"step": Step.ANSWERED,
                                          "choices": ["faq_yes", "human"]})], ctx, at_menu())
    assert world.cases == [] and len(world.actions) == 1


def test_the_documents_after_the_steps_are_pressed_or_named_never_numbered(ctx):
    """After "how do I apply", each service's documents are a press away under "did this
    help?"; a number typed answers that question, never the documents."""
    state, world, replies = run([("كيف اقدم طلب", {"step": Step.ANSWERED})], ctx, at_menu())
    assert replies[-1].numbered == 2 and len(replies[-1].choices) == 5
    pressed, more = say(state, {"choice": "docs:rent_support"}, ctx, world)
    assert answered(more) == ["documents_for.rent_support"]
    state, replies = say(state, "2", ctx, world)  # "No, talk to a researcher"
    assert state.step == Step.CASE


def test_mid_request_the_did_it_help_buttons_last_under_the_question(ctx):
    state, world, _ = run([({"choice": "new_request"}, {}), ({"choice": "food_basket"}, {})],
                          ctx, at_menu())
    state, replies = say(state, "متى الدوام عندكم؟", ctx, world)
    assert replies[-2].lasting and not replies[-1].lasting


def test_mid_request_the_answer_offers_no_new_request_and_keeps_the_place(ctx):
    state, world, _ = run([({"choice": "new_request"}, {}), ({"choice": "food_basket"}, {}),
                           ("فاطمة صالح عبدالله الحربي", {"expects": ("national_id", "national_id")})],
                          ctx, at_menu())
    state, replies = say(state, "وش هي السلة الغذائية؟", ctx, world)
    assert all(not c.id.startswith("start:") for r in replies for c in r.choices)
    state, replies = say(state, {"choice": "start:food_basket"}, ctx, world)  # an old button
    assert replies[-1].expects.field == "national_id"  # on where it was, not question 1


@pytest.mark.parametrize("service,typed", [
    ("financial_aid", "ما اعرف اسم الحي بالضبط"),  # a negation, not a question
    ("financial_aid", "May Saad Abdullah Alharbi"),  # a name in English
])
def test_free_text_answers_that_look_like_questions_are_taken(ctx, service, typed):
    state, world, _ = run([({"choice": "new_request"}, {}), ({"choice": service}, {})],
                          ctx, at_menu())
    state, replies = say(state, typed, ctx, world)
    assert state.draft.answers.get("full_name") == typed
    assert answered(replies) == []


def test_a_clear_question_with_no_sure_answer_at_a_free_text_field_is_the_answer(ctx):
    """At a free-text question only a sure answer makes it a question: nothing is lost."""
    state, world, _ = run([({"choice": "new_request"}, {}), ({"choice": "food_basket"}, {})],
                          ctx, at_menu())
    state, _ = say(state, "هل يكفي اسمي الثلاثي عبدالله محمد سعيد", ctx, world)
    assert state.draft.answers.get("full_name") == "هل يكفي اسمي الثلاثي عبدالله محمد سعيد"
