"""Announcements' storage: the broadcasts, an admin's draft, their copies in the outbox and
who a segment may reach. Takes and returns the views of conversations/broadcast.py
(`BroadcastView`, the composer's `Draft`), never ORM rows, so the handlers never touch the
session (UnitOfWork.broadcasts). How a draft's stage is spelled in the `stage` column is
known here only."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from conversations.base import FileRef
from conversations.broadcast import BroadcastView, Draft, Segment
from storage import models as m

STAGES = ("content", "segment", "value", "confirm")


def broadcast_view(row: m.Broadcast) -> BroadcastView:
    return BroadcastView(
        id=row.id, status=row.status, actor=row.actor, text=row.text,
        document_id=row.document_id, segment=Segment.model_validate(row.segment),
        total=row.total, created_at=row.created_at, language=row.language,
        report_channel=row.report_channel, report_chat=row.report_chat)


def stored_stage(draft: Draft) -> str:
    """The stage column of a draft: its stage, and the awaited field's key with it."""
    return f"value:{draft.field}" if draft.stage == "value" else draft.stage


def _draft(row: m.Broadcast) -> Draft:
    """The typed draft of a row; a stage this code does not know is the segment menu's
    (asked again, nothing lost)."""
    stage, _, key = (row.stage or "").partition(":")
    if stage not in STAGES or (stage == "value" and not key):
        stage, key = "segment", ""
    return Draft(stage=stage, field=key or None, segment=Segment.model_validate(row.segment),
                 text=row.text or "", document_id=row.document_id)


class BroadcastStore:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # -- an admin's draft (one at a time) ----------------------------------------------
    async def open_draft(self, staff_id: int, actor: str, report_channel: str,
                         report_chat: str, language: str, now: datetime) -> None:
        """A new draft for this admin, waiting for its content; the delivery report will
        go to their chat, in their language."""
        self.session.add(m.Broadcast(
            status="draft", stage=stored_stage(Draft()), created_by=staff_id, actor=actor,
            text="", segment={}, created_at=now, report_channel=report_channel,
            report_chat=report_chat, language=language))
        await self.session.flush()

    async def draft_of(self, staff_id: int) -> Draft | None:
        row = await self._draft_row(staff_id)
        return _draft(row) if row else None

    async def save_draft(self, staff_id: int, draft: Draft) -> BroadcastView:
        """Keep what the composer decided; the announcement as it now stands."""
        row = await self._draft_row(staff_id)
        if row is None:
            raise LookupError(f"staff {staff_id} has no draft to save")
        row.stage, row.segment = stored_stage(draft), draft.segment.model_dump()
        row.text, row.document_id = draft.text, draft.document_id
        await self.session.flush()
        return broadcast_view(row)

    async def drop_draft(self, staff_id: int) -> None:
        await self.session.execute(
            update(m.Broadcast).where(m.Broadcast.created_by == staff_id,
                                      m.Broadcast.status == "draft")
            .values(status="cancelled", stage=None))

    async def _draft_row(self, staff_id: int) -> m.Broadcast | None:
        stmt = (select(m.Broadcast).where(m.Broadcast.created_by == staff_id,
                                          m.Broadcast.status == "draft")
                .order_by(m.Broadcast.id.desc()).limit(1)
                .execution_options(populate_existing=True))
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def add_file(self, file: FileRef, now: datetime) -> int:
        """The photo or PDF an announcement carries (no beneficiary's); its document id."""
        row = m.Document(beneficiary_id=None, field_key="broadcast", name=file.name,
                         mime=file.mime, size=file.size, sha256=file.sha256,
                         content=file.content, created_at=now)
        self.session.add(row)
        await self.session.flush()
        return row.id

    # -- broadcasts -----------------------------------------------------------------
    async def add(self, actor: str, text: str, document_id: int | None, segment: Segment,
                  language: str, now: datetime) -> BroadcastView:
        """An announcement composed elsewhere (the shell), to be launched at once."""
        row = m.Broadcast(status="draft", actor=actor, text=text, document_id=document_id,
                          segment=segment.model_dump(), created_at=now, language=language)
        self.session.add(row)
        await self.session.flush()
        return broadcast_view(row)

    async def broadcast(self, number: int) -> BroadcastView | None:
        """One announcement as it is now (read again, whatever this session held)."""
        stmt = (select(m.Broadcast).where(m.Broadcast.id == number)
                .execution_options(populate_existing=True))
        row = (await self.session.execute(stmt)).scalar_one_or_none()
        return broadcast_view(row) if row else None

    async def latest(self, limit: int = 10) -> list[BroadcastView]:
        """The latest announcements, drafts left out, newest first."""
        stmt = select(m.Broadcast).where(m.Broadcast.status != "draft").order_by(
            m.Broadcast.id.desc()).limit(limit)
        return [broadcast_view(r) for r in (await self.session.execute(stmt)).scalars()]

    async def started(self, number: int, total: int, now: datetime) -> None:
        """Its copies are queued: it is sending, to `total` recipients."""
        await self.session.execute(
            update(m.Broadcast).where(m.Broadcast.id == number)
            .values(status="sending", stage=None, total=total, started_at=now))

    async def queue_copies(self, rows: list[dict[str, Any]]) -> None:
        """Outbox rows of a broadcast, written in one statement (executemany): a launch
        gives them a chunk at a time, so that neither the rows nor the statement's
        parameters ever hold every recipient at once."""
        if rows:
            await self.session.execute(insert(m.OutboxMessage), rows)

    async def delivery_counts(self, number: int) -> dict[str, int]:
        stmt = (select(m.OutboxMessage.status, func.count())
                .where(m.OutboxMessage.broadcast_id == number)
                .group_by(m.OutboxMessage.status))
        return {status: n for status, n in (await self.session.execute(stmt)).all()}

    async def recently_sent(self, number: int, since: datetime) -> int:
        stmt = select(func.count()).select_from(m.OutboxMessage).where(
            m.OutboxMessage.broadcast_id == number, m.OutboxMessage.status == "sent",
            m.OutboxMessage.sent_at >= since)
        return int((await self.session.execute(stmt)).scalar_one())

    async def move(self, number: int, from_: tuple[str, ...], to: str, now: datetime) -> bool:
        """Change a broadcast's status if it is in one of `from_`; a cancel withdraws the
        copies still waiting. One conditional UPDATE: two admins cannot both win."""
        values: dict[str, Any] = {"status": to}
        if to in ("done", "cancelled"):
            values["finished_at"] = now
        result = await self.session.execute(
            update(m.Broadcast).where(m.Broadcast.id == number,
                                      m.Broadcast.status.in_(from_)).values(**values))
        if result.rowcount != 1:
            return False
        if to == "cancelled":
            await self.session.execute(
                update(m.OutboxMessage).where(m.OutboxMessage.broadcast_id == number,
                                              m.OutboxMessage.status == "pending")
                .values(status="cancelled", payload={}, error="broadcast cancelled"))
        return True

    async def ended(self) -> list[int]:
        """Broadcasts still sending with no copy left waiting or in flight."""
        left = select(m.OutboxMessage.id).where(
            m.OutboxMessage.broadcast_id == m.Broadcast.id,
            m.OutboxMessage.status.in_(("pending", "sending"))).exists()
        stmt = select(m.Broadcast.id).where(m.Broadcast.status == "sending", ~left)
        return list((await self.session.execute(stmt)).scalars())

    # -- who a segment may reach ----------------------------------------------------------
    async def everyone(self, chunk: int) -> AsyncIterator[list[tuple[int, str, bool, bool, str, str]]]:
        """Every beneficiary with a channel, ascending by id, `chunk` of them at a time:
        (id, language, unreachable, stopped, channel, chat) on their first channel.

        One query read as a stream (a server-side cursor on PostgreSQL, fetches of `chunk`
        rows on SQLite), so that an announcement to 100,000 holds one chunk of them and
        never all; the caller may write between chunks, in the same transaction. Not
        pages by id: identities has no index on beneficiary_id, so each page would read
        every identity again to find the first channels."""
        first = (select(func.min(m.Identity.id).label("id"))
                 .group_by(m.Identity.beneficiary_id).subquery())
        stmt = (select(m.Beneficiary.id, m.Beneficiary.language, m.Beneficiary.unreachable,
                       m.Beneficiary.announcements_off_at, m.Identity.channel, m.Identity.chat_id)
                .join(m.Identity, m.Identity.beneficiary_id == m.Beneficiary.id)
                .join(first, first.c.id == m.Identity.id).order_by(m.Beneficiary.id)
                .execution_options(yield_per=chunk))
        result = await self.session.stream(stmt)
        try:
            async for rows in result.partitions():
                yield [(r[0], r[1], bool(r[2]), r[3] is not None, r[4], r[5]) for r in rows]
        finally:  # a caller that stops early (an error) frees the cursor at once
            await result.close()

    async def with_open_case(self) -> set[int]:
        """Beneficiaries talking with a researcher (or waiting for one) now."""
        stmt = select(m.Case.beneficiary_id).where(m.Case.status != "closed")
        return set((await self.session.execute(stmt)).scalars())
