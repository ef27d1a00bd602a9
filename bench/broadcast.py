"""Benchmark: one announcement to many beneficiaries through the local fake Bot API.

    .venv/bin/python bench/broadcast.py [--recipients 10000] [--rates 30,1000]
                                        [--processes 1] [--db URL] [--runtime ptb|aiogram]
                                        [--kill]

For each rate limit: a fresh database with that many beneficiaries, one broadcast
to all of them (outbox rows written in one go), then sender processes deliver it
through the real Telegram runtime over HTTP to the fake server, which runs in its
own process and counts what arrives. Prints the achieved rate against the limit,
the busiest second, the duplicates and the losses. Several processes (`--processes
2`) need PostgreSQL (`--db postgresql+asyncpg://...`); they share the sending
through FOR UPDATE SKIP LOCKED and the shared rate clock. With `--kill`, one sender is
killed with SIGKILL a third of the way through and another started: the duplicates are
what it had sent but not yet recorded, at most one batch (the "batch" column).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import signal
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from bot.app import build_app  # noqa: E402
from bot.channels.telegram import CHANNEL, messages  # noqa: E402
from bot.channels.telegram.client import make_client  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.outbox import Limits, Sender  # noqa: E402
from conversations.base import Context, Reply  # noqa: E402
from conversations.broadcast import Segment  # noqa: E402
from handlers import broadcasts  # noqa: E402
from storage import models as m  # noqa: E402
from storage.db import Database  # noqa: E402
from tests.fakes.telegram import TOKEN, FakeTelegram  # noqa: E402
from tests.scratch import empty  # noqa: E402

FIRST_UID = 10_000_000
KILL_LEASE = 5.0  # seconds a claim lasts in a --kill run (60 in production)


def fake_server(conn) -> None:
    """The fake Bot API in a process of its own, answering the parent over a pipe."""
    fake = FakeTelegram().start()
    conn.send(fake.url)
    while True:
        command = conn.recv()
        if command == "count":
            conn.send(len(fake.called("sendMessage")))
        elif command == "calls":
            conn.send([(str(c.params.get("chat_id")), c.at, c.status)
                       for c in fake.called("sendMessage")])
        elif command == "reset":
            with fake.cond:
                fake.calls.clear()
                fake.messages.clear()
            conn.send("ok")
        else:
            fake.stop()
            return


async def prepare(url: str, recipients: int) -> None:
    """An empty database with `recipients` beneficiaries on Telegram and one broadcast."""
    db = Database(url)
    await db.migrate()
    await empty(db)
    now = datetime.now(UTC)
    async with db.unit_of_work() as uow:
        people = [{"id": n + 1, "language": "ar", "unreachable": False, "created_at": now}
                  for n in range(recipients)]
        await uow.session.execute(insert(m.Beneficiary), people)
        await uow.session.execute(insert(m.Identity), [
            {"beneficiary_id": n + 1, "channel": CHANNEL, "sender_id": str(FIRST_UID + n),
             "chat_id": str(FIRST_UID + n), "created_at": now} for n in range(recipients)])
    app = await build_app(Settings(database_url=url))
    async with app.db.unit_of_work() as uow:
        added = await uow.broadcasts.add(
            "bench", "توزيع السلال الغذائية يوم الخميس بعد العصر في مقر الجمعية.", None,
            Segment(), "ar", now)
        ctx = Context(app.profile, now, "bench", app.translations)
        await broadcasts.launch(uow, added, ctx, now)
    await app.close()
    await db.close()


async def send_all(url: str, fake_url: str, rate: float, runtime: str,
                   lease: float = 60.0) -> None:
    """One sender process: deliver until the broadcast is done."""
    app = await build_app(Settings(database_url=url, auto_migrate=False))
    client = make_client(runtime, TOKEN, fake_url)
    await client.start()

    async def send(chat_id: str, reply: Reply) -> str | None:
        ref = None
        for body, markup in messages(reply):
            ref = await client.send_message(chat_id, body, markup)
        return ref

    sender = Sender(app.outbox, CHANNEL, send, Limits(rate, 1.0, 20, lease=lease),
                    app.broadcasts.finish)
    try:
        while True:
            await sender.drain()
            async with app.db.unit_of_work() as uow:
                found = await uow.broadcasts.broadcast(1)
            if found is None or found.status != "sending":
                break
            await asyncio.sleep(0.05)
    finally:
        await client.close()
        await app.close()


def worker(url: str, fake_url: str, rate: float, runtime: str, lease: float = 60.0) -> None:
    asyncio.run(send_all(url, fake_url, rate, runtime, lease))


def kill_one(parent, context, workers: list, recipients: int, args: tuple) -> None:
    """A third of the way through, kill -9 the first sender mid-batch and start another in
    its place: what it sent but had not yet recorded goes out again when its lease runs
    out (the duplicates), nothing it claimed is lost."""
    while True:
        parent.send("count")
        if parent.recv() >= recipients // 3:
            break
        time.sleep(0.01)
    os.kill(workers[0].pid, signal.SIGKILL)
    workers[0].join()
    workers[0] = context.Process(target=worker, args=args)
    workers[0].start()


def measure(calls: list[tuple[str, float, int]], recipients: int) -> dict[str, float]:
    ok = [(chat, at) for chat, at, status in calls if status == 200]
    times = sorted(at for _, at in ok)
    per_chat = Counter(chat for chat, _ in ok)
    busiest, j = 0, 0
    for i, t in enumerate(times):  # the most sends inside any one-second window
        while times[j] <= t - 1.0:
            j += 1
        busiest = max(busiest, i - j + 1)
    span = times[-1] - times[0] if len(times) > 1 else float("nan")
    return {"sent": len(ok), "seconds": span, "rate": (len(ok) - 1) / span if span else 0.0,
            "busiest": busiest, "duplicates": sum(n - 1 for n in per_chat.values()),
            "lost": recipients - len(per_chat)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--rates", default="30,1000", help="limits to try, messages per second")
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--db", help="a PostgreSQL URL (required for --processes > 1); "
                                     "default: a temporary SQLite file")
    parser.add_argument("--runtime", default="ptb", choices=["ptb", "aiogram"])
    parser.add_argument("--kill", action="store_true",
                        help="kill -9 one sender a third of the way through and start another "
                             f"(leases of {KILL_LEASE:g} s, so the rerun comes soon)")
    args = parser.parse_args()
    if args.processes > 1 and not (args.db or "").startswith("postgresql"):
        parser.error("several processes share a PostgreSQL database: give --db")
    context = mp.get_context("spawn")
    parent, child = context.Pipe()
    server = context.Process(target=fake_server, args=(child,), daemon=True)
    server.start()
    fake_url = parent.recv()
    table = Table("limit /s", "recipients", "processes", "killed", "achieved /s",
                  "busiest second", "seconds", "duplicates", "batch", "lost",
                  title=f"One announcement through the fake Bot API ({args.runtime})")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for n, rate in enumerate(float(r) for r in args.rates.split(",")):
                url = args.db or f"sqlite+aiosqlite:///{tmp}/bench{n}.db"
                asyncio.run(prepare(url, args.recipients))
                parent.send("reset")
                parent.recv()
                lease = KILL_LEASE if args.kill else 60.0
                work = (url, fake_url, rate, args.runtime, lease)
                workers = [context.Process(target=worker, args=work)
                           for _ in range(args.processes)]
                started = time.monotonic()
                for w in workers:
                    w.start()
                if args.kill:
                    kill_one(parent, context, workers, args.recipients, work)
                for w in workers:
                    w.join()
                wall = time.monotonic() - started
                parent.send("calls")
                r = measure(parent.recv(), args.recipients)
                table.add_row(f"{rate:g}", str(args.recipients), str(args.processes),
                              "1" if args.kill else "0", f"{r['rate']:.1f}", str(r["busiest"]),
                              f"{r['seconds']:.1f} (wall {wall:.1f})", str(r["duplicates"]),
                              str(Limits(rate).batch), str(r["lost"]))
    finally:
        parent.send("stop")
        server.join(timeout=10)
    Console(width=150).print(table)


if __name__ == "__main__":
    main()
