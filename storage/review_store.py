"""The policy's review steps' storage (UnitOfWork.review): a reviewer taking a request,
their marks, the registration with the beneficiary's file number, the committee's decision
and the delivery. Each step also moves the request's status and records it in its history
(request_events), in the caller's transaction."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from conversations.base import DecisionView, DeliveryView, Registration, RequestView, ReviewMark
from storage import models as m
from storage.requests_store import request_view


class ReviewStore:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _move(self, request_id: int, status: str, staff_id: int, note: str | None,
                    now: datetime, *, only_from: str | None = None, **values: object) -> bool:
        """The request to `status` (from `only_from` only, when given: False if it is no
        longer there, e.g. taken or decided a moment before), recorded in its history."""
        stmt = update(m.Request).where(m.Request.id == request_id)
        if only_from is not None:
            stmt = stmt.where(m.Request.status == only_from)
        done = await self.session.execute(stmt.values(status=status, updated_at=now, **values))
        if done.rowcount != 1:  # type: ignore[attr-defined]
            return False
        self.session.add(m.RequestEvent(request_id=request_id, status=status,
                                        actor=f"staff:{staff_id}", note=note, at=now))
        await self.session.flush()
        return True

    async def take(self, request_id: int, staff_id: int, now: datetime) -> bool:
        """Take a submitted request for review; False when someone took it a moment before."""
        return await self._move(request_id, "under_review", staff_id, None, now,
                                only_from="submitted", reviewer_id=staff_id)

    async def queue(self) -> list[RequestView]:
        """Requests waiting for review or in it, oldest first."""
        rows = await self.session.execute(
            select(m.Request).where(m.Request.status.in_(("submitted", "under_review",
                                                           "needs_info")))
            .order_by(m.Request.created_at, m.Request.id))
        return [request_view(r) for r in rows.scalars()]

    async def with_committee(self) -> list[RequestView]:
        """Requests registered and waiting for the committee's decision, oldest first."""
        rows = await self.session.execute(
            select(m.Request).where(m.Request.status == "committee")
            .order_by(m.Request.created_at, m.Request.id))
        return [request_view(r) for r in rows.scalars()]

    async def marks(self, request_id: int) -> list[ReviewMark]:
        rows = await self.session.execute(
            select(m.ReviewItem).where(m.ReviewItem.request_id == request_id)
            .order_by(m.ReviewItem.at, m.ReviewItem.id))
        return [ReviewMark(r.item, r.matched, r.note, r.staff_id, r.at) for r in rows.scalars()]

    async def mark(self, request_id: int, item: str, matched: bool, note: str | None,
                   staff_id: int, now: datetime) -> None:
        self.session.add(m.ReviewItem(request_id=request_id, item=item, matched=matched,
                                      note=note, staff_id=staff_id, at=now))
        await self.session.flush()

    async def file_number(self, beneficiary_id: int) -> str | None:
        return await self.session.scalar(select(m.Beneficiary.file_number)
                                         .where(m.Beneficiary.id == beneficiary_id))

    async def register(self, request: RequestView, file_number: str, staff_id: int,
                       now: datetime) -> None:
        """The request registered under the beneficiary's file number (given to them now if
        they had none) and sent to the committee; registered before and back from the
        beneficiary with more information, it goes to the committee again."""
        await self.session.execute(
            update(m.Beneficiary).where(m.Beneficiary.id == request.beneficiary_id,
                                        m.Beneficiary.file_number.is_(None))
            .values(file_number=file_number))
        if await self.registration(request.id) is None:
            self.session.add(m.RegistrationRow(request_id=request.id, file_number=file_number,
                                               staff_id=staff_id, at=now))
        await self._move(request.id, "committee", staff_id, file_number, now, needs_info=None)

    async def registration(self, request_id: int) -> Registration | None:
        row = await self.session.scalar(select(m.RegistrationRow)
                                        .where(m.RegistrationRow.request_id == request_id))
        return Registration(row.file_number, row.staff_id, row.at) if row else None

    async def decide(self, request: RequestView, outcome: str, reason: str | None,
                     meeting: str, meeting_date: date, staff_id: int, now: datetime) -> bool:
        """The committee's decision; False when the request is no longer with it (decided a
        moment before by another member)."""
        if not await self._move(request.id, outcome, staff_id, reason, now,
                                only_from="committee"):
            return False
        self.session.add(m.DecisionRow(request_id=request.id, outcome=outcome, reason=reason,
                                       meeting=meeting, meeting_date=meeting_date,
                                       staff_id=staff_id, at=now))
        await self.session.flush()
        return True

    async def decision(self, request_id: int) -> DecisionView | None:
        row = await self.session.scalar(select(m.DecisionRow)
                                        .where(m.DecisionRow.request_id == request_id))
        return DecisionView(row.outcome, row.reason, row.meeting, row.meeting_date,
                            row.staff_id, row.at) if row else None

    async def deliver(self, request: RequestView, delivery: DeliveryView) -> bool:
        """The service provided; False when the request is not approved (any more)."""
        note = " ".join(p for p in (delivery.amount, delivery.unit) if p) or None
        if not await self._move(request.id, "service_delivered", delivery.staff_id, note,
                                delivery.at, only_from="approved"):
            return False
        self.session.add(m.DeliveryRow(
            request_id=request.id, service=delivery.service, amount=delivery.amount,
            unit=delivery.unit, receipt_document_id=delivery.receipt_document_id,
            staff_id=delivery.staff_id, at=delivery.at))
        await self.session.flush()
        return True

    async def delivery(self, request_id: int) -> DeliveryView | None:
        row = await self.session.scalar(select(m.DeliveryRow)
                                        .where(m.DeliveryRow.request_id == request_id))
        return DeliveryView(row.service, row.amount, row.unit, row.staff_id, row.at,
                            row.receipt_document_id) if row else None
