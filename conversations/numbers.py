"""Numbers written in words, where the bot asks for a number.

Beneficiaries of the association, many of them elderly, often answer "how many family
members?", "monthly income in riyals?" or "how many companions?" in words: "ألفين وخمسمية",
"خمسة وعشرين", "ثلاث تلاف ريال", "two thousand five hundred". `words_to_number` reads Modern
Standard and Saudi/Gulf Arabic spellings, English, and digits mixed with scale words ("2 الف").
It is strict: anything that is not wholly one well-formed number gives None, so that the caller
asks again (a wrong income is worse than a second question). A lone digit string is not its
business either (None): the caller parses digits itself.
"""

from __future__ import annotations

import re

from conversations.text import fold

# Token kinds: U unit 1-9, P teen prefix (احد, اثنا...; only before عشر), T Arabic ten, N 10-19,
# D tens, C the hundred word (100 alone or after a unit), H a whole hundreds word (200-900),
# S a scale word usable alone (ألف, مليون), Q a plural scale that needs a count (آلاف),
# W a dual scale (ألفين, مليونين), & a conjunction, Z zero (only alone), # digits.
Token = tuple[str, int, str]  # kind, value, language ("ar", "en", "" for digits)

# Persian-keyboard letters that look like the Arabic ones.
_EXTRA_FOLD = str.maketrans({"ی": "ي", "ې": "ي", "ک": "ك", "ە": "ه", "ۀ": "ه", "ہ": "ه", "ھ": "ه"})


def _norm(text: str) -> str:
    """`fold` (digits of any script to ASCII via ascii_digits, no tashkeel or tatweel, أ إ آ -> ا,
    ة -> ه, ى -> ي, casefold), plus Persian-keyboard letters."""
    return fold(text).translate(_EXTRA_FOLD)


_VOCAB: dict[str, Token] = {}


def _put(kind: str, lang: str, table: dict[int, str], suffixes: tuple[str, ...] = ("",)) -> None:
    for value, words in table.items():
        for word in words.split():
            for suffix in suffixes:
                _VOCAB[_norm(word + suffix)] = (kind, value, lang)


def _put_run(kind: str, lang: str, start: int, step: int, words: str) -> None:
    _put(kind, lang, {start + step * i: word for i, word in enumerate(words.split())})


_AR_HUNDRED = "مئة مائة مية ماية"
_put("U", "ar", {1: "واحد واحدة وحدة", 2: "اثنين اثنان ثنين اثنتين اثنتان ثنتين اتنين",
                 3: "ثلاث ثلاثة تلاتة تلات", 4: "أربع أربعة", 5: "خمس خمسة", 6: "ست ستة",
                 7: "سبع سبعة", 8: "ثمان ثماني ثمانية ثمنية تمانية", 9: "تسع تسعة"})
_put("P", "ar", {1: "أحد إحدى", 2: "اثنا اثني اثنتا اثنتي"})
_put("T", "ar", {10: "عشر عشرة"})
_put("N", "ar", {11: "احدعش احدعشر حدعش", 12: "اثنعش اثنعشر ثنعش اطنعش"})
_put("N", "ar", {13: "ثلاث ثل تل تلت", 14: "اربع", 15: "خمس", 16: "ست", 17: "سبع", 18: "ثمن ثمان تمن",
                 19: "تسع"}, ("طعش", "طعشر", "عشر"))
_put("D", "ar", {20: "عشر", 30: "ثلاث تلات تلاث", 40: "أربع", 50: "خمس", 60: "ست", 70: "سبع",
                 80: "ثمان ثمن تمان", 90: "تسع"}, ("ين", "ون"))
_put("C", "ar", {100: _AR_HUNDRED})
_put("H", "ar", {200: "مئتان مئتين مائتان مائتين ميتين ميتان متين"})
_put("H", "ar", {300: "ثلاث ثلث تلت تلات", 400: "أربع", 500: "خمس", 600: "ست", 700: "سبع",
                 800: "ثمان ثماني ثمن تمن", 900: "تسع"}, tuple(_AR_HUNDRED.split()))
_put("S", "ar", {1000: "ألف", 10**6: "مليون"})
_put("Q", "ar", {1000: "آلاف تلاف تالاف", 10**6: "ملايين"})
_put("W", "ar", {2000: "ألفين ألفان", 2 * 10**6: "مليونين مليونان"})
_put("&", "ar", {0: "و"})
_put("Z", "ar", {0: "صفر"})
_put_run("U", "en", 1, 1, "one two three four five six seven eight nine")
_put_run("N", "en", 10, 1, "ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen")
_put_run("D", "en", 20, 10, "twenty thirty forty fifty sixty seventy eighty ninety")
_put("C", "en", {100: "hundred"})
_put("S", "en", {1000: "thousand", 10**6: "million"})
_put("&", "en", {0: "and"})
_put("Z", "en", {0: "zero"})

# Words a person may add after the number: currency, people. Ignored at the end only.
_UNIT_WORDS = "ريال ريالا ريالات رس سعودي sar sr riyal riyals فقط أشخاص شخص أفراد فرد مرافقين مرافق " \
    "people persons members companions"
_UNITS = {_norm(word) for word in _UNIT_WORDS.split()}
_WORD = re.compile(r"\d+|[^\W\d_]+")


def _tokens(text: str) -> list[Token] | None:
    """The text as number tokens, trailing unit words dropped; None if any word is foreign."""
    text = re.sub(r"[-,]", " ", _norm(text).replace("ر.س", "رس")).rstrip(" .!?؟")
    if re.search(r"[^\w\s]|_", text):
        return None
    words = _WORD.findall(text)
    while words and words[-1] in _UNITS:
        words.pop()
    if not words:
        return None
    out: list[Token] = []
    for word, nxt in zip(words, words[1:] + [""], strict=True):
        if word.isascii() and word.isdigit():
            out.append(("#", int(word), ""))
        elif word == "a" and _VOCAB.get(nxt, ("",))[0] in ("C", "S"):  # a hundred, a thousand
            out.append(("U", 1, "en"))
        elif word in _VOCAB:
            out.append(_VOCAB[word])
        elif word[0] == "و" and word[1:] in _VOCAB:
            out += [_VOCAB["و"], _VOCAB[word[1:]]]
        else:
            return None
    return out


def _at(toks: list[Token], i: int) -> Token:
    return toks[i] if i < len(toks) else ("", 0, "")


def _below_hundred(toks: list[Token], i: int, ar: bool) -> tuple[int, int] | None:
    """1-99 at position i: (value, next position)."""
    (kind, value, _), nxt = _at(toks, i), _at(toks, i + 1)[0]
    if kind in ("N", "T") or (kind == "#" and 0 < value < 100):
        return value, i + 1
    if kind == "D":  # English "twenty five"; Arabic puts the unit first
        return (value + toks[i + 1][1], i + 2) if not ar and nxt == "U" else (value, i + 1)
    if ar and kind in ("U", "P") and nxt == "T":  # خمسة عشر
        return value + 10, i + 2
    if kind == "U":
        if ar and nxt == "&" and _at(toks, i + 2)[0] == "D":  # خمسة وعشرين
            return value + toks[i + 2][1], i + 3
        return value, i + 1
    return None


def _below_thousand(toks: list[Token], i: int, ar: bool) -> tuple[int, int] | None:
    """1-999 at position i: hundreds, then (after و in Arabic) 1-99."""
    (kind, value, _), nxt = _at(toks, i), _at(toks, i + 1)[0]
    if kind in ("H", "C"):
        hundreds, i = value, i + 1
    elif kind in ("U", "#") and nxt == "C" and 0 < value < 10:
        hundreds, i = value * 100, i + 2
    elif kind == "#":
        return (value, i + 1) if 0 < value < 1000 else None
    else:
        return _below_hundred(toks, i, ar)
    j = i + 1 if _at(toks, i)[0] == "&" else i
    rest = None if ar and j == i else _below_hundred(toks, j, ar)
    return (hundreds + rest[0], rest[1]) if rest else (hundreds, i)


def _number(toks: list[Token], ar: bool) -> int | None:
    """Groups in strictly falling scale (millions, thousands, the rest), joined by و in Arabic."""
    total, last, i = 0, 10**9, 0
    while i < len(toks):
        if i and toks[i][0] == "&":
            i += 1
        elif i and ar:
            return None
        kind, value, _ = _at(toks, i)
        if kind in ("S", "W"):
            group, scale, i = value, value // (2 if kind == "W" else 1), i + 1
        else:
            part = _below_thousand(toks, i, ar)
            if part is None:
                return None
            count, i = part
            kind, value, _ = _at(toks, i)
            group, scale, i = (count * value, value, i + 1) if kind in ("S", "Q") else (count, 1, i)
        if scale >= last:
            return None
        total, last = total + group, scale
    return total


def words_to_number(text: str) -> int | None:
    """The integer that `text` writes in words (Arabic or English, digits allowed beside a
    scale word, a trailing unit word ignored), or None if it is not wholly such a number."""
    toks = _tokens(text)
    if not toks:
        return None
    if len(toks) == 1 and toks[0][0] == "Z":
        return 0
    langs = {lang for kind, _, lang in toks if lang}
    if len(langs) != 1 or all(kind in ("#", "&") for kind, _, _ in toks):
        return None
    return _number(toks, langs == {"ar"})
