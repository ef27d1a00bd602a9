"""Sealing again: every value not sealed under the newest key (written before encryption, or
under a key since rotated) is opened and sealed under it, a batch per transaction, so that a
pass stopped anywhere (a kill, a restart) loses nothing and the next pass goes on. `wasl keys
rotate` runs a pass at once; the bot runs one in the background after each start."""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, LargeBinary, Table, Text, select, type_coerce, update

from storage import models as m
from storage.crypto import Keyring, SealedBytes, SealedJson, SealedText, stored_key_id

if TYPE_CHECKING:
    from storage.db import Database

log = logging.getLogger(__name__)
SEALED = (SealedText, SealedBytes, SealedJson)


def sealed_columns() -> Iterator[tuple[Table, list[str]]]:
    """Each table with sealed columns, and those columns' names."""
    for table in m.Base.metadata.sorted_tables:
        names = [c.name for c in table.columns if isinstance(c.type, SEALED)]
        if names:
            yield table, names


def _raw(table: Table, name: str) -> Any:
    """The column as stored (still sealed): its type without the sealing."""
    column = table.c[name]
    kind = column.type
    plain = JSON() if isinstance(kind, SealedJson) else (
        LargeBinary() if isinstance(kind, SealedBytes) else Text())
    return type_coerce(column, plain).label(name)


def _open(keys: Keyring, table: Table, name: str, stored: Any) -> Any:
    kind = table.c[name].type
    aad = kind.column.encode()
    if isinstance(kind, SealedBytes):
        return keys.open_bytes(bytes(stored), aad)
    if isinstance(kind, SealedJson):
        if isinstance(stored, str) and stored_key_id(stored) is not None:
            return json.loads(keys.open_text(stored, aad))
        return stored
    return keys.open_text(stored, aad)


@dataclass
class Pass:
    """What one pass did: rows sealed again per table."""

    sealed: Counter[str]
    indexed: int = 0

    @property
    def total(self) -> int:
        return sum(self.sealed.values())


async def reseal(db: Database, national_id: Callable[[dict[str, Any]], str | None],
                 batch: int = 200, progress: Callable[[str, int], None] | None = None) -> Pass:
    """Seal again what is not under the newest key, and give requests written before the
    blind index theirs. `national_id` reads the ID from a request's answers (the profile)."""
    done = Pass(Counter())
    keys = db.keys
    for table, names in sealed_columns():
        last = 0
        while True:
            columns = [_raw(table, n) for n in names]
            if table.name == "requests":
                columns.append(table.c.id_index)
            async with db.unit_of_work() as uow:
                rows = (await uow.session.execute(
                    select(table.c.id, *columns).where(table.c.id > last)
                    .order_by(table.c.id).limit(batch))).all()
                if not rows:
                    break
                for row in rows:
                    last = row.id
                    stale = [n for n in names if getattr(row, n) is not None
                             and stored_key_id(getattr(row, n)) != keys.current]
                    values = {n: _open(keys, table, n, getattr(row, n)) for n in stale}
                    if table.name == "requests" and (stale or row.id_index is None):
                        fields = values.get("fields")
                        if fields is None:
                            fields = _open(keys, table, "fields", row.fields)
                        digits = national_id(fields or {})
                        index = keys.blind(digits) if digits else None
                        if index != row.id_index:
                            values["id_index"] = index
                            done.indexed += 1
                    if values:
                        await uow.session.execute(
                            update(table).where(table.c.id == row.id).values(**values))
                        if stale:
                            done.sealed[table.name] += 1
            if progress is not None:  # (this batch is committed)
                progress(table.name, done.sealed[table.name])
    if done.total or done.indexed:
        log.info("sealed again under key %s: %d rows (%d indexed)", keys.current.hex(),
                 done.total, done.indexed)
    return done


async def census(db: Database) -> dict[str, Counter[str]]:
    """Per table, how many values each key id seals ("clear" for none): what a rotation
    has left to do."""
    found: dict[str, Counter[str]] = {}
    async with db.session() as session:
        for table, names in sealed_columns():
            counts: Counter[str] = Counter()
            result = await session.stream(select(*[_raw(table, n) for n in names]))
            async for row in result:
                for value in row:
                    if value is not None:
                        kid = stored_key_id(value)
                        counts[kid.hex() if kid else "clear"] += 1
            found[table.name] = counts
    return found
