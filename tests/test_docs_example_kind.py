"""The smallest complete kind of docs/architecture.md ("Adding a kind") works as written: its four files,
registered through an entry point from outside the repository, validate, run, resume and plot."""

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine.store import open_result

DOC = Path(__file__).resolve().parent.parent / "docs" / "architecture.md"


@pytest.fixture
def decay_kind(tmp_path):
    """The example package written from the doc into ``tmp_path/site``, registered as kind ``decay``;
    returns a function that runs ``engine`` with that package on the path."""
    section = DOC.read_text().split("## Adding a kind")[1]
    blocks = re.findall(r"```python\n# decay_kind/(\w+\.py)[^\n]*\n(.*?)```", section, flags=re.S)
    assert [name for name, _ in blocks] == ["__init__.py", "spec.py", "run.py", "analysis.py"]
    site = tmp_path / "site"
    (site / "decay_kind").mkdir(parents=True)
    for name, code in blocks:
        (site / "decay_kind" / name).write_text(code)
    entry = re.search(r'```toml\n\[project.entry-points."engine.problems"\]\n(.*?)\n```', section, flags=re.S)
    info = site / "decay_kind-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: decay_kind\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[engine.problems]\n" + entry.group(1).replace('"', "") + "\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}
    exe = str(Path(sys.executable).with_name("engine"))

    def engine(*args):
        return subprocess.run([exe, *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)

    return engine


def test_the_documented_kind_runs_to_the_exact_forward_euler_values(decay_kind, tmp_path):
    assert "decay" in decay_kind("list").stdout
    (tmp_path / "d.yaml").write_text(decay_kind("new", "decay").stdout)
    assert decay_kind("validate", "d.yaml").returncode == 0
    bad = decay_kind("validate", "d.yaml", "--set", "time.dt=3.0")
    assert bad.returncode == 2 and "time.dt: rate dt = 3 makes forward Euler unstable (expected dt < 2)" in bad.stderr
    run = decay_kind("run", "d.yaml", "--quiet", "--set", "decay.rate=2.0", "--set", "checkpoint.every_steps=1")
    assert run.returncode == 0, run.stderr
    result = next((tmp_path / "outputs").glob("*/result.nc"))
    ds = open_result(result)
    t = ds["t"].values
    np.testing.assert_allclose(t, np.linspace(0.0, 2.0, 11))
    np.testing.assert_allclose(ds["y"].values, (1.0 - 0.02) ** np.round(t / 0.01), rtol=1e-12)
    assert "final value(s):" in decay_kind("run", "d.yaml", "--set", "decay.rate=2.0").stdout  # the report
    plot = decay_kind("plot", str(result))
    assert plot.returncode == 0 and Path(plot.stdout.strip()).name == "decay.png"
