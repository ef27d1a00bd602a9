"""Whatever WASL_LOG_LEVEL says, the libraries that log what they handle (SQL parameters,
stored state, bodies, addresses) say nothing below WARNING; Wasl's own logs follow the level."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import logging
from bot.cli import _logging
_logging("DEBUG")
import uvicorn  # its log set-up (dictConfig, its own handlers) comes after ours in `wasl serve`
uvicorn.Config(lambda *a: None, log_level="debug")
for name in ("aiosqlite", "sqlalchemy.engine.Engine", "sqlalchemy.pool", "asyncpg", "alembic",
             "httpcore.http11", "hpack.hpack", "multipart.multipart", "python_multipart",
             "uvicorn.access", "telegram.ext.ExtBot", "aiogram.event"):
    logging.getLogger(name).debug("SECRET-%s 1048213373", name)
    logging.getLogger(name).info("SECRET-%s SA1480000000468201039951", name)
logging.getLogger("sqlalchemy.engine.Engine").setLevel(logging.INFO)  # as echo=True does
logging.getLogger("sqlalchemy.engine.Engine").info("SECRET-echo")
logging.getLogger("sqlalchemy.engine.Engine").warning("a warning still shows")
logging.getLogger("uvicorn.access").warning("an access warning still shows")
logging.getLogger("bot.outbox").debug("our own debug shows")
"""


def test_library_loggers_stay_quiet_at_debug():
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, check=True)
    assert "SECRET" not in done.stderr + done.stdout, done.stderr
    assert "1048213373" not in done.stderr and "SA148000" not in done.stderr
    assert "a warning still shows" in done.stderr
    assert "an access warning still shows" in done.stderr + done.stdout
    assert "our own debug shows" in done.stderr
