"""The first stop of every inbound event: staff go to the desk, everyone else to the
beneficiary journey. The role is looked up once per event, on the server side."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from conversations import desk, intake
from conversations.base import Event, InboundEvent, StaffView
from handlers.beneficiary import BeneficiaryHandler, Gated
from handlers.staff import StaffHandler
from storage import models as m
from storage.db import Database, Unavailable
from storage.repositories import UnitOfWork

log = logging.getLogger(__name__)


class Router:
    def __init__(self, db: Database, beneficiaries: BeneficiaryHandler, staff: StaffHandler,
                 clock: Callable[[], datetime]) -> None:
        self.db, self.beneficiaries, self.staff, self.clock = db, beneficiaries, staff, clock

    async def handle(self, inbound: InboundEvent) -> bool:
        """Route one event. Raises Unavailable when the database could not take it now
        (nothing of it was kept), so the channel has it delivered again instead of losing it."""
        try:
            return await self._route(replace(inbound, event=intake.readable(inbound.event)))
        except Unavailable as exc:  # (the unit of work says why, never quoting data)
            log.warning("the database could not take a %s event now (%s); asking for it again",
                        inbound.channel, exc)
            raise

    async def _route(self, inbound: InboundEvent) -> bool:
        """Staff or not is looked up in the beneficiary event's own transaction (`_gate`):
        most events are a beneficiary's, and one transaction costs less than two."""
        routed = await self.beneficiaries.handle(inbound, gate=self._gate)
        if isinstance(routed, StaffView):
            await self.staff.handle(inbound, routed)
            return True
        return routed

    async def _gate(self, uow: UnitOfWork, inbound: InboundEvent) -> Gated:
        """Before the journey, in its transaction: a staff member (the desk takes the event),
        True (an outsider in the staff group: written down, nothing more), or the event for
        the journey."""
        member = await uow.first_look(inbound.channel, inbound.sender_id)
        if member is not None:
            return member
        if desk.is_staff_command(inbound.event):
            # Someone who is not staff tried a staff command: refused and written down.
            # Typed, the journey answers it as an unknown command. A staff button was
            # never sent to them, so a pressed one is forged: the journey gets it as
            # something it cannot read (they are told what works, where they are), so
            # in a live case it never reaches the researcher as a choice.
            await uow.audit(m.AuditEntry(
                at=self.clock(), actor=f"{inbound.channel}:{inbound.sender_id}",
                role="beneficiary", action="staff_command", allowed=False,
                detail=_attempted(inbound)))
            if inbound.event.kind == "choice":
                inbound = replace(inbound, event=Event("other"))
        if inbound.chat_id != inbound.sender_id:  # the staff group: only staff are heard there
            await uow.audit(m.AuditEntry(
                at=self.clock(), actor=f"{inbound.channel}:{inbound.sender_id}",
                role="unknown", action="staff_group", allowed=False,
                detail=inbound.event.kind))
            return True
        return inbound


def _attempted(inbound: InboundEvent) -> str:
    """What a non-staff sender tried: the command typed, or the staff button pressed."""
    event = inbound.event
    return (f"button {event.choice}" if event.kind == "choice" else event.text.split()[0])[:40]

