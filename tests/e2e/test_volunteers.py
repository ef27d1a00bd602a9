"""Volunteering end to end, over the real `wasl simulate` process and the `wasl` commands an
admin runs, on each engine: a volunteer signs up from the menu; the admin lists and exports
the volunteers (each view audited) and announces to them alone; the volunteer's copy of
their data holds the sign-up; withdrawing deletes it, and the conversation log never held
its answers."""

from __future__ import annotations

import csv
import io
import json

from openpyxl import load_workbook

from tests.e2e.sim import Simulator, wasl
from tests.e2e.test_destruction import traces

VOLUNTEER, OTHER = "966551112222", "966553334444"
SKILLS = "الإسعافات الأولية وإرشاد التائهين"


def said(replies: list[dict], to: str) -> str:
    return "\n".join(r["text"] for r in replies if r["to"] == to)


def test_a_volunteer_signs_up_is_listed_exported_announced_to_and_withdraws(db_url, tmp_path):
    db = db_url
    sim = Simulator(db, "alhuda")
    try:
        for who in (VOLUNTEER, OTHER):
            sim.send(who, text="السلام عليكم")
            sim.send(who, choice="accept")
        assert "شباب المنطقة" in said(sim.send(VOLUNTEER, choice="volunteer"), VOLUNTEER)
        for answer in ("خالد عبدالله العتيبي", "٠٥٥ ١١١ ٢٢٣٣", SKILLS, "٣", "رابغ"):
            sim.send(VOLUNTEER, text=answer)
        done = said(sim.send(VOLUNTEER, text="نعم"), VOLUNTEER)
        assert "تم تسجيلك في التطوع" in done
    finally:
        sim.close()

    # the admin's list: in full (reaching volunteers is its purpose), labels translated
    [row] = json.loads(wasl("volunteers", "list", "--json", db=db, profile="alhuda").stdout)
    assert row["الاسم الكامل"] == "خالد عبدالله العتيبي"
    assert row["رقم الجوال"] == "+966551112233"
    assert row["الأوقات المناسبة للتطوع"] == "المواسم والمناسبات"
    assert row["القناة"] == "المحاكي" and "هـ" in row["تاريخ التسجيل"]
    english = wasl("volunteers", "list", "--lang", "en", db=db, profile="alhuda").stdout
    assert "When you can volunteer: Seasons and occasions" in english

    sheet = tmp_path / "volunteers.xlsx"
    wasl("volunteers", "export", "--out", str(sheet), db=db, profile="alhuda")
    book = load_workbook(sheet).active
    assert book.sheet_view.rightToLeft
    assert [c.value for c in book[1]][:3] == ["#", "الاسم الكامل", "رقم الجوال"]
    assert [c.value for c in book[2]][3] == SKILLS and book.max_row == 2
    table = tmp_path / "volunteers.csv"
    wasl("volunteers", "export", "--out", str(table), "--lang", "en", db=db, profile="alhuda")
    lines = list(csv.reader(io.StringIO(table.read_text(encoding="utf-8-sig"))))
    assert lines[0][1] == "Full name" and lines[1][2] == "+966551112233" and len(lines) == 2

    audited = json.loads(wasl("audit", "--json", db=db, profile="alhuda").stdout)
    views = [(a["action"], a["detail"]) for a in audited if a["action"].startswith("volunteers")]
    assert sorted(views) == [("volunteers_export", "1 volunteers.csv"),
                             ("volunteers_export", "1 volunteers.xlsx"),
                             ("volunteers_list", "1"), ("volunteers_list", "1")]

    # an announcement to volunteers reaches the volunteer, not the other beneficiary
    text = tmp_path / "call.txt"
    text.write_text("نحتاج متطوعين يوم الجمعة في مخيم رابغ", encoding="utf-8")
    dry = wasl("broadcast", "--text-file", str(text), "--segment", "volunteers", "--dry-run",
               db=db, profile="alhuda").stdout
    assert "Recipients: 1 " in dry and "Signed up to volunteer" in dry
    everyone = wasl("broadcast", "--text-file", str(text), "--dry-run", db=db,
                    profile="alhuda").stdout
    assert "Recipients: 2 " in everyone

    # their copy holds the sign-up; the log holds none of its answers
    assert set(traces(db, SKILLS)) == {"volunteers.answers"}

    sim = Simulator(db, "alhuda")
    try:
        sim.send(VOLUNTEER, choice="privacy")
        sim.send(VOLUNTEER, choice="withdraw_consent")
        gone = said(sim.send(VOLUNTEER, choice="withdraw_volunteering"), VOLUNTEER)
        assert "تم سحب تسجيلك في التطوع" in gone
    finally:
        sim.close()
    assert json.loads(wasl("volunteers", "list", "--json", db=db, profile="alhuda").stdout) == []
    assert traces(db, SKILLS, "خالد عبدالله العتيبي") == {}
