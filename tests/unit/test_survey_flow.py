"""The survey and feedback flows as dialogues, and which closed cases are surveyed, without
a database."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot import profiles
from conversations import journey, survey
from conversations.base import Event
from conversations.profile import Surveys
from conversations.state import State, Step, SubmitFeedback, SubmitSurvey, SurveyDraft
from handlers import surveys
from storage import models as m
from tests.conftest import NOW
from tests.unit.dialogue import World, run


def started(ctx, kind: str = "service", step: Step = Step.MENU, lang: str = "ar") -> State:
    state = State(consented=True, step=step, lang=lang)
    survey.begin(state, SurveyDraft(id=7, kind=kind, subject="SD-2026-000001",
                                    service="food_basket"), ctx)
    return state


def say(state: State, ctx, **event) -> tuple[State, list, list]:
    kind = "choice" if "choice" in event else "text"
    tr = journey.step(state, Event(kind, **event), ctx)
    return tr.state, tr.replies, tr.actions


@pytest.fixture
def sadeed_ctx(ctx_for):
    return ctx_for(profiles.load("sadeed"))


RATINGS = [f"rate:{n}" for n in range(1, 6)] + ["later"]
NAMED_OR_NOT = ["named", "anonymous", "later"]


def test_the_rating_comes_first_then_with_a_name_or_not_then_the_comment(bakkah, ctx_for):
    ctx = ctx_for(bakkah)  # bakkah: anonymous answers allowed, one extra rating (`ease`)
    state = started(ctx)
    assert question_asked(state, ctx) == ("survey_rating", RATINGS)
    state, world, _ = run([
        ("٤", {"expects": ("survey_ease", "choice"), "choices": RATINGS}),  # 4, in Arabic-Indic digits
        ("5", {"expects": ("survey_anonymous", "choice"), "choices": NAMED_OR_NOT}),
        ("1", {"expects": ("survey_comment", "text")}),  # the first option shown: with my name
        ({"choice": "no_comment"}, {"step": Step.MENU}),
    ], ctx, state)
    assert world.actions == [SubmitSurvey(7, 4, None, {"ease": 5}, False)]


@pytest.mark.parametrize("said,rating", [
    ("٤", 4), ("4", 4), ("۵", 5), ({"choice": "rate:2"}, 2), ("⭐⭐⭐", 3), ("جيد", 4), ("ممتاز", 5)])
def test_the_first_question_takes_the_rating_however_it_is_given(bakkah, ctx_for, said, rating):
    ctx = ctx_for(bakkah)
    state, _, _ = run([(said, {"expects": ("survey_anonymous", "choice")})],
                      ctx, started(ctx, kind="case"))
    assert state.survey.answers == {"rating": rating} and not state.survey.anonymous


def test_typed_numbers_pick_what_is_shown_with_that_number(bakkah, ctx_for):
    ctx = ctx_for(bakkah)
    state = started(ctx, kind="case", lang="en")
    rating = journey.prompt(state, ctx)
    assert rating.numbered_lines()[4:] == ["5. ⭐⭐⭐⭐⭐ Very satisfied", "[⏳ Later]"]
    state, _, _ = run([
        ("6", {"expects": ("survey_rating", "choice"), "contains": "did not understand"}),
        ("3", {"expects": ("survey_anonymous", "choice")}),
    ], ctx, state)
    asked = journey.prompt(state, ctx)
    assert asked.numbered_lines() == [
        "1. 👤 Answer with my name", "2. 🕶 Answer anonymously", "[⏳ Later]"]
    state, _, _ = run([
        ("3", {"expects": ("survey_anonymous", "choice"), "contains": "did not understand"}),
        ("٢", {"expects": ("survey_comment", "text")}),
    ], ctx, state)
    assert state.survey.anonymous and state.survey.answers == {"rating": 3}
    _, world, _ = run([("No comment", {"step": Step.MENU})], ctx, state)
    assert world.actions == [SubmitSurvey(7, 3, None, {}, True)]


def test_later_is_pressed_or_typed_by_name_at_either_question(bakkah, ctx_for):
    ctx = ctx_for(bakkah)
    state, _, _ = run([("لاحقا", {"step": Step.MENU})], ctx, started(ctx, kind="case"))
    assert state.survey is None
    state, _, _ = run([({"choice": "rate:5"}, {"expects": ("survey_anonymous", "choice")}),
                       ({"choice": "later"}, {"step": Step.MENU})], ctx, started(ctx, kind="case"))
    assert state.survey is None


def test_a_survey_begun_with_the_anonymity_question_still_asks_for_the_rating(bakkah, ctx_for):
    """A conversation saved at the old first question: "1" there is "with my name", and the
    rating is asked next, not taken to be 1."""
    ctx = ctx_for(bakkah)
    state = started(ctx, kind="case")
    state.survey.stage = "anonymous"
    state, world, _ = run([
        ("1", {"expects": ("survey_rating", "choice")}),
        ("٥", {"expects": ("survey_anonymous", "choice")}),
        ("2", {"expects": ("survey_comment", "text")}),
        ({"choice": "no_comment"}, {"step": Step.MENU}),
    ], ctx, state, World())
    assert world.actions == [SubmitSurvey(7, 5, None, {}, True)]


def question_asked(state: State, ctx) -> tuple[str, list[str]]:
    asked = journey.prompt(state, ctx)
    return asked.expects.field, [c.id for c in asked.choices]


def test_a_choice_question_from_the_profile_then_no_comment(sadeed_ctx):
    state = started(sadeed_ctx)  # sadeed: no anonymous answers, one choice question
    assert state.survey.stage == "rating"
    state, replies, _ = say(state, sadeed_ctx, text="٣")
    assert [c.id for c in replies[-1].choices] == ["at_office", "delivered", "transfer", "later"]
    state, replies, _ = say(state, sadeed_ctx, text="وصلت إلى منزلي")  # typed as its label
    assert replies[-1].expects.field == "survey_comment"
    state, replies, actions = say(state, sadeed_ctx, choice="no_comment")
    assert actions == [SubmitSurvey(7, 3, None, {"received_how": "delivered"}, False)]
    assert state.step == Step.MENU and state.survey is None


def test_nonsense_keeps_the_question_and_what_was_answered(sadeed_ctx):
    state = started(sadeed_ctx, lang="en")
    state, _, _ = say(state, sadeed_ctx, text="5")
    state, replies, actions = say(state, sadeed_ctx, text="blue")
    assert actions == [] and "did not understand" in replies[0].text
    assert state.survey.answers == {"rating": 5} and state.survey.stage == "received_how"
    state, _, _ = say(state, sadeed_ctx, text="7")  # out of range
    assert state.survey.stage == "received_how"


def test_a_survey_interrupting_a_question_returns_to_it(bakkah, ctx_for):
    ctx = ctx_for(bakkah)
    state = State(consented=True, step=Step.LANGUAGE)
    survey.begin(state, SurveyDraft(id=1, kind="case", subject="4"), ctx)
    state, replies, actions = say(state, ctx, choice="later")
    assert actions == [] and state.step == Step.LANGUAGE and state.survey is None
    assert replies[-1].expects.field == "language"


def test_a_comment_can_be_too_long_and_is_then_asked_again(bakkah, ctx_for):
    ctx = ctx_for(bakkah)
    state = started(ctx, kind="case")
    state, _, _ = say(state, ctx, choice="rate:2")
    state, replies, _ = say(state, ctx, choice="named")
    assert replies[-1].expects.field == "survey_comment"  # a case has no extra questions
    state, replies, actions = say(state, ctx, text="ا" * 1001)
    assert actions == [] and "1000" in replies[0].text and state.survey.stage == "comment"
    state, replies, actions = say(state, ctx, text="أريد موظف يرد علي")  # a comment, not a call
    assert actions == [SubmitSurvey(7, 2, "أريد موظف يرد علي", {}, False)]


def test_survey_answers_never_enter_the_log(bakkah, ctx_for):
    ctx = ctx_for(bakkah)
    state = started(ctx)
    assert journey.loggable(state, Event("text", text="خدمة سيئة جدا"), ctx) == journey.SURVEY_ANSWER


def test_a_suggestion_from_the_menu(bakkah, ctx_for):
    ctx = ctx_for(bakkah)
    state = State(consented=True, step=Step.MENU)
    state, replies, _ = say(state, ctx, choice="feedback")
    assert state.step == Step.FEEDBACK and replies[-1].expects.field == "feedback_kind"
    state, replies, _ = say(state, ctx, text="١")
    assert state.feedback_kind == "suggestion"
    state, replies, _ = say(state, ctx, choice="back")
    assert state.feedback_kind is None and state.step == Step.FEEDBACK
    state, _, _ = say(state, ctx, choice="suggestion")
    state, _, actions = say(state, ctx, text="أقترح توفير خدمة التوصيل لكبار السن")
    assert actions == [SubmitFeedback("suggestion", "أقترح توفير خدمة التوصيل لكبار السن")]
    assert state.step == Step.MENU


def test_a_profile_may_ask_at_most_three_more_questions():
    question = {"key": "q", "kind": "rating", "text": {"ar": "سؤال"}}
    with pytest.raises(ValidationError):
        Surveys.model_validate({"questions": [{**question, "key": f"q{i}"} for i in range(4)]})
    with pytest.raises(ValidationError):
        Surveys.model_validate({"questions": [{**question, "key": "rating"}]})
    with pytest.raises(ValidationError):
        Surveys.model_validate({"questions": [{**question, "kind": "choice"}]})


class Kept:
    """The one part of the unit of work `for_case` reaches: adding the survey."""

    def __init__(self) -> None:
        self.added: list[m.Survey] = []

    async def add_survey(self, row: m.Survey) -> m.Survey:
        self.added.append(row)
        return row


@pytest.mark.parametrize("reason,rated", [
    ("asked", True), ("repeated_failures", True), ("message", True),
    ("suggestion", False), ("complaint", False), ("low_rating", False)])
async def test_only_a_researchers_help_is_rated_when_its_case_closes(bakkah, reason, rated):
    case = m.Case(id=3, beneficiary_id=5, status="closed", reason=reason, channel="sim",
                  created_at=NOW)
    kept = Kept()
    row = await surveys.for_case(kept, bakkah, case, 2, NOW)
    assert (row is not None) == rated and len(kept.added) == int(rated)
    if row is not None:
        assert (row.subject, row.kind, row.staff_id, row.beneficiary_id) == ("case:3", "case", 2, 5)
