"""Repositories over one session. They flush but never commit: the unit of work
(storage.db.Database.unit_of_work) commits once per inbound event."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, case, delete, func, inspect, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from conversations.base import StaffView
from storage import models as m
from storage.broadcasts_store import BroadcastStore
from storage.crypto import Keyring
from storage.desk_store import DeskStore
from storage.faq_store import VERSION as FAQ_VERSION
from storage.faq_store import FaqStore
from storage.requests_store import RequestStore
from storage.review_store import ReviewStore
from storage.subject_store import SubjectStore
from storage.volunteers_store import VolunteersStore


def _pressable(payload: dict[str, Any]) -> list[str] | None:
    """The ids of the choices a typed number may press: the numbered ones."""
    choices = [c["id"] for c in payload.get("choices") or ()]
    numbered = payload.get("numbered")
    return (choices if numbered is None else choices[:numbered]) or None


# documents kept with a beneficiary that belong to no request and are no draft's answer
NOT_DRAFTS = ("case", "feedback", "needs_info", "data_copy", "voice")


class UnitOfWork:
    """The repositories of one transaction."""

    def __init__(self, session: AsyncSession, *, sqlite: bool, keys: Keyring) -> None:
        self.session = session
        self.keys = keys  # seals personal data, and makes the blind index (storage/crypto.py)
        self.desk = DeskStore(session)  # the staff desk's cases, board, search and history
        self.requests = RequestStore(session, keys)  # support requests, their steps and signature
        self.broadcasts = BroadcastStore(session)  # announcements, drafts and their copies
        self.faq = FaqStore(session)  # what the bot answered, and what staff taught it
        self.review = ReviewStore(session)  # the match, registration, decision and delivery
        self.subject = SubjectStore(session)  # all that is held about one beneficiary
        self.volunteers = VolunteersStore(session)  # volunteers' sign-ups
        self._insert = sqlite_insert if sqlite else pg_insert
        self._reachable: set[int] = set()  # beneficiaries read as reachable in this transaction

    async def first_look(self, channel: str, sender_id: str) -> StaffView | None:
        """What every event needs before anything else, in one statement: whether the
        sender is staff (their active staff row), and the taught answers' version, kept
        for `faq.version` in this transaction."""
        staff = select(m.Staff.id).where(m.Staff.channel == channel,
                                         m.Staff.sender_id == sender_id,
                                         m.Staff.active.is_(True)).scalar_subquery()
        taught = select(FAQ_VERSION[0]).scalar_subquery()
        removed = select(FAQ_VERSION[1]).scalar_subquery()
        staff_id, rows, gone = (await self.session.execute(select(staff, taught, removed))).one()
        self.faq.known_version = (rows, gone)
        return await self.desk.staff_by_id(staff_id) if staff_id is not None else None

    # processed events -------------------------------------------------
    async def first_time(self, channel: str, event_id: str, now: datetime) -> bool:
        """Record a platform update id; False if it was already processed."""
        stmt = self._insert(m.ProcessedEvent).values(channel=channel, event_id=event_id, at=now)
        result = await self.session.execute(stmt.on_conflict_do_nothing())
        return result.rowcount == 1

    # conversations ----------------------------------------------------
    async def conversation(self, channel: str, sender_id: str) -> m.Conversation | None:
        """The chat's state, locked for this transaction (PostgreSQL) so that two
        processes handling the same person take turns; SQLite serialises writers anyway.
        Whether its beneficiary is marked unreachable comes with it (`reachable_again`)."""
        stmt = (select(m.Conversation, m.Beneficiary.unreachable)
                .outerjoin(m.Beneficiary, m.Beneficiary.id == m.Conversation.beneficiary_id)
                .where(m.Conversation.channel == channel, m.Conversation.sender_id == sender_id)
                .with_for_update(of=m.Conversation))
        found = (await self.session.execute(stmt)).one_or_none()
        if found is None:
            return None
        row, unreachable = found
        if row.beneficiary_id is not None and unreachable is False:
            self._reachable.add(row.beneficiary_id)
        return row

    async def save_conversation(
        self, channel: str, sender_id: str, beneficiary_id: int | None,
        state: dict[str, Any], now: datetime, remind_at: datetime | None | bool = False,
        row: m.Conversation | None = None,
    ) -> None:
        """The conversation's state; `remind_at`, when given (False: as it was), is when the
        reminder of an unfinished request is due. `row`: as `conversation` gave it in this
        transaction (not read again), unless it was deleted since."""
        if row is None or inspect(row).deleted or inspect(row).was_deleted:
            row = await self.conversation(channel, sender_id)
        if row is None:
            row = m.Conversation(channel=channel, sender_id=sender_id)
            self.session.add(row)
        row.beneficiary_id, row.state, row.updated_at = beneficiary_id, state, now
        if remind_at is not False:
            row.remind_at = remind_at  # type: ignore[assignment]
        await self.session.flush()

    async def due_reminders(self, now: datetime, limit: int = 100) -> list[m.Conversation]:
        """Conversations whose reminder is due, locked (another process skips them)."""
        stmt = (select(m.Conversation).where(m.Conversation.remind_at <= now)
                .order_by(m.Conversation.remind_at).limit(limit)
                .with_for_update(skip_locked=True))
        return list((await self.session.execute(stmt)).scalars())

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
    async def counter(self, name: str) -> int:
        """A named counter's value, 0 if it was never incremented (read only)."""
        value = await self.session.scalar(select(m.Counter.value).where(m.Counter.name == name))
        return value or 0

    async def next_value(self, name: str) -> int:
        """Atomically increment a named counter (an upsert, so two processes never collide)."""
        stmt = self._insert(m.Counter).values(name=name, value=1)
        stmt = stmt.on_conflict_do_update(
            index_elements=[m.Counter.name], set_={"value": m.Counter.value + 1}
        ).returning(m.Counter.value)
        return (await self.session.execute(stmt)).scalar_one()

    async def sender_of(self, beneficiary_id: int) -> tuple[str, str] | None:
        """The first channel identity of a beneficiary: (channel, sender id)."""
        stmt = (
            select(m.Identity.channel, m.Identity.sender_id)
            .where(m.Identity.beneficiary_id == beneficiary_id).order_by(m.Identity.id).limit(1)
        )
        row = (await self.session.execute(stmt)).first()
        return (row[0], row[1]) if row else None

    # documents --------------------------------------------------------
    async def kept_voices(self, beneficiary_id: int, since: datetime) -> list[m.Document]:
        """Voice notes kept for a researcher to listen to, not yet in a case."""
        stmt = (select(m.Document).where(m.Document.beneficiary_id == beneficiary_id,
                                         m.Document.field_key == "voice",
                                         m.Document.created_at >= since)
                .order_by(m.Document.id))
        return list((await self.session.execute(stmt)).scalars())

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
        """Files of an abandoned or replaced answer are not kept (collect the minimum); a
        file sent in a case, with a suggestion, or the copy of one's data is not a draft's."""
        await self.session.execute(
            delete(m.Document).where(
                m.Document.beneficiary_id == beneficiary_id, m.Document.request_id.is_(None),
                m.Document.field_key.not_in(NOT_DRAFTS))
        )

    async def documents_of(self, request_id: int) -> list[m.Document]:
        stmt = select(m.Document).where(m.Document.request_id == request_id).order_by(m.Document.id)
        return list((await self.session.execute(stmt)).scalars())

    # cases and the conversation log -----------------------------------

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
                            has_choices=bool(payload.get("choices")), case_id=payload.get("case_id"),
                            choice_ids=_pressable(payload))
        )

    async def pending(self, channel: str, now: datetime, limit: int = 100,
                      exclude: set[str] | frozenset[str] = frozenset()) -> list[m.OutboxMessage]:
        """The rows a sender would take now (first of each chat): those whose claim ran out,
        then the pending ones by priority and age (`_due`)."""
        rows: list[m.OutboxMessage] = []
        for status in ("sending", "pending"):
            stmt = _due(status, bool(exclude))
            rows += (await self.session.execute(
                stmt, _due_params(channel, now, limit - len(rows), exclude))).scalars()
            if len(rows) >= limit:
                break
        return rows

    async def take(self, channel: str, now: datetime, limit: int, until: datetime, by: str,
                   exclude: set[str] | frozenset[str] = frozenset(), *,
                   expired: bool = True) -> list[m.OutboxMessage]:
        """Take up to `limit` due rows for this sender until `until`, each status in one
        statement (an UPDATE of the rows a locked SELECT picks, returning them). On
        PostgreSQL rows another process is taking are skipped (FOR UPDATE SKIP LOCKED), so
        no row is taken twice; SQLite serialises writers. `expired`: look for rows whose
        claim ran out as well (a sender that died); a sender does that now and then."""
        rows: list[m.OutboxMessage] = []
        for status in ("sending", "pending") if expired else ("pending",):
            params = _due_params(channel, now, limit - len(rows), exclude)
            params.update(b_until=until, b_by=by[:60])
            got = (await self.session.execute(_take(status, bool(exclude)), params)).scalars()
            rows += sorted(got, key=lambda r: (r.priority, r.id))
            if len(rows) >= limit:
                break
        return rows

    async def give_back(self, ids: list[int]) -> None:
        """Taken but not sent (the platform asked to wait): back to the queue, as they were."""
        if ids:
            await self.session.execute(
                update(m.OutboxMessage).where(m.OutboxMessage.id.in_(ids),
                                              m.OutboxMessage.status == "sending")
                .values(status="pending", claimed_until=None))

    async def reserve(self, channel: str, count: int, per_second: float, now: float,
                      pause: float = 0.0) -> float:
        """Reserve `count` sending slots on the channel's shared clock; the time (epoch
        seconds) of the first. `pause` pushes the clock at least that far ahead (a 429)."""
        await self.session.execute(
            self._insert(m.SendRate).values(channel=channel, next_at=now).on_conflict_do_nothing())
        span = count / per_second
        floor = now + pause
        rate = m.SendRate
        new_next = case((rate.next_at > floor, rate.next_at), else_=floor) + span
        result = await self.session.execute(
            update(rate).where(rate.channel == channel).values(next_at=new_next)
            .returning(rate.next_at))
        return float(result.scalar_one()) - span

    async def mark_sent(self, ids: list[int], now: datetime, ref: str | None = None) -> None:
        """Delivered: the text is dropped (it may hold personal data), the record stays,
        with the platform's id of the message (`ref`)."""
        if ids:
            await self.session.execute(
                update(m.OutboxMessage).where(m.OutboxMessage.id.in_(ids))
                .values(status="sent", sent_at=now, attempts=m.OutboxMessage.attempts + 1,
                        payload={}, message_ref=ref, claimed_until=None)
            )

    async def sent(self, refs: dict[int, str | None], now: datetime) -> None:
        """Several rows delivered, each with its platform id: one statement, run for each."""
        if refs:
            await self.session.execute(_SENT, [{"b_row": row_id, "b_ref": ref, "b_at": now}
                                               for row_id, ref in refs.items()])

    async def postpone(self, row_id: int, until: datetime, why: str) -> None:
        await self.session.execute(
            update(m.OutboxMessage).where(m.OutboxMessage.id == row_id)
            .values(available_at=until, error=why[:500], status="pending", claimed_until=None))

    async def mark_unreachable(self, channel: str, chat_id: str, why: str) -> None:
        """The person blocked the bot: stop sending to this chat and note it on them."""
        await self.session.execute(
            update(m.OutboxMessage)
            .where(m.OutboxMessage.channel == channel, m.OutboxMessage.chat_id == chat_id,
                   m.OutboxMessage.status.in_(("pending", "sending")))
            .values(status="unreachable", error=why[:500], payload={}, claimed_until=None))
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

    async def latest_choices(self, channel: str, chat_id: str) -> list[str]:
        """The choice ids of the last message written to a chat, if it has choices (its
        buttons, which text channels number), so a typed number can press one of them."""
        stmt = (
            select(m.OutboxMessage.choice_ids)
            .where(m.OutboxMessage.channel == channel, m.OutboxMessage.chat_id == chat_id)
            .order_by(m.OutboxMessage.id.desc()).limit(1))
        return list((await self.session.execute(stmt)).scalar_one_or_none() or ())

    async def mark_failed(self, row_id: int, error: str, retry_at: datetime | None) -> None:
        """A failed attempt: retried at `retry_at`, or given up when it is None."""
        await self.session.execute(
            update(m.OutboxMessage).where(m.OutboxMessage.id == row_id).values(
                attempts=m.OutboxMessage.attempts + 1, error=error[:500],
                status="pending" if retry_at else "failed", claimed_until=None,
                available_at=retry_at or m.OutboxMessage.available_at))

    # announcements -------------------------------------------------------
    async def set_announcements(self, beneficiary_id: int, on: bool, now: datetime) -> int:
        """Stop or restart announcements; stopping also withdraws the copies still waiting.
        Returns how many waiting copies were withdrawn."""
        await self.session.execute(
            update(m.Beneficiary).where(m.Beneficiary.id == beneficiary_id)
            .values(announcements_off_at=None if on else now))
        if on:
            return 0
        result = await self.session.execute(
            update(m.OutboxMessage).where(m.OutboxMessage.beneficiary_id == beneficiary_id,
                                          m.OutboxMessage.broadcast_id.is_not(None),
                                          m.OutboxMessage.status == "pending")
            .values(status="cancelled", payload={}, error="stopped announcements"))
        return result.rowcount or 0

    async def reachable_again(self, beneficiary_id: int) -> None:
        """They wrote to us: whatever blocked delivery before is over (nothing to do when
        their conversation, read in this transaction, said they were reachable)."""
        if beneficiary_id in self._reachable:
            return
        await self.session.execute(
            update(m.Beneficiary).where(m.Beneficiary.id == beneficiary_id,
                                        m.Beneficiary.unreachable.is_(True))
            .values(unreachable=False))

    # staff, the desk and the audit log ----------------------------------

    async def identity(self, channel: str, sender_id: str) -> m.Identity | None:
        """The account a conversation belongs to (its chat, where replies go)."""
        stmt = select(m.Identity).where(m.Identity.channel == channel,
                                        m.Identity.sender_id == sender_id)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def identity_of(self, beneficiary_id: int) -> m.Identity | None:
        stmt = (select(m.Identity).where(m.Identity.beneficiary_id == beneficiary_id)
                .order_by(m.Identity.id).limit(1))
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def beneficiary(self, beneficiary_id: int) -> m.Beneficiary | None:
        return await self.session.get(m.Beneficiary, beneficiary_id)

    async def document(self, document_id: int) -> m.Document | None:
        return await self.session.get(m.Document, document_id)

    # channels with a window (WhatsApp's 24 hours) ---------------------------
    async def saw(self, channel: str, chat_id: str, at: datetime) -> None:
        """The person wrote at `at` (webhooks come out of order: only a later time counts)."""
        stmt = self._insert(m.ChatWindow).values(channel=channel, chat_id=chat_id,
                                                 last_inbound_at=at)
        stmt = stmt.on_conflict_do_update(
            index_elements=["channel", "chat_id"],
            set_={"last_inbound_at": func.max(m.ChatWindow.last_inbound_at,
                                              stmt.excluded.last_inbound_at)}
            if self._insert is sqlite_insert else
            {"last_inbound_at": func.greatest(m.ChatWindow.last_inbound_at,
                                              stmt.excluded.last_inbound_at)})
        await self.session.execute(stmt)

    async def last_seen(self, channel: str, chat_id: str) -> datetime | None:
        stmt = select(m.ChatWindow.last_inbound_at).where(m.ChatWindow.channel == channel,
                                                          m.ChatWindow.chat_id == chat_id)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def hold(self, row_id: int, why: str) -> None:
        """A message that cannot go now (the window is closed, no template fits): kept
        until the person writes again."""
        await self.session.execute(update(m.OutboxMessage).where(m.OutboxMessage.id == row_id)
                                   .values(status="held", error=why, claimed_until=None))

    async def release_held(self, channel: str, chat_id: str, now: datetime) -> int:
        """The person wrote again: what was held for them goes, in its order."""
        result = await self.session.execute(
            update(m.OutboxMessage).where(m.OutboxMessage.channel == channel,
                                          m.OutboxMessage.chat_id == chat_id,
                                          m.OutboxMessage.status == "held")
            .values(status="pending", available_at=now))
        return result.rowcount or 0

    async def delivered(self, channel: str, ref: str, state: str, at: datetime,
                        error: str | None = None) -> bool:
        """What the platform says became of a sent message. Reports repeat and come out
        of order: sent < delivered < read, and "failed" only before delivery."""
        rank = {"sent": 1, "delivered": 2, "read": 3}
        row = (await self.session.execute(
            select(m.OutboxMessage).where(m.OutboxMessage.message_ref == ref,
                                          m.OutboxMessage.channel == channel)
            .limit(1).with_for_update())).scalar_one_or_none()
        if row is None:
            return False
        if state == "failed":
            if rank.get(row.delivery or "", 0) < 2:
                row.delivery, row.delivery_at, row.status = "failed", at, "failed"
                row.error = (error or "failed")[:1000]
        elif rank.get(state, 0) > rank.get(row.delivery or "", 0) and row.delivery != "failed":
            row.delivery, row.delivery_at = state, at
        return True

    # the web chat's transcript ------------------------------------------
    async def web_add(self, chat_id: str, direction: str, payload: dict[str, Any],
                      now: datetime, document_id: int | None = None) -> int:
        row = m.WebMessage(chat_id=chat_id, direction=direction, payload=payload,
                           document_id=document_id, created_at=now)
        self.session.add(row)
        await self.session.flush()
        return row.id

    async def web_take_back(self, row_id: int) -> None:
        """A visitor's message the bot could not take after all: out of the transcript."""
        await self.session.execute(delete(m.WebMessage).where(m.WebMessage.id == row_id))

    async def web_messages(self, chat_id: str, after: int = 0,
                           limit: int = 200) -> list[m.WebMessage]:
        """A chat's messages after `after`, oldest first; with after=0, the latest `limit`."""
        stmt = select(m.WebMessage).where(m.WebMessage.chat_id == chat_id,
                                          m.WebMessage.id > after)
        if after:
            rows = await self.session.execute(stmt.order_by(m.WebMessage.id).limit(limit))
            return list(rows.scalars())
        rows = await self.session.execute(stmt.order_by(m.WebMessage.id.desc()).limit(limit))
        return list(reversed(rows.scalars().all()))

    async def web_purge(self, before: datetime) -> int:
        """Delete the web transcript older than `before` (its retention); how many rows."""
        result = await self.session.execute(
            delete(m.WebMessage).where(m.WebMessage.created_at < before))
        return result.rowcount or 0

    async def web_recent_out(self, chat_id: str, limit: int = 10) -> list[m.WebMessage]:
        """The bot's latest messages to a chat, newest first."""
        stmt = (select(m.WebMessage).where(m.WebMessage.chat_id == chat_id,
                                           m.WebMessage.direction == "out")
                .order_by(m.WebMessage.id.desc()).limit(limit))
        return list((await self.session.execute(stmt)).scalars())

    async def web_document(self, chat_id: str, document_id: int) -> m.Document | None:
        """A document the bot sent to this web chat; None for any other."""
        # (the document existed when the message was sent: SQLite may give a deleted
        # document's id to a later one, which this chat was never sent)
        sent = select(m.WebMessage.id).where(m.WebMessage.chat_id == chat_id,
                                             m.WebMessage.direction == "out",
                                             m.WebMessage.document_id == document_id,
                                             m.WebMessage.created_at >= m.Document.created_at
                                             ).exists()
        stmt = select(m.Document).where(m.Document.id == document_id, sent)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def conversation_language(self, channel: str, sender_id: str) -> str | None:
        """The language a chat is spoken in now (read without a lock)."""
        stmt = select(m.Conversation.state).where(m.Conversation.channel == channel,
                                                  m.Conversation.sender_id == sender_id)
        state = (await self.session.execute(stmt)).scalar_one_or_none()
        return state.get("lang") if isinstance(state, dict) else None

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

    async def has_survey(self, subject: str) -> bool:
        """Whether this subject ("case:12", "request:BK-…") was already put to a rating."""
        found = await self.session.execute(select(m.Survey.id).where(m.Survey.subject == subject))
        return found.first() is not None

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


sqlite_insert = sqlite.insert
pg_insert = postgresql.insert


# The sender's statements, built once: they run several times a second, and building an
# ORM statement of this size costs more than the database takes to run it. Their values
# are bound parameters; SQLAlchemy caches what each compiles to.

def _due_params(channel: str, now: datetime, limit: int,
                exclude: set[str] | frozenset[str]) -> dict[str, Any]:
    params: dict[str, Any] = {"b_channel": channel, "b_now": now, "b_limit": limit}
    if exclude:
        params["b_busy"] = sorted(exclude)
    return params


@functools.cache
def _due(status: str, excluding: bool) -> Any:
    """Rows a sender may take now: pending and due, or taken by a sender whose claim
    ran out (it died mid-send); never a row of a chat while a row that goes before it
    (by priority, then age) is still waiting or being sent, so one chat's messages
    never overtake each other and a chat gets one message at a time; never a
    row of a paused or cancelled broadcast, nor an announcement to someone who stopped
    them. One status at a time, so that the pending rows are read in the order of
    ix_outbox_pending and the query stops at its LIMIT instead of sorting them all.
    `excluding`: leave out the chats in the bound list `b_busy` (waiting out their
    interval)."""
    row, earlier = m.OutboxMessage, aliased(m.OutboxMessage)
    channel, now = bindparam("b_channel"), bindparam("b_now")
    takeable = (and_(row.status == "pending", row.available_at <= now) if status == "pending"
                else and_(row.status == "sending", row.claimed_until < now))
    blocked = select(earlier.id).where(
        earlier.channel == channel, earlier.chat_id == row.chat_id,
        or_(earlier.priority < row.priority,
            and_(earlier.priority == row.priority, earlier.id < row.id)),
        earlier.status.in_(("pending", "sending"))).exists()
    live = select(m.Broadcast.id).where(m.Broadcast.id == row.broadcast_id,
                                        m.Broadcast.status == "sending").exists()
    stopped = select(m.Beneficiary.id).where(
        m.Beneficiary.id == row.beneficiary_id,
        m.Beneficiary.announcements_off_at.is_not(None)).exists()
    stmt = (select(row).where(row.channel == channel, takeable, ~blocked)
            .where(or_(row.broadcast_id.is_(None), and_(live, ~stopped)))
            .order_by(row.priority, row.id).limit(bindparam("b_limit")))
    if excluding:
        stmt = stmt.where(row.chat_id.not_in(bindparam("b_busy", expanding=True)))
    return stmt


@functools.cache
def _take(status: str, excluding: bool) -> Any:
    """Claim the rows `_due` picks, locked (FOR UPDATE SKIP LOCKED on PostgreSQL), and
    return them: one statement where a SELECT and an UPDATE were two."""
    row = m.OutboxMessage
    picked = (_due(status, excluding).with_only_columns(row.id)
              .with_for_update(skip_locked=True, of=row))
    return (update(row).where(row.id.in_(picked.scalar_subquery()))
            .values(status="sending", claimed_until=bindparam("b_until"),
                    claimed_by=bindparam("b_by"))
            .returning(row).execution_options(synchronize_session=False))


_outbox = m.OutboxMessage.__table__
# Delivered: the text is dropped (it may hold personal data), the record stays, with the
# platform's id of the message.
_SENT = (update(_outbox).where(_outbox.c.id == bindparam("b_row"))
         .values(status="sent", sent_at=bindparam("b_at"), payload={},
                 message_ref=bindparam("b_ref"), claimed_until=None,
                 attempts=_outbox.c.attempts + 1))
