"""The simulator and the command line against hostile input: unreadable files, terminal
escapes typed by a beneficiary, personal data in debug logs, a killed sender's lease."""

from __future__ import annotations

import asyncio
import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from bot import profiles
from storage import models as m
from storage.db import Database, Unavailable
from tests.e2e.sim import ROOT, Simulator, answer, staff_add, wasl


class EnvSimulator(Simulator):
    """A `wasl simulate` with extra environment variables, its stderr kept in a file (a
    debug run writes more than a pipe holds) and, when asked, its stdout left unread."""

    def __init__(self, db: str, env: dict[str, str], stderr: Path, read: bool = True) -> None:
        self.stderr_file = stderr.open("w", encoding="utf-8")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "simulate", "--db", db, "--profile", "bakkah"],
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr_file,
            text=True, encoding="utf-8", bufsize=1,
            env={**os.environ, "PYTHONUTF8": "1", **env})
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.line_no = 0
        if read:
            threading.Thread(target=self._pump, daemon=True).start()


def consent(sim: Simulator, sender: str) -> None:
    sim.send(sender, text="السلام عليكم")
    assert sim.send(sender, choice="accept")[-1]["expects"]["field"] == "menu"


# 6. Files the simulator cannot read


def test_unreadable_files_get_an_error_line_and_the_run_goes_on(db_url, tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    sim = Simulator(db_url)
    for path in ["/proc/self/mem", str(tmp_path), "a\u0000b.png", str(fifo), "/nonexistent"]:
        got = sim.send("u1", file={"path": path})
        assert len(got) == 1 and set(got[0]) == {"error", "line"}, got
        assert got[0]["line"] == sim.line_no
    assert sim.send("u1", text="hello")[0]["expects"]["field"] == "consent"
    sim.close()


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def test_a_huge_file_is_not_read_whole_and_is_refused(db_url, tmp_path):
    profile = profiles.load("bakkah")
    service = profile.service("food_basket")
    huge = tmp_path / "huge.png"
    with huge.open("wb") as f:  # a PNG's signature, then 600 MB (sparse on disk)
        f.write(b"\x89PNG\r\n\x1a\n")
        f.truncate(600 * 1024 * 1024)
    sim = Simulator(db_url)
    consent(sim, "u2")
    sim.send("u2", choice="new_request")
    replies = sim.send("u2", choice="food_basket")
    while replies[-1]["expects"]["kind"] != "file":
        key = replies[-1]["expects"]["field"]
        said = {"choice": "accept"} if key == "sensitive_consent" else answer(service.field(key), tmp_path)
        replies = sim.send("u2", **said)
    asked = replies[-1]["expects"]
    refused = sim.send("u2", file={"path": str(huge), "name": "id.png", "mime": "image/png"})
    assert "600.0" in refused[0]["text"] and "10" in refused[0]["text"], refused
    assert refused[-1]["expects"] == asked  # asked again
    assert _peak_rss_mb(sim.proc.pid) < 400  # not the 600 MB
    sim.close()


# 11. Terminal escapes and rich markup in the tables

TYPED = "/queue@\x1b[2K\x1b]0;pwned\x07\x9b31m\u202e\x7f"
MARKUP = "/queue@[bold]loud[/bold]"


# (how a table shows what it holds does not depend on the engine: SQLite alone keeps the
# suite's time; the stores are tested on both in tests/integration)
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_audit_and_staff_tables_show_control_characters_escaped(db_url):
    sim = Simulator(db_url)
    sim.send("u3", text=TYPED)
    sim.send("u3", text=MARKUP)
    consent(sim, "u3\x1b[5m")  # a sender id is typed by someone too (the web chat, the simulator)
    sim.send("u3\x1b[5m", choice="human")
    sim.close()
    staff_add(db_url, ("sim:r1", "researcher", "Noura\x1b[31m [blink]x[/blink]\u202e"))
    env = {"COLUMNS": "400"}
    table = wasl("audit", db=db_url, env=env).stdout
    for raw in ("\x1b", "\x07", "\x9b", "\u202e", "\x7f"):
        assert raw not in table
    # The router strips control characters where they come in; what is left (a bidi
    # override) is shown escaped.
    assert "/queue@31m\\u202e" in table
    assert MARKUP in table  # shown, not interpreted
    staff = wasl("staff", "list", db=db_url, env=env).stdout
    assert "\x1b" not in staff and "\u202e" not in staff
    assert "Noura\\x1b[31m [blink]x[/blink]\\u202e" in staff
    cases = wasl("cases", "list", db=db_url, env=env).stdout
    assert "\x1b" not in cases and "u3\\x1b[5m" in cases
    # JSON stays exact JSON (C1, DEL and bidi controls escaped as \u, which JSON allows)
    printed = wasl("audit", "--json", db=db_url).stdout
    assert not any(c in printed for c in ("\x1b", "\x07", "\x9b", "\u202e", "\x7f"))
    details = [e["detail"] for e in json.loads(printed)]
    assert "/queue@31m\u202e" in details and MARKUP in details


# 12. No personal data in logs, whatever the level


PERSON = {  # none of these is an example the bot itself shows
    "national_id": ("١٠٤٨٢١٣٣٧٣", "1048213373"),
    "iban": ("SA14 8000 0000 4682 0103 9951", "SA1480000000468201039951"),
    "mobile": ("٠٥٥ ٨٧٦ ٥٤٣٢", "0558765432"),
}
PERSON_NAME = "سلمى فهد ناصر القحطاني"


def test_a_debug_run_logs_no_personal_data(db_url, tmp_path):
    service = profiles.load("bakkah").service("financial_aid")
    log = tmp_path / "stderr.txt"
    sim = EnvSimulator(db_url, {"WASL_LOG_LEVEL": "DEBUG"}, log)
    consent(sim, "u4")
    sim.send("u4", choice="new_request")
    replies = sim.send("u4", choice="financial_aid")
    seen = set()
    while replies[-1]["expects"]["kind"] != "confirm":
        key = replies[-1]["expects"]["field"]
        seen.add(service.field(key).kind.value if key != "sensitive_consent" else key)
        if key == "sensitive_consent":
            said = {"choice": "accept"}
        elif key in PERSON:
            said = {"text": PERSON[key][0]}
        elif "name" in key:
            said = {"text": PERSON_NAME}
        else:
            said = answer(service.field(key), tmp_path)
        replies = sim.send("u4", **said)
        assert replies[-1]["expects"]["field"] != key, replies[-1]["text"]
    assert {"national_id", "iban", "phone"} <= seen
    replies = sim.send("u4", choice="confirm")
    if replies[-1]["expects"] == {"field": "signature", "kind": "confirm"}:
        replies = sim.send("u4", text=PERSON_NAME)
    assert "BK-" in replies[0]["text"]
    sim.send("u4", choice="human")  # free text to a researcher, too
    sim.send("u4", text=f"جوالي {PERSON['mobile'][1]} باسم {PERSON_NAME}")
    sim.close()
    stderr = log.read_text(encoding="utf-8")
    assert "DEBUG" in stderr  # the level was applied
    mobile = PERSON["mobile"][1]
    secrets = [v for pair in PERSON.values() for v in pair] + [
        mobile[1:], "+966" + mobile[1:], "966" + mobile[1:], PERSON["iban"][1][4:],
        PERSON_NAME, "القحطاني"]
    for secret in secrets:
        assert secret not in stderr, secret


# 13. A killed simulator's claimed rows go again after WASL_OUTBOX_LEASE


def _sending(db_url: str) -> list[str]:
    async def go() -> list[str]:
        db = Database(db_url)
        try:
            async with db.unit_of_work() as uow:
                rows = await uow.session.execute(
                    select(m.OutboxMessage.chat_id).where(m.OutboxMessage.status == "sending"))
                return [r[0] for r in rows]
        except (OperationalError, Unavailable):  # not migrated yet, or busy this moment
            return []
        finally:
            await db.close()
    return asyncio.run(go())


def test_the_outbox_lease_setting_holds_after_kill_9(db_url, tmp_path):
    env = {"WASL_OUTBOX_LEASE": "2"}
    # Nobody reads its output: once the pipe is full it hangs in a send, rows claimed.
    stuck = EnvSimulator(db_url, env, tmp_path / "a.txt", read=False)
    assert stuck.proc.stdin
    for n in range(300):
        stuck.proc.stdin.write(json.dumps({"from": f"s{n}", "text": "مرحبا"}) + "\n")
    stuck.proc.stdin.flush()
    deadline = time.monotonic() + 60
    claimed: list[str] = []
    seen: list[str] = []
    while time.monotonic() < deadline:  # the same rows still being sent 1.5 s later: hung
        time.sleep(1.5)
        seen, claimed = claimed, _sending(db_url)
        if claimed and claimed == seen:
            break
    assert claimed and claimed == seen, "the simulator never hung in a send"
    stuck.kill()
    killed_at = time.monotonic()

    # With the default lease (60 s) nothing claimed could go again before a minute; with
    # 2 s it goes as soon as the next simulator is up (its start-up alone can take a
    # while on a loaded machine, hence the margin).
    sim = EnvSimulator(db_url, env, tmp_path / "b.txt")
    delivered: set[str] = set()
    while not set(claimed) <= delivered and time.monotonic() - killed_at < 45:
        delivered |= {r["to"] for r in sim.raw("{}") if "to" in r}
        time.sleep(0.3)
    waited = time.monotonic() - killed_at
    assert set(claimed) <= delivered, f"not delivered after {waited:.0f} s"
    sim.close()
