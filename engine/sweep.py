"""Running a resolved spec: plan (resume), execute, report failures, combine into result.nc.

Layout under the results root (default ``outputs/``)::

    <name>/spec.yaml        the resolved spec (defaults filled, sweep kept)
    <name>/runs/<id>.nc     one file per run, written atomically
    <name>/result.nc        the sweep combined, sweep keys as dimensions
    <name>/engine.log       what ran, and the full traceback of every failure
"""

from __future__ import annotations

import contextlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import xarray as xr

from engine import provenance
from engine.atomic import OutputError, writing
from engine.executors import make_executor
from engine.progress import Progress
from engine.runtime import RunOutcome, RunTask, output_path
from engine.spec.base import field_at, field_units
from engine.plan import Resolved
from engine.spec.errors import SpecError
from engine.combine import combine, sweep_coords
from engine.names import SPEC_PATH_ATTR, to_file_names
from engine.store import move_aside, remove_stale_tmp, run_file_problem, write_atomic, write_text_atomic


@dataclass
class SweepReport:
    """What happened: outcomes of the runs executed now, runs reused, failures, result file."""

    folder: Path
    outcomes: list[RunOutcome] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    result: Path | None = None
    write_error: str | None = None  # the first file of the outputs that could not be written, and why

    @property
    def failures(self) -> list[RunOutcome]:
        return [o for o in self.outcomes if not o.ok]


class _LogFile(logging.FileHandler):
    """``engine.log``. A record that cannot be written (a full disk) is dropped rather than printed to
    stderr with a traceback: a failure to write the outputs is reported once, as the command's result."""

    def handleError(self, record: logging.LogRecord) -> None:
        pass

    def flush(self) -> None:
        with contextlib.suppress(OSError):
            super().flush()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            super().close()


def _logger(folder: Path) -> logging.Logger:
    log = logging.getLogger(f"engine.sweep.{folder}")
    log.setLevel(logging.INFO)
    log.propagate = False
    if not log.handlers:
        with writing(folder / "engine.log"):
            handler = _LogFile(folder / "engine.log", encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        log.addHandler(handler)
    return log


def _close_logger(log: logging.Logger) -> None:
    for handler in list(log.handlers):
        handler.close()
        log.removeHandler(handler)


def unique_tasks(resolved: Resolved, folder: Path, force: bool = False) -> list[RunTask]:
    """One task per distinct run id (two sweep points with the same physics run once); ``force``:
    computed even where a valid run file exists."""
    env = provenance.environment()
    tasks: dict[str, RunTask] = {}
    for point in resolved.points:
        if point.run_id not in tasks:
            tasks[point.run_id] = RunTask(
                resolved.kind.kind, point.spec.model_dump(mode="json"), point.run_id,
                str(output_path(folder, point.run_id)), point.label or "single run", env, force,
            )
    return list(tasks.values())


def run(
    resolved: Resolved,
    root: Path,
    *,
    executor: str | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    force: bool = False,
    fail_fast: bool = False,
    quiet: bool = False,
) -> SweepReport:
    """Run every point of ``resolved`` not already done, then write ``result.nc``.

    The executor is started (a Dask scheduler reached) before anything is
    written.  Raises ``KeyboardInterrupt`` after cleaning up if interrupted;
    finished runs are kept and no temporary file is left behind. A run file that cannot be written
    (full disk) stops the sweep like ``fail_fast``; that failure, or one to write result.nc, is
    ``report.write_error``. Raises :class:`~engine.atomic.OutputError` if the results folder itself
    cannot be made or written.
    """
    folder = Path(root) / resolved.spec.name
    _refuse_links_out(Path(root), folder)
    report = SweepReport(folder)
    tasks = unique_tasks(resolved, folder, force)
    unusable = {} if force else _unusable_run_files(tasks)
    todo = [t for t in tasks if force or Path(t.path) in unusable or not Path(t.path).exists()]
    to_run = {t.run_id for t in todo}
    report.reused = [t.run_id for t in tasks if t.run_id not in to_run]
    progress = Progress(len(todo), quiet=quiet)
    log = None
    try:
        with contextlib.ExitStack() as pool:
            ex = None
            if todo:
                name = executor or ("dask" if scheduler else "local" if len(todo) > 1 else "serial")
                ex = pool.enter_context(make_executor(name, workers, len(todo), scheduler))
                ex.start_workers(resolved.kind.kind)
            log = _prepare_folder(resolved, folder)
            _move_aside(unusable, log)
            log.info("spec %s: %d runs, %d to do, %d reused", resolved.source, len(tasks), len(todo),
                     len(report.reused))
            if ex is not None:
                log.info("executor %s with %d worker(s)", ex.name, ex.workers)
                ex.note = lambda message: (log.warning(message), progress.message(message))
                _collect(ex, todo, report, progress, log, fail_fast)
        progress.close()
        _write_result(resolved, folder, report, log)
    except KeyboardInterrupt:
        progress.close()
        if log is not None:
            log.warning("interrupted; %d runs finished before", sum(o.ok for o in report.outcomes))
        raise
    finally:
        if log is not None:
            remove_stale_tmp(folder / "runs")
            remove_stale_tmp(folder)
            _close_logger(log)
    return report


def _refuse_links_out(root: Path, folder: Path) -> None:
    """Raise :class:`SpecError` if the results folder or its ``runs/`` is a symbolic link that leads out of
    the outputs folder ``root`` (the engine writes and deletes only inside it; ``root`` may be a link)."""
    inside = root.resolve()
    for path in (folder, folder / "runs"):
        if path.is_symlink() and not path.resolve().is_relative_to(inside):
            raise SpecError(str(path), 0, 0, "results folder", f"a symbolic link to {path.resolve()}, out of the "
                            f"outputs folder {root}/; the engine writes and deletes only inside it (make it a "
                            f"folder, or choose --outputs instead)")


def _unusable_run_files(tasks: list[RunTask]) -> dict[Path, str]:
    """The existing run files that cannot be reused (:func:`engine.store.run_file_problem`), with why."""
    problems = {Path(t.path): run_file_problem(Path(t.path), t.run_id) for t in tasks if Path(t.path).exists()}
    return {path: problem for path, problem in problems.items() if problem is not None}


def _move_aside(unusable: dict[Path, str], log: logging.Logger) -> None:
    """Rename each unusable run file to ``<id>.nc.bad`` (the run is computed again) and log why."""
    for path, problem in unusable.items():
        if not path.exists():  # another engine process moved it aside meanwhile
            continue
        log.warning("run file %s is not reused (%s): moved to %s; the run is computed again",
                    path, problem, move_aside(path).name)


def _write_result(resolved: Resolved, folder: Path, report: SweepReport, log: logging.Logger) -> None:
    """:func:`write_result` into ``report.result``, or the reason it cannot be written into ``report.write_error``."""
    try:
        report.result = write_result(resolved, folder, report)
    except OutputError as exc:
        log.error("%s", exc)
        report.write_error = report.write_error or str(exc)
        return
    log.info("result written to %s", report.result)


def _prepare_folder(resolved: Resolved, folder: Path) -> logging.Logger:
    """Create the results folder, clear stale temporary files, write spec.yaml; return its log."""
    with writing(folder / "runs"):
        (folder / "runs").mkdir(parents=True, exist_ok=True)
    remove_stale_tmp(folder / "runs")
    write_text_atomic(provenance.spec_yaml(resolved.spec.model_dump(mode="json", exclude_none=True)), folder / "spec.yaml")
    return _logger(folder)


def _collect(ex, todo, report: SweepReport, progress: Progress, log: logging.Logger, fail_fast: bool) -> None:
    """Take outcomes as they complete: count, log, report failures at once, stop early on --fail-fast
    or at the first run file that cannot be written."""
    for outcome in ex.run(todo, progress.step if len(todo) == 1 else None):
        report.outcomes.append(outcome)
        progress.advance(outcome.ok)
        for line in outcome.messages:
            log.info("run %s: %s", outcome.run_id, line)
        if outcome.ok:
            log.info("run %s (%s) done in %.3f s", outcome.run_id, outcome.label, outcome.wall_time)
            continue
        log.error("run %s (%s) failed: %s\n%s", outcome.run_id, outcome.label, outcome.reason, outcome.traceback)
        if outcome.unwritten:  # the outputs cannot take more: stop computing what cannot be kept
            report.write_error = outcome.reason
            log.error("stopping: a run file cannot be written")
            break
        progress.message(f"FAILED run {outcome.run_id} ({outcome.label}): {outcome.reason}")
        if fail_fast:
            progress.message("stopping at the first failure (--fail-fast)")
            break


def _status_array(resolved: Resolved, shape: tuple[int, ...], status: dict[str, str]) -> tuple[np.ndarray, np.ndarray]:
    ids = np.full(shape, "", dtype=object)
    states = np.full(shape, "", dtype=object)
    for point in resolved.points:
        ids[point.index] = point.run_id
        states[point.index] = status[point.run_id]
    return ids, states


def _run_files(resolved: Resolved, folder: Path, failed: set[str]) -> tuple[dict[tuple[int, ...], Path], dict[str, str]]:
    """The run file of every sweep point that has one (by sweep index), and each run's status
    (ok, failed, or not run: no file and no outcome, e.g. after --fail-fast or an interrupted run)."""
    files, status = {}, {}
    for point in resolved.points:
        path = output_path(folder, point.run_id)
        if point.run_id in failed:
            status[point.run_id] = "failed"
        elif not path.exists():
            status[point.run_id] = "not run"
        else:
            status[point.run_id] = "ok"
            files[point.index] = path
    return files, status


def write_result(resolved: Resolved, folder: Path, report: SweepReport) -> Path:
    """Combine the run files of every point into ``folder/result.nc`` (read one at a time); the points
    without one are missing values, their status in ``run_status``. The kind's sweep summary sees the
    sweep keys as dotted spec paths; the file names them :func:`engine.names.to_file_names`."""
    failed = {o.run_id: o for o in report.failures}
    files, status = _run_files(resolved, folder, set(failed))
    dims = [a.dim for a in resolved.axes]
    shape = tuple(len(a) for a in resolved.axes)
    ds, uncombined = combine(files, shape, dims)
    ids, states = _status_array(resolved, shape, status)
    ds["run_id"] = xr.Variable(dims, ids.astype(str), {"long_name": "run id (file runs/<run_id>.nc)", "units": "1"})
    ds["run_status"] = xr.Variable(dims, states.astype(str), {"long_name": "run status (ok, failed, not run)", "units": "1"})
    ds = ds.assign_coords({k: v for k, v in sweep_coords(resolved.axes, resolved.points).items()})
    model = resolved.kind.Spec
    for axis in resolved.axes:
        for key in axis.keys:
            info = field_at(model, key)
            ds[key].attrs.update(units=field_units(model, key), long_name=info.title or key.rpartition(".")[2],
                                 description=f"{info.description or key} (sweep key {key})", **{SPEC_PATH_ATTR: key})
    if "case" in ds.coords:
        ds["case"].attrs.update(units="1", long_name="index of the case in sweep.cases")
    summary = resolved.kind.analysis.sweep_summary(ds) if files else None
    if summary is not None:
        ds = ds.merge(summary)
    kind = resolved.kind
    ds.attrs = {
        **provenance.attributes(kind, resolved.spec.model_dump(mode="json", exclude_none=True),
                                f"{resolved.spec.name}: {kind.kind} sweep of {len(resolved.points)} run(s)"),
        "engine_sweep_dims": json.dumps(dims),
        "engine_n_runs": len({p.run_id for p in resolved.points}),
        "engine_n_failed": len(failed),
        "engine_failures": json.dumps({rid: o.reason for rid, o in failed.items()}),
        "engine_uncombined": json.dumps(uncombined),
        "engine_status": "complete" if not failed and "not run" not in status.values() else "partial",
    }
    if not dims and files:
        ds.attrs["engine_run_id"] = resolved.points[0].run_id
    return write_atomic(to_file_names(ds), folder / "result.nc")
