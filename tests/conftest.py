"""Shared fixtures: the out-of-tree test kind, a CLI runner, results in a temporary folder."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PLUGINS = Path(__file__).resolve().parent / "plugins"

# The test kind 'toy_decay' lives outside the engine, registered through its own
# dist-info entry point; putting its folder on the path is all it takes.
if str(PLUGINS) not in sys.path:
    sys.path.insert(0, str(PLUGINS))
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(PLUGINS), os.environ.get("PYTHONPATH", "")) if p)


def pytest_configure(config):
    """Compile every kind's kernels once, before pytest-xdist starts its workers (numba cache race).

    Without xdist workers there is no race, and a run of one kind's tests loads no other kind.
    """
    if hasattr(config, "workerinput") or not getattr(config.option, "numprocesses", None):
        return
    from engine.registry import get_kind, known_kinds

    for kind in known_kinds():
        get_kind(kind).warmup()


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(tmp_path, capsys):
    """Call ``engine ...`` in this process (fast); results go under tmp_path/outputs."""
    from engine.cli import main

    def run(*args: str) -> Result:
        argv = list(args)
        if argv and argv[0] == "run" and not any(a.startswith("--outputs") for a in argv):
            argv += ["--outputs", str(tmp_path / "outputs")]
        code = main(argv)
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


@pytest.fixture
def engine_cmd(tmp_path):
    """Run the real ``engine`` console script in a subprocess with cwd = tmp_path."""
    exe = Path(sys.executable).with_name("engine")

    def run(*args: str, timeout: float = 300) -> Result:
        proc = subprocess.run([str(exe), *args], cwd=tmp_path, capture_output=True, text=True, timeout=timeout)
        return Result(proc.returncode, proc.stdout, proc.stderr)

    return run


@pytest.fixture
def write_spec(tmp_path):
    """Write YAML text to tmp_path/<name>.yaml and return the path as a string."""

    def write(text: str, name: str = "spec") -> str:
        path = tmp_path / f"{name}.yaml"
        path.write_text(text)
        return str(path)

    return write


@pytest.fixture
def run_spec(cli, write_spec, tmp_path):
    """``run_spec(text, *args) -> (result, dataset)``: ``engine run`` of the YAML ``text`` in this process,
    serially and quietly (extra command-line ``args`` appended); ``dataset`` is its result.nc, loaded
    (None when the run wrote none). The spec's ``name`` field names the results folder."""
    import yaml

    from engine.store import open_result

    def run(text: str, *args: str):
        result = cli("run", write_spec(text), "--executor", "serial", "--quiet", *args)
        path = tmp_path / "outputs" / str((yaml.safe_load(text) or {}).get("name", "spec")) / "result.nc"
        return result, (open_result(path) if path.exists() else None)

    return run


@pytest.fixture
def rejects(cli, write_spec):
    """``rejects(text, pattern)``: ``engine validate`` of the YAML ``text`` exits with status 2 and its
    error output matches the regular expression ``pattern``."""
    import re

    def check(text: str, pattern: str) -> None:
        result = cli("validate", write_spec(text))
        assert result.code == 2, result.out
        assert re.search(pattern, result.err), result.err

    return check


class _Stop(BaseException):
    """Stops a run from its progress callback; not an Exception, so no kind turns it into a failure."""


@pytest.fixture
def interrupted_and_resumed(tmp_path):
    """``run(kind, spec, stop_at=None, seed=0) -> (whole, resumed, ctx)``: the run uninterrupted, and the same
    run stopped when its progress count reaches ``stop_at`` (None: at the first progress report after a
    checkpoint was written, before the last report; a checkpoint is offered at every step), then started
    again; ``ctx`` is the resumed run's context."""
    from engine.checkpoint import Checkpointer
    from engine.kind import RunContext

    def run(kind, spec, stop_at=None, seed=0):
        whole = kind.run(spec, RunContext(seed=seed))
        path = tmp_path / "run.ckpt.npz"

        def stop(done, total):
            if done == stop_at if stop_at is not None else (path.exists() and done < total):
                raise _Stop

        with pytest.raises(_Stop):
            kind.run(spec, RunContext(seed=seed, progress=stop, checkpointer=Checkpointer(path, every_steps=1)))
        ctx = RunContext(seed=seed, checkpointer=Checkpointer(path, every_steps=1))
        return whole, kind.run(spec, ctx), ctx

    return run


@pytest.fixture
def one_torch_thread():
    """Small torch problems run on one thread: more only oversubscribes the CI machine's cores."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
