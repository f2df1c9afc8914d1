"""Policy tables, rows and sampling; typing and scoring a monkey's documents.

Private module, part of the learner kernels: see
:mod:`monkeysim._kernels.policy` (which re-exports every name) for the whole step."""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from .options import KERNEL_OPTIONS, STEP_OPTIONS
from .policy_codes import MM_HITS, MM_K1, MM_K3, POSITIONAL, PREF_NONE
from .policy_reviewer import noisy_score
from .random import next_double
from .reward import EXACT, score_one


@nb.njit(**KERNEL_OPTIONS)
def row_tables(theta, logp, prob, cdf, r):
    """Row ``r`` of the tables of ``theta[R, A]``: ``logp`` (log-softmax), ``prob``
    (softmax) and ``cdf`` (running sums of ``prob``); one ``exp`` per logit. Returns
    ``Σ_a p²``."""
    a_size = theta.shape[1]
    mx = theta[r, 0]
    for a in range(1, a_size):
        x = theta[r, a]
        mx = x if x > mx else mx
    s = 0.0
    for a in range(a_size):
        e = math.exp(theta[r, a] - mx)
        prob[r, a] = e
        s += e
    inv = 1.0 / s
    lse = mx + math.log(s)
    c = 0.0
    sq = 0.0
    for a in range(a_size):
        pa = prob[r, a] * inv
        prob[r, a] = pa
        logp[r, a] = theta[r, a] - lse
        c += pa
        cdf[r, a] = c
        sq += pa * pa
    return sq


@nb.njit(**KERNEL_OPTIONS)
def policy_tables(theta, logp, prob, cdf):
    """Fill the tables of every row of ``theta[R, A]`` (:func:`row_tables`). Returns
    ``Σ_rows Σ_a p²`` (summed as :func:`row_sq_sums` does, for the noise scale; free beside
    the running sum)."""
    total = 0.0
    for r in range(theta.shape[0]):
        total += row_tables(theta, logp, prob, cdf, r)
    return total


@nb.njit(**KERNEL_OPTIONS)
def first_row(kind, rows):
    """Row of the first key: 0 (positional) or the all-start context ``R - 1``."""
    if kind == POSITIONAL:
        return 0
    return rows - 1


@nb.njit(**KERNEL_OPTIONS)
def next_row(kind, row, key, base, rows):
    """Row of the next key after typing ``key`` in row ``row``."""
    if kind == POSITIONAL:
        return row + 1
    return (row * base + np.int64(key)) % rows


@nb.njit(**KERNEL_OPTIONS)
def draw_key(state, cdf_row):
    """One key from the categorical with running sums ``cdf_row`` (inverse CDF, one draw).

    The key is the first ``a`` with ``u < cdf[a]`` (the last key if none): since ``cdf`` is
    non-decreasing that is the number of ``cdf[a] <= u`` among the first ``A − 1``, counted
    without branches (so the loop vectorises).
    """
    u = next_double(state)
    a = 0
    for j in range(cdf_row.shape[0] - 1):
        a += 1 if u >= cdf_row[j] else 0
    return a


@nb.njit(**KERNEL_OPTIONS)
def sample_document(state, cdf, kind, rows, base, doc):
    """Type one document ``doc`` (uint8[L]) from the policy whose running sums are ``cdf``."""
    row = first_row(kind, rows)
    for i in range(doc.shape[0]):
        a = draw_key(state, cdf[row])
        doc[i] = a
        row = next_row(kind, row, a, base, rows)


@nb.njit(**KERNEL_OPTIONS)
def document_log_prob(logp, kind, rows, base, doc):
    """log π(doc): the sum of the per-token log-probabilities."""
    row = first_row(kind, rows)
    total = 0.0
    for i in range(doc.shape[0]):
        a = doc[i]
        total += logp[row, a]
        row = next_row(kind, row, a, base, rows)
    return total


@nb.njit(**KERNEL_OPTIONS)
def token_kl(lp, lq, p, q):
    """The two per-key estimates of KL(π‖π_ref) at a key drawn from π, with ``lp``, ``lq`` its
    log-probabilities and ``p``, ``q`` its probabilities under π and π_ref (Schulman's k1 and
    k3): ``(log π/π_ref, π_ref/π − 1 − log(π_ref/π))``, the ratio taken from the tables."""
    d = lq - lp
    return -d, q / p - 1.0 - d


@nb.njit(**STEP_OPTIONS)
def type_group(par, step, m, p, pol, ref, rev, mon, mm):
    """Typing phase of one step for monkey ``m``: it types its ``K`` documents from policy
    ``p`` with its own stream, and the reviewer ``rev`` scores each (one call per document).

    Writes the monkey's rows of ``mon`` (a :data:`Monkeys`): ``docs``, ``oldlp``, ``rewards``
    (the reviewer's bananas; 0 plus noise for a reviewer outside numba, whose scores the
    caller adds), ``k1`` and ``logp_sum`` (for the shaping of :func:`shape_rewards`), ``psum``
    (Σ_keys π(key | row), for the noise scale) and ``first_typed``; adds the monkey's hits and
    KL estimates (:func:`token_kl`) to ``mm[N_MM]``. ``step`` is the run's step number. A
    noisy reviewer (:func:`noisy_score`) draws its noise from the monkey's stream after the
    document (no draws when noiseless, so the noiseless stream is unchanged); with
    preferences ``rewards`` holds the hidden true scores and the verdicts come in the
    learning phase (:func:`preference_advantages`).
    """
    kind = par.kind
    rows = par.rows
    base = par.base
    logp, prob, cdf = pol.logp[p], pol.prob[p], pol.cdf[p]
    logq, qprob = ref.logp, ref.prob
    state, docs, oldlp = mon.states[m], mon.docs[m], mon.oldlp[m]
    target = rev.target
    n_docs, length = docs.shape
    for k in range(n_docs):
        doc = docs[k]
        sample_document(state, cdf, kind, rows, base, doc)
        row = first_row(kind, rows)
        lp_sum = 0.0
        k1 = 0.0
        k3 = 0.0
        p_sum = 0.0
        same = True
        for i in range(length):
            a = doc[i]
            lp = logp[row, a]
            oldlp[k, i] = lp
            lp_sum += lp
            pa = prob[row, a]
            p_sum += pa
            t1, t3 = token_kl(lp, logq[row, a], pa, qprob[row, a])
            k1 += t1
            k3 += t3
            if a != target[i]:
                same = False
            row = next_row(kind, row, a, base, rows)
        r = score_one(rev, doc)
        if par.preferences == PREF_NONE:
            r = noisy_score(state, r, rev.kind == EXACT, par.flip_rate, par.noise)
        mon.rewards[m, k] = r
        mon.k1[m, k] = k1
        mon.logp_sum[m, k] = lp_sum
        mon.psum[m, k] = p_sum
        mm[MM_K1] += k1
        mm[MM_K3] += k3
        if same:
            mm[MM_HITS] += 1.0
            if mon.first_typed[m] < 0:
                mon.first_typed[m] = step * n_docs + k + 1
