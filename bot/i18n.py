"""Gettext catalogs from locales/, compiled in memory at start (no stale .mo files)."""

from __future__ import annotations

import gettext
import io
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "wasl"
LANGUAGES = ("ar", "en")


def load_translations(directory: Path = LOCALES_DIR) -> dict[str, gettext.GNUTranslations]:
    """One translator per language, read from `<dir>/<lang>/LC_MESSAGES/wasl.po`."""
    found: dict[str, gettext.GNUTranslations] = {}
    for lang in LANGUAGES:
        po = directory / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
        with po.open("rb") as handle:
            catalog = read_po(handle, locale=lang, domain=DOMAIN)
        buffer = io.BytesIO()
        write_mo(buffer, catalog, use_fuzzy=False)
        buffer.seek(0)
        found[lang] = gettext.GNUTranslations(buffer)
    return found
