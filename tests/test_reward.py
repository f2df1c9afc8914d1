"""Text reviewers against the naive references, their properties, bananas and noise."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from naive_reward import score as naive_score

from monkeysim.errors import InvalidInput
from monkeysim.reward import (
    REWARD_KINDS,
    Bananas,
    NoisyReviewer,
    make_reviewer,
    word_spans,
)

CHARS = "ab c"


@st.composite
def doc_and_target(draw, chars=CHARS, max_len=9):
    n = draw(st.integers(1, max_len))
    text = st.text(alphabet=chars, min_size=n, max_size=n)
    return draw(text), draw(text)


@settings(max_examples=300, deadline=None)
@given(doc_and_target(), st.sampled_from(REWARD_KINDS), st.integers(1, 4))
def test_kernels_match_naive(pair, kind, n):
    doc, target = pair
    rev = make_reviewer(kind, target, alphabet_chars=CHARS, ngram_n=n)
    assert rev.score(doc) == pytest.approx(naive_score(kind, doc, target, n), abs=1e-12)


@settings(max_examples=300, deadline=None)
@given(doc_and_target(), st.sampled_from(REWARD_KINDS))
def test_range_and_identity(pair, kind):
    doc, target = pair
    rev = make_reviewer(kind, target, alphabet_chars=CHARS)
    s = rev.score(doc)
    assert 0.0 <= s <= 1.0
    assert rev.score(target) == 1.0
    assert (s == 1.0) == (doc == target)


@settings(max_examples=200, deadline=None)
@given(doc_and_target())
def test_prefix_at_most_hamming_at_most_levenshtein(pair):
    doc, target = pair
    score = {k: make_reviewer(k, target, alphabet_chars=CHARS).score(doc)
             for k in ("prefix", "hamming", "levenshtein", "exact")}
    assert score["exact"] <= score["prefix"] <= score["hamming"] <= score["levenshtein"]


def test_ngram_reordered_match_stays_below_one():
    rev = make_reviewer("ngram", "abaca", alphabet_chars="abc", ngram_n=2)
    assert rev.score("acaba") == pytest.approx(3.5 / 4)


def test_word_spans_cover_the_target():
    start, end = word_spans("  to be, or  not")
    assert start.tolist() == [0, 5, 9, 13] and end.tolist() == [5, 9, 13, 16]
    rev = make_reviewer("words", "to be or not", alphabet="typewriter")
    assert rev.score("to be or nox") == pytest.approx(3 / 4)
    assert rev.score("to-be or not") == pytest.approx(3 / 4)  # a wrong separator costs a word


def test_batch_matches_one_by_one():
    target = "METHINKS IT IS LIKE A WEASEL"
    rng = np.random.default_rng(3)
    docs = rng.integers(0, 27, size=(500, len(target)), dtype=np.uint8)
    docs[::7, :10] = make_reviewer("exact", target).target_codes[:10]
    for kind in REWARD_KINDS:
        rev = make_reviewer(kind, target)
        batch = rev.score_batch(docs)
        one = [naive_score(kind, rev.alphabet.decode(d), target) for d in docs]
        np.testing.assert_allclose(batch, one, rtol=0, atol=1e-12)


def test_bananas_pay_by_thresholds():
    rev = make_reviewer("hamming", "ABCD")
    pay = Bananas(rev, (0.5, 1.0))
    assert [pay(None, d) for d in ("XXXX", "AXXX", "ABXX", "ABCX", "ABCD")] == [0, 0, 1, 1, 2]
    docs = np.stack([rev.encode(d) for d in ("XXXX", "ABXX", "ABCD")])
    assert pay.score_batch(docs).tolist() == [0.0, 1.0, 2.0]


def test_noisy_reviewer_is_seeded_and_flips_at_its_rate():
    rev = make_reviewer("exact", "AB")
    docs = np.tile(rev.target_codes, (20_000, 1))
    a = NoisyReviewer(rev, flip=0.2, seed=7).score_batch(docs)
    b = NoisyReviewer(rev, flip=0.2, seed=7).score_batch(docs)
    assert np.array_equal(a, b)
    wrong = (a == 0.0).mean()
    se = math.sqrt(0.2 * 0.8 / docs.shape[0])
    assert abs(wrong - 0.2) < 4 * se  # z-test at |z| < 4
    g = NoisyReviewer(rev, sigma=0.5, seed=1).score_batch(docs)
    assert abs(g.mean() - 1.0) < 4 * 0.5 / math.sqrt(docs.shape[0])
    assert abs(g.std() - 0.5) < 0.02


@pytest.mark.parametrize("call, message", [
    (lambda: make_reviewer("bleu", "AB"), "unknown reward 'bleu'"),
    (lambda: make_reviewer("exact", ""), "target is empty"),
    (lambda: make_reviewer("ngram", "AB", ngram_n=0), "ngram n"),
    (lambda: make_reviewer("exact", "AB").score("ABC"), "exactly 2"),
    (lambda: Bananas(make_reviewer("exact", "AB"), (0.5, 0.2)), "strictly increasing"),
    (lambda: Bananas(make_reviewer("exact", "AB"), (1.5,)), "outside (0, 1]"),
    (lambda: NoisyReviewer(make_reviewer("exact", "AB"), flip=1.5), "outside [0, 1]"),
    (lambda: NoisyReviewer(make_reviewer("exact", "AB"), sigma=float("nan")), "sigma"),
])
def test_bad_input(call, message):
    with pytest.raises(InvalidInput, match=None) as exc:
        call()
    assert message in str(exc.value)
