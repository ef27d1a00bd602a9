"""Enough time (the policies' step 1), as dialogues: a greeting is never an answer; after a
long absence nothing typed is taken as the answer left open, they are welcomed back and
asked whether to continue; the one reminder of an unfinished request, and how to stop it."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import timedelta

import pytest

from conversations import journey
from conversations.profile import Profile
from conversations.state import State, Step
from tests.unit.dialogue import photo, run
from tests.unit.test_dialogues import ANSWERS, PROFILE


@pytest.fixture
def ctx(ctx_for):
    return ctx_for(Profile.model_validate(PROFILE))


def at_menu(lang: str = "ar") -> State:
    return State(step=Step.MENU, lang=lang, consented=True)


def later(ctx, hours: float):
    return replace(ctx, now=ctx.now + timedelta(hours=hours))


def started(ctx, *answers) -> State:
    state, _, _ = run([({"choice": "new_request"}, {}), ("1", {}), *answers], ctx, at_menu())
    return state


def test_a_greeting_a_day_later_is_not_taken_as_the_name(ctx):
    state = started(ctx)
    state, world, _ = run([
        ("السلام عليكم ورحمة الله", {"expects": ("resume", "choice"), "contains": [
            "مرحبًا بعودتك", "30 يومًا"]}),
        ({"choice": "continue"}, {"expects": ("full_name", "text")}),
    ], later(ctx, 26), state)
    assert state.draft.answers == {}


@pytest.mark.parametrize("typed, answer", [("السلام عليكم", "وعليكم السلام"),
                                           ("مرحبا", "أهلًا بك"), ("hello", "أهلًا بك"),
                                           ("صباح الخير يا جماعة", "أهلًا بك")])
def test_a_greeting_in_the_middle_is_returned_and_the_question_asked_again(ctx, typed, answer):
    state = started(ctx, ("Fatimah Saleh", {}))
    state, _, _ = run([(typed, {"expects": ("national_id", "national_id"),
                                "contains": [answer, "هنا توقفنا"]})], ctx, state)
    assert state.draft.answers == {"full_name": "Fatimah Saleh"} and state.draft.failures == 0


@pytest.mark.parametrize("name", ["صباح العتيبي", "سلامة محمد الحربي", "هلال سعد"])
def test_names_that_begin_like_a_greeting_are_names(ctx, name):
    state = started(ctx)
    state, _, _ = run([(name, {"expects": ("national_id", "national_id")})], ctx, state)
    assert state.draft.answers == {"full_name": name}


def test_after_a_long_absence_even_a_valid_answer_waits_for_continue(ctx):
    state = started(ctx, ("Fatimah Saleh", {}))
    state, _, _ = run([
        ("1234567897", {"expects": ("resume", "choice")}),  # what question was that?
        ({"choice": "continue"}, {"expects": ("national_id", "national_id")}),
        ("1234567897", {"expects": ("family_size", "integer")}),
    ], later(ctx, 7), state)
    assert state.draft.answers["national_id"] == "1234567897"


def test_the_document_sent_after_a_long_absence_is_taken(ctx):
    state = started(ctx, *ANSWERS[:-1])
    state, world, _ = run([(photo(), {"expects": ("acknowledgment", "confirm")})],
                          later(ctx, 30), state)
    assert state.draft.answers["id_photo"]["name"] == "id.jpg"


def test_one_reminder_after_a_day_and_how_to_stop_it(ctx):
    state = started(ctx, ("Fatimah Saleh", {}))
    assert journey.remind_at(state, ctx) == ctx.now + timedelta(hours=24)
    assert journey.remind_at(at_menu(), ctx) is None  # nothing unfinished
    day_after = later(ctx, 24)
    [reminder] = journey.reminder(state, day_after)
    assert state.step == Step.RESUME and state.draft.reminded
    assert "طلبك «مساعدة مالية» بانتظارك" in reminder.text and "30 يومًا" in reminder.text
    assert [c.id for c in reminder.choices] == ["continue", "restart", "no_reminders"]
    assert journey.remind_at(state, day_after) is None  # the one reminder
    assert journey.reminder(state, day_after) == []
    state, _, _ = run([({"choice": "no_reminders"}, {"expects": ("resume", "choice"),
                                                     "contains": "لن تصل تذكيرات أخرى"})],
                      day_after, state)
    assert state.reminders_off and state.draft.answers == {"full_name": "Fatimah Saleh"}
    state, _, _ = run([({"choice": "continue"}, {"expects": ("national_id", "national_id")})],
                      day_after, state)
    assert journey.remind_at(state, day_after) is None


def test_the_reminders_delay_follows_the_profile_and_whatsapps_window(ctx):
    state = started(ctx)
    on_whatsapp = replace(ctx, channel="whatsapp")
    assert journey.remind_at(state, on_whatsapp) == ctx.now + timedelta(hours=20)
    data = copy.deepcopy(PROFILE)
    data["whatsapp"] = {"templates": {"reminder": {"name": "unfinished", "languages": {"ar": "ar"}}}}
    data["reminders"] = {"unfinished_after_hours": 48}
    templated = replace(on_whatsapp, profile=Profile.model_validate(data))
    assert journey.remind_at(state, templated) == ctx.now + timedelta(hours=48)
    data["reminders"] = {"unfinished_after_hours": 0}
    assert journey.remind_at(state, replace(ctx, profile=Profile.model_validate(data))) is None
