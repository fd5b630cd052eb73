"""The DGL paper's performance claim, reproduced on PyTorch Geometric: one GCN layer and one GAT layer, forward
and backward, on two-block SBM graphs from 10^4 to 10^7 directed edges |E| (|E|/|V| = 10 up to 10^6 edges, 50 at
10^6 and 10^7), along PyG's per-edge message path (``edge_index``: every message x_j is stored per edge, memory
O(|E| D)) and its fused sparse path (a torch sparse CSR ``adj_t``: ``message_and_aggregate`` is one sparse-dense
product, DGL's g-SpMM, memory O(|V| D)).

Layers: ``GCNConv(64, 64, cached=True)`` (the normalized adjacency D^-1/2 (A + I) D^-1/2 computed in a warm-up
call, as in training on one graph); ``GATConv(64, 32, heads=2)`` on the per-edge path against
:class:`learners.gnn.FusedGATConv` (the same layer aggregating by one sparse product per head, the attention
(|E|, heads) still computed per edge, DGL's g-SDDMM) on the fused one; self-loops in the graph for GAT.
Graphs: :func:`solvers.graphs.sampled_sbm_edge_index` with c_in = 3 c_out, mean degree |E|/|V| = 10 and 50.

Each (layer, path) runs in its own process (``MALLOC_MMAP_THRESHOLD_`` fixed at 64 KiB, so that a freed large
tensor goes back to the system and the resident set follows the live tensors), on one torch thread, its address
space capped at MEMORY_CAP (4 GiB) above what its imports mapped: a call that needs more fails ("out of memory"
in the table), as the per-edge path does on a machine too small for its messages; a thread
samples the process's resident set size (/proc/self/statm) every 0.5 ms during the call, and the peak memory of
a call is its highest sample minus the resident set before it (the graph and the inputs already built). Time:
the shortest of ``repeat`` calls (3 up to 10^6 edges, 1 above). Expected: the per-edge/fused memory ratio grows
with |E|/|V| (the per-edge messages are |E| D floats, the fused output |V| D; the fused path keeps O(|E|)
scalars: GAT's attention (|E|, heads), the transposed adjacency of the backward product).

The width sweep: GCN at 2 x 10^5 edges with D = 64, 256 and 1024 features and |E|/|V| = 5 to 40. The ratio
follows |E|/|V| where the feature tensors outweigh the O(|E|) scalars of the adjacency, i.e. where
4 D bytes per node is large against those scalars' bytes per edge times |E|/|V|: the wider the features, the
further (D = 1024 is the regime of the paper's O(|V| D) against O(|E| D)).

Run: ``python -m benchmarks.bench_graph_learning``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

import numpy as np

FEATURES, GAT_HEADS = 64, 2
#: address space a measuring process may add after its imports [bytes]: a path that needs more fails
MEMORY_CAP = 4 * 2**30
#: (mean degree |E|/|V|, directed edges |E|) of the graphs
GRAPHS = [(10, 10**4), (10, 10**5), (10, 10**6), (50, 10**6), (50, 10**7)]
#: the width sweep (GCN): directed edges, feature widths D, mean degrees |E|/|V|
WIDTH_EDGES, WIDTHS, WIDTH_DEGREES = 2 * 10**5, (64, 256, 1024), (5, 10, 20, 40)
LAYERS, PATHS = ("gcn", "gat"), ("per_edge", "fused")
SAMPLE_SECONDS = 5e-4
CHILD_TIMEOUT = 600


def _rss() -> int:
    """Resident set size of this process [bytes]."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class PeakSampler(threading.Thread):
    """Samples the resident set size every SAMPLE_SECONDS until :meth:`stop`; ``peak`` the highest [bytes]."""

    def __init__(self):
        super().__init__(daemon=True)
        self.peak, self._done = _rss(), threading.Event()

    def run(self) -> None:
        while not self._done.is_set():
            self.peak = max(self.peak, _rss())
            time.sleep(SAMPLE_SECONDS)

    def stop(self) -> int:
        self._done.set()
        self.join()
        return max(self.peak, _rss())


def _layer(layer: str, path: str, features: int):
    from torch_geometric.nn import GATConv, GCNConv

    from learners.gnn import FusedGATConv

    if layer == "gcn":
        return GCNConv(features, features, cached=True)
    cls = FusedGATConv if path == "fused" else GATConv
    return cls(features, features // GAT_HEADS, heads=GAT_HEADS, add_self_loops=False)


def measure_one(layer: str, path: str, degree: int, edges: int, features: int = FEATURES) -> dict:
    """{"seconds", "peak_bytes", "edges", "nodes"} of forward + backward of ``layer`` on ``path`` (in this
    process), ``features`` input and output features."""
    import torch

    from learners.gnn import sparse_adjacency
    from solvers.graphs import sampled_sbm_edge_index

    n = edges // degree
    rng = np.random.default_rng(0)
    edge_index = sampled_sbm_edge_index(n, 1.5 * degree, 0.5 * degree, rng)
    if layer == "gat":
        edge_index = np.hstack([edge_index, np.tile(np.arange(n), (2, 1))])
    edge_index = torch.as_tensor(edge_index)
    adjacency = sparse_adjacency(edge_index, n) if path == "fused" else edge_index
    torch.manual_seed(0)
    conv = _layer(layer, path, features)
    x = torch.randn(n, features, requires_grad=True)
    conv(x, adjacency)   # warm-up: GCN's normalized adjacency is computed here and cached
    times, peak = [], 0
    for _ in range(3 if edges <= 10**6 else 1):
        before = _rss()
        sampler = PeakSampler()
        sampler.start()
        start = time.perf_counter()
        out = conv(x, adjacency)
        (out * out).sum().backward()
        times.append(time.perf_counter() - start)
        del out
        peak = max(peak, sampler.stop() - before)
        x.grad = None
        conv.zero_grad(set_to_none=True)
    return {"seconds": min(times), "peak_bytes": peak, "edges": int(edge_index.shape[1]), "nodes": n}


def _child(layer: str, path: str, cases: list) -> None:
    """Measure every case (mean degree, edges, features) for (layer, path) and print one JSON line per case (a
    failure as its message)."""
    import importlib
    import resource

    import torch

    importlib.import_module("learners.gnn")   # torch_geometric's layers, loaded before the cap is set

    torch.set_num_threads(1)
    with open("/proc/self/status") as f:
        mapped = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmSize:"))
    resource.setrlimit(resource.RLIMIT_AS, (mapped + MEMORY_CAP, resource.RLIM_INFINITY))
    for degree, edges, features in cases:
        try:
            result = measure_one(layer, path, degree, edges, features)
        except (MemoryError, RuntimeError) as exc:
            message = str(exc).splitlines()[0]
            result = {"error": "out of memory" if "allocate" in message or isinstance(exc, MemoryError)
                      else message[:120]}
        print(json.dumps({"degree": degree, "target_edges": edges, "features": features, **result}), flush=True)


def _measure_cases(layer: str, path: str, cases: list[tuple[int, int, int]]) -> list[dict]:
    """The rows of :func:`_child` for ``cases``, measured in a fresh process (a case it did not reach, the
    process killed, as an error row)."""
    env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": "65536", "OMP_NUM_THREADS": "1"}
    code = f"from benchmarks.bench_graph_learning import _child; _child({layer!r}, {path!r}, {cases!r})"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=CHILD_TIMEOUT)
    lines = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    if out.returncode != 0 and len(lines) < len(cases):   # killed (out of memory): the rest is missing
        reason = (out.stderr.strip().splitlines() or [f"exit status {out.returncode}"])[-1][:120]
        lines += [{"degree": d, "target_edges": e, "features": f, "error": reason} for d, e, f in cases[len(lines):]]
    return [{"layer": layer, "path": path, **line} for line in lines]


def measure() -> dict:
    """{"rows": [{layer, path, degree, target_edges, features, seconds, peak_bytes, edges, nodes} or {...,
    error}], "width_rows": the same for the width sweep (GCN), "load": (before, after) 1-minute load averages,
    "seconds": total wall time}."""
    start, load_before = time.perf_counter(), os.getloadavg()[0]
    rows = [row for layer in LAYERS for path in PATHS
            for row in _measure_cases(layer, path, [(d, e, FEATURES) for d, e in GRAPHS])]
    width_cases = [(d, WIDTH_EDGES, f) for f in WIDTHS for d in WIDTH_DEGREES]
    width_rows = [row for path in PATHS for row in _measure_cases("gcn", path, width_cases)]
    return {"rows": rows, "width_rows": width_rows, "load": (load_before, os.getloadavg()[0]),
            "seconds": time.perf_counter() - start}


def _row(rows: list[dict], layer: str, path: str, degree: int, edges: int) -> dict:
    return next(r for r in rows if (r["layer"], r["path"], r["degree"], r["target_edges"]) == (layer, path, degree,
                                                                                                edges))


def section(measured: dict) -> list[str]:
    """Markdown lines for docs/performance.md from :func:`measure`'s result."""
    rows = measured["rows"]
    lines = [
        "## graph_learning: PyG's per-edge message path against its fused sparse path (GCN, GAT)",
        "",
        f"One layer forward + backward, {FEATURES} input features (GCN {FEATURES} outputs, GAT {GAT_HEADS} heads x "
        f"{FEATURES // GAT_HEADS}), two-block SBM graphs, one torch thread, each (layer, path) in its own process; peak "
        "memory = highest resident set size sampled every 0.5 ms during the call minus the resident set before "
        f"it; each process may map {MEMORY_CAP / 2**30:.0f} GiB more than its imports (more: out of memory). "
        f"Load average {measured['load'][0]:.1f} before and {measured['load'][1]:.1f} after (1 minute, "
        f"{os.cpu_count()} cores); {measured['seconds']:.0f} s in all. Ratio = per-edge / fused.",
        "",
        "| layer | edges / nodes | edges | nodes | per-edge time (s) | fused time (s) | time ratio | "
        "per-edge peak (MB) | fused peak (MB) | memory ratio |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for layer in LAYERS:
        for degree, edges in GRAPHS:
            a, b = _row(rows, layer, "per_edge", degree, edges), _row(rows, layer, "fused", degree, edges)
            size = b if "edges" in b else a
            cells = [layer, str(degree), f"{size.get('edges', edges):.3g}", f"{size.get('nodes', edges // degree):.3g}"]
            for key, scale, fmt in (("seconds", 1.0, ".3g"), ("peak_bytes", 1e-6, ".1f")):
                va, vb = (r.get(key) for r in (a, b))
                cells += [f"{va * scale:{fmt}}" if va is not None else f"failed: {a['error']}",
                          f"{vb * scale:{fmt}}" if vb is not None else f"failed: {b['error']}"]
                cells.append(f"{va / vb:.2f}" if va is not None and vb is not None and vb > 0 else "-")
            lines.append("| " + " | ".join(cells) + " |")
    return lines + ["", *_width_section(measured["width_rows"])]


def _width_section(rows: list[dict]) -> list[str]:
    """Markdown lines of the width sweep: the per-edge/fused memory ratio of GCN against |E|/|V|, per width."""
    lines = [
        f"GCN, forward + backward at {WIDTH_EDGES:.0e} directed edges, D input and output features: per-edge / "
        "fused peak memory at each |E|/|V|, and the least-squares line ratio = slope |E|/|V| + intercept with the "
        "largest relative deviation of a measured ratio from it.",
        "",
        "| D | " + " | ".join(f"ratio at \\|E\\|/\\|V\\| = {d}" for d in WIDTH_DEGREES)
        + " | slope | intercept | largest deviation from the line |",
        "|---|" + "---|" * (len(WIDTH_DEGREES) + 3),
    ]
    for features in WIDTHS:
        ratios = []
        for degree in WIDTH_DEGREES:
            a, b = (next(r for r in rows if (r["path"], r["degree"], r["features"]) == (path, degree, features))
                    for path in PATHS)
            ratios.append(a["peak_bytes"] / b["peak_bytes"] if "peak_bytes" in a and "peak_bytes" in b else None)
        cells = [f"{r:.2f}" if r else "-" for r in ratios]
        if all(ratios):
            slope, intercept = np.polyfit(WIDTH_DEGREES, ratios, 1)
            line = slope * np.asarray(WIDTH_DEGREES) + intercept
            cells += [f"{slope:.3f}", f"{intercept:.2f}", f"{np.max(np.abs(np.asarray(ratios) / line - 1)):.1%}"]
        else:
            cells += ["-"] * 3
        lines.append(f"| {features} | " + " | ".join(cells) + " |")
    return lines + [""]


if __name__ == "__main__":
    print("\n".join(section(measure())))
