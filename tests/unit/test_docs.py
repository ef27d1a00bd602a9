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


def test_the_desk_diagram_is_drawn_from_the_command_table():
    from conversations import desk

    drawn = (DOCS / "conversations" / "desk.mmd").read_text()
    assert drawn == desk.diagram(), "run: python -m conversations.desk > docs/conversations/desk.mmd"
    for spec in desk.COMMAND_TABLE.values():
        assert not spec.menu or spec.name in drawn, spec.name


def test_the_request_diagram_is_drawn_from_the_lifecycle():
    from conversations import desk

    drawn = (DOCS / "conversations" / "request.mmd").read_text()
    assert drawn == desk.lifecycle_diagram(), (
        "run: python -m conversations.desk lifecycle > docs/conversations/request.mmd")
    for command in desk.STEP_COMMAND.values():
        assert command in drawn
