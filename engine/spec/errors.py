"""Spec errors that point at ``FILE:LINE:COL`` and the dotted field path.

Every problem with a spec is reported as one line per error::

    specs/x.yaml:12:10: model.depth: 0 is too small (expected an integer >= 1)

:func:`from_validation_error` turns a pydantic ``ValidationError`` into these
lines, using the positions recorded by the loader.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable

if TYPE_CHECKING:  # pragma: no cover
    from pydantic import ValidationError

    from engine.spec.loader import Positions


@dataclass(frozen=True)
class SpecIssue:
    """One thing wrong with a spec, with where it is."""

    source: str
    line: int
    col: int
    path: str
    problem: str
    expected: str = ""

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}:{self.col}" if self.line else self.source
        tail = f" (expected {self.expected})" if self.expected else ""
        return f"{where}: {self.path}: {self.problem}{tail}"


class SpecError(Exception):
    """A spec that cannot be run; carries one or more :class:`SpecIssue`."""

    def __init__(self, source: str, line: int, col: int, path: str, problem: str, expected: str = ""):
        self.issues = [SpecIssue(source, line, col, path, problem, expected)]
        super().__init__(str(self.issues[0]))

    @classmethod
    def from_issues(cls, issues: Iterable[SpecIssue]) -> "SpecError":
        issues = list(issues)
        err = cls.__new__(cls)
        err.issues = issues
        Exception.__init__(err, "\n".join(str(i) for i in issues))
        return err

    def prefixed(self, context: str) -> "SpecError":
        """The same issues with ``context`` (e.g. a sweep point) put before each problem."""
        return SpecError.from_issues(
            SpecIssue(i.source, i.line, i.col, i.path, f"{context}: {i.problem}", i.expected) for i in self.issues
        )


class FieldError(ValueError):
    """Raised by model validators to blame a specific field (path relative to the model)."""

    def __init__(self, field: str, message: str, expected: str = ""):
        self.field = field
        self.expected = expected
        super().__init__(message)


def closest(name: str, candidates: Iterable[str]) -> str | None:
    """The candidate most similar to ``name``, if any is reasonably close."""
    match = difflib.get_close_matches(str(name), list(candidates), n=1, cutoff=0.5)
    return match[0] if match else None


def did_you_mean(name: str, candidates: Iterable[str], prefix: str = "") -> str:
    """``"; did you mean '<prefix><closest>'?"`` for the closest candidate to ``name``, or "" if none is close."""
    guess = closest(name, candidates)
    return f"; did you mean '{prefix}{guess}'?" if guess else ""


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


_BOUNDS = {"gt": ">", "ge": ">=", "lt": "<", "le": "<="}
_TYPE_NAMES = {
    "int_type": "an integer", "int_parsing": "an integer", "int_from_float": "an integer",
    "float_type": "a number", "float_parsing": "a number", "bool_type": "true or false",
    "string_type": "a string", "dict_type": "a mapping", "model_type": "a mapping",
    "list_type": "a list", "model_attributes_type": "a mapping",
}


def _is_nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


def _not_a_value(value: Any, otherwise: str) -> str:
    """The problem with ``value``: ``otherwise``, or for NaN (which fails every bound) that it is not a number."""
    return "nan is not a number" if _is_nan(value) else otherwise


def describe(err: dict[str, Any], allowed_keys: Iterable[str] = ()) -> tuple[str, str]:
    """(what is wrong, what was expected) for one pydantic error dict."""
    kind, ctx, value = err["type"], err.get("ctx") or {}, err.get("input")
    if kind == "missing":
        return "required field is missing", "a value"
    if kind == "extra_forbidden":
        key = str(err["loc"][-1])
        return f"unknown key '{key}'{did_you_mean(key, allowed_keys)}", "one of: " + ", ".join(sorted(allowed_keys))
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        bound = next((f"{_BOUNDS[k]} {v}" for k, v in ctx.items() if k in _BOUNDS), "")
        return _not_a_value(value, f"{_show(value)} is out of range"), f"a value {bound}"
    if kind == "finite_number":
        return _not_a_value(value, f"{_show(value)} is not a finite number"), "a finite number"
    if kind == "literal_error":
        return f"{_show(value)} is not allowed", f"one of {ctx.get('expected', '')}"
    if kind in _TYPE_NAMES:
        return f"{_show(value)} has the wrong type ({type(value).__name__})", _TYPE_NAMES[kind]
    if kind == "value_error" and isinstance(ctx.get("error"), FieldError):
        fe = ctx["error"]
        return str(fe), fe.expected
    if kind in ("too_short", "too_long"):
        return err["msg"], ""
    if "expected" in ctx:  # a validator's PydanticCustomError(type, message, {"expected": ...})
        return err["msg"], str(ctx["expected"])
    msg = err["msg"]
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    return msg, ""


def _field_loc(loc: tuple) -> tuple:
    """``loc`` without the labels pydantic puts in it for the branches of a union of generic types
    (``sweep.zip.dict[str,list[any]].x`` becomes ``sweep.zip.x``); field names have no brackets."""
    return tuple(part for part in loc if not (isinstance(part, str) and "[" in part and part.endswith("]")))


def from_validation_error(
    exc: "ValidationError", positions: "Positions", allowed_keys_at: Any, prefix: tuple = ()
) -> SpecError:
    """Map a pydantic ``ValidationError`` to a :class:`SpecError` with file positions.

    ``allowed_keys_at(path)`` returns the valid keys of the section at ``path``
    (used for "did you mean" hints); ``prefix`` is prepended to every location.
    """
    issues = []
    for err in exc.errors(include_url=False):
        loc = prefix + _field_loc(err["loc"])
        ctx = err.get("ctx") or {}
        if err["type"] == "value_error" and isinstance(ctx.get("error"), FieldError):
            loc = loc + tuple(ctx["error"].field.split("."))
        parent = loc[:-1] if err["type"] == "extra_forbidden" else loc
        problem, expected = describe(err, allowed_keys_at(parent) if err["type"] == "extra_forbidden" else ())
        source, line, col = positions.locate(loc, key=err["type"] == "extra_forbidden")
        issues.append(SpecIssue(source, line, col, ".".join(str(p) for p in loc) or "<root>", problem, expected))
    return SpecError.from_issues(issues)
