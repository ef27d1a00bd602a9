"""Benchmark: the Telegram sender against the local fake Bot API.

    .venv/bin/python bench/telegram_send.py [--messages 300] [--chats 100] [--rate 30]
                                            [--runtime ptb|aiogram]

Writes outbox rows for many chats, lets the rate-limited sender deliver them
through the real runtime over HTTP, and prints the achieved rate against the
configured limit, the fastest any one chat was sent to, and the duplicates and
losses counted at the fake server.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from bot.app import build_app  # noqa: E402
from bot.channels.telegram import CHANNEL, messages  # noqa: E402
from bot.channels.telegram.client import make_client  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.outbox import Limits, Sender  # noqa: E402
from conversations.base import Reply  # noqa: E402
from tests.fakes.telegram import TOKEN, FakeTelegram  # noqa: E402


async def run(args: argparse.Namespace, fake: FakeTelegram, db_url: str) -> dict[str, float]:
    app = await build_app(Settings(database_url=db_url))
    now = datetime.now(UTC)
    async with app.db.unit_of_work() as uow:
        for n in range(args.messages):
            chat = str(700000 + n % args.chats)
            await uow.enqueue(CHANNEL, chat, Reply(f"رسالة رقم {n}").to_dict(), now)
    client = make_client(args.runtime, TOKEN, fake.url)
    await client.start()

    async def send(chat_id: str, reply: Reply) -> str | None:
        ref = None
        for text, markup in messages(reply):
            ref = await client.send_message(chat_id, text, markup)
        return ref

    sender = Sender(app.outbox, CHANNEL, send, Limits(args.rate, 1.0, 20))
    before = len(fake.called("sendMessage"))
    started = time.monotonic()
    while True:
        await sender.drain()
        async with app.db.unit_of_work() as uow:
            if not await uow.pending(CHANNEL, datetime.now(UTC), limit=1):
                break
        await asyncio.sleep(0.05)
    elapsed = time.monotonic() - started
    await client.close()
    await app.close()
    calls = [c for c in fake.called("sendMessage")[before:] if c.status == 200]
    texts = Counter(c.params["text"] for c in calls)
    per_chat = defaultdict(list)
    for c in calls:
        per_chat[c.params["chat_id"]].append(c.at)
    gaps = [b - a for times in per_chat.values() for a, b in zip(times, times[1:], strict=False)]
    return {"sent": len(calls), "seconds": elapsed, "rate": len(calls) / elapsed,
            "duplicates": sum(v - 1 for v in texts.values()),
            "lost": args.messages - len(texts), "min_gap": min(gaps) if gaps else float("nan")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--chats", type=int, default=100)
    parser.add_argument("--rate", type=float, default=30.0)
    parser.add_argument("--runtime", default="ptb", choices=["ptb", "aiogram"])
    args = parser.parse_args()
    fake = FakeTelegram().start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            r = asyncio.run(run(args, fake, f"sqlite+aiosqlite:///{tmp}/bench.db"))
    finally:
        fake.stop()
    table = Table("runtime", "messages", "chats", "limit /s", "achieved /s", "seconds",
                  "min gap in a chat (s)", "duplicates", "lost",
                  title="Telegram sender through the fake Bot API")
    table.add_row(args.runtime, str(args.messages), str(args.chats), f"{args.rate:g}",
                  f"{r['rate']:.1f}", f"{r['seconds']:.1f}", f"{r['min_gap']:.2f}",
                  str(r["duplicates"]), str(r["lost"]))
    Console(width=150).print(table)


if __name__ == "__main__":
    main()
