"""Channel adapters: platform input -> InboundEvent, Reply -> platform output."""

from __future__ import annotations

import hashlib
import mimetypes
from pathlib import Path

from conversations.base import FileRef
from conversations.fields import sniff


def file_ref(path: Path, name: str | None = None, mime: str | None = None) -> FileRef:
    """Read a local file into a FileRef: size, SHA-256 and type from the bytes themselves."""
    content = path.read_bytes()
    name = name or path.name
    declared = mime or mimetypes.guess_type(name)[0] or "application/octet-stream"
    mime = sniff(content, declared)
    return FileRef(name=name, mime=mime, size=len(content),
                   sha256=hashlib.sha256(content).hexdigest(), content=content)
