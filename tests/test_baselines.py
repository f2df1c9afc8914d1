"""Learning baselines: Dawkins' weasel, coordinate search and random document typing,
against pure-Python references fed the same streams and against exact expectations."""

import math
from statistics import NormalDist

import naive
import numpy as np
import pytest

from monkeysim import baselines as B
from monkeysim.alphabet import named
from monkeysim.errors import InvalidInput
from monkeysim.rng import chunk_state

WEASEL = "METHINKS IT IS LIKE A WEASEL"
Z_CRIT = NormalDist().inv_cdf(1 - 1e-3 / 2)  # two-sided z-test at α = 1e-3, fixed seed


def _hamming(codes):
    target = list(codes)
    return lambda doc: sum(x == y for x, y in zip(doc, target, strict=True)) / len(target)


@pytest.mark.parametrize("latching", [False, True])
def test_weasel_matches_reference(latching):
    target = "METHINKS"
    alpha = named("upper27")
    codes = alpha.encode(target).tolist()
    runs = B.weasel(target, alpha, seeds=[0, 1, 2], latching=latching, offspring=30,
                    max_reviewer_calls=30_000)
    for j, s in enumerate(runs.seeds):
        calls, gens, solved, final = naive.naive_weasel(
            chunk_state(s, 0, B.WEASEL_STREAM), codes, alpha.size, 30, 0.05, latching, 30_000,
            _hamming(codes))
        assert (runs.reviewer_calls[j], runs.rounds[j], runs.solved[j]) == (calls, gens, solved)
        assert runs.final[j] == alpha.decode(final)


def test_coordinate_matches_reference():
    alpha = named("upper27")
    codes = alpha.encode(WEASEL).tolist()
    for early_stop, budget in ((True, 10**6), (False, 10**6), (True, 100)):
        runs = B.coordinate_search(WEASEL, alpha, seeds=[3, 4], early_stop=early_stop,
                                   max_reviewer_calls=budget)
        for j, s in enumerate(runs.seeds):
            calls, pos, solved, final = naive.naive_coordinate(
                chunk_state(s, 0, B.COORDINATE_STREAM), codes, alpha.size, early_stop, budget,
                _hamming(codes))
            assert (runs.reviewer_calls[j], runs.rounds[j], runs.solved[j]) == \
                (calls, pos, solved)
            assert runs.final[j] == alpha.decode(final)


def test_weasel_solves_the_weasel_and_counts_offspring():
    for latching in (False, True):
        runs = B.weasel(WEASEL, "upper27", seeds=range(5), latching=latching)
        assert runs.solved.all()
        assert all(f == WEASEL for f in runs.final)
        assert (runs.reviewer_calls == 100 * runs.rounds).all()
        assert (runs.keystrokes == runs.reviewer_calls * len(WEASEL)).all()
        # thousands of calls: the number the learning monkeys are measured against
        assert 1000 < np.median(runs.reviewer_calls) < 30_000


def test_coordinate_search_mean_matches_exact_expectation():
    """Mean calls over seeds vs the exact expectation (early stop, ends when solved):
    1 + Σ_i [(A−1)/A · A/2 + 1/A · (1 − A^−(L−1−i)) · (A − 1)] ≈ L·(A+1)/2."""
    a, length, n = 27, len(WEASEL), 400
    runs = B.coordinate_search(WEASEL, "upper27", seeds=range(n))
    assert runs.solved.all() and all(f == WEASEL for f in runs.final)
    exact = 1 + sum((a - 1) / a * a / 2 + (1 - a ** -(length - 1 - i)) * (a - 1) / a
                    for i in range(length))
    x = runs.reviewer_calls.astype(float)
    z = (x.mean() - exact) / (x.std(ddof=1) / math.sqrt(n))
    assert abs(z) < Z_CRIT, (x.mean(), exact)
    assert exact == pytest.approx(length * (a + 1) / 2, rel=0.02)
    assert B.coordinate_expected_calls(length, a) == pytest.approx(exact, abs=1.0)


def test_random_typing_matches_geometric_theory():
    n = 300
    runs = B.random_typing("AB", alphabet_chars="ABC", seeds=range(n), max_reviewer_calls=10**4)
    assert runs.solved.all()
    x = runs.reviewer_calls.astype(float)  # geometric, success 1/9: mean 9, variance 72
    z = (x.mean() - 9) / math.sqrt(72 / n)
    assert abs(z) < Z_CRIT
    th = B.random_typing_theory(WEASEL, "upper27")
    assert th.log10_mean == pytest.approx(28 * math.log10(27), abs=1e-9)
    assert th.q25 < th.median < th.q75


def test_batched_runs_equal_single_runs():
    one = B.weasel("HELLO", "upper27", seeds=[7])
    many = B.weasel("HELLO", "upper27", seeds=[5, 6, 7])
    assert many.reviewer_calls[2] == one.reviewer_calls[0] and many.final[2] == one.final[0]
    c1 = B.coordinate_search("HELLO", "upper27", seeds=7)
    c3 = B.coordinate_search("HELLO", "upper27", seeds=[1, 7])
    assert c3.reviewer_calls[1] == c1.reviewer_calls[0]


def test_budget_censors_runs():
    runs = B.weasel(WEASEL, "upper27", seeds=[0], max_reviewer_calls=250)
    assert not runs.solved[0] and runs.reviewer_calls[0] == 200  # whole generations only
    c = B.coordinate_search(WEASEL, "upper27", seeds=[0], max_reviewer_calls=50)
    assert not c.solved[0] and c.reviewer_calls[0] == 50


@pytest.mark.parametrize("call, fragment", [
    (lambda: B.weasel("", "upper27"), "empty"),
    (lambda: B.weasel("abc", "upper27"), "not in alphabet"),
    (lambda: B.weasel(WEASEL, "upper27", mutation_rate=0), "mutation rate"),
    (lambda: B.weasel(WEASEL, "upper27", mutation_rate=1.5), "mutation rate"),
    (lambda: B.weasel(WEASEL, "upper27", offspring=0), "offspring"),
    (lambda: B.weasel(WEASEL, "upper27", seeds=[]), "at least one seed"),
    (lambda: B.weasel(WEASEL, "upper27", seeds=[-1]), "seed"),
    (lambda: B.weasel(WEASEL, "upper27", reward="bleu"), "unknown reward"),
    (lambda: B.coordinate_search(WEASEL, "upper27", max_reviewer_calls=0),
     "max reviewer calls"),
    (lambda: B.random_typing(WEASEL, "upper27", max_reviewer_calls=-5), "max reviewer calls"),
])
def test_bad_inputs(call, fragment):
    with pytest.raises(InvalidInput, match=fragment):
        call()
