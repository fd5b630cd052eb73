"""YAML loading that keeps the position of every node.

PyYAML implements YAML 1.1, which reads ``1e-3`` as a string, ``on``/``yes`` as
booleans and silently keeps the last of two duplicate keys.  ``SpecLoader`` is a
``SafeLoader`` subclass that follows YAML 1.2's core schema for numbers and
booleans and rejects duplicate keys; :func:`load_spec_text` returns the plain
Python tree together with a :class:`Positions` map from dotted paths to
``(line, column)`` (both 1-based) so that every later error can point at the
file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from engine.spec.errors import SpecError

Path_ = tuple[str | int, ...]


class SpecLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 floats and booleans."""


# YAML 1.2 core schema: booleans are only true/false (any case).
SpecLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
SpecLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)
# YAML 1.2 floats: an exponent without a decimal point (1e-3, 1E+2) is a float.
SpecLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


@dataclass
class Positions:
    """Where each node of a spec came from.

    ``source`` names the origin (a file path, or ``--set KEY=VALUE``);
    ``at`` maps a path tuple to a 1-based ``(line, column)``.  Overrides
    applied after loading register their own origin per path.
    """

    source: str
    at: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    key_at: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    origin: dict[Path_, str] = field(default_factory=dict)

    def copy(self) -> "Positions":
        """An independent copy (sweep points add their own entries)."""
        return Positions(self.source, dict(self.at), dict(self.key_at), dict(self.origin))

    def alias(self, path: Path_, source_path: Path_) -> None:
        """Make ``path`` report the position of ``source_path`` (a sweep value applied at a point)."""
        origin, line, col = self.locate(source_path)
        self.origin.pop(path, None)
        if origin != self.source:
            self.origin[path] = origin
        else:
            self.at[path] = (line, col)

    def locate(self, path: Path_, key: bool = False) -> tuple[str, int, int]:
        """Origin, line and column of ``path`` (of its key if ``key``), or of its nearest recorded parent."""
        if key and tuple(path) in self.key_at and tuple(path) not in self.origin:
            return (self.source, *self.key_at[tuple(path)])
        for n in range(len(path), -1, -1):
            prefix = tuple(path[:n])
            if prefix in self.origin:
                return self.origin[prefix], 0, 0
            if prefix in self.at:
                line, col = self.at[prefix]
                return self.source, line, col
        return self.source, 1, 1


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _construct(loader: SpecLoader, node: yaml.Node, path: Path_, pos: Positions) -> Any:
    pos.at[path] = _mark(node)
    if isinstance(node, yaml.MappingNode):
        own = {id(k) for k, _ in node.value if k.tag != "tag:yaml.org,2002:merge"}
        loader.flatten_mapping(node)  # merged (<<) pairs come first; the mapping's own keys override them
        out: dict[Any, Any] = {}
        merged: set = set()
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, (str, int, float, bool)):
                line, col = _mark(key_node)
                raise SpecError(pos.source, line, col, _dotted(path), "a mapping key must be a plain scalar")
            if id(key_node) not in own:
                merged.add(key)
            elif key in merged:
                merged.discard(key)
            elif key in out:
                line, col = _mark(key_node)
                first = pos.at[path + (key,)]
                raise SpecError(
                    pos.source, line, col, _dotted(path + (key,)),
                    f"duplicate key '{key}'", f"each key once; first given at line {first[0]}",
                )
            pos.key_at[path + (key,)] = _mark(key_node)
            out[key] = _construct(loader, value_node, path + (key,), pos)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_construct(loader, item, path + (i,), pos) for i, item in enumerate(node.value)]
    return loader.construct_object(node, deep=True)


def _dotted(path: Path_) -> str:
    return ".".join(str(p) for p in path) or "<root>"


def load_spec_text(text: str, source: str) -> tuple[Any, Positions]:
    """Parse YAML ``text`` (named ``source`` in errors) into ``(tree, positions)``.

    Raises :class:`SpecError` for syntax errors and duplicate keys.
    """
    pos = Positions(source)
    loader = SpecLoader(text)
    try:
        node = loader.get_single_node()
        tree = {} if node is None else _construct(loader, node, (), pos)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        what = exc.problem or str(exc)
        raise SpecError(source, line, col, "<yaml>", f"YAML syntax error: {what}", "valid YAML") from None
    finally:
        loader.dispose()
    return tree, pos


def load_spec_file(path: str | Path) -> tuple[Any, Positions]:
    """Read and parse a spec file; see :func:`load_spec_text`."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError(str(path), 0, 0, "<file>", f"cannot read the spec: {exc.strerror}", "a readable YAML file") from None
    return load_spec_text(text, str(path))
