"""A tiny problem kind registered from outside the engine (through its own dist-info entry point).

y(t) = floor + (y0 - floor) exp(-rate t), sampled at n_times points on [0, t_end]; used by the
engine's tests. ``fail`` makes a run raise, ``nan`` makes it return NaN, ``kill`` makes it kill its
own process with SIGKILL (as the kernel's OOM killer would),
``sleep`` slows it down (seconds) so that interruption can be tested, and
``process_info`` adds the process's parent and whether it forked from a preloaded forkserver.
"""

import os
import signal
import sys
import time
from typing import Literal

import numpy as np
from pydantic import Field

from engine.kind import Analysis, Kind, RunFailed
from engine.spec.base import ProblemSpec, Section, quantity



class Decay(Section):
    rate: float = quantity(1.0, units="1/s", description="Decay rate.", gt=0)
    y0: float = quantity(1.0, units="1", description="Initial value.")
    floor: float = quantity(0.0, units="1", description="Value approached as t grows.")


class Grid(Section):
    n_times: int = Field(5, ge=2, le=10_000, description="Number of output times.")
    t_end: float = Field(1.0, gt=0, description="Final time (s).")


class ToySpec(ProblemSpec):
    kind: Literal["toy_decay"] = "toy_decay"
    decay: Decay = Decay()
    grid: Grid = Grid()
    fail: Literal["no", "raise", "nan", "diverge", "kill"] = Field("no", description="Make the run fail (for tests).")
    sleep: float = Field(0.0, ge=0, description="Seconds to sleep inside the run (for tests).")
    process_info: bool = Field(False, description="Record the process's parent and preloaded modules (for tests).")


class ToyDecay(Kind):
    kind = "toy_decay"
    version = "1"
    summary = "exponential decay y0 exp(-rate t) (test kind)"
    Spec = ToySpec
    analysis_class = "toykind:ToyAnalysis"
    smoke_overrides = ("grid.n_times=3",)

    def run(self, spec, ctx):
        import xarray as xr  # here, so that `engine list` and `validate` stay light with this kind too

        ctx.log.info("toy run with fail=%s", spec.fail)
        if spec.sleep:
            for i in range(10):
                time.sleep(spec.sleep / 10)
                ctx.progress(i + 1, 10)
        if spec.fail == "raise":
            raise ValueError("asked to fail")
        if spec.fail == "diverge":
            raise RunFailed("diverged at step 3")
        if spec.fail == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        t = np.linspace(0.0, spec.grid.t_end, spec.grid.n_times)
        d = spec.decay
        y = d.floor + (d.y0 - d.floor) * np.exp(-d.rate * t)
        if spec.fail == "nan":
            y[2] = np.nan
        noise = ctx.rng("noise").normal(size=1)[0]
        ds = xr.Dataset(
            {"y": ("t", y, {"units": "1", "long_name": "decaying value"}),
             "y_end": ((), y[-1], {"units": "1", "long_name": "final value"}),
             "noise": ((), noise, {"units": "1", "long_name": "a draw from the run's seed"})},
            coords={"t": ("t", t, {"units": "s", "long_name": "time"})},
        )
        if spec.process_info:
            ds["parent_pid"] = ((), os.getppid(), {"units": "1", "long_name": "process id of the run's parent"})
            ds["preloaded"] = ((), int("engine.preload" in sys.modules),
                               {"units": "1", "long_name": "engine.preload imported before the run (1) or not (0)"})
        return ds


class ToyAnalysis(Analysis):
    def sweep_summary(self, result):
        import xarray as xr

        if "decay.rate" not in result.dims:
            return None
        mean = result["y_end"].mean("decay.rate")
        mean.attrs = {"units": "1", "long_name": "mean final value over rates"}
        return xr.Dataset({"y_end_mean": mean})
