"""numba kernels of the corpus run: a troop of learning monkeys per line, many lines at once.

One line of dialogue (codes ``target[L]`` over an alphabet of ``A`` keys) is learned by a
positional policy (logits per position, 0 = uniform) with group REINFORCE against the
``hamming`` reviewer (reward = fraction of positions that match; the greedy document is scored
by the reviewer kernel :func:`monkeysim._kernels.reward.hamming_matches`, a typed document
incrementally, counting only the positions it drew):

- each step the troop types ``G`` documents (``G`` reviewer calls, ``G·L`` keystrokes);
- advantages ``A_k = R_k − mean(R)`` sum to zero, so the exact score-function update
  ``Σ_k A_k (e_{x_k,i} − p_i)`` is ``Σ_k A_k e_{x_k,i}``: only the logits of keys actually
  typed move (sparse), and each row's weights ``w = exp(θ)`` change in those entries only;
- the greedy document (argmax per position) is shown to the reviewer whenever it changes
  (one call, ``L`` keystrokes); the line is done when the reviewer's scores prove it right.

Credit levels on top of that (``credit``, each adds to the previous; PLAIN is the reference):
GREEDY_PAIRS compares the scores of consecutive greedy documents, GROUP_PAIRS compares each
typed document with the greedy one, ZERO_HITS uses documents that match nowhere off their
settled positions. A score that moved by exactly the number of changed positions settles
them (frozen for good, with the right key); a refuted key is dropped from its position's
live keys. Both are exact inferences from the reviewer's scores, never guesses.

Lines are independent: line ``n`` of a run draws from its own xoshiro256** state, derived
from the run key and ``n`` by splitmix64, so results depend on neither threads nor chunking.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from .options import KERNEL_OPTIONS, PARALLEL_OPTIONS
from .random import next_double
from .reward import hamming_matches

# columns of the per-line statistics; ST_EXACT (the final document equals the line, checked
# after the line ended, for reporting), ST_RESCORES and ST_RESETS (noisy reviewer only, see
# :mod:`monkeysim._kernels.corpus_noise`) follow the six of the noiseless run
(ST_SOLVED, ST_CALLS, ST_KEYSTROKES, ST_STEPS, ST_SETTLED, ST_DROPPED, ST_EXACT, ST_RESCORES,
 ST_RESETS) = range(9)
N_ST = 9

# credit levels (each adds to the previous)
PLAIN, GREEDY_PAIRS, GROUP_PAIRS, ZERO_HITS = range(4)


@nb.njit(**KERNEL_OPTIONS)
def _splitmix64(x):
    x = x + nb.uint64(0x9E3779B97F4A7C15)
    z = x
    z = (z ^ (z >> nb.uint64(30))) * nb.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> nb.uint64(27))) * nb.uint64(0x94D049BB133111EB)
    return x, z ^ (z >> nb.uint64(31))


@nb.njit(**KERNEL_OPTIONS)
def line_state(key, index):
    """xoshiro256** state (uint64[4]) of line ``index`` of the run with 64-bit ``key``."""
    state = np.empty(4, np.uint64)
    x = nb.uint64(key) ^ (nb.uint64(index) * nb.uint64(0xD1B54A32D192ED03))
    for j in range(4):
        x, state[j] = _splitmix64(x)
    return state


@nb.njit(**KERNEL_OPTIONS)
def _scan_row(w_row, cdf_row, m):
    """Running sums of the ``m`` live weights into ``cdf_row``; returns (sum, argmax slot)."""
    s = 0.0
    best = 0
    top = w_row[0]
    for a in range(m):
        x = w_row[a]
        s += x
        cdf_row[a] = s
        better = x > top  # branch-free argmax (the first of equal maxima)
        best = a if better else best
        top = x if better else top
    return s, best


@nb.njit(**KERNEL_OPTIONS)
def _draw(state, cdf_row, z, m):
    """One slot from the running sums of ``m`` live slots with total ``z`` (inverse CDF,
    branch-free count)."""
    u = next_double(state) * z
    a = 0
    for j in range(m - 1):
        a += 1 if u >= cdf_row[j] else 0
    return a


@nb.njit(**KERNEL_OPTIONS)
def _drop(keys, w, m, i, c):
    """The reviewer refuted key ``c`` at position ``i``: remove it from the live slots.
    Returns 1 if it was live, else 0."""
    for s in range(m[i]):
        if keys[i, s] == c:
            last = m[i] - 1
            keys[i, s] = keys[i, last]
            w[i, s] = w[i, last]
            keys[i, last] = c
            m[i] = last
            return 1
    return 0


@nb.njit(**KERNEL_OPTIONS)
def _pair_credit(doc, hits, base, base_hits, out, settled, keys, w, m):
    """Exact credit on the positions where document ``doc`` (``hits`` matches) differs from
    the greedy document ``base`` (``base_hits`` matches), the set S.

    If the score is higher by |S|, every key of ``doc`` on S is right (verdict +1); if lower
    by |S|, every key of ``base`` on S is right (verdict −1): the positions of S are settled
    and ``out`` takes the right keys there. If S is one position and the score did not move,
    both keys there are wrong and are dropped. Returns (positions newly settled with a key
    of ``doc``, keys dropped, verdict).
    """
    n = doc.shape[0]
    n_changed = 0
    last = -1
    for i in range(n):
        if doc[i] != base[i]:
            n_changed += 1
            last = i
    d = hits - base_hits
    if n_changed == 0:
        return 0, 0, 0
    if d == n_changed or d == -n_changed:
        gained = 0
        for i in range(n):
            if doc[i] != base[i] and not settled[i]:
                settled[i] = True
                if d > 0:
                    out[i] = doc[i]
                    gained += 1
                else:
                    out[i] = base[i]
        return gained, 0, 1 if d > 0 else -1
    dropped = 0
    if n_changed == 1 and d == 0:
        dropped += _drop(keys, w, m, last, doc[last])
        dropped += _drop(keys, w, m, last, base[last])
    return 0, dropped, 0


@nb.njit(**KERNEL_OPTIONS)
def _zero_hit_credit(doc, hits, right, settled, keys, w, m):
    """If ``doc`` (``hits`` matches) matches nowhere but on settled positions where it typed
    the right key (``right``, the greedy document), every key it typed on the unsettled
    positions is wrong: drop them all. Returns the keys dropped."""
    n = doc.shape[0]
    known = 0
    for i in range(n):
        known += 1 if settled[i] and doc[i] == right[i] else 0
    dropped = 0
    if hits == known:
        for i in range(n):
            if not settled[i]:
                dropped += _drop(keys, w, m, i, doc[i])
    return dropped


@nb.njit(**KERNEL_OPTIONS)
def fresh_line(n, a_size):
    """A line's learner at the uniform policy: every key live at each of the ``n`` positions
    (``keys[n, A]`` slots, ``m[n]`` live counts), weights ``w = 1``, empty running sums
    ``cdf[n, A]`` and totals ``z[n]``, nothing settled."""
    keys = np.empty((n, a_size), np.uint8)
    for i in range(n):
        for a in range(a_size):
            keys[i, a] = a
    return (keys, np.full(n, a_size, np.int64), np.ones((n, a_size)), np.empty((n, a_size)),
            np.empty(n), np.zeros(n, np.bool_))


@nb.njit(**KERNEL_OPTIONS)
def greedy_tables(w, cdf, z, m, keys, settled, active, doc, refresh):
    """Running sums ``cdf``/``z`` of every unsettled position (listed into ``active``) and
    the greedy key of each into ``doc``. Returns ``(n_active, changed, free)``: ``changed``
    when a greedy key changed (always with ``refresh``), ``free`` the unsettled positions
    with a choice left (two or more live keys)."""
    n_active = 0
    changed = refresh
    free = 0
    for i in range(doc.shape[0]):
        if settled[i]:
            continue
        active[n_active] = i
        n_active += 1
        zi, best = _scan_row(w[i], cdf[i], m[i])
        z[i] = zi
        if keys[i, best] != doc[i] or refresh:
            doc[i] = keys[i, best]
            changed = True
        free += 1 if m[i] >= 2 else 0
    return n_active, changed, free


@nb.njit(**KERNEL_OPTIONS)
def diverged(z, active, n_active):
    """True when the weights ``w = exp(θ)`` of an active position left float64's range (their
    total ``z`` is not finite and positive: logits beyond about ±709, a step size far too
    large); the line then stops and returns NaN bananas (see :func:`learn_line`)."""
    for t in range(n_active):
        zi = z[active[t]]
        if not (zi > 0.0 and zi < math.inf):
            return True
    return False


@nb.njit(**KERNEL_OPTIONS)
def unsettled(settled, active, n_active):
    """Keep the unsettled positions of ``active[:n_active]`` in order; returns their count."""
    j = 0
    for t in range(n_active):
        if not settled[active[t]]:
            active[j] = active[t]
            j += 1
    return j


@nb.njit(**KERNEL_OPTIONS)
def type_document(state, cdf, z, m, keys, active, n_active, doc, target, h, out, slot):
    """One document of the troop: the greedy ``doc`` with each active position drawn from
    its live keys (slot in ``slot``, key in ``out``); returns ``h`` plus the active positions
    typed right (the caller's ``h`` counts the others)."""
    out[:] = doc
    for t in range(n_active):
        i = active[t]
        s = _draw(state, cdf[i], z[i], m[i])
        slot[i] = s
        c = keys[i, s]
        out[i] = c
        h += 1 if c == target[i] else 0
    return h


@nb.njit(**KERNEL_OPTIONS)
def sparse_update(w, slots, active, n_active, factor, group):
    """The sparse exact REINFORCE step: the weight of every typed key of document ``k`` is
    multiplied by ``factor[k] = exp(lr·A_k)`` (only typed keys move)."""
    for t in range(n_active):
        i = active[t]
        for k in range(group):
            w[i, slots[k, i]] *= factor[k]


@nb.njit(**KERNEL_OPTIONS)
def reinforce_step(w, slots, active, n_active, scores, adv, lr, n):
    """Group REINFORCE with the mean baseline on the group's ``scores[G]`` (matches, or noisy
    scores): advantages ``A_k = (s_k − mean) / n`` sum to zero, so the exact score-function
    update moves only typed keys, ``θ[i, x_k,i] += lr·A_k``, kept as ``w *= exp(lr·A_k)``
    (:func:`sparse_update`, G exps per step). Returns the group's bananas ``Σ_k s_k / n``."""
    group = scores.shape[0]
    total = 0.0
    for k in range(group):
        total += scores[k]
    mean = total / group
    for k in range(group):
        adv[k] = math.exp(lr * (scores[k] - mean) / n)
    sparse_update(w, slots, active, n_active, adv, group)
    return total / n


@nb.njit(**KERNEL_OPTIONS)
def line_stats(stats, solved, calls, keystrokes, steps, settled, dropped, doc, target,
               rescores, resets):
    """Fill one line's ``stats[N_ST]`` at its end (settled positions counted, and whether the
    greedy document ``doc`` is the target: checked only after the line ends, for reporting)."""
    n_settled = 0
    exact = 1
    for i in range(target.shape[0]):
        n_settled += 1 if settled[i] else 0
        exact = exact if doc[i] == target[i] else 0
    stats[ST_SOLVED] = 1 if solved else 0
    stats[ST_CALLS] = calls
    stats[ST_KEYSTROKES] = keystrokes
    stats[ST_STEPS] = steps
    stats[ST_SETTLED] = n_settled
    stats[ST_DROPPED] = dropped
    stats[ST_EXACT] = exact
    stats[ST_RESCORES] = rescores
    stats[ST_RESETS] = resets


@nb.njit(**KERNEL_OPTIONS)
def learn_line(target, a_size, group, lr, credit, max_calls, state, doc, stats):
    """Learn one line from the uniform policy: :func:`learn_line_from` with no prior."""
    return learn_line_from(target, a_size, group, lr, credit, max_calls, state, doc, stats,
                           np.empty((0, a_size)))


@nb.njit(**KERNEL_OPTIONS)
def start_from(w, prior):
    """Set the weights ``w[n, A]`` (every key live, in code order) to the initial policy
    ``prior[R, A]`` (chances per position; positions past ``R`` take its last row); an empty
    ``prior`` keeps the uniform start (``w = 1``)."""
    rows = prior.shape[0]
    if rows == 0:
        return
    for i in range(w.shape[0]):
        r = min(i, rows - 1)
        for a in range(w.shape[1]):
            w[i, a] = prior[r, a]


@nb.njit(**KERNEL_OPTIONS)
def learn_line_from(target, a_size, group, lr, credit, max_calls, state, doc, stats, prior):
    """Learn one line until the reviewer's scores prove the greedy document equals it.

    ``target``: uint8[L] codes; ``group``: documents per step (``G``); ``lr``: step size on
    the logits; ``credit``: PLAIN .. ZERO_HITS; ``max_calls``: budget of reviewer calls.
    Out: ``doc`` uint8[L], the final greedy document; ``stats`` int64[N_ST] (ST_EXACT checks
    ``doc`` against ``target`` after the line ended; no re-scores or resets without noise).
    Returns the bananas eaten (the sum of the rewards of every document the reviewer saw), or
    NaN if learning diverged (:func:`diverged`; ``stats`` then holds the steps taken).
    ``prior`` float64[R, A]: the initial policy (:func:`start_from`; ``R = 0``: uniform).

    Position ``i`` keeps its live keys in slots ``0..m[i]-1``: ``keys[i, s]`` (uint8),
    weights ``w[i, s] = exp(θ[i, s])`` (the logits live only through them) and running sums
    ``cdf[i, s]``; a dropped key is swapped out of the live slots.
    """
    n = target.shape[0]
    keys, m, w, cdf, z, settled = fresh_line(n, a_size)
    start_from(w, prior)
    shown = np.empty(n, np.uint8)
    shown_hits = -1  # matches of ``shown``, the greedy document the reviewer last scored
    docs = np.empty((group, n), np.uint8)
    slots = np.empty((group, n), np.int64)
    hits = np.empty(group, np.int64)
    adv = np.empty(group)
    active = np.empty(n, np.int64)
    calls = 0
    keystrokes = 0
    steps = 0
    dropped = 0
    bananas = 0.0
    solved = False
    while True:
        # tables of the live positions and the greedy document
        n_active, changed, _ = greedy_tables(w, cdf, z, m, keys, settled, active, doc,
                                             shown_hits < 0)
        if diverged(z, active, n_active):
            bananas = math.nan
            break
        if changed:  # the reviewer scores the new greedy document
            if calls + 1 > max_calls:
                break
            h = hamming_matches(doc, target)  # the hamming reviewer's kernel
            calls += 1
            keystrokes += n
            bananas += h / n
            dr = 0
            if credit >= GREEDY_PAIRS:
                if shown_hits >= 0:
                    _, dr, verdict = _pair_credit(doc, h, shown, shown_hits, doc, settled,
                                                  keys, w, m)
                    if verdict < 0:  # the old keys were right: back to the shown document
                        h = shown_hits
                if credit >= ZERO_HITS:
                    dr += _zero_hit_credit(doc, h, doc, settled, keys, w, m)
                dropped += dr
            shown[:] = doc
            shown_hits = h
            if dr > 0:  # live keys changed: new tables (and greedy document) first
                continue
        if shown_hits == n:  # the reviewer's scores prove the greedy document right
            solved = True
            break
        if calls + group > max_calls:
            break
        if credit >= GREEDY_PAIRS:  # positions settled just now stop typing at random
            n_active = unsettled(settled, active, n_active)
        # the troop types a group of documents; the reviewer scores each
        n_settled = n - n_active  # settled positions type their (right) key
        for k in range(group):
            hits[k] = type_document(state, cdf, z, m, keys, active, n_active, doc, target,
                                    n_settled, docs[k], slots[k])
        calls += group
        keystrokes += group * n
        steps += 1
        bananas += reinforce_step(w, slots, active, n_active, hits, adv, lr, n)
        if credit >= GROUP_PAIRS:  # exact credit from each document against the greedy one
            gained = 0
            for k in range(group):
                if credit >= ZERO_HITS:
                    dropped += _zero_hit_credit(docs[k], hits[k], doc, settled, keys, w, m)
                g, dr, _ = _pair_credit(docs[k], hits[k], shown, shown_hits, doc, settled,
                                        keys, w, m)
                gained += g
                dropped += dr
            shown_hits += gained
            shown[:] = doc
    line_stats(stats, solved, calls, keystrokes, steps, settled, dropped, doc, target, 0, 0)
    return bananas


@nb.njit(**KERNEL_OPTIONS)
def border_counts(codes, offsets):
    """``out[k]`` = number of lines with a border of length ``k`` (a prefix that is also a
    suffix; the whole line counts), so that Conway's mean waiting time summed over the lines
    is ``Σ_k out[k] · A^k``. KMP prefix function per line, O(total length)."""
    n_lines = offsets.shape[0] - 1
    longest = 0
    for j in range(n_lines):
        longest = max(longest, offsets[j + 1] - offsets[j])
    out = np.zeros(longest + 1, np.int64)
    pi = np.zeros(longest, np.int64)
    for j in range(n_lines):
        t = codes[offsets[j]:offsets[j + 1]]
        n = t.shape[0]
        if n == 0:
            continue
        pi[0] = 0
        for i in range(1, n):
            k = pi[i - 1]
            while k > 0 and t[i] != t[k]:
                k = pi[k - 1]
            if t[i] == t[k]:
                k += 1
            pi[i] = k
        k = n
        while k > 0:
            out[k] += 1
            k = pi[k - 1]
    return out


@nb.njit(**KERNEL_OPTIONS)
def learn_lines(codes, offsets, first_index, key, a_size, group, lr, credit, max_calls,
                docs_out, stats_out, bananas_out):
    """Learn lines ``0..n-1`` (``codes[offsets[j]:offsets[j+1]]``) in parallel from the
    uniform policy (:func:`learn_lines_from` with empty priors).

    Line ``j`` is line ``first_index + j`` of the run (its random stream). Outputs:
    ``docs_out`` (uint8, like ``codes``), ``stats_out`` int64[n, N_ST], ``bananas_out``
    float64[n].
    """
    learn_lines_from(codes, offsets, first_index, key, a_size, group, lr, credit, max_calls,
                     np.empty((1, 0, a_size)), np.zeros(offsets.shape[0] - 1, np.int64),
                     docs_out, stats_out, bananas_out)


@nb.njit(**PARALLEL_OPTIONS)
def learn_lines_from(codes, offsets, first_index, key, a_size, group, lr, credit, max_calls,
                     priors, line_model, docs_out, stats_out, bananas_out):
    """:func:`learn_lines` from pretrained starts: line ``j`` starts from the initial policy
    ``priors[line_model[j]]`` (float64[R, A], see :func:`start_from`)."""
    n_lines = offsets.shape[0] - 1
    for j in nb.prange(n_lines):
        a, b = offsets[j], offsets[j + 1]
        state = line_state(key, first_index + j)
        doc = np.zeros(b - a, np.uint8)
        st = np.zeros(N_ST, np.int64)
        bananas_out[j] = learn_line_from(codes[a:b], a_size, group, lr, credit, max_calls,
                                         state, doc, st, priors[line_model[j]])
        docs_out[a:b] = doc
        stats_out[j, :] = st
