"""Bit intrinsics for numba kernels: population count and trailing-zero count.

Both compile to single machine instructions (``popcnt``, ``tzcnt``) on x86-64.
"""

from llvmlite import ir
from numba import types
from numba.extending import intrinsic

__all__ = ["popcount", "trailing_zeros"]


@intrinsic
def popcount(typingctx, value):
    """Return the number of set bits of an unsigned 64-bit integer."""
    if not isinstance(value, types.Integer):
        return None
    sig = types.uint64(types.uint64)

    def codegen(context, builder, signature, args):
        word = context.cast(builder, args[0], value, types.uint64)
        return builder.ctpop(word)

    return sig, codegen


@intrinsic
def trailing_zeros(typingctx, value):
    """Return the index of the lowest set bit of a nonzero unsigned 64-bit integer."""
    if not isinstance(value, types.Integer):
        return None
    sig = types.uint64(types.uint64)

    def codegen(context, builder, signature, args):
        word = context.cast(builder, args[0], value, types.uint64)
        return builder.cttz(word, ir.Constant(ir.IntType(1), 0))

    return sig, codegen
