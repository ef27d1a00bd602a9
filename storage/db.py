"""Engine, migrations and the unit of work: one transaction per inbound event."""

from __future__ import annotations

import asyncio
import contextlib
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
    AsyncSessionTransaction,
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
GROUP_MAX = 32  # callers sharing one SQLite turn (and its commit) at most
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


class _Turn:
    """One SQLite write transaction shared by the units of work that waited for it: they
    use its session one at a time (`using`), and all learn the outcome of its commit."""

    def __init__(self) -> None:
        self.open = True  # takes more callers until the last one is done
        self.members = 0  # callers in it: running or waiting to run
        self.dirty = False  # someone's work is in the transaction: the next one's needs a savepoint
        self.using = asyncio.Lock()
        self.lock: asyncio.Lock | None = None  # the process's writer lock, held for the turn
        self.error: BaseException | None = None
        self._done = asyncio.get_running_loop().create_future()
        self.session: AsyncSession | None = None

    async def start(self, session: AsyncSession) -> None:
        self.session = session
        await session.begin()
        await session.connection(execution_options={WRITE: True})

    async def undo(self, savepoint: AsyncSessionTransaction | None) -> None:
        """A caller's work failed: back to its savepoint or, when nothing else was in the
        transaction, roll it back and begin again for those still to come."""
        try:
            if savepoint is not None:
                await savepoint.rollback()
            else:
                await self.session.rollback()
                await self.start(self.session)
        except BaseException as exc:  # the connection itself failed: no one can go on
            self.fail(exc)

    def fail(self, error: BaseException) -> None:
        """No one's work in this turn can be committed; those waiting learn why."""
        if not isinstance(error, Exception):  # cancelled: not an error of the database's
            error = Unavailable("the turn to write was cut short")
        self.open, self.error = False, error
        if not self._done.done():
            self._done.set_exception(error)
            self._done.exception()  # retrieved: callers that gave up raise their own error

    async def finish(self) -> None:
        """Commit for all (roll back when no one's work is in it, or the turn failed)."""
        if self.session is None:  # it never began: everyone in it gave up before their turn
            return
        try:
            if self.error is not None:
                with contextlib.suppress(Exception):
                    await self.session.rollback()
                return
            if self.dirty:
                await self.session.commit()
            else:
                await self.session.rollback()
        except BaseException as exc:
            self.fail(exc)
            raise
        finally:
            await self.session.close()
        self._done.set_result(None)

    async def committed(self) -> None:
        await asyncio.shield(self._done)


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
        self._open: _Turn | None = None  # SQLite: the turn still taking callers, if any

    async def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision (safe to run on every start)."""
        async with self.engine.begin() as conn:
            await conn.run_sync(_upgrade)

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[UnitOfWork]:
        """One transaction: commits once on success, rolls back on any error.

        SQLite allows one writer at a time. Concurrent units of work in one process used to
        race for its lock and lose ("database is locked" after the busy timeout, the event
        dropped), so on SQLite they take turns here, and each turn takes the write lock at
        BEGIN (IMMEDIATE), where the busy timeout covers another process holding it. Those
        that wait for a turn share the next one (`_grouped`): each runs on its own, in a
        savepoint when another ran before it in the transaction, and all commit together, so
        a busy bot pays one commit for several events. Each returns only after that commit:
        what it acknowledges is on disk."""
        try:
            if not self.is_sqlite or _in_unit_of_work.get():  # nested: joins no queue, as before
                async with self._sessions() as session, session.begin():
                    yield UnitOfWork(session, sqlite=self.is_sqlite, keys=self.keys)
            else:
                async with self._grouped() as uow:
                    yield uow
        except OperationalError as exc:  # busy, locked, the server gone: nothing was kept
            # SQLite says what it is ("database is locked") and never quotes data
            raise Unavailable(str(exc.orig) if self.is_sqlite else type(exc.orig).__name__) from exc

    @asynccontextmanager
    async def _grouped(self) -> AsyncIterator[UnitOfWork]:
        """A place in the open turn (a `_Turn`), or a new one; the caller's work runs when
        those before it in the turn are done, and the last to finish commits for all."""
        turn = self._open
        if turn is None or not turn.open or turn.members >= GROUP_MAX:
            turn = self._open = _Turn()
        turn.members += 1
        failed = False
        try:
            try:  # FIFO: the one who opened the turn holds it first
                async with asyncio.timeout(TURN_WAIT):
                    await turn.using.acquire()
            except TimeoutError:  # stuck behind others for too long: let the platform retry
                raise Unavailable("waited too long for a turn to write") from None
            try:
                if turn.error is not None:  # its transaction failed: nothing to join
                    raise Unavailable("the turn to write failed") from turn.error
                if turn.session is None:  # not begun: the first begins it, or the next one
                    await self._take_turn(turn)  # when the first gave up (cancelled, timed out)
                entered = _in_unit_of_work.set(True)
                savepoint = await turn.session.begin_nested() if turn.dirty else None
                try:
                    yield UnitOfWork(turn.session, sqlite=True, keys=self.keys)
                    if savepoint is not None:
                        await savepoint.commit()
                    else:
                        await turn.session.flush()
                    turn.dirty = True
                except BaseException:
                    await turn.undo(savepoint)  # only this caller's work
                    raise
                finally:
                    _in_unit_of_work.reset(entered)
            finally:
                turn.using.release()
        except BaseException:
            failed = True
            raise
        finally:
            turn.members -= 1
            if turn.members == 0:
                await self._end_turn(turn)
            if not failed:
                await turn.committed()  # this caller's work is on disk (or it raises)

    async def _take_turn(self, turn: _Turn) -> None:
        """This process's turn to write to SQLite, waited for at most TURN_WAIT seconds;
        then the transaction, holding SQLite's write lock."""
        lock = self._writer_lock()
        try:
            async with asyncio.timeout(TURN_WAIT):
                await lock.acquire()
        except TimeoutError:  # stuck behind others for too long: let the platform retry
            raise Unavailable("waited too long for a turn to write") from None
        turn.lock = lock
        try:
            await turn.start(self._sessions())
        except BaseException:  # the next caller in the turn tries again
            if turn.session is not None:
                with contextlib.suppress(Exception):
                    await turn.session.close()
            turn.session, turn.lock = None, None
            lock.release()
            raise

    async def _end_turn(self, turn: _Turn) -> None:
        """The last caller is done: commit what the turn holds, tell every caller, and let
        the next turn begin."""
        turn.open = False
        if self._open is turn:
            self._open = None
        try:
            await turn.finish()
        finally:
            if turn.lock is not None:
                turn.lock.release()

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
