"""The social researcher desk over the simulator: staff and beneficiaries in one run."""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from bot import profiles
from tests.e2e.sim import Simulator, approve, complete_intake, register, staff_add, wasl

PNG = b"\x89PNG\r\n\x1a\n" + b"\x01" * 300


@pytest.fixture
def db(tmp_path, db_url) -> str:
    staff_add(db_url, ("sim:noura", "researcher", "Noura Alotaibi"),
              ("sim:sara", "researcher", "Sara Alharbi"), ("sim:huda", "admin", "Huda"),
              ("sim:khalid", "committee", "Khalid Alzahrani"))
    return db_url


def staff(sim: Simulator, who: str, **event) -> list[dict]:
    return sim.send(who, lang="en", **event)


def to(replies: list[dict], who: str) -> list[str]:
    return [r["text"] for r in replies if r.get("to") == who]


def consent(sim: Simulator, who: str) -> None:
    sim.send(who, text="مرحبا")
    sim.send(who, choice="accept")


def audit(db: str, **filters: str) -> list[dict]:
    args = [arg for key, value in filters.items() for arg in (f"--{key}", value)]
    return json.loads(wasl("audit", "--json", *args, db=db).stdout)


def test_a_case_from_queue_to_close(sim, db, tmp_path):
    consent(sim, "u1")
    opened = sim.send("u1", text="ابغى اكلم موظف")
    number = re.search(r"\d+", opened[0]["text"]).group(0)
    queue = staff(sim, "noura", text="/queue")
    assert f"#{number}" in queue[0]["text"] and "asked for a researcher" in queue[0]["text"]
    assert queue[0]["choices"][0]["id"] == f"claim:{number}"

    claimed = staff(sim, "noura", choice=f"claim:{number}")
    assert "You took case" in to(claimed, "noura")[0] and "ابغى اكلم موظف" in to(claimed, "noura")[0]
    assert "Noura" in to(claimed, "u1")[0] and "Alotaibi" not in to(claimed, "u1")[0]
    taken = staff(sim, "sara", text=f"/claim {number}")
    assert "already taken by Noura Alotaibi" in taken[0]["text"]

    relayed = staff(sim, "noura", text="وعليكم السلام، كيف أخدمك؟")
    assert to(relayed, "noura") == [f"✓ Sent → #{number}"]  # where it went (no name yet)
    assert "كيف أخدمك" in to(relayed, "u1")[0]
    answer = sim.send("u1", text="متى موعد توزيع السلال؟")
    assert to(answer, "u1") == [] and "متى موعد توزيع السلال" in to(answer, "noura")[0]
    photo = tmp_path / "id.png"
    photo.write_bytes(PNG)
    sent = sim.send("u1", file={"path": str(photo), "name": "id.png", "mime": "image/png"})
    doc = re.search(r"/doc (\d+)", to(sent, "noura")[0]).group(1)
    assert "id.png" in staff(sim, "noura", text=f"/doc {doc}")[0]["text"]
    form = tmp_path / "form.pdf"
    form.write_bytes(b"%PDF-1.4 a form to fill in")
    handed = staff(sim, "noura", file={"path": str(form), "name": "form.pdf"})
    assert "form.pdf" in to(handed, "u1")[0]  # a researcher's file reaches the beneficiary
    paused = sim.send("u1", text="متى أستلم؟")  # the bot's flows pause while a researcher talks
    assert to(paused, "u1") == [] and "متى أستلم" in to(paused, "noura")[0]

    assert to(staff(sim, "noura", text="/note asked about distribution dates"), "u1") == []
    canned = staff(sim, "noura", text="/canned visit")
    assert "مقر الجمعية" in to(canned, "u1")[0]
    moved = staff(sim, "noura", text="/transfer Sara")
    assert "now with Sara Alharbi" in to(moved, "noura")[0]
    # told in Sara's desk language: Arabic, as she chose none (/language en would change it)
    assert "محوّلة إليك من Noura" in to(moved, "sara")[0] and "Sara" in to(moved, "u1")[0]
    assert "no current case" in staff(sim, "noura", text="بعد إذنك")[0]["text"]

    closed = staff(sim, "sara", text="/close")
    assert f"#{number} is closed" in to(closed, "sara")[0]
    to_u1 = [r for r in closed if r["to"] == "u1"]
    assert "انتهت محادثتك مع الباحث الاجتماعي" in to_u1[0]["text"]
    assert to_u1[-1]["expects"]["field"] == "survey_rating"  # how was the help? (first)
    rated = sim.send("u1", text="٥")
    sim.send("u1", choice="named")
    menu = sim.send("u1", choice="no_comment")
    assert [c["id"] for c in menu[-1]["choices"]][0] == "new_request"  # back at the menu
    assert to(rated, "sara") == [] and to(menu, "sara") == []  # a rating is not relayed
    back = sim.send("u1", choice="status")  # the journey works again
    assert back[-1]["expects"]["field"] == "menu"
    sim.close()

    [case] = json.loads(wasl("cases", "list", "--json", db=db).stdout)
    assert case["status"] == "closed"
    notes = [m for m in case["messages"] if m["direction"] == "note"]
    assert notes and notes[0]["text"] == "asked about distribution dates"
    actions = [e["action"] for e in audit(db, case=number)]
    everything = [e["action"] for e in audit(db)]
    for action in ["claim", "relay_out", "relay_in", "note", "transfer", "close"]:
        assert action in actions
    for action in ["view_queue", "view_document"]:
        assert action in everything
    assert [e["allowed"] for e in audit(db, action="claim")] == [True, False]


def test_needs_info_round_trip_and_decisions_in_each_language(sim, db, tmp_path):
    profile = profiles.load("bakkah")
    consent(sim, "u2")
    done = complete_intake(sim, "u2", profile, "food_basket", tmp_path)
    number = re.search(r"BK-\d{4}-\d{6}", done[0]["text"]).group(0)

    asked = staff(sim, "noura", text=f"/request {number} needs_info صورة صك الطلاق")
    assert "The beneficiary was told" in to(asked, "noura")[0]
    told = to(asked, "u2")[0]
    assert number in told and "صورة صك الطلاق" in told
    photo = tmp_path / "deed.png"
    photo.write_bytes(PNG)
    given = sim.send("u2", file={"path": str(photo), "name": "deed.png", "mime": "image/png"})
    assert number in to(given, "u2")[0]
    told = to(given, "noura")[0]  # in the desk's language (Arabic unless she chose /language)
    assert f"وصلت المعلومات الناقصة للطلب {number}" in told and "deed.png" in told
    shown = json.loads(wasl("requests", "show", number, "--json", db=db).stdout)
    assert shown["status"] == "under_review"
    assert [h["status"] for h in shown["history"]] == ["submitted", "needs_info", "under_review"]

    refused = staff(sim, "noura", text=f"/request {number} approved")
    assert refused[0]["text"] == ('From "under review" a request can go to: needs information, '
                                  'with the committee, closed.')  # labels, not keys
    moved = staff(sim, "noura", text=f"/request {number} اللجنة")  # typed in Arabic
    # the committee is reached by the review's registration, not by setting the status
    assert to(moved, "noura") == [f"This step has its own command: /register {number}"]
    assert to(moved, "u2") == []
    approved = approve(sim, number, "noura", "khalid")  # matched, registered, approved
    assert to(approved, "u2") == [f"يسعدنا إبلاغك بالموافقة على طلبك رقم {number}.\n"
                                  "سنتواصل معك بشأن استلام الخدمة."]

    assert "Peace be upon you" in sim.send("u3", text="hello", lang="en")[0]["text"]
    sim.send("u3", choice="accept")
    english = complete_intake(sim, "u3", profile, "food_basket", tmp_path)
    other = re.search(r"BK-\d{4}-\d{6}", english[0]["text"]).group(0)
    register(sim, other, "noura")
    rejected = sim.send("khalid", lang="en", text=f"/decide {other} reject 3 income above the limit")
    assert f"{other} is rejected (meeting 3, " in to(rejected, "khalid")[0]
    told = to(rejected, "u3")[0]
    assert f"We are sorry to tell you that your request {other} was rejected after study." in told
    assert "Reason: income above the limit" in told
    sim.close()
    log = audit(db)
    assert [e["allowed"] for e in log if e["action"] == "status_change"] == [True, False, False]
    assert [(e["actor"], e["request"], e["allowed"]) for e in log if e["action"] == "decide"] == [
        ("sim:khalid", number, True), ("sim:khalid", other, True)]


def test_refusals_are_audited(sim, db):
    consent(sim, "u4")
    unknown = sim.send("u4", text="/queue")  # a beneficiary trying a staff command
    assert "/menu" in unknown[0]["text"] and "Waiting" not in unknown[0]["text"]
    assert "Only an admin" in staff(sim, "noura", text="/staff")[0]["text"]
    team = staff(sim, "huda", text="/staff")[0]["text"]
    assert "Noura Alotaibi · social researcher" in team and "Huda · admin" in team
    sim.close()
    refused = [e for e in audit(db) if not e["allowed"]]
    assert {(e["actor"], e["action"]) for e in refused} == {("sim:u4", "staff_command"),
                                                           ("sim:noura", "staff")}


def test_cases_survive_restarts_in_every_state(db):
    sim = Simulator(db)
    consent(sim, "u5")
    sim.send("u5", choice="human")
    sim.kill()  # queued
    sim = Simulator(db)
    assert "#1" in staff(sim, "noura", text="/queue")[0]["text"]
    staff(sim, "noura", text="/claim 1")
    sim.kill()  # claimed
    sim = Simulator(db)
    assert "أهلا" in to(staff(sim, "noura", text="أهلا"), "u5")[0]
    assert "شكرا" in to(sim.send("u5", text="شكرا"), "noura")[0]
    staff(sim, "noura", text="/close")
    sim.kill()  # closed
    sim = Simulator(db)
    assert sim.send("u5", text="/menu")[-1]["expects"]["field"] == "menu"
    assert "closed" in json.loads(wasl("cases", "list", "--json", db=db).stdout)[0]["status"]
    sim.close()


# (the one check and its audit are engine-independent; tests/integration/test_desk_access.py
# runs them on both engines)
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_cli_runs_desk_commands_through_the_same_check_and_audit(sim, db, tmp_path):
    """`wasl desk WHO /command`: what the desk would answer in their chat, refused the same."""
    consent(sim, "u9")
    sim.send("u9", choice="human")
    sim.close()
    team = wasl("desk", "sim:sara", "/team", db=db).stdout
    assert "#1" in team and "[claim:1]" in team
    refused = wasl("desk", "sim:sara", "/audit", db=db).stdout
    assert refused.strip() == profiles_tr("ar", "Only an admin can do this.")
    with pytest.raises(subprocess.CalledProcessError) as stranger:
        wasl("desk", "sim:u9", "/queue", db=db)
    assert stranger.value.returncode == 1 and "not staff" in stranger.value.stderr
    entries = audit(db, actor="sim:sara")
    assert [(e["action"], e["allowed"]) for e in entries] == [("view_team", True), ("audit", False)]
    table = wasl("audit", "--actor", "sim:sara", db=db).stdout
    assert "at (Riyadh)" in table


def profiles_tr(lang: str, text: str) -> str:
    from bot import i18n
    return dict(i18n.load_translations(i18n.LOCALES_DIR))[lang].gettext(text)


def test_an_urgent_case_is_told_to_the_researchers_at_any_hour(db, tmp_path):
    """With staff notices on and "asked" an urgent reason, a new case reaches each
    researcher's chat whatever the hour; its "Take" button takes it (a typed 1 does not:
    a notice arriving meanwhile is never pressed by a number meant for another message)."""
    profile = tmp_path / "urgent.yaml"
    profile.write_text(profiles.resolve("bakkah").read_text(encoding="utf-8")
                       + "\ndesk: {urgent_reasons: [asked]}\n", encoding="utf-8")
    sim = Simulator(db, str(profile), env={"WASL_DESK_NOTICES": "true"})
    consent(sim, "u1")
    asked = sim.send("u1", choice="human")
    for researcher in ("noura", "sara"):
        [notice] = [r for r in asked if r.get("to") == researcher]
        assert notice["text"].startswith("🔔 إحالة جديدة #1: طلب التحدث مع باحث (من القائمة).")
        assert [c["id"] for c in notice["choices"]] == ["claim:1", "queue"]
    assert not [r for r in asked if r.get("to") == "huda"]  # admins are not disturbed
    typed = sim.send("sara", text="١")  # a notice's buttons are pressed, never typed by number
    assert "/say ١" in to(typed, "sara")[0] and not to(typed, "u1")
    taken = sim.send("sara", choice="claim:1")  # its "Take" button
    assert "استلمت الإحالة #1" in to(taken, "sara")[0] and to(taken, "u1")
    sim.close()
