"""numba kernels for random typing: races of monkeys against a target.

Private module. Kernels take encoded arrays, caller-allocated outputs and explicit RNG state
arrays (``uint64[chunks, 4]``); keys are drawn as in :mod:`monkeysim._kernels.random`. The
alphabet size is a compile-time literal (:func:`~monkeysim._kernels.options.call_specialized`),
and the automaton is skipped while it sits in state 0 and the key is not the target's first
key.
"""

from __future__ import annotations

import numba as nb

from .options import KERNEL_OPTIONS, PARALLEL_OPTIONS
from .random import accepted_draw


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
