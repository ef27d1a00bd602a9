"""The docs stay true to the code: every step of the flows is in a diagram."""

from __future__ import annotations

import re
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


def _policy_rows() -> list[list[str]]:
    rows = [line.split("|")[1:-1] for line in (DOCS / "policy.md").read_text().splitlines()
            if line.startswith("| ") and not line.startswith("| the policy says")]
    return [[cell.strip() for cell in row] for row in rows if len(row) == 5]


def test_the_policy_table_names_code_and_tests_that_exist():
    """docs/policy.md's "where" and "tested by" columns stay true: every file they name is
    there (a bare name is looked up beside the one before it, then anywhere under its tree)."""
    root = DOCS.parent
    rows = _policy_rows()
    assert len(rows) >= 10
    missing = []
    for row in rows:
        for column, tree in ((row[2], root), (row[3], root / "tests")):
            folder = None
            for name in re.findall(r"`([^`\s]+\.(?:py|yaml|mmd))`", column):
                if "*" in name:  # a pattern: some file matches it
                    if not sorted(root.glob(name)):
                        missing.append(name)
                    continue
                path = root / name if "/" in name and (root / name).exists() else None
                if path is None and folder is not None and (folder / name).exists():
                    path = folder / name
                if path is None:
                    found = sorted(tree.rglob(Path(name).name))
                    path = next((p for p in found if str(p).endswith(name)), None)
                if path is None:
                    missing.append(name)
                else:
                    folder = path.parent
    assert missing == [], missing
