"""`wasl report` as a person runs it: a real process on a seeded database."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook

from storage.db import Database
from tests.e2e.sim import ROOT, wasl
from tests.integration.test_report import seed


@pytest.fixture
def db(db_url) -> str:
    async def prepare() -> None:
        database = Database(db_url)
        try:
            await database.migrate()
            await seed(database)
        finally:
            await database.close()

    asyncio.run(prepare())
    return db_url


def run(*args: str, db: str) -> subprocess.CompletedProcess:
    """Like `wasl()`, but a failure is returned, not raised."""
    return subprocess.run([sys.executable, "-m", "bot", *args, "--db", db], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, env={**os.environ, "PYTHONUTF8": "1"})


def test_every_format_is_written_and_printed(db, tmp_path):
    out = tmp_path / "board"
    done = wasl("report", "--from", "2026-01-01", "--to", "2026-02-28", "--out", str(out), "--lang", "en",
                db=db, profile="bakkah")
    stem = out / "wasl-report-2026-01-01-2026-02-28"
    expected = [Path(f"{stem}.{ext}") for ext in ("xlsx", "csv", "png")]
    assert [Path(line) for line in done.stdout.split()] == expected
    assert all(p.stat().st_size > 0 for p in expected)
    book = load_workbook(expected[0])
    assert book.sheetnames == ["Summary", "Services", "Satisfaction", "Comments", "Months"]
    summary = [[c.value for c in row] for row in book["Summary"].iter_rows()]
    assert ["Requests received", 7] in summary
    assert expected[1].read_bytes().startswith(b"\xef\xbb\xbf")
    assert expected[2].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = expected[1].read_text(encoding="utf-8-sig")
    assert "Sara" not in text and "نورة" not in text


def test_arabic_workbook_with_staff_figures(db, tmp_path):
    done = wasl("report", "--from", "2026-01-01", "--to", "2026-02-28", "--format", "xlsx", "--by-staff",
                "--out", str(tmp_path / "ar"), db=db, profile="bakkah")
    (path,) = [Path(line) for line in done.stdout.split()]
    assert path.suffix == ".xlsx" and list((tmp_path / "ar").iterdir()) == [path]
    book = load_workbook(path)
    assert len(book.sheetnames) == 6
    assert all(ws.sheet_view.rightToLeft for ws in book.worksheets)
    names = [row[0].value for row in book.worksheets[5].iter_rows()]
    assert "نورة العتيبي" in names and "Sara Alharbi" in names


def test_an_empty_period_still_gives_every_file(db, tmp_path):
    done = wasl("report", "--from", "2024-05-01", "--to", "2024-05-31", "--out", str(tmp_path / "may"), db=db)
    assert len(done.stdout.split()) == 3 and len(list((tmp_path / "may").iterdir())) == 3


@pytest.mark.parametrize("args,message", [
    (["--from", "2026-13-01", "--to", "2026-03-31"], "--from: '2026-13-01' is not a date"),
    (["--from", "2026-01-01", "--to", "31/03/2026"], "--to: '31/03/2026' is not a date"),
    (["--from", "2026-04-01", "--to", "2026-03-31"], "--from 2026-04-01 is after --to 2026-03-31"),
    (["--from", "2026-01-01", "--to", "2026-03-31", "--format", "pdf"], "--format is one of"),
    (["--from", "2026-01-01", "--to", "2026-03-31", "--lang", "fr"], "--lang is one of"),
])
def test_bad_arguments_are_explained(tmp_path, args, message):
    db = f"sqlite+aiosqlite:///{tmp_path}/wasl.db"
    done = run("report", *args, "--out", str(tmp_path / "out"), db=db)
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert not (tmp_path / "out").exists()
