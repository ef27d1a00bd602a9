"""Announcements between the admin, the database and the outbox: who a segment
reaches, writing one outbox row per recipient a chunk at a time, the admin's composer (the
pure `conversations.broadcast.compose` decides, its actions are carried out here),
following, pausing, resuming and cancelling, and the delivery report when the last copy
is settled. Everything but `Broadcasts.finish` runs inside the caller's unit of work.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import aclosing
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from bot.outbox import BROADCAST
from conversations import broadcast, desk_step
from conversations.base import RIYADH, Context, Event, Reply, StaffView, Translator
from conversations.broadcast import BroadcastView, Draft, Segment
from conversations.profile import Profile
from conversations.text import ascii_digits
from storage import models as m
from storage.db import Database
from storage.repositories import UnitOfWork

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Recipient:
    beneficiary_id: int
    language: str
    channel: str
    chat_id: str


CHUNK = 2000  # recipients read, and outbox rows written, at a time by a launch or a count


async def _wanted(uow: UnitOfWork, segment: Segment) -> set[int] | None:
    """Whom the segment's conditions allow (None: no condition, everyone): ids only,
    small even for every beneficiary, and each recipient is looked up in them once."""
    wanted: set[int] | None = None
    if segment.by_request:
        wanted = {b for b, status, service, values in
                  await uow.requests.request_facts(segment.statuses, segment.services)
                  if segment.matches(status, service, values)}
    if segment.open_case:
        open_ = await uow.broadcasts.with_open_case()
        wanted = open_ if wanted is None else wanted & open_
    if segment.volunteers:
        signed = await uow.volunteers.beneficiaries()
        wanted = signed if wanted is None else wanted & signed
    return wanted


async def _reached(uow: UnitOfWork, segment: Segment
                   ) -> AsyncIterator[tuple[list[Recipient], int]]:
    """Who the segment reaches, CHUNK beneficiaries at a time in ascending id, each chunk
    with how many of it the segment matches who stopped announcements or blocked the bot
    (left out, always): one chunk in memory, however many there are."""
    wanted = await _wanted(uow, segment)
    async with aclosing(uow.broadcasts.everyone(CHUNK)) as chunks:
        async for rows in chunks:
            reach, left_out = [], 0
            for person, lang, unreachable, stopped, channel, chat in rows:
                if wanted is not None and person not in wanted:
                    continue
                if unreachable or stopped:
                    left_out += 1
                else:
                    reach.append(Recipient(person, lang if lang in ("ar", "en") else "ar",
                                           channel, chat))
            yield reach, left_out


async def audience(uow: UnitOfWork, segment: Segment) -> tuple[list[Recipient], int]:
    """Who the segment reaches, in one list, and how many it matches who stopped
    announcements or blocked the bot (left out, always). Holds every recipient: a count
    before sending is `audience_count`'s, and `launch` streams them."""
    reach, left_out = [], 0
    async with aclosing(_reached(uow, segment)) as chunks:
        async for people, left in chunks:
            reach.extend(people)
            left_out += left
    return reach, left_out


async def audience_count(uow: UnitOfWork, segment: Segment) -> tuple[int, int]:
    """How many the segment reaches and how many it leaves out, as `audience` and
    `launch` would, without holding them: the count the admin sees before sending."""
    reach = left_out = 0
    async with aclosing(_reached(uow, segment)) as chunks:
        async for people, left in chunks:
            reach, left_out = reach + len(people), left_out + left
    return reach, left_out


async def launch(uow: UnitOfWork, sent: BroadcastView, ctx: Context, now: datetime) -> int:
    """Confirmed: one outbox row per recipient and the audit entry, in the caller's one
    transaction. The segment is resolved now, so who stopped announcements until this
    moment is left out. Recipients are read and their rows written CHUNK at a time (one
    executemany each), so that an announcement to 100,000 needs the memory of one chunk;
    the audit's id ranges are built as the ids go by."""
    payloads = {lang: broadcast.message(sent.text, lang, ctx, sent.document_id).to_dict()
                for lang in ("ar", "en")}
    total, ids = 0, _Ranges()
    async with aclosing(_reached(uow, sent.segment)) as chunks:
        async for people, _ in chunks:
            await uow.broadcasts.queue_copies([
                {"channel": p.channel, "chat_id": p.chat_id, "payload": payloads[p.language],
                 "priority": BROADCAST, "status": "pending", "attempts": 0, "available_at": now,
                 "created_at": now, "has_choices": False, "broadcast_id": sent.id,
                 "beneficiary_id": p.beneficiary_id} for p in people])
            for p in people:
                ids.add(p.beneficiary_id)
            total += len(people)
    await uow.broadcasts.started(sent.id, total, now)
    await uow.audit(m.AuditEntry(
        at=now, actor=sent.actor, role="admin", action="broadcast", allowed=True,
        detail=(f"broadcast #{sent.id} to {total} beneficiaries (ids {ids}); "
                f"segment {sent.segment.model_dump_json()}")))
    return total


class _Ranges:
    """1,2,3,7,8 -> "1-3,7-8": who received it, compactly, for the audit log. Built from
    ascending ids as they stream by, so that only the ranges are kept, never the ids."""

    def __init__(self) -> None:
        self.closed: list[str] = []
        self.first: int | None = None  # the open range, first to last
        self.last = 0

    def add(self, number: int) -> None:
        if self.first is not None and number <= self.last:
            # a stream in another order would write a wrong audit entry: refuse it
            raise ValueError(f"ids must ascend: {number} after {self.last}")
        if self.first is not None and number == self.last + 1:
            self.last = number
            return
        if self.first is not None:
            self.closed.append(self._open())
        self.first = self.last = number

    def _open(self) -> str:
        return str(self.first) if self.first == self.last else f"{self.first}-{self.last}"

    def __str__(self) -> str:
        return ",".join(self.closed if self.first is None else [*self.closed, self._open()])


async def progress(uow: UnitOfWork, found: BroadcastView, lang: str, ctx: Context) -> Reply:
    counts = await uow.broadcasts.delivery_counts(found.id)
    recent = await uow.broadcasts.recently_sent(found.id, ctx.now - timedelta(minutes=1))
    rate = recent / 60 if recent else None
    return broadcast.progress(found.id, found.status, counts, found.total, rate, lang, ctx)


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
            for number in await uow.broadcasts.ended():
                if not await uow.broadcasts.move(number, ("sending",), "done", now):
                    continue  # another process got there first
                done.append(number)
                found = await uow.broadcasts.broadcast(number)
                if found is None or not found.report_chat or not found.report_channel:
                    continue
                ctx = Context(self.profile, now, found.report_channel, self.translations)
                _ = ctx.tr(found.language).gettext
                report = await progress(uow, found, found.language, ctx)
                lead = _("Announcement #{number} has finished. Delivery report:").format(
                    number=number)
                await uow.enqueue(found.report_channel, found.report_chat,
                                  Reply(f"{lead}\n{report.text}").to_dict(), now)
        for number in done:
            log.info("broadcast #%s finished", number)
        return done


class AnnouncementDesk:
    """The admin's side in their chat with the bot (mixed into handlers.staff.Desk):
    /broadcast composes (content, then who, then a preview and a count, then send),
    /broadcast N follows one, with buttons to pause, resume and cancel. Composing, each
    method loads the draft, lets the pure `broadcast.compose` decide and carries out its
    actions; the command table calls these methods by name."""

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
            return await self._compose(broadcast.Begin())
        number = desk_step.number(words[0])  # 1 to 15 plain digits: never an overflow
        found = await self.uow.broadcasts.broadcast(number) if number else None
        if found is None or found.status == "draft":
            return [Reply(self._("There is no announcement with that number. /broadcasts "
                                 "lists the latest."))]
        action = words[1].lower() if len(words) > 1 else ""
        if action in ("pause", "resume", "cancel"):
            return await getattr(self, f"do_bc_{action}")(str(found.id))
        await self.audit("broadcast_view", detail=f"#{found.id}")
        return [await progress(self.uow, found, self.lang, self.ctx)]

    async def do_broadcasts(self, args: str) -> list[Reply]:
        latest = await self.uow.broadcasts.latest()
        if not latest:
            return [Reply(self._("No announcements yet. /broadcast composes one."))]
        lines = [self._("Latest announcements (/broadcast N for one):")]
        for one in latest:
            counts = await self.uow.broadcasts.delivery_counts(one.id)
            lines.append(self._("#{number} {date}: {status}, {sent} of {total} sent").format(
                number=one.id, date=one.created_at.astimezone(RIYADH).strftime("%Y-%m-%d"),
                status=broadcast.state_word(one.status, self.lang, self.ctx),
                sent=counts.get("sent", 0), total=one.total))
        return [Reply("\n".join(lines))]

    # -- composing -------------------------------------------------------------------
    async def composing(self) -> bool:
        """Whether the admin's draft waits for free text (its content or a field's value),
        so that what they write goes to it rather than to a case."""
        draft = await self.uow.broadcasts.draft_of(self.staff.id)
        return draft is not None and draft.awaits_text

    async def draft_input(self, event: Event) -> list[Reply]:
        """What the admin writes while composing: the announcement, or a field's value."""
        return await self._compose(broadcast.Write(event))

    async def do_broadcast_cancel(self, args: str) -> list[Reply]:
        return await self._compose(broadcast.Cancel())

    async def do_bc_pick(self, args: str) -> list[Reply]:
        return await self._compose(broadcast.Pick(args.strip()))

    async def do_bc_add(self, args: str) -> list[Reply]:
        return await self._compose(broadcast.AddValue(args.strip()))

    async def do_bc_field(self, args: str) -> list[Reply]:
        return await self._compose(broadcast.ChooseField(args.strip()))

    async def do_bc_send(self, args: str) -> list[Reply]:
        return await self._compose(broadcast.Send())

    async def _compose(self, given: broadcast.Input) -> list[Reply]:
        return await self._run(await self.uow.broadcasts.draft_of(self.staff.id), given)

    async def _run(self, draft: Draft | None, given: broadcast.Input) -> list[Reply]:
        """One step of the composer: its actions carried out in order, each result given
        to `broadcast.after`, and the draft it leaves kept."""
        step = broadcast.compose(draft, given, self.lang, self.ctx)
        kept, replies = step.draft, list(step.replies)
        for action in step.actions:
            result = await self._apply(action, kept)
            later = broadcast.after(action, result, kept, self.lang, self.ctx)
            kept, replies = later.draft, [*replies, *later.replies]
        if kept is not None:
            await self.uow.broadcasts.save_draft(self.staff.id, kept)
        return replies

    async def _apply(self, action: broadcast.Action, draft: Draft | None) -> Any:
        match action:
            case broadcast.Open():
                await self.uow.broadcasts.open_draft(
                    self.staff.id, actor=f"{self.staff.channel}:{self.staff.sender_id}",
                    report_channel=self.staff.channel,
                    report_chat=self.staff.sender_id,  # the admin's own chat with the bot
                    language=self.lang, now=self.now)
            case broadcast.Drop():
                await self.uow.broadcasts.drop_draft(self.staff.id)
            case broadcast.StoreFile(file):
                return await self.uow.broadcasts.add_file(file, self.now)
            case broadcast.Preview(segment):
                return await audience_count(self.uow, segment)
            case broadcast.Launch() if draft is not None:
                sent = await self.uow.broadcasts.save_draft(self.staff.id, draft)
                return broadcast.Launched(sent.id, await launch(self.uow, sent, self.ctx,
                                                                self.now))
        return None

    # -- following one ---------------------------------------------------------------
    async def _move(self, args: str, from_: tuple[str, ...], to: str, action: str) -> list[Reply]:
        number = desk_step.number(args) or 0
        found = await self.uow.broadcasts.broadcast(number)
        if found is None or found.status == "draft":
            return [Reply(self._("There is no announcement with that number."))]
        moved = await self.uow.broadcasts.move(number, from_, to, self.now)
        await self.audit(action, allowed=moved, detail=f"#{number} was {found.status}")
        if not moved:
            return [Reply(self._("Announcement #{number} cannot be changed now.").format(
                number=number)), await progress(self.uow, found, self.lang, self.ctx)]
        return [await progress(self.uow, replace(found, status=to), self.lang, self.ctx)]

    async def do_bc_pause(self, args: str) -> list[Reply]:
        return await self._move(args, ("sending",), "paused", "broadcast_pause")

    async def do_bc_resume(self, args: str) -> list[Reply]:
        return await self._move(args, ("paused",), "sending", "broadcast_resume")

    async def do_bc_cancel(self, args: str) -> list[Reply]:
        return await self._move(args, ("sending", "paused"), "cancelled", "broadcast_cancel")
