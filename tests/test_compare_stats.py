"""The answer's intervals: bootstrap coverage on data with a known truth, the frontier fit's
interval, claims only where the interval supports them, and the README's answer generated
from the committed summary."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from monkeysim import theory
from monkeysim.experiments import compare_answer, compare_stats
from monkeysim.experiments.frontier import FrontierRow
from monkeysim.stats import bootstrap_medians, bootstrap_rng

ROOT = Path(__file__).resolve().parents[1]


def _coverage(reps: int, make) -> float:
    hits = 0
    for rep in range(reps):
        truth, lo, hi = make(rep)
        hits += lo <= truth <= hi
    return hits / reps


def test_median_interval_covers_95_percent():
    """Ten seeds of a heavy-tailed (log-normal) time: the true median is 1."""
    def make(rep):
        x = np.random.default_rng([1, rep]).lognormal(0.0, 1.0, 10)
        lo, hi = compare_stats.median_ci(x, "coverage", rep)["ci"]
        return 1.0, lo, hi

    cov = _coverage(1000, make)
    # measured 0.95; 1000 repetitions: binomial sd 0.007, so ±0.03 is > 4 sd
    assert 0.92 <= cov <= 0.98, cov


def test_ratio_interval_covers_95_percent():
    """Two cells of ten seeds each, true ratio of medians 0.3; percentile intervals of a
    ratio of medians are slightly conservative (measured 0.97)."""
    def make(rep):
        g = np.random.default_rng([2, rep])
        a, b = g.lognormal(0.0, 1.0, 10), g.lognormal(math.log(0.3), 1.0, 10)
        r = compare_stats.ratio_ci(a, b, "coverage", rep)
        return 0.3, *r["ci"]

    cov = _coverage(1000, make)
    assert 0.92 <= cov <= 0.995, cov


def test_bootstrap_is_reproducible_and_keyed():
    x = np.arange(10.0)
    a = bootstrap_medians(x, bootstrap_rng("a", 1))
    assert np.array_equal(a, bootstrap_medians(x, bootstrap_rng("a", 1)))
    assert not np.array_equal(a, bootstrap_medians(x, bootstrap_rng("a", 2)))


def _rows(s_min, b_crit, seeds=12, spread=0.25, seed=0, share=0.0):
    """Frontier rows whose steps scatter log-normally around S_min (1 + B_crit/B), B the
    effective batch at baseline share ``share``."""
    g = np.random.default_rng(seed)
    rows = []
    for n, k in ((1, 2), (1, 4), (1, 8), (1, 16), (4, 16), (16, 16), (64, 16)):
        b = theory.effective_batch(n, k, share, 16)
        for s in range(seeds):
            steps = s_min * (1 + b_crit / b) * math.exp(spread * g.standard_normal())
            rows.append(FrontierRow("weasel", 28, "hamming", "troop", "typed", n, k, 64.0, s,
                                    steps, 0, 0, 0, 0))
    return rows


def test_frontier_fit_recovers_the_hyperbola_with_an_interval():
    fit = compare_stats.frontier_fit(_rows(20.0, 300.0), "test")
    assert fit["b_crit_ci"][0] <= 300 <= fit["b_crit_ci"][1]
    assert fit["s_min_ci"][0] <= 20 <= fit["s_min_ci"][1]
    assert fit["e_min_ci"][0] <= 6000 <= fit["e_min_ci"][1]
    assert fit["b_crit_ci"][0] < fit["b_crit"] < fit["b_crit_ci"][1]
    assert fit["fit_rms_log_error"] < 0.2
    assert all(p["fitted"] for p in fit["points"])


def test_frontier_fit_interval_covers_the_baseline_share():
    fit = compare_stats.frontier_fit(_rows(20.0, 300.0, spread=0.1, share=1.0), "share")
    assert fit["baseline_share_ci"][0] <= 1.0 <= fit["baseline_share_ci"][1]
    assert fit["baseline_share_ci"][0] > 0.3
    assert fit["b_crit_ci"][0] <= 300 <= fit["b_crit_ci"][1]
    assert fit["reference_batch"] == 16
    small = [p for p in fit["points"] if p["batch"] == 2]
    assert small[0]["effective_batch"] == pytest.approx(
        theory.effective_batch(1, 2, fit["baseline_share"], 16))


def test_frontier_fit_leaves_out_points_below_two_steps():
    fit = compare_stats.frontier_fit(_rows(1.0, 100.0, spread=0.05), "floor")
    low = [p for p in fit["points"] if p["median_steps"] < 2]
    assert low and not any(p["fitted"] for p in low)
    assert fit["fit_points"] == sum(p["fitted"] for p in fit["points"])


def _summary(total_ci, wall_ci):
    ratio = {"from": 1, "to": 64, "wall": {"ratio": 0.1, "ci": wall_ci},
             "total": {"ratio": 0.9, "ci": total_ci}}
    return {"lengths": [], "ladder": [{"target": "weasel", "length": 28, "methods": {},
                                       "ratios": {"troop_hamming": ratio}}],
            "monkeys": [1, 64], "rewards": ["hamming"], "critical": [], "tuning": [],
            "seeds": 10, "tune_seeds": 16, "batch": 16, "budget": 10**6,
            "length_sweep_monkeys": 1}


@pytest.mark.parametrize("total_ci,words", [
    ([0.5, 0.95], "less total work"),
    ([1.1, 2.0], "more total work"),
    ([0.6, 1.4], "indistinguishable total work"),
])
def test_claims_follow_their_intervals(total_ci, words):
    text = " ".join(compare_answer.lines(_summary(total_ci, [0.05, 0.2])))
    assert f"against N=1: less wall time, {words}" in text
    if words.startswith("indistinguishable"):
        assert "less total work" not in text and "more total work" not in text


@pytest.mark.parametrize("source", ["results/summary.json", compare_answer.FULL_SUMMARY])
def test_readme_answer_is_generated_from_the_committed_summary(source):
    summary = json.loads((ROOT / source).read_text())
    readme = (ROOT / "README.md").read_text()
    assert compare_answer.readme_begin(source) in readme, f"README lacks the block of {source}"
    assert compare_answer.readme_replace(readme, summary, source) == readme, (
        f"README's answer differs from {source}: run experiments/make_readme_answer.py")
