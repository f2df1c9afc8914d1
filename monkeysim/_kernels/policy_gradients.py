"""Score-function gradients, the exact regulariser and the gradient noise scale.

Private module, part of the learner kernels: see
:mod:`monkeysim._kernels.policy` (which re-exports every name) for the whole step."""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from .options import KERNEL_OPTIONS
from .policy_codes import KL_K3, PM_GRAD_SQ, PM_TRACE_SIGMA
from .policy_sampling import first_row, next_row
from .policy_stats import row_kl_entropy


@nb.njit(**KERNEL_OPTIONS)
def k3_coefficient(beta_k3, lq, lp):
    """The k3 KL term's coefficient of ``∇ log π(a | row)`` at a key with log-probabilities
    ``lp`` (π) and ``lq`` (π_ref): ``−β (1 − π_ref/π)``."""
    return beta_k3 * math.expm1(lq - lp)


@nb.njit(**KERNEL_OPTIONS)
def accumulate_gradient(par, logp, logq, docs, oldlp, adv, scale, first_epoch, grad, rowsum):
    """Add one monkey's documents to the ascent direction ``grad[R, A]``; returns clipped tokens.

    Per token ``a`` in row ``row`` the coefficient ``c`` of ``∇ log π(a | row)`` is the
    advantage (REINFORCE, RLOO), or ``A · ρ`` with ``ρ = π(a|row) / π_old(a|row)`` and zero
    where the PPO clip is active (GRPO, PPO); in k3 mode ``−β (1 − π_ref / π)`` is added.
    ``grad[row, a] += c · scale`` here and ``rowsum[row] += c · scale``;
    :func:`finish_gradient` subtracts ``rowsum[row] · p[row]`` once per row. In the
    ``first_epoch`` the policy is the sampling policy, so ρ = 1 exactly and is not computed.
    """
    kind = par.kind
    rows = par.rows
    base = par.base
    clip = par.clip if not first_epoch else 0.0
    beta_k3 = par.kl_coef if par.kl == KL_K3 else 0.0
    n_docs, length = docs.shape
    clipped = 0
    for k in range(n_docs):
        a_k = adv[k]
        row = first_row(kind, rows)
        for i in range(length):
            a = docs[k, i]
            lp = logp[row, a]
            c = a_k
            if clip > 0.0:
                ratio = math.exp(lp - oldlp[k, i])
                if (a_k > 0.0 and ratio > 1.0 + clip) or (a_k < 0.0 and ratio < 1.0 - clip):
                    c = 0.0
                    clipped += 1
                else:
                    c = a_k * ratio
            if beta_k3 != 0.0:
                c += k3_coefficient(beta_k3, logq[row, a], lp)
            c *= scale
            grad[row, a] += c
            rowsum[row] += c
            row = next_row(kind, row, a, base, rows)
    return clipped


@nb.njit(**KERNEL_OPTIONS)
def finish_gradient(prob, grad, rowsum):
    """``grad[row] −= rowsum[row] · p[row]``: the ``−p`` part of ``∇ log π = e_a − p``."""
    rows, a_size = grad.shape
    for r in range(rows):
        s = rowsum[r]
        if s != 0.0:
            for a in range(a_size):
                grad[r, a] -= s * prob[r, a]


@nb.njit(**KERNEL_OPTIONS)
def exact_regulariser(logp, prob, logq, beta, alpha, grad):
    """Add the exact gradient of ``−β KL(π‖π_ref) + α H(π)`` of a positional policy.

    The KL and entropy factorise over positions: ``∂KL_i/∂θ_ia = p_a (log p_a − log q_a −
    KL_i)`` and ``∂H_i/∂θ_ia = −p_a (log p_a + H_i)``.
    """
    rows, a_size = grad.shape
    for r in range(rows):
        kl, h = row_kl_entropy(logp, prob, logq, r)
        for a in range(a_size):
            p = prob[r, a]
            grad[r, a] -= beta * p * (logp[r, a] - logq[r, a] - kl)
            grad[r, a] -= alpha * p * (logp[r, a] + h)


@nb.njit(**KERNEL_OPTIONS)
def grad_sq_norm(grad):
    """Squared Euclidean norm of ``grad[R, A]``, summed in order."""
    ss = 0.0
    for r in range(grad.shape[0]):
        for a in range(grad.shape[1]):
            ss += grad[r, a] * grad[r, a]
    return ss


@nb.njit(**KERNEL_OPTIONS)
def row_sq_sums(prob, out):
    """``out[r] = Σ_a p[r, a]²`` for every row (once per step and policy); returns their sum."""
    total = 0.0
    for r in range(prob.shape[0]):
        s = 0.0
        for a in range(prob.shape[1]):
            s += prob[r, a] * prob[r, a]
        out[r] = s
        total += s
    return total


@nb.njit(**KERNEL_OPTIONS)
def score_sq_sum(par, logp, prob, psq, q_total, logq, docs, adv, psum):
    """``Σ_j |g_j|²`` over one monkey's documents of a *positional* policy (first epoch).

    ``g_j = Σ_i c_j,i (e_{x_j,i} − p_i)`` with the coefficient of :func:`accumulate_gradient`
    at ratio 1 (``adv_j``, plus ``β expm1(log π_ref − log π)`` in k3 mode), unscaled. Token
    ``i`` lives in row ``i`` alone, so ``|g_j|² = Σ_i c_j,i² (1 − 2 p_i[x_j,i] + psq[i])``
    with ``psq`` and ``q_total = Σ_i psq[i]`` from :func:`row_sq_sums`; without k3
    ``c_j,i = adv_j`` and this is ``adv_j² (L + q_total − 2 psum[j])`` with ``psum`` from
    :func:`type_group`.
    """
    beta_k3 = par.kl_coef if par.kl == KL_K3 else 0.0
    n_docs, length = docs.shape
    total = 0.0
    if beta_k3 != 0.0:
        for k in range(n_docs):
            a_k = adv[k]
            for i in range(length):
                a = docs[k, i]
                c = a_k + k3_coefficient(beta_k3, logq[i, a], logp[i, a])
                total += c * c * (1.0 - 2.0 * prob[i, a] + psq[i])
        return total
    base = length + q_total
    for k in range(n_docs):
        total += adv[k] * adv[k] * (base - 2.0 * psum[k])
    return total


@nb.njit(**KERNEL_OPTIONS)
def noise_estimates(s1, s2, n, pm):
    """McCandlish's unbiased ``|G|²`` and ``tr Σ`` from one group of ``n`` documents.

    ``s1 = Σ_j |g_j|²`` (batches of one), ``s2 = |mean_j g_j|²`` (the batch of n):
    ``|G|² ≈ (n s2 − s1/n)/(n − 1)``, ``tr Σ ≈ (s1/n − s2)/(1 − 1/n)``; NaN if ``n < 2``.
    """
    if n < 2:
        pm[PM_GRAD_SQ] = np.nan
        pm[PM_TRACE_SIGMA] = np.nan
        return
    small = s1 / n
    pm[PM_GRAD_SQ] = (n * s2 - small) / (n - 1)
    pm[PM_TRACE_SIGMA] = (small - s2) / (1.0 - 1.0 / n)
