"""Encryption at rest (the PDPL's safeguards): what identifies or describes a beneficiary is
sealed with AES-GCM before it reaches the database, and opened as it is read.

A key is 32 random bytes. Its id is the first four bytes of a hash of it, and every sealed
value names the id of the key that sealed it, so that after a rotation old rows still open
until they are sealed again (`wasl keys rotate`, or the bot in the background). Each value is
bound to its column (the associated data), so a value copied into another column does not
open.

Where the keys come from (`Keyring.for_database`):
- `WASL_DATA_KEY` (base64 of 32 bytes; older keys, still needed to open old rows, in
  `WASL_DATA_KEY_OLD`, comma-separated), or
- `WASL_DATA_KEY_FILE`: one base64 key per line, the newest first, or
- for a SQLite file and neither of those, a key file beside it (`wasl.db.key`, mode 0600),
  made on first start. PostgreSQL has no such default: without a key it refuses to start
  rather than write personal data in clear.

Lookups by national ID use a keyed hash of it (a blind index, `Keyring.blind`), never the
number itself.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import JSON, LargeBinary, Text, TypeDecorator
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect, make_url

KEY_BYTES = 32
NONCE_BYTES = 12
TEXT_MARK = "w1."  # a sealed text: w1.<key id, 8 hex>.<base64url of nonce + ciphertext>
BYTES_MARK = b"W1"  # sealed bytes: W1 + key id (4 bytes) + nonce + ciphertext
DIALECT_ATTRIBUTE = "wasl_keyring"  # where an engine's dialect carries its keyring


class KeyError_(RuntimeError):
    """A key problem that stops the bot: none given, one malformed, or one missing."""


class MissingKey(KeyError_):
    pass


class UnknownKey(KeyError_):
    pass


def key_id(key: bytes) -> bytes:
    return hashlib.sha256(b"wasl key id\0" + key).digest()[:4]


def _derive(key: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None,
                info=b"wasl " + purpose).derive(key)


def new_key() -> str:
    """A fresh key, base64 (what `WASL_DATA_KEY` and key files hold)."""
    return base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode()


def parse_key(text: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise KeyError_("a data key is not valid base64") from None
    if len(key) != KEY_BYTES:
        raise KeyError_(f"a data key must be {KEY_BYTES} bytes (base64 of 32 random bytes)")
    return key


def read_key_file(path: Path) -> list[bytes]:
    lines = [line.strip() for line in path.read_text(encoding="ascii").splitlines()]
    keys = [parse_key(line) for line in lines if line and not line.startswith("#")]
    if not keys:
        raise KeyError_(f"the key file {path} holds no key")
    return keys


KEY_FILE_HEADER = ("# Wasl's data keys, newest first. Without them the database cannot be read:\n"
                   "# back this file up apart from the database (docs/operations.md).\n")


def write_key_file(path: Path, keys: list[bytes]) -> None:
    """Write the keys (newest first) with mode 0600, replacing the file in one step."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(KEY_FILE_HEADER)
        out.writelines(base64.b64encode(k).decode() + "\n" for k in keys)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)


@dataclass
class Keyring:
    """The keys a process knows: the newest seals, any opens what it sealed."""

    keys: list[bytes]  # newest first
    source: Path | None = None  # a key file, read again when a row names a key not known
    _ciphers: dict[bytes, AESGCM] = field(default_factory=dict, init=False, repr=False)
    _index: dict[bytes, bytes] = field(default_factory=dict, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.keys:
            raise MissingKey("no data key")
        self._load(self.keys)

    def _load(self, keys: list[bytes]) -> None:
        self.keys = list(keys)
        self._ciphers = {key_id(k): AESGCM(_derive(k, b"data")) for k in keys}
        self._index = {key_id(k): _derive(k, b"blind index") for k in keys}

    @property
    def current(self) -> bytes:
        return key_id(self.keys[0])

    @property
    def ids(self) -> list[str]:
        return [key_id(k).hex() for k in self.keys]

    @classmethod
    def from_file(cls, path: Path) -> Keyring:
        return cls(read_key_file(path), source=path)

    @classmethod
    def for_database(cls, url: str, env: Mapping[str, str] | None = None) -> Keyring:
        """The keys for this database, from the environment, a key file, or (SQLite only)
        the key file beside the database, made on first start."""
        env = os.environ if env is None else env
        if env.get("WASL_DATA_KEY"):
            old = [parse_key(k) for k in env.get("WASL_DATA_KEY_OLD", "").split(",") if k.strip()]
            return cls([parse_key(env["WASL_DATA_KEY"]), *old])
        if env.get("WASL_DATA_KEY_FILE"):
            path = Path(env["WASL_DATA_KEY_FILE"])
            if not path.exists():
                raise MissingKey(f"WASL_DATA_KEY_FILE names {path}, which does not exist")
            return cls.from_file(path)
        parsed = make_url(url)
        if parsed.get_backend_name() != "sqlite":
            raise MissingKey(
                "no data key: set WASL_DATA_KEY (base64 of 32 random bytes, e.g. from "
                "`wasl keys new`) or WASL_DATA_KEY_FILE; Wasl does not write personal data "
                "to PostgreSQL in clear")
        if not parsed.database or parsed.database == ":memory:":
            return cls([secrets.token_bytes(KEY_BYTES)])  # lives and dies with the process
        path = key_file_for(parsed.database)
        if not path.exists():  # first start (a database from before encryption is sealed then)
            write_key_file(path, [secrets.token_bytes(KEY_BYTES)])
        return cls.from_file(path)

    def refresh(self) -> bool:
        """Read the key file again if it changed (a rotation by `wasl keys rotate` while the
        bot runs): True when the newest key is another one now."""
        if self.source is None:
            return False
        try:
            keys = read_key_file(self.source)
        except (OSError, KeyError_):  # being replaced, or broken: keep what works
            return False
        if keys == self.keys:
            return False
        before = self.current
        with self._lock:
            self._load(keys)
        return self.current != before

    def _cipher(self, kid: bytes) -> AESGCM:
        found = self._ciphers.get(kid)
        if found is None and self.source is not None:
            with self._lock:  # a rotation elsewhere added a key: read the file again
                self._load(read_key_file(self.source))
            found = self._ciphers.get(kid)
        if found is None:
            raise UnknownKey(f"a row is sealed with key {kid.hex()}, which this process lacks")
        return found

    # --- sealing --------------------------------------------------------------------------
    def seal_bytes(self, data: bytes, aad: bytes) -> bytes:
        kid = self.current
        nonce = secrets.token_bytes(NONCE_BYTES)
        return BYTES_MARK + kid + nonce + self._ciphers[kid].encrypt(nonce, data, aad)

    def open_bytes(self, blob: bytes, aad: bytes) -> bytes:
        if not blob.startswith(BYTES_MARK):
            return blob  # written before encryption; sealed by the next pass (reseal)
        kid, rest = blob[2:6], blob[6:]
        try:
            return self._cipher(kid).decrypt(rest[:NONCE_BYTES], rest[NONCE_BYTES:], aad)
        except InvalidTag:
            raise KeyError_("a sealed value does not open (altered, or moved)") from None

    def seal_text(self, text: str, aad: bytes) -> str:
        sealed = self.seal_bytes(text.encode(), aad)
        return (f"{TEXT_MARK}{sealed[2:6].hex()}."
                + base64.urlsafe_b64encode(sealed[6:]).decode().rstrip("="))

    def open_text(self, stored: str, aad: bytes) -> str:
        if not stored.startswith(TEXT_MARK):
            return stored
        try:
            kid_hex, body = stored[len(TEXT_MARK):].split(".", 1)
            blob = (BYTES_MARK + bytes.fromhex(kid_hex)
                    + base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        except ValueError:
            return stored  # not ours after all: an old plaintext that happens to start so
        return self.open_bytes(blob, aad).decode()

    # --- the blind index ------------------------------------------------------------------
    def blind(self, value: str) -> str:
        """The keyed hash a lookup uses instead of the value (under the newest key)."""
        return self._blind(self.current, value)

    def blinds(self, value: str) -> list[str]:
        """The value's keyed hash under every key known (rows not yet rotated)."""
        return [self._blind(key_id(k), value) for k in self.keys]

    def _blind(self, kid: bytes, value: str) -> str:
        return hmac.new(self._index[kid], value.encode(), hashlib.sha256).hexdigest()


def key_file_for(database: str) -> Path:
    return Path(database).with_name(Path(database).name + ".key")


def stored_key_id(stored: Any) -> bytes | None:
    """The id of the key a stored value is sealed with; None for a value in clear."""
    if isinstance(stored, (bytes, bytearray, memoryview)):
        blob = bytes(stored)
        return blob[2:6] if blob.startswith(BYTES_MARK) and len(blob) > 6 else None
    if isinstance(stored, str) and stored.startswith(TEXT_MARK):
        try:
            return bytes.fromhex(stored[len(TEXT_MARK):len(TEXT_MARK) + 8])
        except ValueError:
            return None
    return None


def keyring_of(dialect: Dialect) -> Keyring:
    found = getattr(dialect, DIALECT_ATTRIBUTE, None)
    if found is None:
        raise MissingKey("this database connection has no keyring")
    return found


# --- column types -------------------------------------------------------------------------
class SealedText(TypeDecorator[str]):
    """Text sealed at rest."""

    impl = Text
    cache_ok = True

    def __init__(self, column: str) -> None:
        super().__init__()
        self.column = column

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return keyring_of(dialect).seal_text(value, self.column.encode())

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return keyring_of(dialect).open_text(value, self.column.encode())


class SealedBytes(TypeDecorator[bytes]):
    """Bytes (a document's content) sealed at rest."""

    impl = LargeBinary
    cache_ok = True

    def __init__(self, column: str) -> None:
        super().__init__()
        self.column = column

    def process_bind_param(self, value: bytes | None, dialect: Dialect) -> bytes | None:
        if value is None:
            return None
        return keyring_of(dialect).seal_bytes(bytes(value), self.column.encode())

    def process_result_value(self, value: bytes | None, dialect: Dialect) -> bytes | None:
        if value is None:
            return None
        return keyring_of(dialect).open_bytes(bytes(value), self.column.encode())


class SealedJson(TypeDecorator[Any]):
    """A JSON value sealed at rest: stored as a JSON string (the sealed text), so that the
    column stays JSON on every engine; a value from before encryption reads as it was."""

    impl = JSON
    cache_ok = True

    def __init__(self, column: str) -> None:
        super().__init__()
        self.column = column

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        return dialect.type_descriptor(JSONB() if dialect.name == "postgresql" else JSON())

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        return keyring_of(dialect).seal_text(
            json.dumps(value, ensure_ascii=False, separators=(",", ":")), self.column.encode())

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if isinstance(value, str) and value.startswith(TEXT_MARK):
            return json.loads(keyring_of(dialect).open_text(value, self.column.encode()))
        return value
