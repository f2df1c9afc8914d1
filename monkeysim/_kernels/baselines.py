"""numba kernels for the learning baselines: Dawkins' weasel and coordinate search.

Private module. Every document is scored by the shared reviewer kernel ``score_one`` (one
reviewer call per scored document). Each run ``s`` of a batch draws from its own xoshiro256**
state ``states[s]``; runs are parallel over ``s`` and independent of the thread count.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from .options import KERNEL_OPTIONS, PARALLEL_OPTIONS
from .policy_reviewer import normal
from .random import next_double, next_u64
from .reward import score_one


@nb.njit(**KERNEL_OPTIONS)
def uniform_below(state, n):
    """Exactly uniform integer in [0, n) (rejection of the top partial block of 2**64)."""
    nn = nb.uint64(n)
    limit = (nb.uint64(0xFFFFFFFFFFFFFFFF) // nn) * nn
    u = next_u64(state)
    while u >= limit:
        u = next_u64(state)
    return np.int64(u % nn)


@nb.njit(**KERNEL_OPTIONS)
def random_document(state, alphabet_size, doc):
    for i in range(doc.shape[0]):
        doc[i] = uniform_below(state, alphabet_size)


@nb.njit(**KERNEL_OPTIONS)
def same(doc, target):
    for i in range(target.shape[0]):
        if doc[i] != target[i]:
            return False
    return True


@nb.njit(**KERNEL_OPTIONS)
def weasel_run(state, target, alphabet_size, offspring, mutation_rate, latching, max_calls,
               rev, noise_sd, parent, child, best):
    """Dawkins' weasel: each generation ``offspring`` mutated copies of the parent are scored
    and the best (first on ties) becomes the next parent. Each key of a copy is replaced by a
    uniformly random key with probability ``mutation_rate``; with ``latching`` keys that
    already match the target are never mutated. The first parent is a random document (not
    scored). Stops when the parent is the target or the next generation would exceed
    ``max_calls``. Returns (reviewer calls, generations, solved); ``parent`` ends as the last
    parent. A noisy reviewer adds Gaussian noise of standard deviation ``noise_sd`` (reward
    units) to every reported score, drawn from ``state`` right after the offspring is scored
    (no draws when ``noise_sd`` is 0, so the noiseless stream is unchanged); the best
    offspring is the one with the best *reported* score.
    """
    length = target.shape[0]
    random_document(state, alphabet_size, parent)
    if same(parent, target):
        return 0, 0, True
    calls = 0
    generations = 0
    while calls + offspring <= max_calls:
        best_score = -np.inf  # noisy scores can be negative
        for _ in range(offspring):
            for i in range(length):
                child[i] = parent[i]
                if latching and parent[i] == target[i]:
                    continue
                if next_double(state) < mutation_rate:
                    child[i] = uniform_below(state, alphabet_size)
            sc = score_one(rev, child)
            if noise_sd > 0.0:
                sc += noise_sd * normal(state)
            calls += 1
            if sc > best_score:
                best_score = sc
                best[:] = child
        parent[:] = best
        generations += 1
        if same(parent, target):
            return calls, generations, True
    return calls, generations, False


@nb.njit(**PARALLEL_OPTIONS)
def weasel_batch(states, target, alphabet_size, offspring, mutation_rate, latching, max_calls,
                 rev, noise_sd, calls_out, generations_out, solved_out, final_out):
    """``states.shape[0]`` independent weasel runs (parallel); final parents to ``final_out``."""
    length = target.shape[0]
    for s in nb.prange(states.shape[0]):
        child = np.empty(length, dtype=np.uint8)
        best = np.empty(length, dtype=np.uint8)
        c, g, ok = weasel_run(states[s], target, alphabet_size, offspring, mutation_rate,
                              latching, max_calls, rev, noise_sd, final_out[s], child, best)
        calls_out[s] = c
        generations_out[s] = g
        solved_out[s] = ok


@nb.njit(**KERNEL_OPTIONS)
def coordinate_run(state, target, alphabet_size, early_stop, max_calls, rev, doc):
    """Coordinate search with perfect bookkeeping.

    Start from a random document (scored: 1 call). For each position in turn, try the other
    keys in a random order (one call each) and keep the best; with ``early_stop`` move on at
    the first key that improves the score (for hamming bananas that key is right). Stops when
    the document is the target, after the last position, or at ``max_calls``.
    Returns (reviewer calls, positions visited, solved); ``doc`` ends as the final document.
    """
    length = target.shape[0]
    order = np.empty(alphabet_size, dtype=np.int64)
    random_document(state, alphabet_size, doc)
    cur = score_one(rev, doc)
    calls = 1
    if same(doc, target):
        return calls, 0, True
    for i in range(length):
        for a in range(alphabet_size):
            order[a] = a
        for a in range(alphabet_size - 1, 0, -1):  # Fisher-Yates shuffle
            j = uniform_below(state, a + 1)
            t = order[a]
            order[a] = order[j]
            order[j] = t
        orig = doc[i]
        best_key = orig
        best = cur
        for a in range(alphabet_size):
            key = order[a]
            if key == orig:
                continue
            if calls >= max_calls:
                doc[i] = best_key
                return calls, i + 1, same(doc, target)
            doc[i] = key
            sc = score_one(rev, doc)
            calls += 1
            if sc > best:
                best = sc
                best_key = key
                if early_stop:
                    break
        doc[i] = best_key
        cur = best
        if same(doc, target):
            return calls, i + 1, True
    return calls, length, False


@nb.njit(**PARALLEL_OPTIONS)
def coordinate_batch(states, target, alphabet_size, early_stop, max_calls, rev, calls_out,
                     positions_out, solved_out, final_out):
    """``states.shape[0]`` independent coordinate searches (parallel)."""
    for s in nb.prange(states.shape[0]):
        c, p, ok = coordinate_run(states[s], target, alphabet_size, early_stop, max_calls,
                                  rev, final_out[s])
        calls_out[s] = c
        positions_out[s] = p
        solved_out[s] = ok
