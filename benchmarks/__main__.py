"""Run every benchmark and write docs/performance.md: ``python -m benchmarks`` (or ``make bench``).

BLAS is limited to one thread in this process, as ``engine`` does, so that
numba's threads do not compete with spinning OpenBLAS threads; the machine's
matmul rate (all cores) is measured in a separate process without that limit.
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import json  # noqa: E402
import platform  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

from benchmarks import bench_deep_linear_step, bench_engine_overhead  # noqa: E402
from engine import provenance  # noqa: E402

DOC = Path(__file__).resolve().parent.parent / "docs" / "performance.md"


def machine_matmul_rate() -> float:
    """float64 GFLOP/s of a 1024^3 np.dot with BLAS on all cores (fresh process)."""
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    code = "from benchmarks.bench_deep_linear_step import matmul_rate; print(matmul_rate())"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parent.parent)
    return float(out.stdout.strip())


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def render(step: dict, peak_all: float, overhead: dict) -> str:
    rows = []
    for name, label in (("numba", f"numba ({step['numba_threads']} threads)"), ("numba_1thread", "numba (1 thread)"),
                        ("torch", f"torch CPU float64 ({step['torch_threads']} threads)"), ("numpy", "numpy (plain loops)")):
        r = step["backends"][name]
        rows.append(f"| {label} | {r['seconds_per_step'] * 1e3:.3f} | {r['gflops']:.1f} | "
                    f"{r['speedup_vs_numpy']:.2f}x | {r['gflops'] / peak_all:.0%} | {r['fraction_of_matmul_rate']:.0%} |")
    numba = step["backends"]["numba"]["speedup_vs_numpy"]
    local, serial = overhead["local"], overhead["serial"]
    versions = json.loads(provenance.environment()["engine_packages"])
    return "\n".join([
        "# Performance",
        "",
        "Written by `make bench` (`python -m benchmarks`); timings are never asserted in tests.",
        f"Machine: {os.cpu_count()} cores ({cpu_name()}), Python {versions['python']}, numpy {versions['numpy']}, "
        f"numba {versions['numba']}, torch {versions['torch']}; commit {provenance.git_commit()}, "
        f"{provenance.utc_now()}.",
        "",
        f"## One gradient-descent step of `deep_linear` (d = {step['dim']}, L = {step['depth']})",
        "",
        f"A step is loss + gradients + update by the prefix/suffix formula, "
        f"{step['flops_per_step'] / 1e6:.1f} MFLOP (4 L d^3 + 4 L d_y d^2 + 4 d_y d^2). The machine's float64 "
        f"matmul rate, measured in the same run (1024^3 `np.dot`): {peak_all:.1f} GFLOP/s on all cores, "
        f"{step['matmul_gflops']:.1f} GFLOP/s on one BLAS thread.",
        "",
        "| implementation | ms / step | GFLOP/s | vs numpy | of matmul rate (all cores) | of matmul rate (1 thread) |",
        "|---|---|---|---|---|---|",
        *rows,
        "",
        f"Goal: numba at least 3x the numpy version of the same formula; measured {numba:.2f}x "
        f"({'met' if numba >= 3 else 'not met'} in this run). The step is 4L small ({step['dim']}x{step['dim']}) "
        "products, each too small to reach the large-matrix rate; numba removes the Python overhead of the numpy "
        "loop and runs the prefix and suffix chains, and the L gradient products, on parallel threads. On this "
        "2-core machine two threads give about 1.5x one thread, and the ratio to numpy varies between about 2.2x "
        "and 3.8x from run to run (numpy's own time varies most). torch's autograd builds and walks a graph of "
        "the same products every step and is slower than both.",
        "",
        f"## Engine overhead per run ({overhead['runs']} tiny `deep_linear` runs)",
        "",
        "overhead per run = (sweep wall time - kind compute time / workers) / runs; the kind compute time is "
        f"`Problem.run` on the same resolved specs in one process ({overhead['compute_s']:.2f} s in all). It "
        "includes starting worker processes, sending tasks, writing one netCDF file per run and combining "
        f"result.nc. Validating all {overhead['runs']} sweep points took {overhead['validate_s']:.2f} s.",
        "",
        "| executor | workers | sweep wall time (s) | overhead per run (s) |",
        "|---|---|---|---|",
        f"| serial | 1 | {serial['wall_s']:.2f} | {serial['overhead_per_run_s']:.3f} |",
        f"| local | {local['workers']} | {local['wall_s']:.2f} | {local['overhead_per_run_s']:.3f} |",
        "",
        f"Goal: under 0.1 s per run with the local executor; measured {local['overhead_per_run_s']:.3f} s "
        f"({'met' if local['overhead_per_run_s'] < 0.1 else 'not met'}). Most of it is the start of the worker "
        "processes (each imports numpy, numba, xarray and loads the cached kernels), paid once per sweep; per run, "
        "writing and reading back the netCDF file dominates.",
        "",
    ])


def main() -> None:
    step = bench_deep_linear_step.measure()
    peak_all = machine_matmul_rate()
    overhead = bench_engine_overhead.measure()
    DOC.write_text(render(step, peak_all, overhead))
    print(DOC.read_text())


if __name__ == "__main__":
    main()
