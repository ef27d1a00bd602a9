"""Channel adapters: platform input -> InboundEvent, Reply -> platform output."""

from __future__ import annotations

import asyncio
import errno
import hashlib
import mimetypes
import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Any

from conversations.base import FileRef, InboundEvent
from conversations.fields import DEFAULT_MIME
from conversations.profile import Profile
from storage.db import Unavailable

if TYPE_CHECKING:
    from bot.app import App


# A platform's JSON read field by field (Telegram's updates, WhatsApp's webhooks): a value
# of the wrong type reads as empty, so that no shape can raise.
def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def as_str(value: Any, default: str = "") -> str:
    return value if isinstance(value, str) else default


def largest_file_bytes(profile: Profile) -> int:
    """The largest file any question of the profile accepts: a local file larger than that
    is refused without being read whole (console, simulator)."""
    largest = max([profile.max_file_mb, *(f.rules.max_mb or 0 for s in profile.services
                                          for f in s.fields)])
    return int(largest * 1024 * 1024)


def file_ref(path: Path, name: str | None = None, mime: str | None = None,
             max_bytes: int | None = None) -> FileRef:
    """Read a local file into a FileRef: size, SHA-256 and type from the bytes themselves.

    Only a regular file is read (never a FIFO or a device, which could block or never end);
    one larger than `max_bytes` is not kept: its FileRef has its size and type (from its
    first bytes) but no content, so the flow refuses it with the limit, as on the platforms.
    Raises OSError (or ValueError, for a path with a NUL) when it cannot be read."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, "not a regular file", str(path))
        content = f.read() if max_bytes is None else f.read(max_bytes + 1)
    name = name or path.name
    declared = mime or mimetypes.guess_type(name)[0] or "application/octet-stream"
    mime = sniff(content, declared)
    if max_bytes is not None and len(content) > max_bytes:
        return FileRef(name=name, mime=mime, size=max(info.st_size, len(content)), sha256="")
    return FileRef(name=name, mime=mime, size=len(content),
                   sha256=hashlib.sha256(content).hexdigest(), content=content)


def audio_extension(mime: str) -> str:
    """A voice note's file name ending, from its type (Ogg Opus when unknown)."""
    return {"audio/mpeg": "mp3", "audio/mp4": "m4a", "audio/aac": "aac",
            "audio/amr": "amr"}.get(mime, "ogg")


def sniff(content: bytes, declared: str) -> str:
    """The type a file really has, from its first bytes, for the types Wasl accepts by
    default; a file claiming one of those types without its signature is not trusted."""
    head = content[:16]
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head[4:8] == b"ftyp" and head[8:12] in (b"heic", b"heix", b"mif1", b"msf1", b"heim"):
        return "image/heic"
    return "application/octet-stream" if declared in DEFAULT_MIME else declared


async def handle_patiently(app: App, inbound: InboundEvent, attempts: int = 5) -> bool:
    """For the local channels (console, simulator), which no platform redelivers: an event
    the database cannot take now (another process holds SQLite's lock) is tried again a
    few times; False if it never could be, and nothing of it was kept."""
    for attempt in range(attempts):
        try:
            await app.router.handle(inbound)
            return True
        except Unavailable:
            await asyncio.sleep(min(0.25 * 2 ** attempt, 4))
    return False
