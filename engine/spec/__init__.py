"""Spec handling: YAML with positions, base models, overrides, sweeps and errors."""

from engine.spec.base import ProblemSpec, Section, Sweep
from engine.spec.errors import FieldError, SpecError
from engine.spec.resolve import Resolved, RunPoint, resolve, resolve_text, run_id

__all__ = [
    "FieldError", "ProblemSpec", "Resolved", "RunPoint", "Section", "SpecError", "Sweep",
    "resolve", "resolve_text", "run_id",
]
