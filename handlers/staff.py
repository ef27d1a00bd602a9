"""The staff router: social researchers and admins in their own chat with the bot.

Every event is checked against the sender's role here, on the server side, and
every action (and every refusal) is written to the audit log in the same
transaction as its effect.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from conversations import desk, desk_step, render, review
from conversations.base import (
    CaseEntry,
    Context,
    DocumentView,
    Event,
    FileRef,
    InboundEvent,
    Reply,
    RequestView,
    StaffView,
    Translator,
)
from conversations.profile import Profile
from conversations.state import State
from conversations.text import arabic_or_english
from handlers import search, surveys
from handlers.broadcasts import AnnouncementDesk
from handlers.notices import Notices, known_names
from storage import models as m
from storage.db import Database, Unavailable
from storage.repositories import UnitOfWork

log = logging.getLogger(__name__)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class StaffHandler:
    def __init__(self, db: Database, profile: Profile, translations: dict[str, Translator],
                 clock: Callable[[], datetime]) -> None:
        self.db, self.profile, self.translations, self.clock = db, profile, translations, clock

    async def handle(self, inbound: InboundEvent, staff: StaffView) -> None:
        try:
            await self._handle(inbound, staff)
        except Unavailable:  # busy or down: delivered again (see Router)
            raise
        except Exception:  # the outermost edge of a staff event: nothing of it was kept
            log.exception("staff event from staff:%s failed", staff.id)
            async with self.db.unit_of_work() as uow:
                text = render.apology(self.translations["ar"].gettext)
                await uow.enqueue(staff.channel, inbound.chat_id, Reply(text).to_dict(),
                                  self.clock())

    async def _handle(self, inbound: InboundEvent, staff: StaffView) -> None:
        now = self.clock()
        lang = staff.language or ("en" if (inbound.language_hint or "").startswith("en") else "ar")
        ctx = Context(self.profile, now, inbound.channel, self.translations)
        async with self.db.unit_of_work() as uow:
            if inbound.dedupe_id and not await uow.first_time(
                    inbound.channel, inbound.dedupe_id, now):
                return
            desk_ = Desk(uow, staff, ctx, lang, now)
            replies = await desk_.dispatch(inbound)
            for reply in replies:
                await uow.enqueue(staff.channel, inbound.chat_id, reply.to_dict(), now)


async def run_command(db: Database, profile: Profile, translations: dict[str, Translator],
                      channel: str, sender_id: str, text: str, now: datetime) -> list[Reply] | None:
    """One desk command from outside a chat (`wasl desk`): the same door, checks and audit
    as in the staff member's chat; None if they are not staff."""
    command = desk.parse(Event("text", text=text))
    async with db.unit_of_work() as uow:
        staff = await uow.desk.staff_member(channel, sender_id)
        if staff is None or command is None:
            return None
        ctx = Context(profile, now, channel, translations)
        return await Desk(uow, staff, ctx, staff.language or "ar", now).execute(command)


def document_view(row: m.Document) -> DocumentView:
    return DocumentView(row.id, row.beneficiary_id, row.name, row.mime, row.size,
                        row.request_id, row.field_key)


class Desk(AnnouncementDesk):
    """One staff event: load what the desk knows, let the pure `desk.route` and
    `desk_step.step` decide, and apply what they decided (audit entries included) in the
    caller's unit of work."""

    def __init__(self, uow: UnitOfWork, staff: StaffView, ctx: Context, lang: str,
                 now: datetime) -> None:
        self.uow, self.staff, self.ctx, self.lang, self.now = uow, staff, ctx, lang, now
        self._ = ctx.tr(lang).gettext
        self.group_case: int | None = None  # in the staff group: the case being discussed
        self.awaited: str | None = None  # the command their message completes (dispatch)

    async def dispatch(self, inbound: InboundEvent) -> list[Reply]:
        """Load what the desk knows of this staff member, let the pure `desk.route` say
        where the event goes, and do it."""
        self.awaited = desk.awaited(self.staff.awaiting, self.now)
        state = await self._state(inbound)
        if state.in_group and state.topic_case is not None:
            self.group_case = state.topic_case.id
        replies: list[Reply] = []
        if self.staff.awaiting:  # what they were asked lasts for this one message
            await self.uow.desk.set_awaiting(self.staff.id, None)
        for step in desk.route(state, inbound.event):
            match step:
                case desk.Run(command) if state.in_group and command.name in desk.PRIVATE:
                    for reply in await self.execute(command):  # to their own chat
                        await self.uow.enqueue(self.staff.channel, self.staff.sender_id,
                                               reply.to_dict(), self.now)
                    replies.append(Reply(self._("🔒 {name}: this is in your private chat with "
                                                "the bot.").format(name=self.staff.first_name)))
                case desk.Run(command):
                    replies += await self.execute(command)
                case desk.Relay(event):
                    facts = await self.load(None)
                    if self.group_case is not None and facts.current is None:
                        break  # the claim before it did not succeed: nothing is relayed
                    replies += await self.apply(desk_step.relay(facts, event, self.ctx), facts)
                case desk.Compose(event):
                    replies += await self.draft_input(event)
                case desk.Refuse(detail):
                    assert self.group_case is not None
                    facts = await self.load(desk.Command("/claim", str(self.group_case)))
                    await self.audit("group_action", allowed=False, case_id=self.group_case,
                                     detail=detail)
                    replies.append(desk_step.why_not_taken(facts, self.group_case, self.ctx))
                case desk.NumberHint(text):
                    replies.append(desk_step.number_hint(text, self.lang, self.ctx))
        if self.group_case is not None:  # into the case's topic
            return [replace(r, case_id=self.group_case) for r in replies]
        return replies

    async def _state(self, inbound: InboundEvent) -> desk.DeskState:
        """The typed staff state `desk.route` decides on."""
        if inbound.chat_id != inbound.sender_id:  # the staff group: which case it is about
            command = desk.parse(inbound.event)
            case = None
            named = desk_step.number(command.args) if command else None
            if command and command.name in ("/claim", "/close", "/file") and named:
                case = await self.uow.desk.case(named)
            elif inbound.thread_id:
                case = await self.uow.desk.case_by_topic(inbound.thread_id)
            elif inbound.reply_to:
                case = await self.uow.desk.case_by_message(inbound.channel, inbound.chat_id,
                                                           inbound.reply_to)
            return desk.DeskState(self.staff.role, self.staff.id, awaiting=self.awaited,
                                  in_group=True, topic_case=case)
        if self.awaited:  # a note (a photo) a command asked for: nothing else
            return desk.DeskState(self.staff.role, self.staff.id, awaiting=self.awaited)
        # an announcement waiting for its text or a value?
        composing = self.staff.role == "admin" and await self.composing()
        choices: tuple[str, ...] = ()
        if desk.number_alone(inbound.event):
            choices = tuple(await self.uow.latest_choices(self.staff.channel, inbound.chat_id))
        return desk.DeskState(self.staff.role, self.staff.id, composing=composing, choices=choices)

    async def execute(self, command: desk.Command) -> list[Reply]:
        """The one door of every staff command, from every entry point (private chat, the
        staff group and its topics, buttons, the CLI): the role check, its audit, then the
        command's pure step and its actions."""
        if command.name not in desk.COMMAND_TABLE:
            return [desk.help_text(self.staff, self.lang, self.ctx)]
        if not desk.allowed(self.staff.role, command.name):
            await self.audit(command.name.lstrip("/"), allowed=False, case_id=self.group_case,
                             number=desk_step.requested(command.args) or None
                             if command.name in desk_step.NAMES_A_REQUEST else None,
                             detail=f"not for a {self.staff.role}")
            return [Reply(desk.refusal(command.name, self.lang, self.ctx))]
        if command.name not in desk_step.DECISIONS:  # composing and following announcements
            return await getattr(self, "do_" + command.name.lstrip("/"))(command.args)
        for _attempt in range(3):  # a lost race: decided again on what is true now
            facts = await self.load(command)
            replies = await self.apply(desk_step.step(facts, command, self.ctx), facts)
            if replies is not None:
                return replies
        raise RuntimeError(f"{command.name}: the case kept changing under the desk")

    async def audit(self, action: str, *, allowed: bool = True, case_id: int | None = None,
                    number: str | None = None, beneficiary_id: int | None = None,
                    detail: str | None = None) -> None:
        await self.uow.audit(m.AuditEntry(
            at=self.now, actor=f"{self.staff.channel}:{self.staff.sender_id}",
            role=self.staff.role, action=action, allowed=allowed, case_id=case_id,
            request_number=number, beneficiary_id=beneficiary_id, detail=detail))

    # -- reading: the facts a command is decided on ----------------------------------------
    async def load(self, command: desk.Command | None) -> desk_step.Facts:
        """What `desk_step` needs to decide this command (None: words for a beneficiary)."""
        d = self.uow.desk
        me = await d.staff_by_id(self.staff.id) or self.staff
        held = tuple(await d.cases_held_by(self.staff.id))
        group = await d.case(self.group_case) if self.group_case else None
        wanted = desk_step.named_case(command) if command else None
        named = await d.case(wanted) if wanted else None
        facts = desk_step.Facts(me, self.lang, group, held, named,
                                upload=command.file if command else None)
        extra = await self._reads(facts, command) if command else {}
        cases = [*held, *(c for c in (named, group) if c), *extra.get("queue", ())]
        whose = {c.beneficiary_id for c in cases} | (
            {extra["beneficiary_id"]} if extra.get("beneficiary_id") else set()) | {
            r.beneficiary_id for r in (*extra.get("pending", ()), extra.get("request")) if r}
        names = await known_names(self.uow, whose, self.ctx.profile)
        return replace(facts, names=names, **extra)

    async def _reads(self, facts: desk_step.Facts, command: desk.Command) -> dict[str, Any]:
        """What one command reads beyond the cases in hand."""
        d, r, args, got = self.uow.desk, self.uow.requests, command.args.strip(), {}
        named = facts.named
        subject = desk_step.acted_on(facts, command)
        if subject is not None:
            got["entries"] = tuple(await d.entries(subject.id))
        match command.name:
            case "/claim" if named is not None and named.claimed_by:
                got["holder"] = await d.staff_by_id(named.claimed_by)
            case "/read":
                got["staff_names"] = await d.staff_names()
            case "/close" if (closing := named or facts.current) is not None:
                got["rated"] = await self.uow.has_survey(f"case:{closing.id}")
            case "/reopen" if named is not None and named.status == "closed":
                got["other_open"] = await d.open_case(named.beneficiary_id)
            case "/transfer":
                team = await d.team()
                got["colleagues"] = tuple(team)
                got["holding"] = {s.id: tuple(c.id for c in await d.cases_held_by(s.id))
                                  for s in team if s.current_case_id is not None}
            case "/queue":
                got["queue"] = tuple(await d.queue(self.staff.role))
            case "/team":
                got["board"] = tuple(await Notices(self.uow, self.ctx.profile,
                                                   self.ctx.translations, self.now)
                                     .board(self.staff.role))
                _submitted, late = await r.waiting_requests(self.ctx.today)
                got["waiting"] = review.waiting(await self.uow.review.queue(),
                                                await self.uow.review.with_committee(), late,
                                                self.ctx)
            case "/find" if desk_step.search_query(args) is not None:
                got["found"] = tuple(await search.find(self.uow, self.ctx.profile, args,
                                                       self.staff.role))
            case "/history" if (whose := desk_step.whose_history(facts, args)) is not None:
                got.update(await self._beneficiary(whose, with_steps=True))
                got["staff_names"] = await d.staff_names()
            case "/file" if (shown := desk_step.file_case(facts, command)) is not None:
                got.update(await self._beneficiary(shown.beneficiary_id, with_files=True))
            case "/doc" if (doc_id := desk_step.number(args)) is not None:
                row = await self.uow.document(doc_id)
                if row is not None:
                    got["document"] = document_view(row)
                    if row.request_id is not None:
                        got["request"] = await r.request_by_id(row.request_id)
            case "/reviews":
                got["pending"] = tuple(await self.uow.review.queue())
                got["staff_names"] = await d.staff_names()
            case "/committee":
                got["pending"] = tuple(await self.uow.review.with_committee())
            case "/request":  # a status move reads the request alone
                got["request"] = await r.request_by_number(desk_step.requested(args))
            case name if name in desk_step.NAMES_A_REQUEST:
                got.update(await self._request(desk_step.requested(args)))
            case "/staff":
                got["team"] = tuple(await d.all_staff())
            case "/privacy":
                got["privacy"] = tuple([await self._privacy_line(p) for p in
                                        await self.uow.subject.open_privacy_requests()])
            case "/audit":
                got["audit"] = tuple(
                    desk_step.AuditLine(e.at, e.actor, e.action, e.allowed, e.case_id,
                                        e.request_number)
                    for e in (await self.uow.audit_entries())[-20:])
        return got

    async def _privacy_line(self, p: m.PrivacyRequest) -> desk_step.PrivacyLine:
        """A data request as /privacy decides on it: a correction with its request as it
        is stored now, and its acknowledgment."""
        if p.kind != "correction" or not p.detail:
            return desk_step.PrivacyLine(p.id, p.beneficiary_id, p.kind, p.detail, p.created_at,
                                         p.due_on, p.extended_on)
        asked = json.loads(p.detail)
        request = await self.uow.requests.request_by_number(asked["number"])
        if request is not None and request.beneficiary_id != p.beneficiary_id:
            request = None
        ack = await self.uow.requests.acknowledgment(request.id) if request else None
        return desk_step.PrivacyLine(
            p.id, p.beneficiary_id, p.kind, None, p.created_at, p.due_on, p.extended_on,
            desk_step.CorrectionAsked(
                request, ack, asked["field"], asked["value"], asked["ack_version"],
                asked["ack_text"], asked["signature"],
                datetime.fromisoformat(asked["confirmed_at"]), asked["channel"]))

    async def _request(self, number: str) -> dict[str, Any]:
        """A request a command names, with what its review steps read."""
        request = await self.uow.requests.request_by_number(number)
        if request is None:
            return {}
        rv = self.uow.review
        return {
            "request": request,
            "docs": tuple(map(document_view, await self.uow.documents_of(request.id))),
            "marks": tuple(await rv.marks(request.id)),
            "registration": await rv.registration(request.id),
            "decision": await rv.decision(request.id),
            "delivery": await rv.delivery(request.id),
            "reviewer": await self.uow.desk.staff_by_id(request.reviewer_id)
            if request.reviewer_id else None,
            "staff_names": await self.uow.desk.staff_names(),
        }

    async def _beneficiary(self, beneficiary_id: int, *, with_steps: bool = False,
                           with_files: bool = False) -> dict[str, Any]:
        """A beneficiary's requests and cases (and their steps, or documents and
        acknowledgments) for /history and /file."""
        r = self.uow.requests
        got: dict[str, Any] = {"beneficiary_id": beneficiary_id,
                               "known": await self.uow.beneficiary(beneficiary_id) is not None}
        requests = tuple(await r.requests_of(beneficiary_id))
        got["requests"] = requests
        got["cases"] = tuple(await self.uow.desk.cases_of(beneficiary_id))
        if with_steps:
            got["steps"] = await r.steps([q.id for q in requests])
        if with_files:
            got["documents"] = {q.id: tuple(map(document_view, await self.uow.documents_of(q.id)))
                                for q in requests}
            got["acks"] = {q.id: ack for q in requests
                           if (ack := await r.acknowledgment(q.id)) is not None}
        return got

    # -- writing: what a step decided ------------------------------------------------------
    async def apply(self, decided: desk_step.DeskStep, facts: desk_step.Facts) -> list[Reply] | None:
        """Carry out a step's actions in order; None when its first action lost a race (so
        nothing of it happened and the command is decided again)."""
        replies = list(decided.replies)
        for n, action in enumerate(decided.actions):
            assert n == 0 or not isinstance(action, desk_step.GUARDS), "a guard comes first"
            result = await self._do(action)
            if isinstance(action, desk_step.GUARDS) and not result:
                return None
            replies += desk_step.after(action, result, facts, self.ctx)
        return replies

    async def _do(self, action: desk_step.Action) -> object:
        d, staff, now = self.uow.desk, self.staff, self.now
        match action:
            case desk_step.Audit(what, allowed, case_id, number, beneficiary_id, detail):
                await self.audit(what, allowed=allowed, case_id=case_id, number=number,
                                 beneficiary_id=beneficiary_id, detail=detail)
            case desk_step.TakeCase(case_id):
                return await d.claim(case_id, staff.id, now)
            case desk_step.ReopenCase(case_id):
                return await d.reopen(case_id, staff.id, now)
            case desk_step.SetCurrent(staff_id, case_id):
                await d.set_current_case(staff_id, case_id)
            case desk_step.ReleaseCase(case_id):
                await d.release(case_id, staff.id)
            case desk_step.TransferCase(case_id, to_staff_id):
                await d.transfer(case_id, staff.id, to_staff_id, now)
            case desk_step.CloseCase(case_id):
                await d.close_case(case_id, staff.id, now)
            case desk_step.Write():
                await self._write(action)
            case desk_step.AddNote(case_id, text):
                await d.add_entry(case_id, CaseEntry("note", text, now, staff.id))
            case desk_step.Teach(case_id, beneficiary_id, question, answer):
                taught = await self.uow.faq.teach([question], answer, arabic_or_english(answer),
                                                  f"staff:{staff.id}",
                                                  now, case_id)
                await self.audit("faq_teach", case_id=case_id, beneficiary_id=beneficiary_id,
                                 detail=f"taught.{taught}")
                return taught
            case desk_step.Tell(beneficiary_id, message, move, notice):
                await self._notify(beneficiary_id,
                                   lambda lg: desk_step.tell(message, lg, self.ctx), move, notice)
            case desk_step.ToStaff(colleague, reply):
                await self.uow.enqueue(colleague.channel, colleague.sender_id, reply.to_dict(), now)
            case desk_step.ExtendPrivacy(request_id, due):
                await self.uow.subject.extend(request_id, due, self.ctx.today)
            case desk_step.AnswerCorrection(privacy_id, approved, reason):
                return await self.uow.subject.answer(
                    privacy_id, now, "approved" if approved else "rejected", reason)
            case desk_step.CorrectRequest(privacy_id, request, fields, national_id, ack, old):
                note = (f"#{privacy_id}: acknowledgment {old.text_version if old else '-'} "
                        f"sha256 {old.sha256 if old else '-'} → {ack.text_version} "
                        f"sha256 {ack.sha256}")
                await self.uow.requests.correct(request.id, dict(fields), national_id, ack,
                                                f"staff:{staff.id}", note, now)
            case desk_step.SetStatus(request, status, note):
                await self.uow.requests.set_request_status(request.id, status,
                                                           f"staff:{staff.id}", note, now)
            case desk_step.RateCase(case):
                rating = await surveys.for_case(self.uow, self.ctx.profile, case, staff.id, now)
                if rating is not None:
                    await surveys.invite(self.uow, self.ctx.profile, self.ctx.translations,
                                         rating, now)
            case desk_step.RateDelivery(request):
                rating = await surveys.for_delivery(self.uow, self.ctx.profile, request, now)
                if rating is not None:
                    await surveys.invite(self.uow, self.ctx.profile, self.ctx.translations,
                                         rating, now)
            case desk_step.Await(awaited):
                await d.set_awaiting(staff.id, awaited and desk.awaiting_value(awaited, now))
            case desk_step.TakeReview(request):
                return await self.uow.review.take(request.id, staff.id, now)
            case desk_step.Mark(request, item, matched, note):
                await self.uow.review.mark(request.id, item, matched, note, staff.id, now)
            case desk_step.Register(request):
                return await self._register(request)
            case desk_step.Decide(request, decision):
                return await self.uow.review.decide(
                    request, decision.outcome, decision.reason, decision.meeting,
                    decision.meeting_date, staff.id, now)
            case desk_step.Deliver(request, delivery, receipt):
                if receipt is not None:
                    delivery = replace(delivery, receipt_document_id=await self._keep(
                        receipt, request.beneficiary_id, "receipt", request.id))
                return await self.uow.review.deliver(request, delivery)
            case desk_step.SaveLanguage(lang):
                await d.set_language(staff.id, lang)
                self.lang, self._ = lang, self.ctx.tr(lang).gettext
            case desk_step.MakeReport(start, end, by_staff):
                return await self._report(start, end, by_staff)
        return None

    async def _register(self, request: RequestView) -> str:
        """The beneficiary's file number (theirs already, or the next one), the registration,
        and who is told: the beneficiary, and the committee."""
        rv, prefix = self.uow.review, self.ctx.profile.registration_prefix
        file_number = await rv.file_number(request.beneficiary_id)
        if file_number is None:
            file_number = f"{prefix}-{await self.uow.next_value(f'file:{prefix}'):06d}"
        await rv.register(request, file_number, self.staff.id, self.now)
        await self._notify(request.beneficiary_id, lambda lg: [review.registered(
            request.number, file_number, request.decision_due, lg, self.ctx)], None, "status")
        await Notices(self.uow, self.ctx.profile, self.ctx.translations, self.now).registered(
            request, file_number)
        return file_number

    async def _keep(self, file: FileRef, beneficiary_id: int, field_key: str,
                    request_id: int | None = None) -> int:
        """A file staff sent (a form for the beneficiary, a receipt), stored: its id."""
        row = m.Document(beneficiary_id=beneficiary_id, request_id=request_id,
                         field_key=field_key, name=file.name, mime=file.mime, size=file.size,
                         sha256=file.sha256, content=file.content, created_at=self.now)
        await self.uow.add_document(row)
        return row.id

    async def _write(self, action: desk_step.Write) -> None:
        """Words (and a file) to the beneficiary: kept in the case, sent on their channel."""
        document_id = None
        if action.file is not None:  # a form or a photo for them
            document_id = await self._keep(action.file, action.beneficiary_id, "from_staff")
        await self.uow.desk.add_entry(action.case_id, CaseEntry(
            "out", action.texts["ar"], self.now, self.staff.id, document_id))
        await self.uow.desk.first_reply(action.case_id, self.now)
        await self._notify(action.beneficiary_id, lambda lg: [desk_step.written(
            self.staff, action.texts, lg, self.ctx, document_id)], "talking")

    async def _notify(self, beneficiary_id: int, replies: Callable[[str], list[Reply]],
                      move: str | None = None, notice: str = "staff_reply") -> None:
        """Send to a beneficiary on their own channel, in their language; optionally move
        their conversation (`desk_step.moved`). Marked as a notice from this staff member
        (WhatsApp's templates outside its 24-hour window)."""
        identity = await self.uow.identity_of(beneficiary_id)
        person = await self.uow.beneficiary(beneficiary_id)
        if identity is None or person is None:
            return
        conv = await self.uow.conversation(identity.channel, identity.sender_id)
        state = State.model_validate(conv.state) if conv else State(consented=True)
        lang = state.lang or person.language
        if move is not None:
            state = desk_step.moved(state, move)
            await self.uow.save_conversation(identity.channel, identity.sender_id, beneficiary_id,
                                             state.model_dump(mode="json"), self.now)
        for reply in replies(lang):
            reply = replace(reply, notice=notice, staff_id=self.staff.id)
            await self.uow.enqueue(identity.channel, identity.chat_id, reply.to_dict(), self.now)

    async def _report(self, start: date, end: date, by_staff: bool) -> list[tuple[str, int]]:
        """The board report's files, stored for the admin's chat: (name, document id)."""
        from bot.report import figures, files

        rows = await figures.load(self.uow, start, end)
        report = figures.compute(self.ctx.profile, start, end, rows, by_staff=by_staff,
                                 now=self.now)
        tr = self.ctx.tr(self.lang)
        stored = []
        for fmt, mime in (("xlsx", XLSX), ("csv", "text/csv"), ("png", "image/png")):
            content = files.RENDERERS[fmt](report, tr)
            row = m.Document(beneficiary_id=None, field_key="report",
                             name=files.file_name(report, fmt), mime=mime, size=len(content),
                             sha256=hashlib.sha256(content).hexdigest(), content=content,
                             created_at=self.now)
            await self.uow.add_document(row)
            stored.append((row.name, row.id))
        return stored
