"""The right of access end to end, over the real `wasl simulate` process: a beneficiary who
applied asks for a copy of their data in their own words (Arabic) or by command (English),
and gets a PDF they can read, in their language, and the same facts as JSON; the files are
opened here. The copy is audited, and is not kept in the database in clear."""

from __future__ import annotations

import json
from pathlib import Path

from pypdf import PdfReader

from bot import profiles
from tests.e2e.sim import NAME, Simulator, answer, apply, wasl
from tests.e2e.test_sealed_at_rest import IBAN, NATIONAL_ID, _leaks, on_disk


def _files(replies: list[dict]) -> dict[str, Path]:
    return {Path(r["file"]["name"]).suffix: Path(r["file"]["path"]) for r in replies if "file" in r}


def _text(pdf: Path) -> str:
    return "".join(page.extract_text() for page in PdfReader(pdf).pages)


def test_a_copy_of_ones_data_in_arabic_and_in_english(tmp_path, monkeypatch):
    monkeypatch.delenv("WASL_DATA_KEY", raising=False)  # the embedded default
    db = f"sqlite:///{tmp_path}/data/wasl.db"
    sim = Simulator(db)
    try:
        number = apply(sim, "u1", tmp_path)
        asked = sim.send("u1", text="أبغى نسخة من بياناتي لو سمحت")
        files = _files(asked)
        assert set(files) == {".pdf", ".json"}, asked
        assert asked[-1]["expects"] == {"field": "menu", "kind": "choice"}  # the menu again
        text = _text(files[".pdf"])
        for shown in ("نسخة من بياناتك لدى جمعية بكة للخدمات الإنسانية", "الطلب رقم", number,
                      NAME, NATIONAL_ID, IBAN, "مساعدة مالية", "الإقرار", "الموافقات",
                      "رسائلك مع المساعد الآلي", "سدايا"):
            assert shown in text, shown
        facts = json.loads(files[".json"].read_text(encoding="utf-8"))
        [request] = facts["requests"]
        assert request["number"] == number and request["answers"]["national_id"] == NATIONAL_ID
        assert request["acknowledgment"]["sha256"] and len(request["documents"]) == 3
        assert [c["purpose"] for c in facts["consents"]] == ["beneficiary_services", "sensitive_data"]
        assert any(m["text"] == "أبغى نسخة من بياناتي لو سمحت" for m in facts["conversation_log"])

        sim.send("u2", text="hello", lang="en")
        sim.send("u2", choice="accept")
        english = _files(sim.send("u2", text="/mydata"))
        text = _text(english[".pdf"])
        assert "A copy of your data with Bakkah" in text and "Your consents" in text
        assert NAME not in text and number not in text  # only their own data
        assert json.loads(english[".json"].read_text())["requests"] == []
    finally:
        sim.close()
    audit = json.loads(wasl("audit", "--json", db=db).stdout)
    copies = [e for e in audit if e["action"] == "data_copy"]
    assert [(e["actor"], e["allowed"]) for e in copies] == [("sim:u1", True), ("sim:u2", True)]
    assert _leaks(on_disk(tmp_path / "data")) == []  # the copies are kept sealed, like every document


def test_a_consent_withdrawn_in_words_shows_in_the_copy_and_is_asked_again(tmp_path):
    db = f"sqlite:///{tmp_path}/wasl.db"
    sim = Simulator(db)
    try:
        apply(sim, "u1", tmp_path)
        offered = sim.send("u1", text="أبي أسحب موافقتي")
        assert [c["id"] for c in offered[-1]["choices"]] == [
            "withdraw_announcements", "withdraw_sensitive", "withdraw_all",
            "withdraw_volunteering", "back"]
        assert "الطلبات المقدَّمة فتُدرس كما أُقرّت" in offered[-1]["text"]  # what follows, first
        done = sim.send("u1", choice="withdraw_sensitive")
        assert "تم سحب موافقتك على الأسئلة الصحية والمالية" in done[-1]["text"]
        facts = json.loads(_files(sim.send("u1", text="/mydata"))[".json"].read_text("utf-8"))
        consents = {c["purpose"]: c["withdrawn_at"] for c in facts["consents"]}
        assert consents["beneficiary_services"] is None and consents["sensitive_data"]
        sim.send("u1", choice="back")
        sim.send("u1", choice="new_request")
        asked = sim.send("u1", choice="financial_aid")
        while asked[-1]["expects"]["field"] != "sensitive_consent":  # the consent asked again
            key = asked[-1]["expects"]["field"]
            asked = sim.send("u1", **answer(profiles.load("bakkah").service("financial_aid")
                                            .field(key), tmp_path))
    finally:
        sim.close()
    audit = json.loads(wasl("audit", "--json", db=db).stdout)
    assert [e["detail"] for e in audit if e["action"] == "consent_withdrawn"] == ["sensitive_data (1)"]
