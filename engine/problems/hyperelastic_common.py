"""What the kinds ``hyperelastic_interface`` and ``hyperelastic_device`` share: the kernels to warm up,
report and figures delegated to an analysis module, and the way a figure is written."""

from __future__ import annotations

from importlib import import_module
from pathlib import Path
from typing import ClassVar

import xarray as xr

from engine.problem import Problem


class HyperelasticProblem(Problem):
    """Base of the two kinds: ``analysis`` names the module whose ``report(result)`` and
    ``plot(result, outdir)`` the kind uses (imported on first use, so that runs do not load matplotlib)."""

    analysis: ClassVar[str]

    def warmup(self) -> None:
        """Compile the Q1 leapfrog kernels (the device runs and the interface's verification by simulation)."""
        from solvers.hyperelastic import fem

        fem.warmup()

    def report(self, result: xr.Dataset) -> str | None:
        return import_module(self.analysis).report(result)

    def plot(self, result: xr.Dataset, outdir: Path) -> list[Path]:
        return import_module(self.analysis).plot(result, outdir)


def save_figure(fig, path: Path, dpi: int, rect: tuple = (0, 0, 1, 1)) -> Path:
    """Lay out ``fig`` (a matplotlib figure) within ``rect`` (figure fractions left, bottom, right, top),
    write it to ``path`` at ``dpi`` and close it; returns ``path``."""
    import matplotlib.pyplot as plt

    fig.tight_layout(rect=rect)
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return path
