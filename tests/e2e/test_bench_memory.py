"""bench/memory.py still runs: a few beneficiaries on SQLite, its table printed, every one
of them given an outbox row (no figure of time or memory is checked here)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_memory_bench_runs_and_prints_its_table():
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "memory.py"),
                           "--beneficiaries", "200"], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Resident memory: the app idle and launching one announcement to everyone" in done.stdout
    assert "launch to all" in done.stdout and "sqlite" in done.stdout
    assert "postgresql" not in done.stdout  # no --pg: SQLite alone
    assert "≠ stored" not in done.stdout  # one outbox row per stored beneficiary
