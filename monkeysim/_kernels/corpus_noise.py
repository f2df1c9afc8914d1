"""numba kernels of the corpus run under a noisy reviewer: sound credit from noisy scores.

The reviewer reports ``(K + σ·Z) / L`` for a document with ``K`` correct keys out of ``L``
(``Z`` standard normal, independent for every call; σ is in characters). The learning rule is
the one of :mod:`monkeysim._kernels.corpus` (group REINFORCE with the mean baseline, sparse
exact update; REINFORCE takes the noisy scores as they are, which keeps it unbiased), but the
exact inferences there (settle, drop, the end of a line) would be unsound: one unlucky score
settles a wrong key for good. Here every inference rests on a stated test.

**The score test.** A document is scored ``c`` times (each a reviewer call, counted), the
scores summing to ``s``. With Gaussian noise of known σ the log likelihood ratio of "its score
is ``h``" against its neighbours is::

    λ⁻(h) = (s − c·(h − ½)) / σ²   (h against h − 1)
    λ⁺(h) = (c·(h + ½) − s) / σ²   (h against h + 1)

The test decides ``h`` (the integer nearest the mean ``s/c``) once ``min(λ⁻, λ⁺) ≥ log(2/δ)``.
A side is not needed when the facts established so far exclude that neighbour (the score of a
document lies between bounds that the settled keys and the greedy document's decided score
imply: ``lo ≤ K ≤ hi``). Soundness: if the true score is ``K < h``, then λ⁻(h) ≤ λ(K+1 : K)
(the Gaussian likelihood ratio is monotone in the mean), and ``exp λ(K+1 : K)`` is a
non-negative martingale with mean 1 under ``K``; by Ville's inequality it ever reaches ``2/δ``
with probability ≤ δ/2, *whatever the stopping rule*. The same holds above, so a decided score
is wrong with probability ≤ δ given the facts, even though documents are screened on their
first score, re-scored only while some useful value stays plausible and given up otherwise.
A decided value outside the facts (both sides tested) is a contradiction: the facts are
discarded (settled keys unsettled, dropped keys restored; the policy's weights stay).

**The credit rules** are those of the noiseless kernel applied to decided scores: a score that
moved by exactly the number of changed positions settles them; a single changed position whose
score did not move drops both keys; a document that matches only on settled positions drops
every key it typed elsewhere. Candidate values of a typed document ``k`` (which differs from
the reference on ``|S|`` positions and types ``known`` right keys on settled ones): ``ref+|S|``,
``ref−|S|``, ``ref`` (if ``|S| = 1``) and ``known``.

**The end of a line.** The ``j``-th test of a line that could end it (its facts allow ``K = L``)
needs ``λ⁻(L) ≥ log(π² j² / (6δ))`` from the greedy document's own scores (the facts are never
used for the end); these error chances sum to at most δ (Σ 1/j² = π²/6), so a line is claimed
typed while it is not with probability ≤ δ, whatever happened before.

**Spending reviewer calls.** The greedy document is tested (scored until its score is decided)
when it changed and at least :data:`GREEDY_EVERY` steps passed since its last test, or when no
reference exists, or when its facts allow it to be the line, or when the troop can type
nothing else. A typed document is re-scored only when its first score leaves some candidate at
least as likely as its neighbours (``min(λ⁻, λ⁺) ≥ −SCREEN``), and given up when every
candidate falls below ``−FUTILE`` or after :data:`MAX_SCORES` scores. Recovery: a drop that
empties a position restores its keys; a greedy document that the troop can no longer change and
whose facts say it is wrong restores the keys of every unsettled position.

Noise draws come from a second xoshiro256** stream per line (:func:`noise_key` of the run's
key, then :func:`~monkeysim._kernels.corpus.line_state`), so typing draws are the same as
without noise and results depend on neither threads, chunking nor backend.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from .corpus import (
    GREEDY_PAIRS,
    GROUP_PAIRS,
    N_ST,
    PLAIN,
    ZERO_HITS,
    _pair_credit,
    _splitmix64,
    _zero_hit_credit,
    diverged,
    fresh_line,
    greedy_tables,
    line_state,
    line_stats,
    reinforce_step,
    type_document,
    unsettled,
)
from .options import KERNEL_OPTIONS, PARALLEL_OPTIONS
from .policy_reviewer import normal

NOISE_STREAM = 0x4E4F495345  # "NOISE": the noise key is splitmix64 of the run key ^ this
GREEDY_EVERY = 16
"""Steps between two tests of a greedy document that changed on more than
:data:`SMALL_CHANGE` positions since the reference."""
SMALL_CHANGE = 3
"""A greedy document that differs from the reference on at most this many positions is tested
at once (its pair credit is most likely decisive)."""
SCREEN = 0.0
"""A typed document is re-scored only if after its first score some candidate has
min(λ⁻, λ⁺) ≥ −SCREEN (at least as likely as its neighbours)."""
FUTILE = 3.0
"""Re-scoring a typed document stops when every candidate has min(λ⁻, λ⁺) < −FUTILE."""
MAX_SCORES = 30
"""At most this many scores of one typed document."""
STALL_STEPS = 100
"""Steps without any change of the greedy document and without credit, while its facts say
it is wrong, after which the unsettled positions start afresh (keys restored, uniform)."""
NONE = -(1 << 30)  # a candidate that does not apply


@nb.njit(**KERNEL_OPTIONS)
def noise_key(key):
    """The 64-bit key of the run's noise streams (line ``n`` draws noise from
    ``line_state(noise_key(key), n)``)."""
    _, z = _splitmix64(nb.uint64(key) ^ nb.uint64(NOISE_STREAM))
    return z


@nb.njit(**KERNEL_OPTIONS)
def noisy_score(h, sigma, nstate):
    """The reviewer's score of a document with ``h`` correct keys, in characters."""
    return h + sigma * normal(nstate)


@nb.njit(**KERNEL_OPTIONS)
def side_llr(s, c, h, lo, hi, s2):
    """min(λ⁻(h), λ⁺(h)) after ``c`` scores summing to ``s`` (``s2`` = σ²); the side whose
    neighbour lies outside [lo, hi] is not needed (+inf)."""
    below = math.inf if h <= lo else (s - c * (h - 0.5)) / s2
    above = math.inf if h >= hi else (c * (h + 0.5) - s) / s2
    return min(below, above)


@nb.njit(**KERNEL_OPTIONS)
def decide(s, c, lo, hi, n, s2, thr, thr_end):
    """The score decided by ``c`` scores summing to ``s``: ``(value, outside)``; value −1 if
    undecided. Within the facts [lo, hi] a bound needs no test on its far side and ``n`` (the
    whole line) needs λ⁻ ≥ ``thr_end``; a value outside the facts needs both sides (``outside``
    is then True: the facts are contradicted)."""
    k = int(math.floor(s / c + 0.5))
    k = min(max(k, 0), n)
    if lo <= k <= hi:
        if k == n:
            return (n, False) if (s - c * (n - 0.5)) / s2 >= thr_end else (-1, False)
        return (k, False) if side_llr(s, c, k, lo, hi, s2) >= thr else (-1, False)
    return (k, True) if side_llr(s, c, k, 0, n, s2) >= thr else (-1, False)


@nb.njit(**KERNEL_OPTIONS)
def best_candidate(s, c, cands, lo, hi, s2):
    """The largest min(λ⁻, λ⁺) over the candidates within [lo, hi] (−inf if none)."""
    best = -math.inf
    for v in cands:
        if lo <= v <= hi:
            best = max(best, side_llr(s, c, v, lo, hi, s2))
    return best


@nb.njit(**KERNEL_OPTIONS)
def score_test(h, s, c, lo, hi, n, sigma, thr, thr_end, cands, screen, futile, max_scores,
               budget, nstate):
    """Score a document with ``h`` correct keys until its score is decided.

    Starts from ``c`` scores summing to ``s`` (its first score may come from the group). With
    candidates (``cands`` non-empty) it stops early when none is plausible: after the first
    score if the best has min(λ⁻, λ⁺) < −``screen``, later below −``futile`` or at
    ``max_scores`` scores. At most ``budget`` new calls. Returns ``(value, outside, s, c,
    calls, banana_sum)``: value −1 if undecided; ``banana_sum`` is the sum of the new scores
    (characters).
    """
    s2 = sigma * sigma
    calls = 0
    got = 0.0
    while True:
        if c > 0:
            v, outside = decide(s, c, lo, hi, n, s2, thr, thr_end)
            if v >= 0:
                return v, outside, s, c, calls, got
            if cands.shape[0] > 0:
                b = best_candidate(s, c, cands, lo, hi, s2)
                if (c == 1 and b < -screen) or b < -futile or c >= max_scores:
                    return -1, False, s, c, calls, got
        if calls >= budget:
            return -1, False, s, c, calls, got
        y = noisy_score(h, sigma, nstate)
        calls += 1
        got += y
        s += y
        c += 1


@nb.njit(**KERNEL_OPTIONS)
def _restore_empty(m, a_size):
    """A drop emptied a position (its right key was dropped): restore all its keys."""
    r = 0
    for i in range(m.shape[0]):
        if m[i] == 0:
            m[i] = a_size
            r += 1
    return r


@nb.njit(**KERNEL_OPTIONS)
def learn_line_noisy(target, a_size, group, lr, credit, max_calls, sigma, delta, state,
                     nstate, doc, stats):
    """Learn one line from a reviewer whose scores carry Gaussian noise of ``sigma``
    characters, with sound credit (see the module docstring) at error ``delta`` per inference.

    Arguments as :func:`monkeysim._kernels.corpus.learn_line` plus ``sigma`` > 0, ``delta``
    in (0, 1) and ``nstate``, the line's noise stream. ``stats`` int64[N_ST]: ST_SOLVED is the
    run's own claim (the end test passed); ST_EXACT compares the final document with the
    target after the line ended (for reporting only); ST_RESCORES counts reviewer calls that
    scored a document again; ST_RESETS counts facts discarded or keys restored. Returns the
    bananas eaten (the sum of the noisy rewards of every reviewer call), NaN if learning
    diverged.
    """
    n = target.shape[0]
    thr = math.log(2.0 / delta)
    keys, m, w, cdf, z, settled = fresh_line(n, a_size)
    shown = np.zeros(n, np.uint8)  # the reference: a document whose score is a fact
    shown_hits = -1  # its score (−1: no reference)
    gs = 0.0  # scores of the greedy document since it last changed: sum and count
    gc = 0
    gdone = False  # its test has ended
    docs = np.empty((group, n), np.uint8)
    slots = np.empty((group, n), np.int64)
    hits = np.empty(group, np.int64)
    ys = np.empty(group)
    adv = np.empty(group)
    active = np.empty(n, np.int64)
    no_cands = np.empty(0, np.int64)
    end_cands = np.full(1, n, np.int64)
    cands = np.empty(4, np.int64)
    calls = 0
    keystrokes = 0
    steps = 0
    dropped = 0
    rescores = 0
    resets = 0
    n_end = 0  # tests so far that could end the line
    last_test = -GREEDY_EVERY
    last_event = 0  # the last step at which the greedy document changed or credit came
    bananas = 0.0
    solved = False
    first = True
    while True:
        # tables of the unsettled positions and the greedy document (free: unsettled
        # positions with a choice left)
        n_active, changed, free = greedy_tables(w, cdf, z, m, keys, settled, active, doc, first)
        first = False
        if diverged(z, active, n_active):
            bananas = math.nan
            break
        if changed:
            gs = 0.0
            gc = 0
            gdone = False
            last_event = steps
        n_set = n - n_active
        n_diff = 0
        h_true = 0
        for i in range(n):
            n_diff += 1 if doc[i] != shown[i] else 0
            h_true += 1 if doc[i] == target[i] else 0
        # the facts bound the greedy document's score
        if credit == PLAIN or shown_hits < 0:
            lo, hi = n_set, n
        else:
            lo, hi = max(n_set, shown_hits - n_diff), min(n, shown_hits + n_diff)
        if lo > hi:  # the facts contradict each other
            settled[:] = False
            m[:] = a_size
            shown_hits = -1
            resets += 1
            continue
        stalled = steps - last_event >= STALL_STEPS and (hi < n or credit == PLAIN)
        if (free == 0 and hi < n) or stalled:
            # the troop can type nothing else, or has long typed nothing new, and the facts
            # say it is wrong: the unsettled positions start afresh
            for i in range(n):
                if not settled[i]:
                    m[i] = a_size
                    if stalled:
                        w[i, :] = 1.0
            resets += 1
            last_event = steps
            continue
        if credit == PLAIN:  # only the end is tested; a futile test is taken up again
            due = not gdone or steps - last_test >= GREEDY_EVERY
        else:  # a document that the facts allow to be the line is always due
            due = hi == n or (not gdone and n_diff > 0)
        gate = (steps - last_test >= GREEDY_EVERY or free == 0 or (
            credit != PLAIN and (n_diff <= SMALL_CHANGE or shown_hits < 0)))
        if due and gate:  # test the greedy document's score
            thr_end = thr
            if hi == n:
                n_end += 1
                thr_end = math.log(math.pi * math.pi * n_end * n_end / (6.0 * delta))
            c0 = gc
            kg, outside, gs, gc, used, got = score_test(
                h_true, gs, gc, lo, hi, n, sigma, thr, thr_end,
                end_cands if credit == PLAIN else no_cands, math.inf, FUTILE, 1 << 30,
                max_calls - calls, nstate)
            calls += used
            keystrokes += used * n
            bananas += got / n
            rescores += max(0, gc - max(c0, 1))
            gdone = True
            last_test = steps
            if kg < 0 and calls >= max_calls:
                break
            if kg == n and not outside:
                solved = True
                break
            if kg >= 0 and credit != PLAIN:
                if outside:  # the facts were wrong: start over from this score
                    settled[:] = False
                    m[:] = a_size
                    resets += 1
                    shown[:] = doc
                    shown_hits = kg
                    gdone = False  # the same scores go on (a score of L must still pass)
                    continue
                h = kg
                dr = 0
                verdict = 0
                if shown_hits >= 0:
                    _, dr, verdict = _pair_credit(doc, h, shown, shown_hits, doc, settled,
                                                  keys, w, m)
                    if verdict < 0:  # the old keys were right: back to the reference
                        h = shown_hits
                        gs = 0.0
                        gc = 0
                if credit >= ZERO_HITS:
                    dr += _zero_hit_credit(doc, h, doc, settled, keys, w, m)
                dropped += dr
                resets += _restore_empty(m, a_size)
                if dr > 0 or verdict != 0:
                    last_event = steps
                shown[:] = doc
                shown_hits = h
                if dr > 0:
                    continue
        if calls + group > max_calls:
            break
        if credit >= GREEDY_PAIRS:  # positions settled just now stop typing at random
            n_active = unsettled(settled, active, n_active)
        # the troop types a group of documents; the reviewer scores each (with noise)
        n_right = 0  # the reviewer counts every position: a wrongly settled key is no match
        for i in range(n):
            n_right += 1 if settled[i] and doc[i] == target[i] else 0
        for k in range(group):
            hits[k] = type_document(state, cdf, z, m, keys, active, n_active, doc, target,
                                    n_right, docs[k], slots[k])
            ys[k] = noisy_score(hits[k], sigma, nstate)
        calls += group
        keystrokes += group * n
        steps += 1
        # sparse REINFORCE on the noisy scores (unbiased), as in the noiseless kernel
        bananas += reinforce_step(w, slots, active, n_active, ys, adv, lr, n)
        if credit < GROUP_PAIRS or shown_hits < 0:
            continue
        # credit from each typed document against the reference, by the score test
        for k in range(group):
            known = 0
            n_changed = 0
            for i in range(n):
                known += 1 if settled[i] and docs[k, i] == shown[i] else 0
                n_changed += 1 if docs[k, i] != shown[i] else 0
            if n_changed == 0:
                continue
            cands[0] = shown_hits + n_changed
            cands[1] = shown_hits - n_changed
            cands[2] = shown_hits if n_changed == 1 else NONE
            cands[3] = known if credit >= ZERO_HITS else NONE
            lo, hi = max(known, shown_hits - n_changed), min(n, shown_hits + n_changed)
            v, outside, _, c, used, got = score_test(
                hits[k], ys[k], 1, lo, hi, n, sigma, thr, thr, cands, SCREEN, FUTILE,
                MAX_SCORES, max_calls - calls, nstate)
            calls += used
            keystrokes += used * n
            bananas += got / n
            rescores += used
            if v < 0:
                continue
            if outside:  # the facts were wrong: start over with a new reference
                settled[:] = False
                m[:] = a_size
                resets += 1
                shown_hits = -1
                break
            if v == cands[3]:
                dropped += _zero_hit_credit(docs[k], v, shown, settled, keys, w, m)
                last_event = steps
            if v == cands[0] or v == cands[1] or v == cands[2]:
                g, dr, _ = _pair_credit(docs[k], v, shown, shown_hits, shown, settled, keys,
                                        w, m)
                shown_hits += g  # the reference took the right keys of ``docs[k]``
                dropped += dr
                last_event = steps
            resets += _restore_empty(m, a_size)
        synced = False
        for i in range(n):  # the greedy document types the settled keys
            if settled[i] and doc[i] != shown[i]:
                doc[i] = shown[i]
                synced = True
        if synced:  # another document now: its scores start over
            gs = 0.0
            gc = 0
            gdone = False
    line_stats(stats, solved, calls, keystrokes, steps, settled, dropped, doc, target, rescores,
               resets)
    return bananas


@nb.njit(**PARALLEL_OPTIONS)
def learn_lines_noisy(codes, offsets, first_index, key, a_size, group, lr, credit, max_calls,
                      sigma, delta, docs_out, stats_out, bananas_out):
    """:func:`monkeysim._kernels.corpus.learn_lines` with a noisy reviewer (``sigma`` > 0
    characters, error ``delta`` per inference): line ``j`` types from
    ``line_state(key, first_index + j)`` and draws noise from
    ``line_state(noise_key(key), first_index + j)``."""
    n_lines = offsets.shape[0] - 1
    nkey = noise_key(key)
    for j in nb.prange(n_lines):
        a, b = offsets[j], offsets[j + 1]
        state = line_state(key, first_index + j)
        nstate = line_state(nkey, first_index + j)
        doc = np.zeros(b - a, np.uint8)
        st = np.zeros(N_ST, np.int64)
        bananas_out[j] = learn_line_noisy(codes[a:b], a_size, group, lr, credit, max_calls,
                                          sigma, delta, state, nstate, doc, st)
        docs_out[a:b] = doc
        stats_out[j, :] = st
