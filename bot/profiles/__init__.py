"""Association profiles: the shipped ones (YAML files beside this module) and
loading any profile file with errors that name the file, the line and the key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from conversations.profile import Profile

SHIPPED_DIR = Path(__file__).parent
DEFAULT_PROFILE = "bakkah"


class ProfileError(Exception):
    """A profile that cannot be used; the message says where and why."""


def shipped() -> list[str]:
    """Names of the profiles that ship with Wasl."""
    return sorted(p.stem for p in SHIPPED_DIR.glob("*.yaml"))


def resolve(name_or_path: str | None) -> Path:
    """A shipped profile's name, or a path to a YAML file."""
    name = name_or_path or DEFAULT_PROFILE
    candidate = Path(name)
    if candidate.suffix in (".yaml", ".yml") or candidate.exists():
        if not candidate.is_file():
            raise ProfileError(f"{name}: no such profile file")
        return candidate
    path = SHIPPED_DIR / f"{name}.yaml"
    if not path.is_file():
        raise ProfileError(f"{name}: no such profile; shipped ones are {', '.join(shipped())}")
    return path


def load(name_or_path: str | None) -> Profile:
    """Read and validate a profile, or raise ProfileError naming file:line and key."""
    path = resolve(name_or_path)
    text = path.read_text(encoding="utf-8")
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ProfileError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ProfileError(f"{path}: a profile is a mapping of keys (association, services...)")
    # Keys starting with "x-" hold shared pieces for YAML anchors (as in compose files).
    data = {k: v for k, v in data.items() if not str(k).startswith("x-")}
    try:
        return Profile.model_validate(data)
    except ValidationError as exc:
        lines = _lines(node)
        errors = exc.errors()
        # pydantic also reports a list as too short when one of its items failed: noise.
        nested = {tuple(e["loc"][:n]) for e in errors for n in range(len(e["loc"]))}
        errors = [e for e in errors if not (e["type"] == "too_short" and tuple(e["loc"]) in nested)]
        problems = [_describe(path, err, lines) for err in errors]
        raise ProfileError("\n".join(problems)) from None


def _describe(path: Path, err: dict[str, Any], lines: dict[tuple, int]) -> str:
    loc = tuple(err["loc"])
    key = ".".join(str(part) for part in loc) or "(top)"
    line = next((lines[loc[:n]] for n in range(len(loc), -1, -1) if loc[:n] in lines), 1)
    return f"{path}:{line}: {key}: {err['msg']}"


def _lines(node: yaml.Node | None, prefix: tuple = ()) -> dict[tuple, int]:
    """1-based line of every key path in the YAML document (anchors resolved)."""
    found: dict[tuple, int] = {}
    if node is None:
        return found
    found[prefix] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            path = (*prefix, key_node.value)
            found.update(_lines(value_node, path))
            found[path] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            found.update(_lines(item, (*prefix, i)))
    return found
