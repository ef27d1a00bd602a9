"""The channel helpers: what a received file really is."""

from __future__ import annotations

import pytest

from bot.channels import sniff


@pytest.mark.parametrize("head,declared,found", [
    (b"\xff\xd8\xff\xe0rest", "image/png", "image/jpeg"),  # a JPEG named .png is a JPEG
    (b"\x89PNG\r\n\x1a\nrest", "image/png", "image/png"),
    (b"%PDF-1.7\n", "application/octet-stream", "application/pdf"),
    (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp", "image/webp"),
    (b"\x00\x00\x00\x18ftypheic", "image/heic", "image/heic"),
    (b"MZ\x90\x00", "image/png", "application/octet-stream"),  # a program posing as a photo
    (b"PK\x03\x04", "application/zip", "application/zip"),  # other types keep their name
])
def test_sniffed_type(head, declared, found):
    assert sniff(head, declared) == found
