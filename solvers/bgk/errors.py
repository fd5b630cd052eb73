"""Why an initial state does not fit its phase-space grid, as data: the quantity, where, the value and the bound.

Both exceptions are ``ValueError`` subclasses (callers that catch ``ValueError`` keep working). A caller
that knows where the numbers came from (a spec) maps them to its own fields by type and attributes,
never by the text of the message. Everything is nondimensional (units "1").
"""

__all__ = ["NonPositiveState", "VelocityGridError", "TOO_NARROW", "TOO_COARSE"]

TOO_NARROW = "too narrow"  # |u| + tails sqrt(T) > v_max: the Maxwellian's tails leave the grid
TOO_COARSE = "too coarse"  # dv > sqrt(T): the grid does not resolve the Maxwellian


class NonPositiveState(ValueError):
    """A density, temperature or pressure that is not positive.

    ``quantity``: ``"rho"``, ``"T"`` or ``"p"``; ``value``: the offending value. Either ``cell`` (index of the
    first such cell of a profile) and ``x`` (its center), or ``side`` (``"left"`` or ``"right"``: a state of
    Riemann data, before it is put on a grid).
    """

    def __init__(self, quantity: str, value: float, *, cell: int | None = None, x: float | None = None,
                 side: str | None = None):
        self.quantity, self.value, self.cell, self.x, self.side = quantity, value, cell, x, side
        where = f"the {side} state" if side is not None else f"cell {cell} (x = {x:.6g})"
        super().__init__(f"non-positive {quantity} = {value!r} in {where}")


class VelocityGridError(ValueError):
    """The velocity grid cannot hold an initial state, first in cell ``cell`` (center ``x``).

    ``problem`` is :data:`TOO_NARROW` (``quantity`` = ``"|u| + tails sqrt(T)"``, ``value`` its largest value
    over the Maxwellians of the cell, ``bound`` = v_max) or :data:`TOO_COARSE` (``quantity`` = ``"dv"``,
    ``value`` = dv, ``bound`` = sqrt(T) of the coldest Maxwellian of the cell). ``needed`` is the bound that
    would hold every cell: the smallest v_max (too narrow) or the largest dv (too coarse).
    """

    def __init__(self, problem: str, quantity: str, cell: int, x: float, value: float, bound: float,
                 needed: float):
        if problem not in (TOO_NARROW, TOO_COARSE):
            raise ValueError(f"problem must be {TOO_NARROW!r} or {TOO_COARSE!r}, got {problem!r}")
        self.problem, self.quantity, self.cell, self.x = problem, quantity, cell, x
        self.value, self.bound, self.needed = value, bound, needed
        limit = "v_max" if problem == TOO_NARROW else "sqrt(T)"
        super().__init__(f"cell {cell} (x = {x:.6g}): {quantity} = {value:.6g} exceeds {limit} = {bound:.6g}")
