"""Surveys between the desk, the scheduler and the beneficiary: creating one when a
service is delivered or a case closed, putting it before the beneficiary, reminding
once and expiring. Everything here runs inside the caller's unit of work.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable
from datetime import date, datetime, timedelta

from pydantic import ValidationError
from sqlalchemy import select

from conversations import desk, desk_step, journey, survey
from conversations.base import RIYADH, CaseView, Context, Reply, RequestView, Translator
from conversations.profile import Profile
from conversations.state import State, Step, SurveyDraft
from storage import models as m
from storage import retention
from storage.db import Database
from storage.repositories import UnitOfWork
from storage.sealing import reseal
from storage.subject_store import SubjectStore

log = logging.getLogger(__name__)


def audit_pseudonym(uow: UnitOfWork, actor: str) -> str:
    """An id in the audit log once its person's data is destroyed: a keyed hash of it."""
    return f"{actor.split(':', 1)[0]}:#{uow.keys.blind(actor)[:16]}"
RETRY = timedelta(hours=1)  # a beneficiary talking with a researcher is asked a little later
WHATSAPP_WINDOW = timedelta(hours=23)  # a reminder goes well inside WhatsApp's 24 hours


def _times(profile: Profile, now: datetime) -> dict[str, datetime]:
    remind = now + timedelta(hours=profile.surveys.reminder_hours)
    return {"sent_at": now, "remind_at": remind,
            "expires_at": remind + timedelta(hours=profile.surveys.expire_hours)}


async def for_delivery(uow: UnitOfWork, profile: Profile, request: RequestView,
                       now: datetime) -> m.Survey | None:
    """The survey of a delivered service (None if surveys are off or it already has one)."""
    if not profile.surveys.service:
        return None
    return await uow.add_survey(m.Survey(
        subject=f"request:{request.number}", kind="service", service=request.service,
        request_id=request.id, beneficiary_id=request.beneficiary_id, status="sent",
        **_times(profile, now)))


async def for_case(uow: UnitOfWork, profile: Profile, case: CaseView, staff_id: int,
                   now: datetime) -> m.Survey | None:
    """The short question about a researcher's help, once their case is closed (None for a
    case that was not help: a rating's follow-up, a suggestion or a complaint)."""
    if not desk_step.rates_help(case, profile):
        return None
    return await uow.add_survey(m.Survey(
        subject=f"case:{case.id}", kind="case", case_id=case.id, staff_id=staff_id,
        beneficiary_id=case.beneficiary_id, status="sent", **_times(profile, now)))


async def invite(uow: UnitOfWork, profile: Profile, translations: dict[str, Translator],
                 row: m.Survey, now: datetime, *, reminder: bool = False) -> bool:
    """Put the survey before its beneficiary, in their language, on their channel; their
    conversation moves to it and returns afterwards to where it was. False when they cannot
    be asked now (a researcher is talking with them)."""
    identity = await uow.identity_of(row.beneficiary_id)
    if identity is None:
        return False
    conv = await uow.conversation(identity.channel, identity.sender_id)
    state = State.model_validate(conv.state) if conv else State(consented=True, step=Step.MENU)
    if state.step == Step.CASE or not state.consented:
        return False
    subject = row.subject.split(":", 1)[1]
    draft = SurveyDraft(id=row.id, kind=row.kind, subject=subject, service=row.service)
    ctx = Context(profile, now, identity.channel, translations)
    replies = survey.begin(state, draft, ctx, reminder=reminder)
    await uow.save_conversation(identity.channel, identity.sender_id, row.beneficiary_id,
                                state.model_dump(mode="json"), now)
    for n, reply in enumerate(replies):
        if n == 0:  # outside WhatsApp's window its template stands for the first; the rest
            reply = dataclasses.replace(reply, notice="survey")  # wait for the answer to it
        await uow.enqueue(identity.channel, identity.chat_id, reply.to_dict(), now)
    return True


async def _close_in_conversation(uow: UnitOfWork, row: m.Survey, now: datetime) -> None:
    """An expired survey leaves the conversation quietly (no message): back where it was."""
    identity = await uow.identity_of(row.beneficiary_id)
    conv = await uow.conversation(identity.channel, identity.sender_id) if identity else None
    if identity is None or conv is None:
        return
    state = State.model_validate(conv.state)
    if state.survey is None or state.survey.id != row.id:
        return
    if state.step == Step.SURVEY:
        state.step = state.survey.return_to or Step.MENU
    state.survey = None
    await uow.save_conversation(identity.channel, identity.sender_id, row.beneficiary_id,
                                state.model_dump(mode="json"), now)


class Scheduler:
    """Due work inside the bot process: survey reminders and expiries. Due times live in the
    database, so a restarted process picks up where the last one stopped, and several
    processes share the work (rows are locked with SKIP LOCKED on PostgreSQL)."""

    def __init__(self, db: Database, profile: Profile, translations: dict[str, Translator],
                 clock: Callable[[], datetime], interval: float = 30.0) -> None:
        self.db, self.profile, self.translations, self.clock = db, profile, translations, clock
        self.interval = interval
        self._sealed_under: bytes | None = None  # the key the last sealing pass sealed under
        self._retained_on: date | None = None  # the day retention last ran

    async def tick(self) -> tuple[int, int]:
        """Send due reminders and expire overdue surveys; (reminded, expired)."""
        now = self.clock()
        reminded = expired = 0
        async with self.db.unit_of_work() as uow:
            for row in await uow.due_surveys(now, expiring=True):
                row.status, row.remind_at = "expired", None
                await _close_in_conversation(uow, row, now)
                expired += 1
            for row in await uow.due_surveys(now, expiring=False):
                if await invite(uow, self.profile, self.translations, row, now, reminder=True):
                    row.remind_at, row.reminded_at = None, now
                    reminded += 1
                else:
                    row.remind_at = min(now + RETRY, row.expires_at)
        if reminded or expired:
            log.info("surveys: %d reminded, %d expired", reminded, expired)
        await self.finish_destructions(now)
        await self.remind_unfinished(now)
        await self.retain(now)
        return reminded, expired

    async def remind_unfinished(self, now: datetime) -> int:
        """The one reminder of each unfinished request whose time has come, sent within
        working hours (else at the next opening); on WhatsApp only inside its 24-hour
        window, unless the profile has a template for it. How many were sent."""
        async with self.db.session() as session:  # mostly none: no write lock taken for that
            if await session.scalar(select(m.Conversation.id).where(
                    m.Conversation.remind_at <= now).limit(1)) is None:
                return 0
        opening = desk.next_opening(self.profile.working_hours, now)
        sent = 0
        async with self.db.unit_of_work() as uow:
            for conv in await uow.due_reminders(now):
                conv.remind_at = opening  # (None: it is sent now, or not at all)
                if opening is not None:
                    continue
                try:
                    state = State.model_validate(conv.state)
                except ValidationError:
                    continue
                if state.draft is None or self.profile.service(state.draft.service) is None:
                    continue
                identity = await uow.identity(conv.channel, conv.sender_id)
                if identity is None:
                    continue
                if conv.channel == "whatsapp" and "reminder" not in self.profile.whatsapp.templates:
                    seen = await uow.last_seen("whatsapp", identity.chat_id)
                    if seen is None or now - seen > WHATSAPP_WINDOW:  # it could not be read
                        continue
                ctx = Context(self.profile, now, conv.channel, self.translations)
                replies = journey.reminder(state, ctx)
                conv.state = state.model_dump(mode="json")  # (not `updated_at`: their silence)
                for reply in replies:
                    await uow.enqueue(conv.channel, identity.chat_id,
                                      dataclasses.replace(reply, notice="reminder").to_dict(), now)
                sent += bool(replies)
        if sent:
            log.info("unfinished requests: %d reminded", sent)
        return sent

    async def retain(self, now: datetime) -> list[retention.Kind] | None:
        """Once a (Riyadh) day: destroy what the profile's retention periods let go."""
        today = now.astimezone(RIYADH).date()
        if self._retained_on == today:
            return None
        async with self.db.unit_of_work() as uow:
            kinds = await retention.run(uow, self.profile.retention, now, dry_run=False,
                                        volunteers_days=self.profile.volunteering.keep_days)
        self._retained_on = today
        gone = {k.key: k.count for k in kinds if k.count}
        if gone:
            log.info("retention: %s", " ".join(f"{k}={v}" for k, v in gone.items()))
        return kinds

    async def finish_destructions(self, now: datetime) -> int:
        """Destructions that waited for held requests: once none is held any more (decided,
        or the service provided) and its notice has gone, the rest is destroyed and the
        beneficiary told; the privacy request is done. How many were finished."""
        finished = 0
        async with self.db.session() as session:  # mostly none: no write lock taken for that
            if not await SubjectStore(session).open_deletions():
                return 0
        async with self.db.unit_of_work() as uow:
            for asked in await uow.subject.open_deletions():
                person = asked.beneficiary_id
                if await uow.subject.held(person) or await uow.subject.waiting_replies(person):
                    continue
                accounts = await uow.subject.accounts(person)
                lang = (await uow.session.get(m.Beneficiary, person)).language  # type: ignore[union-attr]
                done = await uow.subject.destroy(person, now, lambda a: audit_pseudonym(uow, a))
                asked.status, asked.closed_at = "done", now
                await uow.audit(m.AuditEntry(
                    at=now, actor="scheduler", role="system", action="data_destroyed",
                    allowed=True, beneficiary_id=person,
                    detail=done.counts))
                _ = self.translations[lang if lang in self.translations else "ar"].gettext
                text = _("Your remaining requests are finished, and your data has now been "
                         "deleted from {association}'s system.").format(
                             association=self.profile.association.get(lang))
                for channel, chat in accounts:
                    await uow.enqueue(channel, chat, Reply(text).to_dict(), now)
                finished += 1
        return finished

    async def seal(self) -> int:
        """After a start, and after a key rotation elsewhere, seal again in the background
        what is not under the newest key (storage/sealing.py); rows sealed again."""
        keys = self.db.keys
        if keys.refresh() or self._sealed_under != keys.current:
            done = await reseal(self.db, self.profile.national_id)
            self._sealed_under = keys.current
            return done.total
        return 0

    async def run(self, wake: Callable[[], None] | None = None) -> None:
        """Tick until cancelled; a failing tick is logged and tried again next time."""
        while True:
            try:
                await self.seal()
                reminded, _expired = await self.tick()
                if reminded and wake is not None:
                    wake()
            except Exception:  # the loop must outlive one bad tick (a database restart)
                log.exception("scheduler tick failed")
            await asyncio.sleep(self.interval)
