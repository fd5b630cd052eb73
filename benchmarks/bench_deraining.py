"""The deraining paper's speed claim (group convolution with feature sharing about an order of magnitude
faster, arXiv:1911.10810), measured on this CPU: the CPU time of one forward pass of
:class:`learners.derain_net.DerainNet` (width 16, 1 block, the deraining kind's defaults) per megapixel of a
512 x 512 grey image, for groups 1 and 4, without and with feature sharing (the channel shuffle between the
grouped convolutions), on torch's default threads and on one thread.

Beside each time, the network's deterministic cost from the same objects (parameters, multiply-adds per
megapixel, as the kind's result holds them), so the measured speed-up of groups 4 over groups 1 can be read
against the ratio of multiply-adds it would have if time followed them. Time: the best of ``REPEAT`` calls,
the variants taking turns (a busy spell of a shared machine does not fall on one of them only); the 1-minute
load average before and after. Timings live here and in docs, never in results or tests.

Run: ``python -m benchmarks.bench_deraining``.
"""

from __future__ import annotations

import os
import time

import numpy as np
import torch

from learners.derain_net import DerainNet, multiply_adds
from learners.training import torch_threads

SIDE = 512
WIDTH, BLOCKS = 16, 1
VARIANTS = [(1, False), (1, True), (4, False), (4, True)]
REPEAT = 5
MEGAPIXEL = 1e6


def _networks() -> dict[tuple[int, bool], DerainNet]:
    torch.manual_seed(0)
    return {(g, share): DerainNet(1, WIDTH, BLOCKS, g, share).eval() for g, share in VARIANTS}


def _seconds(models: dict, image: torch.Tensor) -> dict:
    """{variant: best forward seconds}, the variants taking turns for ``REPEAT`` rounds after one warm-up."""
    best = {key: np.inf for key in models}
    with torch.no_grad():
        for model in models.values():
            model(image)
        for _ in range(REPEAT):
            for key, model in models.items():
                tic = time.perf_counter()
                model(image)
                best[key] = min(best[key], time.perf_counter() - tic)
    return best


def measure() -> dict:
    """{"rows": {(groups, share): {"parameters", "multiply_adds" (per megapixel), "default" and "single"
    (CPU seconds per megapixel)}}, "threads": torch's default thread count, "load": (before, after)}."""
    models = _networks()
    image = torch.rand(1, 1, SIDE, SIDE, generator=torch.Generator().manual_seed(0))
    per_megapixel = MEGAPIXEL / SIDE**2
    load_before = os.getloadavg()[0]
    default = _seconds(models, image)
    with torch_threads(1):
        single = _seconds(models, image)
    rows = {}
    for key, model in models.items():
        rows[key] = {"parameters": sum(p.numel() for p in model.parameters()),
                     "multiply_adds": multiply_adds(model, tuple(image.shape)) * per_megapixel,
                     "default": default[key] * per_megapixel, "single": single[key] * per_megapixel}
    return {"rows": rows, "threads": torch.get_num_threads(), "load": (load_before, os.getloadavg()[0])}


def section(measured: dict) -> list[str]:
    """Markdown lines for docs/performance.md from :func:`measure`'s result."""
    rows = measured["rows"]
    plain = rows[(1, False)]
    lines = [
        "## deraining: grouped vs plain convolution (CPU time per megapixel)",
        "",
        f"One forward pass of the deraining network (width {WIDTH}, {BLOCKS} block per body) on a {SIDE} x {SIDE} "
        f"grey image, best of {REPEAT}, per megapixel; torch default threads ({measured['threads']}) and 1 thread; "
        f"load average {measured['load'][0]:.1f} before and {measured['load'][1]:.1f} after (1 minute, "
        f"{os.cpu_count()} cores). Speed-up = time of groups 1 without sharing / time of the row; "
        "multiply-add ratio = the same for the multiply-adds (what the speed-up would be if time followed them).",
        "",
        "| groups | feature sharing | parameters | multiply-adds per Mpx | ms per Mpx (default) | speed-up | "
        "ms per Mpx (1 thread) | speed-up | multiply-add ratio |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for (groups, share), row in rows.items():
        lines.append(f"| {groups} | {'yes' if share else 'no'} | {row['parameters']:,} | {row['multiply_adds']:.3g} | "
                     f"{1e3 * row['default']:.1f} | {plain['default'] / row['default']:.2f} | "
                     f"{1e3 * row['single']:.1f} | {plain['single'] / row['single']:.2f} | "
                     f"{plain['multiply_adds'] / row['multiply_adds']:.2f} |")
    return lines + [""]


if __name__ == "__main__":
    print("\n".join(section(measure())))
