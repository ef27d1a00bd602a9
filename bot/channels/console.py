"""`wasl chat`: a person talks to the bot in the terminal (numbered choices).

Type a number, an option's name, or an answer; `/file PATH` sends a file.
"""

from __future__ import annotations

import asyncio
import shlex
from pathlib import Path

from rich.console import Console

from bot.app import App
from bot.channels import file_ref
from conversations.base import Event, InboundEvent, Reply

CHANNEL = "console"


def render(reply: Reply) -> str:
    """Menus are numbered; the ways out of a typed question are shown by name."""
    lines = [reply.text]
    if reply.choices:
        typed_answer = reply.expects is not None and reply.expects.kind not in ("choice", "confirm")
        if typed_answer:
            lines.append("  ·  ".join(f"[{c.label}]" for c in reply.choices))
        else:
            lines += [f"  {i}. {c.label}" for i, c in enumerate(reply.choices, 1)]
    return "\n".join(lines)


def to_event(line: str) -> Event:
    if line.startswith("/file "):
        path = Path(shlex.split(line[len("/file "):])[0]).expanduser()
        if path.is_file():
            return Event("file", file=file_ref(path))
    return Event("text", text=line)


async def run(app: App, sender: str = "console") -> None:
    console = Console(highlight=False)

    async def send(chat_id: str, reply: Reply) -> None:
        console.print(render(reply), markup=False)
        console.print()

    inbound = InboundEvent(CHANNEL, sender, sender, Event("text", text="/start"))
    await app.router.handle(inbound)
    await app.outbox.deliver(CHANNEL, send, app.broadcasts.finish)
    while True:
        try:
            line = await asyncio.to_thread(input, "> ")
        except (EOFError, KeyboardInterrupt):
            console.print()
            return
        if not line.strip():
            continue
        await app.router.handle(InboundEvent(CHANNEL, sender, sender, to_event(line)))
        await app.scheduler.tick()  # a due survey reminder shows up with the next reply
        await app.outbox.deliver(CHANNEL, send, app.broadcasts.finish)
