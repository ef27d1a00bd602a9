"""Shared fixtures. Storage tests run on SQLite and, when WASL_TEST_DATABASE_URL
points at PostgreSQL, on PostgreSQL too.

Tests empty the PostgreSQL database they use, so parallel workers (pytest-xdist) must not
share one: each worker uses `<name>_<worker id>` on the same server, created when missing
and dropped at the end of the run."""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bot import i18n, profiles
from conversations.base import Context
from conversations.profile import Profile
from storage.db import Database, normalise_url
from tests.scratch import empty

# Processes the tests start (the simulator, a served bot) run on the real clock: whether
# staff are told of new work would depend on the hour the tests run. They are told
# nothing there; tests/integration/test_desk_work.py tells them on a fixed clock.
os.environ.setdefault("WASL_DESK_NOTICES", "false")
# They answer questions with the lexical search alone: the sentence model costs each process
# a second and a half to load, and most of them test something else. Where the bot's answers
# are under test the model is loaded (tests/unit/test_knowledge.py, test_faq_dialogues.py,
# the desk dialogue teach.yaml, and the end-to-end tests that set WASL_FAQ=model).
os.environ.setdefault("WASL_FAQ", "lexical")
# One data key for every process the tests start, on both engines (PostgreSQL has no default
# key). The embedded default, a key file made beside the SQLite database, is tested where it
# is under test (tests/unit/test_crypto.py, tests/e2e/test_sealed_at_rest.py).
TEST_DATA_KEY = "d2FzbC10ZXN0LWtleS0tbm90LWZvci1wcm9kdWN0aW8="
os.environ.setdefault("WASL_DATA_KEY", TEST_DATA_KEY)

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday; 13 Jumada II 1448 (Umm al-Qura)
WORKER = os.environ.get("PYTEST_XDIST_WORKER")  # gw0, gw1, ... under pytest-xdist


def _worker_url(url: str | None) -> str | None:
    """The database of this worker: the configured one, or `<name>_<worker>` under xdist."""
    if not url or not WORKER:
        return url
    parsed = make_url(url)
    if not parsed.database or not re.fullmatch(r"gw\d+", WORKER):
        raise pytest.UsageError(f"cannot derive a database for worker {WORKER!r} from {url!r}")
    return parsed.set(database=f"{parsed.database}_{WORKER}").render_as_string(hide_password=False)


PG_URL = _worker_url(os.environ.get("WASL_TEST_DATABASE_URL"))


async def _on_server(url: str, create: bool) -> None:
    """Create this worker's database if missing, or drop it, from the server's `postgres`."""
    name = make_url(url).database
    engine = create_async_engine(make_url(normalise_url(url)).set(database="postgres"),
                                 isolation_level="AUTOCOMMIT")  # (no transaction around these)
    try:
        async with engine.connect() as conn:
            if not create:
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            elif not await conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                       {"name": name}):
                await conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await engine.dispose()


def pytest_sessionstart(session: pytest.Session) -> None:
    if PG_URL and WORKER:
        asyncio.run(_on_server(PG_URL, create=True))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if PG_URL and WORKER:  # every test closed its connections; FORCE ends a straggler's
        try:
            asyncio.run(_on_server(PG_URL, create=False))
        except Exception as exc:  # left behind is harmless: the next run empties it
            print(f"could not drop {make_url(PG_URL).database}: {exc}")


@pytest.fixture(scope="session")
def translations() -> dict:
    return i18n.load_translations()


@pytest.fixture(scope="session")
def bakkah() -> Profile:
    return profiles.load("bakkah")


@pytest.fixture
def ctx_for(translations):
    def make(profile: Profile, now: datetime = NOW, channel: str = "sim") -> Context:
        return Context(profile, now, channel, i18n.worded(translations, profile))
    return make


def _db_params() -> list:
    params = [pytest.param("sqlite", id="sqlite")]
    if PG_URL:
        params.append(pytest.param("postgresql", id="postgresql"))
    return params


def db_urls(tmp_path: Path) -> dict[str, str]:
    return {"sqlite": f"sqlite+aiosqlite:///{tmp_path}/wasl.db", "postgresql": PG_URL or ""}


@pytest.fixture(params=_db_params())
async def database(request, tmp_path) -> AsyncIterator[Database]:
    """A migrated, empty database of each configured engine."""
    db = Database(db_urls(tmp_path)[request.param])
    await db.migrate()
    await empty(db)
    yield db
    await db.close()


@pytest.fixture(params=_db_params())
def db_url(request, tmp_path) -> str:
    """A database URL for a subprocess (PostgreSQL is emptied first)."""
    url = db_urls(tmp_path)[request.param]
    if request.param == "postgresql":
        import asyncio

        async def reset() -> None:
            db = Database(url)
            await db.migrate()
            await empty(db)
            await db.close()

        asyncio.run(reset())
    return url
