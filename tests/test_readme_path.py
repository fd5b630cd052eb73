"""A newcomer's path through the README: its quick start and its command list, run as written.

The commands are read from README.md, never copied here: the ```bash blocks of the sections
"Quick start" and "Commands", in order, run as one bash script with ``set -e`` (the first failing
command fails the test) in a fresh temporary folder. The lines that call ``make`` are left out: they
create ``.venv`` and install the project (and its test extras), which the test suite's own
installation already did. Instead, the folder's ``.venv`` is a link to the virtual environment these
tests run in, so that ``source .venv/bin/activate`` puts that environment's ``engine`` on the PATH as
it does for a user. The command list writes the template of a quick kind (``engine new deep_linear >
my.yaml``: a few seconds a run) and runs it; then the results must be where the README says:
``engine show outputs/my/result.nc`` describes them and ``outputs/my/figures/`` holds the figures
``engine plot`` printed, PNG images of a real size with something drawn. The whole takes about 20 s.
And specs/README.md, where the quick start sends a newcomer next, has a row for every example spec.
"""

from __future__ import annotations

import os
import re
import struct
import subprocess
import sys
from pathlib import Path

import matplotlib.image
import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
SECTIONS = ("Quick start", "Commands")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def readme_commands(text: str) -> list[str]:
    """The lines of the ```bash blocks of the README's SECTIONS, in order, without the ``make`` lines."""
    lines = []
    for title in SECTIONS:
        section = text.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]
        for block in re.findall(r"^```bash\n(.*?)^```", section, flags=re.M | re.S):
            lines += [line for line in block.splitlines() if line.split()[:1] != ["make"]]
    return lines


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) in pixels from the IHDR chunk of the PNG file ``path``."""
    head = path.read_bytes()[:24]
    assert head[:8] == PNG_SIGNATURE and head[12:16] == b"IHDR", f"{path} is not a PNG file"
    return struct.unpack(">II", head[16:24])


def test_readme_commands_run_as_written_and_leave_the_results_where_it_says(tmp_path):
    if sys.prefix == sys.base_prefix:
        pytest.skip("the README's commands activate the virtual environment; these tests run outside one")
    commands = readme_commands(README.read_text())
    new = next(re.match(r"engine new (\w+) > (\w+)\.yaml", c) for c in commands if c.startswith("engine new "))
    kind, stem = new.groups()
    assert f"engine show outputs/{stem}/result.nc" in "\n".join(commands), "the list shows the template's result"
    (tmp_path / ".venv").symlink_to(sys.prefix, target_is_directory=True)
    env = {k: v for k, v in os.environ.items() if k not in ("ENGINE_OUTPUTS", "ENGINE_DASK_SCHEDULER")}
    proc = subprocess.run(["bash", "-e", "-c", "\n".join(commands)], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, f"{proc.stdout}\n{proc.stderr}"

    folder = tmp_path / "outputs" / stem
    assert f"results in outputs/{stem}/" in proc.stdout
    assert f"kind: {kind} (version" in proc.stdout and "failed or not run: none" in proc.stdout  # engine show
    figures = [tmp_path / line for line in proc.stdout.splitlines() if line.endswith(".png")]  # engine plot
    assert figures and all(path.parent == folder / "figures" for path in figures), figures
    for path in figures:
        width, height = png_size(path)
        assert width >= 400 and height >= 300 and path.stat().st_size > 10_000, (path, width, height)
        image = matplotlib.image.imread(path)
        assert image.shape[:2] == (height, width) and image[..., :3].std() > 0.05, f"{path}: nothing drawn"


def test_specs_readme_lists_every_example_spec_once():
    """specs/README.md, where the quick start sends a newcomer, has a row for each spec under specs/."""
    specs = README.parent / "specs"
    rows = re.findall(r"^\| `([^`]+\.yaml)` \|", (specs / "README.md").read_text(), flags=re.M)
    assert sorted(rows) == sorted(str(p.relative_to(specs)) for p in specs.rglob("*.yaml"))
