"""The one factory that builds Wasl from its settings; nothing is created at import time."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from bot import i18n, profiles
from bot.config import Settings
from bot.outbox import Limits, Outbox
from conversations.base import Translator
from conversations.profile import Profile
from handlers.answers import Answers
from handlers.beneficiary import BeneficiaryHandler
from handlers.broadcasts import Broadcasts
from handlers.notices import Digest
from handlers.router import Router
from handlers.staff import StaffHandler
from handlers.surveys import Scheduler
from storage.db import Database


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class App:
    settings: Settings
    profile: Profile
    db: Database
    translations: dict[str, Translator]
    beneficiaries: BeneficiaryHandler
    outbox: Outbox
    router: Router
    scheduler: Scheduler
    broadcasts: Broadcasts
    digest: Digest

    async def close(self) -> None:
        await self.db.close()


async def build_app(settings: Settings, clock: Callable[[], datetime] = utc_now) -> App:
    """Load the profile and catalogs, open (and migrate) the database, wire the handlers."""
    profile = profiles.load(settings.profile)
    translations: dict[str, Translator] = dict(
        i18n.load_translations(settings.locales_dir or i18n.LOCALES_DIR))
    db = Database(settings.database_url)
    if settings.auto_migrate:
        await db.migrate()
    answers = await asyncio.to_thread(build_knowledge, settings, profile)
    return assemble(settings, profile, db, translations, clock, answers)


def build_knowledge(settings: Settings, profile: Profile) -> Answers | None:
    """What the bot answers itself: the profile's topics (and what staff taught, read on
    the first event), searched with the bundled model unless the settings say lexical
    only (or nothing)."""
    if settings.faq == "off":
        return None
    from bot import encoder

    return Answers(profile, encoder.load() if settings.faq == "model" else None)


def assemble(settings: Settings, profile: Profile, db: Database,
             translations: dict[str, Translator], clock: Callable[[], datetime] = utc_now,
             answers: Answers | None = None) -> App:
    """Wire the handlers around an open database (tests use this with their own clock)."""
    if settings.desk_notices is not None:
        profile = profile.model_copy(update={"desk": profile.desk.model_copy(
            update={"notices": settings.desk_notices})})
    translations = i18n.worded(translations, profile)  # the association's own words
    beneficiaries = BeneficiaryHandler(db, profile, translations, clock, answers)
    staff = StaffHandler(db, profile, translations, clock)
    router = Router(db, beneficiaries, staff, clock)
    scheduler = Scheduler(db, profile, translations, clock, settings.scheduler_interval)
    limits = Limits(lease=settings.outbox_lease, max_attempts=settings.outbox_max_attempts,
                    backoff_base=settings.outbox_backoff)  # (console and simulator delivery)
    return App(settings, profile, db, translations, beneficiaries, Outbox(db, clock, limits),
               router, scheduler, Broadcasts(db, profile, translations, clock),
               Digest(db, profile, translations, clock, settings.scheduler_interval))
