"""Voice notes end to end, over the real `wasl simulate` process: a beneficiary who speaks
rather than types sends a voice note at the menu; it is kept, and when they ask for it a
researcher gets a case with it, opens it (/doc) and hears what was said; in the case, the
next voice note goes to the researcher as it is."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.sim import Simulator, staff_add, wasl

OGG = b"OggS\x00\x02" + b"\x00" * 20 + b"voice of an elderly beneficiary" * 40


def test_a_voice_note_reaches_a_researcher_who_listens(tmp_path):
    db = f"sqlite:///{tmp_path}/wasl.db"
    staff_add(db, ("sim:noura", "researcher", "Noura Alotaibi"))
    voice = tmp_path / "note.ogg"
    voice.write_bytes(OGG)
    sim = Simulator(db)
    try:
        sim.send("u1", text="السلام عليكم")
        sim.send("u1", choice="accept")
        kept = sim.send("u1", voice={"path": str(voice), "mime": "audio/ogg"})
        assert "وصلتنا رسالتك الصوتية وحُفظت" in kept[-1]["text"]
        assert [c["id"] for c in kept[-1]["choices"]] == ["listen", "write"]
        opened = sim.send("u1", choice="listen")
        assert any("رقم إحالتك" in r["text"] for r in opened if r["to"] == "u1")
        queue = sim.send("noura", text="/queue")
        assert "رسالة صوتية للاستماع إليها" in queue[0]["text"]
        claimed = sim.send("noura", text="/claim 1")
        shown = "\n".join(r["text"] for r in claimed if r["to"] == "noura")
        assert "🎤 رسالة صوتية (1 كيلوبايت)" in shown and "/doc 1" in shown, shown
        heard = [r for r in sim.send("noura", text="/doc 1") if "file" in r]
        assert heard and heard[0]["file"]["mime"] == "audio/ogg"
        assert Path(heard[0]["file"]["path"]).read_bytes() == OGG  # the voice itself
        again = sim.send("u1", voice={"path": str(voice)})  # in the case: straight to her
        to_noura = [r for r in again if r["to"] == "noura"]
        assert to_noura and to_noura[0].get("file", {}).get("mime") == "audio/ogg"
    finally:
        sim.close()
    audit = json.loads(wasl("audit", "--json", db=db).stdout)
    assert [(e["actor"], e["allowed"]) for e in audit if e["action"] == "view_document"] == [
        ("sim:noura", True)]  # listening to it is a view of personal data, audited
