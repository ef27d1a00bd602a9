"""Gettext catalogs from locales/, compiled in memory at start (no stale .mo files)."""

from __future__ import annotations

import gettext
import io
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from conversations.base import Translator
from conversations.profile import Profile, Term

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


class Worded:
    """A catalog that speaks an association's own words (the profile's `terms`): each
    translated text with the terms replaced, in the profile's order, once per message.
    What a beneficiary may type is matched in both words (`Context.phrases`): at Al-Huda
    "ابي باحث" still reaches the competent team."""

    def __init__(self, inner: Translator, terms: tuple[Term, ...]) -> None:
        self.inner, self._terms = inner, terms
        self._said: dict[str, str] = {}

    def _say(self, text: str) -> str:
        for ours, theirs in self._terms:
            text = text.replace(ours, theirs)
        return text

    def gettext(self, message: str) -> str:
        said = self._said.get(message)
        if said is None:
            said = self._said[message] = self._say(self.inner.gettext(message))
        return said

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self._say(self.inner.ngettext(singular, plural, n))


def worded(translations: dict[str, Translator], profile: Profile) -> dict[str, Translator]:
    """The catalogs as this association speaks (unchanged where its profile has no terms)."""
    return {lang: Worded(tr, profile.terms.get(lang)) if profile.terms.get(lang) else tr
            for lang, tr in translations.items()}
