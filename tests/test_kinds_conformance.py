"""What every registered kind must do, checked the same way for each (in the spirit of scikit-learn's
``check_estimator``): the kinds of this repository and the out-of-tree test kind ``toy_decay``.

For each kind: its ``engine new`` template validates as written, writes every default but the kind's small
``template_values`` and leaves ``name`` to the spec file's stem, and its JSON Schema is a valid schema;
its smoke configurations (the template with the kind's ``smoke_overrides``, and with each of its
``smoke_variants`` besides) run and return a dataset
whose every variable and coordinate has ``units`` and ``long_name``; the run id is the same in another
process; a rerun reuses the run file; and a run with a time or training loop, stopped after its first
checkpoint, resumes to the bitwise same result.
"""

from __future__ import annotations

import json
import subprocess
import sys

import jsonschema
import pytest

from engine.kind import Analysis, Kind, RunContext
from engine.plan import resolve_text
from engine.registry import KindLoadError, get_kind, known_kinds
from engine.spec.introspect import template

KINDS = known_kinds()


def _loaded(name: str) -> Kind | None:
    """Kind ``name``, or None where it fails to load (then its own tests fail, not the collection)."""
    try:
        return get_kind(name)
    except KindLoadError:
        return None


def variants(name: str) -> tuple[str, ...]:
    """The names of the ``smoke_variants`` of kind ``name``."""
    return tuple(getattr(_loaded(name), "smoke_variants", ()))


def test_the_test_kind_is_registered_beside_the_repository_kinds():
    assert "toy_decay" in KINDS and len(KINDS) >= 8


def _template(kind: Kind) -> str:
    key, values = kind.template_sweep
    return template(kind.Spec, kind.kind, key, values, kind.template_values)


@pytest.fixture(params=KINDS)
def kind(request) -> Kind:
    return get_kind(request.param)


def smoke_overrides(name: str, variant: str) -> list[str]:
    """The ``--set`` overrides of smoke configuration ``variant`` of kind ``name`` ('' the kind's smoke run)."""
    kind = get_kind(name)
    return [*kind.smoke_overrides, *kind.smoke_variants.get(variant, ())]


#: (kind, variant) of every smoke configuration, test ids ``kind`` and ``kind-variant``
SMOKE_CASES = [pytest.param((name, variant), id=f"{name}-{variant}" if variant else name)
               for name in KINDS for variant in ("", *variants(name))]


@pytest.fixture(params=SMOKE_CASES)
def smoke_case(request) -> tuple[str, list[str]]:
    """(kind, its overrides) of one smoke configuration."""
    name, variant = request.param
    return name, smoke_overrides(name, variant)


@pytest.fixture
def smoke(smoke_case):
    """A resolved smoke run (``.kind`` its kind): a kind's template with the overrides of ``smoke_case``."""
    name, overrides = smoke_case
    resolved = resolve_text(_template(get_kind(name)), f"<{name} template>", overrides)
    assert len(resolved.points) == 1, "a template is one run (its sweep is a comment)"
    return resolved


def test_kind_declares_the_contract(kind):
    assert type(kind).kind == kind.kind and kind.version and kind.summary
    assert kind.run_function is not None or type(kind).run is not Kind.run, "a run function or an own run()"
    assert isinstance(kind.analysis, Analysis)
    for override in kind.smoke_overrides:
        assert "=" in override, override


def test_template_validates_as_written_with_every_default_and_its_schema_is_valid(kind, cli):
    text = cli("new", kind.kind).out
    assert text == _template(kind) and "# sweep:" in text
    resolved = resolve_text(text, f"<{kind.kind} template>")
    assert resolved.kind is kind and len(resolved.points) == 1
    small = [f"{path}={json.dumps(value)}" for path, value in kind.template_values.items()]
    defaults = resolve_text(f"kind: {kind.kind}\n", overrides=small).points[0]
    assert resolved.points[0].run_id == defaults.run_id, "the template writes every default but its template_values"
    schema = kind.Spec.model_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(resolved.points[0].spec.model_dump(mode="json"), schema)


def test_smoke_run_labels_every_variable_and_coordinate(smoke):
    kind, point = smoke.kind, smoke.points[0]
    ds = kind.run(point.spec, RunContext(seed=point.spec.seed, run_id=point.run_id))
    assert ds.data_vars, "a run returns variables"
    for name in [*ds.data_vars, *ds.coords]:
        attrs = ds[name].attrs
        assert attrs.get("units") and attrs.get("long_name"), f"{kind.kind}: '{name}' lacks units or long_name"
    assert "case" not in ds.dims, f"{kind.kind}: dimension 'case' is the engine's (sweep.cases) in a result file"


def test_run_id_is_the_same_in_another_process(smoke, smoke_case):
    kind = smoke.kind
    code = (f"from engine.plan import resolve_text\nfrom engine.registry import get_kind\n"
            f"from engine.spec.introspect import template\nk = get_kind({kind.kind!r})\n"
            f"print(resolve_text(template(k.Spec, k.kind, *k.template_sweep, k.template_values), 'x', "
            f"{smoke_case[1]!r}).points[0].run_id)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == smoke.points[0].run_id


def test_rerun_reuses_the_run_file(kind, cli, write_spec):
    spec = write_spec(_template(kind), name="conf")
    smoke = [a for o in kind.smoke_overrides for a in ("--set", o)]
    first = cli("run", spec, *smoke, "--executor", "serial", "--quiet")
    assert first.code == 0, first.err
    again = cli("run", spec, *smoke, "--executor", "serial", "--quiet")
    assert again.code == 0 and "0 run(s) done, 0 failed, 1 reused" in again.out, again.out


RESUMABLE = [name for name in KINDS if getattr(_loaded(name), "resumable", False)]


def test_the_kinds_with_a_time_or_training_loop_say_so():
    assert {"bgk", "bgk_closure", "deep_linear", "hyperelastic_device", "moire_exciton"} <= set(RESUMABLE)


@pytest.mark.parametrize("name", RESUMABLE)
def test_a_run_stopped_after_its_first_checkpoint_resumes_to_the_same_result(name, interrupted_and_resumed):
    kind = get_kind(name)
    spec = resolve_text(_template(kind), "<template>", list(kind.smoke_overrides)).points[0].spec
    whole, resumed, ctx = interrupted_and_resumed(kind, spec, seed=spec.seed)
    assert ctx.resumed_from is not None, "the second run started from the checkpoint"
    assert set(resumed.variables) == set(whole.variables)
    for var in whole.variables:  # no kind keeps timings in its results: every variable must match
        a, b = whole[var].values, resumed[var].values
        assert a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes(), f"{name}: {var}"


def test_engine_list_names_every_kind(cli):
    result = cli("list")
    assert result.code == 0
    assert [line.split()[0] for line in result.out.splitlines()] == KINDS


def test_schema_command_prints_the_models_schema(kind, cli):
    result = cli("schema", kind.kind)
    schema = json.loads(result.out)
    assert result.code == 0 and schema == kind.Spec.model_json_schema()
    assert schema["type"] == "object" and schema["additionalProperties"] is False
    assert {"kind", "name", "seed", "sweep"} <= set(schema["properties"])


def all_failed_sweep(kind, tmp_path) -> tuple:
    """result.nc of a sweep over the template's sweep key in which every point failed (written by the engine
    from failed outcomes; no run computed), and how many points it has."""
    from engine.runtime import RunOutcome
    from engine.sweep import SweepReport, unique_tasks, write_result

    key, values = kind.template_sweep
    text = _template(kind) + f"sweep:\n  grid:\n    {key}: {json.dumps(values)}\n"
    resolved = resolve_text(text, f"<{kind.kind} template>", list(kind.smoke_overrides))
    folder = tmp_path / "all_failed"
    failed = [RunOutcome(t.run_id, False, t.path, 0.0, "ValueError: asked to fail", label=t.label)
              for t in unique_tasks(resolved, folder)]
    return write_result(resolved, folder, SweepReport(folder, failed)), len(resolved.points)


def test_report_and_sweep_summary_of_a_sweep_whose_every_run_failed(kind, tmp_path):
    """A sweep in which every run failed (:func:`all_failed_sweep`): the kind's report and sweep summary
    answer without raising."""
    from engine.names import spec_view
    from engine.store import open_result

    path, n_points = all_failed_sweep(kind, tmp_path)
    result = spec_view(open_result(path))
    assert set(result["run_status"].values.ravel()) == {"failed"} and n_points >= 2
    report = kind.analysis.report(result)
    assert report is None or isinstance(report, str)
    summary = kind.analysis.sweep_summary(result)
    assert summary is None or all(v.isnull().all() for v in summary.data_vars.values())


def _dotted(tree: dict, path: str):
    for key in path.split("."):
        tree = tree[key]
    return tree


def test_template_leaves_the_name_to_the_spec_files_stem(kind, cli, tmp_path):
    """`engine new KIND > my.yaml` then `engine run my.yaml` puts the results in outputs/my/."""
    import yaml

    from engine.plan import resolve

    text = cli("new", kind.kind).out
    assert "name" not in yaml.safe_load(text) and "outputs/<file stem>/" in text
    (tmp_path / "my.yaml").write_text(text)
    assert resolve(tmp_path / "my.yaml").spec.name == "my"


def test_template_values_replace_paper_size_defaults_and_show_them(kind):
    """Each small template value is a field the template sets, with the default (paper size) beside it."""
    import yaml

    text = _template(kind)
    written = resolve_text(text).spec.model_dump(mode="json")
    default = resolve_text(f"kind: {kind.kind}\n").spec.model_dump(mode="json")
    expected = []
    for path, value in kind.template_values.items():
        assert _dotted(written, path) == value != _dotted(default, path), path
        expected.append((path.rsplit(".", 1)[-1], value, _dotted(default, path)))
    marked = []  # (key, value, default) of each line `key: value  # paper: default`
    for line in text.splitlines():
        if "  # paper: " in line:
            setting, paper = line.split("  # paper: ")
            key, value = setting.strip().split(": ", 1)
            marked.append((key, yaml.safe_load(value), yaml.safe_load(paper)))
    assert sorted(marked, key=str) == sorted(expected, key=str)


def test_template_values_for_fields_the_template_does_not_write_are_refused():
    model = get_kind("deep_linear").Spec
    for path in ("model", "data.n_samples", "model.widht"):  # a section, an optional section's field, a typo
        with pytest.raises(ValueError, match=rf"template values of kind 'deep_linear' for \['{path}'\]"):
            template(model, "deep_linear", "seed", [0, 1], {path: 3})


def test_every_repository_kind_estimates_the_memory_of_its_smoke_run(smoke):
    """A kind of this repository estimates a run's peak memory (the test kind need not): positive, below
    2 GiB for the smoke run, its largest part naming a field of the spec."""
    from engine.spec.base import check_field_path

    kind = smoke.kind
    estimate = kind.peak_memory(smoke.points[0].spec)
    if not type(kind).__module__.startswith("engine.kinds."):
        return
    assert estimate is not None, kind.kind
    assert 0 < estimate.nbytes < 2 * 2**30, (kind.kind, estimate)
    assert check_field_path(kind.Spec, estimate.dominant.field) is None, estimate.dominant.field
