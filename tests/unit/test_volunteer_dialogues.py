"""Volunteering from the menu, as a volunteer would go through it: the profile's questions
checked like the intake's, a mistake said and the same question asked again with what was
given kept, back and cancel, a consent of its own, and withdrawing it."""

from __future__ import annotations

import pytest

from bot import profiles
from conversations import privacy, render
from conversations.state import SignUpVolunteer, State, Step, WithdrawConsent
from tests.unit.dialogue import World, run


@pytest.fixture
def alhuda(ctx_for):
    return ctx_for(profiles.load("alhuda"))


def at_menu(lang: str = "ar") -> State:
    return State(step=Step.MENU, lang=lang, consented=True)


SIGN_UP = [
    ("8", {"step": Step.VOLUNTEER, "contains": ["شباب المنطقة", "(1/5) نرجو كتابة الاسم الكامل"],
           "choices": ["back", "cancel"]}),
    ("خالد عبدالله العتيبي", {"contains": "(2/5) نرجو كتابة رقم الجوال"}),
    ("٠٥٥ ١١١ ٢٢٣٣", {"contains": "(3/5) نرجو كتابة المهارات"}),
    ("الإسعافات الأولية والإرشاد", {"contains": "(4/5) نرجو اختيار الأوقات المناسبة",
                                    "choices": ["weekdays", "weekends", "seasons", "any",
                                                "back", "cancel"]}),
    ("٣", {"contains": "(5/5) نرجو كتابة الحي أو المدينة"}),
    ("رابغ", {"contains": ["نرجو مراجعة البيانات", "• رقم الجوال: \u2066+966551112233\u2069",
                           "• الأوقات المناسبة للتطوع: المواسم والمناسبات",
                           "730 يومًا", "بياناتي وخصوصيتي"],
              "choices": ["accept", "back", "cancel"]}),
]


def test_a_volunteer_signs_up_from_the_menu_with_a_consent_of_its_own(alhuda):
    state, world, replies = run([*SIGN_UP, ("نعم", {"step": Step.MENU,
                                                    "contains": "تم تسجيلك في التطوع"})],
                                alhuda, at_menu(), World())
    [action] = [a for a in world.actions if isinstance(a, SignUpVolunteer)]
    assert action.answers == {"name": "خالد عبدالله العتيبي", "mobile": "+966551112233",
                              "skills": "الإسعافات الأولية والإرشاد", "availability": "seasons",
                              "district": "رابغ"}
    assert action.text_version == "wasl-volunteer-1" and state.volunteer is None
    state, world, _ = run([*SIGN_UP, ({"choice": "accept"}, {"contains": "يحل هذا التسجيل محل"})],
                          alhuda, state, world)  # signing up again replaces the first
    assert world.volunteers == [action.answers]


def test_a_mistake_is_said_and_the_same_question_asked_with_the_answers_kept(alhuda):
    state, world, _ = run(SIGN_UP[:2], alhuda, at_menu(), World())
    state, world, replies = run([
        ("0123", {"step": Step.VOLUNTEER, "contains": ["ليس رقم جوال سعوديًا صحيحًا",
                                                       "(2/5) نرجو كتابة رقم الجوال"]}),
        ("🙂", {"contains": "(2/5)"}),
    ], alhuda, state, world)
    assert state.volunteer.answers == {"name": "خالد عبدالله العتيبي"}
    state, world, _ = run([("0551112233", {"contains": "(3/5)"}), ("الإرشاد", {}),
                           ("9", {"contains": ["نرجو اختيار أحد الخيارات", "(4/5)"]})],
                          alhuda, state, world)
    assert state.volunteer.index == 3 and not world.actions


def test_back_keeps_what_was_given_and_cancel_keeps_nothing(alhuda):
    state, world, _ = run(SIGN_UP, alhuda, at_menu(), World())
    state, world, _ = run([({"choice": "back"}, {"contains": "(5/5)"}),
                           ({"choice": "back"}, {"contains": "(4/5)"}),
                           ({"choice": "weekends"}, {"contains": "(5/5)"}),
                           ("رابغ", {"contains": "• الأوقات المناسبة للتطوع: نهاية الأسبوع"})],
                          alhuda, state, world)
    state, world, _ = run([("لا", {"step": Step.MENU, "contains": "لم يُحفظ شيء"})],
                          alhuda, state, world)
    assert state.volunteer is None and not world.actions
    back, _, _ = run([("8", {}), ({"choice": "back"}, {"step": Step.MENU})], alhuda,
                     at_menu(), World())
    assert back.volunteer is None


def test_in_english_too(alhuda):
    _, world, replies = run([({"choice": "volunteer"}, {"contains": "(1/5) Please write: Full name"}),
                             ("Khalid Alotaibi", {}), ("+966 55 111 2233", {}),
                             ("Driving", {}), ("Any time", {}), ("Rabigh", {}),
                             ({"choice": "accept"}, {"contains": "Your volunteer sign-up is "
                                                                 "recorded"})],
                            alhuda, at_menu("en"), World())
    [action] = world.actions
    assert action.answers["availability"] == "any"


def test_a_volunteer_withdraws_from_my_data_and_privacy(alhuda):
    state = State(step=Step.PRIVACY, lang="ar", consented=True)
    shown = privacy.withdraw_menu(state, alhuda)
    assert [c.id for c in shown.choices][-2:] == [privacy.VOLUNTEERING, "back"]
    assert "التطوع: يُحذف تسجيلك في التطوع" in shown.text
    state.step = Step.WITHDRAW
    state, world, replies = run([({"choice": privacy.VOLUNTEERING},
                                  {"step": Step.PRIVACY, "contains": "تم سحب تسجيلك في التطوع"})],
                                alhuda, state, World())
    assert world.actions == [WithdrawConsent(render.VOLUNTEER_PURPOSE)]


def test_a_profile_may_leave_volunteering_out(ctx_for):
    profile = profiles.load("bakkah")
    off = profile.model_copy(update={"volunteering": profile.volunteering.model_copy(
        update={"enabled": False})})
    ctx = ctx_for(off)
    assert "volunteer" not in [c.id for c in render.menu(at_menu(), ctx).choices]
    assert "volunteer" in [c.id for c in render.menu(at_menu(), ctx_for(profile)).choices]
