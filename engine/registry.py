"""Problem kinds, found through the entry-point group ``engine.problems``.

Another package adds a kind by declaring, in its own pyproject.toml::

    [project.entry-points."engine.problems"]
    my_kind = "my_package.my_kind:MyKind"

A kind that cannot be loaded (its module raises on import, its entry point names no
:class:`~engine.kind.Kind`, or two installed packages register its name) raises
:class:`KindLoadError` when used; the other kinds are unaffected.
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


class KindLoadError(LookupError):
    """A registered kind that cannot be loaded; the message is one line saying why."""

    def __init__(self, kind: str, reason: str):
        self.kind, self.reason = kind, reason
        super().__init__(f"kind '{kind}' failed to load: {reason}")


def _describe(ep: EntryPoint) -> str:
    """``'<package> (<module>:<object>)'``: an entry point, as a user finds it in their installation."""
    package = ep.dist.name if ep.dist is not None else "?"
    return f"{package} ({ep.value})"


@functools.cache
def _entry_points() -> dict[str, list[EntryPoint]]:
    """Every entry point of :data:`GROUP`, by kind name (more than one: a name registered twice)."""
    found: dict[str, list[EntryPoint]] = {}
    for ep in entry_points(group=GROUP):
        same_name = found.setdefault(ep.name, [])
        if ep.value not in {other.value for other in same_name}:  # one package found twice on the path
            same_name.append(ep)
    return found


def known_kinds() -> list[str]:
    """Names of all registered kinds (loadable or not), sorted."""
    return sorted(_entry_points())


def _entry_point(kind: str) -> EntryPoint:
    try:
        registered = _entry_points()[kind]
    except KeyError:
        raise UnknownKind(kind) from None
    if len(registered) > 1:
        raise KindLoadError(kind, "registered by more than one installed package: "
                            + " and ".join(sorted(map(_describe, registered))) + "; uninstall all but one")
    return registered[0]


def kind_module(kind: str) -> str:
    """The module that defines ``kind`` (imported by nothing here)."""
    return _entry_point(kind).module


def _first_line(exc: BaseException) -> str:
    """``'<ExceptionType>: <first line of its message>'``."""
    message = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {message[0]}" if message else type(exc).__name__


@functools.cache
def get_kind(kind: str) -> Kind:
    """The instance of the kind registered as ``kind``; :class:`UnknownKind` if there is none,
    :class:`KindLoadError` if it cannot be loaded."""
    ep = _entry_point(kind)
    from engine.kind import Kind  # here, so that kind_module stays standard-library only

    try:
        cls = ep.load()
    except Exception as exc:  # a plugin's import may raise anything
        raise KindLoadError(kind, f"importing {ep.value} raised {_first_line(exc)}") from exc
    if not (isinstance(cls, type) and issubclass(cls, Kind)):
        raise KindLoadError(kind, f"entry point {ep.value} is not a subclass of engine.kind.Kind")
    if cls.kind != kind:
        raise KindLoadError(kind, f"entry point {ep.value} loads a class whose kind is '{cls.kind}'")
    try:
        return cls()
    except Exception as exc:
        raise KindLoadError(kind, f"creating {ep.value} raised {_first_line(exc)}") from exc
