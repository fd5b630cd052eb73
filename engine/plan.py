"""From a spec file (plus ``--set`` overrides) to the validated run points of a sweep.

:func:`resolve` reads the file, applies overrides, finds the kind, validates
the spec, expands the sweep and validates every point before anything runs.
Each run point carries its fully resolved spec (defaults filled, sweep
removed) and its run id: a hash of the canonical JSON of that spec and the
kind's version, so that the same physics gives the same id.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from engine.kind import Kind
from engine.registry import KindLoadError, UnknownKind, get_kind, known_kinds
from engine.spec.base import NAME_PATTERN, NAME_RULE, NOT_IN_RUN_ID, SPEC_DIR, ProblemSpec, check_field_path, model_at
from engine.spec.errors import SpecError, SpecIssue, did_you_mean, from_validation_error
from engine.spec.loader import Positions, load_spec_file, load_spec_text
from engine.spec.memory import GIB, MAX_MEMORY_ENV, gib, limit_from_environment, machine_memory
from engine.spec.overrides import apply_overrides, set_path
from engine.spec.sweep import Axis, check_run_count, points, sweep_axes


@dataclass(frozen=True)
class RunPoint:
    """One run of a sweep: where it sits on the sweep axes, its spec and its id."""

    index: tuple[int, ...]
    spec: ProblemSpec
    run_id: str
    label: str


@dataclass(frozen=True)
class Resolved:
    """A validated spec: its kind, the base spec, the sweep axes and every run point."""

    source: str
    kind: Kind
    spec: ProblemSpec
    axes: list[Axis]
    points: list[RunPoint]


def run_id(spec: ProblemSpec, version: str) -> str:
    """Content hash (16 hex digits) of the physics of ``spec`` and the kind's version."""
    payload = spec.model_dump(mode="json", exclude=set(NOT_IN_RUN_ID))
    text = json.dumps({"spec": payload, "version": version}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def kind_named(name: str, source: str = "<command line>", line: int = 0, col: int = 0) -> Kind:
    """The registered kind ``name``; a :class:`SpecError` at ``source:line:col`` naming the known kinds if none,
    or saying why it cannot be loaded."""
    try:
        return get_kind(name)
    except KindLoadError as err:
        raise SpecError(source, line, col, "kind", str(err)) from None
    except UnknownKind:
        known = known_kinds()
        raise SpecError(source, line, col, "kind", f"unknown kind '{name}'{did_you_mean(name, known)}",
                        "one of: " + ", ".join(known)) from None


def _kind(tree: dict, pos: Positions) -> Kind:
    kind = tree.get("kind")
    source, line, col = pos.locate(("kind",))
    if kind is None:
        raise SpecError(source, line, col, "kind", "required field is missing", "one of: " + ", ".join(known_kinds()))
    return kind_named(str(kind), source, line, col)


def _validate(model: type[ProblemSpec], tree: dict, pos: Positions) -> ProblemSpec:
    try:
        source = Path(pos.source)
        context = {SPEC_DIR: str(source.resolve().parent)} if source.is_file() else None
        return model.model_validate(tree, context=context)
    except ValidationError as exc:
        raise from_validation_error(exc, pos, lambda path: list((model_at(model, path) or model).model_fields)) from None


def _label(settings: dict) -> str:
    return ", ".join(f"{k}={v.value!r}" for k, v in settings.items())


def _default_name(tree: dict, default_name: str, pos: Positions) -> list[SpecIssue]:
    """Give ``tree`` the name ``default_name`` (the spec file's stem) if it has none; the issue if that
    name is not valid (no position in the file holds it, so it points at the file's start)."""
    if "name" in tree:
        return []
    tree["name"] = default_name
    if NAME_PATTERN.match(default_name):
        return []
    return [SpecIssue(pos.source, 1, 1, "name", f"the spec has no 'name', so it is named after its file, "
                      f"'{default_name}', which is not a valid name",
                      f"{NAME_RULE}: add a line 'name: ...' to the spec, or rename the file")]


def _sweep_axes(tree: dict, pos: Positions, check_path, issues: list[SpecIssue], max_runs: int | None) -> list[Axis]:
    """The axes of the spec's sweep, checked (and their run count bounded by ``max_runs``); none if
    the sweep section itself is malformed (``issues``, from validating the spec, already say how)."""
    sweep = tree.get("sweep")
    if not isinstance(sweep, dict) or any(i.path == "sweep" or i.path.startswith("sweep.") for i in issues):
        return []
    axes = sweep_axes(sweep, pos, check_path)
    check_run_count(axes, pos, max_runs)
    return axes


def memory_limit(max_memory: float | None, source: str) -> tuple[float, str]:
    """The most memory a run may use [bytes] and where that limit comes from (words that follow "the ... GiB"):
    ``max_memory`` [GiB] (the ``--max-memory`` option), else ``$ENGINE_MAX_MEMORY_GIB``, else this machine's
    memory (:func:`engine.spec.memory.machine_memory`). A :class:`SpecError` for a limit that is not a positive
    number."""
    if max_memory is not None:
        if not max_memory > 0:
            raise SpecError(source, 0, 0, "--max-memory", f"{max_memory!r} GiB is not a positive amount",
                            "a positive number of GiB")
        return max_memory * GIB, "set by --max-memory"
    try:
        from_env = limit_from_environment()
    except ValueError as exc:
        raise SpecError(source, 0, 0, MAX_MEMORY_ENV, str(exc), "a positive number of GiB") from None
    if from_env is not None:
        return from_env * GIB, f"set by ${MAX_MEMORY_ENV}"
    return machine_memory(), "of this machine"


def _memory_issue(kind: Kind, spec: ProblemSpec, pos: Positions, limit: tuple[float, str]) -> SpecIssue | None:
    """The issue of a run whose estimated peak memory exceeds ``limit`` (bytes, where it comes from), placed at
    the field that sets the largest part of it; None when it fits or the kind gives no estimate."""
    est = kind.peak_memory(spec)
    if est is None or est.nbytes <= limit[0]:
        return None
    top = est.dominant
    source, line, col = pos.locate(tuple(top.field.split(".")))
    return SpecIssue(source, line, col, top.field,
                     f"this run needs about {gib(est.nbytes)} of memory ({top.what}: {gib(top.nbytes)}), more than "
                     f"the {gib(limit[0])} {limit[1]}",
                     f"at most {gib(limit[0])}: a smaller {top.field}, or --max-memory GIB (or ${MAX_MEMORY_ENV}) "
                     "to allow more")


def resolve_tree(tree: Any, pos: Positions, overrides: list[str] = (), default_name: str = "run",
                 max_runs: int | None = None, max_memory: float | None = None) -> Resolved:
    """Validate a parsed spec tree; see :func:`resolve`."""
    if not isinstance(tree, dict):
        raise SpecError(pos.source, 1, 1, "<root>", "the spec must be a mapping of fields", "kind: ... at the top level")
    kind = _kind(tree, pos)
    model = kind.Spec

    def check_path(dotted: str) -> str | None:
        return check_field_path(model, dotted)

    tree = apply_overrides(tree, pos, list(overrides), check_path)
    name_issues, issues = _default_name(tree, default_name, pos), []
    try:
        spec = _validate(model, tree, pos)
    except SpecError as err:
        issues = [i for i in err.issues if not (name_issues and i.path == "name")]
    issues = name_issues + issues
    try:
        axes = _sweep_axes(tree, pos, check_path, issues, max_runs)
    except SpecError as err:
        issues += err.issues
    if issues:
        raise SpecError.from_issues(issues)
    base_tree = {k: v for k, v in tree.items() if k != "sweep"}

    limit = memory_limit(max_memory, pos.source)
    run_points, seen = [], set()
    all_points = points(axes)
    for n, (index, settings) in enumerate(all_points):
        point_tree, point_pos = base_tree, pos.copy()
        for key, setting in settings.items():
            path = tuple(key.split("."))
            point_tree = set_path(point_tree, path, setting.value)
            point_pos.alias(path, setting.where)
        try:
            point_spec = _validate(model, point_tree, point_pos)
        except SpecError as err:
            _add_point_issues(issues, seen, err.issues, n, all_points, settings)
            continue
        too_big = _memory_issue(kind, point_spec, point_pos, limit)
        if too_big is not None:
            _add_point_issues(issues, seen, [too_big], n, all_points, settings)
            continue
        run_points.append(RunPoint(index, point_spec, run_id(point_spec, kind.version), _label(settings)))
    if issues:
        raise SpecError.from_issues(issues)
    return Resolved(pos.source, kind, spec, axes, run_points)


def _add_point_issues(issues: list[SpecIssue], seen: set, found: list[SpecIssue], n: int, all_points: list,
                      settings: dict) -> None:
    """Add the issues ``found`` at sweep point ``n`` to ``issues``, once per distinct problem (``seen``); with
    the point named when the spec has a sweep."""
    new = [i for i in found if (i.line, i.col, i.path, i.problem) not in seen]
    seen.update((i.line, i.col, i.path, i.problem) for i in new)
    if new:
        context = f"sweep point {n + 1} of {len(all_points)} ({_label(settings)})"
        issues.extend(SpecError.from_issues(new).prefixed(context).issues if settings else new)


def resolve(path: str | Path, overrides: list[str] = (), max_runs: int | None = None,
            max_memory: float | None = None) -> Resolved:
    """Load ``path``, apply ``--set`` overrides, validate the spec and every sweep point.

    Raises :class:`SpecError` naming file, line, column and field for anything wrong, including a
    sweep of more than ``max_runs`` run points (default :data:`engine.spec.sweep.MAX_RUNS`; counted
    before any point is built) and a run point whose estimated peak memory (the kind's
    :meth:`~engine.kind.Kind.peak_memory`) exceeds ``max_memory`` GiB (default: :func:`memory_limit`).
    """
    tree, pos = load_spec_file(path)
    return resolve_tree(tree, pos, overrides, default_name=Path(path).stem, max_runs=max_runs, max_memory=max_memory)


def resolve_text(text: str, source: str = "<spec>", overrides: list[str] = (),
                 max_runs: int | None = None, max_memory: float | None = None) -> Resolved:
    """Like :func:`resolve` for YAML text (used by ``engine new`` checks and tests)."""
    tree, pos = load_spec_text(text, source)
    return resolve_tree(tree, pos, overrides, max_runs=max_runs, max_memory=max_memory)
