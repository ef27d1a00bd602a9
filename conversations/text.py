"""Arabic-aware text normalisation (facts in ../shared/DOMAIN.md, "Arabic text").

Two levels: `clean` is safe for stored values (digits folded to ASCII, invisible
marks removed); `fold` is for matching only (typed choice labels, keywords) and
must never be applied to a value that is stored.
"""

from __future__ import annotations

import re
import unicodedata

# Arabic-Indic (U+0660..) and Extended/Persian (U+06F0..) digits -> ASCII.
_DIGITS = {ord(c): str(i) for i, c in enumerate("٠١٢٣٤٥٦٧٨٩")}
_DIGITS.update({ord(c): str(i) for i, c in enumerate("۰۱۲۳۴۵۶۷۸۹")})
# Arabic decimal and thousands separators.
_DIGITS.update({ord("٫"): ".", ord("٬"): ",", ord("،"): ","})

# Bidi and format marks, zero-width space, BOM, tatweel.
_INVISIBLE = dict.fromkeys(
    [0x200E, 0x200F, 0x061C, 0x200B, 0x200C, 0x200D, 0xFEFF, 0x0640, 0x2060]
    + list(range(0x202A, 0x202F))
    + list(range(0x2066, 0x206A))
)

_TASHKEEL = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed]")
_LETTER_FOLD = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه"})
_SPACES = re.compile(r"\s+")


_ANY_DIGIT = re.compile(r"\d")


def ascii_digits(text: str) -> str:
    """Digits of any script (Arabic-Indic, Persian, fullwidth...) and Arabic separators to ASCII."""
    text = text.translate(_DIGITS)
    return _ANY_DIGIT.sub(lambda m: str(unicodedata.decimal(m.group(), m.group())), text)


def clean(text: str) -> str:
    """Normalise user input for validation and storage: NFC, ASCII digits,
    no invisible marks, single spaces, trimmed."""
    text = unicodedata.normalize("NFC", text).translate(_INVISIBLE)
    return _SPACES.sub(" ", ascii_digits(text)).strip()


def fold(text: str) -> str:
    """Matching key: `clean` plus no tashkeel, folded hamza/alef maqsura/taa
    marbuta, case-folded Latin. For comparison only."""
    text = _TASHKEEL.sub("", clean(text))
    return text.translate(_LETTER_FOLD).casefold()


def only_digits(text: str) -> str:
    """Digits of a number typed with spaces, dashes or dots between groups."""
    return re.sub(r"[\s\-.]", "", clean(text))
