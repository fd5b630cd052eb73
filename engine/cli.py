"""The ``engine`` command: run, validate, new, schema, list, show, plot, reference.

Exit status: 0 success; 1 some runs failed (the rest completed); 2 a spec or
command-line error (printed as ``FILE:LINE:COL: field: problem (expected)``);
3 the outputs could not be written (full disk, read-only or not permitted: ``cannot write PATH:
REASON``; finished runs are kept); 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import traceback
from pathlib import Path

from engine.atomic import OutputError, writing
from engine.spec.errors import SpecError

EXIT_FAILED_RUNS, EXIT_SPEC, EXIT_WRITE, EXIT_INTERRUPTED = 1, 2, 3, 130


def _add_spec_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("spec", help="path to a YAML spec")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE",
                   help="override a field, e.g. --set model.depth=16 (value parsed as YAML; repeatable)")
    p.add_argument("--max-runs", type=int, default=None, metavar="N",
                   help="refuse a sweep of more than N run points (default: 100000)")
    p.add_argument("--max-memory", type=float, default=None, metavar="GIB",
                   help="refuse a run whose estimated peak memory exceeds GIB GiB (default: $ENGINE_MAX_MEMORY_GIB, "
                   "else the memory of this machine)")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="engine", description="Run declarative simulation specs.")
    parser.add_argument("--debug", action="store_true", help="show Python tracebacks for errors")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("run", help="run a spec (all points of its sweep); results under outputs/<name>/")
    _add_spec_args(p)
    p.add_argument("--outputs", default=os.environ.get("ENGINE_OUTPUTS", "outputs"),
                   help="results root (default: ./outputs, or $ENGINE_OUTPUTS)")
    p.add_argument("--executor", choices=["serial", "local", "dask"], default=None,
                   help="where runs execute (default: dask if a scheduler is given, else local processes for "
                   "more than one run, else serial)")
    p.add_argument("--workers", type=int, default=None,
                   help="number of worker processes (default: cores; for dask: of the LocalCluster it starts)")
    p.add_argument("--scheduler", default=os.environ.get("ENGINE_DASK_SCHEDULER") or None, metavar="ADDRESS",
                   help="address of a running Dask scheduler, e.g. tcp://host:8786 (default: "
                   "$ENGINE_DASK_SCHEDULER); implies --executor dask")
    p.add_argument("--force", action="store_true", help="recompute runs whose files already exist")
    p.add_argument("--fail-fast", action="store_true", help="stop at the first failed run")
    p.add_argument("--quiet", action="store_true", help="no progress bar and no summary")
    p.add_argument("--plot", action="store_true",
                   help="then write the kind's standard figures (PNG) to <result folder>/figures and print their paths")

    p = sub.add_parser("validate", help="check a spec and every sweep point without running anything")
    _add_spec_args(p)
    p = sub.add_parser("new", help="print a commented template spec for a kind")
    p.add_argument("kind")
    p = sub.add_parser("schema", help="print the JSON Schema of a kind's spec")
    p.add_argument("kind")
    sub.add_parser("list", help="list the problem kinds")
    p = sub.add_parser("show", help="describe a result file: dimensions, variables, provenance, failures")
    p.add_argument("path")
    p = sub.add_parser("plot", help="write the kind's standard figures (PNG) for a result file")
    p.add_argument("path")
    p.add_argument("--outdir", default=None, help="folder for the figures (default: <result folder>/figures)")
    sub.add_parser("reference", help="print docs/spec-reference.md (generated from the spec models)")
    return parser


def _check_thread_setting() -> None:
    """Raise :class:`SpecError` for an ``ENGINE_THREADS`` that is neither ``auto`` nor a positive integer."""
    from engine import threads

    try:
        threads.requested(threads.AUTO)
    except ValueError as exc:
        raise SpecError(threads.THREADS_ENV, 0, 0, "environment", str(exc)) from None


def cmd_validate(args) -> int:
    from engine.plan import resolve

    _check_thread_setting()

    resolved = resolve(args.spec, args.overrides, args.max_runs, args.max_memory)
    n = len(resolved.points)
    ids = len({p.run_id for p in resolved.points})
    print(f"{args.spec}: valid {resolved.kind.kind} spec, {n} run point(s), {ids} distinct run(s)")
    return 0


def _start_forkserver(args, resolved) -> None:
    """Start the workers' forkserver (:mod:`engine.forkserver`) for the validated spec ``resolved``,
    before this process's own heavy imports so that the two overlap, when the run will likely use
    local or LocalCluster workers: ``--executor local`` or ``dask`` without a scheduler, or no
    executor given and more than one distinct run (the default is then local processes). Only a
    valid spec starts it: the server outlives its client by as long as its imports take."""
    from engine import forkserver

    if args.scheduler or args.executor == "serial" or not forkserver.available():
        return
    if args.executor is None and len({p.run_id for p in resolved.points}) < 2:
        return
    forkserver.start(resolved.kind.kind)


def cmd_run(args) -> int:
    from engine.plan import resolve

    _check_thread_setting()

    resolved = resolve(args.spec, args.overrides, args.max_runs, args.max_memory)
    _start_forkserver(args, resolved)
    from engine import sweep
    from engine.report import scalar_table
    from engine.names import spec_view
    from engine.store import open_result

    report = sweep.run(resolved, Path(args.outputs), executor=args.executor, workers=args.workers,
                       scheduler=args.scheduler, force=args.force, fail_fast=args.fail_fast, quiet=args.quiet)
    done = sum(o.ok for o in report.outcomes)
    failures = [o for o in report.failures if not o.unwritten]  # an unwritten run is the write error below
    print(f"{args.spec}: {done} run(s) done, {len(failures)} failed, {len(report.reused)} reused "
          f"from earlier; results in {report.folder}/")
    if report.result is not None:
        print(f"result: {report.result}")
    # read once, for the report and the figures
    ds = spec_view(open_result(report.result)) if report.result is not None and (args.plot or not args.quiet) else None
    if not args.quiet and ds is not None:
        text = resolved.kind.analysis.report(ds) or scalar_table(ds)
        if text:
            print(text)
    if failures:
        print(f"{len(failures)} run(s) failed (tracebacks in {report.folder / 'engine.log'}):", file=sys.stderr)
        for o in failures:
            print(f"  {o.run_id} ({o.label}): {o.reason}", file=sys.stderr)
    if report.write_error:
        kept = done + len(report.reused)
        print(f"{report.write_error}; the {kept} finished run(s) are kept in {report.folder / 'runs'}/: make room "
              f"(or choose --outputs) and run the same command again to resume", file=sys.stderr)
        return EXIT_WRITE
    if args.plot and report.result is not None and done + len(report.reused) > 0:
        write_figures(str(report.result), result=ds)
    return EXIT_FAILED_RUNS if failures else 0


def cmd_new(args) -> int:
    from engine.plan import kind_named
    from engine.spec.introspect import template

    kind = kind_named(args.kind)
    key, values = kind.template_sweep
    print(template(kind.Spec, kind.kind, key, values, kind.template_values), end="")
    return 0


def cmd_schema(args) -> int:
    from engine.plan import kind_named

    print(json.dumps(kind_named(args.kind).Spec.model_json_schema(), indent=2))
    return 0


def cmd_list(args) -> int:
    from engine.registry import KindLoadError, get_kind, known_kinds

    for name in known_kinds():
        try:
            kind = get_kind(name)
        except KindLoadError as err:
            print(f"{name:<24} failed to load: {err.reason}")
            continue
        print(f"{name:<24} {kind.summary} (version {kind.version})")
    return 0


def _result_file(path: str) -> str:
    if not Path(path).is_file():
        raise SpecError(path, 0, 0, "<file>", "no such result file", "a .nc file written by `engine run`")
    return path


def cmd_show(args) -> int:
    from engine.show import show

    print(show(_result_file(args.path)))
    return 0


def write_figures(path: str, outdir: str | None = None, result=None) -> list[Path]:
    """Write the standard figures of the kind of the result file ``path`` as PNG files into ``outdir``
    (default: ``<result folder>/figures``) and print their paths; return them. ``result``: the file's dataset as
    the engine hands it to analyses, where the caller has read it already (not read again)."""
    import matplotlib

    matplotlib.use("Agg")
    from engine.names import spec_view
    from engine.plan import kind_named
    from engine.store import open_result

    ds = result if result is not None else spec_view(open_result(_result_file(path)))
    kind = kind_named(ds.attrs.get("engine_kind", "?"), path)
    folder = Path(outdir) if outdir else Path(path).parent / "figures"
    with writing(folder):
        folder.mkdir(parents=True, exist_ok=True)
    paths = kind.analysis.plot(ds, folder)
    for p in paths:
        print(p)
    if not paths:
        print(f"kind {kind.kind} has no standard figures for this result", file=sys.stderr)
    return paths


def cmd_plot(args) -> int:
    write_figures(args.path, args.outdir)
    return 0


def _loadable_kinds() -> dict:
    """Every registered kind that loads, by name; a note on stderr for each one that does not."""
    from engine.registry import KindLoadError, get_kind, known_kinds

    kinds = {}
    for name in known_kinds():
        try:
            kinds[name] = get_kind(name)
        except KindLoadError as err:
            print(f"note: {err}; left out", file=sys.stderr)
    return kinds


def cmd_reference(args) -> int:
    from engine.spec.introspect import reference

    kinds = _loadable_kinds()
    print(reference({k: p.Spec for k, p in kinds.items()}, {k: p.summary for k, p in kinds.items()}), end="")
    return 0


COMMANDS = {"run": cmd_run, "validate": cmd_validate, "new": cmd_new, "schema": cmd_schema, "list": cmd_list,
            "show": cmd_show, "plot": cmd_plot, "reference": cmd_reference}


# what a user is told on Ctrl-C or SIGTERM, by command (default: "interrupted")
INTERRUPTED = {"run": "interrupted: finished runs are kept; run the same command again to resume"}


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``engine`` console script."""
    # Parallelism comes from numba threads and worker processes; OpenBLAS threads spinning
    # beside numba's slow both down (set before numpy loads; an explicit setting wins).
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    args = _parser().parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        return COMMANDS[args.command](args)
    except SpecError as err:
        if args.debug:
            traceback.print_exc()
        for issue in err.issues:
            print(issue, file=sys.stderr)
        return EXIT_SPEC
    except OutputError as err:
        if args.debug:
            traceback.print_exc()
        print(err, file=sys.stderr)
        return EXIT_WRITE
    except KeyboardInterrupt:
        print(INTERRUPTED.get(args.command, "interrupted"), file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
