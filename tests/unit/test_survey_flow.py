"""The survey and feedback flows as dialogues, without a database."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot import profiles
from conversations import journey, survey
from conversations.base import Event
from conversations.profile import Surveys
from conversations.state import State, Step, SubmitFeedback, SubmitSurvey, SurveyDraft


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
    state, _, _ = say(state, ctx, choice="named")
    state, replies, _ = say(state, ctx, choice="rate:2")
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
