"""Optimisers: SGD and Adam fused with the new tables, and one epoch's ascent.

Private module, part of the learner kernels: see
:mod:`monkeysim._kernels.policy` (which re-exports every name) for the whole step."""

from __future__ import annotations

import math

import numba as nb

from .options import KERNEL_OPTIONS
from .policy_codes import KL_EXACT, OPT_ADAM, PM_GRAD_NORM, POSITIONAL
from .policy_gradients import exact_regulariser, grad_sq_norm, noise_estimates
from .policy_sampling import row_tables
from .policy_stats import row_argmax, row_kl_entropy


@nb.njit(**KERNEL_OPTIONS)
def sgd_row(theta, grad, r, lr):
    """Gradient ascent on row ``r``: ``θ[r] += lr · g[r]``."""
    for a in range(theta.shape[1]):
        theta[r, a] += lr * grad[r, a]


@nb.njit(**KERNEL_OPTIONS)
def sgd_update(theta, grad, lr):
    """Gradient ascent: ``θ += lr · g`` (row by row, :func:`sgd_row`)."""
    for r in range(theta.shape[0]):
        sgd_row(theta, grad, r, lr)


@nb.njit(**KERNEL_OPTIONS)
def adam_row(theta, grad, m, v, r, lr, b1, b2, eps, bc1, bc2):
    """Adam ascent on row ``r`` with moments ``m``, ``v`` and bias corrections ``bc1 = 1 −
    b1**t``, ``bc2 = 1 − b2**t`` of step number ``t`` (≥ 1)."""
    for a in range(theta.shape[1]):
        g = grad[r, a]
        m[r, a] = b1 * m[r, a] + (1.0 - b1) * g
        v[r, a] = b2 * v[r, a] + (1.0 - b2) * g * g
        theta[r, a] += lr * (m[r, a] / bc1) / (math.sqrt(v[r, a] / bc2) + eps)


@nb.njit(**KERNEL_OPTIONS)
def update_tables(par, theta, grad, opt_m, opt_v, t, logp, prob, cdf, logq, greedy):
    """The optimiser's ascent step number ``t`` on ``grad[R, A]`` (SGD ``θ += lr · g`` or
    Adam), fused row by row with the new tables (:func:`row_tables`) and, for a positional
    policy, each row's greedy key into ``greedy[L]`` (:func:`row_argmax`) and its exact KL /
    entropy (:func:`row_kl_entropy`). Returns ``(Σ g², Σ p², KL, H)``, each summed over rows
    in order as :func:`grad_sq_norm`, :func:`row_sq_sums` and :func:`exact_kl_entropy` do (KL
    and H 0 for a context policy, whose statistics follow the chain of rows)."""
    positional = par.kind == POSITIONAL
    adam = par.optimiser == OPT_ADAM
    lr = par.lr
    b1 = par.adam_b1
    b2 = par.adam_b2
    bc1 = 1.0 - b1 ** t
    bc2 = 1.0 - b2 ** t
    g2 = 0.0
    q = 0.0
    kl = 0.0
    h = 0.0
    for r in range(theta.shape[0]):
        for a in range(theta.shape[1]):
            g2 += grad[r, a] * grad[r, a]
        if adam:
            adam_row(theta, grad, opt_m, opt_v, r, lr, b1, b2, par.adam_eps, bc1, bc2)
        else:
            sgd_row(theta, grad, r, lr)
        q += row_tables(theta, logp, prob, cdf, r)
        if positional:
            greedy[r] = row_argmax(logp, r)
            row_kl, row_h = row_kl_entropy(logp, prob, logq, r)
            kl += row_kl
            h += row_h
    return g2, q, kl, h


@nb.njit(**KERNEL_OPTIONS)
def apply_gradient(par, theta, grad, opt_m, opt_v, t, logp, prob, cdf, logq, greedy, first,
                   s1, n, pm):
    """Ascend on one epoch's direction ``grad[R, A]`` (gradient of the documents, finished):
    add the exact regulariser of a positional policy, then (unless ``dry``) the optimiser's
    step ``t`` with the new tables (:func:`update_tables`; not when ``par.dry``). In the
    ``first`` epoch also the
    noise estimates of the group of ``n`` documents (``s1``; ``n = 0``: NaN) and the gradient
    norm into ``pm``. Returns ``(Σ p², KL, H)`` of :func:`update_tables` (zeros if dry)."""
    regularise = par.kind == POSITIONAL and (
        (par.kl == KL_EXACT and par.kl_coef != 0.0) or par.entropy_coef != 0.0)
    s2 = 0.0
    if regularise:
        if first:
            s2 = grad_sq_norm(grad)
        beta = par.kl_coef if par.kl == KL_EXACT else 0.0
        exact_regulariser(logp, prob, logq, beta, par.entropy_coef, grad)
    q = kl = h = 0.0
    if par.dry:
        g2 = grad_sq_norm(grad)
    else:
        g2, q, kl, h = update_tables(par, theta, grad, opt_m, opt_v, t, logp, prob, cdf, logq,
                                     greedy)
    if first:
        noise_estimates(s1, s2 if regularise else g2, n, pm)
        pm[PM_GRAD_NORM] = math.sqrt(g2)
    return q, kl, h
