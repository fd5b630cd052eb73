"""Problem kinds, found through the entry-point group ``engine.problems``.

Another package adds a kind by declaring, in its own pyproject.toml::

    [project.entry-points."engine.problems"]
    my_kind = "my_package.my_kind:MyKind"
"""

from __future__ import annotations

import functools
from importlib.metadata import EntryPoint, entry_points
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover - numpy: not needed to look a kind's module up (engine.forkserver)
    from engine.kind import Kind

GROUP = "engine.problems"


class UnknownKind(LookupError):
    """No kind of that name is registered."""


@functools.cache
def _entry_points() -> dict[str, EntryPoint]:
    return {ep.name: ep for ep in entry_points(group=GROUP)}


def known_kinds() -> list[str]:
    """Names of all registered kinds, sorted."""
    return sorted(_entry_points())


def _entry_point(kind: str) -> EntryPoint:
    try:
        return _entry_points()[kind]
    except KeyError:
        raise UnknownKind(kind) from None


def kind_module(kind: str) -> str:
    """The module that defines ``kind`` (imported by nothing here)."""
    return _entry_point(kind).module


@functools.cache
def get_kind(kind: str) -> Kind:
    """The instance of the kind registered as ``kind``."""
    ep = _entry_point(kind)
    from engine.kind import Kind  # here, so that kind_module stays standard-library only

    cls = ep.load()
    if not (isinstance(cls, type) and issubclass(cls, Kind)):
        raise TypeError(f"entry point {ep.value!r} for kind '{kind}' is not a subclass of engine.kind.Kind")
    if cls.kind != kind:
        raise TypeError(f"entry point '{kind}' loads a class whose kind is '{cls.kind}'")
    return cls()
