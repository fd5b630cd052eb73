"""Command-line overrides ``--set dotted.path=value`` (the value is parsed as YAML)."""

from __future__ import annotations

import copy
from typing import Any

from engine.spec.errors import SpecError
from engine.spec.loader import Positions, load_spec_text


def parse_override(text: str) -> tuple[str, Any]:
    """Split ``"a.b=value"`` into ``("a.b", parsed value)``."""
    source = f"--set {text}"
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise SpecError(source, 0, 0, key or "<override>", "an override must look like PATH=VALUE", "e.g. --set model.depth=8")
    value, _ = load_spec_text(raw, source) if raw.strip() else (None, None)
    return key, value


def set_path(tree: dict, path: tuple[str, ...], value: Any) -> dict:
    """A copy of ``tree`` with ``value`` at ``path`` (missing or null sections are created)."""
    out = copy.deepcopy(tree)
    node = out
    for part in path[:-1]:
        if not isinstance(node.get(part), dict):
            node[part] = {}
        node = node[part]
    node[path[-1]] = value
    return out


def apply_overrides(tree: dict, positions: Positions, overrides: list[str], check_path) -> dict:
    """Apply ``--set`` overrides in order; ``check_path(dotted)`` returns an error text or None."""
    for text in overrides:
        key, value = parse_override(text)
        problem = check_path(key)
        if problem:
            raise SpecError(f"--set {text}", 0, 0, key, problem, "a dotted path to a field of this kind")
        path = tuple(key.split("."))
        tree = set_path(tree, path, value)
        positions.origin[path] = f"--set {text}"
    return tree
