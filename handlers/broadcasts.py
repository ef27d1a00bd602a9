"""Announcements between the admin, the database and the outbox: who a segment
reaches, writing one outbox row per recipient in one statement, following,
pausing, resuming and cancelling, and the delivery report when the last copy is
settled. Everything but `Broadcasts.finish` runs inside the caller's unit of work.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.outbox import BROADCAST
from conversations import broadcast
from conversations.base import RIYADH, Context, Event, Reply, StaffView, Translator
from conversations.broadcast import Segment, SegmentError, parse_segment
from conversations.profile import Profile
from conversations.text import ascii_digits, clean
from storage import models as m
from storage.db import Database
from storage.repositories import UnitOfWork

log = logging.getLogger(__name__)
FILE_TYPES = frozenset({"image/jpeg", "image/png", "application/pdf"})  # what one may carry


@dataclass(frozen=True)
class Recipient:
    beneficiary_id: int
    language: str
    channel: str
    chat_id: str


async def audience(uow: UnitOfWork, segment: Segment) -> tuple[list[Recipient], int]:
    """Who the segment reaches, and how many it matches who stopped announcements or
    blocked the bot (left out, always)."""
    wanted: set[int] | None = None
    if segment.by_request:
        wanted = {b for b, status, service, values in
                  await uow.requests.request_facts(segment.statuses, segment.services)
                  if segment.matches(status, service, values)}
    if segment.open_case:
        open_ = await uow.with_open_case()
        wanted = open_ if wanted is None else wanted & open_
    reach, left_out = [], 0
    for person, lang, unreachable, stopped, channel, chat in await uow.audience():
        if wanted is not None and person not in wanted:
            continue
        if unreachable or stopped:
            left_out += 1
        else:
            reach.append(Recipient(person, lang if lang in ("ar", "en") else "ar", channel, chat))
    return reach, left_out


async def launch(uow: UnitOfWork, row: m.Broadcast, ctx: Context, now: datetime) -> int:
    """Confirmed: one outbox row per recipient, in one go, and the audit entry. The
    segment is resolved now, so who stopped announcements until this moment is left out."""
    segment = Segment.model_validate(row.segment)
    people, _ = await audience(uow, segment)
    payloads = {lang: broadcast.message(row.text, lang, ctx, row.document_id).to_dict()
                for lang in ("ar", "en")}
    await uow.queue_copies([
        {"channel": p.channel, "chat_id": p.chat_id, "payload": payloads[p.language],
         "priority": BROADCAST, "status": "pending", "attempts": 0, "available_at": now,
         "created_at": now, "has_choices": False, "broadcast_id": row.id,
         "beneficiary_id": p.beneficiary_id} for p in people])
    row.status, row.stage, row.total, row.started_at = "sending", None, len(people), now
    await uow.audit(m.AuditEntry(
        at=now, actor=row.actor, role="admin", action="broadcast", allowed=True,
        detail=(f"broadcast #{row.id} to {len(people)} beneficiaries "
                f"(ids {_ranges([p.beneficiary_id for p in people])}); "
                f"segment {segment.model_dump_json()}")))
    return len(people)


def _ranges(ids: list[int]) -> str:
    """1,2,3,7,8 -> "1-3,7-8": who received it, compactly, for the audit log."""
    ids, out, i = sorted(ids), [], 0
    while i < len(ids):
        j = i
        while j + 1 < len(ids) and ids[j + 1] == ids[j] + 1:
            j += 1
        out.append(str(ids[i]) if i == j else f"{ids[i]}-{ids[j]}")
        i = j + 1
    return ",".join(out)


async def progress(uow: UnitOfWork, row: m.Broadcast, lang: str, ctx: Context) -> Reply:
    counts = await uow.delivery_counts(row.id)
    recent = await uow.recently_sent(row.id, ctx.now - timedelta(minutes=1))
    rate = recent / 60 if recent else None
    return broadcast.progress(row.id, row.status, counts, row.total, rate, lang, ctx)


class Broadcasts:
    """What the senders call after each batch: broadcasts whose last copy is settled
    are marked done (once, whichever process sees it first) and reported to the admin."""

    def __init__(self, db: Database, profile: Profile, translations: dict[str, Translator],
                 clock: Callable[[], datetime]) -> None:
        self.db, self.profile, self.translations, self.clock = db, profile, translations, clock

    async def finish(self) -> list[int]:
        now = self.clock()
        done = []
        async with self.db.unit_of_work() as uow:
            for number in await uow.ended_broadcasts():
                if not await uow.move_broadcast(number, ("sending",), "done", now):
                    continue  # another process got there first
                done.append(number)
                row = await uow.broadcast(number)
                if row is None or not row.report_chat or not row.report_channel:
                    continue
                ctx = Context(self.profile, now, row.report_channel, self.translations)
                _ = ctx.tr(row.language).gettext
                report = await progress(uow, row, row.language, ctx)
                lead = _("Announcement #{number} has finished. Delivery report:").format(
                    number=number)
                await uow.enqueue(row.report_channel, row.report_chat,
                                  Reply(f"{lead}\n{report.text}").to_dict(), now)
        for number in done:
            log.info("broadcast #%s finished", number)
        return done


class AnnouncementDesk:
    """The admin's side in their chat with the bot (mixed into handlers.staff.Desk):
    /broadcast composes (content, then who, then a preview and a count, then send),
    /broadcast N follows one, with buttons to pause, resume and cancel."""

    uow: UnitOfWork
    ctx: Context
    lang: str
    now: datetime
    staff: StaffView
    _: Callable[[str], str]
    audit: Callable[..., Awaitable[None]]

    async def do_broadcast(self, args: str) -> list[Reply]:
        words = ascii_digits(args).split()
        if not words:
            old = await self.uow.draft_of(self.staff.id)
            if old is not None:
                old.status = "cancelled"
            chat = self.staff.sender_id  # the admin's own chat with the bot
            await self.uow.add_broadcast(m.Broadcast(
                status="draft", stage="content", created_by=self.staff.id,
                actor=f"{self.staff.channel}:{self.staff.sender_id}", segment={},
                created_at=self.now, report_channel=self.staff.channel, report_chat=chat,
                language=self.lang))
            return [broadcast.ask_content(self.lang, self.ctx)]
        row = await self.uow.broadcast(int(words[0])) if words[0].isdigit() else None
        if row is None or row.status == "draft":
            return [Reply(self._("There is no announcement with that number. /broadcasts "
                                 "lists the latest."))]
        action = words[1].lower() if len(words) > 1 else ""
        if action in ("pause", "resume", "cancel"):
            return await getattr(self, f"do_bc_{action}")(str(row.id))
        await self.audit("broadcast_view", detail=f"#{row.id}")
        return [await progress(self.uow, row, self.lang, self.ctx)]

    async def do_broadcasts(self, args: str) -> list[Reply]:
        rows = await self.uow.broadcasts()
        if not rows:
            return [Reply(self._("No announcements yet. /broadcast composes one."))]
        lines = [self._("Latest announcements (/broadcast N for one):")]
        for row in rows:
            counts = await self.uow.delivery_counts(row.id)
            lines.append(self._("#{number} {date}: {status}, {sent} of {total} sent").format(
                number=row.id, date=row.created_at.astimezone(RIYADH).strftime("%Y-%m-%d"),
                status=broadcast.state_word(row.status, self.lang, self.ctx),
                sent=counts.get("sent", 0), total=row.total))
        return [Reply("\n".join(lines))]

    async def do_broadcast_cancel(self, args: str) -> list[Reply]:
        draft = await self.uow.draft_of(self.staff.id)
        if draft is None:
            return [Reply(self._("You are not composing an announcement."))]
        draft.status, draft.stage = "cancelled", None
        return [Reply(self._("The announcement was dropped; nothing was sent."))]

    async def draft_input(self, draft: m.Broadcast, event: Event) -> list[Reply]:
        """What the admin writes while composing: the announcement, or a field's value."""
        if draft.stage and draft.stage.startswith("value:"):
            value = clean(event.text) if event.kind == "text" else ""
            if not value:
                return [Reply(self._("Please type the value as text."))]
            segment = Segment.model_validate(draft.segment)
            segment.fields.setdefault(draft.stage.split(":", 1)[1], []).append(value)
            draft.segment, draft.stage = segment.model_dump(), "segment"
            return [broadcast.segment_menu(segment, self.lang, self.ctx)]
        file = event.file if event.kind == "file" else None
        text = event.text.strip() if event.kind in ("text", "file") else ""
        if file is not None and not file.content:
            return [Reply(self._("This file is too large. Please send a smaller one."))]
        problem = broadcast.content_problem(text, file is not None, self.lang, self.ctx)
        if problem:
            return [Reply(problem)]
        if file is not None:
            if file.mime not in FILE_TYPES:
                return [Reply(self._("Please send a photo (JPEG or PNG) or a PDF document."))]
            doc = m.Document(beneficiary_id=None, field_key="broadcast", name=file.name,
                             mime=file.mime, size=file.size, sha256=file.sha256,
                             content=file.content, created_at=self.now)
            await self.uow.add_document(doc)
            draft.document_id = doc.id
        draft.text, draft.stage = text, "segment"
        return [broadcast.segment_menu(Segment.model_validate(draft.segment), self.lang, self.ctx)]

    async def _draft(self) -> m.Broadcast | None:
        return await self.uow.draft_of(self.staff.id)

    def _no_draft(self) -> list[Reply]:
        return [Reply(self._("You are not composing an announcement. /broadcast starts one."))]

    async def do_bc_pick(self, args: str) -> list[Reply]:
        draft = await self._draft()
        if draft is None or draft.stage == "content":
            return self._no_draft() if draft is None else [broadcast.ask_content(self.lang, self.ctx)]
        segment = Segment.model_validate(draft.segment)
        kind = args.strip()
        draft.stage = "segment"
        if kind == "status":
            return [broadcast.status_menu(self.lang, self.ctx)]
        if kind == "service":
            return [broadcast.service_menu(self.lang, self.ctx)]
        if kind == "field":
            return [broadcast.field_menu(self.lang, self.ctx)]
        if kind == "open_case":
            segment.open_case = True
        elif kind == "clear":
            segment = Segment()
        elif kind == "done":
            return await self._preview(draft, segment)
        draft.segment = segment.model_dump()
        return [broadcast.segment_menu(segment, self.lang, self.ctx)]

    async def do_bc_add(self, args: str) -> list[Reply]:
        draft = await self._draft()
        if draft is None:
            return self._no_draft()
        try:
            added = parse_segment([args.strip()], self.ctx.profile)
        except SegmentError:
            return [broadcast.segment_menu(Segment.model_validate(draft.segment), self.lang,
                                           self.ctx)]
        segment = Segment.model_validate(draft.segment)
        segment.statuses = sorted({*segment.statuses, *added.statuses})
        segment.services = sorted({*segment.services, *added.services})
        for key, values in added.fields.items():
            segment.fields[key] = sorted({*segment.fields.get(key, []), *values})
        draft.segment, draft.stage = segment.model_dump(), "segment"
        return [broadcast.segment_menu(segment, self.lang, self.ctx)]

    async def do_bc_field(self, args: str) -> list[Reply]:
        draft = await self._draft()
        if draft is None:
            return self._no_draft()
        spec = next((f for f in broadcast.segmentable_fields(self.ctx.profile)
                     if f.key == args.strip()), None)
        if spec is None:
            return [broadcast.field_menu(self.lang, self.ctx)]
        if spec.kind.value != "choice":
            draft.stage = f"value:{spec.key}"
        return [broadcast.value_menu(spec, self.lang, self.ctx)]

    async def _preview(self, draft: m.Broadcast, segment: Segment) -> list[Reply]:
        people, left_out = await audience(self.uow, segment)
        if not people:
            text = self._("Nobody matches these conditions. Change them:")
            menu = broadcast.segment_menu(segment, self.lang, self.ctx)
            return [Reply(text), menu]
        draft.stage = "confirm"
        sample = broadcast.message(draft.text, self.lang, self.ctx, draft.document_id)
        return [sample, broadcast.confirm(len(people), left_out, self.lang, self.ctx)]

    async def do_bc_send(self, args: str) -> list[Reply]:
        draft = await self._draft()
        if draft is None or draft.stage != "confirm":
            return self._no_draft()
        count = await launch(self.uow, draft, self.ctx, self.now)
        lead = self.ctx.tr(self.lang).ngettext(
            "Announcement #{number} is on its way to {n} beneficiary.",
            "Announcement #{number} is on its way to {n} beneficiaries.", count).format(
            number=draft.id, n=count)
        return [Reply(lead), await progress(self.uow, draft, self.lang, self.ctx)]

    async def _move(self, args: str, from_: tuple[str, ...], to: str, action: str) -> list[Reply]:
        number = int(ascii_digits(args).strip()) if ascii_digits(args).strip().isdigit() else 0
        row = await self.uow.broadcast(number)
        if row is None or row.status == "draft":
            return [Reply(self._("There is no announcement with that number."))]
        moved = await self.uow.move_broadcast(number, from_, to, self.now)
        await self.audit(action, allowed=moved, detail=f"#{number} was {row.status}")
        if not moved:
            return [Reply(self._("Announcement #{number} cannot be changed now.").format(
                number=number)), await progress(self.uow, row, self.lang, self.ctx)]
        await self.uow.session.refresh(row)
        return [await progress(self.uow, row, self.lang, self.ctx)]

    async def do_bc_pause(self, args: str) -> list[Reply]:
        return await self._move(args, ("sending",), "paused", "broadcast_pause")

    async def do_bc_resume(self, args: str) -> list[Reply]:
        return await self._move(args, ("paused",), "sending", "broadcast_resume")

    async def do_bc_cancel(self, args: str) -> list[Reply]:
        return await self._move(args, ("sending", "paused"), "cancelled", "broadcast_cancel")
