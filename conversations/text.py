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

# Characters that show nothing but count as letters or symbols: the Hangul fillers, the
# braille blank, the combining grapheme joiner, Khmer and Mongolian invisible vowels and
# selectors. Format characters (Unicode Cf: U+180E, U+2060, U+FEFF...) and control
# characters go too (see `printable`).
_FILLERS = dict.fromkeys([0x115F, 0x1160, 0x3164, 0xFFA0, 0x2800, 0x034F, 0x17B4, 0x17B5]
                         + list(range(0x180B, 0x1810)))
# A terminal escape sequence (ESC [ ... final byte, an OSC ended by BEL or ST, or ESC and
# one character of @ to _): removed whole.
_ESCAPE = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[@-_])?")
# C0 and C1 controls but tab, newlines, \v, \f and NEL (which are whitespace).
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f]")
_HIDDEN = {**_INVISIBLE, **_FILLERS}

_TASHKEEL = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed]")
_LETTER_FOLD = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه"})
_SPACES = re.compile(r"\s+")


_ANY_DIGIT = re.compile(r"\d")


def ascii_digits(text: str) -> str:
    """Digits of any script (Arabic-Indic, Persian, fullwidth...) and Arabic separators to ASCII."""
    text = text.translate(_DIGITS)
    return _ANY_DIGIT.sub(lambda m: str(unicodedata.decimal(m.group(), m.group())), text)


def printable(text: str) -> str:
    """Text without control characters (NUL, ESC sequences, DEL...) other than tab and
    newlines: what a flow, a log or a case may keep of anything typed."""
    if text.isprintable():  # the usual case, at C speed
        return text
    return _CONTROL.sub("", _ESCAPE.sub("", text))


def clean(text: str) -> str:
    """Normalise user input for validation and storage: NFC, ASCII digits, no control
    characters, invisible marks or fillers, single spaces, trimmed."""
    text = printable(unicodedata.normalize("NFC", text)).translate(_HIDDEN)
    if not text.isprintable():  # a format character (Cf) may be left, or only whitespace
        text = "".join(ch for ch in text if ch.isspace() or unicodedata.category(ch) != "Cf")
    return _SPACES.sub(" ", ascii_digits(text)).strip()


def arabic_or_english(text: str) -> str:
    """"ar" for a text with Arabic letters in it, else "en" (the language of a taught answer)."""
    return "ar" if any("\u0600" <= ch <= "\u06ff" for ch in text) else "en"


def has_letter(text: str) -> bool:
    """Whether a text has a letter of any script (Unicode category L)."""
    return any(unicodedata.category(ch).startswith("L") for ch in text)


def fold(text: str) -> str:
    """Matching key: `clean` plus no tashkeel, folded hamza/alef maqsura/taa
    marbuta, case-folded Latin. For comparison only."""
    text = _TASHKEEL.sub("", clean(text))
    return text.translate(_LETTER_FOLD).casefold()


def only_digits(text: str) -> str:
    """Digits of a number typed with spaces, dashes or dots between groups."""
    return re.sub(r"[\s\-.]", "", clean(text))
