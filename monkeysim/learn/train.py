"""Policy-gradient monkeys: REINFORCE, RLOO, GRPO, PPO, Dr. GRPO and REINFORCE++ with a KL
leash.

Each monkey (or a troop sharing one policy) types ``batch`` documents per step from its
character policy (:mod:`monkeysim.policy`), the reviewer scores every document (one reviewer
call each), and a policy-gradient step changes θ. The algorithms share one implementation of
sampling, log-probabilities, advantages and gradients (:mod:`monkeysim._kernels.policy`) and
differ only in

==========  =======================================================  ===================
algorithm   advantage of document j in its group                      update
==========  =======================================================  ===================
reinforce   ``r_j − b``, ``b`` = running mean reward of *earlier*     one step per batch
            batches (bias-corrected EMA), so the estimator is
            unbiased for any batch size
rloo        ``r_j − mean of the other documents of the group``        one step per batch
grpo        ``(r_j − mean) / (std + eps)`` (sample std, as TRL)       clipped ratio,
                                                                      ``epochs`` (1)
ppo         leave-one-out as RLOO (running-mean baseline if the       clipped ratio,
            group has one document)                                   ``epochs`` (4)
dr-grpo     ``r_j − mean`` (GRPO without the std division; Liu et     clipped ratio,
            al. 2025)                                                 ``epochs`` (1)
reinforce-  ``(r_j − mean) / (std + eps)`` over the whole batch,      clipped ratio,
pp          population std (Hu 2025); with one target per policy      ``epochs`` (1)
            this is GRPO's advantage × √((n−1)/n) up to eps
==========  =======================================================  ===================

Each row is one entry of :data:`monkeysim.learn.algorithms.ALGORITHMS` (with its default
epochs, smallest group and tuned step size) and one advantage function of
:func:`monkeysim._kernels.policy.group_advantages`. Where to read a step: its two phases are
:func:`monkeysim._kernels.policy.type_group` and :func:`monkeysim._kernels.policy.learn_group`,
run in blocks by :func:`monkeysim._kernels.policy.train_steps`; the readable one-file version of
every algorithm, which the kernels match to 1e-8, is ``naive_train`` in ``tests/naive.py``.

A *group* is the documents of one policy in one step: a monkey's ``batch`` documents, or the
whole troop's ``monkeys × batch``. The clipped objective uses per-token ratios
``ρ = π(a|row) / π_old(a|row)``; in the first epoch ρ = 1 and every algorithm's step is the
plain score-function gradient of its advantages.

KL leash to a reference policy π_ref (default: the initial policy) with coefficient β,
maximising ``E[r] − β KL(π‖π_ref) + α H(π)``:

- ``exact`` (default for positional policies): the KL and entropy factorise over positions
  and their exact gradients are added;
- ``k1`` (default for context policies): ``−β log(π/π_ref)`` of each document is folded into
  its reward (score function: an unbiased estimate of ∇KL); the entropy bonus of a context
  policy is folded in the same way as ``−α log π``;
- ``k3``: the per-token ``β (π_ref/π − 1 − log(π_ref/π))`` is put in the loss as GRPO does;
  note its gradient is that of the *reverse* KL(π_ref‖π) per token.

Gradient noise scale (McCandlish, Kaplan, Amodei et al. 2018, "An Empirical Model of
Large-Batch Training", App. A). With ``g_j = A_j ∇ log π(x_j)`` the per-document
score-function gradient of a group of n documents (first epoch, the algorithm's own advantage,
plus the k3 term in k3 mode, without the exact KL / entropy gradients), ``S1 = Σ_j |g_j|²``
and ``S2 = |mean_j g_j|²``, the kernels estimate per policy and step (``B_small = 1``,
``B_big = n``)

    |G|² ≈ (n S2 − S1/n) / (n − 1),        tr Σ ≈ (S1/n − S2) / (1 − 1/n),

unbiased when the g_j are independent (REINFORCE). With leave-one-out advantages (RLOO, PPO)
the g_j of a group are correlated, ``E[g_i · g_j] = (1 + 1/(n−1)²) |G|²``, so the first
estimates ``(1 + 1/(n−1)²) |G|²`` instead (see :func:`monkeysim.theory.noise_scale_uniform`).
The columns ``grad_sq`` and ``trace_sigma`` are their means over policies, and ``b_simple``
is ``EMA(trace_sigma) / EMA(grad_sq)`` (bias-corrected EMAs, decay
:data:`~monkeysim.learn.metrics.NOISE_SCALE_DECAY`, smoothed before the ratio): the batch
size in documents beyond which larger batches stop paying off. ``|G|²`` estimates can be
negative, so a single step's ratio can be too. Only positional policies (a document's tokens
in distinct rows: O(1) per document without k3, O(L) with it); context policies log NaN.
:func:`~monkeysim.learn.noise_scale.noise_scale` measures it at a fixed policy.

Counting: one reviewer call per scored document; keystrokes = documents typed × L. All
monkeys step in lockstep, so "total work" is ``monkeys ×`` the per-monkey ("wall") count.

Defaults: SGD, batch 16 and a learning rate per algorithm (:data:`DEFAULT_LR`), tuned on the
weasel sentence with hamming bananas. Adam with a large step (the earlier default 0.35) and a
baseline that lags a rising reward (REINFORCE) or several epochs per batch (PPO) pushes
noisy positions onto a wrong key with high confidence; the policy then stops exploring
them and the run stalls (greedy document nearly right, never solved). That is a property
of those hyperparameters, not a bug: the estimators match the exact gradient (tests), and
with SGD every algorithm solves the weasel in a few hundred reviewer calls.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from ..alphabet import Alphabet
from ..policy import CharPolicy
from ..typewriter import numba_threads
from .config import TrainConfig
from .metrics import METRICS, smoothed_noise_scale, step_metrics
from .params import kernel_params
from .reviewers import ExternalReviewer
from .run_state import (  # noqa: F401  (TRAIN_STREAM, RunState: re-exported)
    BLOCK_DOCS,
    MAX_BLOCK_STEPS,
    TRAIN_STREAM,
    RunState,
    TrainResult,
    _setup,
    _stop_step,
    initial_policies,
)


def check(config: TrainConfig, target: str, alphabet: Alphabet | str | None = None,
          alphabet_chars: str | None = None) -> None:
    """Raise :class:`InvalidInput` if :func:`train` would refuse this run (nothing is run)."""
    _, _, reviewer, _ = _setup(config, target, alphabet, alphabet_chars)
    if config.auto_monkeys or config.auto_lr:
        from .auto_troop import check_auto

        check_auto(config, reviewer)


def train(config: TrainConfig, target: str, alphabet: Alphabet | str | None = None, *,
          init: CharPolicy | None = None, reference: CharPolicy | None = None,
          reviewer=None, alphabet_chars: str | None = None,
          progress: Callable[[int, int, int], None] | None = None) -> TrainResult:
    """Train monkeys to type ``target`` with policy-gradient steps; see the module docstring.

    Args:
        config: the :class:`TrainConfig`.
        target: the target text (documents have ``len(target)`` keys).
        alphabet: an :class:`Alphabet`, a named alphabet, or None for the smallest named one.
        init: initial policy (one policy, or one per monkey); default uniform (θ = 0).
        reference: KL reference policy (one policy of the same shape); default the initial
            policy (policy 0 of ``init``).
        reviewer: default ``make_reviewer(config.reward, target, alphabet, config.ngram_n)``;
            a ``TextReviewer`` for ``target`` (scored inside the kernels); or any reviewer
            that scores a batch of encoded documents (``score_batch(docs)`` or a callable:
            a learned reward model, a user's function; see :class:`ExternalReviewer`), called
            once per step with all the step's documents. ``config.reward`` is then unused.
        alphabet_chars: custom alphabet symbols (instead of ``alphabet``).
        progress: called after each block of steps as ``progress(steps_done, max_steps,
            reviewer_calls)``.
    """
    if config.auto_monkeys or config.auto_lr:  # a troop that sizes itself (issue 23)
        from .auto_troop import train_auto

        return train_auto(config, target, alphabet, init=init, reference=reference,
                          reviewer=reviewer, alphabet_chars=alphabet_chars, progress=progress)
    alpha, codes, reviewer, spec = _setup(config, target, alphabet, alphabet_chars, reviewer)
    m, k, length = config.monkeys, config.batch, len(codes)
    calls_per_step = config.calls_per_step
    max_steps = config.max_steps
    theta, reference = initial_policies(config, spec, init, reference, 1 if config.troop else m)
    par = kernel_params(config, spec)
    block = max(1, min(MAX_BLOCK_STEPS, BLOCK_DOCS // (m * k)))
    columns: list[dict[str, np.ndarray]] = []
    done = 0
    seconds = 0.0
    with numba_threads(config.threads) as used:
        st = RunState(config, spec, codes, reviewer, theta, reference, m, config.troop)
        initial_correct = (st.greedy_documents() == codes).sum(axis=1)
        greedy_correct_initial = int(initial_correct.max())
        st.first_solved[initial_correct == length] = 0
        stop_at = _stop_step(config, st)
        external = isinstance(reviewer, ExternalReviewer)
        while stop_at is None and done < max_steps:
            n = 1 if external else min(block, max_steps - done)
            snap = st.snapshot() if n > 1 and config.stop != "budget" else None
            par = par._replace(step0=done)
            t0 = time.perf_counter()
            mm, pm = st.run_external(par, reviewer) if external else st.run(par, n)
            seconds += time.perf_counter() - t0
            stop_at = _stop_step(config, st)
            if stop_at is not None and stop_at < done + n:  # rerun the block up to the stop
                st.restore(snap)
                n = stop_at - done
                t0 = time.perf_counter()
                mm, pm = st.run(par, n)
                seconds += time.perf_counter() - t0
            if not np.abs(st.theta).max() <= 1e100:  # diverged (inf/NaN, or no float64
                from ..errors import Diverged  # step can move such logits any more)

                raise Diverged(f"learning diverged: logits reached {np.abs(st.theta).max():.3g}"
                                f" (limit 1e100) after step {done + n} with learning rate "
                                f"lr={config.lr:g}; use a smaller --lr")
            columns.append(step_metrics(mm, pm, done, config, length))
            done += n
            if progress is not None:
                progress(done, max_steps, done * calls_per_step)
        greedy = st.greedy_documents()
    metrics = {name: (np.concatenate([c[name] for c in columns]) if columns
                      else np.zeros(0)) for name in METRICS if name != "b_simple"}
    metrics["b_simple"] = smoothed_noise_scale(metrics["grad_sq"], metrics["trace_sigma"])
    metrics = {name: metrics[name] for name in METRICS}

    solved_steps = st.first_solved[st.first_solved >= 0]
    solved_step = int(solved_steps.min()) if solved_steps.size else None
    typed_docs = st.first_typed[st.first_typed >= 0]
    typed_wall = int(typed_docs.min()) if typed_docs.size else None
    calls_until = (solved_step if solved_step is not None else done) * calls_per_step
    final = CharPolicy(spec, st.theta)
    best = int(np.argmax((greedy == codes).sum(axis=1)))
    return TrainResult(
        config=config, target=target, alphabet=alpha, policy=final, metrics=metrics,
        steps=done, solved=solved_step is not None, solved_step=solved_step,
        reviewer_calls=calls_until, keystrokes=calls_until * length,
        wall_reviewer_calls=(solved_step if solved_step is not None else done) * k,
        typed=typed_wall is not None,
        typed_reviewer_calls=None if typed_wall is None else -(
            -typed_wall * m * calls_per_step // (m * k)),  # documents, or pairs compared
        typed_keystrokes=None if typed_wall is None else typed_wall * m * length,
        typed_wall_reviewer_calls=typed_wall,
        greedy=alpha.decode(greedy[best]), greedy_correct_initial=greedy_correct_initial,
        seconds=seconds, threads=used)
