"""Answers before a human through real processes with the bundled sentence model: the
simulator's `answered` contract, a question mid-request, the board's counts, and what an
admin teaches with `wasl faq`, on SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest

from tests.e2e.sim import Simulator, wasl

MODEL = {"WASL_FAQ": "model"}


def consent(sim: Simulator, sender: str) -> None:
    sim.send(sender, text="السلام عليكم")
    assert sim.send(sender, choice="accept")[-1]["expects"] == {"field": "menu", "kind": "choice"}


def test_answered_lines_in_the_simulator(db_url):
    sim = Simulator(db_url, env=MODEL)
    consent(sim, "u1")
    # the issue's own example: answered, no case opened
    lines = sim.send("u1", text="كيف اسجل؟ وش الاوراق المطلوبة")
    assert [line.get("answered") for line in lines] == ["apply", None]
    assert [c["id"] for c in lines[-1]["choices"]][:3] == ["faq_yes", "human", "docs:financial_aid"]
    assert [line.get("answered") for line in sim.send("u1", choice="faq_yes")] == [None]
    # asking back which service is not an answer; the service's documents are
    lines = sim.send("u1", text="وش الاوراق المطلوبة")
    assert all("answered" not in line for line in lines)
    lines = sim.send("u1", choice="docs:food_basket")
    assert lines[0]["answered"] == "documents_for.food_basket"
    # out of scope, greetings and thanks carry no `answered`
    for text in ("متى ينزل حساب المواطن", "جزاكم الله خير", "هلا والله"):
        assert all("answered" not in line for line in sim.send("u1", text=text)), text
    # nothing sure enough: a researcher is offered (the `human` choice), and taken
    lines = sim.send("u1", text="ممكن تصلحون لي المكيف الخربان في البيت؟")
    assert all("answered" not in line for line in lines)
    assert "human" in [c["id"] for c in lines[-1]["choices"]]
    sim.send("u1", choice="human")
    sim.close()
    [case] = json.loads(wasl("cases", "list", "--json", db=db_url).stdout)
    assert case["reason"] == "question"
    assert any("المكيف" in m["text"] for m in case["messages"])  # the question is in it


def test_a_question_mid_request_and_the_same_question_again(db_url):
    sim = Simulator(db_url, env=MODEL)
    consent(sim, "u2")
    sim.send("u2", choice="new_request")
    asked = sim.send("u2", choice="food_basket")[-1]
    assert asked["expects"]["field"] == "full_name"
    lines = sim.send("u2", text="متى تفتحون؟")
    assert lines[0]["answered"] in ("hours", "contact")
    assert [c["id"] for c in lines[-2]["choices"]] == ["faq_yes", "human"]
    assert lines[-1]["expects"] == asked["expects"] and lines[-1]["text"] == asked["text"]
    nxt = sim.send("u2", text="نورة سعد عبدالله القحطاني")[-1]
    assert nxt["expects"]["field"] == "national_id"  # the name was taken
    sim.close()


# (SQLite alone: what is taught is stored and read on both engines by the desk dialogue
# tests/integration/desk_dialogues/teach.yaml; this test loads the sentence model, 40 s a run)
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_what_an_admin_teaches_is_answered_and_can_be_removed(db_url):
    added = wasl("faq", "add", "-q", "هل يوجد موقف سيارات عند المقر؟",
                 "--answer", "نعم، توجد مواقف أمام مقر الجمعية.", db=db_url)
    assert "taught.1" in added.stdout
    listed = json.loads(wasl("faq", "list", "--json", db=db_url).stdout)
    assert listed[-1]["id"] == "taught.1" and listed[-1]["by"] == "cli"
    sim = Simulator(db_url, env=MODEL)
    consent(sim, "u3")
    lines = sim.send("u3", text="فيه موقف سيارات عند مقركم؟")
    assert lines[0]["answered"] == "taught.1" and "مواقف أمام مقر" in lines[0]["text"]
    sim.close()
    edited = wasl("faq", "edit", "taught.1", "--answer", "نعم، والمواقف مجانية.", db=db_url)
    assert "taught.2" in edited.stdout
    wasl("faq", "remove", "taught.2", db=db_url)
    sim = Simulator(db_url, env=MODEL)
    lines = sim.send("u3", text="فيه موقف سيارات عند مقركم؟")
    assert all(line.get("answered") not in ("taught.1", "taught.2") for line in lines)
    sim.close()
    actions = [e["action"] for e in json.loads(wasl("audit", "--json", db=db_url).stdout)]
    assert [actions.count(a) for a in ("faq_teach", "faq_edit", "faq_remove")] == [1, 1, 1]


def test_the_report_counts_the_bot_s_answers(db_url, tmp_path):
    sim = Simulator(db_url, env=MODEL)
    consent(sim, "u4")
    sim.send("u4", text="وين مقركم")
    sim.send("u4", choice="faq_yes")
    sim.send("u4", text="كم ياخذ الطلب وقت عشان يردون")
    sim.send("u4", choice="human")
    sim.close()
    from datetime import datetime

    from conversations.base import RIYADH

    today = datetime.now(RIYADH).date().isoformat()
    wasl("report", "--from", today, "--to", today, "--format", "csv", "--out", str(tmp_path),
         "--lang", "en", db=db_url)
    text = next(tmp_path.glob("*.csv")).read_text(encoding="utf-8-sig")
    assert "Questions answered by the bot,2" in text
    assert "Confirmed helpful by the beneficiary,1" in text
    assert "Passed to a researcher (after an answer or none),1" in text
