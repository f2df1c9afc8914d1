"""The xoshiro256** generator and uniform key drawing (numba kernels).

Kernels take explicit RNG state arrays (``uint64[4]`` per stream); they never touch numpy's
global RNG. Key drawing (every kernel that types random keys): each 64-bit xoshiro256** draw
gives two 32-bit halves, low half first. A half ``h`` is accepted when
``(h * P) mod 2**32 >= 2**32 mod P`` with ``P = A**k`` the largest power of ``A`` up to
``2**32`` (Lemire's rejection), so ``v = (h * P) >> 32`` is exactly uniform on ``[0, P)``;
its ``k`` base-``A`` digits, most significant first, are the keys. They are extracted by
multiply-and-shift, no division: ``x = r * A; key = x >> 32; r = x mod 2**32`` from
``r = h``. A lane's halves come from a ``uint64[5]`` array: the four xoshiro words and the
unused high half of the last draw (``2**32 + half``; 0 when none).
"""

from __future__ import annotations

import numba as nb
import numpy as np

from .options import KERNEL_OPTIONS

U64_MAX = (1 << 64) - 1
MASK32 = (1 << 32) - 1
PENDING = 1 << 32
"""Marks the stored high half of a lane's last draw (word 4 of its state)."""
JUMP = (0x180EC6D33CFD0ABA, 0xD5A61266F0C9392C, 0xA9582618E03FC9AA, 0x39ABDC4529B1661C)
"""xoshiro256**'s jump polynomial: :func:`jump` advances a state by 2**128 draws."""
_JUMP_WORDS = np.array(JUMP, dtype=np.uint64)


def digits_per_half(alphabet_size: int) -> tuple[int, int, int]:
    """(k, P, thr): keys per accepted 32-bit half, ``P = A**k <= 2**32`` and the rejection
    threshold ``2**32 mod P`` (Python ints; A = 1 gives 32 keys per half)."""
    a = int(alphabet_size)
    if a == 1:
        return 32, 1, 0
    k, p = 0, 1
    while p * a <= PENDING:
        p *= a
        k += 1
    return k, p, PENDING % p


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
def jump(state):
    """Advance a xoshiro256** state (uint64[4 or 5]; words 0..3) by 2**128 draws in place:
    lane ``j`` of a chunk types from the chunk's state jumped ``j`` times."""
    s0 = nb.uint64(0)
    s1 = nb.uint64(0)
    s2 = nb.uint64(0)
    s3 = nb.uint64(0)
    for w in range(4):
        word = _JUMP_WORDS[w]
        for b in range(64):
            if (word >> nb.uint64(b)) & nb.uint64(1):
                s0 ^= state[0]
                s1 ^= state[1]
                s2 ^= state[2]
                s3 ^= state[3]
            next_u64(state)
    state[0] = s0
    state[1] = s1
    state[2] = s2
    state[3] = s3


@nb.njit(**KERNEL_OPTIONS)
def next_half(lane):
    """Next 32-bit half (as uint64) of a lane's stream ``lane`` (uint64[5]): the stored high
    half of the last draw if there is one, else the low half of a new draw."""
    stored = lane[4]
    if stored != 0:
        lane[4] = nb.uint64(0)
        return stored & nb.uint64(MASK32)
    u = next_u64(lane)
    lane[4] = (u >> nb.uint64(32)) | nb.uint64(PENDING)
    return u & nb.uint64(MASK32)


@nb.njit(**KERNEL_OPTIONS)
def accepted_half(lane, p, thr):
    """Next half ``h`` of ``lane`` with ``(h * p) mod 2**32 >= thr`` (see the module doc)."""
    h = next_half(lane)
    while (h * nb.uint64(p)) & nb.uint64(MASK32) < nb.uint64(thr):
        h = next_half(lane)
    return h

