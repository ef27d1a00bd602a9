"""Personal data sealed at rest, end to end: a beneficiary applies for financial aid over the
real `wasl simulate` process (national ID, IBAN, an ID photo, a health answer), and then the
database file as it lies on disk (SQLite, with its write-ahead log) and a `pg_dump` of
PostgreSQL reveal none of them, while staff still read them and find the beneficiary by
their national ID. The embedded default makes its own key file; PostgreSQL without a key
refuses to start; a rotation killed half-way loses nothing and finishes when run again."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot import profiles
from tests.conftest import PG_URL
from tests.e2e.sim import NAME, ROOT, Simulator, complete_intake, staff_add, wasl

NATIONAL_ID = "1234567897"  # what the simulator's beneficiary types, in Arabic-Indic digits
IBAN = "SA0380000000608010167519"
PHOTO = b"\x89PNG\r\n\x1a\n" + b"0" * 64  # the ID photo the simulator sends (tests/e2e/sim.py)
SECRETS = {
    "national ID": [NATIONAL_ID.encode(), "١٢٣٤٥٦٧٨٩٧".encode()],
    "IBAN": [IBAN.encode(), b"SA03 8000 0000 6080 1016 7519"],
    "ID photo": [PHOTO],
    "name": [NAME.encode()],
}


def on_disk(folder: Path) -> bytes:
    """The SQLite database's files (its WAL too), as they lie on disk, without the key."""
    return b"".join(p.read_bytes() for p in folder.glob("wasl.db*") if p.suffix != ".key")


def _leaks(blob: bytes) -> list[str]:
    return [what for what, forms in SECRETS.items() if any(f in blob for f in forms)]


def _apply(db: str, tmp_path: Path) -> str:
    """A beneficiary applies for financial aid; a researcher finds them by national ID and
    reads the request. The request's number."""
    staff_add(db, ("sim:r1", "researcher", "نورة"))
    sim = Simulator(db)
    try:
        sim.send("u1", text="السلام عليكم")
        sim.send("u1", choice="accept")
        done = complete_intake(sim, "u1", profiles.load("bakkah"), "financial_aid", tmp_path)
        number = next(w for r in done for w in r["text"].split() if w.startswith("BK-"))
        number = number.strip("،.;؛")
        found = sim.send("r1", text=f"/find {NATIONAL_ID}")
        assert any(number in r["text"] for r in found), found  # by the blind index
        sim.send("u1", text="أحتاج مساعدة عاجلة لأن رقم هويتي 1234567897")  # typed again
        # the researcher opens the ID photo: the simulator writes the file it sends
        card = sim.send("r1", text=f"/review {number}")
        doc = re.search(r"/doc (\d+)", "\n".join(r["text"] for r in card))
        assert doc, card
        sent = [r for r in sim.send("r1", text=doc.group(0)) if "file" in r]
        assert sent and sent[0]["file"]["mime"] == "image/png", sent
        assert Path(sent[0]["file"]["path"]).read_bytes() == PHOTO
    finally:
        sim.close()
    shown = json.loads(wasl("requests", "show", number, "--json", db=db).stdout)
    assert shown["fields"]["national_id"] == NATIONAL_ID and shown["fields"]["iban"] == IBAN
    return number


def test_the_sqlite_file_reveals_nothing_without_its_key(tmp_path, monkeypatch):
    monkeypatch.delenv("WASL_DATA_KEY", raising=False)  # the embedded default: its key file
    db = f"sqlite:///{tmp_path}/data/wasl.db"
    _apply(db, tmp_path)
    key_file = tmp_path / "data" / "wasl.db.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert _leaks(on_disk(tmp_path / "data")) == []
    # the checks above would see a leak: the same file with the key's sealing undone
    assert _leaks(PHOTO + NATIONAL_ID.encode()) == ["national ID", "ID photo"]


@pytest.mark.skipif(not PG_URL, reason="needs WASL_TEST_DATABASE_URL (PostgreSQL)")
def test_a_postgresql_dump_reveals_nothing_and_no_key_means_no_start(tmp_path):
    from sqlalchemy.engine import make_url

    db = PG_URL
    _apply(db, tmp_path)
    url = make_url(db)
    dump = subprocess.run(["pg_dump", "-h", url.host or "127.0.0.1", "-p", str(url.port or 5432),
                           "-U", url.username or "postgres", url.database],
                          capture_output=True, check=True, timeout=120).stdout
    assert b"CREATE TABLE public.requests" in dump and len(dump) > 10_000
    assert _leaks(dump) == []
    # without a key the bot refuses to start, rather than write in clear
    for args in (["simulate", "--db", db], ["serve", "--db", db, "--port", "0"]):
        refused = subprocess.run([sys.executable, "-m", "bot", *args], cwd=ROOT, input="",
                                 capture_output=True, text=True, timeout=60,
                                 env={**os.environ, "WASL_DATA_KEY": ""})
        assert refused.returncode == 2, refused.stderr
        assert "data key" in refused.stderr and "WASL_DATA_KEY" in refused.stderr
        assert "Traceback" not in refused.stderr


def _many_rows(db: str, count: int) -> None:
    """A database with `count` documents and messages, sealed under its first key."""
    from datetime import UTC, datetime

    from storage import models as m
    from storage.db import Database

    async def go() -> None:
        database = Database(db)
        await database.migrate()
        now = datetime.now(UTC)
        async with database.unit_of_work() as uow:
            person = m.Beneficiary(language="ar", created_at=now)
            uow.session.add(person)
            await uow.session.flush()
            for i in range(count):
                uow.session.add(m.Message(beneficiary_id=person.id, direction="in",
                                          text=f"رسالة {i} رقم هويتي {NATIONAL_ID}", at=now))
                uow.session.add(m.Document(beneficiary_id=person.id, field_key="id_photo",
                                           name=f"{i}.png", mime="image/png", size=len(PHOTO),
                                           sha256=f"{i:064d}", content=PHOTO + str(i).encode(),
                                           created_at=now))
        await database.close()
    asyncio.run(go())


def _census(db: str) -> dict:
    return json.loads(wasl("keys", "status", "--json", db=db).stdout)


def test_a_rotation_killed_half_way_loses_nothing_and_finishes(tmp_path, monkeypatch):
    monkeypatch.delenv("WASL_DATA_KEY", raising=False)
    db = f"sqlite:///{tmp_path}/wasl.db"
    _many_rows(db, 300)
    first = _census(db)
    assert first["tables"]["messages"] == {first["current"]: 300}
    rotate = subprocess.Popen([sys.executable, "-m", "bot", "keys", "rotate", "--db", db,
                               "--batch", "1"], cwd=ROOT, stderr=subprocess.PIPE, text=True,
                              stdout=subprocess.DEVNULL, env={**os.environ, "PYTHONUTF8": "1"})
    assert rotate.stderr is not None
    for line in rotate.stderr:  # a few batches committed, then the power goes
        if "documents: 5 rows sealed again" in line:
            rotate.send_signal(signal.SIGKILL)
            break
    rotate.wait(timeout=30)
    assert rotate.returncode == -signal.SIGKILL
    half = _census(db)
    new, old = half["keys"]
    assert half["current"] == new and old == first["current"]
    documents = half["tables"]["documents"]
    assert documents[new] >= 5 and documents[old] >= 1 and sum(documents.values()) == 300
    _same_rows(db, 300)  # every row opens, under either key
    done = subprocess.run([sys.executable, "-m", "bot", "keys", "rotate", "--keep-key",
                           "--db", db], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    last = _census(db)
    assert last["tables"]["documents"] == {new: 300} and last["tables"]["messages"] == {new: 300}
    _same_rows(db, 300)
    # the old key can go now: the rows open with the new one alone
    key_file = tmp_path / "wasl.db.key"
    lines = [x for x in key_file.read_text().splitlines() if x and not x.startswith("#")]
    key_file.write_text(lines[0] + "\n")
    _same_rows(db, 300)


def _same_rows(db: str, count: int) -> None:
    from sqlalchemy import select

    from storage import models as m
    from storage.db import Database

    async def go() -> None:
        database = Database(db)
        async with database.session() as session:
            texts = (await session.execute(select(m.Message.text).order_by(m.Message.id))).scalars()
            assert list(texts) == [f"رسالة {i} رقم هويتي {NATIONAL_ID}" for i in range(count)]
            blobs = (await session.execute(
                select(m.Document.content).order_by(m.Document.id))).scalars()
            assert list(blobs) == [PHOTO + str(i).encode() for i in range(count)]
        await database.close()
    asyncio.run(go())


def test_a_running_bot_seals_what_was_written_before_encryption(tmp_path, monkeypatch):
    """An association upgrading from a version without encryption: its rows in clear are
    sealed by the bot in the background after the start."""
    monkeypatch.delenv("WASL_DATA_KEY", raising=False)
    db = f"sqlite:///{tmp_path}/wasl.db"
    _many_rows(db, 3)
    import sqlite3

    con = sqlite3.connect(tmp_path / "wasl.db")  # as the old version left them: in clear
    con.execute("UPDATE messages SET text = 'نص قديم ' || id || ' ' || ?", (NATIONAL_ID,))
    con.execute("UPDATE documents SET content = ?", (PHOTO,))
    con.commit()
    con.close()
    assert _census(db)["tables"]["messages"] == {"clear": 3}
    server = subprocess.Popen([sys.executable, "-m", "bot", "serve", "--db", db, "--port", "0"],
                              cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              env={**os.environ, "WASL_SCHEDULER_INTERVAL": "0.2"})
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            tables = _census(db)["tables"]
            if "clear" not in tables["messages"] and "clear" not in tables["documents"]:
                break
            time.sleep(0.3)
        else:
            raise AssertionError(f"still in clear: {tables}")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    con = sqlite3.connect(tmp_path / "wasl.db")
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    assert _leaks((tmp_path / "wasl.db").read_bytes()) == []
