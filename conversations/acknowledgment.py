"""The fingerprint of a confirmed request: SHA-256 over a canonical JSON of what
the beneficiary confirmed, so that any later change to the stored data shows."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any


def canonical(number: str, service: str, fields: dict[str, Any], text_version: str,
              signature: str | None, confirmed_at: datetime) -> bytes:
    """Sorted keys, no spaces, UTF-8, time in UTC to the second: the same data, the same bytes."""
    document = {
        "confirmed_at": confirmed_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "fields": fields,
        "number": number,
        "service": service,
        "signature": signature,
        "text_version": text_version,
    }
    return json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def digest(*args: Any, **kwargs: Any) -> str:
    return hashlib.sha256(canonical(*args, **kwargs)).hexdigest()
