"""The beneficiary's rights over their data, as dialogues: the "My data and privacy" menu,
a copy of one's data asked for by button, command or in their own words, and the readable
copy made from the facts."""

from __future__ import annotations

from dataclasses import replace

import pytest

from conversations import privacy
from conversations.base import CaseView
from conversations.profile import Profile
from conversations.state import (
    AddToCase,
    DeleteData,
    Draft,
    ExportData,
    PlanDeletion,
    SetAnnouncements,
    State,
    Step,
    WithdrawConsent,
)
from tests.unit.dialogue import run
from tests.unit.test_dialogues import PROFILE

MENU = ["my_data", "delete_data", "withdraw_consent", "privacy_request", "privacy_notice", "back"]
WITHDRAW = ["withdraw_announcements", "withdraw_sensitive", "withdraw_all", "withdraw_volunteering",
            "back"]


@pytest.fixture
def ctx(ctx_for):
    return ctx_for(Profile.model_validate(PROFILE))


def at_menu(lang: str = "ar") -> State:
    return State(step=Step.MENU, lang=lang, consented=True)


def copies(world) -> int:
    return sum(isinstance(a, ExportData) for a in world.actions)


def test_the_main_menu_lists_the_rights_and_the_copy_comes_as_two_files(ctx):
    state, world, replies = run([
        ("/menu", {"choices": ["new_request", "status", "human", "language", "feedback",
                               "contact", "privacy", "volunteer"]}),
        ("7", {"step": Step.PRIVACY, "choices": MENU,
               "contains": ["نسخة من بياناتي", "/mydata", "تصحيح", "حذف", "سحب موافقة",
                            "خلال 30 يومًا", "/stop"]}),
        ({"choice": "my_data"}, {"step": Step.PRIVACY, "choices": MENU}),
    ], ctx, at_menu())
    assert copies(world) == 1
    files = [r for r in replies if r.document_id is not None]
    assert [r.document_id for r in files] == [101, 102]
    assert "نسخة من جميع البيانات المحفوظة لدى جمعية الاختبار" in files[0].text
    assert "JSON" in files[1].text


@pytest.mark.parametrize("typed", ["أبغى نسخة من بياناتي", "ابي نسخه من بياناتي لو سمحت",
                                   "وش عندكم عني؟", "/mydata", "I want a copy of my data"])
def test_a_copy_asked_for_in_words_or_by_command_at_the_menu(ctx, typed):
    state, world, replies = run([(typed, {"step": Step.MENU, "expects": ("menu", "choice")})],
                                ctx, at_menu())
    assert copies(world) == 1 and not world.cases
    assert [r.document_id for r in replies if r.document_id] == [101, 102]


def test_mid_request_the_copy_comes_and_the_same_question_is_asked_again(ctx):
    state, world, _ = run([
        ({"choice": "new_request"}, {}), ("1", {}), ("Fatimah Saleh", {}),
        ("١٢٣٤٥٦٧٨٩٧", {"expects": ("family_size", "integer")}),
        ("أبغى نسخة من بياناتي", {"expects": ("family_size", "integer")}),
    ], ctx, at_menu())
    assert copies(world) == 1
    assert state.draft.answers == {"full_name": "Fatimah Saleh", "national_id": "1234567897"}


def test_where_a_name_is_asked_only_the_phrase_alone_asks_for_the_copy(ctx):
    state, world, _ = run([
        ({"choice": "new_request"}, {}), ("1", {"expects": ("full_name", "text")}),
        ("نسخة من بياناتي", {"expects": ("full_name", "text")}),
    ], ctx, at_menu())
    assert copies(world) == 1 and state.draft.answers == {}


def test_talking_with_a_researcher_the_words_go_to_them(ctx):
    talking = replace(ctx, case=CaseView(1, "claimed", "asked", None, 1, "sim", ctx.now,
                                         claimed_by=7))
    state = State(step=Step.CASE, lang="ar", consented=True)
    _, world, _ = run([("أبغى نسخة من بياناتي", {})], talking, state)
    assert copies(world) == 0
    assert [type(a) for a in world.actions] == [AddToCase]
    _, world, replies = run([("/mydata", {})], talking, state)  # the command still works
    assert copies(world) == 1


def test_privacy_in_words_opens_the_menu_and_a_correction_needs_a_request(ctx):
    state, world, replies = run([
        ("خصوصيتي", {"step": Step.PRIVACY, "choices": MENU}),
        ({"choice": "privacy_notice"}, {"step": Step.PRIVACY, "contains": "حذفها"}),
        ({"choice": "privacy_request"}, {"step": Step.PRIVACY, "contains": "لا يوجد طلب مقدَّم"}),
    ], ctx, at_menu())  # (test_correction_dialogues.py corrects a submitted one)
    assert not world.cases


def test_back_and_a_misunderstanding_at_the_privacy_menu(ctx):
    run([
        ("بياناتي", {"step": Step.PRIVACY}),
        ("كلام غير مفهوم هنا", {"step": Step.PRIVACY, "contains": "لم أفهم", "choices": MENU}),
        ({"choice": "back"}, {"step": Step.MENU, "expects": ("menu", "choice")}),
    ], ctx, at_menu())


def test_a_copy_that_cannot_be_made_is_said_kindly_and_the_menu_stays(ctx):
    from tests.unit.dialogue import World

    _, _, replies = run([("/mydata", {"step": Step.MENU, "expects": ("menu", "choice"),
                                      "contains": "تعذّر إعداد النسخة"})],
                        ctx, at_menu(), World(copy_fails=True))
    assert not any(r.document_id for r in replies)


FACTS = {
    "association": "جمعية الاختبار", "made_at": "2026-11-23T09:00:00+00:00",
    "you": {"language": "ar", "since": "2026-11-01T06:00:00+00:00", "file_number": "F-000001",
            "announcements_off_at": None},
    "accounts": [{"channel": "telegram", "account": "555", "since": "2026-11-01T06:00:00+00:00"}],
    "consents": [{"purpose": "beneficiary_services", "version": "test-1/ar", "language": "ar",
                  "channel": "telegram", "given_at": "2026-11-01T06:00:00+00:00",
                  "withdrawn_at": None}],
    "requests": [{
        "number": "BK-2026-000001", "service": "financial_aid", "status": "committee",
        "submitted_at": "2026-11-02T07:00:00+00:00", "decision_due": "2026-11-16",
        "answers": {"full_name": "فاطمة صالح", "national_id": "1234567897", "housing": "rented",
                    "iban": "SA0380000000608010167519",
                    "id_photo": {"name": "id.jpg", "mime": "image/jpeg"}},
        "needs_info": None,
        "documents": [{"name": "id.jpg", "mime": "image/jpeg", "size": 10, "sha256": "ab",
                       "received_at": "2026-11-02T07:00:00+00:00"}],
        "acknowledgment": {"text": "أقر بصحة البيانات", "version": "wasl-ack-2/ar",
                           "sha256": "f" * 64, "signature": "فاطمة صالح",
                           "at": "2026-11-02T07:00:00+00:00"},
        "history": [{"status": "submitted", "at": "2026-11-02T07:00:00+00:00"}],
        "registration": {"file_number": "F-000001", "at": "2026-11-03T07:00:00+00:00"},
        "decision": None, "delivery": None}],
    "unfinished_request": None,
    "conversations_with_researchers": [{"case": 4, "status": "closed",
                                        "opened_at": "2026-11-05T07:00:00+00:00",
                                        "closed_at": "2026-11-05T08:00:00+00:00",
                                        "messages": [{"from": "researcher", "text": "أهلًا بك",
                                                      "at": "2026-11-05T07:10:00+00:00"}]}],
    "surveys": [], "suggestions_and_complaints": [],
    "conversation_log": [{"from": "you", "text": "[choice] status «📋 حالة طلباتي»",
                          "at": "2026-11-04T07:00:00+00:00"}],
}


def test_the_readable_copy_shows_every_answer_in_full_in_words_and_riyadh_time(ctx):
    parts = privacy.sections(FACTS, "ar", ctx)
    text = "\n".join([p.title for p in parts] + [f"{a}: {b}" for p in parts for a, b in p.rows]
                     + [x for p in parts for x in p.lines])
    for shown in ("نسخة من بياناتك لدى جمعية الاختبار", "الطلب رقم BK-2026-000001",
                  "1234567897", "SA0380000000608010167519",  # their own: not masked
                  "إيجار", "لدى لجنة البحث", "أقر بصحة البيانات", "فاطمة صالح", "F-000001",
                  "استخدام بياناتك لدراسة طلباتك وخدمتك", "Telegram",
                  "محادثة مع الباحث الاجتماعي (الإحالة رقم 4)", "أهلًا بك",
                  "23 نوفمبر 2026، 12:00",  # 09:00 UTC is noon in Riyadh
                  "📋 حالة طلباتي", "سدايا"):
        assert shown in text, shown
    assert "rented" not in text and "beneficiary_services" not in text and "[choice]" not in text
    english = privacy.sections(FACTS, "en", ctx)
    assert english[0].title == "A copy of your data with Test Association"
    assert ("Housing", "Rented") in english[3].rows


def deletions(world) -> int:
    return sum(isinstance(a, DeleteData) for a in world.actions)


@pytest.mark.parametrize("typed", ["احذفوا بياناتي", "لو سمحتوا امسحوا بياناتي", "/delete",
                                   "please delete my data"])
def test_deletion_asked_for_says_what_goes_and_asks_first(ctx, typed):
    state, world, replies = run([
        (typed, {"step": Step.DELETING, "expects": ("delete", "confirm"),
                 "choices": ["confirm_delete", "keep_data"],
                 "contains": ["يزيل نهائيًا", "تقييماتك", "هل نحذف بياناتك؟"],
                 "absent": "يلزم الاحتفاظ"}),
    ], ctx, at_menu())
    assert deletions(world) == 0 and any(isinstance(a, PlanDeletion) for a in world.actions)


def test_confirmed_deletion_says_what_was_kept_and_why(ctx):
    from tests.unit.dialogue import World

    world = World(held=(("BK-2026-000007", "committee"),))
    state, world, replies = run([
        ({"choice": "privacy"}, {"step": Step.PRIVACY}),
        ({"choice": "delete_data"}, {"step": Step.DELETING,
                                     "contains": ["BK-2026-000007: قيد الدراسة لدى اللجنة",
                                                  "خلال 30 يومًا"]}),
        ("كلام آخر", {"step": Step.DELETING, "expects": ("delete", "confirm")}),  # asked again
        ({"choice": "confirm_delete"}, {"contains": ["تم حذف بياناتك من نظام جمعية الاختبار",
                                                     "حتى اكتمالها", "BK-2026-000007"]}),
    ], ctx, at_menu(), world)
    assert deletions(world) == 1


def test_no_keeps_everything_and_goes_back_to_the_question(ctx):
    state, world, _ = run([
        ({"choice": "new_request"}, {}), ("1", {}), ("Fatimah Saleh", {}),
        ("احذفوا بياناتي", {"step": Step.DELETING}),
        ({"choice": "keep_data"}, {"contains": "لم يُحذف شيء", "expects": ("national_id", "national_id")}),
    ], ctx, at_menu())
    assert deletions(world) == 0 and state.draft.answers == {"full_name": "Fatimah Saleh"}
    _, world, _ = run([("/delete", {}), ("لا", {"step": Step.MENU, "contains": "لم يُحذف شيء"})],
                      ctx, at_menu())
    assert deletions(world) == 0


def test_withdrawing_says_what_follows_for_each_consent(ctx):
    state, world, _ = run([
        ({"choice": "privacy"}, {}),
        ({"choice": "withdraw_consent"}, {"step": Step.WITHDRAW, "choices": WITHDRAW,
                                          "contains": ["تتوقف إعلانات الجمعية",
                                                       "لا تُطرح بعد الآن",
                                                       "لن تتمكن الجمعية حينها من خدمتك"]}),
        ({"choice": "withdraw_announcements"}, {"step": Step.PRIVACY,
                                                "contains": "لن تصلك إعلانات"}),
    ], ctx, at_menu())
    assert [a for a in world.actions if isinstance(a, SetAnnouncements)] == [SetAnnouncements(False)]


def test_withdrawing_the_sensitive_consent_removes_those_answers_from_a_draft(ctx_for):
    import copy

    data = copy.deepcopy(PROFILE)
    income = next(f for f in data["services"][0]["fields"] if f["key"] == "income")
    income["sensitive"] = True  # the income: a financial answer, asked after its own consent
    ctx = ctx_for(Profile.model_validate(data))
    state = State(step=Step.MENU, lang="ar", consented=True, sensitive_consent=True,
                  draft=Draft(service="financial_aid",
                              answers={"full_name": "Fatimah Saleh", "income": 3000}))
    state, world, _ = run([
        ("أبي أسحب موافقتي", {"step": Step.WITHDRAW}),
        ({"choice": "withdraw_sensitive"}, {"step": Step.PRIVACY,
                                            "contains": "تم سحب موافقتك على الأسئلة الصحية"}),
    ], ctx, state)
    assert [a for a in world.actions if isinstance(a, WithdrawConsent)] == [
        WithdrawConsent("sensitive_data")]
    assert not state.sensitive_consent and state.draft.answers == {"full_name": "Fatimah Saleh"}
    assert state.draft.sensitive_declined


def test_withdrawing_the_use_of_ones_data_is_the_deletion_question(ctx):
    state, world, _ = run([
        ("سحب الموافقة", {"step": Step.WITHDRAW}),
        ({"choice": "withdraw_all"}, {"step": Step.DELETING, "contains": "هل نحذف بياناتك؟"}),
        ({"choice": "keep_data"}, {"step": Step.PRIVACY, "contains": "لم يُحذف شيء"}),
    ], ctx, at_menu())
    assert deletions(world) == 0


def test_no_messages_in_words_stops_announcements_only(ctx):
    _, world, replies = run([("ما أبي رسائل", {"contains": "طلباتك"})],
                            ctx, at_menu())
    assert world.actions == [SetAnnouncements(False)]
