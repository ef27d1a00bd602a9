"""Staff told of new work where they are: a new case, a submitted request, the missing
information of a request, and a digest of what waits when the working day starts.

With a Telegram staff group, the group is where the team works (a case has its topic
there, see handlers/beneficiary.to_staff_group); without one, each researcher is told in
their own chat, in their own language. Outside working hours only the profile's urgent
reasons are told at once: the rest waits for the digest at the next opening.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from conversations import desk, transcript
from conversations.base import CaseView, Context, OpenCase, Reply, RequestView, StaffView, Translator
from conversations.profile import Profile
from storage.db import Database
from storage.repositories import UnitOfWork

log = logging.getLogger(__name__)
# The kind of notice these are: on WhatsApp, outside its 24-hour window, they go as the
# profile's `desk` template (else they wait until the staff member writes). Their buttons
# are not numbered: a number typed for the staff member's own last message never presses
# a notice that arrived meanwhile.
DESK_NOTICE = "desk"


async def known_names(uow: UnitOfWork, beneficiary_ids: set[int],
                      profile: Profile) -> dict[int, str]:
    """Each beneficiary's full name from their latest request that gives one (those who
    gave none are left out), in one query."""
    return await uow.requests.given_values(beneficiary_ids,
                                           profile.signature.name_field or "full_name")


async def known_name(uow: UnitOfWork, beneficiary_id: int, profile: Profile) -> str | None:
    """The beneficiary's full name from their latest request, if they gave one."""
    return (await known_names(uow, {beneficiary_id}, profile)).get(beneficiary_id)


class Notices:
    """Notices to staff inside one unit of work (so they go, or not, with what caused them)."""

    def __init__(self, uow: UnitOfWork, profile: Profile, translations: dict[str, Translator],
                 now: datetime, channel: str = "") -> None:
        self.uow, self.profile, self.now = uow, profile, now
        self.ctx = Context(profile, now, channel, translations)

    def at_work(self) -> bool:
        return desk.next_opening(self.profile.working_hours, self.now) is None

    async def _private(self, roles: tuple[str, ...], notice: Callable[[str], Reply],
                       skip: int | None = None) -> int:
        """Each active staff member of these roles, in their own chat and language."""
        sent = 0
        for member in await self.uow.desk.team(roles):
            if member.id == skip:
                continue
            reply = replace(notice(member.language or "ar"), notice=DESK_NOTICE, numbered=0)
            await self.uow.enqueue(member.channel, member.sender_id, reply.to_dict(), self.now)
            sent += 1
        return sent

    async def _desk(self, notice: Callable[[str], Reply]) -> None:
        """The researchers, each in their chat; the admins if the team has no researcher."""
        if not await self._private(("researcher",), notice):
            await self._private(("admin",), notice)

    async def _to_group(self, reply: Reply) -> bool:
        group = self.profile.staff_group
        if group is None:
            return False
        await self.uow.enqueue("telegram", str(group.telegram_chat_id), reply.to_dict(), self.now)
        return True

    async def new_case(self, case: CaseView) -> None:
        """A case the researchers' queue got (the staff group hears of it by its topic)."""
        if (not self.profile.desk.notices or self.profile.staff_group is not None
                or case.audience != "researcher"):
            return
        if not self.at_work() and case.reason not in self.profile.desk.urgent_reasons:
            return  # in the digest at the opening
        name = await known_name(self.uow, case.beneficiary_id, self.profile)
        await self._desk(lambda lang: desk.new_case_notice(case, name, lang, self.ctx))

    async def submitted(self, request: RequestView) -> None:
        """A request that waits for review."""
        if not self.profile.desk.notices or not self.at_work():
            return
        name = await known_name(self.uow, request.beneficiary_id, self.profile)
        if await self._to_group(desk.submitted_notice(request, name, "ar", self.ctx)):
            return
        await self._desk(lambda lang: desk.submitted_notice(request, name, lang, self.ctx))

    async def registered(self, request: RequestView, file_number: str) -> None:
        """A registered request waits for the committee: told to its members in their own
        chats (the admins if the team has none). Each decision is a meeting's, so no
        working-hours hold: the notice waits in their chat."""
        if not self.profile.desk.notices:
            return
        name = await known_name(self.uow, request.beneficiary_id, self.profile)

        def notice(lang: str) -> Reply:
            return desk.registered_notice(request, file_number, name, lang, self.ctx)

        if not await self._private(("committee",), notice):
            await self._private(("admin",), notice)

    async def correction_asked(self, number: str, privacy_id: int) -> None:
        """A correction to approve: to the admins, each in their chat (the PDPL's clock
        runs whatever the hour)."""
        await self._private(("admin",),
                            lambda lang: desk.correction_notice(number, privacy_id, lang, self.ctx))

    async def info_arrived(self, request: RequestView, asked_by: StaffView | None, text: str,
                           document_id: int | None) -> None:
        """The missing information of a request: to whom asked for it (else the team)."""
        name = await known_name(self.uow, request.beneficiary_id, self.profile)

        def notice(lang: str) -> Reply:
            line = desk.info_arrived_notice(request.number, name,
                                            transcript.line(text, lang, self.ctx), lang, self.ctx)
            return Reply(line, document_id=document_id)

        if asked_by is not None:
            reply = replace(notice(asked_by.language or "ar"), notice=DESK_NOTICE, numbered=0)
            await self.uow.enqueue(asked_by.channel, asked_by.sender_id, reply.to_dict(), self.now)
        elif not await self._to_group(notice("ar")):
            await self._private(("researcher", "admin"), notice)

    async def board(self, role: str) -> list[OpenCase]:
        """Every open case with its holder and since when its beneficiary waits."""
        names = await self.uow.desk.staff_names()
        open_cases = await self.uow.desk.open_cases(role)
        who = await known_names(self.uow, {case.beneficiary_id for case, _i, _o in open_cases},
                                self.profile)
        rows = []
        for case, last_in, last_out in open_cases:
            if last_out is None:  # no one answered yet
                since: datetime | None = case.created_at
            elif last_in is not None and last_in > last_out:
                since = await self.uow.desk.first_unanswered(case.id, last_out)
            else:
                since = None  # the last word was the researcher's
            rows.append(OpenCase(case, who.get(case.beneficiary_id),
                                 names.get(case.claimed_by) if case.claimed_by else None, since))
        return rows

    async def digest(self) -> int:
        """What waits, once per working day at its opening; the number of notices sent."""
        desk_settings = self.profile.desk
        if not (desk_settings.notices and desk_settings.morning_digest) or not self.at_work():
            return 0
        today = self.now.astimezone(desk.RIYADH).date()
        sent_today = f"desk-digest:{today.isoformat()}"
        if await self.uow.counter(sent_today) or await self.uow.next_value(sent_today) != 1:
            return 0  # already sent today (by this process or another): read, not written
        rows = await self.board("admin")
        submitted, late = await self.uow.requests.waiting_requests(today)
        sent = 0
        deciding = await self.uow.review.with_committee()
        for member in await self.uow.desk.team(("committee",)):  # in their own chats
            said = desk.committee_digest(deciding, late, member.language or "ar", self.ctx)
            if said is not None:
                said = replace(said, notice=DESK_NOTICE, numbered=0)
                await self.uow.enqueue(member.channel, member.sender_id, said.to_dict(), self.now)
                sent += 1
        if self.profile.staff_group is not None:
            reply = desk.digest([r for r in rows if r.case.audience == "researcher"],
                                submitted, late, [], "ar", self.ctx)
            return sent + int(reply is not None and await self._to_group(reply))
        for member in await self.uow.desk.team():
            seen = rows if member.role == "admin" else [
                r for r in rows if r.case.audience == "researcher"]
            mine = [r for r in seen if r.case.claimed_by == member.id]
            reply = desk.digest(seen, submitted, late, mine, member.language or "ar", self.ctx)
            if reply is not None:
                reply = replace(reply, notice=DESK_NOTICE, numbered=0)
                await self.uow.enqueue(member.channel, member.sender_id, reply.to_dict(), self.now)
                sent += 1
        return sent


class Digest:
    """The scheduler's part: the morning digest when the working day starts."""

    def __init__(self, db: Database, profile: Profile, translations: dict[str, Translator],
                 clock: Callable[[], datetime], interval: float = 60.0) -> None:
        self.db, self.profile, self.translations, self.clock = db, profile, translations, clock
        self.interval = interval

    async def run(self, wake: Callable[[], None] | None = None) -> None:
        """Look until cancelled; a failing look is logged and tried again next time."""
        while True:
            try:
                if await self.tick() and wake is not None:
                    wake()
            except Exception:  # the loop must outlive one bad look (a database restart)
                log.exception("desk digest failed")
            await asyncio.sleep(self.interval)

    async def tick(self) -> int:
        now = self.clock()
        async with self.db.unit_of_work() as uow:
            sent = await Notices(uow, self.profile, self.translations, now).digest()
        if sent:
            log.info("desk digest: %d notices", sent)
        return sent
