"""The learner kernels' named records: one step's arguments grouped by what they are.

Private module; :mod:`monkeysim._kernels.policy` re-exports every name. Each record is a
``namedtuple`` (numba passes it by value and reads its fields at no cost); the arrays in it are
updated in place. ``P`` is the number of policies (``M`` for independent monkeys, 1 for a
troop), ``M`` monkeys, ``K`` documents per monkey and step, ``L`` keys per document, ``R``
policy rows, ``A`` keys, ``S`` gradient slots (``M`` independent, ``ceil(M / chunk)`` troop).
"""

from __future__ import annotations

from collections import namedtuple

INT_PARAMS = ("kind", "rows", "base", "troop", "advantage", "epochs", "kl", "optimiser", "dry",
              "step0", "chunk", "preferences", "track_kl")
FLOAT_PARAMS = ("lr", "clip", "group_eps", "kl_coef", "entropy_coef", "adam_b1", "adam_b2",
                "adam_eps", "baseline_decay", "noise", "flip_rate")

Params = namedtuple("Params", INT_PARAMS + FLOAT_PARAMS)
"""Every scalar of a step, by name (built by :func:`monkeysim.learn.params.kernel_params`).

``kind`` / ``rows`` / ``base``: the policy (:data:`POSITIONAL` or :data:`CONTEXT`, its rows,
and the base of a context row); ``troop``: 1 for one shared policy; ``advantage``,
``kl``, ``optimiser``, ``preferences``: codes of :mod:`policy_codes`; ``epochs`` per step;
``dry``: 1 computes one step's first-epoch direction into the gradient buffer without
updating anything; ``step0``: the run's step number of the call's first step; ``chunk``:
monkeys per gradient slot of a troop; ``track_kl``: exact KL / entropy of a context policy
every step. Floats: ``lr``, ``clip`` (PPO ratio clip, 0: none), ``group_eps``, ``kl_coef``
(β), ``entropy_coef`` (α), Adam's ``adam_b1``, ``adam_b2``, ``adam_eps``, REINFORCE's
``baseline_decay``, the reviewer's ``noise`` (sd in reward units) and ``flip_rate``."""

Policies = namedtuple("Policies", "theta logp prob cdf sq opt_m opt_v opt_t baseline greedy "
                                  "first_solved")
"""The learners: logits ``theta[P, R, A]`` and their tables ``logp``, ``prob``, ``cdf`` (same
shape) and ``sq[P]`` (Σ_rows Σ_a p², for the noise scale), kept equal to the tables of
``theta`` (:func:`sq_totals` where the tables are built outside an update); the optimiser's
moments ``opt_m``, ``opt_v`` (same shape) and step counts ``opt_t: int64[P]``, the running
state ``baseline[P, N_BASE]``, the greedy documents ``greedy: uint8[P, L]`` and
``first_solved: int64[P]`` (1-based step at which the greedy document first equalled the
target, −1 none)."""

Reference = namedtuple("Reference", "logp prob")
"""The reference policy of the KL leash: ``logp[R, A]``, ``prob[R, A]``."""

Monkeys = namedtuple("Monkeys", "states docs oldlp rewards shaped adv k1 logp_sum psum "
                                "first_typed")
"""The typists and what they typed this step: ``states: uint64[M, 4]`` (one stream each),
``docs: uint8[M, K, L]``, ``oldlp[M, K, L]`` (per-key log-probabilities under the typing
policy), ``rewards[M, K]`` (the reviewer's reported bananas), ``shaped[M, K]`` (the rewards
the advantages are taken of), ``adv[M, K]``, per document ``k1[M, K]`` (Σ log π/π_ref),
``logp_sum[M, K]`` (log π(doc)) and ``psum[M, K]`` (Σ_keys π(key | row)), and
``first_typed: int64[M]`` (1-based document count of the first exact copy, −1 none)."""

Work = namedtuple("Work", "grad rowsum s1 psq")
"""Scratch of the learning phase: per gradient slot ``grad[S, R, A]``, ``rowsum[S, R]`` and
``s1[S]`` (Σ_j |g_j|² of the slot's documents); per policy ``psq[P, R]`` (Σ_a p² per row of
the typing policy, for the noise estimate in k3 mode)."""

Metrics = namedtuple("Metrics", "mm pm")
"""Per step: ``mm[steps, M, N_MM]`` per monkey and ``pm[steps, P, N_PM]`` per policy."""
