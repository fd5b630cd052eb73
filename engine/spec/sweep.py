"""Expansion of ``sweep`` (grid / zip / cases) into axes of run points.

A grid key is an axis of its own; a zip block is one axis named after its first
key; ``cases`` is the axis ``case``.  The run points are the cartesian product
of all axes, in the order grid, zip, cases.  Their number is counted from the
axes' lengths before any point is built, and refused above a limit
(:data:`MAX_RUNS`, raised with ``--max-runs``).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any, Callable

from engine.spec.base import NOT_IN_RUN_ID
from engine.spec.errors import SpecError, SpecIssue
from engine.spec.loader import Positions

#: Top-level fields that a sweep may not change: the kind, and what is not part of a run's identity.
NOT_SWEEPABLE = NOT_IN_RUN_ID | {"kind"}

#: Default limit on the number of run points of one sweep (``engine run/validate --max-runs N`` raises it).
MAX_RUNS = 100_000


@dataclass(frozen=True)
class Setting:
    """One value set by a sweep at one point, and where it was written."""

    value: Any
    where: tuple  # path of the value node inside the spec tree


@dataclass(frozen=True)
class Axis:
    """One dimension of the sweep: ``settings[i]`` maps dotted keys to their value at index i."""

    dim: str
    keys: tuple[str, ...]
    settings: tuple[dict[str, Setting], ...]

    def __len__(self) -> int:
        return len(self.settings)



def cf_name(key: str) -> str:
    """The name of the sweep key ``key`` in result.nc, as CF allows (letters, digits, underscores): dots become
    underscores (``init.scheme`` -> ``init_scheme``)."""
    return key.replace(".", "_")

def _dotted(path: tuple) -> str:
    return ".".join(str(p) for p in path)


def _list_axis(dim: str, block: dict, where: tuple, pos: Positions) -> Axis:
    lengths = {key: len(values) for key, values in block.items()}
    if len(set(lengths.values())) > 1:
        source, line, col = pos.locate(where)
        raise SpecError(source, line, col, _dotted(where), "zip lists have unequal lengths: "
                        + ", ".join(f"{k} has {n}" for k, n in lengths.items()), "lists of one length")
    n = next(iter(lengths.values()))
    if n == 0:
        source, line, col = pos.locate(where + (dim,))
        raise SpecError(source, line, col, _dotted(where + (dim,)), "empty list of values", "at least one value")
    settings = tuple(
        {key: Setting(values[i], where + (key, i)) for key, values in block.items()} for i in range(n)
    )
    return Axis(dim, tuple(block), settings)


def sweep_axes(sweep: dict, pos: Positions, check_path: Callable[[str], str | None]) -> list[Axis]:
    """Axes of the (already type-checked) raw ``sweep`` mapping; checks keys, lengths and overlaps."""
    base = ("sweep",)
    axes = [_list_axis(key, {key: values}, base + ("grid",), pos) for key, values in (sweep.get("grid") or {}).items()]
    blocks = sweep.get("zip") or {}
    if isinstance(blocks, dict):
        blocks = [blocks] if blocks else []
        zip_paths = [base + ("zip",)]
    else:
        zip_paths = [base + ("zip", i) for i in range(len(blocks))]
    axes += [_list_axis(next(iter(b)), b, w, pos) for b, w in zip(blocks, zip_paths) if b]
    cases = sweep.get("cases") or []
    if cases:
        settings = tuple(
            {key: Setting(value, base + ("cases", i, key)) for key, value in case.items()} for i, case in enumerate(cases)
        )
        keys = tuple(dict.fromkeys(k for case in cases for k in case))
        axes.append(Axis("case", keys, settings))

    issues, owner, file_names = [], {}, {}
    for axis in axes:
        for key in axis.keys:
            where = axis.settings[0][key].where[:-1] if axis.dim != "case" else next(
                s[key].where for s in axis.settings if key in s)
            source, line, col = pos.locate(where, key=True)
            problem = (f"'{key}' cannot be swept" if key.split(".")[0] in NOT_SWEEPABLE else check_path(key))
            if problem:
                issues.append(SpecIssue(source, line, col, _dotted(where), f"sweep key '{key}': {problem}",
                                        "a dotted path to a field of this kind"))
            elif key in owner and owner[key] is not axis:
                issues.append(SpecIssue(source, line, col, _dotted(where),
                                        f"sweep key '{key}' is set by two sweep blocks", "each key in one block"))
            elif file_names.setdefault(cf_name(key), key) != key:
                issues.append(SpecIssue(source, line, col, _dotted(where),
                                        f"sweep keys '{file_names[cf_name(key)]}' and '{key}' would both be named "
                                        f"'{cf_name(key)}' in result.nc (dots become underscores)",
                                        "sweep keys that differ in more than '.' against '_'"))
            owner.setdefault(key, axis)
    if issues:
        raise SpecError.from_issues(issues)
    return axes


def check_run_count(axes: list[Axis], pos: Positions, max_runs: int | None = None) -> int:
    """The number of run points of ``axes`` (the product of their lengths), computed without building
    them; a :class:`SpecError` at ``sweep`` if it exceeds ``max_runs`` (default :data:`MAX_RUNS`)."""
    max_runs = MAX_RUNS if max_runs is None else max_runs
    count = math.prod(len(a) for a in axes)
    if count > max_runs:
        source, line, col = pos.locate(("sweep",), key=True)
        sizes = " x ".join(f"{len(a)} ({a.dim})" for a in axes)
        raise SpecError(source, line, col, "sweep", f"{count} run points ({sizes}) exceed the limit of {max_runs}",
                        f"at most {max_runs} runs; a smaller sweep, or --max-runs N to allow more")
    return count


def points(axes: list[Axis]) -> list[tuple[tuple[int, ...], dict[str, Setting]]]:
    """Every run point: its index along each axis and the settings it applies."""
    out = []
    for index in itertools.product(*(range(len(a)) for a in axes)):
        merged: dict[str, Setting] = {}
        for axis, i in zip(axes, index):
            merged.update(axis.settings[i])
        out.append((index, merged))
    return out
