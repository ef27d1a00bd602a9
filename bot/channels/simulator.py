"""`wasl simulate`: JSON Lines in, JSON Lines out, one conversation turn per line.

A contract other tools rely on (see README, "The simulator"): each input line
is handled and committed, its replies are printed, then `{"ack": N}`.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import IO, Any

from bot.app import App
from bot.channels import file_ref
from conversations.base import Event, InboundEvent, Reply

CHANNEL = "sim"


class BadLine(ValueError):
    """An input line that is not an event."""


def parse(line: str) -> InboundEvent:
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise BadLine(f"not valid JSON: {exc.msg}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("from"), str | int):
        raise BadLine('an event needs "from": the sender id')
    sender = str(data["from"])
    event = _event(data)
    dedupe = data.get("update_id")
    return InboundEvent(CHANNEL, sender, sender, event,
                        dedupe_id=str(dedupe) if dedupe is not None else None,
                        language_hint=data.get("lang"))


def _event(data: dict[str, Any]) -> Event:
    if isinstance(data.get("choice"), str):
        return Event("choice", choice=data["choice"])
    if isinstance(data.get("contact"), str):
        return Event("contact", contact=data["contact"])
    if isinstance(data.get("file"), dict):
        spec = data["file"]
        path = Path(str(spec.get("path", "")))
        if not path.is_file():
            raise BadLine(f"file not found: {path}")
        return Event("file", file=file_ref(path, spec.get("name"), spec.get("mime")))
    if isinstance(data.get("text"), str):
        return Event("text", text=data["text"])
    raise BadLine('an event needs one of "text", "choice", "contact" or "file"')


async def run(app: App, stdin: IO[str], stdout: IO[str]) -> None:
    """Drive conversations from stdin until it closes."""

    def emit(obj: dict[str, Any]) -> None:
        stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
        stdout.flush()

    async def send(chat_id: str, reply: Reply) -> None:
        emit({"to": chat_id, **reply.to_dict()})

    number = 0
    while line := await asyncio.to_thread(stdin.readline):
        number += 1
        if not line.strip():
            emit({"ack": number})
            continue
        try:
            inbound = parse(line)
        except BadLine as exc:
            emit({"error": str(exc), "line": number})
        else:
            await app.beneficiaries.handle(inbound)
        await app.outbox.deliver(CHANNEL, send)
        emit({"ack": number})
