"""The performance benchmarks in bench/ still run, each at a tiny size on SQLite, and print
their tables with the figures that say nothing was lost. No figure of time is checked here:
bench/ measures speed, tests measure behaviour (docs/performance.md has a real run)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def bench(name: str, *args: str, timeout: int = 300) -> str:
    done = subprocess.run([sys.executable, str(ROOT / "bench" / name), *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def rows(table: str) -> list[list[str]]:
    """The body rows of a rich table, cell by cell."""
    return [[cell.strip() for cell in line.strip("│").split("│")]
            for line in table.splitlines() if line.startswith("│")]


def test_the_event_cost_bench_compares_wasl_with_the_bare_loop():
    out = bench("event_cost.py", "--people", "2")
    assert "One event, 2 beneficiaries" in out
    loops = {row[1]: row for row in rows(out)}
    assert set(loops) == {"bare loop", "Wasl, handled", "Wasl, delivered"}
    assert loops["bare loop"][4] == "1.00"  # the ratio's base
    for row in loops.values():
        assert row[0] == "sqlite" and row[2] == "22"  # every event of the script, each run


def test_the_broadcast_bench_counts_duplicates_after_a_kill_and_loses_nothing():
    out = bench("broadcast.py", "--recipients", "60", "--rates", "30,1000")
    body = rows(out)
    assert [row[0] for row in body] == ["30", "1000"]
    for row in body:
        assert row[7] == "0" and row[9] == "0"  # no duplicates, none lost
        assert int(row[5]) <= int(row[0])  # its busiest second is within the limit
    killed = rows(bench("broadcast.py", "--recipients", "300", "--rates", "1000", "--kill"))
    [row] = killed
    assert row[3] == "1" and row[9] == "0"  # one sender killed, nobody missed
    assert int(row[7]) <= int(row[8])  # duplicates: at most one batch
    assert re.fullmatch(r"\d+\.\d", row[4])
