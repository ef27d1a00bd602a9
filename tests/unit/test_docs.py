"""The docs stay true to the code: every step of the flows is in a diagram."""

from __future__ import annotations

from pathlib import Path

from conversations.journey import HANDLERS
from conversations.state import Step

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_every_step_is_drawn():
    drawn = "\n".join(p.read_text() for p in (DOCS / "conversations").glob("*.mmd"))
    for step in Step:
        assert f" {step.value} " in drawn or f" {step.value}:" in drawn or f"> {step.value}" in drawn, step


def test_every_step_after_welcome_has_a_handler():
    assert set(HANDLERS) == set(Step) - {Step.WELCOME}
