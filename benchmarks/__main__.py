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

from benchmarks import (  # noqa: E402
    bench_bgk,
    bench_bgk_closure,
    bench_boltzmann,
    bench_boltzmann_closure,
    bench_cf_tracking,
    bench_cli,
    bench_deep_linear_step,
    bench_deraining,
    bench_engine_overhead,
    bench_function_learning,
    bench_graph_learning,
    bench_hyperelastic,
    bench_moire,
    bench_threads,
)
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


def _step_section(step: dict, peak_all: float) -> list[str]:
    rows = []
    for name, label in (("numba", f"numba ({step['numba_threads']} threads)"), ("numba_1thread", "numba (1 thread)"),
                        ("torch", f"torch CPU float64 ({step['torch_threads']} threads)"), ("numpy", "numpy (plain loops)")):
        r = step["backends"][name]
        rows.append(f"| {label} | {r['seconds_per_step'] * 1e3:.3f} | {r['gflops']:.1f} | "
                    f"{r['speedup_vs_numpy']:.2f}x | {r['gflops'] / peak_all:.0%} | {r['fraction_of_matmul_rate']:.0%} |")
    numba = step["backends"]["numba"]["speedup_vs_numpy"]
    return [
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
        "loop and runs the prefix and suffix chains, and the L gradient products, on parallel threads. torch's "
        "autograd builds and walks a graph of the same products every step.",
        "",
    ]


def _executor_section(engine: dict) -> list[str]:
    first, tiny, fast = engine["overhead_100_local"], engine["overhead_200"], engine["speedup"]
    cap = fast["capacity"]
    rows = [f"| {name} | {tiny[name]['workers']} | {tiny[name]['wall_s']:.2f} | "
            f"{tiny[name]['overhead_per_run_s'] * 1e3:.1f} | {fast[name]['wall_s']:.1f} | "
            f"{fast[name]['speedup']:.2f}x | "
            f"{fast[name]['speedup'] / (cap['ratio'] if name != 'serial' else 1):.0%} | "
            f"{fast[name]['cli_wall_s']:.1f} | {fast[name]['cli_speedup']:.2f}x |"
            for name in ("serial", "local", "dask")]
    local_100 = first["local"]["overhead_per_run_s"]
    parallel = min(fast["local"]["speedup"], fast["dask"]["speedup"])
    cli = min(fast["local"]["cli_speedup"], fast["dask"]["cli_speedup"])
    dask_ms = tiny["dask"]["overhead_per_run_s"] * 1e3
    return [
        "## Executors: overhead per run and speed-up",
        "",
        "overhead per run = (sweep wall time - kind compute time / workers) / runs, on tiny `deep_linear` runs "
        "(d = 2, L = 2, 20 steps); the kind compute time is `Kind.run` on the same resolved specs in one "
        "process. It includes starting workers (processes, or a Dask LocalCluster), sending tasks, writing one "
        "netCDF file per run and combining result.nc. Speed-up: "
        f"{fast['runs']} runs of about {fast['seconds_per_run']:.2f} s each (d = 12, L = 24, "
        f"{fast['steps_per_run']} steps, one numba thread per run), wall time of serial over wall time, in two "
        "settings: `engine.sweep.run` called in the benchmark's process, whose earlier sweeps left the "
        "forkserver that local and Dask workers fork from warm (what every sweep after the first of a Python "
        "process gets), and `engine run` in a fresh process, interpreter start-up, imports and a cold "
        "forkserver included (what the command's user waits for). The "
        f"machine's limit, measured in the same turns: {cap['processes']} processes running the same kernel at once "
        f"get {cap['ratio']:.2f}x the throughput of one ({cap['one_s']:.2f} s alone, {cap['together_s']:.2f} s "
        "together); the in-process speed-up is also given over that limit. In the process the executors and the "
        "two measurements of the limit take turns three times, and each counts with its shortest wall time; "
        "through `engine run` they took turns twice, after them.",
        "",
        f"| executor | workers | {tiny['runs']} tiny runs: wall (s) | overhead per run (ms) | "
        f"{fast['runs']} runs of ~1 s: wall (s) | speed-up over serial | of the machine's limit | "
        "`engine run`: wall (s) | speed-up over serial |",
        "|---|---|---|---|---|---|---|---|---|",
        *rows,
        "",
        f"Goals: overhead under 0.1 s per run with the local executor for 100 tiny runs: measured "
        f"{local_100 * 1e3:.1f} ms ({'met' if local_100 < 0.1 else 'not met'}); speed-up at least 1.8 with 2 "
        f"workers for both parallel executors in the process, 1.7 through a fresh `engine run`: measured "
        f"{fast['local']['speedup']:.2f}x (local) and "
        f"{fast['dask']['speedup']:.2f}x (dask) in the process ({'met' if parallel >= 1.8 else 'not met'}), "
        f"{fast['local']['cli_speedup']:.2f}x and {fast['dask']['cli_speedup']:.2f}x through `engine run` "
        f"({'met' if cli >= 1.7 else 'not met'}); Dask overhead under "
        f"50 ms per run: measured {dask_ms:.1f} ms ({'met' if dask_ms < 50 else 'not met'}). Starting a worker "
        "means importing numpy, numba, xarray and pydantic, setting up numba's compiler, and the dask modules "
        "xarray imports on first use (it checks every new variable against dask's array type, and "
        "`to_netcdf` asks dask for its scheduler). A worker forked from the warm "
        "forkserver (`engine.preload`) has all of it but the kernels, and starts in a fraction of a second; "
        "the first sweep of a process pays it once, in the forkserver, while a fresh `engine run` with the "
        "serial executor pays the same imports itself. A Dask LocalCluster also starts its scheduler and "
        "nannies. The speed-up approaches the machine's limit as runs get longer or more numerous; on a "
        "shared machine the limit itself varies from one minute to the next, and so do the speed-ups.",
        "",
    ]


def render(step: dict, peak_all: float, engine: dict, cli: dict, kinds: list[list[str]]) -> str:
    versions = json.loads(provenance.environment()["engine_packages"])
    return "\n".join([
        "# Performance",
        "",
        "Written by `make bench` (`python -m benchmarks`); timings are never asserted in tests.",
        f"Machine: {os.cpu_count()} cores ({cpu_name()}), Python {versions['python']}, numpy {versions['numpy']}, "
        f"numba {versions['numba']}, torch {versions['torch']}; commit {provenance.git_commit()}, "
        f"{provenance.utc_now()}.",
        "",
        *_step_section(step, peak_all),
        *bench_cli.section(cli),
        *_executor_section(engine),
        *(line for lines in kinds for line in lines),
    ])


def main() -> None:
    step = bench_deep_linear_step.measure()
    peak_all = machine_matmul_rate()
    cli = bench_cli.measure()
    engine = bench_engine_overhead.measure()
    benches = (bench_threads, bench_bgk, bench_bgk_closure, bench_hyperelastic, bench_moire, bench_function_learning,
               bench_graph_learning, bench_cf_tracking, bench_deraining, bench_boltzmann, bench_boltzmann_closure)
    kinds = [bench.section(bench.measure()) for bench in benches]
    DOC.write_text(render(step, peak_all, engine, cli, kinds))
    print(DOC.read_text())


if __name__ == "__main__":
    main()
