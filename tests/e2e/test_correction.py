"""The right to correction end to end, over the real `wasl simulate` process: a beneficiary
corrects their IBAN in their own words and signs the correction; while it waits for staff
the new IBAN is sealed in the database file like every other; an admin approves it; the
request then holds the new IBAN under a renewed acknowledgment whose hash matches, with the
old fingerprint in its history; and the beneficiary's copy of their data (its PDF opened)
shows the corrected answer and the request about their data."""

from __future__ import annotations

import json

from tests.e2e.sim import NAME, Simulator, apply, staff_add, wasl
from tests.e2e.test_my_data import _files, _text
from tests.e2e.test_sealed_at_rest import on_disk

NEW_IBAN = "SA7380000000608010167520"


def test_an_iban_corrected_in_words_approved_by_an_admin(tmp_path, monkeypatch):
    monkeypatch.delenv("WASL_DATA_KEY", raising=False)  # the embedded default, its key file
    db = f"sqlite:///{tmp_path}/data/wasl.db"
    staff_add(db, ("sim:huda", "admin", "Huda Alqahtani"))
    sim = Simulator(db)
    try:
        number = apply(sim, "u1", tmp_path)
        listed = sim.send("u1", text="الآيبان حقي غلط، أبي أعدل بياناتي")
        assert listed[-1]["expects"] == {"field": "correction", "kind": "choice"}, listed
        assert "iban" in [c["id"] for c in listed[-1]["choices"]]
        asked = sim.send("u1", choice="iban")
        assert asked[-1]["expects"] == {"field": "iban", "kind": "iban"}
        wrong = sim.send("u1", text="SA00 1234")  # checked like the intake: said, asked again
        assert wrong[-1]["expects"] == {"field": "iban", "kind": "iban"}
        confirm = sim.send("u1", text="SA73 8000 0000 6080 1016 7520")
        assert "7520" in confirm[-1]["text"] and confirm[-1]["expects"]["kind"] == "confirm"
        sim.send("u1", choice="confirm")
        sent = sim.send("u1", text=NAME)
        to_admin = [r for r in sent if r.get("to") == "huda"]
        assert to_admin and number in to_admin[0]["text"], sent
        assert any("أُرسل التصحيح (طلب البيانات #1)" in r["text"] for r in sent if r.get("to") != "huda")
        assert NEW_IBAN.encode() not in on_disk(tmp_path / "data")  # the waiting value is sealed

        shown = sim.send("huda", text="/privacy")
        listed = shown[0]["text"]
        assert f"{number} · " in listed and f"SA0380000000608010167519 → {NEW_IBAN}" in listed
        approved = sim.send("huda", choice="privacy:approve 1")
        told = [r for r in approved if r.get("to") != "huda"]
        assert told and "اعتُمد تصحيح الطلب" in told[0]["text"]
        assert NEW_IBAN not in told[0]["text"]  # an IBAN is masked in a chat

        copy = _files(sim.send("u1", text="/mydata"))
        text = _text(copy[".pdf"])
        for seen in (NEW_IBAN, "طلباتك بشأن بياناتك", "تصحيح", "مقبول"):
            assert seen in text, seen
        facts = json.loads(copy[".json"].read_text(encoding="utf-8"))
        [request] = facts["requests"]
        assert request["answers"]["iban"] == NEW_IBAN
        assert request["acknowledgment"]["version"] == "wasl-ack-2/ar+c1"
        assert [s["status"] for s in request["history"]] == ["submitted", "corrected"]
        [data_request] = facts["data_requests"]
        assert data_request["correction"]["outcome"] == "approved"
    finally:
        sim.close()
    [record] = json.loads(wasl("requests", "list", "--json", db=db).stdout)
    assert record["fields"]["iban"] == NEW_IBAN and record["acknowledgment"]["hash_matches"]
    audit = json.loads(wasl("audit", "--json", db=db).stdout)
    assert [(e["actor"], e["action"], e["allowed"]) for e in audit
            if e["action"] in ("correction_asked", "privacy_correct")] == [
        ("sim:u1", "correction_asked", True), ("sim:huda", "privacy_correct", True)]
