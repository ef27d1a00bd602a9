"""Support requests' storage: a request, its acknowledgment and its steps. Takes and
returns the views of conversations/base.py (UnitOfWork.requests)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from conversations.base import AckView, RequestStep, RequestView
from storage import models as m
from storage.crypto import Keyring

DECIDED = ("approved", "rejected", "service_delivered", "closed")


def request_view(row: m.Request) -> RequestView:
    return RequestView(
        id=row.id, number=row.number, service=row.service, status=row.status,
        decision_due=row.decision_due, needs_info=row.needs_info, created_at=row.created_at,
        confirmed_at=row.confirmed_at, fields=row.fields, channel=row.channel,
        language=row.language, beneficiary_id=row.beneficiary_id, reviewer_id=row.reviewer_id)


class RequestStore:
    def __init__(self, session: AsyncSession, keys: Keyring) -> None:
        self.session = session
        self.keys = keys

    async def add_request(self, number: str, beneficiary_id: int, service: str,
                          fields: dict[str, Any], language: str, channel: str, now: datetime,
                          decision_due: date, ack: AckView, actor: str,
                          national_id: str | None = None) -> RequestView:
        """A submitted request with its acknowledgment and its first step; the national ID
        given is kept for lookups only as its keyed hash."""
        row = m.Request(number=number, beneficiary_id=beneficiary_id, service=service,
                        fields=fields, status="submitted", language=language, channel=channel,
                        created_at=now, confirmed_at=now, decision_due=decision_due,
                        updated_at=now,
                        id_index=self.keys.blind(national_id) if national_id else None)
        self.session.add(row)
        await self.session.flush()
        self.session.add(m.Acknowledgment(
            request_id=row.id, text_version=ack.text_version, text=ack.text, sha256=ack.sha256,
            signature=ack.signature, channel=ack.channel, at=ack.at))
        self.session.add(m.RequestEvent(request_id=row.id, status=row.status, actor=actor,
                                        at=now))
        await self.session.flush()
        return request_view(row)

    async def requests_of(self, beneficiary_id: int) -> list[RequestView]:
        stmt = (
            select(m.Request).where(m.Request.beneficiary_id == beneficiary_id)
            .order_by(m.Request.id)
        )
        return [request_view(r) for r in (await self.session.execute(stmt)).scalars()]

    async def given_values(self, beneficiary_ids: set[int], key: str) -> dict[int, str]:
        """For each beneficiary, the value of `key` in their latest request that has one
        (their name, for staff screens): one query for them all."""
        found: dict[int, str] = {}
        if not beneficiary_ids:
            return found
        stmt = (select(m.Request.beneficiary_id, m.Request.fields)
                .where(m.Request.beneficiary_id.in_(beneficiary_ids)).order_by(m.Request.id))
        for beneficiary_id, values in (await self.session.execute(stmt)).all():
            if values.get(key):
                found[beneficiary_id] = str(values[key])  # a later request's wins
        return found

    async def all_requests(self) -> list[RequestView]:
        stmt = select(m.Request).order_by(m.Request.id)
        return [request_view(r) for r in (await self.session.execute(stmt)).scalars()]

    async def request_by_id(self, request_id: int) -> RequestView | None:
        row = await self.session.get(m.Request, request_id)
        return request_view(row) if row else None

    async def request_by_number(self, number: str) -> RequestView | None:
        stmt = select(m.Request).where(m.Request.number == number)
        row = (await self.session.execute(stmt)).scalar_one_or_none()
        return request_view(row) if row else None

    async def correct(self, request_id: int, fields: dict[str, Any], national_id: str | None,
                      ack: AckView, actor: str, note: str, now: datetime) -> None:
        """An approved correction: the answers as corrected (the national ID's keyed hash
        with them), the acknowledgment the beneficiary signed for them in place of the old
        one, and a step of the history that keeps the old one's fingerprint (`note`)."""
        await self.session.execute(update(m.Request).where(m.Request.id == request_id).values(
            fields=fields, updated_at=now,
            id_index=self.keys.blind(national_id) if national_id else None))
        await self.session.execute(update(m.Acknowledgment).where(
            m.Acknowledgment.request_id == request_id).values(
                text_version=ack.text_version, text=ack.text, sha256=ack.sha256,
                signature=ack.signature, channel=ack.channel, at=ack.at))
        self.session.add(m.RequestEvent(request_id=request_id, status="corrected", actor=actor,
                                        note=note, at=now))
        await self.session.flush()

    async def acknowledgment(self, request_id: int) -> AckView | None:
        row = (await self.session.execute(select(m.Acknowledgment).where(
            m.Acknowledgment.request_id == request_id))).scalar_one_or_none()
        return AckView(row.text_version, row.text, row.sha256, row.signature, row.channel,
                       row.at) if row else None

    async def request_events(self, request_id: int) -> list[RequestStep]:
        """Every status the request took, oldest first."""
        return (await self.steps([request_id]))[request_id]

    async def request_facts(self, statuses: list[str], services: list[str]
                            ) -> list[tuple[int, str, str, dict[str, Any]]]:
        """(beneficiary, status, service, fields) of requests, narrowed in SQL where it can."""
        stmt = select(m.Request.beneficiary_id, m.Request.status, m.Request.service,
                      m.Request.fields)
        if statuses:
            stmt = stmt.where(m.Request.status.in_(statuses))
        if services:
            stmt = stmt.where(m.Request.service.in_(services))
        return [(r[0], r[1], r[2], r[3]) for r in (await self.session.execute(stmt)).all()]

    async def set_request_status(self, request_id: int, status: str, actor: str,
                                 note: str | None, now: datetime) -> None:
        values: dict = {"status": status, "updated_at": now}
        if status == "needs_info":
            values["needs_info"] = note
        await self.session.execute(update(m.Request).where(m.Request.id == request_id).values(**values))
        self.session.add(m.RequestEvent(request_id=request_id, status=status, actor=actor,
                                        note=note, at=now))
        await self.session.flush()

    async def steps(self, request_ids: list[int]) -> dict[int, list[RequestStep]]:
        """Every status each request took, oldest first."""
        found: dict[int, list[RequestStep]] = {i: [] for i in request_ids}
        if not request_ids:
            return found
        stmt = (select(m.RequestEvent).where(m.RequestEvent.request_id.in_(request_ids))
                .order_by(m.RequestEvent.at, m.RequestEvent.id))
        for row in (await self.session.execute(stmt)).scalars():
            found[row.request_id].append(RequestStep(row.status, row.actor, row.note, row.at))
        return found

    async def waiting_requests(self, today: date) -> tuple[list[RequestView], list[RequestView]]:
        """Requests submitted and not yet looked at, and requests past their decision date
        with no decision."""
        submitted = (await self.session.execute(
            select(m.Request).where(m.Request.status == "submitted")
            .order_by(m.Request.created_at))).scalars()
        late = (await self.session.execute(
            select(m.Request).where(m.Request.status.not_in(DECIDED),
                                    m.Request.decision_due < today)
            .order_by(m.Request.decision_due))).scalars()
        return [request_view(r) for r in submitted], [request_view(r) for r in late]

    async def searchable(self) -> list[tuple[int, str, str, str, dict[str, Any]]]:
        """(beneficiary, number, service, status, fields) of every request, newest first."""
        rows = await self.session.execute(
            select(m.Request.beneficiary_id, m.Request.number, m.Request.service,
                   m.Request.status, m.Request.fields).order_by(m.Request.id.desc()))
        return [tuple(r) for r in rows.all()]  # type: ignore[misc]

    async def by_national_id(self, digits: str) -> list[int]:
        """The beneficiaries whose requests give this national ID, found by its keyed hash
        (under every key not yet rotated away)."""
        rows = await self.session.execute(
            select(m.Request.beneficiary_id).where(m.Request.id_index.in_(self.keys.blinds(digits)))
            .order_by(m.Request.id.desc()))
        return list(dict.fromkeys(rows.scalars()))

    async def whatsapp_numbers(self) -> list[tuple[int, str]]:
        """(beneficiary, number) of those who write from WhatsApp: their number is their
        account there."""
        rows = await self.session.execute(
            select(m.Identity.beneficiary_id, m.Identity.sender_id)
            .where(m.Identity.channel == "whatsapp"))
        return [(b, s) for b, s in rows.all()]
