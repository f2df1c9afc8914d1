"""RLHF against a learned reward: RLOO with a KL leash, scored by a Python reward model.

:func:`monkeysim.train.train` scores documents inside its numba kernels by reviewer kind, so
it cannot call a learned reward model. This module runs the same algorithm step by step from
Python instead, calling the *shared* kernels of :mod:`monkeysim._kernels_policy` for every
piece but the scoring:

1. one troop policy types ``batch`` documents (``sample_document``, its own seeded stream,
   serial: :mod:`monkeysim._kernels_rlhf`) and their log-probabilities are kept;
2. the reward model scores them in one numpy batch (the proxy reward);
3. the reward is shaped with the k1 KL term, ``r − β (log π(doc) − log π_ref(doc))``;
4. leave-one-out advantages (``group_advantages``, RLOO), the score-function gradient
   (``accumulate_gradient`` + ``finish_gradient``) and an SGD step (``sgd_update``).

Every ``eval_every`` steps the current policy's exact KL(π‖π_ref) (nats, whole documents) is
computed and ``eval_docs`` fresh documents are scored by both the proxy and the gold reviewer.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import _kernels_policy as KP
from ._kernels_rlhf import sample_with_log_probs
from .errors import InvalidInput, positive_int
from .policy import CharPolicy
from .rng import STREAMS, check_seed, chunk_state

RLHF_STREAM = STREAMS["rlhf"]  # sampling stream of the RLHF troop
EVAL_STREAM = STREAMS["rlhf_eval"]  # sampling stream of the evaluation documents


@dataclass(frozen=True)
class RLHFConfig:
    """One RLOO run against a learned reward."""

    kl_coef: float = 0.0
    """β of the k1 KL penalty to the reference (pretrained) policy, ≥ 0."""
    steps: int = 300
    """Policy updates."""
    batch: int = 64
    """Documents per update (the RLOO group), ≥ 2."""
    lr: float = 2.0
    """SGD learning rate (> 0)."""
    eval_every: int = 20
    """Updates between evaluations (the first evaluation is at step 0)."""
    eval_docs: int = 256
    """Fresh documents scored by proxy and gold at each evaluation."""

    def __post_init__(self) -> None:
        b = float(self.kl_coef)
        if not (math.isfinite(b) and b >= 0):
            raise InvalidInput(f"KL coefficient β must be a finite number ≥ 0, got "
                               f"{self.kl_coef!r}")
        positive_int(self.steps, "RLHF steps")
        if positive_int(self.batch, "RLHF batch") < 2:
            raise InvalidInput(f"RLHF batch must be at least 2 (leave-one-out), got {self.batch}")
        lr = float(self.lr)
        if not (math.isfinite(lr) and lr > 0):
            raise InvalidInput(f"learning rate must be a positive number, got {self.lr!r}")
        positive_int(self.eval_every, "eval every")
        positive_int(self.eval_docs, "eval docs")


@dataclass(frozen=True)
class RLHFTrace:
    """Evaluations of one run (arrays of the same length, one entry per evaluation).

    step: updates done; kl: exact KL(π‖π_ref), nats; proxy, gold: mean reward of
    ``eval_docs`` fresh documents; proxy_se, gold_se: their standard errors.
    """

    step: np.ndarray
    kl: np.ndarray
    proxy: np.ndarray
    gold: np.ndarray
    proxy_se: np.ndarray
    gold_se: np.ndarray
    policy: CharPolicy


def rloo_against(reference: CharPolicy, proxy: Callable[[np.ndarray], np.ndarray],
                 gold: Callable[[np.ndarray], np.ndarray], config: RLHFConfig,
                 seed: int = 0) -> RLHFTrace:
    """RLOO from ``reference`` maximising ``proxy`` with a KL leash to ``reference``.

    ``proxy`` and ``gold`` map documents uint8[N, L] to rewards float64[N].
    """
    if not isinstance(reference, CharPolicy) or reference.policies != 1:
        raise InvalidInput("the RLHF reference must be a single CharPolicy")
    seed = check_seed(seed)
    spec = reference.spec
    theta = reference.theta[0].copy()
    logq, qprob, _ = (t[0] for t in reference.tables())
    logp, prob, cdf = (np.empty_like(theta) for _ in range(3))
    KP.policy_tables(theta, logp, prob, cdf)
    ip = np.zeros(KP.N_INT, dtype=np.int64)
    ip[KP.I_KIND], ip[KP.I_ROWS], ip[KP.I_BASE] = spec.kind_code, spec.rows, spec.base
    ip[KP.I_KL] = KP.KL_K1
    hp = np.zeros(KP.N_FLOAT)
    hp[KP.F_BETA] = config.kl_coef
    state = chunk_state(seed, 0, RLHF_STREAM)
    eval_state = chunk_state(seed, 0, EVAL_STREAM)
    kind, rows, base = spec.kind_code, spec.rows, spec.base
    k, length = config.batch, spec.length
    docs = np.empty((k, length), dtype=np.uint8)
    eval_buf = np.empty((config.eval_docs, length), dtype=np.uint8)
    lp, lq = np.empty(k), np.empty(k)
    elp, elq = np.empty(config.eval_docs), np.empty(config.eval_docs)
    adv = np.empty(k)
    oldlp = np.zeros((k, length))  # unused in the first (only) epoch: ratio = 1
    grad = np.zeros_like(theta)
    rowsum = np.zeros(spec.rows)
    baseline = np.zeros(2)
    rec: dict[str, list] = {n: [] for n in ("step", "kl", "proxy", "gold", "proxy_se",
                                            "gold_se")}

    def evaluate(step: int) -> None:
        sample_with_log_probs(eval_state, cdf, logp, logq, kind, rows, base, eval_buf, elp,
                              elq)
        p, g = proxy(eval_buf), gold(eval_buf)
        kl, _ = KP.exact_kl_entropy(logp, prob, logq, kind, rows, base, length)
        se = math.sqrt(config.eval_docs)
        for name, v in (("step", step), ("kl", max(kl, 0.0)), ("proxy", p.mean()),
                        ("gold", g.mean()), ("proxy_se", p.std(ddof=1) / se),
                        ("gold_se", g.std(ddof=1) / se)):
            rec[name].append(float(v))

    evaluate(0)
    for step in range(1, config.steps + 1):
        sample_with_log_probs(state, cdf, logp, logq, kind, rows, base, docs, lp, lq)
        shaped = np.asarray(proxy(docs), dtype=float) - config.kl_coef * (lp - lq)
        KP.group_advantages(shaped, KP.ADV_LOO, baseline, 0.0, adv)
        grad[:] = 0.0
        rowsum[:] = 0.0
        KP.accumulate_gradient(logp, logq, ip, hp, docs, oldlp, adv, 1.0 / k, True, grad,
                               rowsum)
        KP.finish_gradient(prob, grad, rowsum)
        KP.sgd_update(theta, grad, config.lr)
        KP.policy_tables(theta, logp, prob, cdf)
        if step % config.eval_every == 0 or step == config.steps:
            evaluate(step)
    arrays = {n: np.array(v) for n, v in rec.items()}
    return RLHFTrace(policy=CharPolicy(spec, theta), **arrays)
