"""The policy's review steps decided without a database: what a reviewer matches, how the
decision's period is worded in each policy's words, who may decide, and what a note asked
for does to the next message (it completes the command, never reaches a beneficiary)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot import profiles
from conversations import desk, desk_step, review
from conversations.base import DocumentView, Event, FileRef, RequestView, ReviewMark, StaffView
from conversations.desk_step import Audit, Await, Decide, Deliver, Facts, Mark, Register, TakeReview

T = datetime(2026, 11, 23, 9, tzinfo=UTC)  # a Monday, 12:00 in Riyadh
ME = StaffView(7, "telegram", "700", "Noura Alotaibi", "researcher")
SARA = StaffView(8, "telegram", "800", "Sara Alharbi", "researcher")
KHALID = StaffView(10, "telegram", "1000", "Khalid Alzahrani", "committee")
FIELDS = {"full_name": "فاطمة أحمد صالح الحربي", "national_id": "1048213373",
          "id_expiry": "2027-06-06", "mobile": "+966558765432", "district": "العزيزية",
          "family_size": 5, "id_photo": {"name": "id.png", "mime": "image/png", "size": 9,
                                         "sha256": "ab" * 32}}
DOCS = (DocumentView(1, 50, "id.png", "image/png", 9, 1, "id_photo"),)
ITEMS = ["full_name", "national_id", "id_expiry", "doc:1"]


def request(status: str = "under_review", reviewer: int | None = ME.id, **fields) -> RequestView:
    return RequestView(1, "BK-2026-000001", "food_basket", status, date(2026, 12, 7), None, T,
                       T, {**FIELDS, **fields}, "telegram", "ar", 50, reviewer_id=reviewer)


def facts(me: StaffView = ME, marks: tuple[str, ...] = (), **kw) -> Facts:
    kw.setdefault("request", request())
    found = tuple(ReviewMark(item, True, None, ME.id, T) for item in marks)
    return Facts(me, "en", docs=DOCS, marks=found, **kw)


def run(f: Facts, text: str, ctx) -> desk_step.DeskStep:
    command = desk.parse(Event("text", text=text))
    assert command is not None
    return desk_step.step(f, command, ctx)


def said(decided: desk_step.DeskStep) -> str:
    return "\n".join(r.text for r in decided.replies)


@pytest.fixture
def ctx(bakkah, ctx_for):
    return ctx_for(bakkah, T, "telegram")


@pytest.fixture
def huda(ctx_for):
    return ctx_for(profiles.load("alhuda"), T, "telegram")


# -- the policy's words ----------------------------------------------------------------
def test_four_policies_promise_not_less_than_two_weeks_and_al_huda_a_set_period(ctx, huda):
    due = date(2026, 12, 7)
    assert review.studies("ar", ctx) == ("سيُرفع طلبك إلى لجنة البحث لدراسته والرد عليه بشأن "
                                         "قبوله أو رفضه خلال مدة لا تقل عن أسبوعين.")
    assert review.due_sentence(due, "ar", ctx).startswith("يُتوقع الرد ابتداءً من ")
    assert review.due_for_staff(due, "en", ctx) == "answer due from 2026-12-07"
    assert "the competent body in the association" in review.studies("en", huda)
    assert "within a set period of 2 weeks" in review.studies("en", huda)
    assert review.due_sentence(due, "en", huda).startswith("Expect the answer by ")
    assert review.due_for_staff(due, "en", huda) == "answer due by 2026-12-07"
    for name in ("bakkah", "sadeed", "basmat", "bir_bin_hirmas"):
        assert profiles.load(name).decision.wording == "at_least"


def test_a_period_that_is_not_whole_weeks_is_told_in_days(bakkah, ctx_for):
    ten = bakkah.model_copy(update={"decision": bakkah.decision.model_copy(update={"days": 10})})
    assert review.period("ar", ctx_for(ten, T, "telegram")) == "10 أيام"


# -- what the reviewer matches -------------------------------------------------------------
def test_the_reviewer_matches_what_documents_prove_and_each_document(ctx):
    found = review.items(request(), DOCS, "en", ctx)
    assert [i.key for i in found] == ITEMS
    assert found[1].value == "1048213373"  # unmasked: it is compared with the photo
    assert found[3].document_id == 1


def test_an_id_that_expired_since_submission_is_flagged_and_blocks_registration(ctx):
    late = request(id_expiry="2026-11-01")  # valid when submitted, past at review
    card = run(facts(request=late, marks=tuple(ITEMS)), "/review BK-2026-000001", ctx)
    assert "⚠️ expired on 2026-11-01, after it was submitted" in said(card)
    assert "Send back to the beneficiary" in [c.label.split(" ", 1)[1] for c in
                                              card.replies[0].choices][0]
    refused = run(facts(request=late, marks=tuple(ITEMS)), "/register BK-2026-000001", ctx)
    assert "every item must be matched and valid first" in said(refused)
    assert not any(isinstance(a, Register) for a in refused.actions)
    missing = review.what_is_missing(late, DOCS, {}, "ar", ctx)
    assert "تاريخ انتهاء الهوية (هجري أو ميلادي): لم يعد ساريًا" in missing


def test_a_submitted_request_is_taken_for_review_and_its_first_item_asked(ctx):
    decided = run(facts(request=request("submitted", reviewer=None)),
                  "/review BK-2026-000001", ctx)
    assert isinstance(decided.actions[0], TakeReview)  # may lose the race: first
    assert "You took BK-2026-000001 for review." in said(decided)
    assert [c.id for c in decided.replies[0].choices][:2] == [
        "match:BK-2026-000001 full_name", "mismatch:BK-2026-000001 full_name"]
    assert Audit("view_request", number="BK-2026-000001", beneficiary_id=50,
                 detail="review") in decided.actions


def test_another_researchers_review_is_theirs(ctx):
    decided = run(facts(SARA, reviewer=ME), "/match BK-2026-000001 full_name", ctx)
    assert said(decided) == "BK-2026-000001 is being reviewed by Noura Alotaibi."
    assert decided.actions == []


def test_a_mismatch_asks_for_its_note_which_the_next_message_completes(ctx):
    asked = run(facts(), "/mismatch BK-2026-000001 national_id", ctx)
    assert asked.actions == [Await("/mismatch BK-2026-000001 national_id")]
    state = desk.DeskState("researcher", ME.id, awaiting="/mismatch BK-2026-000001 national_id")
    [route] = desk.route(state, Event("text", text="الرقم لا يطابق الصورة"))
    assert route == desk.Run(desk.Command("/mismatch",
                                          "BK-2026-000001 national_id الرقم لا يطابق الصورة"))
    marked = desk_step.step(facts(), route.command, ctx)
    assert Mark(request(), "national_id", False, "الرقم لا يطابق الصورة") in marked.actions
    assert not any(isinstance(a, desk_step.Write) for a in marked.actions)  # never relayed
    number = desk.route(state, Event("text", text="5"))  # a number is the note too, not a button
    assert number == (desk.Run(desk.Command("/mismatch", "BK-2026-000001 national_id 5")),)


def test_a_receipt_photo_completes_delivery(ctx):
    state = desk.DeskState("researcher", ME.id, awaiting="/deliver BK-2026-000001")
    photo = FileRef("receipt.jpg", "image/jpeg", 10, "cd" * 32, b"x")
    [route] = desk.route(state, Event("file", file=photo))
    assert route.command.file == photo
    decided = desk_step.step(facts(request=request("approved"), upload=photo), route.command, ctx)
    deliver = decided.actions[0]
    assert isinstance(deliver, Deliver) and deliver.receipt == photo
    assert (deliver.delivery.amount, deliver.delivery.unit) == (None, None)


def test_everything_matched_registers(ctx):
    decided = run(facts(marks=tuple(ITEMS)), "/register BK-2026-000001", ctx)
    assert decided.actions == [Register(request()), Audit("register", number="BK-2026-000001",
                                                          beneficiary_id=50)]


# -- the committee decides -------------------------------------------------------------------
def test_only_the_committee_or_an_admin_may_decide(ctx, huda):
    assert not desk.allowed("researcher", "/decide")
    assert desk.allowed("committee", "/decide") and desk.allowed("admin", "/decide")
    assert not desk.allowed("committee", "/claim")  # the committee does not take cases
    assert desk.refusal("/decide", "en", ctx) == ("Only the research committee or an admin "
                                                  "records a decision.")
    assert desk.refusal("/decide", "ar", huda) == "تسجيل القرار من صلاحية الجهة المختصة أو المشرفين فقط."


def test_a_rejection_keeps_its_meeting_and_asks_for_the_reason(ctx):
    with_committee = request("committee")
    asked = run(facts(KHALID, request=with_committee), "/decide BK-2026-000001 reject ٣", ctx)
    assert asked.actions == [Await("/decide BK-2026-000001 reject 3 2026-11-23")]
    decided = run(facts(KHALID, request=with_committee),
                  "/decide BK-2026-000001 reject 3 2026-11-23 الدخل أعلى من حد الدعم", ctx)
    decide = decided.actions[0]
    assert isinstance(decide, Decide)
    assert (decide.decision.outcome, decide.decision.meeting, decide.decision.reason) == (
        "rejected", "3", "الدخل أعلى من حد الدعم")
    words = desk_step.tell(desk_step.Decided("BK-2026-000001", decide.decision), "ar", ctx)[0]
    assert "السبب: الدخل أعلى من حد الدعم" in words.text
    # the next steps: a researcher who can explain, or a new request
    assert [c.id for c in words.choices] == ["human", "new_request"]


def test_a_meeting_in_hijri_is_read_and_a_word_is_not_a_meeting():
    assert review.parse_meeting("12 1448-06-13 سبب") == ("12", date(2026, 11, 23), "سبب")
    assert review.parse_meeting("the income") is None


@pytest.mark.parametrize(("typed", "got"), [
    ("500 ريال", ("500", "ريال")), ("٢ سلة", ("2", "سلة")), ("1,500.50 SAR", ("1500.5", "SAR")),
    ("", (None, None)), ("بطانية", (None, "بطانية")),
])
def test_what_was_delivered_is_read_as_an_amount_and_its_unit(typed, got):
    assert review.parse_amount(typed) == got


def test_the_committee_sees_identifying_numbers_masked(ctx):
    card = run(facts(KHALID, request=request("committee")), "/decide BK-2026-000001", ctx)
    assert "1048213373" not in said(card) and "3373" in said(card)
    assert [c.id for c in card.replies[0].choices][-2:] == [
        "decide:BK-2026-000001 approve", "decide:BK-2026-000001 reject"]


def test_a_note_asked_for_is_awaited_half_an_hour_then_the_message_is_for_someone_else():
    stored = desk.awaiting_value("/mismatch BK-2026-000001 national_id", T)
    assert desk.awaited(stored, T.replace(minute=29)) == "/mismatch BK-2026-000001 national_id"
    assert desk.awaited(stored, T.replace(minute=31)) is None
    assert desk.awaited("garbage", T) is None and desk.awaited(None, T) is None


def test_a_note_asked_for_in_private_and_written_in_a_topic_is_not_relayed():
    from conversations.base import CaseView

    topic = CaseView(5, "claimed", "asked", None, 50, "telegram", T, claimed_by=ME.id)
    state = desk.DeskState("researcher", ME.id, awaiting="/mismatch BK-2026-000001 national_id",
                           in_group=True, topic_case=topic)
    routes = desk.route(state, Event("text", text="الرقم لا يطابق"))
    assert routes == (desk.Run(desk.Command("/mismatch", "BK-2026-000001 national_id")),)
    assert "/mismatch" in desk.PRIVATE  # asked again in their private chat
