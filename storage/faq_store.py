"""What the bot answered (counts for the board) and the answers staff taught it
(UnitOfWork.faq). Takes and returns plain values, never ORM rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import models as m


@dataclass(frozen=True)
class Taught:
    id: int
    questions: tuple[str, ...]
    answer: str
    language: str
    created_by: str
    case_id: int | None
    created_at: datetime


# the answers' version: how many were taught, how many of them removed
VERSION = (func.count(m.TaughtAnswer.id), func.count(m.TaughtAnswer.removed_at))


def _taught(row: m.TaughtAnswer) -> Taught:
    return Taught(row.id, tuple(row.questions), row.answer, row.language, row.created_by,
                  row.case_id, row.created_at)


class FaqStore:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.known_version: tuple[int, int] | None = None  # read already in this transaction

    async def count(self, topic: str | None, outcome: str, channel: str, language: str,
                    at: datetime) -> None:
        self.session.add(m.FaqAnswer(at=at, topic=topic, outcome=outcome, channel=channel,
                                     language=language))

    async def outcomes(self, since: datetime, until: datetime) -> dict[str, int]:
        """How many questions were answered, helped, passed on or not found in a period."""
        stmt = (select(m.FaqAnswer.outcome, func.count()).where(
            m.FaqAnswer.at >= since, m.FaqAnswer.at < until).group_by(m.FaqAnswer.outcome))
        return {outcome: n for outcome, n in (await self.session.execute(stmt)).all()}

    async def teach(self, questions: list[str], answer: str, language: str, created_by: str,
                    at: datetime, case_id: int | None = None) -> int:
        self.known_version = None
        row = m.TaughtAnswer(questions=questions, answer=answer, language=language,
                             created_by=created_by, case_id=case_id, created_at=at)
        self.session.add(row)
        await self.session.flush()
        return row.id

    async def taught(self) -> list[Taught]:
        """The answers in use, oldest first."""
        stmt = select(m.TaughtAnswer).where(m.TaughtAnswer.removed_at.is_(None)).order_by(
            m.TaughtAnswer.id)
        return [_taught(r) for r in (await self.session.execute(stmt)).scalars()]

    async def remove(self, number: int, at: datetime) -> Taught | None:
        """Marks one removed (it stops answering); None if there is no such answer in use."""
        self.known_version = None
        row = await self.session.get(m.TaughtAnswer, number)
        if row is None:
            return None
        done = await self.session.execute(  # two removals at once: one of them removes it
            update(m.TaughtAnswer).where(m.TaughtAnswer.id == number,
                                         m.TaughtAnswer.removed_at.is_(None))
            .values(removed_at=at).execution_options(synchronize_session=False))
        return _taught(row) if done.rowcount else None

    async def edit(self, number: int, at: datetime, questions: list[str] | None = None,
                   answer: str | None = None) -> Taught | None:
        """Another answer or other phrasings for one in use: the old one is marked removed
        and a new one takes its place (a running bot sees the change; the old words stay
        on record). None if there is no such answer in use."""
        old = await self.remove(number, at)
        if old is None:
            return None
        row = m.TaughtAnswer(questions=questions or list(old.questions),
                             answer=answer or old.answer, language=old.language,
                             created_by=old.created_by, case_id=old.case_id, created_at=at)
        self.session.add(row)
        await self.session.flush()
        return _taught(row)

    async def version(self) -> tuple[int, int]:
        """Changes whenever an answer is taught or removed: (rows, removed). Read once per
        transaction (`UnitOfWork.first_look` reads it with the staff check)."""
        if self.known_version is None:
            rows, removed = (await self.session.execute(select(*VERSION))).one()
            self.known_version = (rows, removed)
        return self.known_version

