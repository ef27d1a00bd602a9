"""Sealing at rest (storage/crypto.py): what opens, what does not, and where keys come from."""

from __future__ import annotations

import base64
import stat

import pytest

from storage.crypto import (
    KeyError_,
    Keyring,
    MissingKey,
    UnknownKey,
    key_file_for,
    new_key,
    read_key_file,
    stored_key_id,
    write_key_file,
)

KEY = base64.b64decode(new_key())
OTHER = base64.b64decode(new_key())


def test_a_sealed_text_opens_and_hides_the_value():
    keys = Keyring([KEY])
    sealed = keys.seal_text("رقم الهوية 1012345678", b"requests.fields")
    assert "1012345678" not in sealed and "الهوية" not in sealed
    assert keys.open_text(sealed, b"requests.fields") == "رقم الهوية 1012345678"
    assert stored_key_id(sealed) == keys.current
    # the same value sealed twice differs (a fresh nonce): equal answers are not visible
    assert keys.seal_text("x", b"a") != keys.seal_text("x", b"a")


def test_a_value_moved_to_another_column_or_altered_does_not_open():
    keys = Keyring([KEY])
    sealed = keys.seal_text("SA0380000000608010167519", b"requests.fields")
    with pytest.raises(KeyError_):
        keys.open_text(sealed, b"messages.text")
    blob = keys.seal_bytes(b"\x89PNG photo", b"documents.content")
    altered = blob[:-1] + bytes([blob[-1] ^ 1])
    with pytest.raises(KeyError_):
        keys.open_bytes(altered, b"documents.content")


def test_old_rows_open_after_a_rotation_and_unknown_keys_are_refused():
    old = Keyring([KEY])
    sealed = old.seal_bytes(b"photo", b"documents.content")
    rotated = Keyring([OTHER, KEY])
    assert rotated.open_bytes(sealed, b"documents.content") == b"photo"
    assert stored_key_id(rotated.seal_bytes(b"photo", b"documents.content")) == rotated.current
    with pytest.raises(UnknownKey):
        Keyring([OTHER]).open_bytes(sealed, b"documents.content")


def test_values_from_before_encryption_read_as_they_were():
    keys = Keyring([KEY])
    assert keys.open_text("نص قديم", b"messages.text") == "نص قديم"
    assert keys.open_bytes(b"%PDF-1.4", b"documents.content") == b"%PDF-1.4"
    assert stored_key_id("نص قديم") is None and stored_key_id({"a": 1}) is None


def test_the_blind_index_is_keyed():
    keys = Keyring([KEY])
    assert keys.blind("1012345678") == Keyring([KEY]).blind("1012345678")
    assert keys.blind("1012345678") != keys.blind("1012345679")
    assert Keyring([OTHER]).blind("1012345678") != keys.blind("1012345678")
    assert "1012345678" not in keys.blind("1012345678")
    assert Keyring([OTHER, KEY]).blinds("1012345678")[1] == keys.blind("1012345678")


def test_the_embedded_default_makes_a_private_key_file_beside_the_database(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path}/data/wasl.db"
    keys = Keyring.for_database(url, env={})
    path = key_file_for(str(tmp_path / "data" / "wasl.db"))
    assert path.exists() and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert read_key_file(path) == keys.keys
    again = Keyring.for_database(url, env={})  # the next start reads the same key
    assert again.current == keys.current


def test_postgresql_refuses_to_start_without_a_key():
    with pytest.raises(MissingKey, match="WASL_DATA_KEY"):
        Keyring.for_database("postgresql+asyncpg://u@127.0.0.1/wasl", env={})


def test_keys_from_the_environment_and_a_key_file(tmp_path):
    env = {"WASL_DATA_KEY": base64.b64encode(OTHER).decode(),
           "WASL_DATA_KEY_OLD": base64.b64encode(KEY).decode()}
    keys = Keyring.for_database("postgresql+asyncpg://u@127.0.0.1/wasl", env=env)
    assert keys.keys == [OTHER, KEY]
    with pytest.raises(KeyError_, match="32 bytes"):
        Keyring.for_database("sqlite:///x.db", env={"WASL_DATA_KEY": base64.b64encode(b"short").decode()})
    with pytest.raises(KeyError_, match="base64"):
        Keyring.for_database("sqlite:///x.db", env={"WASL_DATA_KEY": "not base64!"})
    path = tmp_path / "keys"
    write_key_file(path, [KEY])
    assert Keyring.for_database("postgresql://u@h/db", env={"WASL_DATA_KEY_FILE": str(path)}).keys == [KEY]
    with pytest.raises(MissingKey):
        Keyring.for_database("postgresql://u@h/db", env={"WASL_DATA_KEY_FILE": str(tmp_path / "none")})


def test_a_running_process_reads_a_rotated_key_file(tmp_path):
    path = tmp_path / "keys"
    write_key_file(path, [KEY])
    running = Keyring.from_file(path)
    assert not running.refresh()
    elsewhere = Keyring([OTHER, KEY])
    sealed = elsewhere.seal_text("x", b"t.c")
    write_key_file(path, [OTHER, KEY])
    # a row sealed under a key it has not seen makes it read the file again
    assert running.open_text(sealed, b"t.c") == "x"
    write_key_file(path, [base64.b64decode(new_key()), OTHER, KEY])
    assert running.refresh() and running.current != elsewhere.current
