"""Helpers of the hyperelastic kind tests: a spec run through the CLI in this process, a spec rejected.

The spec text gets the two lines ``kind: <kind>`` and ``name: run`` in front, so its own lines start at
line 3 (the line numbers in error messages).
"""

import re

import xarray as xr

from engine.store import open_result


def head(kind: str) -> str:
    """The first two lines of a test spec of ``kind``."""
    return f"kind: {kind}\nname: run\n"


def run_spec(cli, write_spec, tmp_path, kind: str, body: str) -> xr.Dataset:
    """Run the spec (serial executor) and open its result, tmp_path/outputs/run/result.nc."""
    result = cli("run", write_spec(head(kind) + body), "--executor", "serial", "--quiet")
    assert result.code == 0, result.err
    return open_result(tmp_path / "outputs" / "run" / "result.nc")


def assert_rejected(cli, write_spec, kind: str, body: str, pattern: str) -> None:
    """``engine validate`` exits with 2 and its error output matches the regular expression ``pattern``."""
    result = cli("validate", write_spec(head(kind) + body + "\n"))
    assert result.code == 2, result.out
    assert re.search(pattern, result.err), result.err
