"""The real ``engine`` command (a subprocess) facing faults outside the spec: installed kinds that
cannot be loaded, bad ``--scheduler`` addresses, SIGTERM during ``validate``, and a bad spec given
to ``engine run`` (which must leave no worker process behind)."""

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

EXE = str(Path(sys.executable).with_name("engine"))
BROKEN_REASON = "RuntimeError: libfoo.so: cannot open shared object file"
# installable kind packages: (name, entry point line, {file in the package: code})
BROKEN = ("brokenkind", "broken_kind = brokenkind:Broken",
          {"__init__.py": f"raise RuntimeError({BROKEN_REASON.split(': ', 1)[1]!r})\n"})
SECOND_TOY = ("othertoy", "toy_decay = othertoy:OtherToy",
              {"__init__.py": "from toykind import ToyDecay as OtherToy\n"})
# a kind whose import says so on stderr, then takes a minute: a command is stopped while it loads
SLOW = ("slowkind", "slow_kind = slowkind:Slow",
        {"__init__.py": "import sys, time\nprint('importing', file=sys.stderr, flush=True)\ntime.sleep(60)\n"})
# a kind whose heavy module (``<package>.run``, which the workers' forkserver preloads) takes 30 s to import
SLOW_RUN_MODULE = ("slowrun", "slow_run = slowrun:SlowRun", {
    "__init__.py": "from typing import Literal\nfrom toykind import ToyDecay, ToySpec\n"
                   "class SlowSpec(ToySpec):\n    kind: Literal['slow_run'] = 'slow_run'\n"
                   "class SlowRun(ToyDecay):\n    kind = 'slow_run'\n    Spec = SlowSpec\n",
    "run.py": "import time\ntime.sleep(30)\n"})


def _install(site: Path, package: str, entry_points: str, files: dict[str, str]) -> None:
    """Put ``package`` (its ``files``: name -> code) and its dist-info (``entry_points`` lines of the
    engine.problems group) under ``site``, as pip would."""
    (site / package).mkdir(parents=True)
    for name, code in files.items():
        (site / package / name).write_text(code)
    info = site / f"{package}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {package}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[engine.problems]\n{entry_points}\n")


@pytest.fixture
def engine_with(tmp_path):
    """``engine_with(*packages)`` -> ``engine(*args, **popen)``, which runs ``engine ARGS`` in a subprocess
    (cwd tmp_path) with those packages, each a (name, entry_points, files) triple, installed beside the
    test kind; ``engine(..., popen=True)`` returns the running ``Popen`` instead of waiting for it."""

    def make(*packages):
        site = tmp_path / "site"
        site.mkdir(exist_ok=True)
        for package in packages:
            _install(site, *package)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}

        def engine(*args, popen=False, extra_env=()):
            kwargs = dict(cwd=tmp_path, env={**env, **dict(extra_env)}, text=True)
            if popen:
                return subprocess.Popen([EXE, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)
            return subprocess.run([EXE, *args], capture_output=True, timeout=300, **kwargs)

        return engine

    return make


# --- kinds that cannot be loaded ---

def test_a_kind_that_raises_on_import_is_listed_as_failed_and_the_others_still_list(engine_with):
    listed = engine_with(BROKEN)("list")
    assert listed.returncode == 0 and listed.stderr == "", listed.stderr
    lines = {line.split()[0]: line for line in listed.stdout.splitlines()}
    assert f"failed to load: importing brokenkind:Broken raised {BROKEN_REASON}" in lines["broken_kind"]
    assert "(version 1)" in lines["toy_decay"] and "arXiv:1911.00645" in lines["deep_linear"]  # after it


def test_the_reference_leaves_a_broken_kind_out_with_a_note(engine_with):
    result = engine_with(BROKEN)("reference")
    assert result.returncode == 0
    assert result.stderr == (f"note: kind 'broken_kind' failed to load: importing brokenkind:Broken raised "
                             f"{BROKEN_REASON}; left out\n")
    assert "toy_decay" in result.stdout and "broken_kind" not in result.stdout


def test_using_a_broken_kind_is_one_line_and_exit_2_and_other_kinds_still_validate(engine_with, tmp_path):
    engine = engine_with(BROKEN)
    (tmp_path / "b.yaml").write_text("name: b\nkind: broken_kind\n")
    (tmp_path / "t.yaml").write_text("kind: toy_decay\n")
    expected = f"kind: kind 'broken_kind' failed to load: importing brokenkind:Broken raised {BROKEN_REASON}\n"
    for args in (["validate", "b.yaml"], ["run", "b.yaml"], ["run", "b.yaml", "--executor", "local"]):
        result = engine(*args)
        assert (result.returncode, result.stderr) == (2, "b.yaml:2:7: " + expected), args
    for command in ("new", "schema"):
        result = engine(command, "broken_kind")
        assert (result.returncode, result.stderr) == (2, "<command line>: " + expected), command
    assert engine("validate", "t.yaml").returncode == 0


def test_two_packages_registering_one_kind_name_is_an_error_naming_both(engine_with, tmp_path):
    engine = engine_with(SECOND_TOY)
    (tmp_path / "t.yaml").write_text("kind: toy_decay\n")
    reason = ("registered by more than one installed package: othertoy (othertoy:OtherToy) and toykind "
              "(toykind:ToyDecay); uninstall all but one")
    listed = engine("list")
    toy_line = next(line for line in listed.stdout.splitlines() if line.startswith("toy_decay "))
    assert listed.returncode == 0 and f"failed to load: {reason}" in toy_line
    result = engine("validate", "t.yaml")
    assert (result.returncode, result.stderr) == (2, f"t.yaml:1:7: kind: kind 'toy_decay' failed to load: {reason}\n")


# --- bad --scheduler addresses ---

@pytest.mark.parametrize("address, problem", [
    ("notanaddress", "missing port number in address 'notanaddress'"),
    ("http://127.0.0.1:8786", "'http://' is not a Dask scheduler protocol (one of: tcp, tls"),
    ("inproc://x", "no scheduler runs at this inproc:// address in this process"),
    ("tcp://127.0.0.1:99999", "port 99999 is out of range"),
])
def test_a_malformed_scheduler_address_is_one_line_and_exit_2_without_a_hang(engine_with, tmp_path, address, problem):
    (tmp_path / "t.yaml").write_text("kind: toy_decay\n")
    # before the fix: a ValueError traceback, exit 1, then 10 s more in the half-made client's __del__
    result = subprocess.run([EXE, "run", "t.yaml", "--scheduler", address], cwd=tmp_path, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(f"--scheduler {address}: executor: not a scheduler address: {problem}")
    assert result.stderr.endswith(" (expected tcp://HOST:PORT, e.g. tcp://127.0.0.1:8786)\n")
    assert not (tmp_path / "outputs").exists()


# --- interrupts and the workers' forkserver ---

def test_sigterm_during_validate_says_interrupted_without_the_resume_advice_of_run(engine_with, tmp_path):
    (tmp_path / "s.yaml").write_text("kind: slow_kind\n")
    with engine_with(SLOW)("validate", "s.yaml", popen=True) as proc:
        try:
            assert proc.stderr.readline() == "importing\n"  # validate is loading the kind
            proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=60)
        finally:
            proc.kill()
    assert (proc.returncode, err) == (130, "interrupted\n")


def _processes_with_env(marker: str) -> list[str]:
    """Command lines of the live processes whose environment holds ``marker`` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and marker.encode() in (entry / "environ").read_bytes():
                found.append((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except OSError:  # gone, or not ours to read
            continue
    return found


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="reads /proc")
def test_run_of_a_bad_spec_leaves_no_worker_process_behind(engine_with, tmp_path):
    (tmp_path / "bad.yaml").write_text("kind: slow_run\ndecay:\n  rate: -1\nsweep:\n  grid:\n    decay.y0: [1, 2]\n")
    marker = f"ENGINE_TEST_{uuid.uuid4().hex}"
    # the sweep would run on local workers; before the fix their forkserver started before validation
    # and lived on, importing the kind's run module, after the command had exited (holding its
    # output pipes open: hence wait(), not communicate(), before looking)
    with engine_with(SLOW_RUN_MODULE)("run", "bad.yaml", popen=True, extra_env={marker: "1"}) as proc:
        try:
            assert proc.wait(timeout=120) == 2
            assert _processes_with_env(marker) == []
            assert "decay.rate: -1 is out of range" in proc.stderr.read()
        finally:
            proc.kill()
