"""numba kernels for random typing: the xoshiro256** generator, key drawing and races.

Private module. Kernels take encoded arrays, caller-allocated outputs and explicit RNG state
arrays (``uint64[chunks, 4]``); they never touch Python objects or numpy's global RNG.
All kernel options live in :data:`KERNEL_OPTIONS` / :data:`PARALLEL_OPTIONS`.

Key drawing (shared by every kernel that types): one 64-bit xoshiro256** draw ``u`` yields
``k = keys_per_draw(A)`` keys, the ``k`` lowest base-``A`` digits of ``u``. Draws with
``u >= limit`` (``limit = A**k * floor(2**64 / A**k)``) are rejected, so every key is
exactly uniform. Each monkey starts on a fresh draw.

Speed: the alphabet size is a compile-time literal (see :func:`call_specialized`), so every
kernel is compiled (and cached) for its A, which turns ``u % A`` and ``u // A`` into
multiplications; and the
automaton is skipped while it sits in state 0 and the key is not the target's first key.
"""

from __future__ import annotations

import numba as nb
import numpy as np

KERNEL_OPTIONS = dict(cache=True, nogil=True)
PARALLEL_OPTIONS = dict(cache=True, nogil=True, parallel=True)

U64_MAX = (1 << 64) - 1


_SPECIALIZED: dict = {}


def call_specialized(dispatcher, literal_args: tuple[int, ...], *args):
    """Call ``dispatcher(*args)`` compiled with ``args[i]`` as a literal for i in literal_args.

    Same result as calling a function that applies ``numba.literally`` to those arguments,
    without numba's per-call retry of the non-literal signature (about 4 ms a call). The
    specialisation is compiled (or loaded from the cache) once and its entry point kept.
    """
    if not hasattr(dispatcher, "compile"):  # NUMBA_DISABLE_JIT=1: a plain Python function
        return dispatcher(*args)
    types = tuple(nb.types.literal(a) if i in literal_args else nb.typeof(a)
                  for i, a in enumerate(args))
    entry = _SPECIALIZED.get((dispatcher, types))
    if entry is None:
        entry = dispatcher.compile(types)
        _SPECIALIZED[(dispatcher, types)] = entry
    return entry(*args)


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


@nb.njit(**KERNEL_OPTIONS)
def kmp_resume(state, delta, first_key, alphabet_size, keys_per, limit, target_len, s, t, stop):
    """Type keys into the automaton ``delta`` from state ``s`` after ``t`` keystrokes, until
    it reaches ``target_len`` or ``t == stop``; returns ``(t, s, found)``.

    Starts on a fresh draw, so a monkey typed in pieces whose boundaries ``stop`` are
    multiples of ``keys_per`` keystrokes (or its budget) draws exactly the keys it would draw
    in one piece. ``delta`` is the int32[L + 1, A] transition table from ``kmp_automaton``;
    ``first_key`` is the target's first code (state 0 only moves on that key).
    """
    a = nb.uint64(alphabet_size)
    k0 = nb.uint64(first_key)
    while t < stop:
        u = accepted_draw(state, limit)
        n = keys_per
        if stop - t < n:
            n = stop - t
        for _ in range(n):
            key = u % a
            u = u // a
            t += 1
            if s == 0 and key != k0:
                continue
            s = delta[s, key]
            if s == target_len:
                return t, s, True
    return t, s, False


@nb.njit(**KERNEL_OPTIONS)
def kmp_step(state, delta, first_key, alphabet_size, keys_per, limit, target_len, budget):
    """Type keys into the automaton ``delta`` until it reaches ``target_len`` or ``budget``.

    Returns the keystrokes typed (the completing keystroke included) and whether the target
    was found (:func:`kmp_resume` from the start).
    """
    t, _, found = kmp_resume(state, delta, first_key, alphabet_size, keys_per, limit,
                             target_len, 0, 0, budget)
    return t, found


@nb.njit(**KERNEL_OPTIONS)
def document_resume(state, target, alphabet_size, keys_per, limit, t, u, left, stop):
    """Type whole documents of ``len(target)`` keys, from ``t`` keystrokes with the current
    draw ``u`` holding ``left`` unused keys, until one equals ``target`` or no whole document
    fits before ``stop``; returns ``(t, found, u, left)``. Every key of every document is
    drawn."""
    a = nb.uint64(alphabet_size)
    length = target.shape[0]
    while t + length <= stop:
        ok = True
        for i in range(length):
            if left == 0:
                u = accepted_draw(state, limit)
                left = keys_per
            key = u % a
            u = u // a
            left -= 1
            if key != target[i]:
                ok = False
        t += length
        if ok:
            return t, True, u, left
    return t, False, u, left


@nb.njit(**KERNEL_OPTIONS)
def document_step(state, target, alphabet_size, keys_per, limit, budget):
    """Type whole documents of ``len(target)`` keys until one equals ``target`` exactly.

    Returns (keystrokes, found); ``budget`` is in keystrokes and only whole documents are
    typed (:func:`document_resume` from the start, on a fresh draw).
    """
    t, found, _, _ = document_resume(state, target, alphabet_size, keys_per, limit, 0,
                                     nb.uint64(0), 0, budget)
    return t, found


@nb.njit(**PARALLEL_OPTIONS)
def race_chunks(states, chunk_size, monkeys, delta, target, alphabet_size, keys_per, limit,
                budget, document_mode, keystrokes_out, found_out):
    """Run a race for ``monkeys`` monkeys, chunk ``c`` typing from ``states[c]``.

    Monkeys ``c*chunk_size .. (c+1)*chunk_size-1`` type one after another from their chunk's
    stream; chunks run in parallel. Writes int64 keystrokes and bool found per monkey.
    Call through :func:`call_specialized` with ``alphabet_size`` and ``keys_per`` (arguments
    5 and 6) as literals.
    """
    n_chunk = states.shape[0]
    length = target.shape[0]
    for c in nb.prange(n_chunk):
        st = states[c]
        lo = c * chunk_size
        hi = min(lo + chunk_size, monkeys)
        for m in range(lo, hi):
            if document_mode:
                t, f = document_step(st, target, alphabet_size, keys_per, limit, budget)
            else:
                t, f = kmp_step(st, delta, target[0], alphabet_size, keys_per, limit, length,
                                budget)
            keystrokes_out[m] = t
            found_out[m] = f


@nb.njit(**PARALLEL_OPTIONS)
def race_chunks_block(states, chunk_size, monkeys, delta, target, alphabet_size, keys_per,
                      limit, budget, document_mode, keystrokes_out, found_out, pos, draws,
                      work, spent_out):
    """:func:`race_chunks` in pieces: advance every chunk by about ``work`` keystrokes.

    ``pos[c]`` = (next monkey of chunk ``c``, its keystrokes so far, its automaton state,
    unused keys in its current draw), ``draws[c]`` = that draw (document mode; uint64); both
    are updated, so repeated calls until every chunk's monkey index reaches its end give
    exactly the results of one :func:`race_chunks` call (stream-mode pieces end on multiples
    of ``keys_per`` keystrokes, document-mode pieces on whole documents). ``spent_out[c]``
    receives the keystrokes chunk ``c`` typed. Call through :func:`call_specialized` with
    arguments 5 and 6 as literals.
    """
    n_chunk = states.shape[0]
    length = target.shape[0]
    for c in nb.prange(n_chunk):
        st = states[c]
        hi = min((c + 1) * chunk_size, monkeys)
        m = pos[c, 0]
        t = pos[c, 1]
        s = pos[c, 2]
        left = pos[c, 3]
        u = draws[c]
        spent = 0
        while m < hi and spent < work:
            t0 = t
            if document_mode:
                room = max(length, (work - spent) // length * length)
                t, f, u, left = document_resume(st, target, alphabet_size, keys_per, limit,
                                                t, u, left, min(budget, t + room))
                done = f or t + length > budget
            else:
                room = max(keys_per, (work - spent) // keys_per * keys_per)
                t, s, f = kmp_resume(st, delta, target[0], alphabet_size, keys_per, limit,
                                     length, s, t, min(budget, t + room))
                done = f or t >= budget
            spent += t - t0
            if done:
                keystrokes_out[m] = t
                found_out[m] = f
                m += 1
                t = 0
                s = 0
                u = nb.uint64(0)
                left = 0
        pos[c, 0] = m
        pos[c, 1] = t
        pos[c, 2] = s
        pos[c, 3] = left
        draws[c] = u
        spent_out[c] = spent


@nb.njit(**KERNEL_OPTIONS)
def draw_sum(state, alphabet_size, keys_per, limit, keys):
    """Draw ``keys`` keys (the same way :func:`kmp_step` does) and return their sum."""
    a = nb.uint64(alphabet_size)
    total = nb.uint64(0)
    t = 0
    while t < keys:
        u = accepted_draw(state, limit)
        n = keys_per
        if keys - t < n:
            n = keys - t
        for _ in range(n):
            total += u % a
            u = u // a
        t += n
    return total


@nb.njit(**PARALLEL_OPTIONS)
def rng_limit_chunks(states, alphabet_size, keys_per, limit, keys_per_chunk, sums_out):
    """Ceiling benchmark: draw ``keys_per_chunk`` keys per chunk and sum them (no typing).

    Same generator and key drawing as the race kernel; call through :func:`call_specialized`
    with arguments 1 and 2 as literals.
    """
    for c in nb.prange(states.shape[0]):
        sums_out[c] = draw_sum(states[c], alphabet_size, keys_per, limit, keys_per_chunk)
