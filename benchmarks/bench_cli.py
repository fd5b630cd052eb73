"""Start-up of the ``engine`` command: what a user waits for before and after the work.

Median wall time, over interleaved turns, of fresh processes: a bare ``python -c "import pydantic, yaml"``
(the floor of any command that reads a spec), ``engine list``, ``engine validate specs/bgk/sod.yaml``,
and ``engine run`` on a one-run spec minus the run itself (the run's own ``engine_wall_time_s``, as the
engine measured it inside ``Kind.run``), with the serial executor and a fresh results folder each turn.
"""

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.timing import ROOT

ENGINE = str(Path(sys.executable).with_name("engine"))
ONE_RUN = """\
kind: deep_linear
name: one
model: {dim: 2, depth: 2}
optimizer: {max_steps: 20}
"""


def _wall(argv: list[str]) -> float:
    tic = time.perf_counter()
    subprocess.run(argv, cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - tic


def _run_overhead(folder: Path, turn: int) -> float:
    """Wall time of ``engine run`` of the one-run spec minus the run's own wall time."""
    from engine.store import open_result

    out = folder / f"out{turn}"
    wall = _wall([ENGINE, "run", str(folder / "one.yaml"), "--executor", "serial", "--quiet", "--outputs", str(out)])
    run_file = next((out / "one" / "runs").glob("*.nc"))
    return wall - float(open_result(run_file).attrs["engine_wall_time_s"])


def measure(turns: int = 9) -> dict:
    """Median seconds of each command over ``turns`` interleaved turns (one warm-up turn not counted)."""
    commands = {
        "bare_import": [sys.executable, "-c", "import pydantic, yaml"],
        "models_floor": [sys.executable, "-c", "import numpy, yaml; from pydantic import BaseModel"],
        "list": [ENGINE, "list"],
        "validate": [ENGINE, "validate", "specs/bgk/sod.yaml"],
    }
    times: dict[str, list[float]] = {name: [] for name in [*commands, "run_overhead"]}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "one.yaml").write_text(ONE_RUN)
        for turn in range(turns + 1):
            for name, argv in commands.items():
                times[name].append(_wall(argv))
            times["run_overhead"].append(_run_overhead(folder, turn))
    median = {name: statistics.median(values[1:]) for name, values in times.items()}
    return {"turns": turns, "median_s": median,
            "ratio_to_bare": {name: median[name] / median["bare_import"] for name in ("list", "validate")}}


def section(result: dict) -> list[str]:
    m, r = result["median_s"], result["ratio_to_bare"]
    return [
        "## Start-up of the `engine` command",
        "",
        f"Median wall time of fresh processes over {result['turns']} interleaved turns "
        "(`benchmarks/bench_cli.py`). The floor is a bare `python -c \"import pydantic, yaml\"`; `engine run` is "
        "measured on a one-run `deep_linear` spec with the serial executor, minus the run's own wall time, so it "
        "is what the command adds before and after the work (imports, validation, writing the run file and "
        "result.nc, the summary).",
        "",
        "| command | median wall (s) | over the bare import |",
        "|---|---|---|",
        f"| `python -c \"import pydantic, yaml\"` | {m['bare_import']:.3f} | 1.00x |",
        f"| `python -c \"import numpy, yaml; from pydantic import BaseModel\"` | {m['models_floor']:.3f} | "
        f"{m['models_floor'] / m['bare_import']:.2f}x |",
        f"| `engine list` | {m['list']:.3f} | {r['list']:.2f}x |",
        f"| `engine validate specs/bgk/sod.yaml` | {m['validate']:.3f} | {r['validate']:.2f}x |",
        f"| `engine run` (one run) minus the run | {m['run_overhead']:.3f} | "
        f"{m['run_overhead'] / m['bare_import']:.2f}x |",
        "",
        "Goals: `engine list` and `engine validate` under 3x the bare import: "
        + ", ".join(f"{name} {r[name]:.2f}x ({'met' if r[name] < 3 else 'not met'})" for name in ("list", "validate"))
        + f"; under 0.6 s: {'met' if max(m['list'], m['validate']) < 0.6 else 'not met'} in this run. "
        "`import pydantic` alone loads no model machinery (pydantic imports `BaseModel` on first use), so the "
        "second row is the floor of any command that builds spec models: pydantic's `BaseModel` and numpy, "
        "which the kinds' validators use.",
        "",
    ]


if __name__ == "__main__":
    print("\n".join(section(measure())))
