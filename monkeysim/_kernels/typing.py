"""numba kernels for random typing: races of monkeys against a target, four monkeys per lane.

Private module. A chunk of monkeys types on :data:`LANES` lanes, each with its own xoshiro256**
stream (the chunk's state jumped ``j`` times for lane ``j``; :func:`setup_lanes`). The lanes
advance together in *rounds*: in each round every lane draws two accepted 32-bit halves and
its monkey types their ``2k`` keys (:mod:`monkeysim._kernels.random`), stepping its automaton
``state = table[state + key]``. The four automaton chains are independent, so their table
loads overlap. A monkey that finishes (target found or budget reached) leaves the rest of its
round unused; after the round, finished lanes take the chunk's next monkeys in lane order, and
a lane with none left idles. So monkey ``m`` depends only on monkeys before it in its chunk.

The automaton comes as a flat uint32 table whose entries are next-state × A (so a step is one
add and one load; see :func:`monkeysim.typewriter.race_table`): the found state is absorbing
(one check per round; the round is replayed key by key to find the exact keystroke), and an
extra absorbing ``dead`` state parks idle lanes. A, k, P and the rejection threshold are
compile-time literals (:func:`~monkeysim._kernels.options.call_specialized`).
"""

from __future__ import annotations

import numba as nb

from .options import KERNEL_OPTIONS, PARALLEL_OPTIONS
from .random import MASK32, accepted_half, jump

LANES = 4
"""Monkeys typing side by side on one thread (the explicit lane code below is for 4)."""
LANE_WORDS = 8
"""uint64 words per lane stream: xoshiro256** state, the stored high half, and padding to
64 bytes, so two threads never write to one cache line (no false sharing)."""
M_IDLE = -1  # lane monkey index of an idle lane


@nb.njit(**KERNEL_OPTIONS)
def setup_lanes(states, lo, hi, dead, rs, lanes, nxt):
    """Initial lane state of every chunk.

    ``states``: uint64[chunks, 4] chunk states; chunk ``c`` owns monkeys ``lo[c] .. hi[c]-1``.
    Writes ``rs`` (uint64[chunks, LANES, 5]: lane streams, no stored half), ``lanes``
    (int64[chunks, LANES, 3]: monkey or ``M_IDLE``, keystrokes, automaton state) and ``nxt``
    (int64[chunks, 2]: next unassigned monkey, end).
    """
    for c in range(states.shape[0]):
        for j in range(LANES):
            for w in range(4):
                rs[c, j, w] = states[c, w] if j == 0 else rs[c, j - 1, w]
            rs[c, j, 4] = 0
            if j > 0:
                jump(rs[c, j])
            m = lo[c] + j
            lanes[c, j, 0] = m if m < hi[c] else M_IDLE
            lanes[c, j, 1] = 0
            lanes[c, j, 2] = 0 if m < hi[c] else dead
        nxt[c, 0] = min(lo[c] + LANES, hi[c])
        nxt[c, 1] = hi[c]


@nb.njit(**KERNEL_OPTIONS)
def type_half(table, a, h, s, n, found):
    """Type the first ``n`` keys of half ``h`` from state ``s`` (premultiplied), stopping on
    ``found``; returns (state, keys typed)."""
    r = h
    for i in range(n):
        x = r * nb.uint64(a)
        s = nb.uint64(table[s + (x >> nb.uint64(32))])
        r = x & nb.uint64(MASK32)
        if s == found:
            return s, i + 1
    return s, n


@nb.njit(**KERNEL_OPTIONS)
def type_round(table, a, h, g, s, n, k, found):
    """Type the first ``n`` keys of the halves ``h`` then ``g`` (``k`` keys each) from state
    ``s``, stopping on ``found``; returns (state, keys typed)."""
    s, typed = type_half(table, a, h, s, min(n, k), found)
    if s == found or n <= k:
        return s, typed
    s, more = type_half(table, a, g, s, n - k, found)
    return s, typed + more


@nb.njit(**KERNEL_OPTIONS)
def run_lanes(rs, lanes, nxt, table, found, dead, a, k, p, thr, stop, keystrokes_out,
              found_out, work):
    """Advance one chunk's lanes by whole rounds until about ``work`` keystrokes are typed or
    every monkey is done; returns the keystrokes typed. In a round every lane draws two
    accepted halves (``2k`` keys; its monkey types them until it finishes). ``stop`` is the
    keystrokes at which a monkey is censored. Updates ``rs``, ``lanes`` and ``nxt`` (see
    :func:`setup_lanes`), so repeated calls give exactly the result of one long call."""
    found = nb.uint64(found)
    dead = nb.uint64(dead)
    av = nb.uint64(a)
    mask = nb.uint64(MASK32)
    sh = nb.uint64(32)
    kk = 2 * k
    idle = 1 << 62  # keys left of an idle lane: never limits a round
    m0, s0 = lanes[0, 0], nb.uint64(lanes[0, 2])
    m1, s1 = lanes[1, 0], nb.uint64(lanes[1, 2])
    m2, s2 = lanes[2, 0], nb.uint64(lanes[2, 2])
    m3, s3 = lanes[3, 0], nb.uint64(lanes[3, 2])
    left0 = stop - lanes[0, 1] if m0 >= 0 else idle
    left1 = stop - lanes[1, 1] if m1 >= 0 else idle
    left2 = stop - lanes[2, 1] if m2 >= 0 else idle
    left3 = stop - lanes[3, 1] if m3 >= 0 else idle
    spent = 0
    while spent < work and (m0 >= 0 or m1 >= 0 or m2 >= 0 or m3 >= 0):
        h0 = accepted_half(rs[0], p, thr)
        g0 = accepted_half(rs[0], p, thr)
        h1 = accepted_half(rs[1], p, thr)
        g1 = accepted_half(rs[1], p, thr)
        h2 = accepted_half(rs[2], p, thr)
        g2 = accepted_half(rs[2], p, thr)
        h3 = accepted_half(rs[3], p, thr)
        g3 = accepted_half(rs[3], p, thr)
        if left0 >= kk and left1 >= kk and left2 >= kk and left3 >= kk:
            # the fast round: every lane types all 2k keys (idle lanes sit in `dead`)
            a0, a1, a2, a3 = s0, s1, s2, s3
            r0, r1, r2, r3 = h0, h1, h2, h3
            for _ in range(k):
                x0 = r0 * av
                x1 = r1 * av
                x2 = r2 * av
                x3 = r3 * av
                s0 = nb.uint64(table[s0 + (x0 >> sh)])
                s1 = nb.uint64(table[s1 + (x1 >> sh)])
                s2 = nb.uint64(table[s2 + (x2 >> sh)])
                s3 = nb.uint64(table[s3 + (x3 >> sh)])
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
                s0 = nb.uint64(table[s0 + (x0 >> sh)])
                s1 = nb.uint64(table[s1 + (x1 >> sh)])
                s2 = nb.uint64(table[s2 + (x2 >> sh)])
                s3 = nb.uint64(table[s3 + (x3 >> sh)])
                r0 = x0 & mask
                r1 = x1 & mask
                r2 = x2 & mask
                r3 = x3 & mask
            n0 = n1 = n2 = n3 = kk
            if s0 == found or s1 == found or s2 == found or s3 == found:
                if s0 == found:
                    s0, n0 = type_round(table, a, h0, g0, a0, kk, k, found)
                if s1 == found:
                    s1, n1 = type_round(table, a, h1, g1, a1, kk, k, found)
                if s2 == found:
                    s2, n2 = type_round(table, a, h2, g2, a2, kk, k, found)
                if s3 == found:
                    s3, n3 = type_round(table, a, h3, g3, a3, kk, k, found)
        else:
            n0 = n1 = n2 = n3 = 0
            if m0 >= 0:
                s0, n0 = type_round(table, a, h0, g0, s0, min(kk, left0), k, found)
            if m1 >= 0:
                s1, n1 = type_round(table, a, h1, g1, s1, min(kk, left1), k, found)
            if m2 >= 0:
                s2, n2 = type_round(table, a, h2, g2, s2, min(kk, left2), k, found)
            if m3 >= 0:
                s3, n3 = type_round(table, a, h3, g3, s3, min(kk, left3), k, found)
        left0 -= n0
        left1 -= n1
        left2 -= n2
        left3 -= n3
        if m0 < 0:
            n0 = 0
        if m1 < 0:
            n1 = 0
        if m2 < 0:
            n2 = 0
        if m3 < 0:
            n3 = 0
        spent += n0 + n1 + n2 + n3
        # finished lanes record their monkey and take the next one, in lane order
        if s0 == found or s1 == found or s2 == found or s3 == found or min(
                min(left0, left1), min(left2, left3)) <= 0:
            if m0 >= 0 and (s0 == found or left0 <= 0):
                m0, left0, s0 = finish(m0, stop - left0, s0 == found, nxt, dead, stop, idle,
                                       keystrokes_out, found_out)
            if m1 >= 0 and (s1 == found or left1 <= 0):
                m1, left1, s1 = finish(m1, stop - left1, s1 == found, nxt, dead, stop, idle,
                                       keystrokes_out, found_out)
            if m2 >= 0 and (s2 == found or left2 <= 0):
                m2, left2, s2 = finish(m2, stop - left2, s2 == found, nxt, dead, stop, idle,
                                       keystrokes_out, found_out)
            if m3 >= 0 and (s3 == found or left3 <= 0):
                m3, left3, s3 = finish(m3, stop - left3, s3 == found, nxt, dead, stop, idle,
                                       keystrokes_out, found_out)
    lanes[0, 0], lanes[0, 1], lanes[0, 2] = m0, stop - left0, s0
    lanes[1, 0], lanes[1, 1], lanes[1, 2] = m1, stop - left1, s1
    lanes[2, 0], lanes[2, 1], lanes[2, 2] = m2, stop - left2, s2
    lanes[3, 0], lanes[3, 1], lanes[3, 2] = m3, stop - left3, s3
    return spent


@nb.njit(**KERNEL_OPTIONS)
def finish(m, t, hit, nxt, dead, stop, idle, keystrokes_out, found_out):
    """Record monkey ``m`` (``t`` keystrokes) and give its lane the chunk's next monkey (or
    idle it); returns the lane's new (monkey, keys left, state)."""
    keystrokes_out[m] = t
    found_out[m] = hit
    if nxt[0] < nxt[1]:
        m = nxt[0]
        nxt[0] += 1
        return m, stop, nb.uint64(0)
    return M_IDLE, idle, nb.uint64(dead)


@nb.njit(**PARALLEL_OPTIONS)
def race_block(rs, lanes, nxt, table, found, dead, a, k, p, thr, stop, keystrokes_out,
               found_out, work, spent_out):
    """Advance every chunk by about ``work`` keystrokes (:func:`run_lanes`), chunks in
    parallel; ``spent_out[c]`` receives the keystrokes chunk ``c`` typed. Call through
    :func:`call_specialized` with ``a, k, p, thr`` (arguments 6 to 9) as literals."""
    for c in nb.prange(rs.shape[0]):
        spent_out[c] = run_lanes(rs[c], lanes[c], nxt[c], table, found, dead, a, k, p, thr,
                                 stop, keystrokes_out, found_out, work)


@nb.njit(**KERNEL_OPTIONS)
def draw_keys(lane, a, k, p, thr, out):
    """Write the next ``len(out)`` keys of one lane stream ``lane`` (uint64[5]) to ``out``
    (uint8), the way :func:`run_lanes` draws them (a trailing partial half is dropped)."""
    av = nb.uint64(a)
    i = 0
    n = out.shape[0]
    while i < n:
        r = accepted_half(lane, p, thr)
        for _ in range(min(k, n - i)):
            x = r * av
            out[i] = x >> nb.uint64(32)
            r = x & nb.uint64(MASK32)
            i += 1
