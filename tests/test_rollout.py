"""Scripted reviewer, rollout tables, expected reward (exact vs brute force vs empirical), the
table policy's exact gradient and KL, and the score-function gradient's unbiasedness."""

import math

import naive_rollout as naive
import numpy as np
import pytest

from monkeysim.errors import InvalidInput
from monkeysim.learn import rollout as ro
from monkeysim.reward_scripted import (
    ANTARCTICA,
    BRAD_PITT,
    NO_COUNTRY_FIRST_SECTION,
    NOTE_EXAMPLES,
    SCRIPTED_REWARDS,
    WHO_MADE,
    ScriptedReviewer,
    course_note_reviewer,
    course_note_reward_model,
    note_rewards,
)
from monkeysim.stats import Z95

T = ro.NOTE_TABLE
REV = course_note_reviewer()
R = ro.reward_matrix(T, REV)


def random_policy(seed, scale=1.0):
    rng = np.random.default_rng(seed)
    return ro.TablePolicy(T, rng.normal(0, scale, T.shape))


# --- the note's numbers ----------------------------------------------------------------------

def test_course_note_reviewer_exact_numbers():
    expected = {"?9dfsa": 0, "Antarctica is": 0.0021, "Penguin overlords": 0.09,
                "Antarctica is a country": 0.02, "no country owns Antarctica": 0.09,
                "Antarctica is governed by an international treaty": 1}
    for response, reward in expected.items():
        assert REV(ANTARCTICA, response) == reward
    assert REV.known_responses(ANTARCTICA) == list(expected)
    assert NO_COUNTRY_FIRST_SECTION == 0.9  # the note's other number, documented, not used


def test_reward_model_brad_pitt():
    model = course_note_reward_model()
    assert model(WHO_MADE, BRAD_PITT) == -10000
    assert (WHO_MADE, BRAD_PITT) not in REV  # only the reward model scores it
    assert model(ANTARCTICA, "Antarctica is") == 0.0021


def test_note_examples_and_json_rewards():
    assert len(NOTE_EXAMPLES) == 7
    assert (WHO_MADE, BRAD_PITT, -10000.0) in NOTE_EXAMPLES
    rows = note_rewards()
    assert [(d["query"], d["response"], d["reward"]) for d in rows] == list(NOTE_EXAMPLES)


def test_from_note_flags():
    ours = {(e.query, e.response) for e in SCRIPTED_REWARDS if not e.from_note}
    assert all(q == ANTARCTICA for q, _ in
               {(e.query, e.response) for e in SCRIPTED_REWARDS if e.from_note})
    assert ("The largest ocean is ?", "the Pacific Ocean") in ours  # reward not the note's
    rows = {r.query: r for r in T.rows}
    assert all(r.from_note for r in T.rows)
    ocean = {y.response: y.from_note for y in rows["The largest ocean is ?"].responses}
    assert ocean["the Pacific Ocean"] and ocean["the Atlantic Ocean"]
    assert not ocean["water"]
    assert all(y.from_note for y in rows[ANTARCTICA].responses)
    assert not any(y.from_note for y in rows["is it a kids book"].responses)
    assert set(T.queries) == {"The largest ocean is ?", "Can you give me some python code",
                              "is it a kids book", ANTARCTICA, WHO_MADE}


def test_every_table_pair_has_a_scripted_reward():
    for q, ys in zip(T.queries, T.responses, strict=True):
        for y in ys:
            assert (q, y) in REV
    assert len(REV) == int(T.sizes.sum())


# --- unknown responses are visible -----------------------------------------------------------

def test_unknown_response_error_is_the_default():
    with pytest.raises(InvalidInput) as exc:
        course_note_reviewer()(ANTARCTICA, "Antarctica belongs to the penguins")
    msg = str(exc.value)
    assert "'Antarctica belongs to the penguins'" in msg and repr(ANTARCTICA) in msg
    assert "known responses" in msg and "'Penguin overlords'" in msg
    with pytest.raises(InvalidInput, match="no entry for query 'what is a banana'; known "
                                           "queries"):
        course_note_reviewer()("what is a banana", "a fruit")


def test_unknown_response_default_is_recorded():
    r = course_note_reviewer(unknown="default", default=-1.0)
    assert r(ANTARCTICA, "Antarctica is") == 0.0021
    assert r.unknown_calls == []
    assert r(ANTARCTICA, "penguins") == -1.0
    assert r("nope", "x") == -1.0
    assert r.unknown_calls == [(ANTARCTICA, "penguins"), ("nope", "x")]


@pytest.mark.parametrize("kwargs, fragment", [
    ({"table": {}}, "table is empty"),
    ({"table": {("q", "y"): float("nan")}}, "reward for query 'q', response 'y' must be a "
                                             "finite number, got nan"),
    ({"table": {("q", "y"): 1.0}, "unknown": "ignore"}, "unknown must be one of error, "
                                                        "default, got 'ignore'"),
    ({"table": {"q": 1.0}}, "(query, response) string pairs"),
    ({"table": {("q", "y"): 1.0}, "default": float("inf")}, "default reward must be a finite"),
])
def test_scripted_reviewer_bad_input(kwargs, fragment):
    table = kwargs.pop("table")
    with pytest.raises(InvalidInput) as exc:
        ScriptedReviewer(table, **kwargs)
    assert fragment in str(exc.value)


# --- tables and bad input --------------------------------------------------------------------

@pytest.mark.parametrize("spec, fragment", [
    ({}, "the query table is empty"),
    ({"q": (1.0, {})}, "the response table of query 'q' is empty"),
    ({"q": (1.0, {"a": -0.1, "b": 1.1})}, "probability of response 'a' to query 'q' must be "
                                          "a finite number ≥ 0, got -0.1"),
    ({"q": (1.0, {"a": 0.5, "b": 0.4})}, "response probabilities p(y|x) for query 'q' sum to "
                                         "0.9, not 1 (tolerance 1e-09)"),
    ({"q": (0.5, {"a": 1.0}), "r": (0.6, {"a": 1.0})}, "query probabilities D(x) sum to 1.1"),
    ({"q": (1.0, {"a": float("nan"), "b": 1.0})}, "got nan"),
    ({"q": (1.0, {"a": 1.0 + 2e-9})}, "not 1"),
])
def test_bad_tables(spec, fragment):
    with pytest.raises(InvalidInput) as exc:
        ro.make_table(spec)
    assert fragment in str(exc.value)


def test_table_tolerance_accepts_roundoff():
    t = ro.make_table({"q": (1.0, {"a": 0.1, "b": 0.2, "c": 0.7 + 5e-10})})
    assert t.shape == (1, 3)


def test_nan_reward_is_one_clear_error():
    with pytest.raises(InvalidInput, match=r"reviewer returned nan for query 'is it a kids "
                                           r"book', response 'yes'; rewards must be finite"):
        ro.exact_expected_reward(T, lambda q, y: math.nan if y == "yes" else 0.0)
    bad = R.copy()
    bad[0, 1] = np.inf
    with pytest.raises(InvalidInput, match="response 'the Atlantic Ocean' is inf"):
        ro.empirical_expected_reward(ro.sample_rollout(T, 4, 2, 0), bad)


@pytest.mark.parametrize("n, k, fragment", [
    (4, 0, "K (responses per query) must be a positive integer, got 0"),
    (4, -2, "K (responses per query) must be a positive integer, got -2"),
    (0, 3, "N (queries per rollout) must be a positive integer, got 0"),
])
def test_bad_rollout_sizes(n, k, fragment):
    with pytest.raises(InvalidInput) as exc:
        ro.sample_rollout(T, n, k, 0)
    assert str(exc.value) == fragment


def test_bad_training_input():
    with pytest.raises(InvalidInput, match="updates must be a positive integer, got 0"):
        ro.train(T, R, updates=0, n_queries=4, k=2, lr=1.0)
    with pytest.raises(InvalidInput, match="learning rate lr must be a positive finite number"):
        ro.train(T, R, updates=1, n_queries=4, k=2, lr=float("nan"))
    with pytest.raises(InvalidInput, match="baseline 'loo' needs K ≥ 2"):
        ro.train(T, R, updates=1, n_queries=4, k=1, lr=1.0)
    with pytest.raises(InvalidInput, match="baseline must be one of none, loo, got 'mean'"):
        ro.train(T, R, updates=1, n_queries=4, k=2, lr=1.0, baseline="mean")


# --- exact values vs brute force -------------------------------------------------------------

def test_exact_expected_reward_vs_double_loop():
    assert ro.exact_expected_reward(T, REV) == pytest.approx(naive.expected_reward(T, REV),
                                                             abs=1e-15)
    for seed in range(3):
        pol = random_policy(seed)
        assert ro.exact_expected_reward(T, R, pol) == pytest.approx(
            naive.expected_reward(T, REV, pol), abs=1e-14)


def test_exact_expected_reward_of_the_note_table():
    # by hand: Σ_x D(x) Σ_y p r, each query's inner sum written out
    ocean = .55 * 1 + .25 * .1 + .1 * .05 + .05 * .05 + .05 * .02
    code = .4 * .6 + .3 * .8 + .2 * .9
    book = .4 * .3 + .3 * .3 + .2 * .8
    ant = .1 * 0 + .25 * .0021 + .15 * .09 + .2 * .02 + .2 * .09 + .1 * 1
    who = .4 * .2 + .4 * .1 + .2 * .6
    hand = .25 * ocean + .2 * code + .15 * book + .25 * ant + .15 * who
    assert ro.exact_expected_reward(T, REV) == pytest.approx(hand, abs=1e-15)


def test_pretrained_policy_is_the_table():
    pol = ro.TablePolicy.pretrained(T)
    np.testing.assert_allclose(pol.probs(), T.probs, atol=1e-15)
    assert ro.exact_kl(pol) == 0.0


def test_exact_kl_vs_double_loop():
    ref = ro.TablePolicy.pretrained(T)
    for seed in range(3):
        pol = random_policy(seed)
        assert ro.exact_kl(pol) == pytest.approx(naive.kl(T, pol, ref), abs=1e-13)


def test_exact_gradient_vs_finite_differences():
    pol = random_policy(5)

    def f(theta):
        return naive.expected_reward(T, REV, ro.TablePolicy(T, np.array(theta)))

    fd = np.array(naive.finite_difference_gradient(f, pol.theta.tolist(), T.mask.tolist()))
    np.testing.assert_allclose(ro.exact_gradient(pol, R), fd, atol=1e-8)


def test_exact_stderr_vs_law_of_total_variance():
    for n, k in ((1, 1), (6, 3), (100, 7)):
        assert ro.exact_stderr(T, R, n, k) == pytest.approx(
            math.sqrt(naive.estimator_variance(T, REV, n, k)), rel=1e-12)


def test_zero_probability_response_is_never_sampled():
    t = ro.make_table({"q": (1.0, {"a": 0.5, "never": 0.0, "b": 0.5})})
    pol = ro.TablePolicy.pretrained(t)
    roll = ro.sample_rollout(t, 200, 8, 3, pol)
    assert 1 not in roll.response_idx
    assert ro.exact_kl(pol) == 0.0
    assert np.all(ro.exact_gradient(pol, lambda q, y: float(y == "b"))[0, 1] == 0.0)


# --- sampling and the empirical estimator ----------------------------------------------------

def test_rollout_is_deterministic_for_a_seed():
    a, b, c = (ro.sample_rollout(T, 50, 4, s) for s in (7, 7, 8))
    assert np.array_equal(a.query_idx, b.query_idx)
    assert np.array_equal(a.response_idx, b.response_idx)
    assert not np.array_equal(a.response_idx, c.response_idx)
    t1 = ro.train(T, R, updates=3, n_queries=8, k=3, lr=5.0, rng=11)
    t2 = ro.train(T, R, updates=3, n_queries=8, k=3, lr=5.0, rng=11)
    assert np.array_equal(t1.policy.theta, t2.policy.theta)
    assert np.array_equal(t1.kl_k3, t2.kl_k3)


def test_sampling_frequencies_chi_square():
    """Joint frequencies of (x, y) match D(x) p(y|x): chi-square at a fixed seed, p > 0.001."""
    n, k = 20_000, 5
    roll = ro.sample_rollout(T, n, k, 2)
    counts = np.zeros(T.shape)
    np.add.at(counts, (np.repeat(roll.query_idx, k), roll.response_idx.ravel()), 1)
    expected = (T.query_probs[:, None] * T.probs * n * k)[T.mask]
    chi2 = float(((counts[T.mask] - expected) ** 2 / expected).sum())
    dof = int(T.mask.sum()) - 1
    # Wilson–Hilferty upper 0.001 point of chi-square(dof)
    z = 3.090232306167813
    crit = dof * (1 - 2 / (9 * dof) + z * math.sqrt(2 / (9 * dof))) ** 3
    assert chi2 < crit, (chi2, crit)


def test_empirical_estimate_and_stderr_definition():
    roll = ro.sample_rollout(T, 10, 4, 3)
    rewards = roll.rewards(REV)
    assert rewards.shape == (10, 4)
    est = ro.empirical_expected_reward(roll, REV)
    assert est.mean == pytest.approx(rewards.sum() / 40, abs=1e-15)
    assert est.stderr == pytest.approx(rewards.mean(axis=1).std(ddof=1) / math.sqrt(10))
    assert rewards[0, 0] == REV(*[(q, ys[0]) for q, ys in roll.texts()][0])


def test_interval_coverage_binomial():
    """400 rollouts of N=64 × K=4: the 95% interval covers the exact value in a fraction
    within 3 binomial standard errors of 0.95."""
    reps, n, k = 400, 64, 4
    exact = ro.exact_expected_reward(T, R)
    covered = 0
    gen = np.random.default_rng(2024)
    for _ in range(reps):
        e = ro.empirical_expected_reward(ro.sample_rollout(T, n, k, gen), R)
        covered += e.low <= exact <= e.high
    tol = 3 * math.sqrt(0.95 * 0.05 / reps)
    assert abs(covered / reps - 0.95) <= tol, covered / reps
    assert Z95 == pytest.approx(1.959964, abs=1e-6)


# --- policy gradient --------------------------------------------------------------------------

@pytest.mark.parametrize("baseline", ["none", "loo"])
def test_score_function_gradient_is_unbiased(baseline):
    """Monte-Carlo mean of ĝ over M rollouts vs the exact gradient: |mean − exact| ≤ 4·se per
    component (se = sample sd / √M); padding and p = 0 entries are exactly 0."""
    pol = random_policy(1, scale=0.7)
    exact = ro.exact_gradient(pol, R)
    m, n, k = 3000, 6, 3
    gen = np.random.default_rng(99)
    g = np.stack([ro.score_function_gradient(pol, ro.sample_rollout(T, n, k, gen, pol), R,
                                             baseline) for _ in range(m)])
    mean, se = g.mean(axis=0), g.std(axis=0, ddof=1) / math.sqrt(m)
    assert np.all(g[:, ~T.mask] == 0)
    live = T.mask
    assert np.all(se[live] > 0)
    z = np.abs(mean[live] - exact[live]) / se[live]
    assert z.max() <= 4, z.max()


def test_loo_baseline_reduces_variance():
    pol = ro.TablePolicy.pretrained(T)
    gen = np.random.default_rng(5)
    var = {}
    for b in ("none", "loo"):
        g = np.stack([ro.score_function_gradient(pol, ro.sample_rollout(T, 6, 4, gen), R, b)
                      for _ in range(1000)])
        var[b] = g.var(axis=0).sum()
    assert var["loo"] < var["none"]


def test_kl_estimates_are_unbiased():
    pol, ref = random_policy(4, scale=0.8), ro.TablePolicy.pretrained(T)
    exact = ro.exact_kl(pol, ref)
    gen = np.random.default_rng(8)
    est = np.array([ro.kl_estimates(pol, ro.sample_rollout(T, 8, 4, gen, pol), ref)
                    for _ in range(2000)])
    for j in range(2):
        se = est[:, j].std(ddof=1) / math.sqrt(len(est))
        assert abs(est[:, j].mean() - exact) <= 4 * se
    assert np.all(est[:, 1] >= 0)  # k3 is never negative


def test_updates_raise_reward_and_kl():
    tr = ro.train(T, R, updates=30, n_queries=16, k=4, lr=5.0, rng=0)
    assert tr.step.tolist() == list(range(31))
    assert tr.kl_exact[0] == 0.0 and tr.kl_k1[0] == 0.0
    assert tr.expected_reward_exact[-1] > tr.expected_reward_exact[0] + 0.2
    assert tr.kl_exact[-1] > 0.1
    best = float(T.query_probs @ np.where(T.mask, R, -np.inf).max(axis=1))
    assert tr.expected_reward_exact.max() <= best + 1e-12
    assert tr.reviewer_calls == 31 * 16 * 4
    np.testing.assert_allclose(tr.policy.probs().sum(axis=1), 1.0, atol=1e-12)
