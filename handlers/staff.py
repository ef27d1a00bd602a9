"""The staff router: social researchers and admins in their own chat with the bot.

Every event is checked against the sender's role here, on the server side, and
every action (and every refusal) is written to the audit log in the same
transaction as its effect.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime

from conversations import acknowledgment, desk, journey, kinds, render, transcript
from conversations.base import (
    RIYADH,
    CaseEntry,
    CaseView,
    Choice,
    Context,
    Event,
    InboundEvent,
    Reply,
    StaffView,
    Translator,
)
from conversations.profile import Profile
from conversations.state import State, Step
from conversations.text import ascii_digits, fold
from handlers import search, surveys
from handlers.broadcasts import AnnouncementDesk
from handlers.notices import Notices, known_name
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


class Desk(AnnouncementDesk):
    """One staff event: the command, its checks, its effects, its audit entry."""

    def __init__(self, uow: UnitOfWork, staff: StaffView, ctx: Context, lang: str,
                 now: datetime) -> None:
        self.uow, self.staff, self.ctx, self.lang, self.now = uow, staff, ctx, lang, now
        self._ = ctx.tr(lang).gettext
        self.group_case: int | None = None  # in the staff group: the case being discussed

    async def dispatch(self, inbound: InboundEvent) -> list[Reply]:
        """Load what the desk knows of this staff member, let the pure `desk.route` say
        where the event goes, and do it."""
        state = await self._state(inbound)
        if state.in_group and state.topic_case is not None:
            self.group_case = state.topic_case.id
        replies: list[Reply] = []
        for step in desk.route(state, inbound.event):
            match step:
                case desk.Run(command):
                    replies += await self.execute(command)
                case desk.Relay(event):
                    if self.group_case is not None and await self._current() is None:
                        break  # the claim before it did not succeed: nothing is relayed
                    replies += await self.relay(event)
                case desk.Compose(event):
                    draft = await self.uow.draft_of(self.staff.id)
                    if draft is not None:
                        replies += await self.draft_input(draft, event)
                case desk.Refuse(detail):
                    assert self.group_case is not None
                    await self.audit("group_action", allowed=False, case_id=self.group_case,
                                     detail=detail)
                    replies.append(await self._why_not_claimed(self.group_case))
                case desk.NumberHint(text):
                    replies.append(Reply(self._(
                        "A number alone is not sent to the beneficiary, so that a button's "
                        "number never reaches them by mistake. To send it, write /say {text}")
                        .format(text=text)))
        if self.group_case is not None:  # into the case's topic
            return [replace(r, case_id=self.group_case) for r in replies]
        return replies

    async def _state(self, inbound: InboundEvent) -> desk.DeskState:
        """The typed staff state `desk.route` decides on."""
        if inbound.chat_id != inbound.sender_id:  # the staff group: which case it is about
            command = desk.parse(inbound.event)
            case = None
            if command and command.name in ("/claim", "/close", "/file") and _number(command.args):
                case = await self.uow.desk.case(_number(command.args) or 0)
            elif inbound.thread_id:
                case = await self.uow.desk.case_by_topic(inbound.thread_id)
            elif inbound.reply_to:
                case = await self.uow.desk.case_by_message(inbound.channel, inbound.chat_id,
                                                      inbound.reply_to)
            return desk.DeskState(self.staff.role, self.staff.id, in_group=True, topic_case=case)
        composing = False
        if self.staff.role == "admin":  # an announcement waiting for its text or a value?
            draft = await self.uow.draft_of(self.staff.id)
            composing = draft is not None and bool(draft.stage) and (
                draft.stage == "content" or draft.stage.startswith("value:"))
        choices: tuple[str, ...] = ()
        if desk.number_alone(inbound.event):
            choices = tuple(await self.uow.latest_choices(self.staff.channel, inbound.chat_id))
        return desk.DeskState(self.staff.role, self.staff.id, composing=composing, choices=choices)

    async def execute(self, command: desk.Command) -> list[Reply]:
        """The one door of every staff command, from every entry point (private chat, the
        staff group and its topics, buttons): the role check, its audit, then the command."""
        if command.name not in desk.COMMAND_TABLE:
            return [desk.help_text(self.staff, self.lang, self.ctx)]
        if not desk.allowed(self.staff.role, command.name):
            await self.audit(command.name.lstrip("/"), allowed=False, case_id=self.group_case,
                             detail="admin only")
            return [Reply(self._("Only an admin can do this."))]
        return await getattr(self, "do_" + command.name.lstrip("/"))(command.args)

    async def audit(self, action: str, *, allowed: bool = True, case_id: int | None = None,
                    number: str | None = None, beneficiary_id: int | None = None,
                    detail: str | None = None) -> None:
        await self.uow.audit(m.AuditEntry(
            at=self.now, actor=f"{self.staff.channel}:{self.staff.sender_id}",
            role=self.staff.role, action=action, allowed=allowed, case_id=case_id,
            request_number=number, beneficiary_id=beneficiary_id, detail=detail))

    # -- the queue and cases ---------------------------------------------------
    async def do_help(self, args: str) -> list[Reply]:
        return [desk.help_text(self.staff, self.lang, self.ctx)]

    async def do_queue(self, args: str) -> list[Reply]:
        cases = await self.uow.desk.queue(self.staff.role)
        named = [(c, await known_name(self.uow, c.beneficiary_id, self.ctx.profile))
                 for c in cases]
        await self.audit("view_queue")
        return [desk.queue(named, self.lang, self.ctx)]

    async def do_claim(self, args: str) -> list[Reply]:
        case_id = _number(args)
        if case_id is None:
            return [Reply(self._("Which case? For example: /claim 12"))]
        wanted = await self.uow.desk.case(case_id)
        if wanted is not None and wanted.audience == "admin" and self.staff.role != "admin":
            await self.audit("claim", allowed=False, case_id=case_id, detail="admin only")
            return [Reply(self._("Only an admin can do this."))]
        if not await self.uow.desk.claim(case_id, self.staff.id, self.now):
            await self.audit("claim", allowed=False, case_id=case_id, detail="not queued")
            return [await self._why_not_claimed(case_id)]
        case = await self.uow.desk.case(case_id)
        assert case is not None
        me = await self.uow.desk.staff_by_id(self.staff.id)
        held = {c.id for c in await self.uow.desk.cases_held_by(self.staff.id)}
        if self.group_case is None or me is None or me.current_case_id not in held:
            # taken in a topic, it is answered there: their private chat keeps its case
            await self.uow.desk.set_current_case(self.staff.id, case_id)
        await self.audit("claim", case_id=case_id, beneficiary_id=case.beneficiary_id)

        await self._notify(case.beneficiary_id, lambda lg: [desk.joined(self.staff, lg, self.ctx)],
                           _talking)
        return [await self._transcript(case_id, self._("You took case #{case}.").format(case=case_id))]

    async def _why_not_claimed(self, case_id: int) -> Reply:
        case = await self.uow.desk.case(case_id)
        if case is None:
            return Reply(self._("There is no case #{case}.").format(case=case_id))
        if case.status == "claimed" and case.claimed_by:
            holder = await self.uow.desk.staff_by_id(case.claimed_by)
            name = holder.name if holder else "?"
            return Reply(self._("Case #{case} was already taken by {name}.").format(
                case=case_id, name=name))
        return Reply(self._("Case #{case} is closed.").format(case=case_id))

    async def _transcript(self, case_id: int, lead: str) -> Reply:
        case = await self.uow.desk.case(case_id)
        assert case is not None
        name = await known_name(self.uow, case.beneficiary_id, self.ctx.profile)
        lines = [lead, f"{desk.tag(case.id, name)} · {desk.reason_label(case, self.lang, self.ctx)}", ""]
        for entry in (await self.uow.desk.entries(case_id))[-20:]:
            lines.append(self._entry(entry, {}))
        lines += ["", self._("What you write now goes to the beneficiary. /note for internal "
                             "notes, /file for their file, /close to finish.")]
        return Reply("\n".join(lines), desk.case_buttons(case, self.lang, self.ctx))

    async def _current(self) -> CaseView | None:
        """The case this researcher is working on, if they still hold it."""
        if self.group_case is not None:
            case = await self.uow.desk.case(self.group_case)
            return case if case and case.status == "claimed" and case.claimed_by == self.staff.id else None
        me = await self.uow.desk.staff_by_id(self.staff.id)
        if me is None or me.current_case_id is None:
            return None
        case = await self.uow.desk.case(me.current_case_id)
        if case is None or case.status != "claimed" or case.claimed_by != self.staff.id:
            return None
        return case

    async def _no_case(self) -> list[Reply]:
        held = await self.uow.desk.cases_held_by(self.staff.id)
        if held:
            return [await self._which_case(held)]
        return [Reply(self._("You have no current case. Send /queue to take one."))]

    async def _which_case(self, held: list[CaseView]) -> Reply:
        """Asked when a researcher holds cases but none is current: which one goes on."""
        named = [desk.tag(c.id, await known_name(self.uow, c.beneficiary_id, self.ctx.profile))
                 for c in held]
        return Reply("\n".join([self._("You hold these cases. Which one do you continue?"), *named]),
                     tuple(render.Choice(f"switch:{c.id}", f"#{c.id}") for c in held[:10]))

    async def _let_go(self, case_id: int) -> list[Reply]:
        """After this researcher handed a case on (closed, released, transferred): if it was
        their current one, the only case they still hold becomes current, or they are asked
        which one; a current case that is another stays as it is."""
        me = await self.uow.desk.staff_by_id(self.staff.id)
        if me is None or me.current_case_id not in (case_id, None):
            return []
        held = await self.uow.desk.cases_held_by(self.staff.id)
        await self.uow.desk.set_current_case(self.staff.id, held[0].id if len(held) == 1 else None)
        if len(held) == 1:
            name = await known_name(self.uow, held[0].beneficiary_id, self.ctx.profile)
            return [Reply(self._("What you write now goes to case {case}.").format(
                case=desk.tag(held[0].id, name)))]
        return [await self._which_case(held)] if held else []

    async def _held(self, args: str) -> tuple[CaseView | None, str, list[Reply]]:
        """The case a command acts on: the one its first word names (a button carries its
        case, so an old button never acts on another), which this staff member must hold;
        else their current case. (case, the rest of the arguments, the refusal if any)."""
        first, _sp, rest = args.strip().partition(" ")
        named = _number(first) if first and not first.startswith("@") else None
        if named is None:
            case = await self._current()
            return case, args.strip(), [] if case else await self._no_case()
        case = await self.uow.desk.case(named)
        if case is None or case.status != "claimed" or case.claimed_by != self.staff.id:
            return None, rest, [Reply(self._("You do not hold case #{case}.").format(case=named))]
        return case, rest, []

    async def do_release(self, args: str) -> list[Reply]:
        case, _rest, refused = await self._held(args)
        if case is None:
            return refused
        await self.uow.desk.release(case.id, self.staff.id)
        await self.audit("release", case_id=case.id, beneficiary_id=case.beneficiary_id)
        return [Reply(self._("Case #{case} is back in the queue.").format(case=case.id)),
                *await self._let_go(case.id)]

    async def do_transfer(self, args: str) -> list[Reply]:
        case, args, refused = await self._held(args)
        if case is None:
            return refused
        # an admins' follow-up goes only to another admin
        roles = ("admin",) if case.audience == "admin" else ("researcher", "admin")
        colleagues = [s for s in await self.uow.desk.team(roles) if s.id != self.staff.id]
        if not args.strip():  # which colleague: one button each
            if not colleagues:
                return [Reply(self._("There is no colleague to hand the case to."))]
            return [Reply(self._("To whom do you hand case #{case}?").format(case=case.id),
                          tuple(Choice(f"transfer:{case.id} @{s.id}", s.name[:40])
                                for s in colleagues[:10]))]
        if args.strip().startswith("@"):  # a pressed button
            wanted = _number(args.strip()[1:])
            found = [s for s in colleagues if s.id == wanted]
        else:
            found = [s for s in await self.uow.desk.staff_by_name(args.strip())
                     if s.id in {c.id for c in colleagues}]
        if len(found) != 1:
            return [Reply(self._("I found no single colleague named \"{name}\". Send /transfer "
                                 "with a name from the team list.").format(name=args.strip()))]
        colleague = found[0]
        await self.uow.desk.transfer(case.id, self.staff.id, colleague.id, self.now)
        await self.audit("transfer", case_id=case.id, beneficiary_id=case.beneficiary_id,
                         detail=f"to staff:{colleague.id}")
        lead = self._("{name} handed you case #{case}.").format(name=self.staff.name, case=case.id)
        busy_with = colleague.current_case_id
        if busy_with is not None and busy_with != case.id and any(
                c.id == busy_with for c in await self.uow.desk.cases_held_by(colleague.id)):
            # they are talking with someone else: their next message still goes there
            lead += "\n" + self._("What you write still goes to case #{current}. To answer this "
                                  "one, send /switch {case}.").format(current=busy_with, case=case.id)
            handed = Reply(lead, (render.Choice(f"switch:{case.id}", f"#{case.id}"),))
        else:
            await self.uow.desk.set_current_case(colleague.id, case.id)
            handed = await self._transcript(case.id, lead)
        await self.uow.enqueue(colleague.channel, colleague.sender_id, handed.to_dict(), self.now)
        await self._notify(case.beneficiary_id,
                           lambda lg: [desk.joined(colleague, lg, self.ctx)])
        return [Reply(self._("Case #{case} is now with {name}.").format(
            case=case.id, name=colleague.name)), *await self._let_go(case.id)]

    async def do_cases(self, args: str) -> list[Reply]:
        mine = await self.uow.desk.cases_held_by(self.staff.id)
        if not mine:
            return [Reply(self._("You hold no cases."))]
        me = await self.uow.desk.staff_by_id(self.staff.id)
        lines = [self._("Your cases:")]
        for c in mine:
            current = " ✓" if me is not None and me.current_case_id == c.id else ""
            lines.append(f"{desk.tag(c.id, await known_name(self.uow, c.beneficiary_id, self.ctx.profile))}"
                         f" · {desk.reason_label(c, self.lang, self.ctx)}{current}")
        return [Reply("\n".join(lines), tuple(
            render.Choice(f"switch:{c.id}", f"#{c.id}") for c in mine[:10]))]

    async def do_switch(self, args: str) -> list[Reply]:
        case_id = _number(args)
        case = await self.uow.desk.case(case_id) if case_id else None
        if case is None or case.claimed_by != self.staff.id or case.status != "claimed":
            return [Reply(self._("You do not hold case #{case}.").format(case=args.strip()))]
        await self.uow.desk.set_current_case(self.staff.id, case.id)
        return [await self._transcript(case.id, self._("Now on case #{case}.").format(case=case.id))]

    async def do_close(self, args: str) -> list[Reply]:
        case, _rest, refused = await self._held(args)
        if case is None:
            return refused
        await self.uow.desk.close_case(case.id, self.staff.id, self.now)
        await self.audit("close", case_id=case.id, beneficiary_id=case.beneficiary_id)

        def back_to_menu(state: State) -> None:
            if state.step == Step.CASE:
                state.step = Step.MENU

        if case.reason in desk.TICKETS:  # a suggestion or a complaint: no help to rate
            await self._notify(case.beneficiary_id, lambda lg: [
                desk.ticket_closed(case.detail or "", lg, self.ctx), _menu(lg, self.ctx)],
                back_to_menu)
            return [Reply(self._("Case #{case} is closed.").format(case=case.id)),
                    *await self._let_go(case.id)]
        rating = await surveys.for_case(self.uow, self.ctx.profile, case, self.staff.id, self.now)
        await self._notify(case.beneficiary_id,
                           lambda lg: desk.closed(lg, self.ctx, _menu(lg, self.ctx))[:1 if rating else 2],
                           back_to_menu)
        if rating is not None:  # the short question about the help, instead of the menu
            await surveys.invite(self.uow, self.ctx.profile, self.ctx.translations, rating, self.now)
        return [Reply(self._("Case #{case} is closed.").format(case=case.id)),
                *await self._let_go(case.id)]

    # -- talking with the beneficiary --------------------------------------------
    async def do_say(self, args: str) -> list[Reply]:
        """Sends the text exactly, even a number alone (which would press a button)."""
        if not args.strip():
            return [Reply(self._("Write the message after the command: /say TEXT"))]
        return await self.relay(Event("text", text=args.strip()))

    async def relay(self, event: Event) -> list[Reply]:
        case = await self._current()
        if case is None:
            return await self._no_case()
        text = event.text if event.kind == "text" else event.describe()
        if not text.strip():
            return []
        document_id = None
        if event.file is not None and event.file.content:  # a form or a photo for them
            row = m.Document(beneficiary_id=case.beneficiary_id, field_key="from_staff",
                             name=event.file.name, mime=event.file.mime, size=event.file.size,
                             sha256=event.file.sha256, content=event.file.content,
                             created_at=self.now)
            await self.uow.add_document(row)
            document_id, text = row.id, f"📎 {event.file.name}"
        await self.uow.desk.add_entry(case.id, CaseEntry("out", text, self.now, self.staff.id,
                                                         document_id))
        await self.uow.desk.first_reply(case.id, self.now)

        def message(lang: str) -> list[Reply]:
            return [replace(desk.relayed(self.staff, text, lang, self.ctx), document_id=document_id)]

        await self._notify(case.beneficiary_id, message, _talking)
        await self.audit("relay_out", case_id=case.id, beneficiary_id=case.beneficiary_id)
        return await self._sent_to(case)

    async def _sent_to(self, case: CaseView) -> list[Reply]:
        """In their own chat, a researcher is told which case a message went to (in the
        group, the topic says it)."""
        if self.group_case is not None:
            return []
        name = await known_name(self.uow, case.beneficiary_id, self.ctx.profile)
        return [Reply(self._("✓ Sent → {case}").format(case=desk.tag(case.id, name)))]

    async def do_note(self, args: str) -> list[Reply]:
        case = await self._current()
        if case is None:
            return await self._no_case()
        if not args.strip():
            return [Reply(self._("Write the note after the command: /note TEXT"))]
        await self.uow.desk.add_entry(case.id, CaseEntry("note", args.strip(), self.now,
                                                         self.staff.id))
        await self.audit("note", case_id=case.id, beneficiary_id=case.beneficiary_id)
        return [Reply(self._("Note saved on case #{case}; the beneficiary does not see it.")
                      .format(case=case.id))]

    async def do_canned(self, args: str) -> list[Reply]:
        canned = {c.key: c for c in self.ctx.profile.canned_replies}
        if args.strip() not in canned:
            lines = [self._("Ready answers (/canned KEY sends one):")]
            lines += [f"{key}: {c.text.get(self.lang)}" for key, c in canned.items()]
            return [Reply("\n".join(lines) if canned else self._("The profile has no ready answers."))]
        case = await self._current()
        if case is None:
            return await self._no_case()
        reply = canned[args.strip()]
        await self.uow.desk.add_entry(case.id, CaseEntry("out", reply.text.get("ar"), self.now,
                                                         self.staff.id))
        await self.uow.desk.first_reply(case.id, self.now)
        await self._notify(case.beneficiary_id,
                           lambda lg: [desk.relayed(self.staff, reply.text.get(lg), lg, self.ctx)],
                           _talking)
        await self.audit("relay_out", case_id=case.id, beneficiary_id=case.beneficiary_id,
                         detail=f"canned:{reply.key}")
        return await self._sent_to(case)

    async def _notify(self, beneficiary_id: int, replies: Callable[[str], list[Reply]],
                      change: Callable[[State], None] | None = None,
                      notice: str = "staff_reply") -> None:
        """Send to a beneficiary on their own channel, in their language; optionally move
        their conversation (a closed case returns them to the menu). Marked as a notice
        from this staff member (WhatsApp's templates outside its 24-hour window)."""
        identity = await self.uow.identity_of(beneficiary_id)
        person = await self.uow.beneficiary(beneficiary_id)
        if identity is None or person is None:
            return
        conv = await self.uow.conversation(identity.channel, identity.sender_id)
        state = State.model_validate(conv.state) if conv else State(consented=True)
        lang = state.lang or person.language
        if change is not None:
            change(state)
            await self.uow.save_conversation(identity.channel, identity.sender_id, beneficiary_id,
                                             state.model_dump(mode="json"), self.now)
        for reply in replies(lang):
            reply = replace(reply, notice=notice, staff_id=self.staff.id)
            await self.uow.enqueue(identity.channel, identity.chat_id, reply.to_dict(), self.now)

    # -- the beneficiary's file and their requests ---------------------------------
    async def do_file(self, args: str) -> list[Reply]:
        words = args.strip().split()
        named = _number(words[0]) if words else None
        if self.group_case is not None:  # the topic's case
            case = await self.uow.desk.case(self.group_case)
        elif named is not None:  # a button under one of their cases
            case, _rest, refused = await self._held(words[0])
            if case is None:
                return refused
        else:
            case = await self._current()
        if case is None:
            return await self._no_case()
        if case.audience == "admin" and self.staff.role != "admin":
            await self.audit("view_file", allowed=False, case_id=case.id, detail="admin only")
            return [Reply(self._("Only an admin can do this."))]
        full = any(w.lower() in ("full", "كامل") for w in words)
        await self.audit("view_file", case_id=case.id, beneficiary_id=case.beneficiary_id,
                         detail="full" if full else "masked")
        lines = [self._("File of beneficiary #{id}:").format(id=case.beneficiary_id)]
        numbers: list[str] = []
        statuses: dict[str, str] = {}
        docs: list[int] = []
        for request in await self.uow.requests.requests_of(case.beneficiary_id):
            lines.append("")
            service = self.ctx.profile.service(request.service)
            lines.append(f"{request.number} · {desk.service_label(request.service, self.lang, self.ctx)}"
                         f" · {desk.status_label(request.status, self.lang, self.ctx)}")
            for key, value in request.fields.items():
                spec = service.field(key) if service and any(f.key == key for f in service.fields) else None
                shown = kinds.for_staff(spec, value, full=full, lang=self.lang, ctx=self.ctx)
                lines.append(f"  {spec.label.get(self.lang) if spec else key}: {shown}")
            numbers.append(request.number)
            statuses[request.number] = request.status
            for doc in await self.uow.documents_of(request.id):
                lines.append(f"  📎 {doc.name} ({doc.mime}) /doc {doc.id}")
                docs.append(doc.id)
            ack = await self.uow.requests.acknowledgment(request.id)
            if ack:
                ok = ack.sha256 == acknowledgment.digest(request.number, request.service,
                                                         request.fields, ack.text_version,
                                                         ack.signature, ack.at)
                lines.append("  " + (self._("Acknowledgment: signed, data unchanged") if ok
                                     else self._("Acknowledgment: the stored data has CHANGED "
                                                 "since it was signed")))
        history = [c for c in await self.uow.desk.cases_of(case.beneficiary_id)]
        lines += ["", self._("Cases: {list}").format(
            list=", ".join(f"#{c.id} ({self._(desk.CASE_STATUS.get(c.status, c.status))})"
                           for c in history))]
        buttons = [Choice(f"doc:{d}", f"📎 {d}") for d in docs] + [
            Choice(f"request:{n}", self._("Status of {number}").format(number=n))
            for n in numbers if desk.LIFECYCLE.get(statuses[n])]
        return [Reply("\n".join(lines), tuple(buttons[-10:]))]

    async def do_doc(self, args: str) -> list[Reply]:
        """A beneficiary's document, sent to the researcher's chat."""
        doc_id = _number(args)
        doc = await self.uow.document(doc_id) if doc_id else None
        if doc is None:
            return [Reply(self._("There is no document {id}.").format(id=args.strip() or "?"))]
        held = {c.beneficiary_id for c in await self.uow.desk.cases_held_by(self.staff.id)}
        if self.staff.role != "admin" and doc.beneficiary_id not in held:
            await self.audit("view_document", allowed=False, beneficiary_id=doc.beneficiary_id,
                             detail=f"doc:{doc.id} no case held")
            return [Reply(self._("You can open a document only while you hold a case of its "
                                 "beneficiary."))]
        await self.audit("view_document", beneficiary_id=doc.beneficiary_id, detail=f"doc:{doc.id}")
        return [Reply(f"📎 {doc.name} ({doc.mime}, {doc.size // 1024 + 1} KB)", document_id=doc.id)]

    async def do_request(self, args: str) -> list[Reply]:
        number, _sp, rest = args.strip().partition(" ")
        status, note = desk.parse_status(rest, self.ctx)
        request = await self.uow.requests.request_by_number(number.upper())
        if request is None:
            return [Reply(self._("No request {number}. Write: /request NUMBER STATUS [note]")
                          .format(number=number or "?"))]
        allowed = desk.LIFECYCLE.get(request.status, ())
        if not rest.strip():  # which status: one button each
            return [desk.next_statuses(request.number, request.status, self.lang, self.ctx)]
        if status not in allowed:
            await self.audit("status_change", allowed=False, number=request.number,
                             beneficiary_id=request.beneficiary_id,
                             detail=f"{request.status}->{status or 'unrecognised'}")
            return [Reply(self._("From \"{current}\" a request can go to: {allowed}.").format(
                current=desk.status_label(request.status, self.lang, self.ctx),
                allowed=self._(", ").join(desk.status_label(a, self.lang, self.ctx)
                                          for a in allowed) or "-"))]
        if status in desk.NEEDS_NOTE and not note.strip():
            return [Reply(self._("Please add what is missing or the reason after the status."))]
        note = note.strip() or None
        await self.uow.requests.set_request_status(request.id, status, f"staff:{self.staff.id}",
                                                   note, self.now)
        await self.audit("status_change", number=request.number,
                         beneficiary_id=request.beneficiary_id,
                         detail=f"{request.status}->{status}")

        def ask_for_info(state: State) -> None:
            if status == "needs_info":
                state.info_for = request.number
                if state.step not in (Step.CASE,) and not state.draft:
                    state.step = Step.NEEDS_INFO

        await self._notify(request.beneficiary_id,
                           lambda lg: [desk.status_changed(request.number, status, note, lg, self.ctx)],
                           ask_for_info, notice="status")
        if status == "service_delivered":  # the beneficiary's right to rate it
            rating = await surveys.for_delivery(self.uow, self.ctx.profile, request, self.now)
            if rating is not None:
                await surveys.invite(self.uow, self.ctx.profile, self.ctx.translations, rating,
                                     self.now)
        return [Reply(self._("{number} is now: {status}. The beneficiary was told.").format(
            number=request.number, status=desk.status_label(status, self.lang, self.ctx)))]

    # -- the team, search and history ----------------------------------------------
    async def do_team(self, args: str) -> list[Reply]:
        """Every open case, its holder and its wait against the reply target."""
        rows = await Notices(self.uow, self.ctx.profile, self.ctx.translations, self.now).board(
            self.staff.role)
        await self.audit("view_team")
        return [desk.board(rows, self.lang, self.ctx)]

    async def do_find(self, args: str) -> list[Reply]:
        query = args.strip()
        if len(fold(query).replace(" ", "")) < 3:  # two letters would find half the city
            return [Reply(self._("Write what to search for after the command, for example: "
                                 "/find BK-2026-000001, a national ID, a mobile or a name."))]
        found = await search.find(self.uow, self.ctx.profile, query, self.staff.role)
        await self.audit("search", detail=f"{len(found)} found")  # never the query itself
        return [desk.search_results(query, found, self.lang, self.ctx)]

    async def do_history(self, args: str) -> list[Reply]:
        beneficiary_id = _number(args)
        if beneficiary_id is None:
            case = await self._current() or (
                await self.uow.desk.case(self.group_case) if self.group_case else None)
            if case is None:
                return [Reply(self._("Whose history? Send /find NAME first, or take a case."))]
            beneficiary_id = case.beneficiary_id
        if await self.uow.beneficiary(beneficiary_id) is None:
            return [Reply(self._("There is no beneficiary #{id}.").format(id=beneficiary_id))]
        cases = [c for c in await self.uow.desk.cases_of(beneficiary_id)
                 if c.audience == "researcher" or self.staff.role == "admin"]
        requests = await self.uow.requests.requests_of(beneficiary_id)
        steps = await self.uow.requests.steps([r.id for r in requests])
        name = await known_name(self.uow, beneficiary_id, self.ctx.profile)
        await self.audit("view_history", beneficiary_id=beneficiary_id)
        return [desk.history(beneficiary_id, name, requests, steps, cases,
                             await self.uow.desk.staff_names(), self.lang, self.ctx)]

    async def _readable(self, action: str, args: str) -> CaseView | Reply:
        """The case named in a command, if this staff member's role may see it."""
        case_id = _number(args)
        case = await self.uow.desk.case(case_id) if case_id else None
        if case is None:
            return Reply(self._("There is no case #{case}.").format(case=args.strip() or "?"))
        if case.audience == "admin" and self.staff.role != "admin":
            await self.audit(action, allowed=False, case_id=case.id, detail="admin only")
            return Reply(self._("Only an admin can do this."))
        return case

    async def do_read(self, args: str) -> list[Reply]:
        """A case's whole conversation, a closed one too."""
        case = await self._readable("read_case", args)
        if isinstance(case, Reply):
            return [case]
        names = await self.uow.desk.staff_names()
        entries = [self._entry(e, names) for e in await self.uow.desk.entries(case.id)]
        await self.audit("read_case", case_id=case.id, beneficiary_id=case.beneficiary_id)
        name = await known_name(self.uow, case.beneficiary_id, self.ctx.profile)
        return [desk.conversation(case, name, entries[-200:], self.lang, self.ctx)]

    def _entry(self, entry: CaseEntry, names: dict[int, str]) -> str:
        """One line of a case's conversation in words: who, when, what."""
        mark = {"in": "←", "out": "→", "note": "✎"}.get(entry.direction, "·")
        if entry.direction == "out" and entry.staff_id is None:
            mark += " 🤖"  # what the bot itself said
        who = f" {names[entry.staff_id]}" if names and entry.staff_id in names else ""
        at = f"{entry.at.astimezone(RIYADH):%H:%M}" if names else ""
        doc = f" (/doc {entry.document_id})" if entry.document_id else ""
        head = f"{mark}{who} {at}".rstrip()
        said = entry.text if entry.direction == "note" else transcript.line(
            entry.text, self.lang, self.ctx)
        return f"{head} {said}{doc}"

    async def do_reopen(self, args: str) -> list[Reply]:
        """A closed case taken again: the conversation goes on where it stopped."""
        case = await self._readable("reopen", args)
        if isinstance(case, Reply):
            return [case]
        if case.status != "closed":
            return [Reply(self._("Case #{case} is still open.").format(case=case.id))]
        if not await self.uow.desk.reopen(case.id, self.staff.id, self.now):
            other = await self.uow.desk.open_case(case.beneficiary_id)
            await self.audit("reopen", allowed=False, case_id=case.id, detail="another open")
            return [Reply(self._("This beneficiary has another open case, #{other}: continue "
                                 "there.").format(other=other.id if other else "?"))]
        await self.uow.desk.set_current_case(self.staff.id, case.id)
        await self.audit("reopen", case_id=case.id, beneficiary_id=case.beneficiary_id)
        await self._notify(case.beneficiary_id,
                           lambda lg: [desk.joined(self.staff, lg, self.ctx)], _reopened)
        return [await self._transcript(case.id, self._("You reopened case #{case}.").format(
            case=case.id))]

    async def do_language(self, args: str) -> list[Reply]:
        wanted = args.strip().lower()
        lang = {"ar": "ar", "en": "en", "عربي": "ar", "العربية": "ar",
                "english": "en", "انجليزي": "en"}.get(wanted)
        if lang is None:
            return [Reply(self._("Write /language ar or /language en."))]
        await self.uow.desk.set_language(self.staff.id, lang)
        self.lang, self._ = lang, self.ctx.tr(lang).gettext
        return [Reply(self._("The desk speaks English with you now.") if lang == "en"
                      else self._("The desk speaks Arabic with you now."))]

    # -- admins --------------------------------------------------------------------
    async def do_report(self, args: str) -> list[Reply]:
        """The board report as files in the admin's chat: /report [FROM] [TO] [staff]."""
        from bot.report import figures, files

        words = [ascii_digits(w) for w in args.split()]
        by_staff = any(w.lower() in ("staff", "الموظفين") for w in words)
        dates = [w for w in words if w.lower() not in ("staff", "الموظفين")]
        today = self.now.astimezone(RIYADH).date()
        try:
            start = date.fromisoformat(dates[0]) if dates else today.replace(day=1)
            end = date.fromisoformat(dates[1]) if len(dates) > 1 else today
        except ValueError:
            start = end = None
        if start is None or end is None or start > end or len(dates) > 2:
            return [Reply(self._("Write: /report 2026-01-01 2026-03-31 (add \"staff\" for figures "
                                 "per researcher). Without dates: this month so far."))]
        rows = await figures.load(self.uow.session, start, end)
        report = figures.compute(self.ctx.profile, start, end, rows, by_staff=by_staff, now=self.now)
        tr = self.ctx.tr(self.lang)
        replies = []
        for fmt, mime in (("xlsx", XLSX), ("csv", "text/csv"), ("png", "image/png")):
            content = files.RENDERERS[fmt](report, tr)
            row = m.Document(beneficiary_id=None, field_key="report", name=files.file_name(report, fmt),
                             mime=mime, size=len(content), sha256=hashlib.sha256(content).hexdigest(),
                             content=content, created_at=self.now)
            await self.uow.add_document(row)
            replies.append(Reply(f"📎 {row.name}", document_id=row.id))
        await self.audit("report", detail=f"{start}..{end}{' staff' if by_staff else ''}")
        lead = self._("The report from {start} to {end}:").format(start=start, end=end)
        return [Reply(lead), *replies]

    async def do_staff(self, args: str) -> list[Reply]:
        await self.audit("view_staff")
        team = await self.uow.desk.all_staff()
        return [Reply("\n".join(f"{s.name} · {desk.role_label(s.role, self.lang, self.ctx)} · {s.channel}"
                                for s in team))]

    async def do_audit(self, args: str) -> list[Reply]:
        entries = (await self.uow.audit_entries())[-20:]
        await self.audit("view_audit")
        lines = [self._("The latest audit entries (Riyadh time):")] + [
            f"{desk.when(e.at, self.lang, self.ctx)} {e.actor} {e.action}{'' if e.allowed else ' ✖'}"
            f"{f' #{e.case_id}' if e.case_id else ''}{f' {e.request_number}' if e.request_number else ''}"
            for e in entries]
        return [Reply("\n".join(lines))]


def _talking(state: State) -> None:
    """A researcher wrote: what the beneficiary writes at the menu now reaches them."""
    if state.step == Step.MENU:
        state.step = Step.CASE
    journey.researcher_wrote(state)


def _reopened(state: State) -> None:
    """A case reopened: what the beneficiary writes reaches the researcher again, even if
    they were rating the help of the case's first part (that rating can wait)."""
    if state.step != Step.WELCOME:  # an unfinished request waits in its draft
        state.step, state.survey = Step.CASE, None


def _number(text: str) -> int | None:
    """A case, document or beneficiary number as typed (#12, ١٢): 1 to 15 plain digits."""
    digits = ascii_digits(text.strip()).lstrip("#")
    return int(digits) if re.fullmatch(r"[0-9]{1,15}", digits) else None


def _menu(lang: str, ctx: Context) -> Reply:
    return render.menu(State(lang=lang, consented=True, step=Step.MENU), ctx)
