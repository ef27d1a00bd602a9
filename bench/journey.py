"""Benchmark: whole intakes through the real handler and database.

    .venv/bin/python bench/journey.py [--people 50] [--pg postgresql://postgres@127.0.0.1/wasl_test]

Prints events per second and per-event latency (p50, p95, max) for SQLite and,
if given, PostgreSQL (that database is emptied first: give it a scratch one).
Every event is one committed transaction plus delivery
of its replies from the outbox, as in production.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from bot.app import build_app  # noqa: E402
from bot.config import Settings  # noqa: E402
from conversations.base import Event, FileRef, InboundEvent, Reply  # noqa: E402
from tests.scratch import empty  # noqa: E402

CONTENT = b"\x89PNG\r\n\x1a\n" + b"0" * 200_000  # a 200 kB photo
PHOTO = FileRef("id.png", "image/png", len(CONTENT), hashlib.sha256(CONTENT).hexdigest(), CONTENT)
SCRIPT: list[Event] = [
    Event("text", text="السلام عليكم"), Event("choice", choice="accept"),
    Event("choice", choice="new_request"), Event("choice", choice="food_basket"),
    Event("text", text="محمد عبدالله أحمد الغامدي"), Event("text", text="١٢٣٤٥٦٧٨٩٧"),
    Event("text", text="1449/1/1"), Event("text", text="0501234567"), Event("text", text="العزيزية"),
    Event("text", text="5"), Event("choice", choice="accept"), Event("text", text="3000"),
    Event("choice", choice="salary"),
    Event("file", file=PHOTO), Event("choice", choice="confirm"),
    Event("text", text="محمد عبدالله أحمد الغامدي"), Event("text", text="/status"),
]


async def run(url: str, people: int) -> dict[str, float]:
    app = await build_app(Settings(database_url=url, profile="bakkah"))
    await empty(app.db)
    latencies: list[float] = []

    async def send(chat_id: str, reply: Reply) -> None:
        pass

    started = time.perf_counter()
    for n in range(people):
        sender = f"bench{n}"
        for event in SCRIPT:
            t0 = time.perf_counter()
            await app.beneficiaries.handle(InboundEvent("sim", sender, sender, event))
            await app.outbox.deliver("sim", send)
            latencies.append(time.perf_counter() - t0)
    elapsed = time.perf_counter() - started
    async with app.db.unit_of_work() as uow:
        submitted = len(await uow.requests.all_requests())
    await app.close()
    assert submitted == people, f"{submitted} requests for {people} people"
    latencies.sort()
    return {
        "events": len(latencies), "requests": submitted, "seconds": elapsed,
        "rate": len(latencies) / elapsed, "p50": statistics.median(latencies) * 1000,
        "p95": latencies[int(len(latencies) * 0.95)] * 1000, "max": latencies[-1] * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=50)
    parser.add_argument("--pg", help="PostgreSQL URL to measure as well")
    args = parser.parse_args()
    table = Table("engine", "people", "events", "requests", "events/s", "p50 ms", "p95 ms", "max ms",
                  title="Whole intakes through handler + database + outbox")
    with tempfile.TemporaryDirectory() as tmp:
        engines = [("sqlite", f"sqlite+aiosqlite:///{tmp}/bench.db")]
        if args.pg:
            engines.append(("postgresql", args.pg))
        for name, url in engines:
            r = asyncio.run(run(url, args.people))
            table.add_row(name, str(args.people), str(r["events"]), str(r["requests"]),
                          f"{r['rate']:.0f}", f"{r['p50']:.1f}", f"{r['p95']:.1f}", f"{r['max']:.1f}")
    Console().print(table)


if __name__ == "__main__":
    main()
