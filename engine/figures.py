"""Writing a kind's figures: one way to lay out, save and close a matplotlib figure."""

from __future__ import annotations

from pathlib import Path


def save_figure(fig, path: Path, dpi: int, rect: tuple = (0, 0, 1, 1)) -> Path:
    """Lay out ``fig`` (a matplotlib figure) within ``rect`` (figure fractions left, bottom, right, top),
    write it to ``path`` at ``dpi`` and close it; returns ``path``."""
    import matplotlib.pyplot as plt

    fig.tight_layout(rect=rect)
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return path
