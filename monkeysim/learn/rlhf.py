"""RLHF against a learned reward: RLOO with a KL leash, scored by a Python reward model.

No loop of its own: :func:`rloo_against` drives the learner core,
:func:`monkeysim.learn.train.train`, with the reward model as its reviewer (any object that
scores a batch of encoded documents), RLOO, SGD and the k1 KL leash ``r − β (log π(doc) −
log π_ref(doc))`` to the pretrained policy. It trains in segments of ``eval_every`` steps
(each from the previous segment's policy, on its own derived stream) and, between segments,
computes the policy's exact KL(π‖π_ref) (nats, whole documents) and scores ``eval_docs``
fresh documents by both the proxy and the gold reviewer.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..alphabet import Alphabet
from ..errors import InvalidInput, nonneg_float, positive_float, positive_int
from ..policy import CharPolicy
from ..rng import STREAMS, check_seed, derived_seed
from .train import TrainConfig, train

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
    early_evals: bool = False
    """Also evaluate after 1, 2, 4, … updates below ``eval_every`` (a run at a large step
    size moves most of its KL in its first few updates)."""

    def __post_init__(self) -> None:
        nonneg_float(self.kl_coef, "KL coefficient β")
        positive_int(self.steps, "RLHF steps")
        if positive_int(self.batch, "RLHF batch") < 2:
            raise InvalidInput(f"RLHF batch must be at least 2 (leave-one-out), got {self.batch}")
        positive_float(self.lr, "learning rate lr")
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


def evaluation_steps(config: RLHFConfig) -> list[int]:
    """Updates done at each evaluation after the first (at 0): every ``eval_every`` and the
    last step, with 1, 2, 4, … below ``eval_every`` too when ``early_evals``."""
    stops = set(range(config.eval_every, config.steps, config.eval_every)) | {config.steps}
    k = 1
    while config.early_evals and k < min(config.eval_every, config.steps):
        stops.add(k)
        k *= 2
    return sorted(stops)


def rloo_against(reference: CharPolicy, proxy: Callable[[np.ndarray], np.ndarray],
                 gold: Callable[[np.ndarray], np.ndarray], config: RLHFConfig,
                 target: str, alphabet: Alphabet, seed: int = 0) -> RLHFTrace:
    """RLOO from ``reference`` maximising ``proxy`` with a KL leash to ``reference``.

    ``proxy`` and ``gold`` map documents uint8[N, L] to rewards float64[N]; ``target`` (of
    length L, in ``alphabet``) only sizes the documents (the run never stops early).
    """
    if not isinstance(reference, CharPolicy) or reference.policies != 1:
        raise InvalidInput("the RLHF reference must be a single CharPolicy")
    seed = check_seed(seed)
    spec = reference.spec
    policy = reference
    rec: dict[str, list] = {n: [] for n in ("step", "kl", "proxy", "gold", "proxy_se",
                                            "gold_se")}

    def evaluate(step: int) -> None:
        docs = policy.sample(config.eval_docs, seed=derived_seed(seed, EVAL_STREAM, step))[0]
        p, g = proxy(docs), gold(docs)
        se = math.sqrt(config.eval_docs)
        for name, v in (("step", step), ("kl", max(float(policy.kl(reference)[0]), 0.0)),
                        ("proxy", p.mean()), ("gold", g.mean()),
                        ("proxy_se", p.std(ddof=1) / se), ("gold_se", g.std(ddof=1) / se)):
            rec[name].append(float(v))

    evaluate(0)
    done = 0
    for stop in evaluation_steps(config):
        steps = stop - done
        run = TrainConfig(algo="rloo", policy=spec.kind, order=spec.order, batch=config.batch,
                          lr=config.lr, kl_coef=config.kl_coef, kl_estimator="k1",
                          max_reviewer_calls=steps * config.batch, stop="budget", threads=1,
                          track_kl=False,
                          seed=derived_seed(seed, RLHF_STREAM, done))
        policy = train(run, target, alphabet, init=policy, reference=reference,
                       reviewer=proxy).policy
        done += steps
        evaluate(done)
    arrays = {n: np.array(v) for n, v in rec.items()}
    return RLHFTrace(policy=policy, **arrays)
