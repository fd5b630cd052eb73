"""YAML loading that keeps the position of every node.

PyYAML implements YAML 1.1, which reads ``1e-3`` as a string, ``on``/``yes`` as
booleans, ``2024-01-01`` as a date and silently keeps the last of two duplicate
keys.  ``SpecLoader`` is a ``SafeLoader`` subclass that follows YAML 1.2's core
schema for numbers, booleans and dates, and rejects duplicate keys and every tag
outside that schema; :func:`load_spec_text` returns the plain Python tree
together with a :class:`Positions` map from dotted paths to ``(line, column)``
(both 1-based) so that every later error can point at the file.  A node reached
through an alias (``*name``) is placed at the alias, and the nodes reached
through aliases are bounded in number (:data:`MAX_ALIAS_NODES`), so that a
small file cannot expand into a huge tree ("billion laughs").
"""

from __future__ import annotations

import copy
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from engine.spec.errors import SpecError

Path_ = tuple[str | int, ...]

#: At most this many nodes, in total, are read through aliases (``*name``) and merge keys (``<<``).
MAX_ALIAS_NODES = 100_000

_YAML = "tag:yaml.org,2002:"
_MERGE = _YAML + "merge"
#: The tags of YAML 1.2's core schema; a node with any other tag (explicit or implied) is refused.
CORE_TAGS = frozenset(_YAML + name for name in ("str", "int", "float", "bool", "null", "seq", "map"))


class SpecLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 floats and booleans, no implicit dates, and aliases marked where written."""

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        """As PyYAML's, except that an alias gives a reference to its anchor's node placed at the alias."""
        if not self.check_event(yaml.AliasEvent):
            return super().compose_node(parent, index)
        alias = self.peek_event()
        return _alias_reference(super().compose_node(parent, index), alias)


def _alias_reference(target: yaml.Node, alias: yaml.AliasEvent) -> yaml.Node:
    """A shallow copy of ``target`` placed at ``alias``, knowing its target (``alias_of``) and anchor name."""
    ref = copy.copy(target)
    ref.start_mark = alias.start_mark
    ref.alias_of = getattr(target, "alias_of", target)
    ref.anchor = alias.anchor
    return ref


# YAML 1.2 core schema: only numbers, null and booleans are implied (no dates, no '=' values);
# booleans are only true/false (any case).
SpecLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag in (_YAML + "int", _YAML + "float", _YAML + "null", _MERGE)]
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


def _dotted(path: Path_) -> str:
    return ".".join(str(p) for p in path) or "<root>"


def _short_tag(tag: str) -> str:
    return "!!" + tag[len(_YAML):] if tag.startswith(_YAML) else tag


class _TreeBuilder:
    """Builds the plain Python tree of a composed YAML document, recording every node's position.

    Aliases are expanded here (a list read twice through ``*a`` is two lists in the tree); every node
    reached through an alias or a merge key counts against :data:`MAX_ALIAS_NODES`.
    """

    def __init__(self, loader: SpecLoader, pos: Positions):
        self.loader, self.pos = loader, pos
        self.alias_nodes = 0
        self.open: set[int] = set()  # ids of the (anchor) nodes being built, to refuse an alias to its own parent

    def error(self, node: yaml.Node, path: Path_, problem: str, expected: str = "") -> SpecError:
        line, col = _mark(node)
        return SpecError(self.pos.source, line, col, _dotted(path), problem, expected)

    def count_alias_node(self, via: tuple[yaml.Node, Path_]) -> None:
        """Count one node read through the alias or merge key ``via`` (its node and path)."""
        self.alias_nodes += 1
        if self.alias_nodes > MAX_ALIAS_NODES:
            raise self.error(*via, "too many alias expansions",
                             f"at most {MAX_ALIAS_NODES} nodes read through aliases (*name) and merge keys (<<)")

    def check_tag(self, node: yaml.Node, path: Path_) -> None:
        """Refuse a node whose tag (written or implied) is not of YAML's core schema."""
        if node.tag not in CORE_TAGS:
            raise self.error(node, path, f"YAML tag '{_short_tag(node.tag)}' is not allowed",
                             "plain values; only the tags of YAML's core schema (!!str, !!int, !!float, !!bool, "
                             "!!null, !!seq, !!map)")

    @contextmanager
    def opened(self, node: yaml.Node, path: Path_):
        """While the list or mapping ``node`` (an alias: its target) is being read; an error if it
        already is, i.e. if an alias inside it refers back to it."""
        target = getattr(node, "alias_of", node)
        if id(target) in self.open:
            raise self.error(node, path, f"the alias *{node.anchor} refers to a list or mapping that contains it",
                             "an alias to a node defined before it")
        self.open.add(id(target))
        try:
            yield
        finally:
            self.open.discard(id(target))

    def build(self, node: yaml.Node, path: Path_, via: tuple[yaml.Node, Path_] | None = None) -> Any:
        """The value of ``node`` at ``path``; ``via`` is the outermost alias it is reached through, if any."""
        if hasattr(node, "alias_of"):
            via = via or (node, path)
        if via is not None:
            self.count_alias_node(via)
        self.check_tag(node, path)
        self.pos.at[path] = _mark(node)
        if isinstance(node, yaml.ScalarNode):
            return self.loader.construct_object(node, deep=True)
        with self.opened(node, path):
            if isinstance(node, yaml.SequenceNode):
                return [self.build(item, path + (i,), via) for i, item in enumerate(node.value)]
            return self.build_mapping(node, path, via)

    def build_mapping(self, node: yaml.MappingNode, path: Path_, via: tuple[yaml.Node, Path_] | None) -> dict:
        """A mapping: merged (``<<``) pairs first, then the mapping's own keys, which override them."""
        out: dict[Any, Any] = {}
        merged: set = set()
        merge_via = via or (node, path)
        for key_node, value_node, own in self.merged_pairs(node, path, merge_via) + self.own_pairs(node):
            key = self.key(key_node, path)
            if not own:
                merged.add(key)
            elif key in merged:
                merged.discard(key)
            elif key in out:
                first = self.pos.at[path + (key,)]
                raise self.error(key_node, path + (key,), f"duplicate key '{key}'",
                                 f"each key once; first given at line {first[0]}")
            self.pos.key_at[path + (key,)] = _mark(key_node)
            out[key] = self.build(value_node, path + (key,), via if own else merge_via)
        return out

    @staticmethod
    def own_pairs(node: yaml.MappingNode) -> list[tuple[yaml.Node, yaml.Node, bool]]:
        """The pairs written in ``node`` itself (not its merge keys), each marked as its own."""
        return [(k, v, True) for k, v in node.value if k.tag != _MERGE]

    def merged_pairs(self, node: yaml.MappingNode, path: Path_,
                     via: tuple[yaml.Node, Path_]) -> list[tuple[yaml.Node, yaml.Node, bool]]:
        """The pairs that the merge keys of ``node`` bring in, later ones overriding earlier ones: of
        ``<<: [a, b]``, those of ``a`` win.  The nodes are left unchanged (they may be shared by aliases)."""
        pairs = []
        for key_node, value_node in node.value:
            if key_node.tag != _MERGE:
                continue
            sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
            for source in reversed(sources):
                if not isinstance(source, yaml.MappingNode):
                    raise self.error(source, path, "a merge key (<<) takes a mapping or a list of mappings",
                                     "<<: *name, where &name marks a mapping")
                with self.opened(source, path):
                    for key, value, _ in self.merged_pairs(source, path, via) + self.own_pairs(source):
                        self.count_alias_node(via)
                        pairs.append((key, value, False))
        return pairs

    def key(self, key_node: yaml.Node, path: Path_) -> Any:
        """The value of a mapping key, which must be a plain scalar."""
        self.check_tag(key_node, path)
        key = self.loader.construct_object(key_node, deep=True) if isinstance(key_node, yaml.ScalarNode) else None
        if not isinstance(key, (str, int, float, bool)):
            raise self.error(key_node, path, "a mapping key must be a plain scalar")
        return key


def load_spec_text(text: str, source: str) -> tuple[Any, Positions]:
    """Parse YAML ``text`` (named ``source`` in errors) into ``(tree, positions)``.

    Raises :class:`SpecError` for syntax errors, duplicate keys, tags outside YAML's core schema,
    recursive aliases, more than :data:`MAX_ALIAS_NODES` nodes read through aliases, and nesting
    deeper than Python's recursion limit.
    """
    pos = Positions(source)
    loader = SpecLoader(text)
    try:
        node = loader.get_single_node()
        tree = {} if node is None else _TreeBuilder(loader, pos).build(node, ())
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        what = exc.problem or str(exc)
        raise SpecError(source, line, col, "<yaml>", f"YAML syntax error: {what}", "valid YAML") from None
    except RecursionError:
        mark = loader.get_mark()
        raise SpecError(source, mark.line + 1, mark.column + 1, "<yaml>", "the spec is nested too deeply",
                        "at most a few hundred levels of lists and mappings") from None
    finally:
        loader.dispose()
    return tree, pos


def load_spec_file(path: str | Path) -> tuple[Any, Positions]:
    """Read and parse a spec file (UTF-8); see :func:`load_spec_text`."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SpecError(str(path), 0, 0, "<file>", f"cannot read the spec: {exc.strerror}", "a readable YAML file") from None
    return load_spec_text(_utf8(data, str(path)), str(path))


def _utf8(data: bytes, source: str) -> str:
    """``data`` decoded as UTF-8, or a :class:`SpecError` at the first byte that is not."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise SpecError(source, line, col, "<file>", f"the file is not UTF-8 text (byte 0x{data[exc.start]:02x})",
                        "a file saved as UTF-8; convert it, e.g. iconv -f latin1 -t utf-8") from None
