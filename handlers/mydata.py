"""A beneficiary's copy of their data (the PDPL's right of access): the facts gathered from
every table (storage/subject_store.py), a PDF in their language to read (right to left in
Arabic, shaped by HarfBuzz through fpdf2, with the DejaVu fonts matplotlib ships), and the
same facts as JSON. Both are kept as documents (sealed at rest like every document) only
until the next copy replaces them."""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from datetime import datetime
from pathlib import Path

from conversations import privacy
from conversations.base import RIYADH, Context
from conversations.state import State
from storage import models as m
from storage.repositories import UnitOfWork
from storage.subject_store import COPY_FIELD

# what the PDF leaves out: bidirectional controls (fpdf2 orders the text itself), and
# emoji and symbols beyond the fonts (📄, 🙋...)
UNPRINTABLE = re.compile(
    "[\u200e\u200f\u202a-\u202e\u2066-\u2069\ufe0f\u2600-\u27bf\U00010000-\U0010ffff]")


def _fonts() -> Path:
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def pdf(parts: list[privacy.Section], lang: str) -> bytes:
    """The readable copy: a title, then each section's rows and lines."""
    from fpdf import FPDF

    doc = FPDF(format="A4")
    doc.set_margins(15, 15, 15)
    doc.set_auto_page_break(True, margin=15)
    doc.add_font("body", "", str(_fonts() / "DejaVuSans.ttf"))
    doc.add_font("body", "B", str(_fonts() / "DejaVuSans-Bold.ttf"))
    rtl = lang == "ar"
    doc.set_text_shaping(use_shaping_engine=True, direction="rtl" if rtl else "ltr",
                         script="arab" if rtl else "latn", language="ara" if rtl else "eng")
    align = "R" if rtl else "L"
    doc.add_page()

    def line(text: str, size: float, bold: bool = False, gap: float = 1.5) -> None:
        doc.set_font("body", "B" if bold else "", size)
        for paragraph in UNPRINTABLE.sub("", text).split("\n"):
            for row in _wrapped(doc, paragraph, doc.epw):
                doc.cell(0, size * 0.55, row, align=align, new_x="LMARGIN", new_y="NEXT")
        doc.ln(gap)

    for i, part in enumerate(parts):
        line(part.title, 16 if i == 0 else 13, bold=True, gap=2.5)
        for label, value in part.rows:
            line(f"{label}: {value}", 10.5)
        for text in part.lines:
            line(text, 9.5, gap=1)
        doc.ln(3)
    return bytes(doc.output())


def _wrapped(doc: object, text: str, width: float) -> list[str]:
    """A paragraph in lines that fit `width`, broken between words (a word longer than a
    line, between characters). fpdf2's own breaking shapes the text again for every
    character it tries, which made a long transcript take tens of seconds. Here a word is
    shaped and measured once."""
    font, size, k = doc.current_font, doc.font_size_pt, doc.k  # type: ignore[attr-defined]
    shaping = doc.text_shaping  # type: ignore[attr-defined]
    width *= 0.98

    def measure(text: str) -> float:  # HarfBuzz's width of the word, without fpdf's bidi pass
        return font.get_text_width(text, size, shaping)[1] / k

    space = font.cw[ord(" ")] * size / 1000 / k  # (HarfBuzz gives a lone space no width)
    rows: list[str] = []
    current: list[str] = []
    used = 0.0
    for word in text.split():
        wide = measure(word)
        while wide > width:  # a fingerprint or a long number: cut it to fit
            cut = len(word)
            while cut > 1 and measure(word[:cut]) > width:
                cut = max(1, cut * 3 // 4)
            if current:
                rows.append(" ".join(current))
                current, used = [], 0.0
            rows.append(word[:cut])
            word = word[cut:]
            wide = measure(word)
        if current and used + space + wide > width:
            rows.append(" ".join(current))
            current, used = [], 0.0
        used += (space if current else 0.0) + wide
        current.append(word)
    if current or not rows:
        rows.append(" ".join(current) or " ")
    return rows


async def make_copy(uow: UnitOfWork, beneficiary_id: int, state: State, ctx: Context,
                    now: datetime) -> tuple[int, int]:
    """Gather, write the two files, keep them as the beneficiary's documents; their ids."""
    facts = await uow.subject.everything(beneficiary_id)
    facts = {"association": ctx.profile.association.get(state.lang),
             "made_at": now.isoformat(), **facts,
             "unfinished_request": ({"service": state.draft.service, "answers": state.draft.answers}
                                    if state.draft else None)}
    stamp = now.astimezone(RIYADH).strftime("%Y%m%d")
    # (laid out in a thread: the other chats' replies go on meanwhile)
    readable = await asyncio.to_thread(pdf, privacy.sections(facts, state.lang, ctx), state.lang)
    machine = json.dumps(facts, ensure_ascii=False, indent=2, default=str).encode()
    files = [_document(beneficiary_id, f"my-data-{stamp}.pdf", "application/pdf", readable, now),
             _document(beneficiary_id, f"my-data-{stamp}.json", "application/json", machine, now)]
    ids = await uow.subject.replace_copy(beneficiary_id, files)
    return ids[0], ids[1]


def _document(beneficiary_id: int, name: str, mime: str, content: bytes,
              now: datetime) -> m.Document:
    return m.Document(beneficiary_id=beneficiary_id, field_key=COPY_FIELD, name=name, mime=mime,
                      size=len(content), sha256=hashlib.sha256(content).hexdigest(),
                      content=content, created_at=now)
