"""Progress on the terminal: a sweep bar (done / failed / ETA) and a step bar for one long run.

Bars draw on stderr only when it is a terminal and ``quiet`` is off; failures
and the final lines are printed in every case.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


class Progress:
    """Sweep progress; ``step(done, total)`` shows the steps of a single running run."""

    width = 28

    def __init__(self, total: int, quiet: bool = False, stream: TextIO | None = None):
        self.stream = stream or sys.stderr
        self.total = total
        self.done = 0
        self.failed = 0
        self.live = not quiet and self.stream.isatty()
        self.start = time.monotonic()
        self._last_draw = 0.0

    def _bar(self, fraction: float) -> str:
        filled = int(self.width * min(max(fraction, 0.0), 1.0))
        return "[" + "#" * filled + "." * (self.width - filled) + "]"

    def _draw(self, text: str, force: bool = False) -> None:
        now = time.monotonic()
        if not self.live or (not force and now - self._last_draw < 0.1):
            return
        self._last_draw = now
        self.stream.write("\r\033[K" + text)
        self.stream.flush()

    def _sweep_line(self) -> str:
        elapsed = time.monotonic() - self.start
        finished = self.done + self.failed
        eta = elapsed / finished * (self.total - finished) if finished else None
        return (f"{self._bar(finished / max(self.total, 1))} {finished}/{self.total} runs"
                f" ({self.failed} failed)  {_duration(elapsed)} elapsed"
                + (f", ETA {_duration(eta)}" if eta is not None else ""))

    def advance(self, ok: bool) -> None:
        """One more run finished."""
        if ok:
            self.done += 1
        else:
            self.failed += 1
        self._draw(self._sweep_line(), force=True)

    def step(self, done: int, total: int) -> None:
        """Progress inside one run (steps or epochs)."""
        if total > 0:
            self._draw(f"{self._bar(done / total)} step {done}/{total}")

    def message(self, text: str) -> None:
        """Print a line above the bar (always, even when quiet)."""
        if self.live:
            self.stream.write("\r\033[K")
        self.stream.write(text + "\n")
        self.stream.flush()
        if self.live and self.done + self.failed:
            self._draw(self._sweep_line(), force=True)

    def close(self) -> None:
        """Remove the bar."""
        if self.live:
            self.stream.write("\r\033[K")
            self.stream.flush()
