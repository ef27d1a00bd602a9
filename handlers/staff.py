"""The staff router: social researchers and admins in their own chat with the bot.

Every event is checked against the sender's role here, on the server side, and
every action (and every refusal) is written to the audit log in the same
transaction as its effect.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime

from conversations import acknowledgment, desk, fields, render
from conversations.base import (
    RIYADH,
    CaseView,
    Context,
    Event,
    InboundEvent,
    Reply,
    StaffView,
    Translator,
)
from conversations.profile import FieldKind, FieldSpec, Profile
from conversations.state import State, Step
from conversations.text import ascii_digits
from handlers import surveys
from handlers.beneficiary import beneficiary_name
from handlers.broadcasts import AnnouncementDesk
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
        lang = "en" if (inbound.language_hint or "").startswith("en") else "ar"
        ctx = Context(self.profile, now, inbound.channel, self.translations)
        async with self.db.unit_of_work() as uow:
            if inbound.dedupe_id and not await uow.first_time(
                    inbound.channel, inbound.dedupe_id, now):
                return
            desk_ = Desk(uow, staff, ctx, lang, now)
            replies = await desk_.dispatch(inbound)
            for reply in replies:
                await uow.enqueue(staff.channel, inbound.chat_id, reply.to_dict(), now)


class Desk(AnnouncementDesk):
    """One staff event: the command, its checks, its effects, its audit entry."""

    def __init__(self, uow: UnitOfWork, staff: StaffView, ctx: Context, lang: str,
                 now: datetime) -> None:
        self.uow, self.staff, self.ctx, self.lang, self.now = uow, staff, ctx, lang, now
        self._ = ctx.tr(lang).gettext
        self.group_case: int | None = None  # in the staff group: the case being discussed

    async def dispatch(self, inbound: InboundEvent) -> list[Reply]:
        if inbound.chat_id != inbound.sender_id:
            return await self.in_group(inbound)
        command = desk.parse(inbound.event)
        if command is None and self.staff.role == "admin":  # composing an announcement?
            draft = await self.uow.draft_of(self.staff.id)
            if draft is not None and draft.stage and (
                    draft.stage == "content" or draft.stage.startswith("value:")):
                return await self.draft_input(draft, inbound.event)
        if command is None and desk.number_alone(inbound.event):
            command = await self._pressed_by_number(inbound)
            if command is None:
                return [Reply(self._("A number alone is not sent to the beneficiary, so that a "
                                     "button's number never reaches them by mistake. To send "
                                     "it, write /say {text}").format(text=inbound.event.text.strip()))]
        if command is None:
            return await self.relay(inbound.event)
        return await self.execute(command)

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

    async def _pressed_by_number(self, inbound: InboundEvent) -> desk.Command | None:
        """A number typed where the desk last offered buttons presses that button (text
        channels number them); the number itself is never relayed."""
        typed = ascii_digits(inbound.event.text.strip()).lstrip("#")
        choices = await self.uow.latest_choices(self.staff.channel, inbound.chat_id)
        if not typed.isdigit() or not 1 <= int(typed) <= len(choices):
            return None
        return desk.parse(Event("choice", choice=choices[int(typed) - 1]))

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
        cases = await self.uow.queue(self.staff.role)
        named = [(c, await beneficiary_name(self.uow, c.beneficiary_id, self.ctx.profile))
                 for c in cases]
        await self.audit("view_queue")
        return [desk.queue(named, self.lang, self.ctx)]

    async def do_claim(self, args: str) -> list[Reply]:
        case_id = _number(args)
        if case_id is None:
            return [Reply(self._("Which case? For example: /claim 12"))]
        wanted = await self.uow.case(case_id)
        if wanted is not None and wanted.audience == "admin" and self.staff.role != "admin":
            await self.audit("claim", allowed=False, case_id=case_id, detail="admin only")
            return [Reply(self._("Only an admin can do this."))]
        if not await self.uow.claim(case_id, self.staff.id, self.now):
            await self.audit("claim", allowed=False, case_id=case_id, detail="not queued")
            return [await self._why_not_claimed(case_id)]
        case = await self.uow.case(case_id)
        assert case is not None
        await self.uow.set_current_case(self.staff.id, case_id)
        await self.audit("claim", case_id=case_id, beneficiary_id=case.beneficiary_id)

        await self._notify(case.beneficiary_id, lambda lg: [desk.joined(self.staff, lg, self.ctx)],
                           _talking)
        return [await self._transcript(case_id, self._("You took case #{case}.").format(case=case_id))]

    async def _why_not_claimed(self, case_id: int) -> Reply:
        case = await self.uow.case(case_id)
        if case is None:
            return Reply(self._("There is no case #{case}.").format(case=case_id))
        if case.status == "claimed" and case.claimed_by:
            holder = await self.uow.staff_by_id(case.claimed_by)
            name = holder.name if holder else "?"
            return Reply(self._("Case #{case} was already taken by {name}.").format(
                case=case_id, name=name))
        return Reply(self._("Case #{case} is closed.").format(case=case_id))

    async def _transcript(self, case_id: int, lead: str) -> Reply:
        case = await self.uow.case(case_id)
        assert case is not None
        name = await beneficiary_name(self.uow, case.beneficiary_id, self.ctx.profile)
        lines = [lead, f"{name} · {self._(desk.REASONS.get(case.reason, case.reason))}", ""]
        marks = {"in": "←", "out": "→", "note": "✎"}
        for entry in (await self.uow.case_messages(case_id))[-20:]:
            lines.append(f"{marks.get(entry.direction, '·')} {entry.text}")
        lines += ["", self._("What you write now goes to the beneficiary. /note for internal "
                             "notes, /file for their file, /close to finish.")]
        return Reply("\n".join(lines))

    async def in_group(self, inbound: InboundEvent) -> list[Reply]:
        """The staff group: a case is the topic (or the bot message replied to); its buttons
        take it, close it or open the file, and what a researcher writes there goes to the
        beneficiary (taking the case if no one holds it yet)."""
        command = desk.parse(inbound.event)
        case = None
        if command and command.name in ("/claim", "/close", "/file") and _number(command.args):
            case = await self.uow.case(_number(command.args) or 0)
        elif inbound.thread_id:
            case = await self.uow.case_by_topic(inbound.thread_id)
        elif inbound.reply_to:
            case = await self.uow.case_by_message(inbound.channel, inbound.chat_id,
                                                  inbound.reply_to)
        if case is None:
            return []  # talk in the group that is not about a case
        self.group_case = case.id
        if case.status == "claimed" and case.claimed_by != self.staff.id and (
                command is None or command.name in ("/close", "/claim")):
            await self.audit("group_action", allowed=False, case_id=case.id,
                             detail="held by another researcher")
            replies = [await self._why_not_claimed(case.id)]
        elif command is not None and command.name == "/file":
            replies = await self.execute(desk.Command("/file"))
        elif case.status == "queued":
            replies = await self.execute(desk.Command("/claim", str(case.id)))
            if command is None:
                replies += await self.relay(inbound.event)
            elif command.name == "/close":
                replies += await self.execute(desk.Command("/close"))
        elif command is None:
            replies = await self.relay(inbound.event)
        elif command.name == "/close":
            replies = await self.execute(desk.Command("/close"))
        else:
            replies = await self.execute(command)
        return [replace(r, case_id=case.id) for r in replies]  # into the case's topic

    async def _current(self) -> m.Case | None:
        """The case this researcher is working on, if they still hold it."""
        if self.group_case is not None:
            case = await self.uow.session.get(m.Case, self.group_case)
            return case if case and case.status == "claimed" and case.claimed_by == self.staff.id else None
        me = await self.uow.staff_by_id(self.staff.id)
        if me is None or me.current_case_id is None:
            return None
        case = await self.uow.session.get(m.Case, me.current_case_id)
        if case is None or case.status != "claimed" or case.claimed_by != self.staff.id:
            return None
        return case

    async def _no_case(self) -> list[Reply]:
        held = await self.uow.cases_held_by(self.staff.id)
        if held:
            return [await self._which_case(held)]
        return [Reply(self._("You have no current case. Send /queue to take one."))]

    async def _which_case(self, held: list[CaseView]) -> Reply:
        """Asked when a researcher holds cases but none is current: which one goes on."""
        named = [f"#{c.id} · {await beneficiary_name(self.uow, c.beneficiary_id, self.ctx.profile)}"
                 for c in held]
        return Reply("\n".join([self._("You hold these cases. Which one do you continue?"), *named]),
                     tuple(render.Choice(f"switch:{c.id}", f"#{c.id}") for c in held[:10]))

    async def _let_go(self, case_id: int) -> list[Reply]:
        """After this researcher handed a case on (closed, released, transferred): if it was
        their current one, the only case they still hold becomes current, or they are asked
        which one; a current case that is another stays as it is."""
        me = await self.uow.staff_by_id(self.staff.id)
        if me is None or me.current_case_id not in (case_id, None):
            return []
        held = await self.uow.cases_held_by(self.staff.id)
        await self.uow.set_current_case(self.staff.id, held[0].id if len(held) == 1 else None)
        if len(held) == 1:
            name = await beneficiary_name(self.uow, held[0].beneficiary_id, self.ctx.profile)
            return [Reply(self._("What you write now goes to case #{case} ({name}).").format(
                case=held[0].id, name=name))]
        return [await self._which_case(held)] if held else []

    async def do_release(self, args: str) -> list[Reply]:
        case = await self._current()
        if case is None:
            return await self._no_case()
        await self.uow.release(case.id, self.staff.id)
        await self.audit("release", case_id=case.id, beneficiary_id=case.beneficiary_id)
        return [Reply(self._("Case #{case} is back in the queue.").format(case=case.id)),
                *await self._let_go(case.id)]

    async def do_transfer(self, args: str) -> list[Reply]:
        case = await self._current()
        if case is None:
            return await self._no_case()
        found = [s for s in await self.uow.staff_by_name(args.strip()) if s.id != self.staff.id]
        if len(found) != 1:
            return [Reply(self._("I found no single colleague named \"{name}\". Send /transfer "
                                 "with a name from the team list.").format(name=args.strip()))]
        colleague = found[0]
        await self.uow.transfer(case.id, self.staff.id, colleague.id, self.now)
        await self.audit("transfer", case_id=case.id, beneficiary_id=case.beneficiary_id,
                         detail=f"to staff:{colleague.id}")
        lead = self._("{name} handed you case #{case}.").format(name=self.staff.name, case=case.id)
        busy_with = colleague.current_case_id
        if busy_with is not None and busy_with != case.id and any(
                c.id == busy_with for c in await self.uow.cases_held_by(colleague.id)):
            # they are talking with someone else: their next message still goes there
            lead += "\n" + self._("What you write still goes to case #{current}. To answer this "
                                  "one, send /switch {case}.").format(current=busy_with, case=case.id)
            handed = Reply(lead, (render.Choice(f"switch:{case.id}", f"#{case.id}"),))
        else:
            await self.uow.set_current_case(colleague.id, case.id)
            handed = await self._transcript(case.id, lead)
        await self.uow.enqueue(colleague.channel, colleague.sender_id, handed.to_dict(), self.now)
        await self._notify(case.beneficiary_id,
                           lambda lg: [desk.joined(colleague, lg, self.ctx)])
        return [Reply(self._("Case #{case} is now with {name}.").format(
            case=case.id, name=colleague.name)), *await self._let_go(case.id)]

    async def do_cases(self, args: str) -> list[Reply]:
        mine = await self.uow.cases_held_by(self.staff.id)
        if not mine:
            return [Reply(self._("You hold no cases."))]
        lines = [self._("Your cases:")] + [f"#{c.id}" for c in mine]
        return [Reply("\n".join(lines), tuple(
            render.Choice(f"switch:{c.id}", f"#{c.id}") for c in mine))]

    async def do_switch(self, args: str) -> list[Reply]:
        case_id = _number(args)
        case = await self.uow.session.get(m.Case, case_id) if case_id else None
        if case is None or case.claimed_by != self.staff.id or case.status != "claimed":
            return [Reply(self._("You do not hold case #{case}.").format(case=args.strip()))]
        await self.uow.set_current_case(self.staff.id, case.id)
        return [await self._transcript(case.id, self._("Now on case #{case}.").format(case=case.id))]

    async def do_close(self, args: str) -> list[Reply]:
        case = await self._current()
        if case is None:
            return await self._no_case()
        await self.uow.close_case(case.id, self.staff.id, self.now)
        await self.audit("close", case_id=case.id, beneficiary_id=case.beneficiary_id)

        def back_to_menu(state: State) -> None:
            if state.step == Step.CASE:
                state.step = Step.MENU

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
        await self.uow.add_case_entry(m.CaseMessage(case_id=case.id, direction="out", text=text,
                                                    at=self.now, staff_id=self.staff.id,
                                                    document_id=document_id))
        await self.uow.first_reply(case.id, self.now)

        def message(lang: str) -> list[Reply]:
            return [replace(desk.relayed(self.staff, text, lang, self.ctx), document_id=document_id)]

        await self._notify(case.beneficiary_id, message, _talking)
        await self.audit("relay_out", case_id=case.id, beneficiary_id=case.beneficiary_id)
        return await self._sent_to(case)

    async def _sent_to(self, case: m.Case) -> list[Reply]:
        """In their own chat, a researcher is told which case a message went to (in the
        group, the topic says it)."""
        if self.group_case is not None:
            return []
        name = await beneficiary_name(self.uow, case.beneficiary_id, self.ctx.profile)
        if name == f"#{case.beneficiary_id}":  # no name given yet
            return [Reply(self._("✓ Sent to case #{case}.").format(case=case.id))]
        return [Reply(self._("✓ Sent to case #{case} ({name}).").format(case=case.id, name=name))]

    async def do_note(self, args: str) -> list[Reply]:
        case = await self._current()
        if case is None:
            return await self._no_case()
        if not args.strip():
            return [Reply(self._("Write the note after the command: /note TEXT"))]
        await self.uow.add_case_entry(m.CaseMessage(case_id=case.id, direction="note",
                                                    text=args.strip(), at=self.now,
                                                    staff_id=self.staff.id))
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
        await self.uow.add_case_entry(m.CaseMessage(case_id=case.id, direction="out",
                                                    text=reply.text.get("ar"), at=self.now,
                                                    staff_id=self.staff.id))
        await self.uow.first_reply(case.id, self.now)
        await self._notify(case.beneficiary_id,
                           lambda lg: [desk.relayed(self.staff, reply.text.get(lg), lg, self.ctx)])
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
        case = await self._current()
        if case is None and self.group_case is not None:
            case = await self.uow.session.get(m.Case, self.group_case)
        if case is None:
            return await self._no_case()
        full = args.strip().lower() in ("full", "كامل")
        await self.audit("view_file", case_id=case.id, beneficiary_id=case.beneficiary_id,
                         detail="full" if full else "masked")
        lines = [self._("File of beneficiary #{id}:").format(id=case.beneficiary_id)]
        for request in await self.uow.requests_of(case.beneficiary_id):
            lines.append("")
            service = self.ctx.profile.service(request.service)
            lines.append(f"{request.number} · {service.label.get(self.lang) if service else request.service}"
                         f" · {desk.status_label(request.status, self.lang, self.ctx)}")
            for key, value in request.fields.items():
                spec = service.field(key) if service and any(f.key == key for f in service.fields) else None
                shown = _show(spec, value, full, self.lang)
                lines.append(f"  {spec.label.get(self.lang) if spec else key}: {shown}")
            for doc in await self.uow.documents_of(request.id):
                lines.append(f"  📎 {doc.name} ({doc.mime}) /doc {doc.id}")
            ack = await self.uow.acknowledgment(request.id)
            if ack:
                ok = ack.sha256 == acknowledgment.digest(request.number, request.service,
                                                         request.fields, ack.text_version,
                                                         ack.signature, ack.at)
                lines.append("  " + (self._("Acknowledgment: signed, data unchanged") if ok
                                     else self._("Acknowledgment: the stored data has CHANGED "
                                                 "since it was signed")))
        history = [c for c in await self.uow.cases_of(case.beneficiary_id)]
        lines += ["", self._("Cases: {list}").format(
            list=", ".join(f"#{c.id} ({self._(desk.CASE_STATUS.get(c.status, c.status))})"
                           for c in history))]
        return [Reply("\n".join(lines))]

    async def do_doc(self, args: str) -> list[Reply]:
        """A beneficiary's document, sent to the researcher's chat."""
        doc_id = _number(args)
        doc = await self.uow.document(doc_id) if doc_id else None
        if doc is None:
            return [Reply(self._("There is no document {id}.").format(id=args.strip() or "?"))]
        held = {c.beneficiary_id for c in await self.uow.cases_held_by(self.staff.id)}
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
        request = await self.uow.request_by_number(number.upper())
        if request is None:
            return [Reply(self._("No request {number}. Write: /request NUMBER STATUS [note]")
                          .format(number=number or "?"))]
        allowed = desk.LIFECYCLE.get(request.status, ())
        if status not in allowed:
            await self.audit("status_change", allowed=False, number=request.number,
                             beneficiary_id=request.beneficiary_id,
                             detail=f"{request.status}->{status or rest.split(' ')[0][:30]}")
            return [Reply(self._("From \"{current}\" a request can go to: {allowed}.").format(
                current=desk.status_label(request.status, self.lang, self.ctx),
                allowed=self._(", ").join(desk.status_label(a, self.lang, self.ctx)
                                          for a in allowed) or "-"))]
        if status in desk.NEEDS_NOTE and not note.strip():
            return [Reply(self._("Please add what is missing or the reason after the status."))]
        note = note.strip() or None
        await self.uow.set_request_status(request.id, status, f"staff:{self.staff.id}", note, self.now)
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
        team = await self.uow.all_staff()
        return [Reply("\n".join(f"{s.name} · {s.role} · {s.channel}" for s in team))]

    async def do_audit(self, args: str) -> list[Reply]:
        entries = (await self.uow.audit_entries())[-20:]
        await self.audit("view_audit")
        lines = [self._("The latest audit entries (Riyadh time):")] + [
            f"{e.at.astimezone(RIYADH):%Y-%m-%d %H:%M} {e.actor} {e.action}{'' if e.allowed else ' ✖'}"
            f"{f' #{e.case_id}' if e.case_id else ''}{f' {e.request_number}' if e.request_number else ''}"
            for e in entries]
        return [Reply("\n".join(lines))]


def _talking(state: State) -> None:
    """A researcher wrote: what the beneficiary writes at the menu now reaches them."""
    if state.step == Step.MENU:
        state.step = Step.CASE


def _number(text: str) -> int | None:
    digits = fields.only_digits(text).lstrip("#")
    return int(digits) if digits.isdigit() else None


def _show(spec: FieldSpec | None, value: object, full: bool, lang: str) -> str:
    """A field as staff see it: identifying numbers masked unless they asked for the full
    file, a choice by its label."""
    if isinstance(value, dict):
        return "📎 " + str(value.get("name", ""))
    if value is None:
        return "-"
    if spec is not None and not full and spec.kind in fields.MASKED:
        return fields.mask(spec.kind, str(value))
    if spec is not None and spec.kind is FieldKind.CHOICE:
        labels = {o.key: o.label.get(lang) for o in spec.options}
        return labels.get(str(value), str(value))
    return str(value)


def _menu(lang: str, ctx: Context) -> Reply:
    return render.menu(State(lang=lang, consented=True, step=Step.MENU), ctx)
