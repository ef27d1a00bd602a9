"""A scratch database for a run of the tests or of a bench: emptied before it is used."""

from __future__ import annotations

from sqlalchemy import text

from storage.db import Database
from storage.models import Base


async def empty(db: Database) -> None:
    """Every table emptied and its ids started again, on PostgreSQL (a SQLite file of a
    run's own is fresh already). Only ever on a database given for that purpose."""
    if db.is_sqlite:
        return
    names = ", ".join(t.name for t in Base.metadata.sorted_tables)
    async with db.engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
