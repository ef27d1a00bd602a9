"""Volunteers' sign-ups (conversations/volunteer.py): one per beneficiary, its answers
sealed; what the admins' list and export read, and what the "volunteers" segment of an
announcement reaches."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import models as m


@dataclass(frozen=True)
class VolunteerView:
    """One sign-up as the admins' list shows it: never an ORM row."""

    id: int
    beneficiary_id: int
    answers: dict[str, Any]
    language: str
    channel: str
    signed_up_at: datetime


class VolunteersStore:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def sign_up(self, beneficiary_id: int, answers: dict[str, Any], language: str,
                      channel: str, now: datetime) -> bool:
        """Their sign-up, replacing an earlier one (True when one was replaced)."""
        found = (await self.session.execute(select(m.Volunteer).where(
            m.Volunteer.beneficiary_id == beneficiary_id))).scalar_one_or_none()
        if found is None:
            self.session.add(m.Volunteer(beneficiary_id=beneficiary_id, answers=answers,
                                         language=language, channel=channel, signed_up_at=now))
        else:
            found.answers, found.language, found.channel = answers, language, channel
            found.signed_up_at = now
        await self.session.flush()
        return found is not None

    async def withdraw(self, beneficiary_id: int) -> int:
        result = await self.session.execute(delete(m.Volunteer).where(
            m.Volunteer.beneficiary_id == beneficiary_id))
        return result.rowcount or 0

    async def everyone(self) -> list[VolunteerView]:
        """Every sign-up, the newest first."""
        rows = (await self.session.execute(select(m.Volunteer).order_by(
            m.Volunteer.signed_up_at.desc(), m.Volunteer.id.desc()))).scalars()
        return [VolunteerView(v.id, v.beneficiary_id, dict(v.answers), v.language, v.channel,
                              v.signed_up_at) for v in rows]

    async def beneficiaries(self) -> set[int]:
        """Who signed up: the "volunteers" segment of an announcement."""
        return set((await self.session.execute(select(m.Volunteer.beneficiary_id))).scalars())
