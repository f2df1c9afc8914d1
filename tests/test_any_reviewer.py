"""Any reviewer: train() with a Python reviewer, a learned reward model, a noisy wrapper."""

import hashlib

import numpy as np
import pytest

from monkeysim import texts
from monkeysim.alphabet import named
from monkeysim.errors import InvalidInput
from monkeysim.learn.train import TrainConfig, train
from monkeysim.reward import NoisyReviewer, make_reviewer

TEXT = texts.get("weasel")
ALPHA = named("upper27")
CODES = ALPHA.encode(TEXT)


class Hamming:
    """A user's reviewer: the share of correct characters, computed in numpy."""

    score_range = (0.0, 1.0)

    def score_batch(self, docs):
        return (docs == CODES).mean(axis=1)


def _digest(res) -> str:
    h = hashlib.sha256()
    for name in sorted(res.metrics):
        h.update(np.ascontiguousarray(res.metrics[name]).tobytes())
    h.update(res.policy.theta.tobytes())
    return h.hexdigest()


@pytest.mark.parametrize("kw", [
    {}, {"algo": "ppo"}, {"algo": "grpo"}, {"algo": "reinforce", "monkeys": 3},
    {"monkeys": 4, "troop": True}, {"kl_coef": 0.1}, {"reviewer_noise": 0.5},
    {"preferences": "estimated", "flip_rate": 0.2, "lr": 2.0},
])
def test_python_reviewer_gives_the_same_bytes_as_the_builtin(kw):
    """The built-in hamming reviewer inside numba and the same reviewer written in Python
    (scored between two kernel calls per step) give byte-identical runs."""
    cfg = TrainConfig(max_reviewer_calls=6_000, seed=3, **kw)
    builtin = train(cfg, TEXT, ALPHA)
    python = train(cfg, TEXT, ALPHA, reviewer=Hamming())
    assert builtin.steps == python.steps and builtin.steps > 0
    assert _digest(builtin) == _digest(python)
    assert builtin.reviewer_calls == python.reviewer_calls


def test_plain_callable_and_learned_reward_model():
    from monkeysim.reward_model import train_reward_model

    cfg = TrainConfig(max_reviewer_calls=2_000, seed=1, stop="budget")
    res = train(cfg, TEXT, ALPHA, reviewer=lambda docs: (docs == CODES).sum(axis=1) / 28.0)
    assert res.steps == 2_000 // 16 and res.metrics["reward_mean"][-1] > 1 / 27
    rng = np.random.default_rng(0)
    docs = rng.integers(0, 27, size=(400, 28), dtype=np.uint8)
    docs[:200, :14] = CODES[:14]  # half of them half right
    gold = make_reviewer("hamming", TEXT, ALPHA).score_batch(docs)
    model = train_reward_model(docs, gold, 27, pairs=500, seed=0)[0]
    learned = train(cfg, TEXT, ALPHA, reviewer=model)
    assert learned.steps == res.steps
    assert np.isfinite(learned.metrics["reward_mean"]).all()


def test_noisy_wrapper_through_train_is_deterministic():
    noisy = [train(TrainConfig(max_reviewer_calls=3_000, seed=2, stop="budget"), TEXT, ALPHA,
                   reviewer=NoisyReviewer(make_reviewer("hamming", TEXT, ALPHA), sigma=0.05,
                                          seed=9)) for _ in range(2)]
    assert _digest(noisy[0]) == _digest(noisy[1])
    clean = train(TrainConfig(max_reviewer_calls=3_000, seed=2, stop="budget"), TEXT, ALPHA)
    assert _digest(clean) != _digest(noisy[0])


@pytest.mark.parametrize("reviewer,fragment", [
    (lambda docs: np.zeros(3), "shape (3,) for 16 documents"),
    (lambda docs: np.full(docs.shape[0], np.nan), "must be finite"),
    (lambda docs: ["x"] * docs.shape[0], "did not return numbers"),
    (type("Over", (), {"score_range": (0.0, 1.0),
                       "score_batch": lambda self, d: np.full(d.shape[0], 2.0)})(),
     "outside its score_range"),
    (42, "must score a batch of encoded documents"),
])
def test_bad_reviewer_gets_one_clear_error(reviewer, fragment):
    with pytest.raises(InvalidInput) as exc:
        train(TrainConfig(max_reviewer_calls=100, seed=0), TEXT, ALPHA, reviewer=reviewer)
    assert fragment in str(exc.value)
    assert "\n" not in str(exc.value)


def test_external_reviewer_refuses_verdict_flips_and_dry_steps():
    from monkeysim.learn.noise_scale import policy_gradient_samples
    from monkeysim.policy import CharPolicy, PolicySpec

    with pytest.raises(InvalidInput, match="wrap your reviewer"):
        train(TrainConfig(reward="exact", flip_rate=0.1, max_reviewer_calls=100), TEXT, ALPHA,
              reviewer=Hamming())
    pol = CharPolicy.uniform(PolicySpec("positional", 28, 27, 1))
    with pytest.raises(InvalidInput, match="built-in reviewer"):
        policy_gradient_samples(TrainConfig(), TEXT, pol, 4, ALPHA, reviewer=Hamming())
