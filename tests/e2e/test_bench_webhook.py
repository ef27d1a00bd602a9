"""bench/webhook_latency.py runs: at a tiny size it starts both bots, loads them and prints its
table. No figure is checked; the machine running the tests decides those."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_webhook_latency_bench_prints_its_table(tmp_path):
    result = subprocess.run(
        [sys.executable, "bench/webhook_latency.py", "--rates", "5", "--seconds", "1",
         "--updates", "20", "--posters", "2"],
        cwd=ROOT, env={**os.environ, "PYTHONUTF8": "1", "TMPDIR": str(tmp_path)},
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "Wasl beside a bare python-telegram-bot echo bot" in out
    for row in ("paced 5/s", "saturated ×2", "Wasl", "echo"):
        assert row in out, out
    assert "200→reply p99" in out and "Wasl/echo =" in out, out
