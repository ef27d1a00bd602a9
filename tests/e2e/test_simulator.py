"""`wasl simulate` and the listing commands, as real processes."""

from __future__ import annotations

import json
import re

import pytest

from bot import profiles
from tests.e2e.sim import NAME, Simulator, answer, complete_intake, wasl


def consent(sim: Simulator, sender: str) -> None:
    first = sim.send(sender, text="السلام عليكم")
    assert first[-1]["expects"] == {"field": "consent", "kind": "choice"}
    assert sim.send(sender, choice="accept")[-1]["expects"] == {"field": "menu", "kind": "choice"}


@pytest.mark.parametrize("name", profiles.shipped())
def test_every_shipped_profile_completes_an_intake(name, tmp_path):
    db = f"sqlite:///{tmp_path}/wasl.db"
    profile = profiles.load(name)
    sim = Simulator(db, name)
    for n, service in enumerate(profile.services, 1):
        sender = f"9665000000{n}"
        consent(sim, sender)
        replies = complete_intake(sim, sender, profile, service.key, tmp_path)
        number = f"{profile.request_prefix}-"
        decider = "الجهة المختصة" if profile.decision.body == "competent_body" else "لجنة البحث"
        assert number in replies[0]["text"] and decider in replies[0]["text"]
    sim.close()
    listed = json.loads(wasl("requests", "list", "--json", db=db, profile=name).stdout)
    assert [r["service"] for r in listed] == [s.key for s in profile.services]
    assert all(r["acknowledgment"]["hash_matches"] for r in listed)


def test_the_simulator_contract(db_url):
    sim = Simulator(db_url)
    welcome = sim.send("u1", text="مرحبا")
    assert len(welcome) == 1 and welcome[0]["to"] == "u1"
    assert welcome[0]["choices"][0] == {"id": "accept", "label": "✅ أوافق"}
    assert welcome[0]["expects"] == {"field": "consent", "kind": "choice"}
    assert "جمعية بكة للخدمات الإنسانية" in welcome[0]["text"]
    menu = sim.send("u1", text="١")  # an Arabic-Indic digit picks the first choice
    assert [c["id"] for c in menu[-1]["choices"]] == ["new_request", "status", "human", "language",
                                                      "feedback", "contact", "privacy", "volunteer"]
    services = sim.send("u1", text="طلب دعم جديد")  # the label without its emoji
    assert services[-1]["expects"] == {"field": "service", "kind": "choice"}
    question = sim.send("u1", text="سله غذائيه")  # taa marbuta typed as haa
    assert question[-1]["expects"] == {"field": "full_name", "kind": "text"}
    status = sim.send("u1", text="/status")
    assert status[0]["expects"] is None and status[0]["choices"] == []
    assert status[-1]["expects"] == {"field": "menu", "kind": "choice"}
    sim.send("u1", choice="language")
    english = sim.send("u1", choice="en")
    assert "How can we help you?" in english[-1]["text"]
    sim.send("u1", choice="new_request")
    sim.send("u1", choice="continue")  # the draft begun in Arabic is still there
    sim.send("u1", text="محمد عبدالله أحمد الغامدي")
    sim.send("u1", text="1234567897")
    asked = sim.send("u1", text="1449/1/1")
    assert asked[-1]["expects"] == {"field": "mobile", "kind": "phone"}
    shared = sim.send("u1", contact="+966501234567")  # a shared contact answers a phone field
    assert shared[-1]["expects"] == {"field": "district", "kind": "text"}
    sim.close()


def test_bad_lines_are_reported_and_the_run_goes_on(db_url):
    sim = Simulator(db_url)
    assert sim.raw("{not json")[0]["line"] == 1
    assert sim.raw('{"text": "no sender"}') == [
        {"error": 'an event needs "from": the sender id', "line": 2}]
    assert sim.raw('{"from": "u1", "file": {"path": "/nonexistent.png"}}') == [
        {"error": "file not found: /nonexistent.png", "line": 3}]
    assert sim.send("u1", text="hello")[0]["expects"]["field"] == "consent"
    sim.close()


def test_kill_and_restart_resumes_at_the_same_question(tmp_path, db_url):
    profile = profiles.load("bakkah")
    service = profile.service("food_basket")
    sim = Simulator(db_url)
    consent(sim, "u7")
    sim.send("u7", choice="new_request")
    sim.send("u7", choice="food_basket")
    sim.send("u7", text=NAME)
    asked = sim.send("u7", text="1234567897")
    assert asked[-1]["expects"]["field"] == "id_expiry"
    sim.kill()  # no goodbye: the process dies between two events

    sim = Simulator(db_url)
    again = sim.send("u7", text="/start")
    assert again[-1]["expects"] == {"field": "resume", "kind": "choice"}
    assert "2" in again[-1]["text"]  # two answers already given
    same = sim.send("u7", choice="continue")
    assert same[-1]["expects"] == {"field": "id_expiry", "kind": "date"}
    sim.kill()

    sim = Simulator(db_url)  # after a restart, the next answer is simply taken
    nxt = sim.send("u7", **answer(service.field("id_expiry"), tmp_path))
    assert nxt[-1]["expects"]["field"] == "mobile"
    for key in ["mobile", "district", "family_size", "sensitive_consent", "monthly_income",
                "income_source", "id_photo"]:
        said = {"choice": "accept"} if key == "sensitive_consent" else answer(service.field(key), tmp_path)
        assert sim.send("u7", **said)[-1]["expects"]["field"] != key
    sim.send("u7", choice="confirm")
    done = sim.send("u7", text=NAME)
    number = re.search(r"BK-\d{4}-\d{6}", done[0]["text"]).group(0)
    sim.close()

    shown = json.loads(wasl("requests", "show", number, "--json", db=db_url).stdout)
    assert shown["fields"]["full_name"] == NAME and shown["fields"]["national_id"] == "1234567897"
    assert shown["beneficiary"] == "u7" and shown["acknowledgment"]["hash_matches"]
    assert shown["acknowledgment"]["text_version"] == "wasl-ack-2/ar"


def test_escalation_is_listed_in_cases(db_url):
    sim = Simulator(db_url)
    consent(sim, "u9")
    opened = sim.send("u9", choice="human")
    assert re.search(r"\d", opened[0]["text"])
    sim.send("u9", text="أبي أسأل عن موعد التوزيع")
    sim.close()
    [case] = json.loads(wasl("cases", "list", "--json", db=db_url).stdout)
    assert case["status"] == "queued" and case["reason"] == "asked"
    assert case["beneficiary"] == "u9"
    assert any(m["text"] == "أبي أسأل عن موعد التوزيع" for m in case["messages"])


def test_profiles_list_json(tmp_path):
    listed = json.loads(wasl("profiles", "list", "--json", db=f"sqlite:///{tmp_path}/x.db").stdout)
    assert [p["name"] for p in listed] == profiles.shipped()
    bakkah = next(p for p in listed if p["name"] == "bakkah")
    assert bakkah["association"]["ar"] == "جمعية بكة للخدمات الإنسانية"
    assert "financial_aid" in [s["key"] for s in bakkah["services"]]
