"""numba kernels for character policies and policy-gradient training.

Private module. Kernels take encoded arrays, caller-allocated outputs and explicit RNG state
arrays (one xoshiro256** ``uint64[4]`` state per monkey, advanced in place across steps).

Policies. A policy is a table of logits ``theta[R, A]``; the row used for the key at
position ``i`` is

- positional policy: row ``i`` (``R = L``);
- context (n-gram) policy: the last ``n - 1`` keys written in base ``A + 1`` with the digit
  ``A`` meaning "before the start of the document" (``R = (A + 1) ** (n - 1)``; the first row
  is the all-start context ``R - 1``; ``n = 1`` has the single row 0).

Each step keeps three derived tables per policy, rebuilt after every update: ``logp``
(log-softmax of every row), ``prob`` (its probabilities) and ``cdf`` (running sums of
``prob``, for sampling).

Training step (one implementation of each shared piece, used by every algorithm):

1. :func:`type_documents` — each monkey samples ``K`` documents from its policy with its own
   stream, the reviewer scores them (``score_one`` from the shared reward kernels, one
   reviewer call per document), and the per-token log-probabilities are kept for the
   importance ratios of later epochs and the KL estimates.
2. :func:`group_advantages` — per group (the documents of one policy in one step):
   ``r - b`` with a running-mean baseline (REINFORCE), leave-one-out (RLOO),
   group-normalised ``(r - mean) / (std + eps)`` (GRPO), ``r - mean`` (Dr. GRPO) or
   batch-normalised with the population std (REINFORCE++).
3. :func:`accumulate_gradient` + :func:`finish_gradient` — the (clipped) score-function
   gradient ``Σ_tokens c · ∇ log π(a | row)`` with ``∇_θ[row] log π(a | row) = e_a − p[row]``,
   plus the per-token k3 KL term when asked for; :func:`exact_regulariser` adds the exact
   KL / entropy gradients of a positional policy.
4. :func:`apply_gradient` — gradient *ascent* on θ (SGD or Adam) fused row by row with the new
   tables and, for a positional policy, the greedy keys and exact KL / entropy
   (:func:`update_tables`).

Gradient noise scale (McCandlish et al. 2018, App. A). In the first epoch of every step each
group of ``n`` documents of a positional policy also yields ``S1 = Σ_j |g_j|²``, the squared
norms of the per-document gradients ``g_j = Σ_tokens c_j,t (e_a − p[row])`` (the same
coefficients ``c`` as the step: the advantage, plus the k3 term in k3 mode; without the exact
KL / entropy regulariser), and ``S2 = |mean_j g_j|²``, the squared norm of the group's
direction before the regulariser. :func:`noise_estimates` turns them into the unbiased
estimates of ``|G|²`` and ``tr Σ`` (``B_small = 1``, ``B_big = n``) in ``pm``. A positional
document's tokens sit in distinct rows, so ``|g_j|² = Σ_t c_t² (1 − 2 p_t[a_t] + Σ_b p_t[b]²)``
with the per-row ``Σ_b p²`` (:func:`row_sq_sums`, k3 mode only); without k3 the
coefficient is the document's advantage and ``|g_j|² = A_j² (L + Σ_rows Σ_b p² − 2 Σ_t
p_t[a_t])``, O(1) per document given ``Σ_t p_t[a_t]``, which :func:`type_documents` sums while
typing, and ``Σ_rows Σ_b p²``, which :func:`policy_tables` returns. Context policies (rows
may repeat within a document) and groups of one document get NaN.

Modules, one job each (this module re-exports every name, so callers use ``KP.<name>``):
:mod:`~monkeysim._kernels.policy_codes` (codes and the slots of ``ip``/``hp``/``mm``/``pm``),
:mod:`~monkeysim._kernels.policy_sampling` (tables, rows, sampling, typing and scoring),
:mod:`~monkeysim._kernels.policy_reviewer` (noisy scores, flipped verdicts, preferences),
:mod:`~monkeysim._kernels.policy_advantages` (every algorithm's advantage function),
:mod:`~monkeysim._kernels.policy_gradients` (gradients, the exact regulariser, noise scale),
:mod:`~monkeysim._kernels.policy_optimisers` (SGD, Adam, one epoch's ascent) and
:mod:`~monkeysim._kernels.policy_stats` (greedy documents, exact KL and entropy, metrics);
the drivers below are the per-step loop.

Two drivers run blocks of steps: :func:`train_independent` (each monkey owns its policy; one
parallel loop over monkeys runs all their steps) and :func:`train_troop` (one shared policy;
monkeys type in parallel, gradients are summed per fixed chunk of monkeys and the chunks are
reduced in order, so the result does not depend on the thread count).
"""

from __future__ import annotations

import numba as nb
import numpy as np

from .options import PARALLEL_OPTIONS

# every name of the step's modules, so that callers use KP.<name> for all of them
from .policy_advantages import *  # noqa: F403
from .policy_advantages import advantages, baseline_update, zero_std
from .policy_codes import *  # noqa: F403
from .policy_codes import (
    F_BETA,
    F_DECAY,
    I_CHUNK,
    I_DRY,
    I_EPOCHS,
    I_KIND,
    I_KL,
    I_PHASE,
    I_STEP0,
    KL_K3,
    MM_CLIPPED,
    PHASE_LEARN,
    PHASE_TYPE,
    PM_ZERO_STD,
    POSITIONAL,
)
from .policy_gradients import *  # noqa: F403
from .policy_gradients import accumulate_gradient, finish_gradient, row_sq_sums, score_sq_sum
from .policy_optimisers import *  # noqa: F403
from .policy_optimisers import apply_gradient
from .policy_reviewer import *  # noqa: F403
from .policy_sampling import *  # noqa: F403
from .policy_sampling import (
    document_log_prob,
    document_prob_sums,
    policy_tables,
    sample_document,
    type_documents,
)
from .policy_stats import *  # noqa: F403
from .policy_stats import exact_kl_entropy, greedy_document, policy_metrics

# --- drivers ------------------------------------------------------------------------------

@nb.njit(**PARALLEL_OPTIONS)
def train_independent(ip, hp, steps, theta, opt_m, opt_v, opt_t, logp, prob, cdf, logq, qprob,
                      states, target, word_start, word_end, baseline, docs, rewards, shaped, adv,
                      oldlp, grad, rowsum, greedy, mm, pm, first_typed, first_solved):
    """``steps`` training steps of ``M`` independent monkeys, monkey ``m`` owning policy ``m``.

    Shapes: ``theta, opt_m, opt_v, logp, prob, cdf, grad: [M, R, A]``, ``rowsum: [M, R]``,
    ``opt_t: int64[M]``, ``states: uint64[M, 4]``, ``baseline: [M, N_BASE]``,
    ``docs: uint8[M, K, L]``, ``rewards, shaped, adv: [M, K]``, ``oldlp: [M, K, L]``,
    ``greedy: uint8[M, L]``, ``mm: [steps, M, N_MM]``, ``pm: [steps, M, N_PM]``,
    ``first_typed: int64[M]`` (1-based document count, −1 none), ``first_solved: int64[M]``
    (1-based step, −1 none). ``logp``/``prob``/``cdf`` must hold the tables of ``theta`` on
    entry and hold them on exit. With ``ip[I_DRY]`` set, one step computes ``grad`` (the first-epoch
    ascent direction) without updating anything.
    """
    n_monkeys = states.shape[0]
    n_docs = docs.shape[1]
    epochs = ip[I_EPOCHS]
    dry = ip[I_DRY] != 0
    exact_reg = ip[I_KIND] == POSITIONAL
    k3_mode = ip[I_KL] == KL_K3 and hp[F_BETA] != 0.0
    scale = 1.0 / n_docs
    for m in nb.prange(n_monkeys):
        psq = np.empty(theta.shape[1] if exact_reg else 0)
        psum = np.empty(n_docs)
        # Σ p² of the tables on entry; update_tables renews it
        q = row_sq_sums(prob[m], psq) if exact_reg else 0.0
        kl = h = 0.0
        for s in range(steps):
            step = ip[I_STEP0] + s
            if ip[I_PHASE] == PHASE_LEARN:
                document_prob_sums(prob[m], ip, docs[m], psum)
            else:
                first_typed[m] = type_documents(
                    states[m], logp[m], prob[m], cdf[m], logq, qprob, ip, hp, target,
                    word_start, word_end, docs[m], rewards[m], shaped[m], oldlp[m], mm[s, m],
                    step * n_docs, first_typed[m], psum)
                if ip[I_PHASE] == PHASE_TYPE:
                    break
            pm[s, m, PM_ZERO_STD] = zero_std(rewards[m])
            advantages(states[m], rewards[m], shaped[m], ip, hp, baseline[m], adv[m])
            for e in range(epochs):
                grad[m, :, :] = 0.0
                rowsum[m, :] = 0.0
                mm[s, m, MM_CLIPPED] += accumulate_gradient(
                    logp[m], logq, ip, hp, docs[m], oldlp[m], adv[m], scale, e == 0, grad[m],
                    rowsum[m])
                finish_gradient(prob[m], grad[m], rowsum[m])
                s1 = 0.0
                if e == 0 and exact_reg:
                    if k3_mode:
                        row_sq_sums(prob[m], psq)
                    s1 = score_sq_sum(logp[m], prob[m], psq, q, logq, ip, hp, docs[m], adv[m],
                                      psum)
                if not dry:
                    opt_t[m] += 1
                q, kl, h = apply_gradient(
                    theta[m], grad[m], opt_m[m], opt_v[m], opt_t[m], ip, hp, logp[m], prob[m],
                    cdf[m], logq, greedy[m], dry, e == 0, s1, n_docs if exact_reg else 0,
                    pm[s, m])
                if dry:
                    break
            if dry:
                break
            baseline_update(baseline[m], shaped[m], hp[F_DECAY])
            if policy_metrics(logp[m], prob[m], logq, ip, target, greedy[m], kl, h, pm[s, m]):
                if first_solved[m] < 0:
                    first_solved[m] = step + 1


@nb.njit(**PARALLEL_OPTIONS)
def train_troop(ip, hp, steps, theta, opt_m, opt_v, opt_t, logp, prob, cdf, logq, qprob,
                states, target, word_start, word_end, baseline, docs, rewards, shaped, adv,
                oldlp, grad, rowsum, greedy, mm, pm, first_typed, first_solved):
    """``steps`` training steps of a troop: ``M`` monkeys sharing one policy (index 0).

    Same arrays as :func:`train_independent` but with one policy (``theta[1, R, A]`` …,
    ``pm[steps, 1, N_PM]``) and gradient buffers for ``S = ceil(M / chunk)`` fixed chunks of
    monkeys (``grad[S, R, A]``, ``rowsum[S, R]``). The group is the whole troop's ``M · K``
    documents; each chunk sums its monkeys' gradients in order, the chunks are summed in
    order into ``grad[0]``.
    """
    n_monkeys = states.shape[0]
    n_docs = docs.shape[1]
    n_slots = grad.shape[0]
    chunk = ip[I_CHUNK]
    rows = theta.shape[1]
    epochs = ip[I_EPOCHS]
    dry = ip[I_DRY] != 0
    exact_reg = ip[I_KIND] == POSITIONAL
    total_docs = n_monkeys * n_docs
    scale = 1.0 / total_docs
    flat_shaped = shaped.reshape(total_docs)
    flat_rewards = rewards.reshape(total_docs)
    flat_adv = adv.reshape(total_docs)
    k3_mode = ip[I_KL] == KL_K3 and hp[F_BETA] != 0.0
    psq = np.empty(rows if exact_reg else 0)
    psum = np.empty((n_monkeys, n_docs))
    slot_s1 = np.zeros(n_slots)
    # Σ p² of the tables on entry; update_tables renews it
    q = row_sq_sums(prob[0], psq) if exact_reg else 0.0
    kl = h = 0.0
    for s in range(steps):
        step = ip[I_STEP0] + s
        for m in nb.prange(n_monkeys):
            if ip[I_PHASE] == PHASE_LEARN:
                document_prob_sums(prob[0], ip, docs[m], psum[m])
                continue
            first_typed[m] = type_documents(
                states[m], logp[0], prob[0], cdf[0], logq, qprob, ip, hp, target, word_start,
                word_end, docs[m], rewards[m], shaped[m], oldlp[m], mm[s, m], step * n_docs,
                first_typed[m], psum[m])
        if ip[I_PHASE] == PHASE_TYPE:
            break
        pm[s, 0, PM_ZERO_STD] = zero_std(flat_rewards)
        advantages(states[0], flat_rewards, flat_shaped, ip, hp, baseline[0], flat_adv)
        for e in range(epochs):
            noise = e == 0 and exact_reg
            if noise and k3_mode:
                row_sq_sums(prob[0], psq)
            for sl in nb.prange(n_slots):
                grad[sl, :, :] = 0.0
                rowsum[sl, :] = 0.0
                slot_s1[sl] = 0.0
                for m in range(sl * chunk, min((sl + 1) * chunk, n_monkeys)):
                    mm[s, m, MM_CLIPPED] += accumulate_gradient(
                        logp[0], logq, ip, hp, docs[m], oldlp[m], adv[m], scale, e == 0,
                        grad[sl], rowsum[sl])
                    if noise:
                        slot_s1[sl] += score_sq_sum(logp[0], prob[0], psq, q, logq, ip, hp,
                                                    docs[m], adv[m], psum[m])
                finish_gradient(prob[0], grad[sl], rowsum[sl])
            for r in nb.prange(rows):
                for sl in range(1, n_slots):
                    for a in range(grad.shape[2]):
                        grad[0, r, a] += grad[sl, r, a]
            s1 = 0.0
            if noise:
                for sl in range(n_slots):
                    s1 += slot_s1[sl]
            if not dry:
                opt_t[0] += 1
            q, kl, h = apply_gradient(
                theta[0], grad[0], opt_m[0], opt_v[0], opt_t[0], ip, hp, logp[0], prob[0], cdf[0],
                logq, greedy[0], dry, e == 0, s1, total_docs if exact_reg else 0, pm[s, 0])
            if dry:
                break
        if dry:
            break
        baseline_update(baseline[0], flat_shaped, hp[F_DECAY])
        if policy_metrics(logp[0], prob[0], logq, ip, target, greedy[0], kl, h, pm[s, 0]):
            if first_solved[0] < 0:
                first_solved[0] = step + 1


# --- helpers for the public policy API ----------------------------------------------------

@nb.njit(**PARALLEL_OPTIONS)
def all_tables(theta, logp, prob, cdf):
    """Tables of every policy of ``theta[P, R, A]``."""
    for p in nb.prange(theta.shape[0]):
        policy_tables(theta[p], logp[p], prob[p], cdf[p])


@nb.njit(**PARALLEL_OPTIONS)
def sample_batch(states, cdf, kind, rows, base, docs):
    """Policy ``p`` types ``docs[p, K, L]`` from stream ``states[p]`` (parallel over p)."""
    for p in nb.prange(docs.shape[0]):
        for k in range(docs.shape[1]):
            sample_document(states[p], cdf[p], kind, rows, base, docs[p, k])


@nb.njit(**PARALLEL_OPTIONS)
def log_prob_batch(logp, kind, rows, base, docs, out):
    """``out[p, k] = log π_p(docs[p, k])``."""
    for p in nb.prange(docs.shape[0]):
        for k in range(docs.shape[1]):
            out[p, k] = document_log_prob(logp[p], kind, rows, base, docs[p, k])


@nb.njit(**PARALLEL_OPTIONS)
def greedy_batch(logp, kind, rows, base, out):
    """Greedy document of every policy into ``out[P, L]``."""
    for p in nb.prange(logp.shape[0]):
        greedy_document(logp[p], kind, rows, base, out[p])


@nb.njit(**PARALLEL_OPTIONS)
def kl_entropy_batch(logp, prob, logq, kind, rows, base, length, kl_out, h_out):
    """Exact KL(π_p‖π_ref) and H(π_p) of every policy."""
    for p in nb.prange(logp.shape[0]):
        kl, h = exact_kl_entropy(logp[p], prob[p], logq, kind, rows, base, length)
        kl_out[p] = kl
        h_out[p] = h
