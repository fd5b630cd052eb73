"""Regenerate docs/gallery.md: one figure per kind from its example specs (``make docs`` runs this).

Each entry runs one spec of specs/ through the real ``engine run`` (reduced with ``--set`` where the full
spec takes minutes; a reduced run is said so under its figure), draws the kind's standard figures with
``engine plot``, and keeps one of them as docs/gallery/<kind>.png at :data:`DPI` dots per inch.

    python docs/gallery.py                      # every kind
    python docs/gallery.py --only bgk moire_exciton --keep /tmp/gallery_runs
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GALLERY = ROOT / "docs" / "gallery"
PAGE = ROOT / "docs" / "gallery.md"
#: Resolution of the gallery images [dots per inch] (the standard figures are written at engine.figures.DPI).
DPI = 90


@dataclass(frozen=True)
class Entry:
    """One gallery figure: the kind, its example spec, the ``--set`` overrides that make it quick, the
    standard figure kept, and two lines on what it shows."""

    kind: str
    spec: str
    overrides: tuple[str, ...]
    figure: str
    caption: str


ENTRIES = (
    Entry("bgk", "specs/bgk/sod.yaml", ("grid.n_x=100", "velocity.n_v=48"), "profiles.png",
          "The Sod shock tube solved with the BGK kinetic equation from near-continuum (Kn = 1e-5) to free\n"
          "streaming (Kn = 10), against the Euler solution: the kinetic profiles leave Euler as Kn grows."),
    Entry("bgk_closure", "specs/bgk_closure/quick.yaml", ("learner.steps=400", "active_learning.rounds=0"),
          "error_vs_kn.png",
          "Error of a learned moment closure against Euler and Navier-Stokes over five decades of Kn, per\n"
          "initial-data family: the learned closure stays accurate where the fluid closures fail (large Kn)."),
    Entry("boltzmann", "specs/boltzmann/prandtl.yaml",
          ("sweep.grid={collision.operator: [maxwell, bgk], collision.kn: [0.03]}",), "prandtl.png",
          "Stress and heat flux of a temperature wave in 1D3V: Maxwell molecules (Pr = 2/3) conduct heat faster\n"
          "than the BGK model of the same viscosity (Pr = 1) and follow Navier-Stokes with their own Prandtl number."),
    Entry("boltzmann_closure", "specs/boltzmann_closure/quick.yaml", (), "error_vs_kn.png",
          "Error of the learned moment closure of the Boltzmann equation (Maxwell molecules, 1D3V; the quick\n"
          "spec: 16 cells, six training runs) against Euler and Navier-Stokes with Pr = 2/3, from Kn 1e-2 to 10."),
    Entry("cf_tracking", "specs/cf_tracking/quick.yaml", (), "success_precision.png",
          "OTB success (overlap threshold) and precision (centre error) of the DCF tracker on held-out simulated\n"
          "sequences with raw pixels, HOG, a teacher network and distilled students, one seed of a short training:\n"
          "here the networks track no better than raw pixels (the paper's claim is not reproduced, see its page)."),
    Entry("deep_linear", "specs/deep_linear/zas_vs_identity.yaml", (), "iterations_vs_depth.png",
          "Gradient-descent steps to a loss tolerance against depth for deep linear residual networks: the\n"
          "zero-asymmetric (ZAS) initialization converges in steps that grow slowly with depth, the others do not."),
    Entry("deraining", "specs/deraining/quick.yaml", (), "deraining_crops.png",
          "A held-out crop: the rainy input, the network's derained image, the directional-median and L0\n"
          "baselines, the truth, and the predicted and true rain layers, after a short training (one loss arm)."),
    Entry("function_learning", "specs/function_learning/rate_random_features.yaml",
          ("model.width=8000", "data.n_test=500",
           "sweep.grid={data.d: [5, 20], seed: [0, 1, 2], data.n: [50, 100, 200, 400, 800]}"),
          "test_error_vs_n.png",
          "Test error of the minimum-norm random-feature interpolant (8000 features) against the number of samples n\n"
          "in dimensions 5 and 20, mean and range over three seeds: slopes near -0.8, faster than Monte Carlo's -1/2."),
    Entry("graph_learning", "specs/graph_learning/sbm_transition.yaml",
          ("sweep.grid={features.kind: [random, spectral], "
           "graph.c_difference: [0.0, 2.0, 3.0, 4.0, 4.9, 6.0, 8.0, 10.0]}",),
          "overlap_transition.png",
          "Overlap with the true blocks of a two-block stochastic block model (n = 2000, mean degree 6) against\n"
          "c_in - c_out, one seed: every method is near chance below the Kesten-Stigum threshold (dashed); above\n"
          "it the Bethe-Hessian and the models given its eigenvectors recover the blocks, a GCN on random features\n"
          "does not."),
    Entry("hyperelastic_device", "specs/hyperelastic/cloak.yaml", ("grid.points_per_wavelength=10",),
          "snapshots.png",
          "A plane SH wave after a unidirectional hyperelastic cloak (device), the bare diamond hole and the\n"
          "homogeneous body: along its design direction (top) the cloak cuts the scattered field ~9x; across it, not."),
    Entry("hyperelastic_interface", "specs/hyperelastic/modes.yaml", (), "reflection.png",
          "Reflection of an SH wave at the interface of a pre-deformed neo-Hookean half-space against the incidence\n"
          "angle: several deformations leave the interface invisible (R = 0), others reflect, two totally past 42°."),
    Entry("moire_exciton", "specs/moire/twist_density.yaml",
          ("grid.continuum.cells=120", "time.t_final_ns=2.0"), "diffusion_length.png",
          "Diffusion length of interlayer excitons in a twisted bilayer against the pump density, a line per twist\n"
          "angle: repulsion and trap filling triple it from 1e11 to 3e12 cm^-2; the twist changes it by a few %."),
    Entry("video_segmentation", "specs/video_segmentation/quick.yaml", (), "examples.png",
          "Frames of a held-out generated video with the true mask and the masks of co-attention and of the\n"
          "self-reference control: only the object that re-appears in every frame is the primary one. After this\n"
          "short training both still mark distractors; cosnet.yaml's full budget separates them (J 0.68 vs 0.27)."),
)


def _engine(*args: str) -> None:
    """Run the ``engine`` console script of this Python environment; stop with its output on failure."""
    exe = Path(sys.executable).with_name("engine")
    proc = subprocess.run([str(exe), *args], capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        raise SystemExit(f"engine {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")


def render(entry: Entry, outputs: Path) -> Path:
    """Run ``entry``'s spec under ``outputs``, plot it and write docs/gallery/<kind>.png; returns that path."""
    from PIL import Image

    from engine.figures import DPI as FIGURE_DPI

    sets = [a for o in entry.overrides for a in ("--set", o)]
    _engine("run", entry.spec, *sets, "--quiet", "--outputs", str(outputs))
    result = outputs / Path(entry.spec).stem / "result.nc"
    figures = outputs / f"{entry.kind}_figures"
    _engine("plot", str(result), "--outdir", str(figures))
    image = Image.open(figures / entry.figure)
    scale = DPI / FIGURE_DPI
    target = GALLERY / f"{entry.kind}.png"
    small = image.convert("RGB").resize((round(image.width * scale), round(image.height * scale)), Image.LANCZOS)
    small.quantize(colors=256).save(target, optimize=True)          # a palette image: a third of the bytes
    return target


def page(entries) -> str:
    """The text of docs/gallery.md."""
    lines = ["# Gallery", "",
             "One standard figure (`engine plot`) per kind, from its example specs in `specs/`. Regenerate with",
             "`make docs` (or `python docs/gallery.py`); a spec reduced with `--set` to run in about a minute",
             "says so under its figure.", ""]
    for e in entries:
        reduced = f" (run with `{' '.join('--set ' + shlex.quote(o) for o in e.overrides)}`)" if e.overrides else ""
        lines += [f"## {e.kind}", "", f"![{e.kind}: {e.figure}](gallery/{e.kind}.png)", "",
                  *e.caption.splitlines(),
                  f"Spec: [`{e.spec}`](../{e.spec}){reduced}; figure `{e.figure}`.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="kinds to regenerate (default: all)")
    parser.add_argument("--keep", help="folder for the runs (default: a temporary one, removed)")
    args = parser.parse_args(argv)
    entries = [e for e in ENTRIES if not args.only or e.kind in args.only]
    GALLERY.mkdir(parents=True, exist_ok=True)
    outputs = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="gallery_"))
    try:
        for entry in entries:
            start = time.perf_counter()
            path = render(entry, outputs)
            print(f"{path.relative_to(ROOT)} ({time.perf_counter() - start:.0f} s)")
    finally:
        if not args.keep:
            shutil.rmtree(outputs, ignore_errors=True)
    PAGE.write_text(page(ENTRIES))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
