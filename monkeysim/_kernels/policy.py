"""numba kernels for character policies and policy-gradient training: the learning step.

Private module. Kernels take encoded arrays grouped in named records
(:mod:`~monkeysim._kernels.policy_records`: :data:`Params`, :data:`Policies`,
:data:`Reference`, :data:`Monkeys`, :data:`Work`, :data:`Metrics`, and the reviewer's
:data:`~monkeysim._kernels.reward.Review`) with explicit RNG state (one xoshiro256**
``uint64[4]`` state per monkey, advanced in place across steps).

Policies. A policy is a table of logits ``theta[R, A]``; the row used for the key at
position ``i`` is

- positional policy: row ``i`` (``R = L``);
- context (n-gram) policy: the last ``n - 1`` keys written in base ``A + 1`` with the digit
  ``A`` meaning "before the start of the document" (``R = (A + 1) ** (n - 1)``; the first row
  is the all-start context ``R - 1``; ``n = 1`` has the single row 0).

Each policy keeps three derived tables, rebuilt after every update: ``logp`` (log-softmax of
every row), ``prob`` (its probabilities) and ``cdf`` (running sums of ``prob``, for sampling).

**One step, two phases** (every algorithm, every driver, every reviewer):

1. Typing, :func:`type_group` per monkey: it samples ``K`` documents from its policy with its
   own stream and the reviewer scores each (``score_one``, one call per document; a reviewer
   outside numba scores between the phases, see :func:`type_step`).
2. Learning, :func:`learn_group` per policy, from the documents of its monkeys:
   :func:`shape_rewards` (the k1 leash and a context policy's entropy estimate),
   :func:`advantages` (each algorithm's one function: running-mean baseline for REINFORCE,
   leave-one-out for RLOO, ``(r − mean)/(std + eps)`` for GRPO, ``r − mean`` for Dr. GRPO,
   batch-normalised for REINFORCE++, or pairwise preferences), then per epoch
   :func:`policy_gradient` (the clipped score-function direction ``Σ c · (e_a − p[row])``
   plus the k3 term, and the noise-scale sums) and :func:`apply_gradient` (the exact KL /
   entropy regulariser of a positional policy, then SGD or Adam fused with the new tables,
   greedy keys and exact KL / entropy); then the running baseline and the greedy metrics.

:func:`train_steps` runs a block of steps: a troop (one shared policy) types in parallel over
monkeys and learns with its gradient summed per fixed chunk of monkeys, the chunks reduced in
order (so the result does not depend on the thread count); independent monkeys run in
parallel, each typing and learning on its own.

Gradient noise scale (McCandlish et al. 2018, App. A). In the first epoch of every step each
group of ``n`` documents of a positional policy also yields ``S1 = Σ_j |g_j|²``, the squared
norms of the per-document gradients (the same coefficients as the step, without the exact
regulariser; :func:`score_sq_sum`), and ``S2 = |mean_j g_j|²``; :func:`noise_estimates`
turns them into the unbiased ``|G|²`` and ``tr Σ`` in ``pm``. Context policies (rows may
repeat within a document) and groups of one document get NaN.

Modules, one job each (this module re-exports every name, so callers use ``KP.<name>``):
:mod:`~monkeysim._kernels.policy_codes` (codes and the metric slots),
:mod:`~monkeysim._kernels.policy_records` (the named records),
:mod:`~monkeysim._kernels.policy_sampling` (tables, rows, sampling, the typing phase),
:mod:`~monkeysim._kernels.policy_reviewer` (noisy scores, flipped verdicts, preferences),
:mod:`~monkeysim._kernels.policy_advantages` (shaping and every algorithm's advantages),
:mod:`~monkeysim._kernels.policy_gradients` (gradients, the exact regulariser, noise scale),
:mod:`~monkeysim._kernels.policy_optimisers` (SGD, Adam, one epoch's ascent) and
:mod:`~monkeysim._kernels.policy_stats` (greedy documents, exact KL and entropy, metrics).
The slow, readable version of the whole step is ``tests/naive.py`` (``naive_train``).
"""

from __future__ import annotations

import numba as nb
import numpy as np

from .options import KERNEL_OPTIONS, PARALLEL_OPTIONS, STEP_OPTIONS

# every name of the step's modules, so that callers use KP.<name> for all of them
from .policy_advantages import *  # noqa: F403
from .policy_advantages import advantages, baseline_update, shape_rewards, zero_std
from .policy_codes import *  # noqa: F403
from .policy_codes import KL_K3, MM_CLIPPED, PM_ZERO_STD, POSITIONAL
from .policy_gradients import *  # noqa: F403
from .policy_gradients import accumulate_gradient, finish_gradient, row_sq_sums, score_sq_sum
from .policy_optimisers import *  # noqa: F403
from .policy_optimisers import apply_gradient
from .policy_records import *  # noqa: F403
from .policy_reviewer import *  # noqa: F403
from .policy_sampling import *  # noqa: F403
from .policy_sampling import (
    document_log_prob,
    policy_tables,
    sample_document,
    type_group,
)
from .policy_stats import *  # noqa: F403
from .policy_stats import exact_kl_entropy, greedy_document, policy_metrics

# --- the learning phase ---------------------------------------------------------------------

@nb.njit(**STEP_OPTIONS)
def chunk_gradient(par, s, p, lo, hi, sl, scale, first, noise, pol, ref, mon, work, mm):
    """The direction of monkeys ``lo..hi-1``'s documents for policy ``p`` into gradient slot
    ``sl`` (:func:`accumulate_gradient`, then :func:`finish_gradient`); with ``noise`` also
    their ``S1`` into ``work.s1[sl]``. ``scale`` is 1 / the documents of the whole group."""
    grad = work.grad[sl]
    rowsum = work.rowsum[sl]
    grad[:, :] = 0.0
    rowsum[:] = 0.0
    s1 = 0.0
    for m in range(lo, hi):
        mm[s, m, MM_CLIPPED] += accumulate_gradient(
            par, pol.logp[p], ref.logp, mon.docs[m], mon.oldlp[m], mon.adv[m], scale, first,
            grad, rowsum)
        if noise:
            s1 += score_sq_sum(par, pol.logp[p], pol.prob[p], work.psq[p], pol.sq[p], ref.logp,
                               mon.docs[m], mon.adv[m], mon.psum[m])
    finish_gradient(pol.prob[p], grad, rowsum)
    work.s1[sl] = s1


@nb.njit(**PARALLEL_OPTIONS)
def chunked_gradient(par, s, p, lo, hi, chunks, scale, first, noise, pol, ref, mon, work, mm):
    """:func:`chunk_gradient` for ``chunks`` chunks of ``par.chunk`` monkeys in parallel
    (slots ``p .. p + chunks − 1``), then the slots summed in order into slot ``p``."""
    for c in nb.prange(chunks):
        chunk_gradient(par, s, p, lo + c * par.chunk, min(lo + (c + 1) * par.chunk, hi), p + c,
                       scale, first, noise, pol, ref, mon, work, mm)
    grad = work.grad
    for r in nb.prange(grad.shape[1]):
        for c in range(1, chunks):
            for a in range(grad.shape[2]):
                grad[p, r, a] += grad[p + c, r, a]


@nb.njit(**STEP_OPTIONS)
def policy_gradient(par, s, p, lo, hi, first, pol, ref, mon, work, mm):
    """One epoch's ascent direction of policy ``p`` from the documents of monkeys
    ``lo..hi-1`` into ``work.grad[p]``; returns ``S1`` of the group (first epoch of a
    positional policy, else 0). A group of more than ``par.chunk`` monkeys (a troop) is summed
    in chunks in parallel (:func:`chunked_gradient`)."""
    noise = first and par.kind == POSITIONAL
    if noise and par.kl == KL_K3 and par.kl_coef != 0.0:
        row_sq_sums(pol.prob[p], work.psq[p])  # per row: the k3 coefficients vary by key
    scale = 1.0 / ((hi - lo) * mon.docs.shape[1])
    chunks = -(-(hi - lo) // par.chunk)
    if chunks == 1:
        chunk_gradient(par, s, p, lo, hi, p, scale, first, noise, pol, ref, mon, work, mm)
    else:
        chunked_gradient(par, s, p, lo, hi, chunks, scale, first, noise, pol, ref, mon, work,
                         mm)
    s1 = 0.0
    if noise:
        for c in range(chunks):
            s1 += work.s1[p + c]
    return s1


@nb.njit(**KERNEL_OPTIONS)
def group_view(per_monkey, lo, hi):
    """The documents of monkeys ``lo..hi-1`` of ``per_monkey[M, K]`` as one flat group (a
    row when it is one monkey's: no reshape, which costs a call per step)."""
    if hi - lo == 1:
        return per_monkey[lo]
    return per_monkey[lo:hi].reshape((hi - lo) * per_monkey.shape[1])


@nb.njit(**STEP_OPTIONS)
def learn_group(par, step, s, p, lo, hi, pol, ref, rev, mon, work, met):
    """Learning phase of one step for policy ``p`` from the documents of monkeys ``lo..hi-1``
    (a troop: all of them; an independent monkey: its own): shaped rewards, advantages, then
    per epoch the direction (:func:`policy_gradient`) and the ascent (:func:`apply_gradient`),
    then the running baseline and the metrics. ``step`` is the run's step number, ``s`` the
    row of ``met``. With ``par.dry`` it stops after the first epoch's direction (in
    ``work.grad[p]``), updating nothing."""
    n_docs = (hi - lo) * mon.docs.shape[1]
    pm = met.pm[s, p]
    for m in range(lo, hi):
        shape_rewards(par, mon.rewards[m], mon.k1[m], mon.logp_sum[m], mon.shaped[m],
                      met.mm[s, m])
    rewards = group_view(mon.rewards, lo, hi)
    shaped = group_view(mon.shaped, lo, hi)
    pm[PM_ZERO_STD] = zero_std(rewards)
    advantages(par, mon.states[lo], rewards, shaped, pol.baseline[p],
               group_view(mon.adv, lo, hi))
    kl = h = 0.0
    for e in range(par.epochs):
        s1 = policy_gradient(par, s, p, lo, hi, e == 0, pol, ref, mon, work, met.mm)
        if not par.dry:
            pol.opt_t[p] += 1
        q, kl, h = apply_gradient(
            par, pol.theta[p], work.grad[p], pol.opt_m[p], pol.opt_v[p], pol.opt_t[p],
            pol.logp[p], pol.prob[p], pol.cdf[p], ref.logp, pol.greedy[p], e == 0, s1,
            n_docs if par.kind == POSITIONAL else 0, pm)
        if par.dry:
            return
        pol.sq[p] = q
    baseline_update(pol.baseline[p], shaped, par.baseline_decay)
    if policy_metrics(par, pol.logp[p], pol.prob[p], ref.logp, rev.target, pol.greedy[p], kl,
                      h, pm):
        if pol.first_solved[p] < 0:
            pol.first_solved[p] = step + 1


# --- drivers --------------------------------------------------------------------------------

@nb.njit(**PARALLEL_OPTIONS)
def type_step(par, s, pol, ref, rev, mon, met):
    """Typing phase of step ``par.step0 + s`` for every monkey, in parallel (metrics in
    ``met.mm[s]``). With a reviewer outside numba the caller then adds its scores to
    ``mon.rewards`` and calls :func:`learn_step`."""
    for m in nb.prange(mon.states.shape[0]):
        p = np.int64(0) if par.troop else np.int64(m)  # (prange's index may be unsigned)
        type_group(par, par.step0 + s, m, p, pol, ref, rev, mon, met.mm[s, m])


@nb.njit(**PARALLEL_OPTIONS)
def learn_step(par, s, pol, ref, rev, mon, work, met):
    """Learning phase of step ``par.step0 + s`` for every policy (:func:`learn_group`): the
    troop's one policy from every document, or each independent monkey from its own."""
    n_monkeys = mon.states.shape[0]
    if par.troop:
        learn_group(par, par.step0 + s, s, 0, 0, n_monkeys, pol, ref, rev, mon, work, met)
        return
    for m in nb.prange(n_monkeys):
        learn_group(par, par.step0 + s, s, m, m, m + 1, pol, ref, rev, mon, work, met)


@nb.njit(**PARALLEL_OPTIONS)
def train_steps(par, steps, pol, ref, rev, mon, work, met):
    """``steps`` training steps (one, and nothing updated, with ``par.dry``).

    A troop: each step :func:`type_step` then :func:`learn_step`. Independent monkeys: one
    parallel loop over monkeys, each running its typing and learning phases for every step
    (the same two functions, :func:`type_group` and :func:`learn_group`, without a parallel
    launch per step)."""
    n_policies = pol.theta.shape[0]
    if par.troop:
        for s in range(steps):
            type_step(par, s, pol, ref, rev, mon, met)
            learn_step(par, s, pol, ref, rev, mon, work, met)
            if par.dry:
                return
        return
    for m in nb.prange(n_policies):
        for s in range(steps):
            step = par.step0 + s
            type_group(par, step, m, m, pol, ref, rev, mon, met.mm[s, m])
            learn_group(par, step, s, m, m, m + 1, pol, ref, rev, mon, work, met)
            if par.dry:
                break


# --- helpers for the public policy API ----------------------------------------------------

@nb.njit(**PARALLEL_OPTIONS)
def all_tables(theta, logp, prob, cdf):
    """Tables of every policy of ``theta[P, R, A]``."""
    for p in nb.prange(theta.shape[0]):
        policy_tables(theta[p], logp[p], prob[p], cdf[p])


@nb.njit(**PARALLEL_OPTIONS)
def sq_totals(prob, psq, out):
    """``out[p] = Σ_rows Σ_a p²`` of every policy of ``prob[P, R, A]`` (per row into
    ``psq[P, R]``), as :func:`update_tables` returns it after an update."""
    for p in nb.prange(prob.shape[0]):
        out[p] = row_sq_sums(prob[p], psq[p])


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
