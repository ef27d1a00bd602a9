"""Satisfaction surveys, follow-ups, suggestions and complaints over the simulator."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime, timedelta

import pytest

from bot import profiles
from storage import models as m
from storage.db import Database
from tests.e2e.sim import Simulator, approve, complete_intake, shift, staff_add, surveys, wasl


@pytest.fixture
def db(tmp_path, db_url) -> str:
    staff_add(db_url, ("sim:noura", "researcher", "Noura Alotaibi"),
              ("sim:huda", "admin", "Huda Alqahtani"), ("sim:khalid", "committee", "Khalid Alzahrani"))
    return db_url


def to(replies: list[dict], who: str) -> list[dict]:
    return [r for r in replies if r.get("to") == who]


def staff(sim: Simulator, who: str, text: str) -> list[dict]:
    return sim.send(who, lang="en", text=text)


def deliver(sim: Simulator, who: str, tmp_path) -> tuple[str, list[dict]]:
    """A beneficiary's request, taken by the staff all the way to a delivered service."""
    sim.send(who, text="السلام عليكم")
    sim.send(who, choice="accept")
    done = complete_intake(sim, who, profiles.load("bakkah"), "food_basket", tmp_path)
    number = re.search(r"BK-\d{4}-\d{6}", done[0]["text"]).group(0)
    approve(sim, number, "noura", "khalid")  # reviewed, registered, approved by the committee
    return number, staff(sim, "noura", f"/deliver {number} 1 سلة")


def test_a_delivered_service_is_rated_with_typed_arabic_digits_and_a_comment(sim, db, tmp_path):
    number, delivered = deliver(sim, "u1", tmp_path)
    told = to(delivered, "u1")
    assert number in told[0]["text"] and "تم تقديم الخدمة" in told[0]["text"]  # what happened
    assert "حق لك" in told[0]["text"] and "لتحسين" in told[0]["text"]  # a right, for improvement
    assert told[-1]["expects"] == {"field": "survey_rating", "kind": "choice"}  # the rating first
    labels = [c["label"] for c in told[-1]["choices"]]
    assert labels[0].startswith("⭐ ") and labels[4].startswith("⭐⭐⭐⭐⭐")
    ease = sim.send("u1", text="٥")  # typed in Arabic-Indic digits: the rating, 5
    assert ease[-1]["expects"]["field"] == "survey_ease"
    named = sim.send("u1", text="4")
    assert named[-1]["expects"] == {"field": "survey_anonymous", "kind": "choice"}
    assert [c["id"] for c in named[-1]["choices"]] == ["named", "anonymous", "later"]
    comment = sim.send("u1", text="١")  # the first option: answer with my name
    assert comment[-1]["expects"] == {"field": "survey_comment", "kind": "text"}
    thanks = sim.send("u1", text="شكرًا لكم، الموظف كان متعاونًا جدًا")  # "الموظف": not a call for one
    assert "شكرًا" in thanks[0]["text"] and thanks[-1]["expects"]["field"] == "menu"
    sim.close()

    data = surveys(db)
    [row] = data["surveys"]
    assert row["subject"] == f"request:{number}" and row["status"] == "answered"
    [answer] = data["answers"]
    assert answer["rating"] == 5 and answer["extra"] == {"ease": 4}
    assert answer["comment"] == "شكرًا لكم، الموظف كان متعاونًا جدًا"
    assert answer["survey_id"] == row["id"] and not answer["anonymous"]
    assert json.loads(wasl("cases", "list", "--json", db=db).stdout) == []  # no escalation


def test_an_anonymous_low_rating_keeps_no_link_and_opens_no_follow_up(sim, db, tmp_path):
    _number, _delivered = deliver(sim, "u2", tmp_path)
    sim.send("u2", choice="rate:1")
    sim.send("u2", text="⭐⭐")  # the ease question, typed as stars
    sim.send("u2", choice="anonymous")
    done = sim.send("u2", text="تأخر التسليم كثيرًا")
    assert "المشرف" not in done[0]["text"] and done[-1]["expects"]["field"] == "menu"
    sim.close()
    [answer] = surveys(db)["answers"]
    assert answer["anonymous"] and answer["survey_id"] is None and answer["answered_at"] is None
    assert answer["rating"] == 1 and answer["extra"] == {"ease": 2}
    assert json.loads(wasl("cases", "list", "--json", db=db).stdout) == []
    shown = json.loads(wasl("requests", "list", "--json", db=db).stdout)
    assert "تأخر التسليم" not in json.dumps(shown, ensure_ascii=False)


def test_a_named_low_rating_with_a_comment_goes_to_an_admin_only(sim, db, tmp_path):
    _number, _delivered = deliver(sim, "u3", tmp_path)
    sim.send("u3", choice="rate:2")
    sim.send("u3", choice="rate:3")
    sim.send("u3", choice="named")
    done = sim.send("u3", text="لم يتصل بي أحد لتحديد موعد الاستلام")
    case_no = re.search(r"\d+", to(done, "u3")[0]["text"].split("\n")[1]).group(0)
    alert = to(done, "huda")
    assert alert and "لم يتصل بي أحد" in alert[0]["text"]
    assert alert[0]["choices"][0]["id"] == f"claim:{case_no}"
    assert to(done, "noura") == []  # researchers are not told
    assert f"#{case_no}" not in staff(sim, "noura", "/queue")[0]["text"]
    refused = staff(sim, "noura", f"/claim {case_no}")
    assert "Only an admin" in refused[0]["text"]
    taken = sim.send("huda", lang="en", choice=f"claim:{case_no}")
    assert "You took case" in to(taken, "huda")[0]["text"]
    staff(sim, "huda", "نعتذر منك، سنتصل بك اليوم")
    reply = sim.send("u3", text="شكرا لكم")  # now a conversation with the admin
    assert "شكرا لكم" in to(reply, "huda")[0]["text"]
    sim.close()
    [case] = [c for c in json.loads(wasl("cases", "list", "--json", db=db).stdout)]
    assert case["reason"] == "low_rating" and "2/5" in case["detail"]
    assert [e["allowed"] for e in json.loads(wasl("audit", "--json", "--action", "claim", db=db).stdout)] \
        == [False, True]


# (SQLite alone: the restart on PostgreSQL is tests/e2e/test_telegram_surveys.py's)
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_one_reminder_after_a_restart_then_expiry(db, tmp_path):
    sim = Simulator(db)
    number, delivered = deliver(sim, "u4", tmp_path)
    assert to(delivered, "u4")[-1]["expects"]["field"] == "survey_rating"
    later = sim.send("u4", choice="later")  # not now: back to the menu
    assert later[-1]["expects"]["field"] == "menu"
    sim.kill()  # the process dies; the reminder's due time is in the database

    [row] = surveys(db)["surveys"]
    sent = datetime.fromisoformat(row["sent_at"])
    assert datetime.fromisoformat(row["remind_at"]) - sent == timedelta(hours=24)
    assert datetime.fromisoformat(row["expires_at"]) - sent == timedelta(hours=48)
    shift(db, remind_at=datetime.now(UTC) - timedelta(minutes=1))

    sim = Simulator(db)
    woken = staff(sim, "noura", "/help")  # any event: the new process finds the due reminder
    reminder = to(woken, "u4")
    assert reminder and "تذكير" in reminder[0]["text"] and number in reminder[0]["text"]
    again = staff(sim, "noura", "/help")
    assert to(again, "u4") == []  # one reminder only
    [row] = surveys(db)["surveys"]
    assert row["reminded_at"] and row["remind_at"] is None and row["status"] == "sent"

    shift(db, expires_at=datetime.now(UTC) - timedelta(minutes=1))
    staff(sim, "noura", "/help")
    assert surveys(db)["surveys"][0]["status"] == "expired"
    too_late = sim.send("u4", text="⭐⭐⭐⭐⭐")
    assert too_late[-1]["expects"]["field"] == "menu"  # no longer a rating
    sim.close()
    assert surveys(db)["answers"] == []


def test_a_closed_case_gets_a_short_question_about_the_help(sim, db):
    sim.send("u5", text="مرحبا")
    sim.send("u5", choice="accept")
    opened = sim.send("u5", text="ابغى اكلم موظف")
    case_no = re.search(r"\d+", opened[0]["text"]).group(0)
    staff(sim, "noura", f"/claim {case_no}")
    staff(sim, "noura", "أهلًا، كيف أخدمك؟")
    closed = staff(sim, "noura", "/close")
    told = to(closed, "u5")
    assert "انتهت محادثتك" in told[0]["text"] and case_no in told[1]["text"]
    assert told[-1]["expects"]["field"] == "survey_rating"
    named = sim.send("u5", text="٤")  # the rating, typed in Arabic-Indic digits
    assert named[-1]["expects"]["field"] == "survey_anonymous"  # no extra questions for a case
    comment = sim.send("u5", choice="named")
    assert comment[-1]["expects"]["field"] == "survey_comment"
    sim.send("u5", choice="no_comment")
    sim.close()
    data = surveys(db)
    assert data["surveys"][0]["kind"] == "case" and data["answers"][0]["rating"] == 4
    assert data["answers"][0]["comment"] is None


def test_a_complaint_gets_a_ticket_and_reaches_the_desk(sim, db):
    sim.send("u6", text="مرحبا")
    sim.send("u6", choice="accept")
    asked = sim.send("u6", text="اقتراح أو شكوى")  # typed as the menu label
    assert asked[-1]["expects"]["field"] == "feedback_kind"
    sim.send("u6", choice="complaint")
    done = sim.send("u6", text="انتظرت ساعتين في مقر الجمعية ولم يستقبلني أحد")
    ticket = re.search(r"FB-\d{4}-\d{6}", done[0]["text"]).group(0)
    assert done[-1]["expects"]["field"] == "menu"
    queue = staff(sim, "noura", "/queue")[0]["text"]
    assert "a complaint" in queue and ticket in queue
    case_no = re.search(r"#(\d+)", queue).group(1)
    staff(sim, "noura", f"/claim {case_no}")
    staff(sim, "noura", "نعتذر عن ذلك، متى يناسبك أن نتصل بك؟")
    answer = sim.send("u6", text="بعد العصر")
    assert "بعد العصر" in to(answer, "noura")[0]["text"]
    sim.close()
    data = surveys(db)
    assert data["feedback"][0]["ticket"] == ticket and data["feedback"][0]["kind"] == "complaint"


@pytest.mark.parametrize("kind", ["suggestion", "complaint"])
def test_closing_a_suggestion_or_a_complaint_asks_nothing_about_the_help(sim, db, kind):
    """A ticket is not help the beneficiary asked a researcher for: no "rate the help"."""
    sim.send("u8", text="مرحبا")
    sim.send("u8", choice="accept")
    sim.send("u8", choice="feedback")
    sim.send("u8", choice=kind)
    sim.send("u8", text="نأمل تمديد ساعات الاستقبال يوم الخميس")
    case_no = re.search(r"#(\d+)", staff(sim, "noura", "/queue")[0]["text"]).group(1)
    staff(sim, "noura", f"/claim {case_no}")
    staff(sim, "noura", "شكرًا لك، وصلت ملاحظتك إلى الإدارة")
    closed = staff(sim, "noura", "/close")
    assert f"#{case_no} is closed" in to(closed, "noura")[0]["text"]
    told = to(closed, "u8")
    assert told and told[-1]["expects"]["field"] == "menu"
    assert not [r for r in told if (r["expects"] or {}).get("field", "").startswith("survey_")]
    sim.close()
    data = surveys(db)
    assert data["surveys"] == [] and data["feedback"][0]["kind"] == kind


def test_an_admin_gets_the_report_files_in_their_chat_and_a_researcher_does_not(sim, db, tmp_path):
    _number, _delivered = deliver(sim, "u7", tmp_path)
    sim.send("u7", choice="rate:4")
    sim.send("u7", choice="rate:5")
    sim.send("u7", choice="named")
    sim.send("u7", choice="no_comment")
    refused = staff(sim, "noura", "/report")
    assert "Only an admin" in refused[0]["text"]
    bad = staff(sim, "huda", "/report 2026-02-30")
    assert "/report 2026-01-01 2026-03-31" in bad[0]["text"]
    sent = staff(sim, "huda", "/report ٢٠٢٦-٠١-٠١ 2026-12-31")  # digits of either kind
    names = [r["text"] for r in to(sent, "huda")]
    assert names[0] == "The report from 2026-01-01 to 2026-12-31:"
    assert names[1:] == [f"📎 wasl-report-2026-01-01-2026-12-31.{ext}" for ext in ("xlsx", "csv", "png")]
    sim.close()

    async def stored() -> list[tuple[str, bytes]]:
        database = Database(db)
        async with database.unit_of_work() as uow:
            from sqlalchemy import select
            rows = (await uow.session.execute(
                select(m.Document.name, m.Document.content).where(m.Document.field_key == "report")
            )).all()
        await database.close()
        return [(name, content) for name, content in rows]

    files = dict(asyncio.run(stored()))
    assert files["wasl-report-2026-01-01-2026-12-31.xlsx"][:2] == b"PK"
    assert files["wasl-report-2026-01-01-2026-12-31.png"][:8] == b"\x89PNG\r\n\x1a\n"
    csv = files["wasl-report-2026-01-01-2026-12-31.csv"].decode("utf-8-sig")
    label = profiles.load("bakkah").service("food_basket").label.get("en")  # in the admin's language
    assert label in csv and "Noura" not in csv  # no staff figures unless asked
    claims = json.loads(wasl("audit", "--json", "--action", "report", db=db).stdout)
    assert [e["allowed"] for e in claims] == [False, True]
