"""Outputs that cannot be written: a real full file system and a real read-only one.

Each test runs the ``engine`` console script in a private mount namespace (``unshare``) on a small
tmpfs mounted as ``--outputs``: full (512 KiB for a sweep of about 1.8 MiB of run files) or read-only.
What it left there is copied out for the checks before the namespace ends.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

from engine.atomic import GUESSED_ERRNOS, tmp_owner, why_not_written
from engine.cli import EXIT_WRITE
from engine.store import open_result, run_file_problem

ENGINE = Path(sys.executable).with_name("engine")

# 20 runs of about 90 KiB each (10 000 float64 values that do not compress much)
BIG_SWEEP = """\
kind: toy_decay
name: full
grid: {n_times: 10000}
sweep:
  grid:
    decay.rate: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]
"""


@cache
def _unshare() -> list[str] | None:
    """The ``unshare`` command that gives a process its own mount namespace where it may mount a tmpfs
    (as root, or in a user namespace), or None where this machine allows neither."""
    if shutil.which("unshare") is None:
        return None
    for command in (["unshare", "--mount"], ["unshare", "--user", "--map-root-user", "--mount"]):
        probe = subprocess.run([*command, "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt"], capture_output=True)
        if probe.returncode == 0:
            return command
    return None


def _in_own_mounts(script: str, tmp_path: Path, **env: str) -> None:
    """Run the shell ``script`` in a private mount namespace with $ENGINE, $OUT (an empty folder to mount
    on) and $SAVE (where to copy what is to be checked) set, plus ``env``."""
    command = _unshare()
    if command is None:
        pytest.skip("mounting a tmpfs needs root or user namespaces (unshare), which this machine does not allow")
    (tmp_path / "out").mkdir()
    (tmp_path / "save").mkdir()
    variables = {"ENGINE": str(ENGINE), "OUT": str(tmp_path / "out"), "SAVE": str(tmp_path / "save"), **env}
    exports = "".join(f"export {k}='{v}'\n" for k, v in variables.items())
    proc = subprocess.run([*command, "sh", "-c", exports + script], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr


def _saved(tmp_path: Path, name: str) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of the command whose output the script saved as ``name``.*"""
    save = tmp_path / "save"
    return (int((save / f"{name}.rc").read_text()), (save / f"{name}.out").read_text(),
            (save / f"{name}.err").read_text())


def _no_temporary_files(folder: Path) -> None:
    leftovers = [p for p in folder.rglob("*") if tmp_owner(p.name) is not None]
    assert not leftovers, leftovers


RUN_ON_FULL_DISK = """\
mount -t tmpfs -o size=512k tmpfs "$OUT"
"$ENGINE" run "$SPEC" --outputs "$OUT" --executor "$EXECUTOR" --workers 2 --quiet >"$SAVE/full.out" 2>"$SAVE/full.err"
echo $? >"$SAVE/full.rc"
cp -a "$OUT/full" "$SAVE/after_full"
mount -o remount,size=16m "$OUT"
"$ENGINE" run "$SPEC" --outputs "$OUT" --executor "$EXECUTOR" --workers 2 --quiet >"$SAVE/resume.out" 2>"$SAVE/resume.err"
echo $? >"$SAVE/resume.rc"
cp -a "$OUT/full" "$SAVE/resumed"
"""


@pytest.mark.parametrize("executor", ["serial", "local", "dask"])
def test_full_disk_is_one_line_with_its_own_exit_status_and_the_finished_runs_resume(tmp_path, executor):
    spec = tmp_path / "full.yaml"
    spec.write_text(BIG_SWEEP)
    _in_own_mounts(RUN_ON_FULL_DISK, tmp_path, SPEC=str(spec), EXECUTOR=executor)

    code, out, err = _saved(tmp_path, "full")
    assert code == EXIT_WRITE, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    message = re.fullmatch(r"cannot write \S+/full/runs/[0-9a-f]{16}\.nc: no space left on device; the (\d+) "
                           r"finished run\(s\) are kept in \S+: make room .* to resume\n", err)
    assert message, err
    kept = int(message[1])
    runs = sorted((tmp_path / "save" / "after_full" / "runs").glob("*.nc"))
    assert 1 <= kept <= len(runs) < 20
    assert all(run_file_problem(p, p.stem) is None for p in runs)  # complete, valid files only
    _no_temporary_files(tmp_path / "save" / "after_full")

    code, out, err = _saved(tmp_path, "resume")
    assert code == 0, err
    assert f"{20 - len(runs)} run(s) done, 0 failed, {len(runs)} reused" in out
    result = open_result(tmp_path / "save" / "resumed" / "result.nc")
    assert result.attrs["engine_status"] == "complete" and (result["run_status"] == "ok").all()


READ_ONLY = """\
mount -t tmpfs -o size=4m tmpfs "$OUT"
"$ENGINE" run "$SPEC" --outputs "$OUT/done" --quiet >/dev/null 2>&1 || exit 1
mount -o remount,ro "$OUT"
for name in fresh rerun plot; do
  case $name in
    fresh) "$ENGINE" run "$SPEC" --outputs "$OUT/new" ;;
    rerun) "$ENGINE" run "$SPEC" --outputs "$OUT/done" ;;
    plot) "$ENGINE" plot "$OUT/done/small/result.nc" ;;
  esac >"$SAVE/$name.out" 2>"$SAVE/$name.err"
  echo $? >"$SAVE/$name.rc"
done
"""


def test_read_only_outputs_are_one_line_with_the_write_exit_status(tmp_path):
    spec = tmp_path / "small.yaml"
    spec.write_text("kind: toy_decay\nname: small\nsweep:\n  grid:\n    decay.rate: [1, 2]\n")
    _in_own_mounts(READ_ONLY, tmp_path, SPEC=str(spec))
    out = tmp_path / "out"
    expected = {"fresh": f"{out}/new/small/runs", "rerun": f"{out}/done/small/spec.yaml",
                "plot": f"{out}/done/small/figures"}
    for name, path in expected.items():
        code, _, err = _saved(tmp_path, name)
        assert code == EXIT_WRITE, (name, err)
        assert err == f"cannot write {path}: read-only file system\n", (name, err)


@pytest.mark.parametrize("code", sorted(GUESSED_ERRNOS))
def test_netcdf_s_guessed_permission_error_on_a_full_disk_says_the_disk_is_full(tmp_path, monkeypatch, code):
    """netCDF-C answers any failed HDF5 file creation with EACCES; the folder's free space decides."""
    exc = PermissionError(code, os.strerror(code))
    path = tmp_path / "runs" / "a.nc"
    assert why_not_written(path, exc) == os.strerror(code)[0].lower() + os.strerror(code)[1:]
    full = os.statvfs_result((4096, 4096, 128, 0, 0, 64, 0, 0, 0, 255))   # no block free, flags 0
    monkeypatch.setattr(os, "statvfs", lambda folder: full)
    assert why_not_written(path, exc) == "no space left on device"
    assert why_not_written(path, OSError(errno.EROFS, "x")) == "read-only file system"
