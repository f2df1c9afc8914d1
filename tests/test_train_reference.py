"""The reference is the spec: ``train`` matches ``naive_train`` (tests/naive.py) with reviewer
noise and flipped verdicts, with pairwise preferences (naive, de-biased, estimated) and with
reviewers outside the kernels (stateful ones, noisy ones), for independent monkeys and troops.

Each case also runs the reference with the feature switched off and checks that the logits
move by much more than the tolerance, so that a kernel ignoring the feature fails."""

import dataclasses

import naive
import numpy as np
import pytest
from test_train import Tiny

from monkeysim.errors import InvalidInput
from monkeysim.learn import train as T
from monkeysim.rng import chunk_states

ATOL = 1e-8  # as the other reference-trainer tests (tests/test_train.py)
APART = 1e-4  # the feature moves the reference's logits by more than this


def reference_logits(tiny: Tiny, cfg: T.TrainConfig, steps: int, reward, **off) -> np.ndarray:
    """``naive_train`` with every setting of ``cfg`` (``off`` overrides some)."""
    kw = dict(algo=cfg.algo, lr=cfg.lr, optimizer=cfg.optimizer, troop=cfg.troop,
              beta=cfg.kl_coef, alpha=cfg.entropy_coef, kl=cfg.kl_mode,
              theta_ref=tiny.ref.tolist(), epochs=cfg.n_epochs, clip=cfg.clip,
              decay=cfg.baseline_decay, group_eps=cfg.group_eps,
              noise_sd=cfg.reviewer_noise / tiny.length, flip=cfg.flip_rate,
              preferences=cfg.preferences)
    kw.update(off)
    states = chunk_states(cfg.seed, 0, cfg.monkeys, T.TRAIN_STREAM)
    return np.array(naive.naive_train(tiny.theta.tolist(), tiny.kind, tiny.order, tiny.a,
                                      tiny.length, reward, states, steps, cfg.batch, **kw))


def config(tiny: Tiny, steps: int, **kw) -> T.TrainConfig:
    kw.setdefault("reward", "hamming")
    kw.setdefault("lr", 0.5)
    cfg = T.TrainConfig(policy=tiny.kind, order=tiny.order, stop="budget", seed=11, **kw)
    return dataclasses.replace(cfg, max_reviewer_calls=steps * cfg.calls_per_step)


def run_kernels(tiny: Tiny, cfg: T.TrainConfig, steps: int, reviewer=None) -> np.ndarray:
    res = T.train(cfg, tiny.target, tiny.alphabet, init=tiny.policy, reference=tiny.reference,
                  reviewer=reviewer)
    assert res.steps == steps
    return res.policy.theta


def case_id(value) -> str:
    if isinstance(value, dict):
        return "-".join(f"{k}={v}" for k, v in value.items()) or "-"
    return getattr(value, "__name__", str(value))


def assert_matches(theta, ref, without):
    """The kernels' logits equal the reference's; the reference without the feature differs."""
    np.testing.assert_allclose(theta, ref, rtol=0, atol=ATOL)
    assert np.abs(ref - without).max() > APART


# --- reviewer noise and flipped verdicts ------------------------------------------------------

NOISE_CASES = [  # (policy, reward, settings)
    ("positional", "hamming", dict(algo="rloo", monkeys=2, batch=3, reviewer_noise=0.7)),
    ("positional", "hamming", dict(algo="grpo", monkeys=3, batch=2, troop=True,
                                   reviewer_noise=1.5, optimizer="adam", lr=0.1)),
    ("positional", "exact", dict(algo="reinforce", monkeys=2, batch=3, flip_rate=0.2)),
    ("positional", "exact", dict(algo="ppo", monkeys=2, batch=2, flip_rate=0.3,
                                 reviewer_noise=0.5, kl_coef=0.2)),
    ("context", "hamming", dict(algo="rloo", monkeys=2, batch=3, reviewer_noise=1.0,
                                kl_coef=0.2, entropy_coef=0.1)),  # k1: noise, then shaping
    ("context", "exact", dict(algo="dr-grpo", monkeys=20, batch=2, troop=True, flip_rate=0.25,
                              reviewer_noise=0.3, kl_estimator="k3", kl_coef=0.1)),
]


@pytest.mark.parametrize("kind, reward, kw", NOISE_CASES,
                         ids=case_id)
def test_noisy_reviewer_matches_reference(kind, reward, kw):
    """Noise (σ/L in reward units) and flipped exact verdicts, drawn from each monkey's stream
    right after each document, as the reference draws them."""
    tiny = Tiny(kind=kind, order=2 if kind == "context" else 1, reward=reward, seed=5)
    steps = 3
    cfg = config(tiny, steps, reward=reward, **kw)
    ref = reference_logits(tiny, cfg, steps, tiny.reward)
    without = reference_logits(tiny, cfg, steps, tiny.reward, noise_sd=0.0, flip=0.0)
    assert_matches(run_kernels(tiny, cfg, steps), ref, without)


# --- pairwise preferences ---------------------------------------------------------------------

PREFERENCE_CASES = [  # (policy, settings, what the check "without" switches off)
    ("positional", dict(algo="rloo", monkeys=2, batch=4, preferences="naive", flip_rate=0.3),
     dict(flip=0.0)),
    ("positional", dict(algo="reinforce", monkeys=2, batch=4, preferences="debiased",
                        flip_rate=0.2, kl_coef=0.2, entropy_coef=0.1), dict(flip=0.0)),
    ("positional", dict(algo="grpo", monkeys=2, batch=4, preferences="estimated",
                        flip_rate=0.3), dict(preferences="naive")),
    # a troop: pairs straddle monkeys (batch 3), the verdicts draw from monkey 0's stream
    ("positional", dict(algo="ppo", monkeys=2, batch=3, troop=True, preferences="estimated",
                        flip_rate=0.3, optimizer="adam", lr=0.1), dict(preferences="naive")),
    ("positional", dict(algo="reinforce-pp", monkeys=18, batch=2, troop=True,
                        preferences="debiased", flip_rate=0.25, kl_estimator="k3",
                        kl_coef=0.2), dict(preferences="naive")),
    ("context", dict(algo="rloo", monkeys=3, batch=2, preferences="estimated", flip_rate=0.35,
                     kl_estimator="k3", kl_coef=0.1), dict(preferences="debiased")),
]


@pytest.mark.parametrize("kind, kw, off", PREFERENCE_CASES,
                         ids=case_id)
def test_preferences_match_reference(kind, kw, off):
    """Verdicts on adjacent pairs of each group from the group's own stream (a troop's from
    monkey 0's) after its typing, their flips, de-biasing and the running flip-rate estimate
    over steps."""
    tiny = Tiny(kind=kind, order=2 if kind == "context" else 1, seed=6)
    steps = 4
    cfg = config(tiny, steps, **kw)
    ref = reference_logits(tiny, cfg, steps, tiny.reward)
    without = reference_logits(tiny, cfg, steps, tiny.reward, **off)
    assert_matches(run_kernels(tiny, cfg, steps), ref, without)


def test_reference_refuses_preferences_with_terms_folded_into_the_score():
    tiny = Tiny(kind="context", order=2, seed=6)
    states = chunk_states(1, 0, 1, T.TRAIN_STREAM)
    for kl, alpha in (("k1", 0.0), ("k3", 0.1)):
        with pytest.raises(ValueError, match="verdicts alone"):
            naive.naive_train(tiny.theta.tolist(), "context", 2, tiny.a, tiny.length,
                              tiny.reward, states, 1, 2, algo="rloo", lr=0.5, kl=kl,
                              alpha=alpha, preferences="naive")


def test_preferences_refuse_a_context_entropy_bonus():
    """A context policy's entropy bonus is −α·log π folded into the score, which preferences
    never read (as the k1 term): the configuration refuses it (the kernels used to drop it
    silently), and accepts α = 0."""
    tiny = Tiny(kind="context", order=2, seed=6)
    kw = dict(algo="rloo", batch=4, preferences="naive", kl_estimator="k3")
    with pytest.raises(InvalidInput, match="entropy bonus"):
        config(tiny, 3, entropy_coef=0.5, **kw)
    config(tiny, 3, entropy_coef=0.0, **kw)


# --- reviewers outside the kernels ------------------------------------------------------------

class Hamming:
    """A user's reviewer on encoded documents: the share of correct keys. It takes
    ``uint8[n, L]`` from the kernels and the reference's list of document tuples alike."""

    def __init__(self, target_codes):
        self.target = np.asarray(target_codes, dtype=np.uint8)
        self.calls = 0

    def __call__(self, docs):
        self.calls += 1
        return (np.asarray(docs, dtype=np.uint8) == self.target).mean(axis=1)


class Counting(Hamming):
    """A stateful reviewer: its scores depend on how many documents it has seen (a drifting
    reviewer), so the order in which documents reach it matters."""

    def __init__(self, target_codes):
        super().__init__(target_codes)
        self.seen = 0

    def __call__(self, docs):
        base = super().__call__(docs)
        n = len(base)
        drift = 0.1 * ((self.seen + np.arange(n)) % 5)
        self.seen += n
        return base + drift


class Scored(Hamming):
    """The reviewer with ``score_batch`` (the other way of plugging one in)."""

    def score_batch(self, docs):
        return self(docs)


EXTERNAL_CASES = [  # (policy, reviewer class, settings)
    ("positional", Counting, dict(algo="rloo", monkeys=2, batch=3)),
    ("positional", Counting, dict(algo="reinforce", monkeys=3, batch=2, reviewer_noise=0.8)),
    ("positional", Counting, dict(algo="grpo", monkeys=3, batch=2, troop=True,
                                  reviewer_noise=0.5, optimizer="adam", lr=0.1)),
    ("positional", Scored, dict(algo="ppo", monkeys=2, batch=3, reviewer_noise=1.2,
                                kl_coef=0.2, entropy_coef=0.1)),
    ("positional", Counting, dict(algo="rloo", monkeys=2, batch=4, preferences="estimated",
                                  flip_rate=0.3)),
    ("context", Counting, dict(algo="dr-grpo", monkeys=2, batch=3, reviewer_noise=0.6,
                               kl_coef=0.2, entropy_coef=0.1)),  # k1: noise, score, shaping
    ("context", Counting, dict(algo="reinforce-pp", monkeys=20, batch=2, troop=True,
                               preferences="debiased", flip_rate=0.2, kl_estimator="k3",
                               kl_coef=0.1)),
]


@pytest.mark.parametrize("kind, reviewer, kw", EXTERNAL_CASES,
                         ids=case_id)
def test_external_reviewer_matches_reference(kind, reviewer, kw):
    """A reviewer outside numba, called once per step on all its documents (monkey-major),
    equals the reference calling the same reviewer on the same documents in the same order,
    with reviewer noise and preferences on top."""
    tiny = Tiny(kind=kind, order=2 if kind == "context" else 1, seed=7)
    steps = 3
    cfg = config(tiny, steps, **kw)
    codes = tiny.alphabet.encode(tiny.target)
    kernels_reviewer, reference_reviewer = reviewer(codes), reviewer(codes)
    theta = run_kernels(tiny, cfg, steps, reviewer=kernels_reviewer)
    ref = reference_logits(tiny, cfg, steps, reference_reviewer)
    assert kernels_reviewer.calls == reference_reviewer.calls == steps
    # without: the stateless hamming table instead of the stateful reviewer (or, for a
    # stateless one, without its noise)
    off = dict(noise_sd=0.0) if reviewer is Scored else {}
    without = reference_logits(tiny, cfg, steps,
                               reference_reviewer if reviewer is Scored else tiny.reward, **off)
    assert_matches(theta, ref, without)
