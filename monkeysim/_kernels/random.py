"""The xoshiro256** generator and uniform key drawing (numba kernels).

Kernels take explicit RNG state arrays (``uint64[4]`` per stream); they never touch numpy's
global RNG. Key drawing (shared by every kernel that types): one 64-bit xoshiro256** draw
``u`` yields ``k = keys_per_draw(A)`` keys, the ``k`` lowest base-``A`` digits of ``u``. Draws
with ``u >= limit`` (``limit = A**k * floor(2**64 / A**k)``) are rejected, so every key is
exactly uniform. Each monkey starts on a fresh draw.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from .options import KERNEL_OPTIONS

U64_MAX = (1 << 64) - 1


def keys_per_draw(alphabet_size: int) -> tuple[int, int]:
    """(k, limit): keys taken from one 64-bit draw and the rejection limit (Python ints).

    ``limit`` is returned as an int that fits in uint64 (``2**64 - 1`` means accept all but
    the very last value, used when ``A**k`` divides ``2**64``).
    """
    a = int(alphabet_size)
    if a == 1:
        return 64, U64_MAX
    k, p = 0, 1
    while p * a <= (1 << 64):
        p *= a
        k += 1
    limit = p * ((1 << 64) // p)
    if limit == (1 << 64):  # a power of two alphabet: no rejection needed
        limit = U64_MAX
        return k, limit
    return k, limit


@nb.njit(**KERNEL_OPTIONS)
def _rotl(x, k):
    return (x << nb.uint64(k)) | (x >> nb.uint64(64 - k))


@nb.njit(**KERNEL_OPTIONS)
def next_u64(state):
    """Advance xoshiro256** state (uint64[4]) in place; return the next 64-bit output."""
    s0 = state[0]
    s1 = state[1]
    s2 = state[2]
    s3 = state[3]
    result = _rotl(s1 * nb.uint64(5), 7) * nb.uint64(9)
    t = s1 << nb.uint64(17)
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = _rotl(s3, 45)
    state[0] = s0
    state[1] = s1
    state[2] = s2
    state[3] = s3
    return result


@nb.njit(**KERNEL_OPTIONS)
def next_double(state):
    """Uniform float64 in [0, 1) from the top 53 bits of one draw."""
    return np.float64(next_u64(state) >> nb.uint64(11)) * (1.0 / 9007199254740992.0)


@nb.njit(**KERNEL_OPTIONS)
def accepted_draw(state, limit):
    """Next draw that is below ``limit`` (uint64), so its low base-A digits are uniform."""
    u = next_u64(state)
    while u >= limit:
        u = next_u64(state)
    return u
