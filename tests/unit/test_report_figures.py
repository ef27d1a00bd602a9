"""The board report's arithmetic, on rows built by hand (no database)."""

from __future__ import annotations

import gettext
from datetime import UTC, date, datetime

import pytest

from bot.report.figures import (
    AnswerRow,
    CaseRow,
    RequestRow,
    Rows,
    StaffRow,
    SurveyRow,
    compute,
    median,
    months,
    ratings,
    redact,
    request_figures,
    utc_bounds,
)
from bot.report.files import language, visual

NOW = datetime(2026, 4, 2, 9, 0, tzinfo=UTC)
JAN1, MAR31 = date(2026, 1, 1), date(2026, 3, 31)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_the_period_is_bounded_by_riyadh_midnights():
    assert utc_bounds(JAN1, MAR31) == (utc(2025, 12, 31, 21), utc(2026, 3, 31, 21))
    assert utc_bounds(JAN1, JAN1) == (utc(2025, 12, 31, 21), utc(2026, 1, 1, 21))


def test_months_are_cut_to_the_period():
    assert months(date(2026, 1, 15), date(2026, 3, 10)) == [
        (date(2026, 1, 15), date(2026, 1, 31)),
        (date(2026, 2, 1), date(2026, 2, 28)),
        (date(2026, 3, 1), date(2026, 3, 10)),
    ]
    assert months(date(2025, 12, 20), date(2026, 1, 5)) == [
        (date(2025, 12, 20), date(2025, 12, 31)), (date(2026, 1, 1), date(2026, 1, 5))]
    assert months(JAN1, JAN1) == [(JAN1, JAN1)]
    assert months(date(2024, 2, 1), date(2024, 2, 29)) == [(date(2024, 2, 1), date(2024, 2, 29))]


def test_ratings_and_medians_of_nothing_are_empty_not_errors():
    assert ratings([]) == ratings(()) and ratings([]).count == 0
    assert ratings([]).mean is None and ratings([]).csat is None
    assert ratings([]).distribution == (0, 0, 0, 0, 0)
    assert median([]) is None


def test_ratings_mean_csat_and_distribution():
    r = ratings([5, 4, 3, 1, 5, 2])
    assert r.count == 6
    assert r.mean == 3.33  # 20 / 6
    assert r.csat == pytest.approx(3 / 6)
    assert r.distribution == (1, 1, 1, 1, 2)
    assert median([1, 2, 3, 4]) == 2.5
    assert median([0.04, 0.05, 10]) == 0.1  # 1 decimal
    assert median([1.26, 1.24], digits=2) == 1.25


def req(i: int, confirmed: datetime, due: date, decided: datetime | None, status: str = "submitted",
        service: str = "food_basket") -> RequestRow:
    return RequestRow(i, service, status, confirmed, due, decided)


def test_on_time_uses_the_riyadh_date_and_counts_overdue_undecided_requests():
    end = date(2026, 1, 31)
    rows = [
        # decided the day it was due, late at night in Riyadh (still the 10th there): on time
        req(1, utc(2026, 1, 1, 6), date(2026, 1, 10), utc(2026, 1, 10, 20, 59), "approved"),
        # 22:00 UTC on the 10th is 01:00 on the 11th in Riyadh: late
        req(2, utc(2026, 1, 1, 6), date(2026, 1, 10), utc(2026, 1, 10, 22, 0), "rejected"),
        # undecided, due before the last day: counts, not on time
        req(3, utc(2026, 1, 2, 6), date(2026, 1, 30), None, "under_review"),
        # undecided, due on the last day or later: still has time, not counted
        req(4, utc(2026, 1, 3, 6), date(2026, 1, 31), None),
        req(5, utc(2026, 1, 20, 6), date(2026, 2, 3), None),
    ]
    r = request_figures(rows, end)
    assert r.received == 5
    assert (r.decided, r.on_time, r.on_time_base) == (2, 1, 3)
    assert r.on_time_share == pytest.approx(1 / 3)
    # 9 days 14:59 and 9 days 16:00 -> median 9.6458 days
    assert r.median_days == 9.6
    assert dict(r.by_status) == {"submitted": 2, "under_review": 1, "needs_info": 0, "committee": 0,
                                 "approved": 1, "rejected": 1, "service_delivered": 0, "closed": 0}
    assert [s for s, _ in r.by_status][:2] == ["submitted", "under_review"]


def test_the_days_to_registration_decision_and_delivery_are_medians_of_those_that_got_there():
    start = utc(2026, 1, 1, 6)
    rows = [RequestRow(1, "food_basket", "service_delivered", start, date(2026, 1, 15),
                       utc(2026, 1, 16, 6), utc(2026, 1, 3, 6), utc(2026, 1, 20, 6)),
            RequestRow(2, "food_basket", "committee", start, date(2026, 1, 15), None,
                       utc(2026, 1, 5, 6)),
            req(3, start, date(2026, 1, 15), None)]  # not reviewed yet: in none of them
    r = request_figures(rows, date(2026, 1, 31))
    assert (r.median_days_to_registration, r.median_days, r.median_days_to_delivery) == (
        3.0, 15.0, 19.0)


def test_an_unknown_status_is_listed_after_the_lifecycle():
    r = request_figures([req(1, utc(2026, 1, 1), date(2026, 1, 5), None, "archived")], date(2026, 1, 2))
    assert r.by_status[-1] == ("archived", 1)
    assert r.on_time_share is None and r.median_days is None  # nothing decided, nothing overdue


def test_an_empty_period_gives_zeros_and_dashes(bakkah):
    report = compute(bakkah, JAN1, MAR31, Rows(), now=NOW)
    assert report.requests.received == 0 and report.requests.on_time_share is None
    assert report.requests.median_days is None
    assert [s.key for s in report.services] == [s.key for s in bakkah.services]
    assert all(s.requests.received == 0 and s.satisfaction.response_rate is None for s in report.services)
    assert report.escalations.cases == 0 and report.escalations.median_wait_minutes is None
    assert report.overall.sent == 0 and report.overall.ratings.mean is None
    assert report.comments == ()
    assert [(m.start, m.end) for m in report.months] == months(JAN1, MAR31)
    assert all(m.received == m.decided == m.answered == 0 for m in report.months)
    assert report.staff is None
    assert compute(bakkah, JAN1, MAR31, Rows(), by_staff=True, now=NOW).staff == ()


def case(i: int, reason: str, created: datetime, reply_after_min: float | None, *, status: str = "queued",
         audience: str = "researcher", staff: int | None = None, writer: int | None = None) -> CaseRow:
    """A case held by `staff`; its first reply written by `writer`, or else by the one holding it."""
    from datetime import timedelta
    reply = created + timedelta(minutes=reply_after_min) if reply_after_min is not None else None
    return CaseRow(i, reason, audience, status, created, reply, staff,
                   (writer or staff) if reply is not None else None)


def answer(i: int, kind: str, rating: int, on: date, *, service: str | None = None, staff: int | None = None,
           comment: str | None = None, anonymous: bool = False) -> AnswerRow:
    return AnswerRow(i, kind, service, staff, rating, comment, anonymous, on)


STAFF = [StaffRow(1, "نورة العتيبي", "researcher", True), StaffRow(2, "Sara Alharbi", "researcher", True),
         StaffRow(3, "Huda", "admin", True), StaffRow(4, "Old Hand", "researcher", False)]


def sample_rows() -> Rows:
    t = utc(2026, 1, 10, 6)
    return Rows(
        requests=[req(1, t, date(2026, 1, 24), utc(2026, 1, 12, 6), "approved", "financial_aid"),
                  req(2, t, date(2026, 1, 24), None, "submitted", "retired_service")],
        decisions=[utc(2026, 1, 12, 6), utc(2026, 1, 31, 21, 30)],  # the second is 1 Feb in Riyadh
        cases=[case(1, "asked", t, 10, status="closed", staff=1),
               case(2, "repeated_failures", t, 50, status="claimed", staff=2),
               case(3, "not_understood", t, None),
               case(4, "message", t, 30, status="closed", staff=1),
               case(5, "low_rating", t, 5, status="closed", audience="admin", staff=3),
               case(6, "complaint", t, 5, audience="admin"),
               case(7, "asked", t, 5, audience="admin")],
        feedback=["suggestion", "complaint", "suggestion"],
        surveys=[SurveyRow("service", "financial_aid", "answered", t),
                 SurveyRow("service", "financial_aid", "expired", t),
                 SurveyRow("case", None, "answered", t), SurveyRow("case", None, "sent", t)],
        answers=[answer(1, "service", 5, date(2026, 1, 11), service="financial_aid",
                        comment="  خدمة ممتازة  "),
                 answer(2, "case", 4, date(2026, 2, 2), staff=1, comment="شكرًا نوره على المتابعة"),
                 answer(3, "case", 2, date(2026, 1, 12), anonymous=True, comment="   "),
                 answer(4, "case", 1, date(2026, 1, 13), staff=1, anonymous=True),  # never counted per person
                 answer(5, "service", 3, date(2026, 2, 3), service="retired_service", comment="Thanks Sara")],
        staff=STAFF,
    )


def test_every_section_from_hand_built_rows(bakkah):
    report = compute(bakkah, JAN1, date(2026, 2, 28), sample_rows(), now=NOW)
    esc = report.escalations
    assert (esc.cases, esc.replied, esc.closed) == (4, 3, 2)  # admin-only and complaint cases left out
    assert esc.median_wait_minutes == 30.0  # of 10, 30, 50
    assert (esc.follow_ups, esc.suggestions, esc.complaints) == (1, 2, 1)

    keys = [s.key for s in report.services]
    assert keys == [s.key for s in bakkah.services] + ["retired_service"]
    retired = report.services[-1]
    assert retired.label.get("ar") == "retired_service" and retired.requests.received == 1
    fin = report.services[0]
    assert (fin.satisfaction.sent, fin.satisfaction.answered, fin.satisfaction.response_rate) == (2, 1, 0.5)
    assert fin.satisfaction.ratings.distribution == (0, 0, 0, 0, 1)

    assert (report.case_help.sent, report.case_help.answered) == (2, 1)
    assert report.case_help.ratings.count == 3 and report.case_help.ratings.mean == 2.33
    assert report.all_services.ratings.count == 2 and report.all_services.ratings.mean == 4.0
    assert report.overall.ratings.count == 5 and report.overall.ratings.csat == pytest.approx(2 / 5)

    assert [(m.received, m.decided, m.answered) for m in report.months] == [(2, 1, 3), (0, 1, 2)]
    assert report.months[0].ratings.mean == pytest.approx((5 + 2 + 1) / 3, abs=0.005)

    texts = [c.text for c in report.comments]
    assert texts == ["خدمة ممتازة", "شكرًا … على المتابعة", "Thanks …"]  # no staff name without by_staff
    assert report.staff is None


def test_staff_figures_only_when_asked(bakkah):
    report = compute(bakkah, JAN1, date(2026, 2, 28), sample_rows(), by_staff=True, now=NOW)
    assert report.staff is not None
    found = {s.name: s for s in report.staff}
    # the admin and the inactive researcher have no figures of the period: not listed
    assert set(found) == {"نورة العتيبي", "Sara Alharbi"}
    noura, sara = found["نورة العتيبي"], found["Sara Alharbi"]
    assert (noura.cases_claimed, noura.median_first_reply_minutes) == (2, 20.0)  # 10 and 30 minutes
    assert (noura.ratings, noura.mean_rating) == (1, 4.0)  # the anonymous 1 is not hers to carry
    assert (sara.cases_claimed, sara.median_first_reply_minutes, sara.ratings, sara.mean_rating) == \
        (1, 50.0, 0, None)
    assert [c.text for c in report.comments][1:] == ["شكرًا نوره على المتابعة", "Thanks Sara"]


def test_a_first_reply_is_credited_to_whoever_wrote_it(bakkah):
    t = utc(2026, 1, 10, 6)
    rows = Rows(cases=[
        case(1, "asked", t, 10, status="claimed", staff=2, writer=1),  # Noura's reply, then Sara's case
        case(2, "asked", t, 40, status="closed", staff=2),  # Sara's own
        case(3, "message", t, None, status="claimed", staff=1),  # handed to Noura, not yet answered
        case(4, "asked", t, 20, status="claimed", staff=2, writer=3),  # Huda answered, then handed it on
    ], staff=STAFF)
    report = compute(bakkah, JAN1, date(2026, 2, 28), rows, by_staff=True, now=NOW)
    assert report.staff is not None
    assert [(s.name, s.cases_claimed, s.median_first_reply_minutes) for s in report.staff] == [
        ("Huda", 0, 20.0),  # an admin, listed for the reply she wrote
        ("Sara Alharbi", 3, 40.0),  # receiving cases 1 and 4 by transfer earns no first reply
        ("نورة العتيبي", 1, 10.0),
    ]
    assert report.escalations.median_wait_minutes == 20.0  # the case's wait is whoever wrote


@pytest.mark.parametrize("text,expected", [
    ("شكرًا نورة", "شكرًا …"),
    ("شكرا نوره العتيبى", "شكرا … …"),  # taa marbuta / haa, yaa / alif maqsura
    ("شكرًا نُورَة", "شكرًا …"),  # tashkeel
    ("thanks SARA!", "thanks …!"),
    ("نورتنا يا جماعة", "نورتنا يا جماعة"),  # another word that starts the same way
    ("the service was great", "the service was great"),
])
def test_staff_names_are_taken_out_of_comments(text, expected):
    assert redact(text, ["نورة العتيبي", "Sara Alharbi", "Al"]) == expected


def test_redaction_without_staff_keeps_the_text():
    assert redact("شكرًا", []) == "شكرًا"
    assert redact("شكرًا", ["Al"]) == "شكرًا"  # too short to be sure it is a name


def test_arabic_for_matplotlib():
    text = "الطلبات الواردة"
    assert visual(text, shaped_by_matplotlib=True) == text
    shown = visual(text, shaped_by_matplotlib=False)
    assert shown != text and all("\ufe70" <= c <= "\ufeff" or c == " " for c in shown)  # joined forms
    assert shown[-1] == "\ufe8d" and shown[0] == "\ufe93"  # display order: the first alef on the right
    assert visual("Requests received", shaped_by_matplotlib=False) == "Requests received"
    two = visual(f"{text}\nمن 1 يناير", shaped_by_matplotlib=False).split("\n")
    assert two[0] == shown and len(two) == 2  # each line on its own, in its place


def test_language_of_a_catalog(translations):
    assert language(translations["ar"]) == "ar"
    assert language(translations["en"]) == "en"
    assert language(gettext.NullTranslations()) == "en"
