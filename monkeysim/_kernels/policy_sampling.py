"""Policy tables, rows and sampling; typing and scoring a monkey's documents.

Private module, part of the learner kernels: see
:mod:`monkeysim._kernels.policy` (which re-exports every name) for the whole step."""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from .options import KERNEL_OPTIONS
from .policy_codes import (
    CONTEXT,
    F_BETA,
    F_ENTROPY,
    F_FLIP,
    F_NOISE,
    I_BASE,
    I_KIND,
    I_KL,
    I_NGRAM,
    I_PHASE,
    I_PREF,
    I_REWARD,
    I_ROWS,
    KL_K1,
    MM_HITS,
    MM_K1,
    MM_K3,
    MM_REWARD,
    MM_REWARD_SQ,
    PHASE_ALL,
    POSITIONAL,
    PREF_NONE,
)
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
def type_documents(state, logp, prob, cdf, logq, qprob, ip, hp, target, word_start, word_end,
                   docs, rewards, shaped, oldlp, mm, docs_before, first_typed, psum):
    """One monkey types ``K`` documents, the reviewer scores each; returns ``first_typed``.

    Writes ``docs[K, L]``, ``rewards[K]`` (the reviewer's bananas), ``shaped[K]`` (bananas
    minus ``β · k1`` in k1 mode, plus ``α · (−log π)`` as the entropy-bonus estimate of a
    context policy), ``oldlp[K, L]`` (per-token log-probabilities under the sampling policy)
    and adds the monkey's reward, hit and KL-estimate sums to ``mm`` (per token
    ``k1 = log π/π_ref`` and ``k3 = π_ref/π − 1 − log(π_ref/π)``, the ratio taken from the
    probability tables ``qprob`` / ``prob``). ``first_typed`` is the
    monkey's 1-based document count when it first typed the target exactly (−1: not yet).
    ``psum[K]`` gets ``Σ_tokens π(a | row)`` of each document (for the noise scale).
    A noisy reviewer (:func:`noisy_score`) draws its noise from the monkey's stream after the
    document (no draws when noiseless, so the noiseless stream is unchanged); with
    preferences ``rewards`` holds the hidden true scores and the verdicts come later
    (:func:`preference_advantages`).
    """
    kind = ip[I_KIND]
    rows = ip[I_ROWS]
    base = ip[I_BASE]
    beta_k1 = hp[F_BETA] if ip[I_KL] == KL_K1 else 0.0
    ent_est = hp[F_ENTROPY] if kind == CONTEXT else 0.0
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
            d = logq[row, a] - lp
            lp_sum += lp
            k1 -= d
            pa = prob[row, a]
            p_sum += pa
            k3 += qprob[row, a] / pa - 1.0 - d
            if a != target[i]:
                same = False
            row = next_row(kind, row, a, base, rows)
        r = 0.0
        if ip[I_PHASE] == PHASE_ALL:
            r = score_one(ip[I_REWARD], doc, target, word_start, word_end, ip[I_NGRAM])
        if ip[I_PREF] == PREF_NONE:
            r = noisy_score(state, r, ip[I_REWARD] == EXACT, hp[F_FLIP], hp[F_NOISE])
        rewards[k] = r
        shaped[k] = r - beta_k1 * k1 - ent_est * lp_sum
        psum[k] = p_sum
        mm[MM_REWARD] += r
        mm[MM_REWARD_SQ] += r * r
        mm[MM_K1] += k1
        mm[MM_K3] += k3
        if same:
            mm[MM_HITS] += 1.0
            if first_typed < 0:
                first_typed = docs_before + k + 1
    return first_typed


@nb.njit(**KERNEL_OPTIONS)
def document_prob_sums(prob, ip, docs, psum):
    """``psum[k] = Σ_tokens π(a | row)`` of each document ``docs[k]`` (what
    :func:`type_documents` sums while typing; for a learn-only call)."""
    kind = ip[I_KIND]
    rows = ip[I_ROWS]
    base = ip[I_BASE]
    for k in range(docs.shape[0]):
        row = first_row(kind, rows)
        total = 0.0
        for i in range(docs.shape[1]):
            a = docs[k, i]
            total += prob[row, a]
            row = next_row(kind, row, a, base, rows)
        psum[k] = total
