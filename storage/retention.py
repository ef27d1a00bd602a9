"""Retention: what is held is destroyed once the profile's period for it has passed (the
PDPL: kept no longer than its purpose needs). One pass counts, or destroys, each kind; the
scheduler runs it once a day, `wasl retention` on demand (`--dry-run` only counts)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select

from conversations.profile import Retention
from storage import models as m
from storage.repositories import NOT_DRAFTS, UnitOfWork
from storage.subject_store import COPY_FIELD

FINISHED = ("rejected", "service_delivered", "closed")
WINDOW_DAYS = 2  # a chat's window (24 hours) is closed for a day before it goes
INTAKE_STEPS = ("field", "sensitive", "offer_human", "summary", "edit", "signature", "resume")


@dataclass(frozen=True)
class Kind:
    """One kind of record with its period: its key (the profile's field), and how many."""

    key: str
    days: int
    count: int


async def _count(uow: UnitOfWork, stmt: Any) -> int:
    return await uow.session.scalar(stmt) or 0


async def run(uow: UnitOfWork, periods: Retention, now: datetime, dry_run: bool,
              volunteers_days: int | None = None) -> list[Kind]:
    """Count (dry run) or destroy what has expired, kind by kind (a volunteer's sign-up
    after the profile's `volunteering.keep_days`, when given)."""
    found: list[Kind] = []

    def cutoff(days: int) -> datetime:
        return now - timedelta(days=days)

    # unfinished requests: the draft leaves the conversation, its files go
    stale = cutoff(periods.drafts_days)
    drafts = 0
    rows = (await uow.session.execute(select(m.Conversation).where(
        m.Conversation.updated_at < stale))).scalars().all()
    for conv in rows:
        if not (conv.state or {}).get("draft"):
            continue
        drafts += 1
        if not dry_run:
            state = dict(conv.state)
            state["draft"] = None
            if state.get("step") in INTAKE_STEPS:
                state["step"] = "menu"
            conv.state = state
            if conv.beneficiary_id is not None:
                await uow.session.execute(delete(m.Document).where(
                    m.Document.beneficiary_id == conv.beneficiary_id,
                    m.Document.request_id.is_(None), m.Document.field_key.not_in(NOT_DRAFTS),
                    m.Document.created_at < stale))
    found.append(Kind("drafts_days", periods.drafts_days, drafts))

    async def expire(key: str, days: int, model: Any, *where: Any) -> None:
        count = await _count(uow, select(func.count()).select_from(model).where(*where))
        if count and not dry_run:
            await uow.session.execute(delete(model).where(*where))
        found.append(Kind(key, days, count))

    await expire("messages_days", periods.messages_days, m.Message,
                 m.Message.at < cutoff(periods.messages_days))
    closed_cases = select(m.Case.id).where(m.Case.status == "closed",
                                           m.Case.closed_at < cutoff(periods.transcripts_days))
    await expire("transcripts_days", periods.transcripts_days, m.CaseMessage,
                 m.CaseMessage.case_id.in_(closed_cases))
    await expire("closed_requests_days", periods.closed_requests_days, m.Request,
                 m.Request.status.in_(FINISHED),
                 m.Request.updated_at < cutoff(periods.closed_requests_days))
    await expire("web_chat_days", periods.web_chat_days, m.WebMessage,
                 m.WebMessage.created_at < cutoff(periods.web_chat_days))
    # a voice note no researcher was asked to listen to goes with the unfinished requests
    await expire("voice_days", periods.drafts_days, m.Document, m.Document.field_key == "voice",
                 m.Document.created_at < cutoff(periods.drafts_days))
    await expire("copies_days", periods.copies_days, m.Document,
                 m.Document.field_key == COPY_FIELD,
                 m.Document.created_at < cutoff(periods.copies_days))
    await expire("outbox_days", periods.outbox_days, m.OutboxMessage,
                 m.OutboxMessage.status.in_(("sent", "failed", "cancelled")),
                 m.OutboxMessage.created_at < cutoff(periods.outbox_days))
    # when a WhatsApp chat last wrote: needed for its 24-hour window only
    await expire("chat_windows_days", WINDOW_DAYS, m.ChatWindow,
                 m.ChatWindow.last_inbound_at < cutoff(WINDOW_DAYS))
    if volunteers_days is not None:
        await expire("volunteers_days", volunteers_days, m.Volunteer,
                     m.Volunteer.signed_up_at < cutoff(volunteers_days))
    await expire("audit_days", periods.audit_days, m.AuditEntry,
                 m.AuditEntry.at < cutoff(periods.audit_days))
    if not dry_run:
        await uow.session.flush()
    return found
