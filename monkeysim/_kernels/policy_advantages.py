"""Advantages: every algorithm's one function, the running baseline, preferences.

Private module, part of the learner kernels: see
:mod:`monkeysim._kernels.policy` (which re-exports every name) for the whole step."""

from __future__ import annotations

import math

import numba as nb

from .options import KERNEL_OPTIONS
from .policy_codes import (
    ADV_BASELINE,
    ADV_BATCH,
    ADV_LOO,
    ADV_MEAN,
    CONTEXT,
    KL_K1,
    MM_REWARD,
    MM_REWARD_SQ,
    PREF_NONE,
)
from .policy_reviewer import preference_advantages


@nb.njit(**KERNEL_OPTIONS)
def shape_rewards(par, rewards, k1, logp_sum, shaped, mm):
    """One monkey's shaped rewards ``shaped[K]``: bananas minus ``β · k1`` in k1 mode, plus
    ``α · (−log π)`` as the entropy-bonus estimate of a context policy; adds the monkey's
    reward sums to ``mm``."""
    beta_k1 = par.kl_coef if par.kl == KL_K1 else 0.0
    ent_est = par.entropy_coef if par.kind == CONTEXT else 0.0
    for k in range(rewards.shape[0]):
        r = rewards[k]
        shaped[k] = r - beta_k1 * k1[k] - ent_est * logp_sum[k]
        mm[MM_REWARD] += r
        mm[MM_REWARD_SQ] += r * r


@nb.njit(**KERNEL_OPTIONS)
def advantages(par, state, rewards, shaped, base, out):
    """The group's advantages: from preferences when ``par.preferences`` asks for them, else
    from the (shaped) scores by the algorithm's baseline (:func:`group_advantages`)."""
    if par.preferences != PREF_NONE:
        preference_advantages(state, rewards, par.preferences, par.flip_rate, base, out)
    else:
        group_advantages(shaped, par.advantage, base, par.group_eps, out)


@nb.njit(**KERNEL_OPTIONS)
def baseline_value(baseline):
    """The running-mean baseline: bias-corrected EMA ``ema / weight`` (0 before any batch)."""
    if baseline[1] > 0.0:
        return baseline[0] / baseline[1]
    return 0.0


@nb.njit(**KERNEL_OPTIONS)
def baseline_update(baseline, shaped, decay):
    """Fold the mean of this batch's (shaped) rewards into the running baseline."""
    mean = 0.0
    for j in range(shaped.shape[0]):
        mean += shaped[j]
    mean /= shaped.shape[0]
    baseline[0] = decay * baseline[0] + (1.0 - decay) * mean
    baseline[1] = decay * baseline[1] + (1.0 - decay)


@nb.njit(**KERNEL_OPTIONS)
def group_advantages(shaped, adv_kind, baseline, eps, out):
    """Advantages of one group of documents (``shaped[n]`` → ``out[n]``), summed in order.

    ``ADV_BASELINE``: ``r − b`` with ``b`` from earlier batches (unbiased for any n);
    ``ADV_LOO``: ``r_j − mean of the others`` (unbiased, needs n ≥ 2);
    ``ADV_GROUP``: ``(r − mean) / (std + eps)`` with the sample std (as TRL's GRPO);
    ``ADV_MEAN``: ``r − mean`` (:func:`mean_advantages`, Dr. GRPO);
    ``ADV_BATCH``: :func:`batch_normalised_advantages` (REINFORCE++).
    """
    n = shaped.shape[0]
    if adv_kind == ADV_BASELINE:
        b = baseline_value(baseline)
        for j in range(n):
            out[j] = shaped[j] - b
        return
    if adv_kind == ADV_MEAN:
        mean_advantages(shaped, out)
        return
    if adv_kind == ADV_BATCH:
        batch_normalised_advantages(shaped, eps, out)
        return
    total = 0.0
    for j in range(n):
        total += shaped[j]
    if adv_kind == ADV_LOO:
        for j in range(n):
            out[j] = shaped[j] - (total - shaped[j]) / (n - 1)
        return
    mean = total / n
    ss = 0.0
    for j in range(n):
        ss += (shaped[j] - mean) ** 2
    std = math.sqrt(ss / (n - 1)) if n > 1 else 0.0
    for j in range(n):
        out[j] = (shaped[j] - mean) / (std + eps)


@nb.njit(**KERNEL_OPTIONS)
def mean_advantages(shaped, out):
    """Dr. GRPO (Liu et al. 2025): GRPO's group advantage ``r − mean`` without the division
    by the std (which weights groups of low reward spread up)."""
    n = shaped.shape[0]
    total = 0.0
    for j in range(n):
        total += shaped[j]
    mean = total / n
    for j in range(n):
        out[j] = shaped[j] - mean


@nb.njit(**KERNEL_OPTIONS)
def batch_normalised_advantages(shaped, eps, out):
    """REINFORCE++ (Hu 2025): ``(r − mean) / (std + eps)`` with the mean and the population
    std over the whole batch a policy learns from in one step (every token of equal-length
    documents weighs the same, so the token-level statistics are the document-level ones)."""
    n = shaped.shape[0]
    total = 0.0
    for j in range(n):
        total += shaped[j]
    mean = total / n
    ss = 0.0
    for j in range(n):
        ss += (shaped[j] - mean) ** 2
    std = math.sqrt(ss / n)
    for j in range(n):
        out[j] = (shaped[j] - mean) / (std + eps)


@nb.njit(**KERNEL_OPTIONS)
def zero_std(rewards):
    """1.0 if every reward of the group is the same (no learning signal), else 0.0."""
    for j in range(1, rewards.shape[0]):
        if rewards[j] != rewards[0]:
            return 0.0
    return 1.0
