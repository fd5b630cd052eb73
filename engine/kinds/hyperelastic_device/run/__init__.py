"""Kind ``hyperelastic_device``, the run: :mod:`.simulate` (one simulation and the time loop over the
device, bare and homogeneous runs), :mod:`.metrics` (the device metrics), :mod:`.result` (the run
function and its dataset)."""

from .result import run

__all__ = ["run"]
