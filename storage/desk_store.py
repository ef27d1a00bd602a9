"""The staff desk's storage: cases, their conversations, the team's board, search and a
beneficiary's history. Takes and returns the views of conversations/base.py, never ORM
rows, so the desk never touches the session (UnitOfWork.desk)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from conversations.base import CaseEntry, CaseView, StaffView
from storage import models as m
from storage.errors import Unavailable

OPEN = ("queued", "claimed")


def case_view(row: m.Case) -> CaseView:
    return CaseView(
        id=row.id, status=row.status, reason=row.reason, detail=row.detail,
        beneficiary_id=row.beneficiary_id, channel=row.channel, created_at=row.created_at,
        claimed_by=row.claimed_by, audience=row.audience, claimed_at=row.claimed_at,
        closed_at=row.closed_at)


def staff_view(row: m.Staff) -> StaffView:
    return StaffView(id=row.id, channel=row.channel, sender_id=row.sender_id, name=row.name,
                     role=row.role, current_case_id=row.current_case_id, language=row.language,
                     awaiting=row.awaiting)


class DeskStore:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # -- cases -----------------------------------------------------------------
    async def case(self, case_id: int) -> CaseView | None:
        row = await self.session.get(m.Case, case_id)
        return case_view(row) if row else None

    async def entries(self, case_id: int) -> list[CaseEntry]:
        """A case's whole conversation, oldest first, notes included."""
        stmt = select(m.CaseMessage).where(m.CaseMessage.case_id == case_id).order_by(
            m.CaseMessage.at, m.CaseMessage.id)
        return [CaseEntry(r.direction, r.text, r.at, r.staff_id, r.document_id)
                for r in (await self.session.execute(stmt)).scalars()]

    async def open_cases(self, role: str) -> list[tuple[CaseView, datetime | None, datetime | None]]:
        """Every queued or claimed case (admins' follow-ups for admins only), with the time
        of the beneficiary's last message and of the last answer a person gave them (the
        bot's own lines copied into the case are not answers)."""
        last = (select(m.CaseMessage.case_id,
                       func.max(m.CaseMessage.at).filter(m.CaseMessage.direction == "in")
                       .label("last_in"),
                       func.max(m.CaseMessage.at).filter(m.CaseMessage.direction == "out",
                                                         m.CaseMessage.staff_id.is_not(None))
                       .label("last_out"))
                .group_by(m.CaseMessage.case_id).subquery())
        stmt = (select(m.Case, last.c.last_in, last.c.last_out)
                .outerjoin(last, last.c.case_id == m.Case.id)
                .where(m.Case.status.in_(OPEN)).order_by(m.Case.created_at, m.Case.id))
        if role != "admin":
            stmt = stmt.where(m.Case.audience == "researcher")
        return [(case_view(row), last_in, last_out)
                for row, last_in, last_out in (await self.session.execute(stmt)).all()]

    async def topic_of(self, case_id: int) -> str | None:
        """The case's forum topic in the staff group, once it has one."""
        return await self.session.scalar(select(m.Case.topic_id).where(m.Case.id == case_id))

    async def first_unanswered(self, case_id: int, after: datetime) -> datetime | None:
        """The beneficiary's first message after the last answer to them."""
        return await self.session.scalar(select(func.min(m.CaseMessage.at)).where(
            m.CaseMessage.case_id == case_id, m.CaseMessage.direction == "in",
            m.CaseMessage.at > after))

    async def reopen(self, case_id: int, staff_id: int, now: datetime) -> bool:
        """A closed case taken again by this staff member, unless its beneficiary has another
        open case meanwhile (one conversation at a time)."""
        row = await self.session.get(m.Case, case_id)
        if row is None or row.status != "closed":
            return False
        other = await self.session.scalar(select(func.count()).where(
            m.Case.beneficiary_id == row.beneficiary_id, m.Case.status.in_(OPEN)))
        if other:
            return False
        try:
            async with self.session.begin_nested():  # uq_cases_one_open: one open at a time
                result = await self.session.execute(
                    update(m.Case).where(m.Case.id == case_id, m.Case.status == "closed")
                    .values(status="claimed", claimed_by=staff_id, claimed_at=now,
                            closed_at=None))
        except IntegrityError:  # the beneficiary opened another case at this very moment
            return False
        return result.rowcount == 1

    async def cases_of(self, beneficiary_id: int) -> list[CaseView]:
        stmt = select(m.Case).where(m.Case.beneficiary_id == beneficiary_id).order_by(m.Case.id)
        return [case_view(r) for r in (await self.session.execute(stmt)).scalars()]

    # -- moved from the unit of work -------------------------------------------------
    async def open_case(self, beneficiary_id: int) -> CaseView | None:
        stmt = select(m.Case).where(
            m.Case.beneficiary_id == beneficiary_id, m.Case.status != "closed"
        )
        row = (await self.session.execute(stmt)).scalars().first()
        return case_view(row) if row else None

    async def add_case(self, beneficiary_id: int, reason: str, detail: str | None,
                       channel: str, now: datetime, transcript: list[CaseEntry],
                       audience: str = "researcher") -> CaseView:
        """A queued case holding the conversation that led to it. Raises Unavailable when
        the beneficiary's other case was reopened at this very moment: delivered again, the
        event finds that case open and goes into it."""
        row = m.Case(beneficiary_id=beneficiary_id, status="queued", reason=reason,
                     detail=detail, channel=channel, created_at=now, audience=audience)
        try:
            async with self.session.begin_nested():
                self.session.add(row)
                await self.session.flush()
        except IntegrityError as exc:  # uq_cases_one_open
            raise Unavailable("another case of this beneficiary opened meanwhile") from exc
        for entry in transcript:
            self.session.add(m.CaseMessage(case_id=row.id, direction=entry.direction,
                                           text=entry.text, at=entry.at,
                                           document_id=entry.document_id))
        await self.session.flush()
        return case_view(row)

    async def cases(self) -> list[CaseView]:
        stmt = select(m.Case).order_by(m.Case.id)
        return [case_view(r) for r in (await self.session.execute(stmt)).scalars()]

    async def staff_member(self, channel: str, sender_id: str) -> StaffView | None:
        stmt = select(m.Staff).where(m.Staff.channel == channel, m.Staff.sender_id == sender_id,
                                     m.Staff.active.is_(True))
        row = (await self.session.execute(stmt)).scalar_one_or_none()
        return staff_view(row) if row else None

    async def staff_by_id(self, staff_id: int) -> StaffView | None:
        row = await self.session.get(m.Staff, staff_id)
        return staff_view(row) if row and row.active else None

    async def staff_by_name(self, name: str) -> list[StaffView]:
        stmt = select(m.Staff).where(m.Staff.active.is_(True)).order_by(m.Staff.id)
        rows = (await self.session.execute(stmt)).scalars()
        return [staff_view(r) for r in rows if r.name.casefold() == name.casefold()
                or r.name.split()[0].casefold() == name.casefold()]

    async def all_staff(self) -> list[StaffView]:
        stmt = select(m.Staff).where(m.Staff.active.is_(True)).order_by(m.Staff.id)
        return [staff_view(r) for r in (await self.session.execute(stmt)).scalars()]

    async def add_staff(self, channel: str, sender_id: str, name: str, role: str,
                        now: datetime) -> StaffView:
        stmt = select(m.Staff).where(m.Staff.channel == channel, m.Staff.sender_id == sender_id)
        row = (await self.session.execute(stmt)).scalar_one_or_none()
        if row is None:
            row = m.Staff(channel=channel, sender_id=sender_id, created_at=now)
            self.session.add(row)
        row.name, row.role, row.active = name, role, True
        await self.session.flush()
        return staff_view(row)

    async def remove_staff(self, channel: str, sender_id: str) -> bool:
        result = await self.session.execute(
            update(m.Staff).where(m.Staff.channel == channel, m.Staff.sender_id == sender_id,
                                  m.Staff.active.is_(True)).values(active=False))
        return result.rowcount == 1

    async def cases_held_by(self, staff_id: int) -> list[CaseView]:
        """The cases a staff member holds now, by case number."""
        stmt = (select(m.Case).where(m.Case.claimed_by == staff_id, m.Case.status == "claimed")
                .order_by(m.Case.id))
        return [case_view(r) for r in (await self.session.execute(stmt)).scalars()]

    async def set_current_case(self, staff_id: int, case_id: int | None) -> None:
        await self.session.execute(
            update(m.Staff).where(m.Staff.id == staff_id).values(current_case_id=case_id))

    async def queue(self, role: str = "admin") -> list[CaseView]:
        """Cases waiting, oldest first: researchers see theirs, admins see all."""
        stmt = select(m.Case).where(m.Case.status == "queued")
        if role != "admin":
            stmt = stmt.where(m.Case.audience == "researcher")
        stmt = stmt.order_by(m.Case.created_at, m.Case.id)
        return [case_view(r) for r in (await self.session.execute(stmt)).scalars()]

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

    async def add_entry(self, case_id: int, entry: CaseEntry) -> None:
        """One line more in a case's conversation."""
        self.session.add(m.CaseMessage(case_id=case_id, direction=entry.direction,
                                       text=entry.text, at=entry.at, staff_id=entry.staff_id,
                                       document_id=entry.document_id))
        await self.session.flush()

    async def set_topic(self, case_id: int, topic_id: str) -> None:
        await self.session.execute(update(m.Case).where(m.Case.id == case_id).values(topic_id=topic_id))

    async def case_by_topic(self, topic_id: str) -> CaseView | None:
        stmt = select(m.Case).where(m.Case.topic_id == topic_id)
        row = (await self.session.execute(stmt)).scalars().first()
        return case_view(row) if row else None

    async def case_by_message(self, channel: str, chat_id: str, message_ref: str) -> CaseView | None:
        """The case a staff-group message was about (for replies in a group without topics)."""
        stmt = select(m.OutboxMessage.case_id).where(
            m.OutboxMessage.channel == channel, m.OutboxMessage.chat_id == chat_id,
            m.OutboxMessage.message_ref == message_ref, m.OutboxMessage.case_id.is_not(None))
        case_id = (await self.session.execute(stmt.limit(1))).scalar_one_or_none()
        return await self.case(case_id) if case_id else None

    async def admins(self) -> list[StaffView]:
        return await self.team(("admin",))

    # -- staff -----------------------------------------------------------------
    async def set_awaiting(self, staff_id: int, awaiting: str | None) -> None:
        """The command this staff member's next message completes (None: none)."""
        await self.session.execute(update(m.Staff).where(m.Staff.id == staff_id)
                                   .values(awaiting=awaiting))

    async def set_language(self, staff_id: int, language: str) -> None:
        await self.session.execute(
            update(m.Staff).where(m.Staff.id == staff_id).values(language=language))

    async def team(self, roles: tuple[str, ...] = ("researcher", "admin")) -> list[StaffView]:
        """The active staff of these roles."""
        return [s for s in await self.all_staff() if s.role in roles]

    async def former_staff(self, channel: str) -> list[str]:
        """The sender ids of staff members removed from the team on this channel."""
        rows = await self.session.scalars(select(m.Staff.sender_id).where(
            m.Staff.channel == channel, m.Staff.active.is_(False)))
        return list(rows.all())

    async def staff_names(self) -> dict[int, str]:
        rows = await self.session.execute(select(m.Staff.id, m.Staff.name))
        return {staff_id: name for staff_id, name in rows.all()}

