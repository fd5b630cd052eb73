"""How much memory a run needs, estimated from its spec, and how much this machine has.

A kind's spec model estimates the peak memory of one run (:meth:`engine.spec.base.ProblemSpec.memory_estimate`)
by arithmetic on the sizes the spec sets: no array is allocated and no grid is built. The estimate is a
sum of :class:`ArrayBytes` parts, each blaming the spec field that sets its size, so that a run refused
for its memory points at the field to change. :func:`machine_memory` is the limit it is compared with
(:func:`engine.plan.resolve_tree`), unless ``--max-memory GIB`` or ``$ENGINE_MAX_MEMORY_GIB`` says otherwise.

Standard library only.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

GIB = 2.0 ** 30
#: Environment variable that sets the memory limit of a run [GiB] when ``--max-memory`` is not given.
MAX_MEMORY_ENV = "ENGINE_MAX_MEMORY_GIB"
#: Assumed memory of a machine that tells neither /proc/meminfo nor a cgroup limit [bytes].
FALLBACK_MEMORY = 16 * GIB
_CGROUP_LIMITS = (Path("/sys/fs/cgroup/memory.max"), Path("/sys/fs/cgroup/memory/memory.limit_in_bytes"))


@dataclass(frozen=True)
class ArrayBytes:
    """One big array (or a group of arrays of one size) of a run: ``nbytes`` [bytes], what it is (names and
    shapes, e.g. ``"f (n_x, n_v) float64 x 5 copies"``) and the dotted spec field that sets its size."""

    field: str
    what: str
    nbytes: float


@dataclass(frozen=True)
class MemoryEstimate:
    """The estimated peak memory of one run: the sum of its big arrays (interpreter and libraries not
    counted)."""

    parts: tuple[ArrayBytes, ...]

    @property
    def nbytes(self) -> float:
        """Total [bytes]."""
        return float(sum(p.nbytes for p in self.parts))

    @property
    def dominant(self) -> ArrayBytes:
        """The largest part: its field is the one to change."""
        return max(self.parts, key=lambda p: p.nbytes)


def estimate(*parts: ArrayBytes) -> MemoryEstimate:
    """A :class:`MemoryEstimate` of the non-empty ``parts``."""
    return MemoryEstimate(tuple(p for p in parts if p.nbytes > 0) or (ArrayBytes("kind", "nothing large", 0.0),))


def saved_count(t_final: float, every: float | None, default_intervals: int) -> int:
    """How many times a run saves (``0, every, 2 every, ...`` and ``t_final``; ``every`` defaults to
    ``t_final / default_intervals``), at most one too many (the arithmetic of :func:`engine.loop.save_times`)."""
    return int(t_final / (every or t_final / default_intervals)) + 2


def gib(nbytes: float) -> str:
    """``nbytes`` as GiB: 3 significant digits, whole GiB from 100 on (``"0.0123 GiB"``, ``"23.5 GiB"``,
    ``"2,235 GiB"``)."""
    value = nbytes / GIB
    return f"{value:,.0f} GiB" if value >= 100 else f"{value:.3g} GiB"


def _read_bytes(path: Path) -> float | None:
    """The number in a cgroup limit file [bytes]; None when unreadable or ``max`` (no limit)."""
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    return float(text) if text.isdigit() else None


def _mem_total() -> float | None:
    """MemTotal of /proc/meminfo [bytes], or None."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return float(line.split()[1]) * 1024.0
    except (OSError, IndexError, ValueError):
        return None
    return None


def machine_memory() -> float:
    """The memory a run may use on this machine [bytes]: the smaller of MemTotal and the cgroup limit (v2
    ``memory.max``, v1 ``memory.limit_in_bytes``), :data:`FALLBACK_MEMORY` when neither can be read. A v1
    "no limit" is a huge number, so the minimum ignores it."""
    known = [v for v in (_mem_total(), *(_read_bytes(p) for p in _CGROUP_LIMITS)) if v]
    return min(known) if known else FALLBACK_MEMORY


def limit_from_environment() -> float | None:
    """``$ENGINE_MAX_MEMORY_GIB`` [GiB], or None when unset or empty; ValueError naming the variable when it
    is not a positive number."""
    text = os.environ.get(MAX_MEMORY_ENV, "").strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(f"{MAX_MEMORY_ENV}={text!r} is not a positive number of GiB")
    return value
