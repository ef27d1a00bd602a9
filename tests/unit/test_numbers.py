"""Numbers in words: what a beneficiary types where the bot asks a count or an amount."""

from __future__ import annotations

import pytest

from conversations.numbers import words_to_number


def _words(text: str) -> list[str]:
    return text.split()


UNITS = [
    ("واحد", 1), ("وحده", 1), ("واحدة", 1), ("اثنين", 2), ("اثنان", 2), ("ثنين", 2), ("اثنتين", 2),
    ("إثنين", 2), ("ثلاث", 3), ("ثلاثة", 3), ("ثلاثه", 3), ("تلاتة", 3), ("أربع", 4), ("اربعة", 4),
    ("اربعه", 4), ("خمس", 5), ("خمسة", 5), ("خمسه", 5), ("ستة", 6), ("ست", 6), ("سته", 6), ("سبع", 7),
    ("سبعة", 7), ("ثمان", 8), ("ثمانية", 8), ("ثمانيه", 8), ("ثمنية", 8), ("تسع", 9), ("تسعة", 9),
    ("عشر", 10), ("عشرة", 10), ("عشره", 10),
]
TEENS = [
    ("أحد عشر", 11), ("احدعش", 11), ("احدعشر", 11), ("إحدى عشرة", 11), ("اثنا عشر", 12), ("اثنعش", 12),
    ("ثلاث عشرة", 13), ("ثلطعش", 13), ("ثلاثطعش", 13), ("اربعطعش", 14), ("خمسة عشر", 15), ("خمسطعش", 15),
    ("ستطعش", 16), ("سبعطعش", 17), ("ثمنطعش", 18), ("تسعطعش", 19), ("تسعة عشر", 19),
]
TENS = [
    ("عشرون", 20), ("عشرين", 20), ("ثلاثون", 30), ("ثلاثين", 30), ("تلاتين", 30), ("أربعين", 40),
    ("خمسون", 50), ("ستين", 60), ("سبعين", 70), ("ثمانين", 80), ("تسعون", 90), ("تسعين", 90),
]
HUNDREDS = [
    ("مئة", 100), ("مائة", 100), ("ميه", 100), ("مية", 100), ("ميّة", 100), ("مئتان", 200),
    ("مئتين", 200), ("ميتين", 200), ("مائتين", 200), ("ثلاثمائة", 300), ("ثلاثمية", 300),
    ("ثلاث مئة", 300), ("تلتمية", 300), ("اربعمية", 400), ("خمسمائة", 500), ("خمسمية", 500),
    ("خمسميه", 500), ("خمس مية", 500), ("ستمية", 600), ("سبعمية", 700), ("ثمنمية", 800),
    ("ثمانمائة", 800), ("تسعمية", 900), ("تسعمائة", 900),
]
THOUSANDS = [
    ("ألف", 1000), ("الف", 1000), ("ألفين", 2000), ("الفين", 2000), ("ألفان", 2000),
    ("ثلاثة آلاف", 3000), ("ثلاث الاف", 3000), ("تلات تلاف", 3000), ("عشرة آلاف", 10_000),
    ("أحد عشر ألف", 11_000), ("خمسطعش ألف", 15_000), ("مئة ألف", 100_000), ("ثلاث مية الف", 300_000),
    ("مية وخمسين ألف", 150_000), ("مليون", 1_000_000), ("مليونين", 2_000_000),
    ("ثلاثة ملايين", 3_000_000),
]
COMPOUND = [
    ("ألفين وخمسمية", 2500), ("ألفين و خمسمية", 2500), ("الفين، وخمسمية", 2500), ("خمسة وعشرين", 25),
    ("خمسة و عشرين", 25), ("خمسة واربعين", 45), ("ثلاثة آلاف وسبعمائة وخمسون", 3750),
    ("مية وعشرين", 120), ("مية و عشرين", 120), ("ثلاثمية وخمسة وعشرين", 325), ("ألف وميتين", 1200),
    ("مية ألف وخمسين", 100_050), ("خمسة وعشرين ألف وخمسمية", 25_500),
    ("ثمانية آلاف وثمنمية وثمانية وثمانين", 8888),
    ("تسعمية وتسعة وتسعين ألف وتسعمية وتسعة وتسعين", 999_999),
    ("مليون ومئتين وخمسين ألف", 1_250_000),
]
SPELLING = [
    ("أَلْفَيْن", 2000), ("ألـــفين", 2000), ("إلفين", 2000), ("آلفين", 2000), ("خمسى", None),
    ("ثلاثہ", 3), ("ثلاثة  آلاف", 3000), ("  خمسة\n", 5), ("اثنين الف", 2000), ("خمسة مية", 500),
    ("خمسی", None), ("ثلاثمیة", 300),
]
UNIT_WORDS = [
    ("ألفين ريال", 2000), ("ألفين ريالات", 2000), ("ثلاثة آلاف رس", 3000), ("ألفين ر.س", 2000),
    ("ألفين SAR", 2000), ("two thousand riyals", 2000), ("خمسة أشخاص", 5), ("اربعة افراد", 4),
    ("ستة أفراد", 6), ("اثنين مرافقين", 2), ("three people", 3), ("5 آلاف ريال", 5000),
    ("ثلاثه الاف و خمسميه ريال سعودي فقط", 3500), ("ألفين ريال.", 2000), ("صفر ريال", 0),
]
ENGLISH = [
    ("five", 5), ("Fifteen", 15), ("ten", 10), ("twenty five", 25), ("twenty-five", 25),
    ("sixty-six riyals", 66), ("two thousand five hundred", 2500), ("one hundred and twenty", 120),
    ("one hundred twenty", 120), ("a hundred", 100), ("a thousand", 1000), ("THREE HUNDRED", 300),
    ("one thousand and five", 1005), ("one hundred five thousand", 105_000),
    ("ten thousand", 10_000), ("two million", 2_000_000),
]
DIGITS_MIXED = [
    ("2 الف", 2000), ("٢ ألف", 2000), ("٢الف", 2000), ("2 thousand", 2000), ("خمسة آلاف و500", 5500),
    ("٥ آلاف و ٥٠٠", 5500), ("15 الف", 15_000), ("۱۰ آلاف", 10_000), ("5 مية", 500), ("مية و20", 120),
]
ZERO = [("صفر", 0), ("zero", 0), ("Zero people", 0)]
NOT_A_NUMBER = [
    "", "   ", "12", "٣", "0", "2500 ريال", "12 ريال", "خمسة أطفال وزوجتي", "السلام عليكم", "لا يوجد",
    "لا شيء", "ما في", "مية خمسة ألف", "ألفين خمسمية", "ثلاثة آلاف مية", "عشرين وخمسة", "خمسة عشرين",
    "آلاف", "ملايين", "ريال", "riyals", "و", "a", "and", "ألف و", "و خمسة", "واحد اثنين", "ثلاثة، اربعة",
    "مية و 500", "1000 الف", "0 الف", "الف الف", "ألفين الف", "صفر صفر", "صفر وخمسة", "five and twenty",
    "twenty five hundred", "two thousand and", "a five", "two thousand و five", "خمسة thousand",
    "2.5 الف", "ألفين :)", "ألفين 🙂", "ريال ألفين", "مليون ونص", "نص", "hello", "one two",
    "twenty twenty", "خمسة وعشرين وثلاثين", "مية مية", "ثلاثمية مية", "hundred hundred",
]


@pytest.mark.parametrize(
    ("text", "expected"),
    UNITS + TEENS + TENS + HUNDREDS + THOUSANDS + COMPOUND + SPELLING + UNIT_WORDS + ENGLISH
    + DIGITS_MIXED + ZERO,
)
def test_words_to_number(text: str, expected: int | None) -> None:
    assert words_to_number(text) == expected


@pytest.mark.parametrize("text", NOT_A_NUMBER)
def test_not_a_number_is_none(text: str) -> None:
    assert words_to_number(text) is None


def test_every_value_up_to_a_thousand_in_english() -> None:
    """Written the way num2words-style English reads, each of 1..999 comes back."""
    ones = _words("one two three four five six seven eight nine")
    teens = _words("ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen")
    tens = _words("twenty thirty forty fifty sixty seventy eighty ninety")

    def say(n: int) -> str:
        head = f"{ones[n // 100 - 1]} hundred" if n >= 100 else ""
        n %= 100
        tail = (ones[n - 1] if n < 10 else teens[n - 10] if n < 20
                else tens[n // 10 - 2] + (f"-{ones[n % 10 - 1]}" if n % 10 else "")) if n else ""
        return " and ".join(part for part in (head, tail) if part)

    assert all(words_to_number(say(n)) == n for n in range(1, 1000))


def test_every_value_up_to_a_thousand_in_arabic() -> None:
    """Arabic order: hundreds, then the unit, then the tens, each joined by و."""
    ones = _words("واحد اثنين ثلاثة أربعة خمسة ستة سبعة ثمانية تسعة")
    teens = _words("عشرة احدعش اثنعش ثلطعش اربعطعش خمسطعش ستطعش سبعطعش ثمنطعش تسعطعش")
    tens = _words("عشرين ثلاثين أربعين خمسين ستين سبعين ثمانين تسعين")
    hundreds = _words("مية ميتين ثلاثمية أربعمية خمسمية ستمية سبعمية ثمنمية تسعمية")

    def say(n: int) -> str:
        head = hundreds[n // 100 - 1] if n >= 100 else ""
        n %= 100
        tail = (ones[n - 1] if n < 10 else teens[n - 10] if n < 20
                else (f"{ones[n % 10 - 1]} و" if n % 10 else "") + tens[n // 10 - 2]) if n else ""
        return " و".join(part for part in (head, tail) if part)

    assert all(words_to_number(say(n)) == n for n in range(1, 1000))
    assert all(words_to_number(f"{say(n)} ألف و{say(n)}") == n * 1001 for n in range(1, 1000))
