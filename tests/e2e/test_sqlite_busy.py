"""An update the database cannot take now is refused (503), not acknowledged and lost:
`wasl serve` on SQLite while another process holds the write lock, then Telegram's
redelivery; and `wasl simulate`, which no platform redelivers, waits and tries again."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest

from tests.e2e.sim import Simulator, wasl
from tests.e2e.telegram_bot import WaslProcess


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path}/wasl.db"
    wasl("db", "upgrade", db=url)
    return url


def hold_write_lock(url: str, seconds: float) -> threading.Thread:
    """Another process's writer (the `sqlite3` shell, a backup) holding the lock a while."""
    ready = threading.Event()

    def hold() -> None:
        other = sqlite3.connect(url.split("///", 1)[1], timeout=10, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        ready.set()
        time.sleep(seconds)
        other.execute("ROLLBACK")
        other.close()

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    assert ready.wait(5)
    return thread


def processed(url: str, update_id: int) -> bool:
    with sqlite3.connect(url.split("///", 1)[1]) as conn:
        return conn.execute("SELECT count(*) FROM processed_events WHERE channel = 'telegram' "
                            "AND event_id = ?", (str(update_id),)).fetchone()[0] == 1


def test_a_webhook_update_is_never_acknowledged_without_being_kept(fake, sqlite_url, tmp_path):
    """While another process holds SQLite's write lock past the busy timeout, an update is
    answered 503 with nothing of it kept, or (if its turn came after the lock was let go)
    200 and processed; never 200 and dropped. Telegram's redelivery is processed once."""
    bot = WaslProcess(fake, sqlite_url, "ptb", "webhook", tmp_path / "bot.log").start()
    try:
        update = fake.text_update(555000777, "السلام عليكم")
        holder = hold_write_lock(sqlite_url, 8)
        first = bot.post(update)
        assert first.status_code in (200, 503)
        if first.status_code == 503:  # nothing was kept: no reply, no dedupe row
            assert not processed(sqlite_url, update["update_id"])
            holder.join()
            assert bot.post(update).status_code == 200  # delivered again
        assert processed(sqlite_url, update["update_id"])
        fake.wait(lambda: fake.sent_to(555000777), timeout=30)
        assert bot.post(update).status_code == 200  # once more: ignored
        time.sleep(1)
        [welcome] = fake.sent_to(555000777)
        assert "السلام عليكم" in welcome["text"]
        holder.join()
    finally:
        bot.stop()


def test_the_simulator_waits_for_the_lock_instead_of_losing_the_line(sqlite_url):
    sim = Simulator(sqlite_url)
    try:
        sim.send("u1", text="مرحبا")
        holder = hold_write_lock(sqlite_url, 6.5)
        accepted = sim.send("u1", choice="accept")  # waited, then handled
        holder.join()
        assert accepted[0]["expects"]["field"] == "menu" and "error" not in accepted[0]
    finally:
        sim.close()


def test_long_polling_keeps_an_update_the_database_could_not_take(fake, sqlite_url, tmp_path):
    """Polling does not move past an update it could not commit, and keeps polling."""
    bot = WaslProcess(fake, sqlite_url, "ptb", "polling", tmp_path / "bot.log").start()
    try:
        holder = hold_write_lock(sqlite_url, 8)
        update_id = fake.push(fake.text_update(555000888, "السلام عليكم"))
        holder.join()
        fake.wait(lambda: fake.sent_to(555000888), timeout=60)
        assert processed(sqlite_url, update_id) and bot.proc.poll() is None
        fake.handled(update_id)  # the offset moved past it once it was kept
        later = fake.push(fake.text_update(555000888, "موافق"))
        fake.handled(later, timeout=30)
        time.sleep(1)
        assert len(fake.sent_to(555000888)) == 2  # the welcome once, then the menu
    finally:
        bot.stop()
