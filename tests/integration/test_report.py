"""The board report on a seeded database (SQLite, and PostgreSQL when configured).

The data set spans January and February 2026 and several services; every expected figure
below is worked out by hand from the rows, independently of bot.report."""

from __future__ import annotations

import csv
import gettext
import io
import struct
import zipfile
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from openpyxl import load_workbook

from bot.i18n import load_translations
from bot.report import files, gather
from storage.models import (
    Beneficiary,
    Case,
    CaseMessage,
    FaqAnswer,
    Feedback,
    Request,
    RequestEvent,
    Staff,
    Survey,
    SurveyAnswer,
)

START, END = date(2026, 1, 1), date(2026, 2, 28)
NOW = datetime(2026, 3, 5, 8, 0, tzinfo=UTC)
STAFF_NAMES = ("نورة العتيبي", "Sara Alharbi", "Huda")
NAME_WORDS = ("نورة", "العتيبي", "Sara", "Alharbi", "Huda")

# The Arabic these tests look for, as in the translations handed over for locales/ar
# (/tmp/report_ar.json); laid over the real catalog so the tests do not wait for the merge.
AR = {
    "Summary": "الملخص", "Services": "الخدمات", "Satisfaction": "الرضا", "Comments": "التعليقات",
    "Months": "الأشهر", "Staff": "الموظفون", "Requests received": "الطلبات الواردة",
    "Service": "الخدمة", "CSAT (4–5)": "نسبة الرضا (4–5)",
    "Help from a researcher": "مساعدة الباحث الاجتماعي",
}


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture(scope="module")
def ar_tr():
    catalog = Catalog(locale="ar", domain="wasl")
    for msgid, text in AR.items():
        catalog.add(msgid, text)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    tr = gettext.GNUTranslations(buffer)
    tr.add_fallback(load_translations()["ar"])
    return tr


@pytest.fixture(scope="module")
def en_tr():
    return load_translations()["en"]


async def seed(db) -> None:
    async with db.unit_of_work() as uow:
        s = uow.session
        b = Beneficiary(language="ar", created_at=utc(2025, 12, 1))
        noura = Staff(channel="sim", sender_id="noura", name="نورة العتيبي", role="researcher",
                      created_at=utc(2025, 12, 1))
        sara = Staff(channel="sim", sender_id="sara", name="Sara Alharbi", role="researcher",
                     created_at=utc(2025, 12, 1))
        huda = Staff(channel="sim", sender_id="huda", name="Huda", role="admin", created_at=utc(2025, 12, 1))
        b2 = Beneficiary(language="ar", created_at=utc(2025, 12, 1))  # one open case each
        s.add_all([b, b2, noura, sara, huda])
        await s.flush()

        def request(number: str, service: str, status: str, confirmed: datetime, due: date,
                    events: list[tuple[str, datetime]]) -> None:
            r = Request(number=number, beneficiary_id=b.id, service=service, fields={}, status=status,
                        language="ar", channel="sim", created_at=confirmed, confirmed_at=confirmed,
                        decision_due=due, updated_at=confirmed)
            s.add(r)
            pending.append((r, events))

        pending: list = []
        # received in the period (Riyadh dates)
        request("R1", "financial_aid", "approved", utc(2026, 1, 5, 6), date(2026, 1, 19),
                [("under_review", utc(2026, 1, 6, 6)), ("approved", utc(2026, 1, 10, 6)),
                 ("approved", utc(2026, 2, 15, 6))])  # only the first decision counts
        request("R2", "financial_aid", "closed", utc(2026, 1, 20, 9), date(2026, 2, 3),
                [("committee", utc(2026, 1, 25, 9)), ("rejected", utc(2026, 2, 4, 6)),
                 ("closed", utc(2026, 2, 5, 6))])  # late
        request("R3", "food_basket", "service_delivered", utc(2026, 2, 10, 7), date(2026, 2, 24),
                [("approved", utc(2026, 2, 24, 20, 30)),  # 23:30 on the 24th in Riyadh: on time
                 ("service_delivered", utc(2026, 2, 26, 7))])
        request("R4", "food_basket", "under_review", utc(2026, 1, 3, 10), date(2026, 1, 17),
                [("under_review", utc(2026, 1, 4, 10))])  # undecided and overdue
        request("R5", "rent_support", "submitted", utc(2026, 2, 20, 10), date(2026, 3, 6), [])  # not due
        request("R6", "rent_support", "rejected", utc(2025, 12, 31, 21), date(2026, 1, 15),  # 1 Jan 00:00
                [("rejected", utc(2026, 1, 15, 22))])  # 16 Jan 01:00 in Riyadh: late
        request("R9", "old_service", "submitted", utc(2026, 2, 1, 9), date(2026, 2, 15), [])  # overdue
        # outside the period
        request("R7", "financial_aid", "approved", utc(2025, 12, 31, 20, 59), date(2026, 1, 14),
                [("approved", utc(2026, 1, 31, 21, 30))])  # decided 1 Feb in Riyadh
        request("R8", "food_basket", "approved", utc(2026, 2, 28, 21), date(2026, 3, 15),
                [("approved", utc(2026, 3, 2, 9))])
        await s.flush()
        for r, events in pending:
            s.add_all([RequestEvent(request_id=r.id, status=st, actor="sim:noura", at=at)
                       for st, at in events])

        written: list[tuple[Case, Staff, datetime]] = []

        def case(reason: str, created: datetime, reply_min: int | None, status: str,
                 staff: Staff | None = None, audience: str = "researcher",
                 person: Beneficiary = b) -> Case:
            """A case; the one who holds it wrote the first reply (as the desk records it)."""
            reply = created + timedelta(minutes=reply_min) if reply_min is not None else None
            c = Case(beneficiary_id=person.id, status=status, reason=reason, channel="sim",
                     created_at=created, claimed_by=staff.id if staff else None,
                     audience=audience, first_reply_at=reply,
                     closed_at=created + timedelta(hours=2) if status == "closed" else None)
            s.add(c)
            if reply is not None and staff is not None:
                written.append((c, staff, reply))
            return c

        c1 = case("asked", utc(2026, 1, 6, 7), 12, "closed", noura)
        c2 = case("repeated_failures", utc(2026, 1, 25, 10), 45, "claimed", sara)
        c3 = case("message", utc(2026, 2, 11, 12), 30, "closed", noura)
        c4 = case("not_understood", utc(2026, 2, 20, 8), None, "queued", person=b2)
        case("low_rating", utc(2026, 2, 5, 8), 20, "closed", huda, audience="admin")  # a follow-up
        case("complaint", utc(2026, 2, 6, 8), 5, "closed", huda, audience="admin")  # neither
        case("asked", utc(2025, 12, 31, 20), 3, "closed", noura)  # 31 Dec 23:00 in Riyadh: outside
        await s.flush()
        for c, writer, at in written:
            s.add_all([CaseMessage(case_id=c.id, direction="in", text="سؤال", at=c.created_at),
                       CaseMessage(case_id=c.id, direction="out", text="رد", at=at, staff_id=writer.id)])

        for ticket, kind, at in [("FB-1", "suggestion", utc(2026, 1, 10)),
                                 ("FB-2", "suggestion", utc(2026, 2, 2)),
                                 ("FB-3", "complaint", utc(2026, 2, 15)),
                                 ("FB-4", "suggestion", utc(2026, 2, 28, 21, 30))]:  # 1 March in Riyadh
            s.add(Feedback(ticket=ticket, kind=kind, text="نص", beneficiary_id=b.id, channel="sim",
                           created_at=at))

        # questions the bot took: 5 answered (3 helped, 1 passed on after it), 2 with no
        # answer found, and one answered on 31 December in Riyadh (outside the period)
        for outcome, at in [("answered", utc(2026, 1, 3)), ("answered", utc(2026, 1, 4)),
                            ("answered", utc(2026, 1, 20)), ("answered", utc(2026, 2, 1)),
                            ("answered", utc(2026, 2, 9)), ("helpful", utc(2026, 1, 3)),
                            ("helpful", utc(2026, 1, 20)), ("helpful", utc(2026, 2, 9)),
                            ("escalated", utc(2026, 2, 1)), ("unanswered", utc(2026, 1, 8)),
                            ("unanswered", utc(2026, 2, 11)),
                            ("answered", utc(2025, 12, 31, 20))]:
            s.add(FaqAnswer(at=at, topic="hours" if outcome != "unanswered" else None,
                            outcome=outcome, channel="sim", language="ar"))

        requests = {r.number: r for r, _ in pending}

        def survey(subject: str, kind: str, status: str, sent: datetime, *, service: str | None = None,
                   case: Case | None = None, staff: Staff | None = None) -> Survey:
            sv = Survey(subject=subject, kind=kind, service=service, status=status, sent_at=sent,
                        request_id=requests[subject.split(":")[1]].id if kind == "service" else None,
                        case_id=case.id if case else None, staff_id=staff.id if staff else None,
                        beneficiary_id=b.id, expires_at=sent + timedelta(days=2),
                        answered_at=sent + timedelta(hours=3) if status == "answered" else None)
            s.add(sv)
            return sv

        s1 = survey("request:R1", "service", "answered", utc(2026, 1, 11, 9), service="financial_aid")
        survey("request:R2", "service", "expired", utc(2026, 2, 5, 9), service="financial_aid")
        s3 = survey("request:R3", "service", "answered", utc(2026, 2, 26, 9), service="food_basket")
        s4 = survey("case:1", "case", "answered", utc(2026, 1, 6, 9), case=c1, staff=noura)
        s5 = survey("case:2", "case", "answered", utc(2026, 1, 26, 9), case=c2, staff=sara)
        s6 = survey("case:3", "case", "answered", utc(2026, 2, 11, 13), case=c3, staff=noura)
        survey("case:4", "case", "sent", utc(2026, 2, 21, 9), case=c4)
        s7 = survey("request:R6", "service", "answered", utc(2025, 12, 30, 9), service="rent_support")
        await s.flush()

        def answer(sv: Survey | None, kind: str, rating: int, on: date, *, service: str | None = None,
                   staff: Staff | None = None, comment: str | None = None) -> None:
            s.add(SurveyAnswer(survey_id=sv.id if sv else None, kind=kind, service=service,
                               staff_id=staff.id if staff else None, rating=rating, comment=comment,
                               extra={}, anonymous=sv is None, language="ar", channel="sim",
                               answered_on=on,
                               answered_at=None if sv is None else datetime.combine(on, time(12), UTC)))

        answer(s1, "service", 5, date(2026, 1, 12), service="financial_aid", comment="الخدمة ممتازة وسريعة")
        answer(s3, "service", 4, date(2026, 2, 27), service="food_basket", comment="")
        answer(s4, "case", 5, date(2026, 1, 6), staff=noura, comment="شكرًا للأخت نورة على المتابعة")
        answer(s6, "case", 3, date(2026, 2, 12), staff=noura)
        answer(None, "case", 2, date(2026, 2, 1), comment="كان الانتظار طويلًا")
        answer(s7, "service", 1, date(2026, 1, 2), service="rent_support", comment="   ")
        answer(s5, "case", 4, date(2026, 1, 27), staff=sara, comment="Thank you Sara, very helpful")
        answer(None, "service", 2, date(2026, 3, 1), service="food_basket", comment="خارج الفترة")
        answer(None, "service", 4, date(2025, 12, 31), service="financial_aid")


async def test_figures_of_a_seeded_period(database, bakkah):
    await seed(database)
    report = await gather(database, bakkah, START, END, now=NOW)
    assert (report.start, report.end, report.decision_days) == (START, END, 14)

    # requests: R1 R2 R3 R4 R5 R6 R9 received; decided R1 R2 R3 R6, on time R1 R3;
    # the base adds R4 and R9 (undecided, due before 28 Feb), not R5 (due 6 Mar)
    req = report.requests
    assert req.received == 7
    assert dict(req.by_status) == {"submitted": 2, "under_review": 1, "needs_info": 0, "committee": 0,
                                   "approved": 1, "rejected": 1, "service_delivered": 1, "closed": 1}
    assert (req.decided, req.on_time, req.on_time_base) == (4, 2, 6)
    assert req.on_time_share == pytest.approx(2 / 6)
    r1, r2 = 5.0, 14 + 21 / 24
    r3, r6 = 14 + 13.5 / 24, 15 + 1 / 24
    assert req.median_days == round((r3 + r2) / 2, 1) == 14.7

    by_key = {s.key: s for s in report.services}
    assert list(by_key) == ["financial_aid", "food_basket", "rent_support", "old_service"]
    fin, food, rent, old = (by_key[k] for k in by_key)
    assert (fin.requests.received, fin.requests.decided, fin.requests.on_time, fin.requests.on_time_base) \
        == (2, 2, 1, 2)
    assert fin.requests.median_days == round((r1 + r2) / 2, 1) == 9.9
    assert (food.requests.received, food.requests.decided, food.requests.on_time_base) == (2, 1, 2)
    assert food.requests.on_time_share == 0.5 and food.requests.median_days == round(r3, 1)
    assert (rent.requests.received, rent.requests.on_time, rent.requests.on_time_base) == (2, 0, 1)
    assert rent.requests.on_time_share == 0.0 and rent.requests.median_days == round(r6, 1)
    assert (old.label.get("en"), old.requests.received, old.requests.on_time_base) == ("old_service", 1, 1)
    assert old.requests.median_days is None

    # escalations: c1..c4 (not the follow-up, the complaint, or the case of 31 December)
    esc = report.escalations
    assert (esc.cases, esc.replied, esc.closed) == (4, 3, 2)
    assert esc.median_wait_minutes == 30.0  # 12, 30, 45
    assert (esc.follow_ups, esc.suggestions, esc.complaints) == (1, 2, 1)
    q = report.questions
    assert (q.answered, q.helpful, q.escalated, q.unanswered) == (5, 3, 1, 2)
    assert q.helpful_share == 0.6

    # satisfaction
    assert (fin.satisfaction.sent, fin.satisfaction.answered, fin.satisfaction.response_rate) == (2, 1, 0.5)
    assert fin.satisfaction.ratings == type(fin.satisfaction.ratings)(1, 5.0, 1.0, (0, 0, 0, 0, 1))
    assert (food.satisfaction.sent, food.satisfaction.answered, food.satisfaction.ratings.mean) == (1, 1, 4.0)
    assert (rent.satisfaction.sent, rent.satisfaction.response_rate) == (0, None)
    assert (rent.satisfaction.ratings.count, rent.satisfaction.ratings.csat) == (1, 0.0)
    services = report.all_services
    assert (services.sent, services.answered) == (3, 2)
    assert services.ratings.count == 3 and services.ratings.mean == round((5 + 4 + 1) / 3, 2)
    assert services.ratings.distribution == (1, 0, 0, 1, 1)
    help_ = report.case_help
    assert (help_.sent, help_.answered, help_.response_rate) == (4, 3, 0.75)
    assert (help_.ratings.count, help_.ratings.mean, help_.ratings.csat) == (4, 3.5, 0.5)
    assert help_.ratings.distribution == (0, 1, 1, 1, 1)
    overall = report.overall
    assert (overall.sent, overall.answered) == (7, 5)
    assert overall.ratings.mean == round((5 + 4 + 1 + 5 + 3 + 2 + 4) / 7, 2) == 3.43
    assert overall.ratings.csat == pytest.approx(4 / 7)
    assert overall.ratings.distribution == (1, 1, 1, 2, 2)

    assert [(c.on, c.kind, c.service, c.rating, c.text) for c in report.comments] == [
        (date(2026, 1, 6), "case", None, 5, "شكرًا للأخت … على المتابعة"),
        (date(2026, 1, 12), "service", "financial_aid", 5, "الخدمة ممتازة وسريعة"),
        (date(2026, 1, 27), "case", None, 4, "Thank you …, very helpful"),
        (date(2026, 2, 1), "case", None, 2, "كان الانتظار طويلًا"),
    ]

    jan, feb = report.months
    assert (jan.start, jan.end, feb.start, feb.end) == (START, date(2026, 1, 31), date(2026, 2, 1), END)
    assert (jan.received, jan.decided, jan.answered) == (4, 2, 4)  # R1 R2 R4 R6; R1 R6; A6 A3 A1 A9
    assert (feb.received, feb.decided, feb.answered) == (3, 3, 3)  # R3 R5 R9; R7 R2 R3; A5 A4 A2
    assert jan.ratings.mean == (1 + 5 + 5 + 4) / 4 and jan.ratings.csat == 3 / 4
    assert feb.ratings.mean == (2 + 3 + 4) / 3 and feb.ratings.csat == pytest.approx(1 / 3)
    assert report.staff is None


async def test_staff_figures_with_by_staff(database, bakkah):
    await seed(database)
    report = await gather(database, bakkah, START, END, by_staff=True, now=NOW)
    assert report.staff is not None
    assert [(s.name, s.cases_claimed, s.median_first_reply_minutes, s.ratings, s.mean_rating)
            for s in report.staff] == [
        ("Sara Alharbi", 1, 45.0, 1, 4.0),
        ("نورة العتيبي", 2, (12 + 30) / 2, 2, (5 + 3) / 2),
    ]  # Huda, an admin, took only a follow-up: not listed
    assert report.comments[0].text == "شكرًا للأخت نورة على المتابعة"


async def test_a_first_reply_is_credited_to_whoever_wrote_it_not_to_who_received_the_case(
        database, bakkah):
    at = utc(2026, 1, 11, 6)
    async with database.unit_of_work() as uow:
        s = uow.session
        b = Beneficiary(language="ar", created_at=at)
        noura = Staff(channel="sim", sender_id="noura", name="نورة العتيبي", role="researcher",
                      created_at=at)
        sara = Staff(channel="sim", sender_id="sara", name="Sara Alharbi", role="researcher",
                     created_at=at)
        s.add_all([b, noura, sara])
        await s.flush()

        async def case(holder: Staff, written: list[tuple[str, Staff, int]]) -> None:
            """A case held now by `holder`, with what was written in it (minutes after it
            opened), of a beneficiary of its own (one open case each)."""
            outgoing = [minutes for direction, _, minutes in written if direction == "out"]
            person = Beneficiary(language="ar", created_at=at)
            s.add(person)
            await s.flush()
            c = Case(beneficiary_id=person.id, status="claimed", reason="asked", channel="sim",
                     created_at=at, claimed_by=holder.id,
                     first_reply_at=at + timedelta(minutes=min(outgoing)) if outgoing else None)
            pending.append((c, written))
            s.add(c)

        pending: list = []
        # Noura answered first, then handed the case to Sara, who wrote to the beneficiary later.
        await case(sara, [("note", sara, 2), ("out", noura, 8), ("out", sara, 60)])
        await case(sara, [("out", sara, 20)])  # Sara's own
        # Handed to Noura before anyone wrote: her first reply is hers.
        await case(noura, [("out", noura, 30)])
        await case(noura, [("note", noura, 5)])  # received by transfer, a note, nothing written yet
        await s.flush()
        for c, written in pending:
            s.add_all([CaseMessage(case_id=c.id, direction=direction, text="…", staff_id=who.id,
                                   at=at + timedelta(minutes=minutes))
                       for direction, who, minutes in written])

    report = await gather(database, bakkah, START, END, by_staff=True, now=NOW)
    assert report.staff is not None
    assert [(s.name, s.cases_claimed, s.median_first_reply_minutes) for s in report.staff] == [
        ("Sara Alharbi", 2, 20.0),  # not the 8 minutes of the case Noura answered
        ("نورة العتيبي", 2, (8 + 30) / 2),
    ]
    esc = report.escalations
    assert (esc.cases, esc.replied, esc.median_wait_minutes) == (4, 3, 20.0)  # 8, 20, 30


async def test_a_period_without_anything_still_gives_every_file(database, bakkah, tmp_path, ar_tr, en_tr):
    await seed(database)
    report = await gather(database, bakkah, date(2025, 6, 1), date(2025, 6, 30), now=NOW)
    assert report.requests.received == 0 and report.overall.ratings.mean is None
    assert report.escalations.median_wait_minutes is None and len(report.months) == 1
    for lang, tr in (("ar", ar_tr), ("en", en_tr)):
        paths = files.write(report, {"all"}, tmp_path / lang, tr)
        stem = "wasl-report-2025-06-01-2025-06-30"
        assert [p.name for p in paths] == [f"{stem}.{e}" for e in ("xlsx", "csv", "png")]
        assert all(p.stat().st_size > 0 for p in paths)
        book = load_workbook(paths[0])
        assert len(book.sheetnames) == 5
        assert "-" in [c.value for row in book.worksheets[0].iter_rows() for c in row]
        assert paths[1].read_bytes().startswith(b"\xef\xbb\xbf")
        assert png_size(paths[2].read_bytes())[0] > 500


async def test_an_empty_database(database, bakkah, tmp_path, en_tr):
    report = await gather(database, bakkah, START, END, now=NOW)
    assert report.requests.received == 0 and report.comments == () and len(report.months) == 2
    paths = files.write(report, {"xlsx", "csv", "png"}, tmp_path, en_tr)
    assert len(paths) == 3 and all(p.exists() for p in paths)


async def test_the_period_must_not_end_before_it_starts(database, bakkah):
    with pytest.raises(ValueError):
        await gather(database, bakkah, END, START)


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def xlsx_text(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return "".join(z.read(n).decode("utf-8") for n in z.namelist() if n.endswith(".xml"))


def rows_of(ws) -> list[list]:
    return [[c.value for c in row] for row in ws.iter_rows()]


def row_of(ws, label: str) -> list:
    return next(r for r in rows_of(ws) if r and r[0] == label)


async def test_no_staff_name_anywhere_without_by_staff(database, bakkah, ar_tr, en_tr):
    await seed(database)
    hidden = await gather(database, bakkah, START, END, now=NOW)
    shown = await gather(database, bakkah, START, END, by_staff=True, now=NOW)
    for tr in (ar_tr, en_tr):
        csv_text = files.render_csv(hidden, tr).decode("utf-8-sig")
        for output in (csv_text, xlsx_text(files.render_xlsx(hidden, tr))):
            assert not [w for w in NAME_WORDS if w in output]
        assert not [w for w in NAME_WORDS if w.encode() in files.render_png(hidden, tr)]
        book = load_workbook(io.BytesIO(files.render_xlsx(shown, tr)))
        assert len(book.sheetnames) == 6
        staff = rows_of(book.worksheets[5])
        assert ["Sara Alharbi", 1, 45, 1, 4] in staff
        assert ["نورة العتيبي", 2, 21, 2, 4] in staff
        text = files.render_csv(shown, tr).decode("utf-8-sig")
        assert "Sara Alharbi" in text and "نورة العتيبي" in text and "Huda" not in text


async def test_the_workbook(database, bakkah, ar_tr, en_tr):
    await seed(database)
    report = await gather(database, bakkah, START, END, now=NOW)

    en = load_workbook(io.BytesIO(files.render_xlsx(report, en_tr)))
    assert en.sheetnames == ["Summary", "Services", "Satisfaction", "Comments", "Months"]
    assert not any(ws.sheet_view.rightToLeft for ws in en.worksheets)
    summary = en["Summary"]
    assert summary["A1"].value == "Bakkah for Humanitarian Services" and summary["A1"].font.bold
    assert row_of(summary, "Requests received") == ["Requests received", 7]
    share = summary.cell(find(summary, "On-time share"), 2)
    assert share.value == pytest.approx(2 / 6) and share.number_format == "0.0%"
    assert row_of(summary, "Median days to a decision")[1] == 14.7
    assert row_of(summary, "Escalations to a researcher")[1] == 4
    assert row_of(summary, "Median wait for a first reply (minutes)")[1] == 30
    headers = rows_of(en["Services"])[1]
    assert headers[:3] == ["Service", "Requests received", "Submitted"]
    assert all(c.font.bold for c in en["Services"][2] if c.value)
    assert row_of(en["Services"], "Financial aid")[:2] == ["Financial aid", 2]
    assert row_of(en["Satisfaction"], "Help from a researcher")[1:5] == [4, 3, 0.75, 4]
    assert row_of(en["Satisfaction"], "Overall")[-5:] == [1, 1, 1, 2, 2]
    comments = rows_of(en["Comments"])
    assert comments[1] == ["Date", "Service", "Rating", "Comment"]
    assert comments[2][1:] == ["Help from a researcher", 5, "شكرًا للأخت … على المتابعة"]
    assert comments[2][0].date() == date(2026, 1, 6)
    months = rows_of(en["Months"])
    assert [r[0] for r in months[2:4]] == ["January 2026", "February 2026"]
    assert months[2][3:6] == [4, 2, 4] and months[3][3:6] == [3, 3, 3]
    assert en["Services"].column_dimensions["A"].width >= 10

    ar = load_workbook(io.BytesIO(files.render_xlsx(report, ar_tr)))
    assert ar.sheetnames == ["الملخص", "الخدمات", "الرضا", "التعليقات", "الأشهر"]
    assert all(ws.sheet_view.rightToLeft for ws in ar.worksheets)
    assert ar["الملخص"]["A1"].value == "جمعية بكة للخدمات الإنسانية"
    assert row_of(ar["الملخص"], "الطلبات الواردة")[1] == 7
    assert rows_of(ar["الخدمات"])[1][:2] == ["الخدمة", "الطلبات الواردة"]
    assert "نسبة الرضا (4–5)" in rows_of(ar["الرضا"])[1]
    assert row_of(ar["الخدمات"], "مساعدة مالية")[1] == 2
    assert row_of(ar["الرضا"], "مساعدة الباحث الاجتماعي")[1:3] == [4, 3]
    assert rows_of(ar["الأشهر"])[2][0] == "يناير 2026"


def find(ws, label: str) -> int:
    return next(row[0].row for row in ws.iter_rows() if row[0].value == label)


async def test_the_csv(database, bakkah, en_tr):
    await seed(database)
    report = await gather(database, bakkah, START, END, now=NOW)
    data = files.render_csv(report, en_tr)
    assert data.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert lines[0] == ["Bakkah for Humanitarian Services"]
    assert ["Requests received", "7"] in lines and ["On-time share", "33.3%"] in lines
    sections = [lines[i + 1] for i, line in enumerate(lines[:-1]) if line == [] and lines[i + 1]]
    assert [s[0] for s in sections] == [
        "Summary: Requests", "Summary: Requests by status", "Summary: Escalations and feedback",
        "Summary: Questions answered by the bot", "Summary: Satisfaction",
        "Services: Requests and satisfaction by service",
        "Satisfaction: Satisfaction by service and with the researchers' help", "Comments",
        "Months: Month by month"]
    i = lines.index(["Comments"])
    assert lines[i + 1] == ["Date", "Service", "Rating", "Comment"]
    assert lines[i + 2] == ["2026-01-06", "Help from a researcher", "5", "شكرًا للأخت … على المتابعة"]
    assert any(r[:2] == ["old_service", "1"] for r in lines)


async def test_the_png(database, bakkah, ar_tr, en_tr, tmp_path):
    await seed(database)
    report = await gather(database, bakkah, START, END, now=NOW)
    for tr in (ar_tr, en_tr):
        data = files.render_png(report, tr)
        width, height = png_size(data)
        assert len(data) > 10_000 and (width, height) == (1210, 935)
    (path,) = files.write(report, {"png"}, tmp_path, ar_tr)
    assert path == tmp_path / "wasl-report-2026-01-01-2026-02-28.png"


def test_unknown_formats_are_refused(tmp_path, bakkah, en_tr):
    from bot.report.figures import Rows, compute
    with pytest.raises(ValueError):
        files.write(compute(bakkah, START, END, Rows(), now=NOW), {"pdf"}, tmp_path, en_tr)
    assert not list(Path(tmp_path).iterdir())


def test_the_arabic_catalog_translates_the_report(translations):
    """Waits for the report's msgids to be merged into locales/ar (from /tmp/report_ar.json)."""
    from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir

    ar = translations["ar"]
    assert {msgid: ar.gettext(msgid) for msgid in AR} == AR
    keywords = {**DEFAULT_KEYWORDS, "N_": None}
    used = {m[2] for m in extract_from_dir(Path(files.__file__).parent, keywords=keywords)}
    untranslated = [m for m in used if isinstance(m, tuple) and ar.ngettext(m[0], m[1], 5) == m[1]] + \
        [m for m in used if isinstance(m, str) and ar.gettext(m) == m]
    assert untranslated == []
