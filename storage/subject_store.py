"""The data subject: everything held about one beneficiary, gathered for their copy (the
PDPL's right of access). UnitOfWork.subject."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import models as m

COPY_FIELD = "data_copy"  # the field key of the files of a beneficiary's copy


def _at(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _file(doc: m.Document) -> dict[str, Any]:
    return {"name": doc.name, "mime": doc.mime, "size": doc.size, "sha256": doc.sha256,
            "received_at": _at(doc.created_at)}


class SubjectStore:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _all(self, stmt: Any) -> list[Any]:
        return list((await self.session.execute(stmt)).scalars())

    async def everything(self, beneficiary_id: int) -> dict[str, Any]:
        """The facts of the copy (JSON-ready; times in UTC, ISO 8601), but the unfinished
        request and the time it was made, which the caller adds."""
        person = await self.session.get(m.Beneficiary, beneficiary_id)
        if person is None:
            raise LookupError("no such beneficiary")
        accounts = await self._all(select(m.Identity).where(
            m.Identity.beneficiary_id == beneficiary_id).order_by(m.Identity.id))
        consents = await self._all(select(m.Consent).where(
            m.Consent.beneficiary_id == beneficiary_id).order_by(m.Consent.id))
        requests = await self._all(select(m.Request).where(
            m.Request.beneficiary_id == beneficiary_id).order_by(m.Request.id))
        return {
            "you": {"language": person.language, "since": _at(person.created_at),
                    "file_number": person.file_number,
                    "announcements_off_at": _at(person.announcements_off_at)},
            "accounts": [{"channel": a.channel, "account": a.sender_id, "since": _at(a.created_at)}
                         for a in accounts],
            "consents": [{"purpose": c.purpose, "version": c.text_version, "language": c.language,
                          "channel": c.channel, "given_at": _at(c.given_at),
                          "withdrawn_at": _at(c.withdrawn_at)} for c in consents],
            "requests": [await self._request(r) for r in requests],
            "conversations_with_researchers": await self._cases(beneficiary_id),
            "surveys": await self._surveys(beneficiary_id),
            "suggestions_and_complaints": [
                {"ticket": f.ticket, "kind": f.kind, "text": f.text, "at": _at(f.created_at)}
                for f in await self._all(select(m.Feedback).where(
                    m.Feedback.beneficiary_id == beneficiary_id).order_by(m.Feedback.id))],
            "conversation_log": [
                {"from": "you" if x.direction == "in" else "bot", "text": x.text, "at": _at(x.at)}
                for x in await self._all(select(m.Message).where(
                    m.Message.beneficiary_id == beneficiary_id).order_by(m.Message.id))],
        }

    async def _request(self, r: m.Request) -> dict[str, Any]:
        docs = await self._all(select(m.Document).where(m.Document.request_id == r.id)
                               .order_by(m.Document.id))
        ack = (await self._all(select(m.Acknowledgment).where(
            m.Acknowledgment.request_id == r.id)))[:1]
        steps = await self._all(select(m.RequestEvent).where(m.RequestEvent.request_id == r.id)
                                .order_by(m.RequestEvent.at, m.RequestEvent.id))
        registration = await self.session.scalar(select(m.RegistrationRow).where(
            m.RegistrationRow.request_id == r.id))
        decision = await self.session.scalar(select(m.DecisionRow).where(
            m.DecisionRow.request_id == r.id))
        delivery = await self.session.scalar(select(m.DeliveryRow).where(
            m.DeliveryRow.request_id == r.id))
        return {
            "number": r.number, "service": r.service, "status": r.status,
            "submitted_at": _at(r.created_at), "decision_due": _day(r.decision_due),
            "answers": r.fields, "needs_info": r.needs_info,
            "documents": [_file(d) for d in docs],
            "acknowledgment": {"text": ack[0].text, "version": ack[0].text_version,
                               "sha256": ack[0].sha256, "signature": ack[0].signature,
                               "at": _at(ack[0].at)} if ack else None,
            "history": [{"status": s.status, "at": _at(s.at)} for s in steps],
            "registration": {"file_number": registration.file_number,
                             "at": _at(registration.at)} if registration else None,
            "decision": {"outcome": decision.outcome, "reason": decision.reason,
                         "meeting_date": _day(decision.meeting_date),
                         "at": _at(decision.at)} if decision else None,
            "delivery": {"service": delivery.service, "amount": delivery.amount,
                         "unit": delivery.unit, "at": _at(delivery.at)} if delivery else None,
        }

    async def _cases(self, beneficiary_id: int) -> list[dict[str, Any]]:
        """Their conversations with researchers, without the staff's internal notes."""
        found = []
        for case in await self._all(select(m.Case).where(m.Case.beneficiary_id == beneficiary_id)
                                    .order_by(m.Case.id)):
            messages = await self._all(select(m.CaseMessage).where(
                m.CaseMessage.case_id == case.id, m.CaseMessage.direction.in_(("in", "out")))
                .order_by(m.CaseMessage.id))
            found.append({"case": case.id, "status": case.status, "opened_at": _at(case.created_at),
                          "closed_at": _at(case.closed_at),
                          "messages": [{"from": "you" if x.direction == "in" else "researcher",
                                        "text": x.text, "at": _at(x.at)} for x in messages]})
        return found

    async def _surveys(self, beneficiary_id: int) -> list[dict[str, Any]]:
        """Ratings given with their name (an anonymous one keeps no link to anyone)."""
        rows = (await self.session.execute(
            select(m.SurveyAnswer, m.Survey.subject).join(m.Survey, m.SurveyAnswer.survey_id == m.Survey.id)
            .where(m.Survey.beneficiary_id == beneficiary_id).order_by(m.SurveyAnswer.id))).all()
        return [{"subject": subject, "kind": a.kind, "service": a.service, "rating": a.rating,
                 "comment": a.comment, "answers": a.extra, "answered_at": _at(a.answered_at)}
                for a, subject in rows]

    async def replace_copy(self, beneficiary_id: int, files: list[m.Document]) -> list[int]:
        """Keep this copy's files (sealed like every document) in place of an earlier copy's."""
        await self.session.execute(delete(m.Document).where(
            m.Document.beneficiary_id == beneficiary_id, m.Document.field_key == COPY_FIELD))
        self.session.add_all(files)
        await self.session.flush()
        return [f.id for f in files]
