"""The desk's step (desk_step.step), decided without a database: what a researcher or an
admin is answered and what the desk then does, for each command in the situations a
working day brings (the case taken a moment before by a colleague, a colleague busy
with another beneficiary, a ticket closed, a status that needs a note). The same
commands through the router, on both databases, are in tests/integration."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from conversations import desk, desk_step
from conversations.base import AckView, CaseView, Choice, Event, FileRef, RequestView, StaffView
from conversations.desk_step import (
    Audit,
    CloseCase,
    Closed,
    Facts,
    Joined,
    MakeReport,
    RateCase,
    RateDelivery,
    ReleaseCase,
    ReopenCase,
    SaveLanguage,
    SetCurrent,
    SetStatus,
    StatusChanged,
    TakeCase,
    Tell,
    TicketClosed,
    ToStaff,
    TransferCase,
    Write,
)
from conversations.state import State, Step

T = datetime(2026, 11, 23, 9, tzinfo=UTC)  # a Monday, 12:00 in Riyadh
ME = StaffView(7, "telegram", "700", "Noura Alotaibi", "researcher")
SARA = StaffView(8, "telegram", "800", "Sara Alharbi", "researcher")
BOSS = StaffView(9, "telegram", "900", "Hind Admin", "admin")


def case(n: int, status: str = "claimed", holder: int | None = ME.id, reason: str = "asked",
         beneficiary: int | None = None, audience: str = "researcher",
         detail: str | None = None) -> CaseView:
    return CaseView(n, status, reason, detail, beneficiary or n * 10, "telegram", T,
                    claimed_by=holder if status != "queued" else None, audience=audience)


def request(status: str = "submitted") -> RequestView:
    return RequestView(1, "BK-2026-000001", "food_basket", status, date(2026, 12, 7), None, T,
                       T, {"full_name": "فاطمة أحمد"}, "telegram", "ar", 50)


def facts(me: StaffView = ME, lang: str = "en", **kw) -> Facts:
    return Facts(me, lang, **kw)


def run(f: Facts, text: str, ctx) -> desk_step.DeskStep:
    command = desk.parse(Event("text", text=text))
    assert command is not None
    return desk_step.step(f, command, ctx)


@pytest.fixture
def ctx(bakkah, ctx_for):
    return ctx_for(bakkah, T, "telegram")


def said(decided: desk_step.DeskStep) -> str:
    return "\n".join(r.text for r in decided.replies)


def kinds_of(decided: desk_step.DeskStep) -> list[type]:
    return [type(a) for a in decided.actions]


# -- taking a case -----------------------------------------------------------------
def test_taking_a_waiting_case_tries_the_claim_first_then_tells_the_beneficiary(ctx):
    waiting = case(5, "queued")
    decided = run(facts(named=waiting, names={50: "فاطمة"}), "/claim 5", ctx)
    assert decided.actions[0] == TakeCase(5)  # the race is decided before anything else
    assert SetCurrent(ME.id, 5) in decided.actions
    assert Tell(50, Joined(ME), "talking") in decided.actions
    assert said(decided).startswith("You took case #5.")
    assert "#5 · فاطمة" in said(decided)
    assert Choice("close:5", "✖ Close") in decided.replies[0].choices


def test_a_case_a_colleague_took_a_moment_before_is_refused_with_their_name(ctx):
    taken = case(5, "claimed", holder=SARA.id)
    decided = run(facts(named=taken, holder=SARA), "/claim 5", ctx)
    assert said(decided) == "Case #5 was already taken by Sara Alharbi."
    assert decided.actions == [Audit("claim", False, case_id=5, detail="not queued")]


@pytest.mark.parametrize(("named", "answer"), [
    (None, "There is no case #5."),
    (case(5, "closed"), "Case #5 is closed."),
])
def test_a_case_that_is_gone_or_closed_cannot_be_taken(ctx, named, answer):
    decided = run(facts(named=named), "/claim 5", ctx)
    assert said(decided) == answer and TakeCase not in kinds_of(decided)


def test_an_admins_follow_up_is_not_a_researchers_to_take(ctx):
    follow_up = case(5, "queued", reason="low_rating", audience="admin")
    decided = run(facts(named=follow_up), "/claim 5", ctx)
    assert said(decided) == "Only an admin can do this."
    assert decided.actions == [Audit("claim", False, case_id=5, detail="admin only")]
    assert TakeCase in kinds_of(run(facts(BOSS, named=follow_up), "/claim 5", ctx))


def test_taken_in_a_topic_the_private_chat_keeps_its_case(ctx):
    talking = case(3)
    me = replace(ME, current_case_id=3)
    waiting = case(5, "queued")
    decided = run(facts(me, group_case=waiting, held=(talking,), named=waiting), "/claim 5", ctx)
    assert TakeCase(5) in decided.actions
    assert not any(isinstance(a, SetCurrent) for a in decided.actions)


# -- words for the beneficiary ----------------------------------------------------------
def test_words_go_to_the_current_case_and_the_researcher_is_told_where(ctx):
    current = case(5)
    f = facts(replace(ME, current_case_id=5), held=(current,), names={50: "فاطمة"})
    decided = desk_step.relay(f, Event("text", text="أهلًا، وصلتني أوراقك"), ctx)
    assert decided.actions[0] == Write(5, 50, {"ar": "أهلًا، وصلتني أوراقك"})
    assert said(decided) == "✓ Sent → #5 · فاطمة"


def test_with_no_current_case_words_go_nowhere_and_the_researcher_picks_one(ctx):
    f = facts(held=(case(5), case(6)), names={50: "فاطمة", 60: "خالد"})
    decided = desk_step.relay(f, Event("text", text="أهلًا"), ctx)
    assert decided.actions == []
    assert "Which one do you continue?" in said(decided)
    assert [c.id for c in decided.replies[0].choices] == ["switch:5", "switch:6"]


def test_a_file_for_the_beneficiary_is_kept_with_its_name(ctx):
    form = FileRef("form.pdf", "application/pdf", 4, "x", content=b"%PDF")
    f = facts(replace(ME, current_case_id=5), held=(case(5),))
    decided = desk_step.relay(f, Event("file", file=form), ctx)
    assert decided.actions[0] == Write(5, 50, {"ar": "📎 form.pdf"}, form)


def test_a_ready_answer_reaches_the_beneficiary_in_their_language(ctx):
    f = facts(replace(ME, current_case_id=5), held=(case(5),))
    decided = run(f, "/canned documents", ctx)
    write = decided.actions[0]
    assert isinstance(write, Write) and write.texts["ar"] != write.texts["en"]
    reply = desk_step.written(ME, write.texts, "en", ctx, None)
    assert write.texts["en"] in reply.text


# -- handing a case on -------------------------------------------------------------------
def test_released_the_only_other_case_becomes_current(ctx):
    f = facts(replace(ME, current_case_id=5), held=(case(5), case(6)), names={60: "خالد"})
    decided = run(f, "/release", ctx)
    assert decided.actions[0] == ReleaseCase(5)
    assert SetCurrent(ME.id, 6) in decided.actions
    assert "What you write now goes to case #6 · خالد." in said(decided)


def test_an_old_button_never_acts_on_a_case_no_longer_held(ctx):
    decided = run(facts(held=(case(5),)), "/release 9", ctx)
    assert said(decided) == "You do not hold case #9." and decided.actions == []


def test_a_colleague_busy_with_another_beneficiary_keeps_talking_there(ctx):
    busy = replace(SARA, current_case_id=8, language="ar")
    f = facts(replace(ME, current_case_id=5), held=(case(5),), colleagues=(ME, busy),
              holding={SARA.id: (8,)})
    decided = run(f, f"/transfer 5 @{SARA.id}", ctx)
    assert decided.actions[0] == TransferCase(5, SARA.id)
    assert SetCurrent(SARA.id, 5) not in decided.actions
    handed = next(a for a in decided.actions if isinstance(a, ToStaff))
    assert "#8" in handed.reply.text and "/switch 5" in handed.reply.text
    assert "الإحالة" in handed.reply.text  # in the colleague's own language
    assert Tell(50, Joined(busy)) in decided.actions
    assert "Case #5 is now with Sara Alharbi." in said(decided)


def test_an_idle_colleague_gets_the_case_as_their_current_one(ctx):
    f = facts(replace(ME, current_case_id=5), held=(case(5),), colleagues=(ME, SARA))
    decided = run(f, "/transfer sara", ctx)
    assert SetCurrent(SARA.id, 5) in decided.actions
    handed = next(a for a in decided.actions if isinstance(a, ToStaff))
    assert "close:5" in [c.id for c in handed.reply.choices]  # the case's own buttons


def test_an_admins_follow_up_is_handed_only_to_admins(ctx):
    follow_up = case(5, reason="low_rating", audience="admin", holder=BOSS.id)
    other = replace(BOSS, id=10, name="Reem Admin")
    f = facts(replace(BOSS, current_case_id=5), held=(follow_up,), colleagues=(SARA, BOSS, other))
    decided = run(f, "/transfer", ctx)
    assert [c.label for c in decided.replies[0].choices] == ["Reem Admin"]


# -- closing -------------------------------------------------------------------------
def test_closing_help_asks_the_beneficiary_to_rate_it_instead_of_the_menu(ctx):
    f = facts(replace(ME, current_case_id=5), held=(case(5),))
    decided = run(f, "/close", ctx)
    assert decided.actions[0] == CloseCase(5)
    assert Tell(50, Closed(with_menu=False), "to_menu") in decided.actions
    assert RateCase(case(5)) in decided.actions


def test_closing_help_without_case_surveys_returns_them_to_the_menu(bakkah, ctx_for):
    quiet = bakkah.model_copy(update={"surveys": bakkah.surveys.model_copy(update={"case": False})})
    f = facts(replace(ME, current_case_id=5), held=(case(5),))
    decided = run(f, "/close", ctx_for(quiet, T, "telegram"))
    assert Tell(50, Closed(with_menu=True), "to_menu") in decided.actions
    assert RateCase not in kinds_of(decided)


def test_closing_a_complaint_closes_its_ticket_and_asks_for_no_rating(ctx):
    ticket = case(5, reason="complaint", detail="C-2026-000004")
    f = facts(replace(ME, current_case_id=5), held=(ticket,))
    decided = run(f, "/close", ctx)
    assert Tell(50, TicketClosed("C-2026-000004"), "to_menu") in decided.actions
    assert RateCase not in kinds_of(decided)
    words = desk_step.tell(TicketClosed("C-2026-000004"), "ar", ctx)
    assert "C-2026-000004" in words[0].text and len(words) == 2  # and the menu


# -- requests --------------------------------------------------------------------------------
def test_a_status_the_lifecycle_does_not_allow_is_refused_in_words_and_audited(ctx):
    decided = run(facts(request=request("submitted")), "/request BK-2026-000001 approved", ctx)
    assert "approved" not in said(decided).split(":")[0]
    assert "Under review" in said(decided) or "under review" in said(decided)
    assert decided.actions == [Audit("status_change", False, number="BK-2026-000001",
                                     beneficiary_id=50, detail="submitted->approved")]


def test_asking_for_information_needs_to_say_what_is_missing(ctx):
    decided = run(facts(request=request()), "/request BK-2026-000001 needs_info", ctx)
    assert said(decided) == "Please add what is missing or the reason after the status."
    assert decided.actions == []


def test_asking_for_information_tells_the_beneficiary_and_waits_for_it(ctx):
    decided = run(facts(request=request()),
                  "/request bk-2026-000001 استكمال صورة عقد الإيجار", ctx)
    assert SetStatus(request(), "needs_info", "صورة عقد الإيجار") in decided.actions
    tell = next(a for a in decided.actions if isinstance(a, Tell))
    assert tell == Tell(50, StatusChanged("BK-2026-000001", "needs_info", "صورة عقد الإيجار"),
                        "needs_info:BK-2026-000001", "status")
    waiting = desk_step.moved(State(consented=True, step=Step.MENU), tell.move)
    assert waiting.step == Step.NEEDS_INFO and waiting.info_for == "BK-2026-000001"
    talking = desk_step.moved(State(consented=True, step=Step.CASE), tell.move)
    assert talking.step == Step.CASE and talking.info_for == "BK-2026-000001"


def test_a_delivered_service_is_recorded_by_its_command_and_offered_for_rating(ctx):
    typed = run(facts(request=request("approved")),
                "/request BK-2026-000001 service_delivered", ctx)
    assert said(typed) == "This step has its own command: /deliver BK-2026-000001"
    assert typed.actions == [Audit("status_change", False, number="BK-2026-000001",
                                   beneficiary_id=50,
                                   detail="approved->service_delivered by /deliver only")]
    decided = run(facts(request=request("approved")), "/deliver BK-2026-000001 1 سلة", ctx)
    assert RateDelivery(request("approved")) in decided.actions


# -- files, documents, history ---------------------------------------------------------------
def test_a_document_opens_only_with_a_case_of_its_beneficiary_held(ctx):
    doc = desk_step.DocumentView(4, 60, "id.jpg", "image/jpeg", 2048)
    refused = run(facts(held=(case(5),), document=doc), "/doc 4", ctx)
    assert "only while you hold a case" in said(refused)
    assert refused.actions == [Audit("view_document", False, beneficiary_id=60,
                                     detail="doc:4 not theirs")]
    opened = run(facts(held=(case(6),), document=doc), "/doc 4", ctx)
    assert opened.replies[0].document_id == 4
    assert run(facts(BOSS, document=doc), "/doc 4", ctx).replies[0].document_id == 4


def test_the_file_masks_numbers_and_checks_the_signed_acknowledgment(ctx):
    from conversations import acknowledgment

    req = replace(request(), fields={"full_name": "فاطمة أحمد", "national_id": "1012345678"})
    signed = acknowledgment.digest(req.number, req.service, req.fields, "v1", "فاطمة", T)
    ack = AckView("v1", "...", signed, "فاطمة", "telegram", T)
    f = facts(replace(ME, current_case_id=5), held=(case(5, beneficiary=50),),
              requests=(req,), acks={req.id: ack}, cases=(case(5, beneficiary=50),))
    decided = run(f, "/file", ctx)
    assert "1012345678" not in said(decided)
    assert "signed, data unchanged" in said(decided)
    assert decided.actions == [Audit("view_file", case_id=5, beneficiary_id=50,
                                     detail="masked")]
    changed = replace(f, requests=(replace(req, fields={**req.fields, "full_name": "غيرها"}),))
    assert "CHANGED" in said(run(changed, "/file", ctx))
    assert "1012345678" in said(run(f, "/file full", ctx))


def test_a_researcher_sees_no_admins_follow_up_in_a_history(ctx):
    follow_up = case(5, "closed", reason="low_rating", audience="admin", beneficiary=50)
    talk = case(4, "closed", beneficiary=50)
    f = facts(requests=(request(),), cases=(talk, follow_up), beneficiary_id=50)
    text = said(run(f, "/history 50", ctx))
    assert "#4 ·" in text and "#5 ·" not in text
    assert "#5 ·" in said(run(replace(f, staff=BOSS), "/history 50", ctx))


def test_reopening_is_refused_while_the_beneficiary_has_another_open_case(ctx):
    closed = case(4, "closed")
    refused = run(facts(named=closed, other_open=case(6, "queued")), "/reopen 4", ctx)
    assert "another open case, #6" in said(refused)
    assert ReopenCase not in kinds_of(refused)
    reopened = run(facts(named=closed), "/reopen 4", ctx)
    assert reopened.actions[0] == ReopenCase(4)
    assert Tell(40, Joined(ME), "reopened") in reopened.actions


# -- the desk itself -------------------------------------------------------------------------
def test_the_language_chosen_is_the_language_of_the_answer(ctx):
    decided = run(facts(lang="ar"), "/language en", ctx)
    assert decided.actions == [SaveLanguage("en")]
    assert said(decided) == "The desk speaks English with you now."
    back = run(facts(lang="en"), "/language عربي", ctx)
    assert back.actions == [SaveLanguage("ar")]
    assert any("\u0600" <= ch <= "\u06ff" for ch in said(back))  # said in Arabic


def test_a_search_is_audited_by_its_count_never_its_words(ctx):
    assert "Write what to search for" in said(run(facts(), "/find اح", ctx))
    decided = run(facts(), "/find 1012345678", ctx)
    assert decided.actions == [Audit("search", detail="0 found")]


def test_a_report_period_is_read_in_any_digits_or_asked_again(ctx):
    decided = run(facts(BOSS), "/report ٢٠٢٦-١١-٠١ 2026-11-20 staff", ctx)
    assert decided.actions[0] == MakeReport(date(2026, 11, 1), date(2026, 11, 20), True)
    assert "Write: /report" in said(run(facts(BOSS), "/report 2026-12-01 2026-11-01", ctx))
    assert run(facts(BOSS), "/report", ctx).actions[0] == MakeReport(
        date(2026, 11, 1), date(2026, 11, 23), False)


GUARDED = [("/claim 5", facts(named=case(5, "queued"))),
           ("/reopen 4", facts(named=case(4, "closed")))]


@pytest.mark.parametrize(("text", "f"), GUARDED)
def test_an_action_that_may_lose_a_race_comes_before_every_other(ctx, text, f):
    decided = run(f, text, ctx)
    assert isinstance(decided.actions[0], desk_step.GUARDS)
    assert not any(isinstance(a, desk_step.GUARDS) for a in decided.actions[1:])


def test_every_command_of_the_table_is_decided_here_or_by_the_composer():
    composer = {name for name in desk.COMMAND_TABLE if "broadcast" in name or "/bc_" in name}
    assert set(desk.COMMAND_TABLE) == set(desk_step.DECISIONS) | composer


def test_help_already_put_to_a_rating_is_not_asked_again_on_a_second_close(ctx):
    f = facts(replace(ME, current_case_id=5), held=(case(5),), rated=True)
    decided = run(f, "/close", ctx)
    assert Tell(50, Closed(with_menu=True), "to_menu") in decided.actions
    assert RateCase not in kinds_of(decided)


@pytest.mark.parametrize("typed", ["/file 6\nfull", "/file 6\tfull", "/file ٦ full"])
def test_the_case_a_command_names_is_its_first_word_whatever_space_follows(typed):
    command = desk.parse(Event("text", text=typed))
    assert command is not None and desk_step.named_case(command) == 6


ARABIC_DAY = [  # (facts, what is typed): a researcher's day, every answer in Arabic
    (facts(lang="ar", named=case(5, "queued"), names={50: "فاطمة"}), "/claim 5"),
    (facts(lang="ar", named=case(5, "claimed", holder=SARA.id), holder=SARA), "/claim 5"),
    (facts(lang="ar"), "/claim 5"),
    (facts(lang="ar", held=(case(5), case(6))), "/note"),
    (facts(lang="ar"), "/note"),
    (facts(lang="ar", held=(case(5),)), "/release 9"),
    (facts(replace(ME, current_case_id=5), "ar", held=(case(5), case(6))), "/release"),
    (facts(replace(ME, current_case_id=5), "ar", held=(case(5),)), "/close"),
    (facts(replace(ME, current_case_id=5), "ar", held=(case(5),)), "/say"),
    (facts(replace(ME, current_case_id=5), "ar", held=(case(5),)), "/say أهلًا"),
    (facts(replace(ME, current_case_id=5), "ar", held=(case(5),), colleagues=(ME,)), "/transfer"),
    (facts(replace(ME, current_case_id=5), "ar", held=(case(5),), colleagues=(ME, SARA)),
     "/transfer nobody"),
    (facts(lang="ar"), "/find اح"),
    (facts(lang="ar"), "/read 4"),
    (facts(lang="ar"), "/language"),
    (facts(BOSS, "ar"), "/audit"),
    (facts(BOSS, "ar"), "/report 2026-13-01"),
    (facts(lang="ar", request=request()), "/request BK-2026-000001 approved"),
]


@pytest.mark.parametrize(("f", "typed"), ARABIC_DAY)
def test_a_researcher_working_in_arabic_reads_no_english_sentence(ctx, f, typed):
    decided = run(f, typed, ctx)
    handed = [a.reply for a in decided.actions if isinstance(a, ToStaff)]
    for reply in [*decided.replies, *handed]:
        words = re.sub(r"/\w+|[A-Z]{2}-\d{4}-\d+|Noura Alotaibi|Sara Alharbi|Hind Admin|"
                       r"NUMBER|STATUS|TEXT|telegram:\d+", " ", reply.text)
        assert not re.search(r"[A-Za-z]+[ ,']+[A-Za-z]+[ ,']+[A-Za-z]+", words), reply.text


# -- /teach: a researcher's reply becomes the bot's own answer -------------------------------
def talk(*lines: tuple[str, str, int | None]) -> tuple:
    from conversations.base import CaseEntry

    return tuple(CaseEntry(direction, text, T, staff) for direction, text, staff in lines)


PARKING = "هل يوجد موقف سيارات عند المقر؟"
ANSWER = "نعم، توجد مواقف أمام مقر الجمعية."


def teaching(*lines, current: int = 3) -> Facts:
    return facts(replace(ME, current_case_id=current), held=(case(3), case(5)),
                 entries=talk(*lines))


def press(f: Facts, choice: str, ctx) -> desk_step.DeskStep:
    return desk_step.step(f, desk.parse(Event("choice", choice=choice)), ctx)


def test_teach_shows_the_question_and_the_answer_before_saving(ctx):
    decided = run(teaching(("in", PARKING, None), ("out", ANSWER, ME.id)), "/teach", ctx)
    assert decided.actions == []  # nothing saved yet
    assert PARKING in said(decided) and ANSWER in said(decided)
    assert [c.id for c in decided.replies[0].choices] == ["teach:3:1"]  # the case, the reply


def test_its_button_saves_exactly_what_was_shown(ctx):
    f = teaching(("in", PARKING, None), ("out", "قبل قليل", SARA.id),  # a colleague's words
                 ("in", "[file] id.jpg (image/jpeg, 5000 B)", None),  # a file: passed over
                 ("out", ANSWER, ME.id))
    decided = press(f, "teach:3:3", ctx)
    assert decided.actions == [desk_step.Teach(3, 30, PARKING, ANSWER)]
    saved = desk_step.after(decided.actions[0], 12, f, ctx)
    assert "#12" in saved[0].text and "wasl faq remove 12" in saved[0].text


def test_a_button_saves_what_it_showed_or_nothing(ctx):
    """Shown in case #3, then the researcher switched to case #5: nothing is saved. Shown,
    then they replied again: what was shown is saved, not the newer reply."""
    f = teaching(("in", PARKING, None), ("out", ANSWER, ME.id))
    elsewhere = press(replace(f, staff=replace(ME, current_case_id=5)), "teach:3:1", ctx)
    assert elsewhere.actions == [] and "/teach" in said(elsewhere)
    later = teaching(("in", PARKING, None), ("out", ANSWER, ME.id), ("out", "وأيضًا...", ME.id))
    assert press(later, "teach:3:1", ctx).actions == [desk_step.Teach(3, 30, PARKING, ANSWER)]
    assert press(later, "teach:3:7", ctx).actions == []  # no such reply


def test_teach_takes_the_last_words_typed_not_a_pressed_button(ctx):
    f = teaching(("in", "وش تسوون بالضبط؟", None), ("out", "لم أجد إجابة", None),
                 ("in", "[choice] human «🙋 نعم، إلى باحث اجتماعي»", None),
                 ("out", "نقدم السلال الغذائية والمساعدات المالية.", ME.id))
    assert desk_step.taught_pair(f, case(3)) == (
        3, "وش تسوون بالضبط؟", "نقدم السلال الغذائية والمساعدات المالية.")


def test_an_intake_answer_copied_into_the_case_is_never_the_question(ctx):
    """The transcript copied when the case opened holds the beneficiary's answers (a name):
    only a question, or words written in the case itself, can be taught."""
    from conversations.base import CaseEntry

    before = T.replace(hour=8)
    entries = (CaseEntry("in", "فاطمة صالح عبدالله الحربي", before),
               CaseEntry("in", "[choice] human «🙋 التحدث مع باحث»", before),
               CaseEntry("out", "أهلًا، كيف نخدمك؟", T, ME.id))
    f = facts(replace(ME, current_case_id=3), held=(case(3),), entries=entries)
    assert desk_step.taught_pair(f, case(3)) is None
    assert run(f, "/teach", ctx).actions == []


def test_teach_with_nothing_replied_yet_says_what_it_needs(ctx):
    decided = run(teaching(("in", "متى الدوام؟", None)), "/teach", ctx)
    assert decided.actions == [] and "/teach" in said(decided)


def test_teach_without_a_current_case(ctx):
    decided = run(facts(), "/teach", ctx)
    assert decided.actions == [] and "/queue" in said(decided)
