"""Every user-facing string is in the catalogs, Arabic complete, plurals right."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bot.i18n import LOCALES_DIR, load_translations

ROOT = Path(__file__).resolve().parents[2]


def catalog(lang: str):
    with (LOCALES_DIR / lang / "LC_MESSAGES" / "wasl.po").open("rb") as f:
        return read_po(f, locale=lang)


def test_arabic_has_every_message_translated_and_none_fuzzy():
    missing = []
    for msg in catalog("ar"):
        if not msg.id:
            continue
        strings = msg.string if isinstance(msg.string, tuple) else (msg.string,)
        if msg.fuzzy or not all(strings):
            missing.append(msg.id)
    assert missing == []


def test_placeholders_survive_translation():
    for msg in catalog("ar"):
        if not msg.id:
            continue
        source = msg.id[-1] if isinstance(msg.id, tuple) else msg.id
        allowed = set(re.findall(r"\{\w+\}", source))
        for text in msg.string if isinstance(msg.string, tuple) else (msg.string,):
            assert set(re.findall(r"\{\w+\}", text)) <= allowed, msg.id


def test_catalog_is_up_to_date_with_the_code(tmp_path):
    """Extracting the code again finds nothing the Arabic catalog lacks."""
    pot = tmp_path / "wasl.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "-q", "extract", "-F", "babel.cfg",
         "-k", "N_", "-o", str(pot), "bot", "conversations", "handlers"],
        cwd=ROOT, check=True,
    )
    with pot.open("rb") as f:
        wanted = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(f) if m.id}
    have = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog("ar") if m.id}
    assert wanted - have == set(), "run `make messages` and translate the new strings"


def test_arabic_plural_header_is_the_fixed_one():
    header = (LOCALES_DIR / "ar" / "LC_MESSAGES" / "wasl.po").read_text(encoding="utf-8")
    assert "n%100>=11 && n%100<=99 ? 4 : 5" in header.replace('"\n"', "")


@pytest.mark.parametrize("n,form", [
    (1, "يوم واحد"), (2, "يومين"), (3, "3 أيام"), (10, "10 أيام"), (11, "11 يومًا"),
    (14, "14 يومًا"), (99, "99 يومًا"), (100, "100 يوم"), (103, "103 أيام"),
])
def test_arabic_plural_forms_pick_the_right_word(n, form):
    ar = load_translations()["ar"]
    text = ar.ngettext("{n} day", "{n} days", n).format(n=n)
    assert text == form


def test_the_policys_two_weeks_read_as_it_writes_them():
    ar = load_translations()["ar"]
    weeks = ar.ngettext("{n} week", "{n} weeks", 2).format(n=2)
    assert ar.gettext("within a period of not less than {period}").format(
        period=weeks) == "خلال مدة لا تقل عن أسبوعين"  # the policies' own words
