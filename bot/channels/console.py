"""`wasl chat`: a person talks to the bot in the terminal (numbered choices).

Type a number, an option's name, or an answer; `/file PATH` sends a file.
"""

from __future__ import annotations

import asyncio
import shlex
from pathlib import Path

from rich.console import Console

from bot.app import App
from bot.channels import file_ref, handle_patiently, largest_file_bytes
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
            lines += [f"  {line}" for line in reply.numbered_lines()]
    return "\n".join(lines)


def to_event(line: str, max_bytes: int | None = None) -> Event:
    """A typed line; `/file PATH` reads that file (OSError or ValueError if it cannot be)."""
    if line.startswith("/file "):
        words = shlex.split(line[len("/file "):]) or [""]
        path = Path(words[0]).expanduser()
        if path.exists():
            return Event("file", file=file_ref(path, max_bytes=max_bytes))
    return Event("text", text=line)


async def run(app: App, sender: str = "console") -> None:
    console = Console(highlight=False)
    _ = app.translations["ar"].gettext  # the console's language is the default one
    max_bytes = largest_file_bytes(app.profile)

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
        try:
            event = to_event(line, max_bytes)
        except (OSError, ValueError):  # a directory, a device, no permission
            console.print(_("This file cannot be read. Please send another one."), markup=False)
            continue
        if not await handle_patiently(app, InboundEvent(CHANNEL, sender, sender, event)):
            console.print(_("Sorry, please send that again in a moment."), markup=False)
            continue
        await app.scheduler.tick()  # a due survey reminder shows up with the next reply
        await app.digest.tick()  # and the desk digest at the opening
        await app.outbox.deliver(CHANNEL, send, app.broadcasts.finish)
