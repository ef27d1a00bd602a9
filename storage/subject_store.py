"""The data subject: everything held about one beneficiary, gathered for their copy (the
PDPL's right of access). UnitOfWork.subject."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import models as m

COPY_FIELD = "data_copy"  # the field key of the files of a beneficiary's copy
# requests the policy still needs when their beneficiary asks for destruction: with the
# committee, or approved with the service not yet provided (kept until it is)
HELD = ("committee", "approved")


@dataclass(frozen=True)
class Destroyed:
    """What a destruction did: rows gone per table, and the requests held back."""

    removed: dict[str, int]
    held: tuple[tuple[str, str], ...]  # (number, status)

    @property
    def counts(self) -> str:
        """What went, for the audit entry: "cases=1 documents=3 ..."."""
        return " ".join(f"{k}={v}" for k, v in sorted(self.removed.items()))


def _at(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _file(doc: m.Document) -> dict[str, Any]:
    return {"name": doc.name, "mime": doc.mime, "size": doc.size, "sha256": doc.sha256,
            "received_at": _at(doc.created_at)}


def _data_request(p: m.PrivacyRequest) -> dict[str, Any]:
    """A request about their data, with a correction's request, answer and new value."""
    asked = json.loads(p.detail) if p.kind == "correction" and p.detail else {}
    return {"id": p.id, "kind": p.kind, "status": p.status, "asked_at": _at(p.created_at),
            "due_on": _day(p.due_on), "extended_on": _day(p.extended_on),
            "closed_at": _at(p.closed_at),
            "correction": {"request": asked.get("number"), "answer": asked.get("field"),
                           "value": asked.get("value"), "outcome": asked.get("outcome")}
            if asked else None}


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
            "volunteering": [{"answers": v.answers, "language": v.language,
                              "channel": v.channel, "signed_up_at": _at(v.signed_up_at)}
                             for v in await self._all(select(m.Volunteer).where(
                                 m.Volunteer.beneficiary_id == beneficiary_id))],
            "data_requests": [_data_request(p) for p in await self._all(
                select(m.PrivacyRequest).where(m.PrivacyRequest.beneficiary_id == beneficiary_id)
                .order_by(m.PrivacyRequest.id))],
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

    async def held(self, beneficiary_id: int) -> list[tuple[str, str]]:
        """(number, status) of their requests the policy still holds (HELD)."""
        rows = await self.session.execute(
            select(m.Request.number, m.Request.status)
            .where(m.Request.beneficiary_id == beneficiary_id, m.Request.status.in_(HELD))
            .order_by(m.Request.id))
        return [(n, st) for n, st in rows.all()]

    async def destroy(self, beneficiary_id: int, now: datetime,
                      pseudonym: Callable[[str], str]) -> Destroyed:
        """Destroy what is held about them, but the requests the policy still holds (and
        what reaches them about those: their accounts): documents, requests, cases and
        their transcripts, the conversation log, the web chat's transcript, replies in the
        outbox, consents, a volunteer's sign-up, suggestions and complaints; named survey
        answers become anonymous (the ratings stay for the board, without name, comment or
        time). Their ids in the audit log become `pseudonym(actor)` (a keyed hash). The
        beneficiary row stays as a tombstone with nothing personal. (A WhatsApp chat's
        window, when they last wrote, stays: the goodbye must go within it; retention ends
        it a day after it closes.)"""
        removed: dict[str, int] = {}

        async def gone(name: str, stmt: Any) -> None:
            result = await self.session.execute(stmt)
            removed[name] = removed.get(name, 0) + (result.rowcount or 0)

        held = await self.held(beneficiary_id)
        keep = [n for n, _ in held]
        accounts = (await self.session.execute(select(m.Identity.channel, m.Identity.sender_id,
                                                      m.Identity.chat_id).where(
            m.Identity.beneficiary_id == beneficiary_id))).all()
        # the audit log keeps who did what, with their id replaced by its keyed hash
        for channel, sender, _chat in accounts:
            actor = f"{channel}:{sender}"
            await self.session.execute(update(m.AuditEntry).where(m.AuditEntry.actor == actor)
                                       .values(actor=pseudonym(actor)))
        for channel, sender, chat in accounts:
            if channel == "web":
                await gone("web_messages", delete(m.WebMessage).where(
                    m.WebMessage.chat_id.in_({sender, chat})))
            await gone("outbox", delete(m.OutboxMessage).where(
                m.OutboxMessage.channel == channel, m.OutboxMessage.chat_id == chat))
            await gone("conversations", delete(m.Conversation).where(
                m.Conversation.channel == channel, m.Conversation.sender_id == sender))
        await gone("outbox", delete(m.OutboxMessage).where(
            m.OutboxMessage.beneficiary_id == beneficiary_id))
        await gone("conversations", delete(m.Conversation).where(
            m.Conversation.beneficiary_id == beneficiary_id))
        held_ids = select(m.Request.id).where(m.Request.number.in_(keep))
        await gone("documents", delete(m.Document).where(
            m.Document.beneficiary_id == beneficiary_id,
            or_(m.Document.request_id.is_(None), m.Document.request_id.not_in(held_ids))))
        await self.session.execute(update(m.SurveyAnswer).where(
            m.SurveyAnswer.survey_id.in_(select(m.Survey.id).where(
                m.Survey.beneficiary_id == beneficiary_id)))
            .values(survey_id=None, staff_id=None, comment=None, answered_at=None, anonymous=True))
        await gone("surveys", delete(m.Survey).where(m.Survey.beneficiary_id == beneficiary_id))
        await gone("feedback", delete(m.Feedback).where(m.Feedback.beneficiary_id == beneficiary_id))
        cases = select(m.Case.id).where(m.Case.beneficiary_id == beneficiary_id)
        await self.session.execute(update(m.Staff).where(m.Staff.current_case_id.in_(cases))
                                   .values(current_case_id=None))
        await gone("outbox", delete(m.OutboxMessage).where(m.OutboxMessage.case_id.in_(cases)))
        await gone("cases", delete(m.Case).where(m.Case.beneficiary_id == beneficiary_id))
        await gone("messages", delete(m.Message).where(m.Message.beneficiary_id == beneficiary_id))
        await gone("consents", delete(m.Consent).where(m.Consent.beneficiary_id == beneficiary_id))
        await gone("volunteers", delete(m.Volunteer).where(
            m.Volunteer.beneficiary_id == beneficiary_id))
        await gone("privacy_requests", delete(m.PrivacyRequest).where(  # (a correction's value)
            m.PrivacyRequest.beneficiary_id == beneficiary_id, m.PrivacyRequest.kind != "deletion"))
        await gone("requests", delete(m.Request).where(
            m.Request.beneficiary_id == beneficiary_id, m.Request.number.not_in(keep)))
        if not held:  # nothing reaches them any more: their accounts go too
            await gone("identities", delete(m.Identity).where(
                m.Identity.beneficiary_id == beneficiary_id))
        await self.session.execute(update(m.Beneficiary).where(m.Beneficiary.id == beneficiary_id)
                                   .values(destroyed_at=now, announcements_off_at=now,
                                           **({} if held else {"file_number": None})))
        await self.session.flush()
        return Destroyed({k: v for k, v in removed.items() if v}, tuple(held))

    async def withdraw(self, beneficiary_id: int, purpose: str, now: datetime) -> int:
        """Consents to `purpose` still standing, marked withdrawn now: how many."""
        result = await self.session.execute(update(m.Consent).where(
            m.Consent.beneficiary_id == beneficiary_id, m.Consent.purpose == purpose,
            m.Consent.withdrawn_at.is_(None)).values(withdrawn_at=now))
        return result.rowcount or 0

    async def open_privacy_requests(self) -> list[m.PrivacyRequest]:
        """Every data subject's request still open, due first."""
        return await self._all(select(m.PrivacyRequest).where(m.PrivacyRequest.status == "open")
                               .order_by(m.PrivacyRequest.due_on, m.PrivacyRequest.id))

    async def extend(self, request_id: int, due: date, today: date) -> None:
        await self.session.execute(update(m.PrivacyRequest).where(
            m.PrivacyRequest.id == request_id, m.PrivacyRequest.extended_on.is_(None))
            .values(due_on=due, extended_on=today))

    async def answer(self, request_id: int, now: datetime, outcome: str,
                     reason: str | None = None) -> bool:
        """Close an open request about their data (a correction approved or not, with the
        outcome kept in its detail); False when it was answered already (by a colleague)."""
        row = await self.session.get(m.PrivacyRequest, request_id)
        if row is None or row.status != "open":
            return False
        result = await self.session.execute(update(m.PrivacyRequest).where(
            m.PrivacyRequest.id == request_id, m.PrivacyRequest.status == "open")
            .values(status="done", closed_at=now))
        if not result.rowcount:
            return False
        if row.kind == "correction" and row.detail:
            row.detail = json.dumps({**json.loads(row.detail), "outcome": outcome,
                                     "reason": reason}, ensure_ascii=False)
        await self.session.flush()
        return True

    async def open_deletions(self) -> list[m.PrivacyRequest]:
        """Destructions waiting for held requests to finish, oldest first."""
        return await self._all(select(m.PrivacyRequest).where(
            m.PrivacyRequest.kind == "deletion", m.PrivacyRequest.status == "open")
            .order_by(m.PrivacyRequest.id))

    async def accounts(self, beneficiary_id: int) -> list[tuple[str, str]]:
        """(channel, chat) of each way to reach them."""
        rows = await self.session.execute(select(m.Identity.channel, m.Identity.chat_id).where(
            m.Identity.beneficiary_id == beneficiary_id).order_by(m.Identity.id))
        return [(c, chat) for c, chat in rows.all()]

    async def waiting_replies(self, beneficiary_id: int) -> int:
        """Messages to them not yet delivered (a decision's notice): a destruction waits."""
        chats = [chat for _c, chat in await self.accounts(beneficiary_id)]
        if not chats:
            return 0
        return await self.session.scalar(select(func.count()).select_from(m.OutboxMessage).where(
            m.OutboxMessage.chat_id.in_(chats),
            m.OutboxMessage.status.in_(("pending", "sending")))) or 0

    async def replace_copy(self, beneficiary_id: int, files: list[m.Document]) -> list[int]:
        """Keep this copy's files (sealed like every document) in place of an earlier copy's."""
        await self.session.execute(delete(m.Document).where(
            m.Document.beneficiary_id == beneficiary_id, m.Document.field_key == COPY_FIELD))
        self.session.add_all(files)
        await self.session.flush()
        return [f.id for f in files]
