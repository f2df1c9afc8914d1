"""The former race kernel, one monkey per lane: a baseline for ``monkeysim bench keystrokes``.

Private module, used only by the benchmark (issue 21 replaced it by
:mod:`monkeysim._kernels.typing`). Keys: one 64-bit xoshiro256** draw ``u`` gives the
``k = keys_per_draw(A)`` lowest base-A digits of ``u`` by division; draws with
``u >= limit = A**k * floor(2**64 / A**k)`` are rejected, so keys are exactly uniform. Each
monkey starts on a fresh draw and steps its automaton one key at a time, so every step waits
for the previous table load.
"""

from __future__ import annotations

import numba as nb

from .options import KERNEL_OPTIONS, PARALLEL_OPTIONS
from .random import MASK32, U64_MAX, accepted_half, next_u64


def keys_per_draw(alphabet_size: int) -> tuple[int, int]:
    """(k, limit): keys taken from one 64-bit draw and the rejection limit (Python ints).

    ``limit`` fits in uint64 (``2**64 - 1`` when ``A**k`` divides ``2**64``).
    """
    a = int(alphabet_size)
    if a == 1:
        return 64, U64_MAX
    k, p = 0, 1
    while p * a <= (1 << 64):
        p *= a
        k += 1
    return k, min(p * ((1 << 64) // p), U64_MAX)


@nb.njit(**KERNEL_OPTIONS)
def accepted_draw(state, limit):
    """Next draw that is below ``limit`` (uint64), so its low base-A digits are uniform."""
    u = next_u64(state)
    while u >= limit:
        u = next_u64(state)
    return u


@nb.njit(**KERNEL_OPTIONS)
def kmp_step(state, delta, first_key, alphabet_size, keys_per, limit, target_len, budget):
    """Type keys into the automaton ``delta`` (int32[L + 1, A]) until it reaches
    ``target_len`` or ``budget`` keystrokes; returns (keystrokes, found). State 0 only moves
    on ``first_key``."""
    a = nb.uint64(alphabet_size)
    k0 = nb.uint64(first_key)
    t = 0
    s = 0
    while t < budget:
        u = accepted_draw(state, limit)
        n = keys_per
        if budget - t < n:
            n = budget - t
        for _ in range(n):
            key = u % a
            u = u // a
            t += 1
            if s == 0 and key != k0:
                continue
            s = delta[s, key]
            if s == target_len:
                return t, True
    return t, False


@nb.njit(**PARALLEL_OPTIONS)
def race_chunks(states, chunk_size, monkeys, delta, target, alphabet_size, keys_per, limit,
                budget, keystrokes_out, found_out):
    """Stream-mode race: chunk ``c``'s monkeys type one after another from ``states[c]``
    (uint64[chunks, 4]); chunks in parallel. Call through :func:`call_specialized` with
    ``alphabet_size`` and ``keys_per`` (arguments 5 and 6) as literals."""
    length = target.shape[0]
    for c in nb.prange(states.shape[0]):
        st = states[c]
        for m in range(c * chunk_size, min((c + 1) * chunk_size, monkeys)):
            t, f = kmp_step(st, delta, target[0], alphabet_size, keys_per, limit, length,
                            budget)
            keystrokes_out[m] = t
            found_out[m] = f


@nb.njit(**KERNEL_OPTIONS)
def draw_sum(state, alphabet_size, keys_per, limit, keys):
    """Draw ``keys`` keys the way :func:`kmp_step` does and return their sum."""
    a = nb.uint64(alphabet_size)
    total = nb.uint64(0)
    t = 0
    while t < keys:
        u = accepted_draw(state, limit)
        n = min(keys_per, keys - t)
        for _ in range(n):
            total += u % a
            u = u // a
        t += n
    return total


# --- the two ceilings of the lane kernel (monkeysim._kernels.typing) -----------------------

@nb.njit(**KERNEL_OPTIONS)
def rng_ceiling(rs, a, k, p, thr, rounds):
    """Draw keys on the four lanes ``rs`` (uint64[4, 5]) exactly as the race kernel does
    (``rounds`` rounds of two accepted halves, ``2k`` keys, per lane) and return their sum:
    no automaton. Call through :func:`call_specialized` with ``a, k, p, thr`` (arguments 1
    to 4) as literals."""
    av = nb.uint64(a)
    mask = nb.uint64(MASK32)
    sh = nb.uint64(32)
    t0 = t1 = t2 = t3 = nb.uint64(0)  # one sum per lane: no chain across lanes
    for _ in range(rounds):
        h0 = accepted_half(rs[0], p, thr)
        g0 = accepted_half(rs[0], p, thr)
        h1 = accepted_half(rs[1], p, thr)
        g1 = accepted_half(rs[1], p, thr)
        h2 = accepted_half(rs[2], p, thr)
        g2 = accepted_half(rs[2], p, thr)
        h3 = accepted_half(rs[3], p, thr)
        g3 = accepted_half(rs[3], p, thr)
        r0, r1, r2, r3 = h0, h1, h2, h3
        for _ in range(k):
            x0 = r0 * av
            x1 = r1 * av
            x2 = r2 * av
            x3 = r3 * av
            t0 += x0 >> sh
            t1 += x1 >> sh
            t2 += x2 >> sh
            t3 += x3 >> sh
            r0 = x0 & mask
            r1 = x1 & mask
            r2 = x2 & mask
            r3 = x3 & mask
        r0, r1, r2, r3 = g0, g1, g2, g3
        for _ in range(k):
            x0 = r0 * av
            x1 = r1 * av
            x2 = r2 * av
            x3 = r3 * av
            t0 += x0 >> sh
            t1 += x1 >> sh
            t2 += x2 >> sh
            t3 += x3 >> sh
            r0 = x0 & mask
            r1 = x1 & mask
            r2 = x2 & mask
            r3 = x3 & mask
    return t0 + t1 + t2 + t3


@nb.njit(**KERNEL_OPTIONS)
def load_ceiling(table, keys, k, rounds):
    """Step four automaton chains ``s = table[s + key]`` (the race kernel's table) with keys
    read from ``keys`` (uint8[4096], in L1 cache) instead of drawn: ``rounds`` rounds of
    ``2k`` keys per lane, no generator; returns the final states' sum. ``k`` (argument 2) is
    a literal, as in the race kernel."""
    s0 = nb.uint64(0)
    s1 = nb.uint64(0)
    s2 = nb.uint64(0)
    s3 = nb.uint64(0)
    i = 0
    for _ in range(rounds):
        for _ in range(2 * k):
            j = i & 1023
            s0 = nb.uint64(table[s0 + keys[j]])
            s1 = nb.uint64(table[s1 + keys[j + 1024]])
            s2 = nb.uint64(table[s2 + keys[j + 2048]])
            s3 = nb.uint64(table[s3 + keys[j + 3072]])
            i += 1
    return s0 + s1 + s2 + s3
