"""Requests and cases as plain records, for `wasl requests` and `wasl cases`."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.app import App
from conversations import acknowledgment
from storage.models import Survey


async def request_records(app: App, number: str | None = None) -> list[dict[str, Any]]:
    """Requests with fields, documents, history and the acknowledgment (hash re-checked)."""
    records = []
    async with app.db.unit_of_work() as uow:
        if number is None:
            views = await uow.requests.all_requests()
        else:
            found = await uow.requests.request_by_number(number)
            views = [found] if found else []
        staff = await uow.desk.staff_names()
        for r in views:
            sender = await uow.sender_of(r.beneficiary_id)
            ack = await uow.requests.acknowledgment(r.id)
            docs = await uow.documents_of(r.id)
            history = await uow.requests.request_events(r.id)
            rv = uow.review
            registration = await rv.registration(r.id)
            decision = await rv.decision(r.id)
            delivery = await rv.delivery(r.id)
            records.append({
                "number": r.number,
                "status": r.status,
                "service": r.service,
                "beneficiary": sender[1] if sender else None,
                "channel": r.channel,
                "language": r.language,
                "fields": r.fields,
                "documents": [{"field": d.field_key, "name": d.name, "mime": d.mime,
                               "size": d.size, "sha256": d.sha256} for d in docs],
                "created_at": r.created_at.isoformat(),
                "confirmed_at": r.confirmed_at.isoformat(),
                "decision_due": r.decision_due.isoformat(),
                "needs_info": r.needs_info,
                "history": [{"status": h.status, "actor": h.actor, "at": h.at.isoformat(),
                             "note": h.note} for h in history],
                "reviewer": staff.get(r.reviewer_id) if r.reviewer_id else None,
                "review": [{"item": k.item, "matched": k.matched, "note": k.note,
                            "by": staff.get(k.staff_id), "at": k.at.isoformat()}
                           for k in await rv.marks(r.id)],
                "registration": {"file_number": registration.file_number,
                                 "by": staff.get(registration.staff_id),
                                 "at": registration.at.isoformat()} if registration else None,
                "decision": {"outcome": decision.outcome, "reason": decision.reason,
                             "meeting": decision.meeting,
                             "meeting_date": decision.meeting_date.isoformat(),
                             "by": staff.get(decision.staff_id),
                             "at": decision.at.isoformat()} if decision else None,
                "delivery": {"service": delivery.service, "amount": delivery.amount,
                             "unit": delivery.unit, "receipt_document": delivery.receipt_document_id,
                             "by": staff.get(delivery.staff_id),
                             "at": delivery.at.isoformat()} if delivery else None,
                "acknowledgment": {
                    "text_version": ack.text_version,
                    "text": ack.text,
                    "sha256": ack.sha256,
                    "signature": ack.signature,
                    "channel": ack.channel,
                    "at": ack.at.isoformat(),
                    "hash_matches": ack.sha256 == acknowledgment.digest(
                        r.number, r.service, r.fields, ack.text_version, ack.signature, ack.at),
                } if ack else None,
            })
    return records


async def case_records(app: App) -> list[dict[str, Any]]:
    """Cases with their reason and the conversation that led to them."""
    records = []
    async with app.db.unit_of_work() as uow:
        for c in await uow.desk.cases():
            sender = await uow.sender_of(c.beneficiary_id)
            messages = await uow.desk.entries(c.id)
            records.append({
                "id": c.id,
                "status": c.status,
                "reason": c.reason,
                "detail": c.detail,
                "beneficiary": sender[1] if sender else None,
                "channel": c.channel,
                "created_at": c.created_at.isoformat(),
                "messages": [{"direction": msg.direction, "text": msg.text,
                              "at": msg.at.isoformat()} for msg in messages],
            })
    return records


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


async def survey_records(app: App) -> dict[str, list[dict[str, Any]]]:
    """Surveys, answers and suggestion/complaint tickets. No names: an answer shows only
    what was answered (an anonymous one has no survey id)."""
    async with app.db.unit_of_work() as uow:
        rows = (await uow.session.execute(select(Survey).order_by(Survey.id))).scalars()
        surveys = [{"id": r.id, "subject": r.subject, "kind": r.kind, "service": r.service,
                    "status": r.status, "sent_at": _iso(r.sent_at), "remind_at": _iso(r.remind_at),
                    "reminded_at": _iso(r.reminded_at), "expires_at": _iso(r.expires_at),
                    "answered_at": _iso(r.answered_at)} for r in rows]
        answers = [{"id": a.id, "survey_id": a.survey_id, "kind": a.kind, "service": a.service,
                    "rating": a.rating, "comment": a.comment, "extra": a.extra,
                    "anonymous": a.anonymous, "language": a.language, "channel": a.channel,
                    "answered_on": _iso(a.answered_on), "answered_at": _iso(a.answered_at)}
                   for a in await uow.survey_answers()]
        feedback = [{"ticket": f.ticket, "kind": f.kind, "text": f.text, "case_id": f.case_id,
                     "channel": f.channel, "created_at": _iso(f.created_at)}
                    for f in await uow.feedback()]
    return {"surveys": surveys, "answers": answers, "feedback": feedback}
