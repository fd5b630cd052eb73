"""Spec handling, a leaf of the engine: YAML with positions, base models, overrides, sweeps and errors.

Nothing here imports anything above it; :mod:`engine.plan` turns a spec file into the validated
runs of a sweep (it needs the kind registry).
"""

from engine.spec.base import ProblemSpec, Section, SpecPath, Sweep, quantity
from engine.spec.errors import FieldError, SpecError

__all__ = ["FieldError", "ProblemSpec", "Section", "SpecError", "SpecPath", "Sweep", "quantity"]
