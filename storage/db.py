"""Engine, migrations and the unit of work: one transaction per inbound event."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from storage.crypto import DIALECT_ATTRIBUTE, Keyring
from storage.errors import Unavailable
from storage.repositories import UnitOfWork

__all__ = ["Database", "Unavailable"]

MIGRATIONS = Path(__file__).parent / "migrations"


def normalise_url(url: str) -> str:
    """Accept plain `sqlite:///` and `postgresql://` URLs and pick the async drivers."""
    parsed = make_url(url)
    if parsed.drivername in ("sqlite", "sqlite+pysqlite"):
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    elif parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    return parsed.render_as_string(hide_password=False)


_in_unit_of_work: ContextVar[bool] = ContextVar("wasl_in_unit_of_work", default=False)
TURN_WAIT = 30.0  # seconds a unit of work waits for its turn on SQLite before giving up
WRITE = "wasl_write"  # connection option: this transaction takes SQLite's write lock at BEGIN


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # The driver's own implicit BEGIN is off; _sqlite_begin says BEGIN itself, so that a unit
    # of work can take the write lock at once (see Database.unit_of_work).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    # what is deleted (a beneficiary's data destroyed) is overwritten, not left in free pages
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(WRITE) else "BEGIN")


class Database:
    """The async engine and session factory for one database URL."""

    def __init__(self, url: str, keys: Keyring | None = None) -> None:
        self.url = normalise_url(url)
        parsed = make_url(self.url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        if self.is_sqlite and parsed.database and parsed.database != ":memory:":
            # Beneficiaries' personal data lives here: readable by the service account only.
            Path(parsed.database).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # hide_parameters: an error message must never carry a beneficiary's data into logs.
        self.engine: AsyncEngine = create_async_engine(self.url, hide_parameters=True)
        # what seals personal data at rest (storage/crypto.py); PostgreSQL without a key
        # refuses here, before anything is written
        self.keys = keys or Keyring.for_database(self.url)
        setattr(self.engine.sync_engine.dialect, DIALECT_ATTRIBUTE, self.keys)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
            event.listen(self.engine.sync_engine, "begin", _sqlite_begin)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._writers: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None

    async def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision (safe to run on every start)."""
        async with self.engine.begin() as conn:
            await conn.run_sync(_upgrade)

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[UnitOfWork]:
        """One transaction: commits once on success, rolls back on any error.

        SQLite allows one writer at a time. Concurrent units of work in one process used to
        race for its lock and lose ("database is locked" after the busy timeout, the event
        dropped), so on SQLite they take turns here, and each takes the write lock at BEGIN
        (IMMEDIATE), where the busy timeout covers another process holding it."""
        try:
            if not self.is_sqlite or _in_unit_of_work.get():  # nested: joins no queue, as before
                async with self._sessions() as session, session.begin():
                    yield UnitOfWork(session, sqlite=self.is_sqlite, keys=self.keys)
            else:
                async with self._turn(), self._sessions() as session, session.begin():
                    await session.connection(execution_options={WRITE: True})
                    yield UnitOfWork(session, sqlite=True, keys=self.keys)
        except OperationalError as exc:  # busy, locked, the server gone: nothing was kept
            # SQLite says what it is ("database is locked") and never quotes data
            raise Unavailable(str(exc.orig) if self.is_sqlite else type(exc.orig).__name__) from exc

    @asynccontextmanager
    async def _turn(self) -> AsyncIterator[None]:
        """This process's turn to write to SQLite, waited for at most TURN_WAIT seconds."""
        lock = self._writer_lock()
        try:
            async with asyncio.timeout(TURN_WAIT):
                await lock.acquire()
        except TimeoutError:  # stuck behind others for too long: let the platform retry
            raise Unavailable("waited too long for a turn to write") from None
        entered = _in_unit_of_work.set(True)
        try:
            yield
        finally:
            _in_unit_of_work.reset(entered)
            lock.release()

    def _writer_lock(self) -> asyncio.Lock:
        """The process's turn-taking lock for this database, made in the running loop."""
        loop = asyncio.get_running_loop()
        if self._writers is None or self._writers[0] is not loop:
            self._writers = (loop, asyncio.Lock())
        return self._writers[1]

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self._sessions() as session:
            yield session

    async def close(self) -> None:
        await self.engine.dispose()


def alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def _upgrade(connection: Connection) -> None:
    command.upgrade(alembic_config(connection), "head")


async def autogenerate(db: Database, message: str) -> None:
    """Write a new migration from the difference between the models and `db` (at head)."""
    await db.migrate()
    async with db.engine.begin() as conn:
        await conn.run_sync(
            lambda c: command.revision(alembic_config(c), message=message, autogenerate=True))
