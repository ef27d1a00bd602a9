"""Benchmark: resident memory of the app, idle and while it launches one big announcement.

    .venv/bin/python bench/memory.py [--beneficiaries 100000]
                                     [--pg postgresql+asyncpg://postgres@127.0.0.1/wasl_bench]

For SQLite (a fresh temporary file) and, if given, PostgreSQL (that database is emptied
first: give it a scratch one), prints the resident memory (RSS, MB) of an app built as
`wasl serve` builds it (`bot.app.build_app`, the FAQ as the settings say) with no
beneficiary stored and with N stored, then the peak while it launches one announcement to
all N as an admin's "send" does (`handlers.broadcasts.launch` in one unit of work), how
long that took and how many outbox rows it wrote (N, or something is wrong). Each figure is
taken in a fresh process, so that none inherits another's peak; the launch's peak is
counted from just before it starts (the high-water mark is reset there where Linux allows),
so the app's start-up does not hide it. The beneficiaries are written with Core executemany,
every fourth one in English, all reachable on Telegram.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import multiprocessing as mp
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402
from sqlalchemy import func, insert, select  # noqa: E402

from bot.app import build_app  # noqa: E402
from bot.config import Settings  # noqa: E402
from conversations.base import Context  # noqa: E402
from conversations.broadcast import Segment  # noqa: E402
from handlers import broadcasts  # noqa: E402
from storage import models as m  # noqa: E402
from storage.db import Database  # noqa: E402
from tests.scratch import empty  # noqa: E402

CHANNEL = "telegram"
FIRST_UID = 10_000_000
WRITE_CHUNK = 10_000  # beneficiaries stored per INSERT while preparing
TEXT = "توزيع السلال الغذائية يوم الخميس بعد العصر في مقر الجمعية."


def memory() -> tuple[float, float]:
    """(resident now, the process's peak), in MB: /proc/self/status where there is one."""
    try:
        status = dict(line.split(":", 1) for line in
                      Path("/proc/self/status").read_text().splitlines() if ":" in line)
        return int(status["VmRSS"].split()[0]) / 1024, int(status["VmHWM"].split()[0]) / 1024
    except (OSError, KeyError, ValueError):  # not Linux: the peak alone is known
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return peak, peak


def reset_peak() -> bool:
    """Start the peak (VmHWM) again from the resident memory now; whether Linux let us."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


async def reset(url: str) -> None:
    """The schema at its newest revision, and nothing in it (PostgreSQL is emptied)."""
    db = Database(url)
    await db.migrate()
    await empty(db)
    await db.close()


async def populate(url: str, count: int) -> None:
    """`count` beneficiaries, each with one Telegram identity (all an announcement needs:
    `everyone` reads no consent), a chunk per statement."""
    db = Database(url)
    now = datetime.now(UTC)
    for start in range(0, count, WRITE_CHUNK):
        ids = range(start + 1, min(start + WRITE_CHUNK, count) + 1)
        async with db.unit_of_work() as uow:
            await uow.session.execute(insert(m.Beneficiary), [
                {"id": n, "language": "en" if n % 4 == 0 else "ar", "unreachable": False,
                 "created_at": now} for n in ids])
            await uow.session.execute(insert(m.Identity), [
                {"beneficiary_id": n, "channel": CHANNEL, "sender_id": str(FIRST_UID + n),
                 "chat_id": str(FIRST_UID + n), "created_at": now} for n in ids])
    await db.close()


async def idle(url: str) -> dict[str, Any]:
    """The built app, doing nothing."""
    app = await build_app(Settings(database_url=url))
    gc.collect()
    rss, peak = memory()
    await app.close()
    return {"rss": rss, "peak": peak, "faq": app.settings.faq}


async def launch(url: str) -> dict[str, Any]:
    """One announcement to everyone, as the admin's "send" launches it."""
    app = await build_app(Settings(database_url=url))
    now = datetime.now(UTC)
    ctx = Context(app.profile, now, "bench", app.translations)
    gc.collect()
    cleared = reset_peak()
    before, _ = memory()
    started = time.perf_counter()
    async with app.db.unit_of_work() as uow:
        added = await uow.broadcasts.add("bench", TEXT, None, Segment(), "ar", now)
        queued = await broadcasts.launch(uow, added, ctx, now)
    seconds = time.perf_counter() - started
    rss, peak = memory()
    async with app.db.unit_of_work() as uow:
        rows = (await uow.session.execute(select(func.count()).select_from(m.OutboxMessage)
                .where(m.OutboxMessage.broadcast_id == added.id))).scalar_one()
    await app.close()
    return {"before": before, "rss": rss, "peak": peak, "reset": cleared, "seconds": seconds,
            "queued": queued, "rows": rows}


def run(job: Callable[..., Any], *args: Any) -> Any:
    """`asyncio.run(job(*args))` in a fresh process of its own, its result returned."""
    with ProcessPoolExecutor(1, mp_context=mp.get_context("spawn")) as pool:
        return pool.submit(_in_child, job, *args).result()


def _in_child(job: Callable[..., Any], *args: Any) -> Any:
    return asyncio.run(job(*args))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--beneficiaries", type=int, default=100_000)
    parser.add_argument("--pg", help="PostgreSQL URL to measure as well (emptied first)")
    args = parser.parse_args()
    n = args.beneficiaries
    table = Table("engine", "stored", "measured", "RSS MB", "peak MB", "launch adds MB",
                  "seconds", "outbox rows", title="Resident memory: the app idle and "
                  "launching one announcement to everyone")
    faq, exact = "", True
    with tempfile.TemporaryDirectory() as tmp:
        engines = [("sqlite", f"sqlite+aiosqlite:///{tmp}/bench.db")]
        if args.pg:
            engines.append(("postgresql", args.pg))
        for name, url in engines:
            run(reset, url)
            empty = run(idle, url)
            run(populate, url, n)
            stored = run(idle, url)
            sent = run(launch, url)
            faq, exact = empty["faq"], exact and sent["reset"]
            table.add_row(name, "0", "app built, idle", f"{empty['rss']:.0f}",
                          f"{empty['peak']:.0f}", "", "", "")
            table.add_row(name, str(n), "app built, idle", f"{stored['rss']:.0f}",
                          f"{stored['peak']:.0f}", "", "", "")
            table.add_row(name, str(n), "launch to all", f"{sent['before']:.0f} before",
                          f"{sent['peak']:.0f}", f"{sent['peak'] - sent['before']:.0f}",
                          f"{sent['seconds']:.2f}", f"{sent['rows']}"
                          + ("" if sent["rows"] == n == sent["queued"] else " (≠ stored!)"))
    table.caption = f"FAQ: {faq}" + ("" if exact else
                                     "; the launch's peak includes the app's start-up")
    Console(width=150).print(table)


if __name__ == "__main__":
    main()
