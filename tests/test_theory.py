import math

import numpy as np
import pytest

from monkeysim import theory
from monkeysim.alphabet import named
from monkeysim.errors import InvalidInput


@pytest.mark.parametrize("target, a, expected", [
    ("HH", 2, 6), ("HT", 2, 4), ("HHH", 2, 14), ("HTH", 2, 10), ("A", 27, 27),
    ("ABRACADABRA", 26, 26**11 + 26**4 + 26),
    ("METHINKS IT IS LIKE A WEASEL", 27, 27**28),
])
def test_conway_hand_values(target, a, expected):
    assert theory.expected_keystrokes(target, a) == expected


def test_document_mean_and_big_numbers():
    assert theory.expected_keystrokes("AB", 3, "document") == 2 * 9
    w = theory.expected_keystrokes("METHINKS IT IS LIKE A WEASEL", named("upper27"))
    assert isinstance(w, int) and str(w).startswith("1197251518256201978")
    assert math.isclose(theory.log10_expected_keystrokes("METHINKS IT IS LIKE A WEASEL", 27),
                        28 * math.log10(27))


@pytest.mark.parametrize("target, a", [("HH", 2), ("HTH", 2), ("ABA", 3), ("AAB", 2),
                                       ("ABAB", 2), ("XYZ", 4)])
def test_survival_matches_brute_force_chain(target, a):
    t_max = 400
    brute = theory.brute_force_survival(target, a, t_max)
    wt = theory.waiting_time(target, a)
    np.testing.assert_allclose(wt.sf(np.arange(t_max + 1)), brute, rtol=1e-9, atol=1e-15)
    # the mean is the sum of the survival function
    assert math.isclose(wt.sf(np.arange(200_000)).sum(), wt.mean, rel_tol=1e-9)


def brute_first_of_n(target, a, n, mode="stream"):
    wt = theory.waiting_time(target, a, mode)
    t = np.arange(0, 400_000, wt.step)
    return float((wt.sf(t) ** n).sum() * wt.step)


@pytest.mark.parametrize("mode", ["stream", "document"])
@pytest.mark.parametrize("n", [1, 2, 7, 100])
def test_first_of_n_monkeys(mode, n):
    wt = theory.waiting_time("ABA", 3, mode)
    assert math.isclose(wt.mean_first(n), brute_first_of_n("ABA", 3, n, mode), rel_tol=1e-9)
    assert math.isclose(wt.mean_total_work(n), n * wt.mean_first(n))
    assert wt.mean_first(n) <= wt.mean


def test_first_of_one_is_conway():
    wt = theory.waiting_time("TO BE", 27)
    assert wt.mean_first(1) == wt.mean
    # geometric tail formula agrees with summation for N > 1 (N = 2 sums to ~1e8 terms;
    # check against the asymptotic 1/(N h) instead, exact to ~L/E relative)
    assert math.isclose(wt.mean_first(1000), 1 / (1000 * wt.hazard), rel_tol=1e-3)


def test_restricted_mean_and_quantiles():
    wt = theory.waiting_time("HTH", 2)
    for b in (1, 3, 10, 57):
        assert math.isclose(wt.restricted_mean(b), wt.sf(np.arange(b)).sum(), rel_tol=1e-12)
    q = wt.quantile([0.1, 0.5, 0.9])
    cdf = wt.cdf(q)
    assert np.all(cdf >= [0.1, 0.5, 0.9]) and np.all(wt.cdf(q - 1) < [0.1, 0.5, 0.9])
    wd = theory.waiting_time("HT", 2, "document")
    assert math.isclose(wd.restricted_mean(7), 2 * (1 + 0.75 + 0.75**2))


def test_huge_targets_tail():
    wt = theory.waiting_time("METHINKS IT IS LIKE A WEASEL", 27)
    assert math.isclose(1 / wt.hazard, float(wt.mean), rel_tol=1e-9)
    assert math.isclose(float(wt.sf(float(wt.mean))[()]), math.exp(-1), rel_tol=1e-6)


def test_bad_theory_input():
    with pytest.raises(InvalidInput):
        theory.expected_keystrokes("", 27)
    with pytest.raises(InvalidInput):
        theory.expected_keystrokes("AB", 0)
    with pytest.raises(InvalidInput):
        theory.expected_keystrokes("ABC", 2)
    with pytest.raises(InvalidInput):
        theory.waiting_time("AB", 2).quantile(1.0)
