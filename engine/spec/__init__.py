"""Spec handling: YAML with positions, base models, overrides, sweeps and errors.

The models and errors are imported eagerly; resolution (which needs the kind
registry) is imported on first use, so a kind module can import the models
without a circular import.
"""

from engine.spec.base import ProblemSpec, Section, SpecPath, Sweep, quantity
from engine.spec.errors import FieldError, SpecError

_RESOLVE = ("Resolved", "RunPoint", "resolve", "resolve_text", "run_id")


def __getattr__(name):
    if name in _RESOLVE:
        import importlib

        return getattr(importlib.import_module("engine.spec.resolution"), name)
    raise AttributeError(f"module 'engine.spec' has no attribute {name!r}")


__all__ = ["FieldError", "ProblemSpec", "Section", "SpecError", "SpecPath", "Sweep", "quantity", *_RESOLVE]
