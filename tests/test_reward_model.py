"""Bradley–Terry reward model: features, loss gradient, fit, held-out accuracy; pretraining."""

import math

import numpy as np
import pytest

from monkeysim.alphabet import named
from monkeysim.errors import InvalidInput
from monkeysim.policy import CharPolicy
from monkeysim.reward import make_reviewer
from monkeysim.reward_model import (
    bt_loss_grad,
    check_noise,
    fit_bradley_terry,
    hashed_features,
    preference_pairs,
    text_features,
    train_reward_model,
)

ALPHA = named("lower27")
CORPUS = "to be or not to be that is the question now is the winter of our discontent"
TARGET = "now is the winter of our discontent"


def test_features_are_shares_per_order():
    docs = np.random.default_rng(0).integers(0, 27, size=(50, 12)).astype(np.uint8)
    phi = hashed_features(docs, 27, orders=(1, 2, 3), buckets=64)
    assert phi.shape == (50, 64)
    np.testing.assert_allclose(phi.sum(axis=1), 3.0)
    # the same n-grams in another order give the same unigram part, and identical docs agree
    np.testing.assert_array_equal(hashed_features(docs[:1], 27, (1,), 64),
                                  hashed_features(docs[:1, ::-1].copy(), 27, (1,), 64))
    t = text_features(["ab", "ab", "a longer text"], buckets=32)
    np.testing.assert_array_equal(t[0], t[1])
    np.testing.assert_allclose(t.sum(axis=1), 3.0)


def test_bt_gradient_matches_finite_differences():
    rng = np.random.default_rng(1)
    diff = rng.normal(size=(40, 7))
    w = rng.normal(size=7)
    loss, grad = bt_loss_grad(w, diff, l2=0.1)
    h = 1e-6
    fd = np.array([(bt_loss_grad(w + h * e, diff, 0.1)[0] - bt_loss_grad(w - h * e, diff, 0.1)[0])
                   / (2 * h) for e in np.eye(7)])
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-9)
    z = diff @ w
    assert loss == pytest.approx(np.mean(-np.log(1 / (1 + np.exp(-z)))) + 0.05 * w @ w)


def test_fit_reaches_the_minimum():
    rng = np.random.default_rng(2)
    diff = rng.normal(size=(200, 5))
    w, loss, _ = fit_bradley_terry(diff, l2=0.01)
    _, grad = bt_loss_grad(w, diff, 0.01)
    assert np.abs(grad).max() < 1e-8
    assert loss <= bt_loss_grad(np.zeros(5), diff, 0.01)[0]


def test_pairs_noise_flips_labels():
    docs = np.arange(100, dtype=np.uint8)[:, None] % 27
    gold = np.arange(100, dtype=float)
    c, r, clean = preference_pairs(docs, gold, 4000, noise=0.3, seed=5)
    right = gold[c] > gold[r]
    np.testing.assert_array_equal(right, clean)
    k = len(clean)
    assert abs((~clean).mean() - 0.3) < 4 * math.sqrt(0.3 * 0.7 / k)
    c0, r0, clean0 = preference_pairs(docs, gold, 4000, noise=0.0, seed=5)
    assert clean0.all() and np.all(gold[c0] > gold[r0])


def test_heldout_accuracy_above_chance():
    ref = CharPolicy.pretrained(CORPUS, ALPHA, 3, len(TARGET), smoothing=0.1)
    docs = ref.sample(1500, seed=3)[0]
    gold = make_reviewer("ngram", TARGET, ALPHA).score_batch(docs)
    model, rep = train_reward_model(docs, gold, ALPHA.size, pairs=1500, noise=0.1, buckets=128,
                                    seed=4)
    # one-sided binomial test at 4 sd against the coin flip
    assert rep.heldout_accuracy > 0.5 + 4 * math.sqrt(0.25 / rep.heldout_pairs), rep
    assert 0.0 <= rep.ece <= 1.0
    assert sum(k for _, _, k in rep.calibration) == 2 * rep.heldout_pairs
    s = model.score_batch(docs)
    assert abs(s.mean()) < 1e-9 and s.std() == pytest.approx(1.0)
    again, rep2 = train_reward_model(docs, gold, ALPHA.size, pairs=1500, noise=0.1,
                                     buckets=128, seed=4)
    np.testing.assert_array_equal(again.weights, model.weights)
    assert rep2 == rep


def test_pretrained_probabilities_sum_to_one():
    pol = CharPolicy.pretrained(CORPUS, ALPHA, 3, 10, smoothing=0.5)
    p = pol.probs()[0]
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    # the all-start row: counts of the first key only ("t"), add-0.5 smoothing
    start = p[pol.spec.rows - 1]
    t = ALPHA.encode("t")[0]
    assert start[t] == pytest.approx(1.5 / (1 + 0.5 * 27))
    # context "to" is followed by " " three times in CORPUS
    base = pol.spec.base
    row = (int(ALPHA.encode("t")[0]) * base + int(ALPHA.encode("o")[0])) % pol.spec.rows
    space = ALPHA.encode(" ")[0]
    counts = sum(1 for i in range(2, len(CORPUS)) if CORPUS[i - 2:i] == "to")
    follow = sum(1 for i in range(2, len(CORPUS)) if CORPUS[i - 2:i] == "to" and CORPUS[i] == " ")
    assert p[row, space] == pytest.approx((follow + 0.5) / (counts + 0.5 * 27))


@pytest.mark.parametrize("noise", [-0.1, 1.5, float("nan"), "x"])
def test_bad_noise_rate(noise):
    with pytest.raises(InvalidInput, match="outside \\[0, 1\\]|number in \\[0, 1\\]"):
        check_noise(noise)
    docs = np.zeros((4, 3), dtype=np.uint8)
    with pytest.raises(InvalidInput):
        preference_pairs(docs, np.arange(4.0), 10, noise=noise)


def test_empty_corpus():
    with pytest.raises(InvalidInput, match="pretraining text is empty"):
        CharPolicy.pretrained("", ALPHA, 3, 10)
