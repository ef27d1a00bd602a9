"""The beneficiary router: one inbound event, one unit of work, one commit.

Loads the conversation, runs the pure flow, carries out its actions through
the repositories, writes the new state and the replies (to the outbox) and
commits once. A redelivered platform update is recognised and ignored.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from conversations import acknowledgment, desk, faq, journey, render, survey, transcript
from conversations.base import (
    RIYADH,
    AckView,
    CaseEntry,
    CaseView,
    Choice,
    Context,
    FileRef,
    InboundEvent,
    Reply,
    StaffView,
    Translator,
)
from conversations.profile import FieldKind, Profile
from conversations.state import (
    Action,
    AddToCase,
    CaseOpened,
    CorrectionFiled,
    CountAnswer,
    DeleteData,
    DeletionPlan,
    DiscardDraft,
    ExportData,
    FeedbackStored,
    Forget,
    KeepVoice,
    OpenCase,
    PlanDeletion,
    ProvideInfo,
    RecordConsent,
    RequestCorrection,
    SetAnnouncements,
    SetLanguage,
    ShowStatus,
    SignUpVolunteer,
    State,
    Step,
    StoreDocument,
    SubmitFeedback,
    SubmitRequest,
    SubmitSurvey,
    Submitted,
    SurveyStored,
    WithdrawConsent,
)
from handlers import mydata
from handlers.answers import Answers
from handlers.notices import Notices, known_name
from handlers.surveys import audit_pseudonym
from storage import models as m
from storage.db import Database, Unavailable
from storage.repositories import UnitOfWork

log = logging.getLogger(__name__)
# What runs first in an event's transaction (the router's staff check): the event to go on
# with, or what to return instead (a staff member for the desk; True: handled, no reply).
Gated = InboundEvent | StaffView | bool
Gate = Callable[[UnitOfWork, InboundEvent], Awaitable[Gated]]
PDPL_DAYS = 30  # a data subject's request is answered within 30 days (once extendable by 30)
TRANSCRIPT_WINDOW = timedelta(hours=24)  # what a case shows when no request is under way


def pseudonym(inbound: InboundEvent) -> str:
    """How a sender appears in the logs: a stable hash, never the id (a phone number on WhatsApp)."""
    digest = hashlib.sha256(f"{inbound.channel}:{inbound.sender_id}".encode()).hexdigest()
    return f"{inbound.channel}:{digest[:12]}"


@dataclass
class Sender:
    """Who wrote, as the handler knows them during one event."""

    channel: str
    sender_id: str
    chat_id: str
    beneficiary_id: int | None
    forget: bool = False
    conversation: m.Conversation | None = None  # as loaded, written back at the end


class BeneficiaryHandler:
    def __init__(self, db: Database, profile: Profile, translations: dict[str, Translator],
                 clock: Callable[[], datetime], answers: Answers | None = None) -> None:
        self.db, self.profile, self.translations, self.clock = db, profile, translations, clock
        self.answers = answers  # None: the bot answers no question itself

    async def handle(self, inbound: InboundEvent, gate: Gate | None = None) -> bool | StaffView:
        """Process one event; False if it was a redelivery. Errors end here with an apology.
        `gate` runs first in the event's transaction: what it returns instead of the event
        (a staff member, True) is returned at once, nothing more done."""
        try:
            return await self._handle(inbound, gate)
        except Unavailable:  # the database is busy or down: nothing kept; the router asks
            raise            # the channel to deliver the event again
        except Exception:  # the outermost edge of a beneficiary event
            log.exception("event from %s failed", pseudonym(inbound))
            try:
                await self._apologise(inbound)
            except Exception:  # the database itself is failing: the log is all we have
                log.exception("could not queue an apology")
            return True

    async def _handle(self, inbound: InboundEvent, gate: Gate | None) -> bool | StaffView:
        now = self.clock()
        async with self.db.unit_of_work() as uow:
            if gate is not None:
                passed = await gate(uow, inbound)
                if not isinstance(passed, InboundEvent):
                    return passed
                inbound = passed
            if inbound.dedupe_id and not await uow.first_time(
                    inbound.channel, inbound.dedupe_id, now):
                log.info("duplicate %s update %s ignored", inbound.channel, inbound.dedupe_id)
                return False
            who, state = await self._load(uow, inbound)
            case = (await uow.desk.open_case(who.beneficiary_id)
                    if state.step in (Step.CASE, Step.MENU) and who.beneficiary_id is not None
                    else None)
            knowledge = None
            if self.answers:  # only typed words are searched: no look for new answers else
                knowledge = (await self.answers.current(uow) if inbound.event.kind == "text"
                             else self.answers.knowledge)
            ctx = Context(self.profile, now, inbound.channel, self.translations, case, knowledge)
            if who.beneficiary_id is not None and journey.reads_requests(state, inbound.event, ctx):
                ctx = replace(ctx, requests=tuple(
                    await uow.requests.requests_of(who.beneficiary_id)))
            if await self._stale(uow, inbound, state):
                await self._record(uow, who, journey.stale(state, ctx), now)
                return True
            transition = journey.step(state, inbound.event, ctx)
            said = journey.loggable(state, inbound.event, ctx)
            if who.beneficiary_id is not None:  # logged first: a case opened now includes it
                await uow.log_message(who.beneficiary_id, "in", said, now)
                await uow.reachable_again(who.beneficiary_id)
            replies: list[Reply] = []
            for action in transition.actions:
                result = await self._apply(action, uow, who, transition.state, now)
                replies += journey.after(action, result, transition.state, ctx)
            replies += transition.replies
            await self._save(uow, who, transition.state, now, journey.remind_at(transition.state, ctx))
            await self._record(uow, who, replies, now)
        return True

    @staticmethod
    async def _stale(uow: UnitOfWork, inbound: InboundEvent, state: State) -> bool:
        """A button pressed on an older message than the latest one with buttons (but an
        answer's "did this help?", followed by the question of a request asked again)."""
        if inbound.event.kind != "choice" or inbound.reply_to is None:
            return False
        if state.asked is not None and faq.from_answer(inbound.event.choice):
            return False
        latest = await uow.latest_keyboard(inbound.channel, inbound.chat_id)
        return latest is not None and latest != inbound.reply_to

    async def _load(self, uow: UnitOfWork, inbound: InboundEvent) -> tuple[Sender, State]:
        conv = await uow.conversation(inbound.channel, inbound.sender_id)
        beneficiary_id = conv.beneficiary_id if conv else await uow.beneficiary_id(
            inbound.channel, inbound.sender_id)
        who = Sender(inbound.channel, inbound.sender_id, inbound.chat_id, beneficiary_id,
                     conversation=conv)
        fresh = State(lang="en" if (inbound.language_hint or "").startswith("en") else "ar",
                      consented=beneficiary_id is not None,
                      step=Step.MENU if beneficiary_id else Step.WELCOME)
        if conv is None:
            return who, fresh
        try:
            state = State.model_validate(conv.state)
        except ValidationError:
            log.warning("unreadable state of %s; starting at the menu", pseudonym(inbound))
            return who, fresh
        if state.draft and self.profile.service(state.draft.service) is None:
            log.warning("draft for unknown service %s dropped", state.draft.service)
            state.draft, state.step = None, Step.MENU
        return who, state

    async def _save(self, uow: UnitOfWork, who: Sender, state: State, now: datetime,
                    remind_at: datetime | None) -> None:
        if who.forget:
            await uow.forget_conversation(who.channel, who.sender_id)
        elif state.consented or state != State():  # before consent, only a language choice
            await uow.save_conversation(who.channel, who.sender_id, who.beneficiary_id,
                                        state.model_dump(mode="json"), now, remind_at,
                                        row=who.conversation)

    async def _record(self, uow: UnitOfWork, who: Sender, replies: list[Reply],
                      now: datetime) -> None:
        """Replies go to the outbox and, for a consenting beneficiary, to the log."""
        if who.beneficiary_id is not None and not who.forget:
            for reply in replies:
                await uow.log_message(who.beneficiary_id, "out", journey.loggable_reply(reply), now)
        for reply in replies:
            await uow.enqueue(who.channel, who.chat_id, reply.to_dict(), now)

    async def _apply(self, action: Action, uow: UnitOfWork, who: Sender, state: State,
                     now: datetime) -> Any:
        match action:
            case RecordConsent():
                if who.beneficiary_id is None:
                    who.beneficiary_id = await uow.add_beneficiary(
                        who.channel, who.sender_id, who.chat_id, state.lang, now)
                await uow.add_consent(who.beneficiary_id, action.purpose, action.text_version,
                                      state.lang, who.channel, now)
            case Forget():
                who.forget = True
            case SetLanguage():
                await uow.set_language(self._id(who), action.lang)
            case SetAnnouncements():
                withdrawn = await uow.set_announcements(self._id(who), action.on, now)
                await uow.audit(m.AuditEntry(
                    at=now, actor=f"{who.channel}:{who.sender_id}", role="beneficiary",
                    action="announcements_on" if action.on else "announcements_off",
                    allowed=True, beneficiary_id=self._id(who),
                    detail=f"{withdrawn} waiting announcements withdrawn" if withdrawn else None))
            case StoreDocument():
                f = action.file
                await uow.add_document(m.Document(
                    beneficiary_id=self._id(who), field_key=action.field, name=f.name,
                    mime=f.mime, size=f.size, sha256=f.sha256, content=f.content, created_at=now))
            case DiscardDraft():
                await uow.discard_draft_documents(self._id(who))
                if action.since is not None:  # nothing of a cancelled request stays in the log
                    await uow.forget_messages(self._id(who), action.since)
            case SubmitRequest():
                return await self._submit(action, uow, who, state, now)
            case ShowStatus():
                return await uow.requests.requests_of(self._id(who))
            case OpenCase():
                return await self._open_case(action, uow, who, now)
            case AddToCase():
                return await self._add_to_case(action, uow, who, now)
            case ProvideInfo():
                return await self._provide_info(action, uow, who, now)
            case SubmitSurvey():
                return await self._store_survey(action, uow, who, state, now)
            case SubmitFeedback():
                return await self._store_feedback(action, uow, who, now)
            case CountAnswer():
                await uow.faq.count(action.topic, action.outcome, who.channel, state.lang, now)
            case ExportData():
                return await self._export(uow, who, state, now)
            case PlanDeletion():
                return DeletionPlan(tuple(await uow.subject.held(self._id(who))))
            case SignUpVolunteer():
                await uow.add_consent(self._id(who), render.VOLUNTEER_PURPOSE,
                                      action.text_version, state.lang, who.channel, now)
                return await uow.volunteers.sign_up(self._id(who), action.answers, state.lang,
                                                    who.channel, now)
            case WithdrawConsent():
                if action.purpose == render.VOLUNTEER_PURPOSE:  # its details go with it
                    await uow.volunteers.withdraw(self._id(who))
                withdrawn = await uow.subject.withdraw(self._id(who), action.purpose, now)
                await uow.audit(m.AuditEntry(
                    at=now, actor=f"{who.channel}:{who.sender_id}", role="beneficiary",
                    action="consent_withdrawn", allowed=True, beneficiary_id=self._id(who),
                    detail=f"{action.purpose} ({withdrawn})"))
            case DeleteData():
                return await self._destroy(uow, who, now)
            case RequestCorrection():
                return await self._ask_correction(action, uow, who, now)
            case KeepVoice():
                await self._keep_file(action.file, uow, who, now, "voice")
        return None

    async def _ask_correction(self, action: RequestCorrection, uow: UnitOfWork, who: Sender,
                              now: datetime) -> CorrectionFiled | None:
        """A corrected answer for staff to approve on the PDPL clock (its value sealed
        with the request about their data); admins are told one is waiting."""
        person = self._id(who)
        request = await uow.requests.request_by_number(action.number)
        if request is None or request.beneficiary_id != person:
            await uow.audit(m.AuditEntry(
                at=now, actor=f"{who.channel}:{who.sender_id}", role="beneficiary",
                action="correction_asked", allowed=False, beneficiary_id=person,
                detail=action.number[:40]))
            return None
        due = now.astimezone(RIYADH).date() + timedelta(days=PDPL_DAYS)
        asked = m.PrivacyRequest(
            beneficiary_id=person, kind="correction", status="open", created_at=now,
            due_on=due, detail=json.dumps({
                "number": request.number, "field": action.field, "value": action.value,
                "ack_version": action.ack_version, "ack_text": action.ack_text,
                "signature": action.signature, "channel": who.channel,
                "confirmed_at": now.replace(microsecond=0).isoformat()}, ensure_ascii=False))
        uow.session.add(asked)
        await uow.session.flush()
        await uow.audit(m.AuditEntry(
            at=now, actor=f"{who.channel}:{who.sender_id}", role="beneficiary",
            action="correction_asked", allowed=True, beneficiary_id=person,
            request_number=request.number, detail=f"#{asked.id} {action.field}"))
        await Notices(uow, self.profile, self.translations, now).correction_asked(
            request.number, asked.id)
        return CorrectionFiled(asked.id, due)

    async def _destroy(self, uow: UnitOfWork, who: Sender, now: datetime) -> DeletionPlan:
        """Their data destroyed at their request (the PDPL's right to destruction), but what
        the policy still holds, which staff finish on the PDPL clock; audited under a keyed
        hash of their id, which replaces it in the audit log too."""
        person = self._id(who)
        done = await uow.subject.destroy(person, now, lambda actor: audit_pseudonym(uow, actor))
        if done.held:
            due = now.astimezone(RIYADH).date() + timedelta(days=PDPL_DAYS)
            uow.session.add(m.PrivacyRequest(
                beneficiary_id=person, kind="deletion", status="open", created_at=now, due_on=due,
                detail=", ".join(n for n, _ in done.held)))
        await uow.audit(m.AuditEntry(
            at=now, actor=audit_pseudonym(uow, f"{who.channel}:{who.sender_id}"), role="beneficiary",
            action="data_destroyed", allowed=True, beneficiary_id=person,
            detail=done.counts
            + (f"; held {', '.join(n for n, _ in done.held)}" if done.held else "")))
        who.forget = True
        return DeletionPlan(done.held)

    async def _export(self, uow: UnitOfWork, who: Sender, state: State,
                      now: datetime) -> tuple[int, int] | None:
        """Their copy of everything held about them, as two files; audited."""
        ctx = Context(self.profile, now, who.channel, self.translations)
        try:
            files = await mydata.make_copy(uow, self._id(who), state, ctx, now)
        except Exception:  # a failure to make the file: said to them, never their data logged
            log.exception("the copy of %s's data could not be made", who.channel)
            files = None
        await uow.audit(m.AuditEntry(
            at=now, actor=f"{who.channel}:{who.sender_id}", role="beneficiary",
            action="data_copy", allowed=files is not None, beneficiary_id=self._id(who)))
        return files

    async def _store_survey(self, action: SubmitSurvey, uow: UnitOfWork, who: Sender,
                            state: State, now: datetime) -> SurveyStored:
        """The answers, once per survey while it is open; an anonymous answer keeps no link
        to the person, the survey or the researcher. A low rating with a comment, given with
        a name, opens a follow-up for an admin."""
        row = await uow.survey(action.survey_id)
        if row is None or row.beneficiary_id != self._id(who):
            return SurveyStored(False)
        anonymous = action.anonymous
        answer = m.SurveyAnswer(
            survey_id=None if anonymous else row.id, kind=row.kind, service=row.service,
            staff_id=None if anonymous else row.staff_id, rating=action.rating,
            comment=action.comment, extra=action.extra, anonymous=anonymous,
            language=state.lang, channel=who.channel,
            answered_on=now.astimezone(RIYADH).date(), answered_at=None if anonymous else now)
        if not await uow.answer_survey(row.id, answer, now):
            return SurveyStored(False)
        if anonymous or action.rating > survey.LOW or not action.comment:
            return SurveyStored(True)
        subject = row.subject.split(":", 1)[1]
        detail = f"{subject} · {action.rating}/5"
        case = await self._desk_case(uow, who, now, "low_rating", detail, action.comment,
                                     audience="admin")
        await self._tell_admins(uow, case, f"{detail}\n{action.comment}", now)
        return SurveyStored(True, case.id)

    async def _store_feedback(self, action: SubmitFeedback, uow: UnitOfWork, who: Sender,
                              now: datetime) -> FeedbackStored:
        """A suggestion or complaint: a ticket number, and the desk's queue."""
        year = now.astimezone(RIYADH).year
        prefix = self.profile.feedback_prefix
        ticket = f"{prefix}-{year}-{await uow.next_value(f'feedback:{prefix}:{year}'):06d}"
        if action.file:
            await self._keep_file(action.file, uow, who, now, "feedback")
        case = await self._desk_case(uow, who, now, action.kind, ticket, action.text)
        await uow.add_feedback(m.Feedback(ticket=ticket, kind=action.kind, text=action.text,
                                          beneficiary_id=self._id(who), case_id=case.id,
                                          channel=who.channel, created_at=now))
        return FeedbackStored(ticket)

    async def _desk_case(self, uow: UnitOfWork, who: Sender, now: datetime, reason: str,
                         detail: str, text: str, audience: str = "researcher") -> CaseView:
        """A case for the desk holding `text`; added to the open case if there is one."""
        existing = await uow.desk.open_case(self._id(who))
        if existing is not None:
            await uow.desk.add_entry(existing.id, CaseEntry("in", f"[{detail}] {text}", now))
            return existing
        case = await uow.desk.add_case(self._id(who), reason, detail, who.channel, now,
                                       [CaseEntry("in", text, now)], audience)
        if audience == "researcher":
            await to_staff_group(uow, self.profile, self.translations, case, now, opened=True)
            await Notices(uow, self.profile, self.translations, now).new_case(case)
        return case

    async def _tell_admins(self, uow: UnitOfWork, case: CaseView, text: str, now: datetime) -> None:
        """A follow-up is for admins only: each gets it in their own chat, with a button."""
        for admin in await uow.desk.admins():
            _ = self.translations["ar"].gettext  # staff read Arabic first
            lead = _("A low rating with a comment, to follow up (case #{case}):").format(case=case.id)
            reply = Reply(f"{lead}\n{text}",
                          (Choice(f"claim:{case.id}", _("Take #{case}").format(case=case.id)),))
            await uow.enqueue(admin.channel, admin.sender_id, reply.to_dict(), now)

    async def _add_to_case(self, action: AddToCase, uow: UnitOfWork, who: Sender,
                           now: datetime) -> CaseView:
        """Into the open case (a new one if it was closed meanwhile), and on to the researcher
        who holds it."""
        case = await uow.desk.open_case(self._id(who))
        if case is None:
            return await self._new_case(OpenCase("message"), uow, who, now)
        document_id = await self._keep_file(action.file, uow, who, now, "case") if action.file else None
        await uow.desk.add_entry(case.id, CaseEntry("in", action.text, now,
                                                    document_id=document_id))
        ctx = Context(self.profile, now, who.channel, self.translations)
        await to_staff_group(uow, self.profile, self.translations, case, now,
                             text=f"← {transcript.line(action.text, 'ar', ctx)}",
                             document_id=document_id)
        if case.status == "claimed" and case.claimed_by is not None:
            staff = await uow.desk.staff_by_id(case.claimed_by)
            if staff is not None:
                name = await known_name(uow, case.beneficiary_id, self.profile)
                said = transcript.line(action.text, staff.language or "ar", ctx)
                if action.stepped_out:  # in the researcher's own language
                    said = self.translations[staff.language or "ar"].gettext(
                        "They went back to the bot's menu. What you write still reaches them.")
                lines = [f"← {desk.tag(case.id, name)}:", said]
                if document_id:
                    lines.append(f"/doc {document_id}")
                relay = Reply("\n".join(lines), document_id=document_id)  # the photo itself
                await uow.enqueue(staff.channel, staff.sender_id, relay.to_dict(), now)
                await uow.audit(m.AuditEntry(
                    at=now, actor=f"{who.channel}:{who.sender_id}", role="beneficiary",
                    action="relay_in", allowed=True, case_id=case.id,
                    beneficiary_id=case.beneficiary_id))
        return case

    async def _keep_file(self, file: FileRef, uow: UnitOfWork, who: Sender, now: datetime,
                         field: str, request_id: int | None = None) -> int | None:
        """A file sent in a case or as requested information is kept with the beneficiary."""
        if not file.content or file.size > self.profile.max_file_mb * 1024 * 1024:
            return None
        row = m.Document(beneficiary_id=self._id(who), request_id=request_id, field_key=field,
                         name=file.name, mime=file.mime, size=file.size, sha256=file.sha256,
                         content=file.content, created_at=now)
        await uow.add_document(row)
        return row.id

    async def _provide_info(self, action: ProvideInfo, uow: UnitOfWork, who: Sender,
                            now: datetime) -> str | None:
        """The missing information: noted on the request, which goes back under review; the
        researcher who asked for it is told."""
        request = await uow.requests.request_by_number(action.number)
        if request is None or request.beneficiary_id != self._id(who) or request.status != "needs_info":
            return None
        document_id = None
        if action.file:
            document_id = await self._keep_file(action.file, uow, who, now, "needs_info",
                                                request.id)
        asked_by = next((e.actor for e in reversed(await uow.requests.request_events(request.id))
                         if e.status == "needs_info"), None)
        await uow.requests.set_request_status(request.id, "under_review", "beneficiary", action.text, now)
        staff = (await uow.desk.staff_by_id(int(asked_by.split(":")[1]))
                 if asked_by and asked_by.startswith("staff:") else None)
        await Notices(uow, self.profile, self.translations, now).info_arrived(
            request, staff, action.text, document_id)
        return request.number

    @staticmethod
    def _id(who: Sender) -> int:
        if who.beneficiary_id is None:
            raise RuntimeError("action needs a consenting beneficiary")
        return who.beneficiary_id

    async def _submit(self, action: SubmitRequest, uow: UnitOfWork, who: Sender, state: State,
                      now: datetime) -> Submitted:
        today = now.astimezone(RIYADH).date()
        prefix = self.profile.request_prefix
        seq = await uow.next_value(f"request:{prefix}:{today.year}")
        number = f"{prefix}-{today.year}-{seq:06d}"
        due = today + timedelta(days=self.profile.decision.days)
        now = now.replace(microsecond=0)
        ack = AckView(
            text_version=action.ack_version, text=action.ack_text, signature=action.signature,
            channel=who.channel, at=now,
            sha256=acknowledgment.digest(number, action.service, action.answers,
                                         action.ack_version, action.signature, now))
        row = await uow.requests.add_request(
            number, self._id(who), action.service, action.answers, state.lang, who.channel, now,
            due, ack, actor="beneficiary", national_id=self.profile.national_id(action.answers))
        service = self.profile.service(action.service)
        files = [v["sha256"] for f in (service.fields if service else ())
                 if f.kind is FieldKind.FILE and isinstance(v := action.answers.get(f.key), dict)]
        await uow.attach_documents(self._id(who), files, row.id)
        await Notices(uow, self.profile, self.translations, now).submitted(row)
        return Submitted(number, due)

    async def _open_case(self, action: OpenCase, uow: UnitOfWork, who: Sender,
                         now: datetime) -> CaseOpened:
        existing = await uow.desk.open_case(self._id(who))
        if existing:
            return CaseOpened(existing.id, already_open=True)
        case = await self._new_case(action, uow, who, now)
        return CaseOpened(case.id, already_open=False)

    async def _new_case(self, action: OpenCase, uow: UnitOfWork, who: Sender,
                        now: datetime) -> CaseView:
        """A queued case with the conversation so far: the current request's, or the last day's."""
        since = action.since or now - TRANSCRIPT_WINDOW
        transcript = await uow.recent_messages(self._id(who), since=since)
        # the voice notes kept meanwhile come with it, each where it was said, to listen to
        voices = await uow.kept_voices(self._id(who), since)  # in the order they came
        entries = []
        for msg in transcript:
            doc = voices.pop(0) if voices and msg.direction == "in" and msg.text.startswith(
                "[voice] ") else None
            if doc is not None:
                doc.field_key = "case"
            entries.append(CaseEntry(msg.direction, msg.text, msg.at,
                                     document_id=doc.id if doc else None))
        case = await uow.desk.add_case(
            self._id(who), action.reason, action.detail, who.channel, now, entries)
        await to_staff_group(uow, self.profile, self.translations, case, now, opened=True)
        await Notices(uow, self.profile, self.translations, now).new_case(case)
        return case

    async def _apologise(self, inbound: InboundEvent) -> None:
        """Nothing of the failed event was kept; say so kindly and keep the chat where it was."""
        async with self.db.unit_of_work() as uow:
            conv = await uow.conversation(inbound.channel, inbound.sender_id)
            lang = (conv.state.get("lang") if conv else None) or "ar"
            text = render.apology(self.translations[lang].gettext)
            await uow.enqueue(inbound.channel, inbound.chat_id, Reply(text).to_dict(), self.clock())


async def to_staff_group(uow: UnitOfWork, profile: Profile, translations: dict[str, Translator],
                         case: CaseView, now: datetime, *, opened: bool = False,
                         text: str | None = None, document_id: int | None = None) -> None:
    """Post about a case in the profile's Telegram staff group: a new case opens its topic
    (with buttons to take it, close it, open the file); later messages go into it."""
    group = profile.staff_group
    if group is None:
        return
    _ = translations["ar"].gettext
    title = desk.tag(case.id, await known_name(uow, case.beneficiary_id, profile))
    choices: tuple = ()
    if opened:
        ctx = Context(profile, now, "telegram", translations)
        reason = desk.reason_label(case, "ar", ctx)
        lines = [title, reason] + [
            f"{'←' if msg.direction == 'in' else '→'} {transcript.line(msg.text, 'ar', ctx)}"
            for msg in (await uow.desk.entries(case.id))[-10:]]
        text = "\n".join(lines)
        choices = (Choice(f"claim:{case.id}", _("Take #{case}").format(case=case.id)),
                   Choice(f"file:{case.id}", _("📁 File")),
                   Choice(f"close:{case.id}", _("✖ Close")))
    reply = Reply(text or title, choices, case_id=case.id, document_id=document_id,
                  open_topic=title if opened and group.topics else None)
    await uow.enqueue("telegram", str(group.telegram_chat_id), reply.to_dict(), now, priority=0)
