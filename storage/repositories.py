"""Repositories over one session. They flush but never commit: the unit of work
(storage.db.Database.unit_of_work) commits once per inbound event."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from conversations.base import CaseView, RequestView, StaffView
from storage import models as m


def _request_view(row: m.Request) -> RequestView:
    return RequestView(
        id=row.id, number=row.number, service=row.service, status=row.status,
        decision_due=row.decision_due, needs_info=row.needs_info, created_at=row.created_at,
        confirmed_at=row.confirmed_at, fields=row.fields, channel=row.channel,
        language=row.language, beneficiary_id=row.beneficiary_id,
    )


def _case_view(row: m.Case) -> CaseView:
    return CaseView(
        id=row.id, status=row.status, reason=row.reason, detail=row.detail,
        beneficiary_id=row.beneficiary_id, channel=row.channel, created_at=row.created_at,
        claimed_by=row.claimed_by, audience=row.audience,
    )


def _staff_view(row: m.Staff) -> StaffView:
    return StaffView(id=row.id, channel=row.channel, sender_id=row.sender_id, name=row.name,
                     role=row.role, current_case_id=row.current_case_id)


class UnitOfWork:
    """The repositories of one transaction."""

    def __init__(self, session: AsyncSession, *, sqlite: bool) -> None:
        self.session = session
        self._insert = sqlite_insert if sqlite else pg_insert

    # processed events -------------------------------------------------
    async def first_time(self, channel: str, event_id: str, now: datetime) -> bool:
        """Record a platform update id; False if it was already processed."""
        stmt = self._insert(m.ProcessedEvent).values(channel=channel, event_id=event_id, at=now)
        result = await self.session.execute(stmt.on_conflict_do_nothing())
        return result.rowcount == 1

    # conversations ----------------------------------------------------
    async def conversation(self, channel: str, sender_id: str) -> m.Conversation | None:
        """The chat's state, locked for this transaction (PostgreSQL) so that two
        processes handling the same person take turns; SQLite serialises writers anyway."""
        stmt = select(m.Conversation).where(
            m.Conversation.channel == channel, m.Conversation.sender_id == sender_id
        ).with_for_update()
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def save_conversation(
        self, channel: str, sender_id: str, beneficiary_id: int | None,
        state: dict[str, Any], now: datetime,
    ) -> None:
        row = await self.conversation(channel, sender_id)
        if row is None:
            row = m.Conversation(channel=channel, sender_id=sender_id)
            self.session.add(row)
        row.beneficiary_id, row.state, row.updated_at = beneficiary_id, state, now
        await self.session.flush()

    async def forget_conversation(self, channel: str, sender_id: str) -> None:
        await self.session.execute(
            delete(m.Conversation).where(
                m.Conversation.channel == channel, m.Conversation.sender_id == sender_id
            )
        )

    # beneficiaries and consent ----------------------------------------
    async def beneficiary_id(self, channel: str, sender_id: str) -> int | None:
        stmt = select(m.Identity.beneficiary_id).where(
            m.Identity.channel == channel, m.Identity.sender_id == sender_id
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def add_beneficiary(
        self, channel: str, sender_id: str, chat_id: str, language: str, now: datetime
    ) -> int:
        person = m.Beneficiary(language=language, created_at=now)
        self.session.add(person)
        await self.session.flush()
        self.session.add(
            m.Identity(beneficiary_id=person.id, channel=channel, sender_id=sender_id,
                       chat_id=chat_id, created_at=now)
        )
        await self.session.flush()
        return person.id

    async def set_language(self, beneficiary_id: int, language: str) -> None:
        await self.session.execute(
            update(m.Beneficiary).where(m.Beneficiary.id == beneficiary_id).values(language=language)
        )

    async def add_consent(
        self, beneficiary_id: int, purpose: str, text_version: str, language: str,
        channel: str, now: datetime,
    ) -> None:
        self.session.add(
            m.Consent(beneficiary_id=beneficiary_id, purpose=purpose, text_version=text_version,
                      language=language, channel=channel, given_at=now)
        )
        await self.session.flush()

    async def consents(self, beneficiary_id: int) -> list[m.Consent]:
        stmt = select(m.Consent).where(m.Consent.beneficiary_id == beneficiary_id)
        return list((await self.session.execute(stmt)).scalars())

    # requests ---------------------------------------------------------
    async def next_value(self, name: str) -> int:
        """Atomically increment a named counter (an upsert, so two processes never collide)."""
        stmt = self._insert(m.Counter).values(name=name, value=1)
        stmt = stmt.on_conflict_do_update(
            index_elements=[m.Counter.name], set_={"value": m.Counter.value + 1}
        ).returning(m.Counter.value)
        return (await self.session.execute(stmt)).scalar_one()

    async def add_request(self, row: m.Request, ack: m.Acknowledgment, actor: str) -> m.Request:
        self.session.add(row)
        await self.session.flush()
        ack.request_id = row.id
        self.session.add(ack)
        self.session.add(
            m.RequestEvent(request_id=row.id, status=row.status, actor=actor, at=row.created_at)
        )
        await self.session.flush()
        return row

    async def requests_of(self, beneficiary_id: int) -> list[RequestView]:
        stmt = (
            select(m.Request).where(m.Request.beneficiary_id == beneficiary_id)
            .order_by(m.Request.id)
        )
        return [_request_view(r) for r in (await self.session.execute(stmt)).scalars()]

    async def all_requests(self) -> list[RequestView]:
        stmt = select(m.Request).order_by(m.Request.id)
        return [_request_view(r) for r in (await self.session.execute(stmt)).scalars()]

    async def request_by_number(self, number: str) -> RequestView | None:
        stmt = select(m.Request).where(m.Request.number == number)
        row = (await self.session.execute(stmt)).scalar_one_or_none()
        return _request_view(row) if row else None

    async def acknowledgment(self, request_id: int) -> m.Acknowledgment | None:
        stmt = select(m.Acknowledgment).where(m.Acknowledgment.request_id == request_id)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def request_events(self, request_id: int) -> list[m.RequestEvent]:
        stmt = (
            select(m.RequestEvent).where(m.RequestEvent.request_id == request_id)
            .order_by(m.RequestEvent.id)
        )
        return list((await self.session.execute(stmt)).scalars())

    async def sender_of(self, beneficiary_id: int) -> tuple[str, str] | None:
        """The first channel identity of a beneficiary: (channel, sender id)."""
        stmt = (
            select(m.Identity.channel, m.Identity.sender_id)
            .where(m.Identity.beneficiary_id == beneficiary_id).order_by(m.Identity.id).limit(1)
        )
        row = (await self.session.execute(stmt)).first()
        return (row[0], row[1]) if row else None

    # documents --------------------------------------------------------
    async def add_document(self, row: m.Document) -> None:
        self.session.add(row)
        await self.session.flush()

    async def attach_documents(self, beneficiary_id: int, sha256s: list[str], request_id: int) -> None:
        """Link a draft's documents to the submitted request."""
        if sha256s:
            await self.session.execute(
                update(m.Document)
                .where(m.Document.beneficiary_id == beneficiary_id,
                       m.Document.request_id.is_(None), m.Document.sha256.in_(sha256s))
                .values(request_id=request_id)
            )
        await self.discard_draft_documents(beneficiary_id)

    async def discard_draft_documents(self, beneficiary_id: int) -> None:
        """Files of an abandoned or replaced answer are not kept (collect the minimum)."""
        await self.session.execute(
            delete(m.Document).where(
                m.Document.beneficiary_id == beneficiary_id, m.Document.request_id.is_(None)
            )
        )

    async def documents_of(self, request_id: int) -> list[m.Document]:
        stmt = select(m.Document).where(m.Document.request_id == request_id).order_by(m.Document.id)
        return list((await self.session.execute(stmt)).scalars())

    # cases and the conversation log -----------------------------------
    async def open_case(self, beneficiary_id: int) -> CaseView | None:
        stmt = select(m.Case).where(
            m.Case.beneficiary_id == beneficiary_id, m.Case.status != "closed"
        )
        row = (await self.session.execute(stmt)).scalars().first()
        return _case_view(row) if row else None

    async def add_case(self, row: m.Case, transcript: list[m.Message]) -> CaseView:
        self.session.add(row)
        await self.session.flush()
        for msg in transcript:
            self.session.add(
                m.CaseMessage(case_id=row.id, direction=msg.direction, text=msg.text, at=msg.at)
            )
        await self.session.flush()
        return _case_view(row)

    async def cases(self) -> list[CaseView]:
        stmt = select(m.Case).order_by(m.Case.id)
        return [_case_view(r) for r in (await self.session.execute(stmt)).scalars()]

    async def case_messages(self, case_id: int) -> list[m.CaseMessage]:
        stmt = select(m.CaseMessage).where(m.CaseMessage.case_id == case_id).order_by(m.CaseMessage.id)
        return list((await self.session.execute(stmt)).scalars())

    async def log_message(self, beneficiary_id: int, direction: str, text: str, at: datetime) -> None:
        self.session.add(m.Message(beneficiary_id=beneficiary_id, direction=direction, text=text, at=at))

    async def recent_messages(self, beneficiary_id: int, since: datetime,
                              limit: int = 60) -> list[m.Message]:
        stmt = (
            select(m.Message)
            .where(m.Message.beneficiary_id == beneficiary_id, m.Message.at >= since)
            .order_by(m.Message.id.desc()).limit(limit)
        )
        return list(reversed(list((await self.session.execute(stmt)).scalars())))

    async def forget_messages(self, beneficiary_id: int, since: datetime) -> None:
        await self.session.execute(
            delete(m.Message).where(m.Message.beneficiary_id == beneficiary_id,
                                    m.Message.at >= since))

    # outbox -----------------------------------------------------------
    async def enqueue(
        self, channel: str, chat_id: str, payload: dict[str, Any], now: datetime, priority: int = 0
    ) -> None:
        self.session.add(
            m.OutboxMessage(channel=channel, chat_id=chat_id, payload=payload, priority=priority,
                            status="pending", attempts=0, available_at=now, created_at=now,
                            has_choices=bool(payload.get("choices")), case_id=payload.get("case_id"))
        )

    async def pending(self, channel: str, now: datetime, limit: int = 100,
                      exclude: set[str] | frozenset[str] = frozenset()) -> list[m.OutboxMessage]:
        """Rows due now, by priority then age; a chat with an earlier row still waiting
        (not yet due) is left out so that its messages never overtake each other."""
        earlier = aliased(m.OutboxMessage)
        still_waiting = (
            select(earlier.id).where(
                earlier.status == "pending", earlier.channel == channel,
                earlier.chat_id == m.OutboxMessage.chat_id, earlier.id < m.OutboxMessage.id,
                earlier.available_at > now,
            ).exists()
        )
        stmt = (
            select(m.OutboxMessage)
            .where(m.OutboxMessage.status == "pending", m.OutboxMessage.channel == channel,
                   m.OutboxMessage.available_at <= now, ~still_waiting)
            .order_by(m.OutboxMessage.priority, m.OutboxMessage.id).limit(limit)
        )
        if exclude:
            stmt = stmt.where(m.OutboxMessage.chat_id.not_in(exclude))
        return list((await self.session.execute(stmt)).scalars())

    async def mark_sent(self, ids: list[int], now: datetime, ref: str | None = None) -> None:
        """Delivered: the text is dropped (it may hold personal data), the record stays,
        with the platform's id of the message (`ref`)."""
        if ids:
            await self.session.execute(
                update(m.OutboxMessage).where(m.OutboxMessage.id.in_(ids))
                .values(status="sent", sent_at=now, attempts=m.OutboxMessage.attempts + 1,
                        payload={}, message_ref=ref)
            )

    async def postpone(self, row_id: int, until: datetime, why: str) -> None:
        await self.session.execute(
            update(m.OutboxMessage).where(m.OutboxMessage.id == row_id)
            .values(available_at=until, error=why[:500]))

    async def mark_unreachable(self, channel: str, chat_id: str, why: str) -> None:
        """The person blocked the bot: stop sending to this chat and note it on them."""
        await self.session.execute(
            update(m.OutboxMessage)
            .where(m.OutboxMessage.channel == channel, m.OutboxMessage.chat_id == chat_id,
                   m.OutboxMessage.status == "pending")
            .values(status="unreachable", error=why[:500], payload={}))
        people = select(m.Identity.beneficiary_id).where(
            m.Identity.channel == channel, m.Identity.chat_id == chat_id)
        await self.session.execute(
            update(m.Beneficiary).where(m.Beneficiary.id.in_(people)).values(unreachable=True))

    async def latest_keyboard(self, channel: str, chat_id: str) -> str | None:
        """The platform id of the last message with choices sent to a chat."""
        stmt = (
            select(m.OutboxMessage.message_ref)
            .where(m.OutboxMessage.channel == channel, m.OutboxMessage.chat_id == chat_id,
                   m.OutboxMessage.has_choices.is_(True), m.OutboxMessage.status == "sent")
            .order_by(m.OutboxMessage.id.desc()).limit(1))
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def mark_failed(self, row_id: int, error: str, retry_at: datetime | None) -> None:
        """A failed attempt: retried at `retry_at`, or given up when it is None."""
        await self.session.execute(
            update(m.OutboxMessage).where(m.OutboxMessage.id == row_id).values(
                attempts=m.OutboxMessage.attempts + 1, error=error[:500],
                status="pending" if retry_at else "failed",
                available_at=retry_at or m.OutboxMessage.available_at))

    # staff, the desk and the audit log ----------------------------------
    async def staff_member(self, channel: str, sender_id: str) -> StaffView | None:
        stmt = select(m.Staff).where(m.Staff.channel == channel, m.Staff.sender_id == sender_id,
                                     m.Staff.active.is_(True))
        row = (await self.session.execute(stmt)).scalar_one_or_none()
        return _staff_view(row) if row else None

    async def staff_by_id(self, staff_id: int) -> StaffView | None:
        row = await self.session.get(m.Staff, staff_id)
        return _staff_view(row) if row and row.active else None

    async def staff_by_name(self, name: str) -> list[StaffView]:
        stmt = select(m.Staff).where(m.Staff.active.is_(True)).order_by(m.Staff.id)
        rows = (await self.session.execute(stmt)).scalars()
        return [_staff_view(r) for r in rows if r.name.casefold() == name.casefold()
                or r.name.split()[0].casefold() == name.casefold()]

    async def all_staff(self) -> list[StaffView]:
        stmt = select(m.Staff).where(m.Staff.active.is_(True)).order_by(m.Staff.id)
        return [_staff_view(r) for r in (await self.session.execute(stmt)).scalars()]

    async def add_staff(self, channel: str, sender_id: str, name: str, role: str,
                        now: datetime) -> StaffView:
        stmt = select(m.Staff).where(m.Staff.channel == channel, m.Staff.sender_id == sender_id)
        row = (await self.session.execute(stmt)).scalar_one_or_none()
        if row is None:
            row = m.Staff(channel=channel, sender_id=sender_id, created_at=now)
            self.session.add(row)
        row.name, row.role, row.active = name, role, True
        await self.session.flush()
        return _staff_view(row)

    async def remove_staff(self, channel: str, sender_id: str) -> bool:
        result = await self.session.execute(
            update(m.Staff).where(m.Staff.channel == channel, m.Staff.sender_id == sender_id,
                                  m.Staff.active.is_(True)).values(active=False))
        return result.rowcount == 1

    async def set_current_case(self, staff_id: int, case_id: int | None) -> None:
        await self.session.execute(
            update(m.Staff).where(m.Staff.id == staff_id).values(current_case_id=case_id))

    async def queue(self, role: str = "admin") -> list[CaseView]:
        """Cases waiting, oldest first: researchers see theirs, admins see all."""
        stmt = select(m.Case).where(m.Case.status == "queued")
        if role != "admin":
            stmt = stmt.where(m.Case.audience == "researcher")
        stmt = stmt.order_by(m.Case.created_at, m.Case.id)
        return [_case_view(r) for r in (await self.session.execute(stmt)).scalars()]

    async def case(self, case_id: int) -> CaseView | None:
        row = await self.session.get(m.Case, case_id)
        return _case_view(row) if row else None

    async def claim(self, case_id: int, staff_id: int, now: datetime) -> bool:
        """Take a queued case; a single UPDATE, so two researchers can never both win."""
        result = await self.session.execute(
            update(m.Case).where(m.Case.id == case_id, m.Case.status == "queued")
            .values(status="claimed", claimed_by=staff_id, claimed_at=now))
        return result.rowcount == 1

    async def release(self, case_id: int, staff_id: int) -> bool:
        result = await self.session.execute(
            update(m.Case).where(m.Case.id == case_id, m.Case.claimed_by == staff_id,
                                 m.Case.status == "claimed")
            .values(status="queued", claimed_by=None, claimed_at=None))
        return result.rowcount == 1

    async def transfer(self, case_id: int, from_id: int, to_id: int, now: datetime) -> bool:
        result = await self.session.execute(
            update(m.Case).where(m.Case.id == case_id, m.Case.claimed_by == from_id,
                                 m.Case.status == "claimed")
            .values(claimed_by=to_id, claimed_at=now))
        return result.rowcount == 1

    async def close_case(self, case_id: int, staff_id: int, now: datetime) -> bool:
        result = await self.session.execute(
            update(m.Case).where(m.Case.id == case_id, m.Case.claimed_by == staff_id,
                                 m.Case.status == "claimed")
            .values(status="closed", closed_at=now))
        return result.rowcount == 1

    async def first_reply(self, case_id: int, now: datetime) -> None:
        await self.session.execute(
            update(m.Case).where(m.Case.id == case_id, m.Case.first_reply_at.is_(None))
            .values(first_reply_at=now))

    async def add_case_entry(self, row: m.CaseMessage) -> None:
        self.session.add(row)
        await self.session.flush()

    async def cases_of(self, beneficiary_id: int) -> list[CaseView]:
        stmt = select(m.Case).where(m.Case.beneficiary_id == beneficiary_id).order_by(m.Case.id)
        return [_case_view(r) for r in (await self.session.execute(stmt)).scalars()]

    async def identity_of(self, beneficiary_id: int) -> m.Identity | None:
        stmt = (select(m.Identity).where(m.Identity.beneficiary_id == beneficiary_id)
                .order_by(m.Identity.id).limit(1))
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def beneficiary(self, beneficiary_id: int) -> m.Beneficiary | None:
        return await self.session.get(m.Beneficiary, beneficiary_id)

    async def document(self, document_id: int) -> m.Document | None:
        return await self.session.get(m.Document, document_id)

    async def set_request_status(self, request_id: int, status: str, actor: str,
                                 note: str | None, now: datetime) -> None:
        values: dict = {"status": status, "updated_at": now}
        if status == "needs_info":
            values["needs_info"] = note
        await self.session.execute(update(m.Request).where(m.Request.id == request_id).values(**values))
        self.session.add(m.RequestEvent(request_id=request_id, status=status, actor=actor,
                                        note=note, at=now))
        await self.session.flush()

    async def set_topic(self, case_id: int, topic_id: str) -> None:
        await self.session.execute(update(m.Case).where(m.Case.id == case_id).values(topic_id=topic_id))

    async def case_by_topic(self, topic_id: str) -> CaseView | None:
        stmt = select(m.Case).where(m.Case.topic_id == topic_id)
        row = (await self.session.execute(stmt)).scalars().first()
        return _case_view(row) if row else None

    async def case_by_message(self, channel: str, chat_id: str, message_ref: str) -> CaseView | None:
        """The case a staff-group message was about (for replies in a group without topics)."""
        stmt = select(m.OutboxMessage.case_id).where(
            m.OutboxMessage.channel == channel, m.OutboxMessage.chat_id == chat_id,
            m.OutboxMessage.message_ref == message_ref, m.OutboxMessage.case_id.is_not(None))
        case_id = (await self.session.execute(stmt.limit(1))).scalar_one_or_none()
        return await self.case(case_id) if case_id else None

    async def audit(self, entry: m.AuditEntry) -> None:
        self.session.add(entry)

    async def audit_entries(self, *, actor: str | None = None, action: str | None = None,
                            case_id: int | None = None, since: datetime | None = None,
                            limit: int = 1000) -> list[m.AuditEntry]:
        stmt = select(m.AuditEntry).order_by(m.AuditEntry.id)
        if actor:
            stmt = stmt.where(m.AuditEntry.actor == actor)
        if action:
            stmt = stmt.where(m.AuditEntry.action == action)
        if case_id is not None:
            stmt = stmt.where(m.AuditEntry.case_id == case_id)
        if since is not None:
            stmt = stmt.where(m.AuditEntry.at >= since)
        return list((await self.session.execute(stmt.limit(limit))).scalars())

    # -- surveys and feedback ----------------------------------------------------------
    async def add_survey(self, row: m.Survey) -> m.Survey | None:
        """A new survey, unless its subject already has one (one per service or case)."""
        existing = await self.session.execute(
            select(m.Survey.id).where(m.Survey.subject == row.subject))
        if existing.scalar_one_or_none() is not None:
            return None
        self.session.add(row)
        await self.session.flush()
        return row

    async def survey(self, survey_id: int) -> m.Survey | None:
        return await self.session.get(m.Survey, survey_id)

    async def answer_survey(self, survey_id: int, answer: m.SurveyAnswer, now: datetime) -> bool:
        """Store an answer if the survey is still open; one conditional UPDATE, so a survey
        is answered once. An anonymous answer leaves no time on the survey either."""
        result = await self.session.execute(
            update(m.Survey).where(m.Survey.id == survey_id, m.Survey.status == "sent")
            .values(status="answered", remind_at=None,
                    answered_at=None if answer.anonymous else now))
        if result.rowcount != 1:
            return False
        self.session.add(answer)
        await self.session.flush()
        return True

    async def due_surveys(self, now: datetime, *, expiring: bool, limit: int = 100) -> list[m.Survey]:
        """Open surveys whose reminder (or expiry) is due, locked so that two bot processes
        never send the same reminder (rows another process holds are skipped)."""
        due = m.Survey.expires_at <= now if expiring else m.Survey.remind_at <= now
        stmt = (select(m.Survey).where(m.Survey.status == "sent", due)
                .order_by(m.Survey.id).limit(limit).with_for_update(skip_locked=True))
        return list((await self.session.execute(stmt)).scalars())

    async def surveys_of(self, beneficiary_id: int) -> list[m.Survey]:
        stmt = select(m.Survey).where(m.Survey.beneficiary_id == beneficiary_id).order_by(m.Survey.id)
        return list((await self.session.execute(stmt)).scalars())

    async def survey_answers(self) -> list[m.SurveyAnswer]:
        stmt = select(m.SurveyAnswer).order_by(m.SurveyAnswer.id)
        return list((await self.session.execute(stmt)).scalars())

    async def add_feedback(self, row: m.Feedback) -> None:
        self.session.add(row)
        await self.session.flush()

    async def feedback(self) -> list[m.Feedback]:
        stmt = select(m.Feedback).order_by(m.Feedback.id)
        return list((await self.session.execute(stmt)).scalars())

    async def admins(self) -> list[StaffView]:
        return [s for s in await self.all_staff() if s.role == "admin"]


sqlite_insert = sqlite.insert
pg_insert = postgresql.insert
