"""Every example spec in specs/ validates, and runs at reduced size through the real CLI."""

from pathlib import Path

import pytest

from engine.names import cf_name
from engine.plan import resolve
from engine.store import open_result

SPECS = sorted((Path(__file__).resolve().parent.parent / "specs").rglob("*.yaml"))


def test_there_are_example_specs():
    assert len(SPECS) >= 2


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: str(p.relative_to(p.parent.parent)))
def test_example_spec_runs_at_reduced_size(engine_cmd, tmp_path, spec):
    resolved = resolve(spec)
    assert resolved.points, "a spec has at least one run"
    smoke = [arg for override in resolved.kind.smoke_overrides for arg in ("--set", override)]
    result = engine_cmd("run", str(spec), *smoke, "--quiet", "--outputs", str(tmp_path / "out"))
    assert result.code == 0, result.err
    ds = open_result(tmp_path / "out" / resolved.spec.name / "result.nc")
    assert ds.attrs["engine_status"] == "complete"
    assert set(ds["run_status"].values.ravel()) == {"ok"}
    assert [ds.sizes[cf_name(a.dim)] for a in resolved.axes] == [len(a) for a in resolved.axes]
