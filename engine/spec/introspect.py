"""Walking a kind's spec model: the commented template (``engine new``) and the reference docs.

Both are generated from the same field descriptions, so the template, the JSON
Schema and docs/spec-reference.md cannot disagree with the models.
"""

from __future__ import annotations

import json
import types
import typing
from dataclasses import dataclass
from typing import Any, Iterator, Mapping

import yaml
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from engine.spec.base import ProblemSpec, section_model

_BOUND_SYMBOLS = {"gt": ">", "ge": ">=", "lt": "<", "le": "<="}


@dataclass(frozen=True)
class FieldDoc:
    """One field of a spec model, ready to print."""

    path: str
    depth: int
    type: str
    default: Any
    has_default: bool
    constraints: str
    description: str
    section: type[BaseModel] | None


def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:  # e.g. SpecPath: the validators are not part of the type's name
        return _type_name(typing.get_args(annotation)[0])
    if origin is typing.Literal:
        return " | ".join(repr(a) if not isinstance(a, str) else a for a in typing.get_args(annotation))
    if origin in (typing.Union, types.UnionType):
        return " | ".join(_type_name(a) for a in typing.get_args(annotation))
    if origin is not None:
        args = ", ".join(_type_name(a) for a in typing.get_args(annotation))
        return f"{getattr(origin, '__name__', str(origin))}[{args}]"
    if annotation is type(None):
        return "null"
    return getattr(annotation, "__name__", str(annotation))


def _constraints(info: FieldInfo) -> str:
    parts = []
    for meta in info.metadata:
        for attr, symbol in _BOUND_SYMBOLS.items():
            value = getattr(meta, attr, None)
            if value is not None:
                parts.append(f"{symbol} {value}")
        pattern = getattr(meta, "pattern", None)
        if pattern:
            parts.append(f"matches {pattern}")
    return ", ".join(parts)


def _default(info: FieldInfo) -> tuple[Any, bool]:
    if info.default is not PydanticUndefined:
        value = info.default
    elif info.default_factory is not None:
        value = info.default_factory()
    else:
        return None, False
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    return value, True


def iter_fields(model: type[BaseModel], prefix: str = "", depth: int = 0) -> Iterator[FieldDoc]:
    """Every field of ``model`` and its sections, depth first, in declaration order."""
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        default, has_default = _default(info)
        section = section_model(info.annotation)
        yield FieldDoc(path, depth, _type_name(info.annotation), default, has_default,
                       _constraints(info), info.description or "", section)
        if section is not None and section.__name__ != "Sweep":
            yield from iter_fields(section, f"{path}.", depth + 1)


def _yaml_value(value: Any) -> str:
    if isinstance(value, (dict, list)) or value is None:
        return json.dumps(value)
    return yaml.safe_dump(value, default_flow_style=True).strip().removesuffix("\n...").strip()


SWEEP_EXAMPLE = """\
# sweep:                      # optional: run several points; keys are dotted paths
#   grid:                     # cartesian product, one dimension per key
#     {key}: {values}
#   zip: {{}}                   # paired lists of equal length, one dimension per block
#   cases: []                 # explicit list of overrides, dimension 'case'
"""


def template(model: type[ProblemSpec], kind: str, sweep_key: str, sweep_values: list,
             small_values: Mapping[str, Any] | None = None) -> str:
    """A commented YAML template of every field at its default (or small value); it validates as written.

    ``small_values`` (the kind's ``template_values``: dotted field -> value) replaces the defaults of
    fields whose defaults are paper-size, so that the template runs in well under a minute; each of them
    shows the default beside it (``n_x: 64  # paper: 200``). ``name`` is left out (commented), so that
    the results go to ``outputs/<file stem>/``. Raises ValueError for a small value of a field that the
    template does not write (not a field, a section, or inside an optional section).
    """
    small = dict(small_values or {})
    shown = ([f"# Spec of kind '{kind}'. Every field is shown with its default, except the fields marked "
              "'# paper: DEFAULT',", "# which are set small so that the template runs in under a minute. "
              "Delete what you do not change."] if small else
             [f"# Spec of kind '{kind}'. Every field is shown with its default; delete what you do not change."])
    lines = [f"# yaml-language-server: $schema={kind}.schema.json",
             f"# (editor completion: `engine schema {kind} > {kind}.schema.json` beside this file)", *shown,
             "# Full reference: docs/spec-reference.md.", ""]
    off: list[str] = []  # optional sections that default to null: shown commented out
    for doc in iter_fields(model):
        pad = "  " * doc.depth
        if doc.path == "sweep":
            lines.append(SWEEP_EXAMPLE.format(key=sweep_key, values=json.dumps(sweep_values)).rstrip())
            continue
        mark = "# " if any(doc.path.startswith(p + ".") for p in off) else ""
        comment = doc.description + (f" [{doc.constraints}]" if doc.constraints else "")
        lines.append(f"{pad}# {comment}")
        key = doc.path.rsplit(".", 1)[-1]
        if doc.path == "kind":
            lines.append(f"kind: {kind}")
        elif doc.path == "name":
            lines.append("# name: ...          (left out: the results go to outputs/<file stem>/, "
                         "e.g. outputs/my/ for my.yaml)")
        elif doc.section is not None and doc.default is None:
            off.append(doc.path)
            lines.append(f"{pad}# {key}:              (optional section; uncomment to use)")
        elif doc.section is not None:
            lines.append(f"{mark}{pad}{key}:")
        elif doc.path in small and not mark:
            value = small.pop(doc.path)
            lines.append(f"{pad}{key}: {_yaml_value(value)}  # paper: {_yaml_value(doc.default)}")
        else:
            lines.append(f"{mark}{pad}{key}: {_yaml_value(doc.default)}")
    if small:
        raise ValueError(f"template values of kind '{kind}' for {sorted(small)}: not fields that its template "
                         "writes (a field of a section that is not optional)")
    return "\n".join(lines) + "\n"


def reference(kinds: dict[str, type[ProblemSpec]], summaries: dict[str, str]) -> str:
    """docs/spec-reference.md: one table of fields per kind."""
    out = ["# Spec reference", "",
           "Generated from the spec models by `engine reference`; do not edit by hand "
           "(a test checks that this file is up to date).", "",
           "Every spec has the common fields `kind`, `name`, `description`, `seed` and `sweep`; "
           "the fields of each kind sit beside them at the top level. A sweep key is any dotted "
           "path in the tables below.", ""]
    for kind, model in sorted(kinds.items()):
        out += [f"## `{kind}`", "", summaries.get(kind, ""), "",
                "| field | type | default | constraint | description |", "|---|---|---|---|---|"]
        for doc in iter_fields(model):
            if doc.section is not None and doc.path != "sweep" and doc.default is not None:
                default = "(section)"
            else:
                default = f"`{_yaml_value(doc.default)}`" if doc.has_default else "required"
            cells = [f"`{doc.path}`", doc.type, default, doc.constraints, doc.description]
            out.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
        out.append("")
    return "\n".join(out)
