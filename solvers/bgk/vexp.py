"""A vectorizable ``exp(x)`` for ``x <= 0`` (numba has no SIMD exp without Intel SVML).

``exp(x) = 2^n exp(r)`` with ``n = round(x / ln 2)`` (round-to-nearest by adding
1.5·2^52), ``r = x - n ln 2`` (Cody-Waite split of ln 2, ``|r| <= ln2/2``),
``exp(r)`` by its Taylor polynomial of degree 13 (truncation < 1e-17 relative; Estrin's scheme) and
``2^n`` built from its bit pattern. Accuracy: a few units in the last place
(measured max relative error vs ``math.exp`` in the tests). ``x < -708`` returns 0
(the true value is below 3e-308). Every step is branch-free, so LLVM vectorizes
loops that call it.
"""

from numba import njit, types
from numba.extending import intrinsic

__all__ = ["exp_neg"]

_MAGIC = 6755399441055744.0  # 1.5 * 2**52: adding it rounds a |y| < 2**51 to an integer in the low bits
_LOG2E = 1.4426950408889634
_LN2_HI = 0.6931471803691238  # ln 2 split so that n * _LN2_HI is exact for |n| < 2**20
_LN2_LO = 1.9082149292705877e-10
_C = tuple(1.0 / f for f in (1.0, 1.0, 2.0, 6.0, 24.0, 120.0, 720.0, 5040.0, 40320.0, 362880.0,
                              3628800.0, 39916800.0, 479001600.0, 6227020800.0))


def _bitcast(src, dst, doc):
    """A numba intrinsic that reinterprets the bits of a ``src`` value as ``dst`` (same width)."""

    @intrinsic
    def cast(typingctx, x):
        def codegen(context, builder, signature, args):
            return builder.bitcast(args[0], context.get_value_type(dst))

        return dst(src), codegen

    cast.__doc__ = doc
    return cast


_f64_bits = _bitcast(types.float64, types.int64, "Bit pattern of a float64 as int64.")
_bits_f64 = _bitcast(types.int64, types.float64, "float64 with the given int64 bit pattern.")


_MAGIC_BITS = 0x4338000000000000  # bit pattern of _MAGIC


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def exp_neg(x):
    """exp(x) for x <= 0 (x > 0 up to 709 works too); 0 below -708. Branch-free."""
    small = x < -708.0
    xc = -708.0 if small else x
    t = xc * _LOG2E + _MAGIC
    n = t - _MAGIC
    r = (xc - n * _LN2_HI) - n * _LN2_LO
    # Estrin's scheme: the terms pair up in a tree of depth 4, so each exponential's chain of
    # dependent operations is short and a core keeps more of them in flight than with Horner's rule
    r2 = r * r
    r4 = r2 * r2
    p01 = _C[0] + r * _C[1]
    p23 = _C[2] + r * _C[3]
    p45 = _C[4] + r * _C[5]
    p67 = _C[6] + r * _C[7]
    p89 = _C[8] + r * _C[9]
    p1011 = _C[10] + r * _C[11]
    p1213 = _C[12] + r * _C[13]
    p03 = p01 + r2 * p23
    p47 = p45 + r2 * p67
    p811 = p89 + r2 * p1011
    p = (p03 + r4 * p47) + (r4 * r4) * (p811 + r4 * p1213)
    scale = _bits_f64((_f64_bits(t) - _MAGIC_BITS + 1023) << 52)
    y = p * scale
    return 0.0 if small else y
