"""Benchmark: many beneficiaries at once through Telegram webhooks on SQLite; is any lost?

    .venv/bin/python bench/webhook_load.py [--beneficiaries 2000] [--posters 16] [--db URL]

Starts `wasl serve` (webhook mode, against the local fake Bot API) on a fresh SQLite
file (or `--db`), then each beneficiary sends two updates, a greeting and "موافق"
(consent), over `--posters` concurrent HTTP connections. Like Telegram, a poster
sends an update again when the answer is not 2xx. At the end it counts the updates
the database recorded as processed and the beneficiaries registered: an update
answered 200 but not recorded is lost. Prints a table.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402
from sqlalchemy import create_engine, func, select  # noqa: E402

from storage import models as m  # noqa: E402
from tests.e2e.telegram_bot import SECRET, WaslProcess  # noqa: E402
from tests.fakes.telegram import FakeTelegram  # noqa: E402

FIRST_UID = 20_000_000


@dataclass
class Outcome:
    sent: int = 0  # distinct updates
    answers: Counter = field(default_factory=Counter)  # HTTP status -> how many
    retries: int = 0
    processed: int = 0  # recorded in processed_events
    registered: int = 0  # beneficiaries in the database
    seconds: float = 0.0

    @property
    def lost(self) -> int:
        return self.sent - self.processed


async def post_all(port: int, fake: FakeTelegram, beneficiaries: int, posters: int,
                   outcome: Outcome, max_tries: int = 20) -> None:
    """Each beneficiary's two updates in order; `posters` of them at a time."""
    url = f"http://127.0.0.1:{port}/webhooks/telegram"
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    people: asyncio.Queue[int] = asyncio.Queue()
    for n in range(beneficiaries):
        people.put_nowait(FIRST_UID + n)
    limits = httpx.Limits(max_connections=posters, max_keepalive_connections=posters)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:

        async def deliver(update: dict) -> None:
            outcome.sent += 1
            for attempt in range(max_tries):
                response = await client.post(url, json=update, headers=headers)
                outcome.answers[response.status_code] += 1
                if response.is_success:
                    return
                outcome.retries += 1
                await asyncio.sleep(min(0.05 * 2 ** attempt, 2))  # as Telegram backs off
            raise RuntimeError(f"update {update['update_id']} never accepted")

        async def poster() -> None:
            while not people.empty():
                uid = people.get_nowait()
                for text in ("السلام عليكم", "موافق"):
                    await deliver(fake.text_update(uid, text))

        await asyncio.gather(*(poster() for _ in range(posters)))


def count(db_url: str, outcome: Outcome) -> None:
    engine = create_engine(db_url.replace("+aiosqlite", ""))
    with engine.connect() as conn:
        outcome.processed = conn.execute(select(func.count()).select_from(m.ProcessedEvent).where(
            m.ProcessedEvent.channel == "telegram")).scalar_one()
        outcome.registered = conn.execute(select(func.count()).select_from(m.Beneficiary)).scalar_one()
    engine.dispose()


def run(db_url: str, beneficiaries: int, posters: int, log: Path) -> Outcome:
    """One load run against a fresh `wasl serve`; the bot is stopped at the end."""
    fake = FakeTelegram().start()
    bot = WaslProcess(fake, db_url, "ptb", "webhook", log).start()
    outcome = Outcome()
    try:
        started = time.monotonic()
        asyncio.run(post_all(bot.port, fake, beneficiaries, posters, outcome))
        outcome.seconds = time.monotonic() - started
    finally:
        bot.stop()
        fake.stop()
    count(db_url, outcome)
    return outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--beneficiaries", type=int, default=2000)
    parser.add_argument("--posters", type=int, default=16)
    parser.add_argument("--db", help="database URL (default: a fresh SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db_url = args.db or f"sqlite+aiosqlite:///{tmp}/load.db"
        outcome = run(db_url, args.beneficiaries, args.posters, Path(tmp) / "bot.log")
        locked = Path(tmp, "bot.log").read_text().count("database is locked")
    table = Table(title=f"{args.beneficiaries} beneficiaries, {args.posters} concurrent posters")
    for column in ("updates", "answers", "re-sent", "processed", "lost", "registered",
                   "'locked' in log", "updates/s"):
        table.add_column(column, justify="right")
    answers = ", ".join(f"{code}×{n}" for code, n in sorted(outcome.answers.items()))
    table.add_row(str(outcome.sent), answers, str(outcome.retries), str(outcome.processed),
                  str(outcome.lost), str(outcome.registered), str(locked),
                  f"{outcome.sent / outcome.seconds:.0f}")
    Console(width=150).print(table)


if __name__ == "__main__":
    main()
