"""Shared fixtures. Storage tests run on SQLite and, when WASL_TEST_DATABASE_URL
points at PostgreSQL, on PostgreSQL too."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from bot import i18n, profiles
from conversations.base import Context
from conversations.profile import Profile
from storage.db import Database
from storage.models import Base

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday; 13 Jumada II 1448 (Umm al-Qura)
PG_URL = os.environ.get("WASL_TEST_DATABASE_URL")


@pytest.fixture(scope="session")
def translations() -> dict:
    return i18n.load_translations()


@pytest.fixture(scope="session")
def bakkah() -> Profile:
    return profiles.load("bakkah")


@pytest.fixture
def ctx_for(translations):
    def make(profile: Profile, now: datetime = NOW, channel: str = "sim") -> Context:
        return Context(profile, now, channel, translations)
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
    if not db.is_sqlite:
        await _truncate(db)
    yield db
    await db.close()


async def _truncate(db: Database) -> None:
    names = ", ".join(t.name for t in Base.metadata.sorted_tables)
    async with db.engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=_db_params())
def db_url(request, tmp_path) -> str:
    """A database URL for a subprocess (PostgreSQL is emptied first)."""
    url = db_urls(tmp_path)[request.param]
    if request.param == "postgresql":
        import asyncio

        async def reset() -> None:
            db = Database(url)
            await db.migrate()
            await _truncate(db)
            await db.close()

        asyncio.run(reset())
    return url
