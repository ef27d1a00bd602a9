"""Voice notes, as dialogues: many elderly beneficiaries speak rather than type. In a case
the voice note goes to the researcher; anywhere else it is kept, answered kindly, and a
researcher who can listen is offered; writing instead goes back where they were."""

from __future__ import annotations

import pytest

from conversations import journey, transcript
from conversations.base import Event, FileRef
from conversations.profile import Profile
from conversations.state import AddToCase, KeepVoice, OpenCase, State, Step
from tests.unit.dialogue import run
from tests.unit.test_dialogues import PROFILE

VOICE = Event("voice", file=FileRef("voice-1.ogg", "audio/ogg", 20480, "cd" * 32))


@pytest.fixture
def ctx(ctx_for):
    return ctx_for(Profile.model_validate(PROFILE))


def at_menu() -> State:
    return State(step=Step.MENU, lang="ar", consented=True)


def test_at_the_menu_a_voice_note_is_kept_and_a_researcher_listens(ctx):
    state, world, replies = run([
        (VOICE, {"step": Step.VOICE, "choices": ["listen", "write"],
                 "contains": ["وصلتنا رسالتك الصوتية", "يستمع إليها باحث"]}),
        ({"choice": "listen"}, {"step": Step.CASE, "contains": "رقم إحالتك"}),
    ], ctx, at_menu())
    assert [a for a in world.actions if isinstance(a, KeepVoice)] == [KeepVoice(VOICE.file)]
    assert [(c.reason, c.detail) for c in world.cases] == [("voice", None)]


def test_mid_request_writing_instead_goes_back_to_the_question(ctx):
    state, world, _ = run([
        ({"choice": "new_request"}, {}), ("1", {}), ("Fatimah Saleh", {}),
        (VOICE, {"expects": ("voice", "choice")}),
        ({"choice": "write"}, {"expects": ("national_id", "national_id")}),
    ], ctx, at_menu())
    assert state.draft.answers == {"full_name": "Fatimah Saleh"} and not world.cases


def test_typing_the_answer_after_a_voice_note_is_taken_where_they_were(ctx):
    state, world, _ = run([
        ({"choice": "new_request"}, {}), ("1", {}), ("Fatimah Saleh", {}),
        (VOICE, {"expects": ("voice", "choice")}),
        ("1234567897", {"expects": ("family_size", "integer")}),
    ], ctx, at_menu())
    assert state.draft.answers["national_id"] == "1234567897"


def test_a_voice_note_too_large_to_keep_is_said_and_nothing_moves(ctx):
    big = Event("voice", file=FileRef("voice-2.ogg", "audio/ogg", 30 * 1024 * 1024, ""))
    state, world, _ = run([(big, {"step": Step.MENU, "expects": ("menu", "choice"),
                                  "contains": ["الحد الأقصى 10", "رسالة صوتية أقصر"]})],
                          ctx, at_menu())
    assert world.actions == []


def test_in_a_case_the_voice_note_goes_to_the_researcher(ctx):
    state, world, _ = run([({"choice": "human"}, {"step": Step.CASE}),
                           (VOICE, {"step": Step.CASE})], ctx, at_menu())
    [relayed] = [a for a in world.actions if isinstance(a, AddToCase)]
    assert relayed.file == VOICE.file and relayed.text.startswith("[voice] voice-1.ogg")
    assert not any(isinstance(a, KeepVoice) for a in world.actions)


def test_the_log_keeps_that_a_voice_note_came_even_at_a_sensitive_question(ctx, profile=None):
    state = State(step=Step.MENU, lang="ar", consented=True)
    said = journey.loggable(state, VOICE, ctx)
    assert said == "[voice] voice-1.ogg (audio/ogg, 20480 B)"
    assert transcript.line(said, "ar", ctx) == "🎤 رسالة صوتية (20 كيلوبايت)"
    assert not any(isinstance(a, OpenCase) for a in journey.step(state, VOICE, ctx).actions)
