"""Runs too big for the machine are refused at validation, from the spec, before anything is allocated.

Each case is ``engine validate`` in a fresh process (the way a user meets it): exit status 2, one line
``FILE:LINE:COL: field: this run needs about X GiB ...`` at the field that sets the largest array, and the
limit it exceeds; the same spec is valid with a larger ``--max-memory``; and validating never takes more
than a few hundred MB whatever the sizes (the peak resident memory of the validating process). One test
compares an estimate with the memory a real run takes.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap

import pytest

from engine.spec.memory import MAX_MEMORY_ENV, gib, machine_memory

#: Peak resident memory of ``engine validate`` [MB]: the interpreter, pydantic, numpy and the kind's spec.
VALIDATE_MB = 300

# The peak is VmHWM, the high-water mark of this program's own memory: ru_maxrss would also count the
# pages of the (large) pytest process it was forked from, before its exec.
_VALIDATE = """
import re, sys
from engine.cli import main
code = main(sys.argv[1:])
status = open("/proc/self/status").read()
print("peak_kb", re.search(r"VmHWM:\\s+(\\d+) kB", status).group(1), file=sys.stderr)
sys.exit(code)
"""


class Validated:
    """Exit status, error output (without the memory line) and peak resident memory [MB] of a validation."""

    def __init__(self, proc: subprocess.CompletedProcess):
        lines = proc.stderr.splitlines()
        self.code = proc.returncode
        self.peak_mb = int(lines[-1].split()[1]) / 1024
        self.err = "\n".join(lines[:-1])
        self.out = proc.stdout


@pytest.fixture
def validate(tmp_path):
    """``validate(yaml_text, *args, env={})``: ``engine validate`` of the text (written to spec.yaml) in a
    fresh process, with the memory limit of the machine unless ``args`` or ``env`` set one."""

    def run(text: str, *args: str, env: dict | None = None) -> Validated:
        path = tmp_path / "spec.yaml"
        path.write_text(textwrap.dedent(text))
        environ = {k: v for k, v in os.environ.items() if k != MAX_MEMORY_ENV} | (env or {})
        proc = subprocess.run([sys.executable, "-c", _VALIDATE, "validate", str(path), *args], cwd=tmp_path,
                              capture_output=True, text=True, timeout=120, env=environ)
        return Validated(proc)

    return run


def _needed_gib(err: str) -> float:
    return float(re.search(r"needs about ([\d,.]+) GiB", err).group(1).replace(",", ""))


def _refused(result: Validated, line: int, col: int, field: str, limit: str, source: str) -> float:
    """Assert that ``result`` is one refusal at spec.yaml:line:col of ``field``, above ``limit`` (as the
    message writes it, e.g. "8 GiB") which comes from ``source``; the GiB it says the run needs."""
    assert result.code == 2, result.out + result.err
    assert "Traceback" not in result.err
    lim, fld = re.escape(limit), re.escape(field)
    assert re.fullmatch(rf"\S*spec\.yaml:{line}:{col}: {fld}: this run needs about [\d,.]+ GiB of memory \(.+\), "
                        rf"more than the {lim} {re.escape(source)} \(expected at most {lim}: a smaller {fld}, "
                        rf"or --max-memory GIB \(or \${MAX_MEMORY_ENV}\) to allow more\)", result.err), result.err
    assert result.peak_mb < VALIDATE_MB, result.peak_mb
    needed = _needed_gib(result.err)
    assert needed > float(limit.split()[0].replace(",", ""))
    return needed


def _valid(result: Validated) -> None:
    assert result.code == 0, result.err
    assert "valid" in result.out and result.peak_mb < VALIDATE_MB, (result.out, result.peak_mb)


MACHINE = (gib(machine_memory()), "of this machine")

# (kind, spec text, line, column and field blamed): runs of terabytes, beyond any machine
HUGE = {
    "bgk": ("""\
        kind: bgk
        grid:
          n_x: 1000000
        velocity:
          n_v: 100000
        """, 3, 8, "grid.n_x"),
    "bgk_closure": ("""\
        kind: bgk_closure
        kinetic:
          grid:
            n_x: 1000000
          velocity:
            n_v: 100000
        """, 4, 10, "kinetic.grid.n_x"),
    "function_learning": ("""\
        kind: function_learning
        model:
          width: 100000000000
        """, 3, 10, "model.width"),
    "deep_linear": ("""\
        kind: deep_linear
        model:
          dim: 100000
        """, 3, 8, "model.dim"),
    "moire_exciton": ("""\
        kind: moire_exciton
        method: kmc
        grid:
          kmc:
            lattice_sites: 1000000
        """, 5, 20, "grid.kmc.lattice_sites"),
    "hyperelastic_device": ("""\
        kind: hyperelastic_device
        grid:
          h: 1.0e-5
        """, 3, 6, "grid.h"),
    "hyperelastic_interface": ("""\
        kind: hyperelastic_interface
        simulation:
          enabled: true
          points_per_wavelength: 1.0e+5
        """, 4, 26, "simulation.points_per_wavelength"),
}


@pytest.mark.parametrize("kind", sorted(HUGE))
def test_a_run_too_big_for_the_machine_is_refused_at_its_field_and_allowed_by_max_memory(kind, validate):
    text, line, col, field = HUGE[kind]
    needed = _refused(validate(text), line, col, field, *MACHINE)
    _valid(validate(text, "--max-memory", f"{2 * needed:.0f}"))


def test_hyperelastic_validation_builds_no_grid_at_a_fine_spacing(validate):
    """h = 2e-3 (48 million nodes) is refused under 8 GiB, valid above its estimate, in a small process;
    so is a bend, whose homogeneous run has a grid of its own (estimated from bounded probes)."""
    cloak = "kind: hyperelastic_device\ngrid:\n  h: 2.0e-3\n"
    needed = _refused(validate(cloak, "--max-memory", "8"), 3, 6, "grid.h", "8 GiB", "set by --max-memory")
    assert 10 < needed < 100      # 3 simulations of 8001 x 6001 nodes
    _valid(validate(cloak, "--max-memory", "200"))
    bend = ("kind: hyperelastic_device\ngrid: {x: [-6.0, 6.0], y: [-6.0, 8.0], h: 2.0e-3}\n"
            "device: {type: bend, width: 2.0, angle_deg: 30.0}\n")
    _refused(validate(bend, "--max-memory", "8"), 2, 43, "grid.h", "8 GiB", "set by --max-memory")
    _valid(validate(bend, "--max-memory", "200"))


def test_the_environment_variable_sets_the_limit_and_the_option_wins(validate):
    text = "kind: deep_linear\nmodel:\n  dim: 10000\n"   # about 36 GiB
    _refused(validate(text, env={MAX_MEMORY_ENV: "2.5"}), 3, 8, "model.dim", "2.5 GiB", f"set by ${MAX_MEMORY_ENV}")
    _valid(validate(text, env={MAX_MEMORY_ENV: "1000"}))
    _valid(validate(text, "--max-memory", "1000", env={MAX_MEMORY_ENV: "2.5"}))
    bad = validate(text, env={MAX_MEMORY_ENV: "lots"})
    assert bad.code == 2 and f"{MAX_MEMORY_ENV}: {MAX_MEMORY_ENV}='lots' is not a positive number" in bad.err
    bad = validate(text, "--max-memory", "0")
    assert bad.code == 2 and "--max-memory: 0.0 GiB is not a positive amount" in bad.err


def test_sweep_points_too_big_are_reported_once_each_at_the_sweep_value(validate):
    text = """\
        kind: deep_linear
        sweep:
          grid:
            model.dim: [5, 20000, 40000]
            seed: [0, 1]
        """
    result = validate(text, "--max-memory", "4")
    assert result.code == 2
    lines = result.err.splitlines()
    assert len(lines) == 2, result.err      # one per distinct problem, not one per seed
    for line, (col, point, dim, needed) in zip(lines, ((20, 3, 20000, 143), (27, 5, 40000, 572))):
        assert re.match(rf"\S*spec\.yaml:4:{col}: model\.dim: sweep point {point} of 6 \(model\.dim={dim}, "
                        rf"seed=0\): this run needs about {needed} GiB of memory \(weights \(L=8, d={dim}, {dim}\) x 6",
                        line), line
        assert "more than the 4 GiB set by --max-memory" in line


# the same bgk run at two sizes: the difference of their peak memory (VmHWM, as above) is the moderate run's arrays
_MEASURE = """
import json, re, sys
from engine.cli import main
from engine.plan import resolve
peaks, estimates = [], []
for path in sys.argv[1:]:
    assert main(["run", path, "--executor", "serial", "--quiet", "--outputs", "out", "--force"]) == 0
    peaks.append(int(re.search(r"VmHWM:\\s+(\\d+) kB", open("/proc/self/status").read()).group(1)) * 1024.0)
    resolved = resolve(path)
    estimates.append(resolved.kind.peak_memory(resolved.points[0].spec).nbytes)
print(json.dumps({"peaks": peaks, "estimates": estimates}))
"""


def test_the_bgk_estimate_is_close_to_the_memory_a_run_takes(tmp_path):
    """A run with its distribution saved (11 times 8 MB, about 0.2 GiB in all) after a tiny one that loads
    the libraries: the growth of the peak resident memory is within 0.3x..3x of the growth of the estimate."""
    paths = []
    for n in (20, 1000):
        path = tmp_path / f"bgk{n}.yaml"
        path.write_text(f"kind: bgk\nname: bgk{n}\ngrid: {{n_x: {n}}}\nvelocity: {{n_v: 1000}}\n"
                        "time: {t_final: 0.001}\noutput: {distribution: true}\n")
        paths.append(str(path))
    proc = subprocess.run([sys.executable, "-c", _MEASURE, *paths], cwd=tmp_path, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout.splitlines()[-1])
    measured = got["peaks"][1] - got["peaks"][0]
    estimated = got["estimates"][1] - got["estimates"][0]
    assert 0.3 * estimated < measured < 3.0 * estimated, (measured / 2**20, estimated / 2**20)


def test_a_fixed_moire_time_step_on_a_huge_grid_is_refused_for_memory_without_building_it(validate):
    """With ``dt_ps`` fixed, validation checks it against the stability bound of the solver system it builds,
    but only for a run of at most 256 MiB: a larger grid is never built while validating (the memory check
    refuses this one), and a run of it checks the step when it starts."""
    text = ("kind: moire_exciton\nmethod: resolved\ngrid:\n  resolved:\n    cells_x: 3000\n    cells_y: 3000\n"
            "    dt_ps: 1.0e-6\n")
    _refused(validate(text), 6, 14, "grid.resolved.cells_y", *MACHINE)


def test_a_fixed_time_step_above_the_stability_bound_fails_the_run_that_checks_it():
    from engine.kind import RunFailed
    from engine.kinds.moire_exciton.run.methods import _time_step

    assert _time_step(None, 2.0, "grid.resolved.dt_ps", "ps") < 2.0
    assert _time_step(1.0, 2.0, "grid.resolved.dt_ps", "ps") == 1.0
    with pytest.raises(RunFailed, match=r"grid\.resolved\.dt_ps: dt_ps = 3 is above the explicit stability bound 2 ps"):
        _time_step(3.0, 2.0, "grid.resolved.dt_ps", "ps")
