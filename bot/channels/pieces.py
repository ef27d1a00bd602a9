"""Cutting text for platforms' limits: between whole characters (a letter keeps its
marks, an emoji its joiners), at line ends or spaces when possible."""

from __future__ import annotations

import unicodedata

ELLIPSIS = "…"


def graphemes(text: str) -> list[str]:
    """User-perceived characters, near enough for cutting: a base character with its
    combining marks (tashkeel), variation selectors, skin tones and zero-width joins."""
    clusters: list[str] = []
    joined = False
    for ch in text:
        cp = ord(ch)
        attach = clusters and (
            joined or unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me")
            or 0xFE00 <= cp <= 0xFE0F or 0x1F3FB <= cp <= 0x1F3FF or cp == 0x200D
            or 0xE0020 <= cp <= 0xE007F)
        if attach:
            clusters[-1] += ch
        else:
            clusters.append(ch)
        joined = cp == 0x200D
    return clusters


def clip(text: str, limit: int) -> str:
    """`text` in at most `limit` characters (as WhatsApp counts them), cut between whole
    characters and ending with an ellipsis when cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    kept = ""
    for cluster in graphemes(text):
        if len(kept) + len(cluster) + len(ELLIPSIS) > limit:
            break
        kept += cluster
    return kept.rstrip() + ELLIPSIS


def split(text: str, limit: int) -> list[str]:
    """Pieces of at most `limit` characters, cut at line ends, then spaces, then between
    whole characters."""
    pieces, rest = [], text
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit + 1)
        if cut <= 0:
            cut = rest.rfind(" ", 0, limit + 1)
        if cut <= 0:
            cut = len(clip(rest, limit + 1)) - 1  # whole characters, no ellipsis
        pieces.append(rest[:cut])
        rest = rest[cut:].lstrip("\n ")
    return [*pieces, rest] if rest or not pieces else pieces
