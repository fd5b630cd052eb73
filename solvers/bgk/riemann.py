"""Exact solution of the Riemann problem for the Euler equations of a polytropic gas (any gamma > 1).

States are ``(rho, u, p)``; the star pressure solves ``f_L(p) + f_R(p) + u_R - u_L = 0`` with
the shock / rarefaction branches of Toro, *Riemann Solvers*, ch. 4 (Newton iteration from the
two-rarefaction guess, safeguarded by bisection). All quantities are nondimensional (units "1").
"""

import math

import numpy as np

__all__ = ["star_state", "wave_speeds", "sample"]


def _check(state, side):
    rho, u, p = (float(s) for s in state)
    if not (rho > 0 and p > 0 and math.isfinite(u)):
        raise ValueError(f"{side} state needs rho > 0, p > 0 and finite u, got (rho, u, p) = {state}")
    return rho, u, p


def _f(p, rho, pk, gamma):
    """Toro's f_K(p) and its derivative."""
    c = math.sqrt(gamma * pk / rho)
    if p > pk:
        a = 2.0 / ((gamma + 1.0) * rho)
        b = (gamma - 1.0) / (gamma + 1.0) * pk
        s = math.sqrt(a / (p + b))
        return (p - pk) * s, s * (1.0 - 0.5 * (p - pk) / (p + b))
    e = (gamma - 1.0) / (2.0 * gamma)
    r = (p / pk) ** e
    return 2.0 * c / (gamma - 1.0) * (r - 1.0), r / (rho * c) / (p / pk)


def star_state(left, right, gamma):
    """Star-region pressure and velocity ``(p*, u*)``. Raises ValueError if the data create a vacuum."""
    if not gamma > 1:
        raise ValueError(f"gamma must be > 1, got {gamma!r}")
    rl, ul, pl = _check(left, "left")
    rr, ur, pr = _check(right, "right")
    cl, cr = math.sqrt(gamma * pl / rl), math.sqrt(gamma * pr / rr)
    if 2.0 * (cl + cr) / (gamma - 1.0) <= ur - ul:
        raise ValueError("the Riemann data generate a vacuum (pressure positivity condition violated)")
    e = (gamma - 1.0) / (2.0 * gamma)
    p = ((cl + cr - 0.5 * (gamma - 1.0) * (ur - ul)) / (cl / pl**e + cr / pr**e)) ** (1.0 / e)
    lo, hi = 0.0, max(p, pl, pr) * 2.0
    while True:
        fl, _ = _f(hi, rl, pl, gamma)
        fr, _ = _f(hi, rr, pr, gamma)
        if fl + fr + ur - ul > 0:
            break
        hi *= 2.0
    for _ in range(200):
        fl, dl = _f(p, rl, pl, gamma)
        fr, dr = _f(p, rr, pr, gamma)
        g = fl + fr + ur - ul
        if g > 0:
            hi = min(hi, p)
        else:
            lo = max(lo, p)
        step = g / (dl + dr)
        pn = p - step
        if not (lo < pn < hi):
            pn = 0.5 * (lo + hi)
        if abs(pn - p) <= 1e-15 * (pn + p):
            p = pn
            break
        p = pn
    fl, _ = _f(p, rl, pl, gamma)
    fr, _ = _f(p, rr, pr, gamma)
    return p, 0.5 * (ul + ur) + 0.5 * (fr - fl)


def wave_speeds(left, right, gamma):
    """Dict of star state and wave speeds: ``p, u, rho_l, rho_r`` and ``left_head, left_tail,
    right_tail, right_head`` (equal head and tail for a shock)."""
    rl, ul, pl = _check(left, "left")
    rr, ur, pr = _check(right, "right")
    ps, us = star_state(left, right, gamma)
    g1 = (gamma - 1.0) / (gamma + 1.0)
    out = {"p": ps, "u": us}
    for side, (rk, uk, pk), sgn in (("l", (rl, ul, pl), -1.0), ("r", (rr, ur, pr), 1.0)):
        ck = math.sqrt(gamma * pk / rk)
        if ps > pk:  # shock
            rs = rk * (ps / pk + g1) / (g1 * ps / pk + 1.0)
            s = uk + sgn * ck * math.sqrt((gamma + 1.0) / (2.0 * gamma) * ps / pk + (gamma - 1.0) / (2.0 * gamma))
            head = tail = s
        else:
            rs = rk * (ps / pk) ** (1.0 / gamma)
            cs = ck * (ps / pk) ** ((gamma - 1.0) / (2.0 * gamma))
            head, tail = uk + sgn * ck, us + sgn * cs
        out["rho_" + side] = rs
        name = "left" if side == "l" else "right"
        out[name + "_head"], out[name + "_tail"] = head, tail
    return out


def sample(left, right, gamma, xi):
    """Self-similar solution ``(rho, u, p)`` at ``xi = (x - x0)/t`` (array), each of the shape of ``xi``."""
    rl, ul, pl = _check(left, "left")
    rr, ur, pr = _check(right, "right")
    w = wave_speeds(left, right, gamma)
    ps, us = w["p"], w["u"]
    xi = np.asarray(xi, dtype=np.float64)
    rho, u, p = np.empty_like(xi), np.empty_like(xi), np.empty_like(xi)
    for side, (rk, uk, pk), sgn in (("left", (rl, ul, pl), -1.0), ("right", (rr, ur, pr), 1.0)):
        ck = math.sqrt(gamma * pk / rk)
        rs = w["rho_l" if side == "left" else "rho_r"]
        head, tail = w[side + "_head"], w[side + "_tail"]
        region = xi < us if side == "left" else xi >= us
        # xi measured outward from the contact: outside the wave (unperturbed), inside the fan, star
        outside = region & ((sgn * (xi - head)) > 0)
        star = region & ((sgn * (xi - tail)) <= 0)
        fan = region & ~outside & ~star
        rho[outside], u[outside], p[outside] = rk, uk, pk
        rho[star], u[star], p[star] = rs, us, ps
        if np.any(fan):
            z = xi[fan]
            uf = 2.0 / (gamma + 1.0) * (-sgn * ck + 0.5 * (gamma - 1.0) * uk + z)
            cf = -sgn * (uf - z)
            rho[fan] = rk * (cf / ck) ** (2.0 / (gamma - 1.0))
            u[fan] = uf
            p[fan] = pk * (cf / ck) ** (2.0 * gamma / (gamma - 1.0))
    return rho, u, p
