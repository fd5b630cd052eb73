"""Base pydantic models shared by every problem kind.

``Section`` is the base of every group of fields (frozen, unknown keys
forbidden, strict types so that ``"4"`` is not silently read as 4, and no
``.inf`` or ``.nan`` where a number is meant: a field where infinity is a
meaningful limit says so with :data:`FloatOrInfinity`).
``ProblemSpec`` holds the common top-level fields; a kind subclasses it, narrows
``kind`` to a ``Literal`` and adds its own sections beside them.
"""

from __future__ import annotations

import math
import re
import types
import typing
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, Union

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, model_validator
from pydantic_core import PydanticCustomError

from engine.spec.errors import FieldError, did_you_mean
from engine.spec.memory import MemoryEstimate

#: Top-level fields that do not change the physics and so not a run's identity.
NOT_IN_RUN_ID = frozenset({"name", "description", "sweep", "checkpoint", "threads"})

#: What a spec's ``name`` (the results folder's name) may look like.
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
#: :data:`NAME_PATTERN` in words, for error messages.
NAME_RULE = "letters, digits, '_', '.', '-', starting with a letter or digit"

#: The largest seed: numpy's ``SeedSequence`` takes any, ``torch.manual_seed`` at most 2**64 - 1, and
#: netCDF stores at most an unsigned 64-bit integer (the ``engine_seed`` attribute of a run file).
MAX_SEED = 2**64 - 1


def quantity(default: Any = ..., *, units: str, description: str, **constraints: Any) -> Any:
    """A field with physical units: the unit goes into the description, the JSON Schema and
    the ``units`` attribute of a sweep coordinate.  Use ``units="1"`` for pure numbers."""
    return Field(default, description=f"{description} [{units}]", json_schema_extra={"units": units}, **constraints)


#: Validation-context key: the folder of the spec file, against which relative paths in a spec are read.
SPEC_DIR = "spec_dir"


def _from_spec_folder(value: str, info: ValidationInfo) -> str:
    path = Path(value).expanduser()
    folder = (info.context or {}).get(SPEC_DIR)
    if not path.is_absolute() and folder is not None:
        path = Path(folder) / path
    return str(path)


#: A file path in a spec (``field: SpecPath | None``): a relative path is read against the spec
#: file's folder; for specs given as text, against the working directory.
SpecPath = Annotated[str, AfterValidator(_from_spec_folder)]


def _not_nan(value: float) -> float:
    if math.isnan(value):
        raise PydanticCustomError("not_a_number", "nan is not a number", {"expected": "a number, or .inf"})
    return value


#: A float field that may be infinite (``.inf`` in YAML), where infinity is a meaningful limit (free
#: streaming, no decay...); every other float field of a :class:`Section` refuses ``.inf``.  NaN is refused.
FloatOrInfinity = Annotated[float, Field(allow_inf_nan=True), AfterValidator(_not_nan)]


#: Largest ``threads`` a spec may ask for.
MAX_THREADS = 1024


def _threads(value: Any) -> Any:
    if value == "auto" or (isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_THREADS):
        return value
    raise PydanticCustomError("threads", "{value} is not a thread count",
                              {"value": repr(value), "expected": f"'auto' or an integer from 1 to {MAX_THREADS}"})


#: A spec's ``threads``: ``auto`` or a number (see :mod:`engine.threads`).
Threads = Annotated[Union[int, Literal["auto"]], BeforeValidator(_threads), Field(json_schema_extra={"minimum": 1})]


def _valid_name(value: str) -> str:
    if not NAME_PATTERN.fullmatch(value):
        raise PydanticCustomError("invalid_name", "{name} is not a valid name", {"name": repr(value),
                                                                                 "expected": NAME_RULE})
    return value


class Section(BaseModel):
    """A frozen group of spec fields; unknown keys are errors, and so are non-finite numbers."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, validate_default=True, allow_inf_nan=False)


class TorchBackend(Section):
    """Torch device of a kind's learners."""

    device: Literal["cpu", "cuda", "auto"] = Field("auto", description="Torch device; auto = cuda when available.")


class SavedTimes(Section):
    """A section with a final time and an interval between saved times, which must not exceed it
    (an interval beyond the final time would save only the start and the end).

    A subclass names its two fields in ``FINAL`` and ``EVERY`` (``EVERY`` may be ``None``: the kind's default).
    """

    FINAL: ClassVar[str] = "t_final"
    EVERY: ClassVar[str] = "save_every"

    @model_validator(mode="after")
    def _every_within_final(self) -> "SavedTimes":
        final, every = getattr(self, self.FINAL), getattr(self, self.EVERY)
        if every is not None and every > final:
            raise FieldError(self.EVERY, f"{self.EVERY} = {every:g} is above {self.FINAL} = {final:g}, so only the "
                             f"start and the final time would be saved", f"{self.EVERY} <= {final:g}")
        return self


class Sweep(Section):
    """Parameter sweep; keys are dotted paths into the spec. Blocks compose as a product."""

    grid: dict[str, list[Any]] = Field(
        default_factory=dict,
        description="Cartesian product: each key gets its own dimension in result.nc.",
    )
    zip: dict[str, list[Any]] | list[dict[str, list[Any]]] = Field(
        default_factory=dict,
        description="Paired lists of equal length (one block or a list of blocks); a block is one "
        "dimension named after its first key.",
    )
    cases: list[dict[str, Any]] = Field(
        default_factory=list,
        description="Explicit list of overrides (mappings of dotted path to value); dimension 'case'.",
    )


class CheckpointSchedule(Section):
    """When a long run writes its checkpoint (runs/<run_id>.ckpt.npz), so that it resumes after a crash."""

    every_steps: int | None = quantity(None, units="1", ge=1,
                                       description="Write every N steps of the kind's loop (null: not by steps).")
    every_seconds: float | None = quantity(60.0, units="s", gt=0,
                                           description="Write every T seconds of wall time (null: not by time).")


class ProblemSpec(Section):
    """Fields common to every kind. Problem sections sit beside them at the top level."""

    kind: str = Field(description="Problem kind (see `engine list`).")
    name: Annotated[str, AfterValidator(_valid_name)] = Field(
        default="run",
        description=f"Name of the results folder outputs/<name>/: {NAME_RULE} (default: the spec file's stem).",
        json_schema_extra={"pattern": NAME_PATTERN.pattern},
    )
    description: str = Field(default="", description="Free text, kept in the results.")
    seed: int = quantity(0, units="1", description="Root seed of every random stream of a run (sweepable).",
                         ge=0, le=MAX_SEED)
    sweep: Sweep | None = Field(default=None, description="Parameter sweep (grid / zip / cases).")
    checkpoint: CheckpointSchedule = Field(default_factory=CheckpointSchedule,
                                           description="Checkpoint schedule of long runs (not part of the run id).")
    threads: Threads = Field(
        default="auto",
        description="Threads of a run's kernels (numba, torch): 'auto' gives a small run one thread and "
        "another as many as there are idle cores when it starts, within the executor's share; a number is "
        "used as given. The environment variable ENGINE_THREADS overrides it. Not part of the run id.")

    def memory_estimate(self) -> "MemoryEstimate | None":
        """The peak memory of a run of this (validated) spec, estimated by arithmetic on its sizes, without
        allocating anything (see :mod:`engine.spec.memory`); None (the default): not estimated, not checked."""
        return None


def field_at(model: type[BaseModel], dotted: str):
    """The ``FieldInfo`` of a dotted path (assumed valid, see :func:`check_field_path`)."""
    *sections, last = dotted.split(".")
    return model_at(model, tuple(sections)).model_fields[last]


def field_units(model: type[BaseModel], dotted: str) -> str:
    """Units declared with :func:`quantity` for a field, ``"1"`` for anything else."""
    extra = field_at(model, dotted).json_schema_extra
    return extra.get("units", "1") if isinstance(extra, dict) else "1"


def section_model(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside ``annotation`` (``Model``, ``Model | None``...), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found = section_model(arg)
            if found is not None:
                return found
    return None


def model_at(model: type[BaseModel], path: tuple) -> type[BaseModel] | None:
    """The section model reached by following ``path`` (field names) from ``model``."""
    for part in path:
        info = model.model_fields.get(str(part))
        if info is None:
            return None
        model = section_model(info.annotation)
        if model is None:
            return None
    return model


def check_field_path(model: type[BaseModel], dotted: str) -> str | None:
    """``None`` if ``dotted`` names a field of ``model``; otherwise why not (with a suggestion)."""
    parts = dotted.split(".")
    current: type[BaseModel] | None = model
    for i, part in enumerate(parts):
        here = ".".join(parts[:i]) or "the top level"
        if current is None:
            return f"'{'.'.join(parts[:i])}' is a value, not a section, so it has no field '{part}'"
        if part not in current.model_fields:
            hint = did_you_mean(part, current.model_fields, prefix="".join(p + "." for p in parts[:i]))
            return f"no field '{part}' in {here}{hint}"
        current = section_model(current.model_fields[part].annotation)
    return None
