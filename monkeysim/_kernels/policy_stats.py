"""Exact policy statistics: greedy documents, KL and entropy, per-step metrics.

Private module, part of the learner kernels: see
:mod:`monkeysim._kernels.policy` (which re-exports every name) for the whole step."""

from __future__ import annotations

import numba as nb
import numpy as np

from .options import KERNEL_OPTIONS
from .policy_codes import PM_ENTROPY, PM_GREEDY, PM_KL, POSITIONAL
from .policy_sampling import first_row, next_row


@nb.njit(**KERNEL_OPTIONS)
def row_kl_entropy(logp, prob, logq, r):
    """``(KL(π_r‖π_ref,r), H(π_r))`` of logit row ``r``, in nats."""
    kl = 0.0
    h = 0.0
    for a in range(logp.shape[1]):
        p = prob[r, a]
        kl += p * (logp[r, a] - logq[r, a])
        h -= p * logp[r, a]
    return kl, h


@nb.njit(**KERNEL_OPTIONS)
def row_argmax(logp, r):
    """The greedy key of row ``r``: the first of the largest ``logp[r]`` (branch-free)."""
    best = 0
    top = logp[r, 0]
    for a in range(1, logp.shape[1]):
        x = logp[r, a]
        better = x > top
        best = a if better else best
        top = x if better else top
    return best


@nb.njit(**KERNEL_OPTIONS)
def greedy_document(logp, kind, rows, base, out):
    """The greedy (argmax, lowest key on ties) document of a policy into ``out`` (uint8[L])."""
    row = first_row(kind, rows)
    for i in range(out.shape[0]):
        best = row_argmax(logp, row)
        out[i] = best
        row = next_row(kind, row, best, base, rows)


@nb.njit(**KERNEL_OPTIONS)
def exact_kl_entropy(logp, prob, logq, kind, rows, base, length):
    """Exact sequence ``KL(π‖π_ref)`` and entropy ``H(π)`` in nats, as a tuple.

    Positional: sums over positions. Context: the distribution over context rows is carried
    forward position by position, ``Σ_i Σ_row P(row at i) · KL_row`` (chain rule).
    """
    a_size = logp.shape[1]
    if kind == POSITIONAL:
        kl = 0.0
        h = 0.0
        for r in range(length):
            row_kl, row_h = row_kl_entropy(logp, prob, logq, r)
            kl += row_kl
            h += row_h
        return kl, h
    row_kl = np.empty(rows)
    row_h = np.empty(rows)
    for r in range(rows):
        row_kl[r], row_h[r] = row_kl_entropy(logp, prob, logq, r)
    dist = np.zeros(rows)
    new = np.zeros(rows)
    dist[rows - 1] = 1.0
    kl = 0.0
    h = 0.0
    shift = rows % base == 0  # n ≥ 2: row r's successors are the a_size rows from (r·base) % rows
    for _ in range(length):
        new[:] = 0.0
        for r in range(rows):
            w = dist[r]
            if w == 0.0:
                continue
            kl += w * row_kl[r]
            h += w * row_h[r]
            if shift:
                nxt = (r * base) % rows
                for a in range(a_size):
                    new[nxt + a] += w * prob[r, a]
            else:
                for a in range(a_size):
                    new[(r * base + a) % rows] += w * prob[r, a]
        dist, new = new, dist
    return kl, h


@nb.njit(**KERNEL_OPTIONS)
def policy_metrics(par, logp, prob, logq, target, greedy, kl, h, pm):
    """Greedy document, its correct keys, exact KL and entropy into ``pm``; True if solved.

    A positional policy's greedy document and ``kl``, ``h`` are given (from
    :func:`update_tables`); a context policy's are computed here (KL and entropy only with
    ``par.track_kl``, else NaN).
    """
    kind = par.kind
    length = target.shape[0]
    if kind != POSITIONAL:
        greedy_document(logp, kind, par.rows, par.base, greedy)
        if par.track_kl != 0:
            kl, h = exact_kl_entropy(logp, prob, logq, kind, par.rows, par.base, length)
        else:
            kl = h = np.nan
    correct = 0
    for i in range(length):
        if greedy[i] == target[i]:
            correct += 1
    pm[PM_GREEDY] = correct
    pm[PM_KL] = kl
    pm[PM_ENTROPY] = h
    return correct == length


@nb.njit(**KERNEL_OPTIONS)
def ema_ratio(num, den, decay, out):
    """``out[t] = EMA(num)[t] / EMA(den)[t]`` over steps ``0..t``, both EMAs (decay ``decay``)
    bias-corrected by ``1 − decay**(t+1)``; NaN where the smoothed ``den`` is 0."""
    en = 0.0
    ed = 0.0
    w = 0.0
    for t in range(num.shape[0]):
        en = decay * en + (1.0 - decay) * num[t]
        ed = decay * ed + (1.0 - decay) * den[t]
        w = decay * w + (1.0 - decay)
        out[t] = (en / w) / (ed / w) if ed != 0.0 else np.nan
