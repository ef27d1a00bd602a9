"""`wasl simulate`: JSON Lines in, JSON Lines out, one conversation turn per line.

A contract other tools rely on (see README, "The simulator"): each input line
is handled and committed, its replies are printed, then `{"ack": N}`. A reply that sends a
file (a copy of one's data, a document a researcher opens, the board's report) carries
`"file": {"name", "mime", "path"}`, written to a private temporary folder that lasts as
long as the process (or to the folder `--files` names).
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from pathlib import Path
from typing import IO, Any

from bot.app import App
from bot.channels import file_ref, handle_patiently, largest_file_bytes
from conversations.base import Event, InboundEvent, Reply

CHANNEL = "sim"


class BadLine(ValueError):
    """An input line that is not an event."""


MAX_ID = 64  # sender ids and update ids, as stored


def parse(line: str, max_bytes: int | None = None) -> InboundEvent:
    """One input line as an event; a file larger than `max_bytes` is not read whole."""
    try:
        data = json.loads(line)
    except (ValueError, RecursionError) as exc:  # bad JSON, absurd nesting or huge numbers
        raise BadLine(f"not valid JSON: {getattr(exc, 'msg', type(exc).__name__)}") from None
    if not isinstance(data, dict):
        raise BadLine('an event is a JSON object with "from"')
    sender = _identifier(data.get("from"))
    if sender is None:
        raise BadLine('an event needs "from": the sender id')
    dedupe = data.get("update_id")
    hint = data.get("lang")
    return InboundEvent(CHANNEL, sender, sender, _event(data, max_bytes),
                        dedupe_id=_identifier(dedupe) if dedupe is not None else None,
                        language_hint=hint if isinstance(hint, str) else None)


def _identifier(value: object) -> str | None:
    """A non-empty id of a sane length, given as a string or an integer (not a boolean)."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    text = str(value) if isinstance(value, str) or abs(value) < 10**MAX_ID else ""
    return text if 0 < len(text) <= MAX_ID and _unicode(text) else None


def _unicode(text: str) -> bool:
    """False for strings that cannot be stored (lone surrogates from JSON escapes)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _string(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not _unicode(value):
        raise BadLine(f'"{key}" must be a text string')
    return value


def _event(data: dict[str, Any], max_bytes: int | None = None) -> Event:
    if (choice := _string(data, "choice")) is not None:
        return Event("choice", choice=choice)
    if (contact := _string(data, "contact")) is not None:
        return Event("contact", contact=contact)
    if "file" in data or "voice" in data:  # a voice note: {"voice": {"path": ..., "mime": ...}}
        kind = "file" if "file" in data else "voice"
        spec = data[kind]
        if not isinstance(spec, dict):
            raise BadLine(f'"{kind}" must be an object with "path"')
        path, name, mime = (_string(spec, k) for k in ("path", "name", "mime"))
        if not path:
            raise BadLine(f'"{kind}" needs "path": a local file')
        if kind == "voice":
            mime = mime or "audio/ogg"
        try:
            return Event(kind, file=file_ref(Path(path), name, mime, max_bytes))
        except FileNotFoundError:
            raise BadLine(f"file not found: {path}") from None
        except (OSError, ValueError) as exc:  # a directory, a FIFO, no permission, EIO, a NUL
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise BadLine(f"cannot read file {path}: {reason}") from None
    if (text := _string(data, "text")) is not None:
        return Event("text", text=text)
    raise BadLine('an event needs one of "text", "choice", "contact", "file" or "voice"')


async def run(app: App, stdin: IO[str], stdout: IO[str], keep: Path | None = None) -> None:
    """Drive conversations from stdin until it closes; files sent go to `keep`, or to a
    temporary folder removed at the end."""

    def emit(obj: dict[str, Any]) -> None:
        stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
        stdout.flush()

    files = tempfile.TemporaryDirectory(prefix="wasl-sim-")  # 0700, removed at the end
    folder_of_files = keep or Path(files.name)

    async def send(chat_id: str, reply: Reply) -> None:
        data = reply.to_dict()  # exactly the contract's keys
        line = {"to": chat_id, "text": data["text"], "choices": data["choices"],
                "expects": data["expects"]}
        if reply.answered:  # the bot answered a question itself, from this topic
            line["answered"] = reply.answered
        if reply.document_id is not None:
            async with app.db.unit_of_work() as uow:
                doc = await uow.document(reply.document_id)
            if doc is not None:
                folder = folder_of_files / str(doc.id)  # names may repeat; ids do not
                folder.mkdir(mode=0o700, parents=True, exist_ok=True)
                path = folder / (Path(doc.name).name or "file")
                path.write_bytes(doc.content)
                line["file"] = {"name": doc.name, "mime": doc.mime, "path": str(path)}
        emit(line)

    for stream in (stdin, stdout):  # UTF-8 whatever the locale says
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(encoding="utf-8", errors="replace")
    max_bytes = largest_file_bytes(app.profile)
    number = 0
    while line := await asyncio.to_thread(stdin.readline):
        number += 1
        try:
            inbound = parse(line, max_bytes)
        except BadLine as exc:
            emit({"error": str(exc), "line": number})
        else:
            if not await handle_patiently(app, inbound):
                emit({"error": "the database is busy; send the line again", "line": number})
        await app.scheduler.tick()  # due survey reminders, stored in the database
        await app.digest.tick()  # the desk digest at the opening of a working day
        await app.outbox.deliver(CHANNEL, send, app.broadcasts.finish)
        emit({"ack": number})
    files.cleanup()
