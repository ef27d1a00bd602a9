"""Stopping and restarting announcements over the simulator (SQLite and PostgreSQL): the
conversation stays where it was, and a broadcast skips whoever stopped."""

from __future__ import annotations

import pytest

from tests.e2e.people import broadcasts, outbox
from tests.e2e.sim import wasl


@pytest.fixture
def db(db_url) -> str:
    return db_url


def test_stop_mid_intake_keeps_the_question_and_the_answers(sim, db, tmp_path):
    sim.send("u1", text="السلام عليكم")
    sim.send("u1", choice="accept")
    sim.send("u1", choice="new_request")
    asked = sim.send("u1", choice="food_basket")
    question = asked[-1]["expects"]
    name = sim.send("u1", text="محمد عبدالله أحمد الغامدي")
    following = name[-1]["expects"]
    assert following != question

    stopped = sim.send("u1", text="أيقاف")
    assert "/subscribe" in stopped[0]["text"]
    assert stopped[-1]["expects"] == following  # asked again, the name kept

    sim.send("u2", text="السلام عليكم")
    sim.send("u2", choice="accept")
    notice = tmp_path / "notice.txt"
    notice.write_text("تنبيه: يتغير موعد الدوام في رمضان", encoding="utf-8")
    out = wasl("broadcast", "--text-file", str(notice), "--yes", "--no-watch", db=db).stdout
    assert "Recipients: 1 (left out, stopped or blocked: 1)" in out
    replies = sim.send("u2", text="/menu")  # the simulator delivers after each line
    assert any("رمضان" in r["text"] and "/stop" in r["text"] for r in replies)
    assert [r.chat_id for r in outbox(db, 1)] == ["u2"]
    assert broadcasts(db)[0].status == "done"

    again = sim.send("u1", text="/subscribe")
    assert "/stop" in again[0]["text"] and again[-1]["expects"] == following
