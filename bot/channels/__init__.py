"""Channel adapters: platform input -> InboundEvent, Reply -> platform output."""

from __future__ import annotations

import hashlib
import mimetypes
from pathlib import Path

from conversations.base import FileRef
from conversations.fields import DEFAULT_MIME


def file_ref(path: Path, name: str | None = None, mime: str | None = None) -> FileRef:
    """Read a local file into a FileRef: size, SHA-256 and type from the bytes themselves."""
    content = path.read_bytes()
    name = name or path.name
    declared = mime or mimetypes.guess_type(name)[0] or "application/octet-stream"
    mime = sniff(content, declared)
    return FileRef(name=name, mime=mime, size=len(content),
                   sha256=hashlib.sha256(content).hexdigest(), content=content)


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
