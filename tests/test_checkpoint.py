"""Checkpoints: the schedule, atomic files, and a long run killed and resumed to the same result."""

import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from engine.checkpoint import Checkpointer
from engine.store import open_result


def test_schedule_by_steps_and_restore_round_trip(tmp_path):
    path = tmp_path / "r.ckpt.npz"
    ck = Checkpointer(path, every_steps=100)
    state = {"w": np.arange(6.0).reshape(2, 3), "done": 100}
    assert not ck.save(state, 50) and not path.exists()
    assert ck.save(state, 100) and path.exists()
    assert not ck.save(state, 150)
    back = Checkpointer(path, every_steps=100)
    restored = back.restore()
    assert back.last_step == 100 and restored["done"] == 100
    np.testing.assert_array_equal(restored["w"], state["w"])
    assert [p.name for p in tmp_path.iterdir()] == ["r.ckpt.npz"]  # no temporary file left
    back.remove()
    assert not path.exists() and Checkpointer(path).restore() is None


def test_schedule_by_wall_time(tmp_path):
    ck = Checkpointer(tmp_path / "c.npz", every_seconds=0.05)
    assert not ck.save({"a": 1}, 1)
    time.sleep(0.06)
    assert ck.save({"a": 1}, 2)


def test_unreadable_checkpoint_is_ignored(tmp_path):
    path = tmp_path / "bad.ckpt.npz"
    path.write_bytes(b"not a zip file")
    assert Checkpointer(path, every_steps=1).restore() is None


LONG = """\
kind: deep_linear
name: long
model: {dim: 12, depth: 24}
optimizer: {max_steps: 16000, tol: 1e-300, tol_rule: absolute}   # never reached: runs all steps
output: {every: 100}
checkpoint: {every_steps: 2000, every_seconds: null}
"""


def test_killed_long_run_resumes_from_its_checkpoint_to_the_same_result(tmp_path, write_spec):
    spec = write_spec(LONG)
    exe = Path(sys.executable).with_name("engine")
    runs = tmp_path / "killed" / "long" / "runs"
    proc = subprocess.Popen([str(exe), "run", spec, "--quiet", "--outputs", str(tmp_path / "killed")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not list(runs.glob("*.ckpt.npz")):
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert list(runs.glob("*.ckpt.npz")) and not list(runs.glob("*.nc")), "killed after the first checkpoint"
    resumed = subprocess.run([str(exe), "run", spec, "--quiet", "--outputs", str(tmp_path / "killed")],
                             capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert not list(runs.glob("*.ckpt.npz")), "the checkpoint is removed when the run completes"
    whole = subprocess.run([str(exe), "run", spec, "--quiet", "--outputs", str(tmp_path / "whole")],
                           capture_output=True, text=True)
    assert whole.returncode == 0, whole.stderr
    a = open_result(tmp_path / "killed" / "long" / "result.nc")
    b = open_result(tmp_path / "whole" / "long" / "result.nc")
    run_file = next(runs.glob("*.nc"))
    assert open_result(run_file).attrs["engine_resumed_from_step"] >= 2000
    for name in a.data_vars:
        assert np.array_equal(a[name].values, b[name].values, equal_nan=a[name].dtype.kind == "f"), name
    assert int(a["iterations_to_tol"]) == -1 and a.sizes["step"] == 161
