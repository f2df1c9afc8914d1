"""The step-size tuner: successive halving on synthetic heavy-tailed objectives with a known
optimum, censoring and budget caps."""

from __future__ import annotations

import math

import numpy as np
import pytest

from monkeysim.experiments import tuning

GRID = [2.0**k for k in range(17)]


def bowl(best: int, rep: int, slow_low: float = 1.5, slow_high: float = 2.5,
         sigma: float = 0.7, diverge: int = 3):
    """A heavy-tailed objective like the weasel's: median wall time 20,000 keystrokes at grid
    index ``best``, ×``slow_low`` per grid step below and ×``slow_high`` per step above;
    log-normal spread ``sigma`` (a monkey's runs spread 10×) plus a 10 % chance of a 5×
    slower run; grid values ``diverge`` or more steps above the best never finish (censored
    at whatever budget they get). Seeds are shared across step sizes in part (common random
    numbers, as tuning seeds are)."""
    calls = []

    def run(lr: float, seed: int, budget: int) -> tuple[float, bool]:
        k = int(round(math.log2(lr)))
        calls.append((k, seed, budget))
        if k - best >= diverge:
            return float(budget), True
        r_seed = np.random.default_rng([rep, seed])
        r_run = np.random.default_rng([rep, seed, k])
        z = 0.6 * r_seed.standard_normal() + 0.8 * r_run.standard_normal()
        med = 20_000 * (slow_low ** (best - k) if k < best else slow_high ** (k - best))
        wall = med * math.exp(sigma * z) * (5.0 if r_run.random() < 0.1 else 1.0)
        return (float(budget), True) if wall >= budget else (wall, False)

    return run, calls


def test_finds_known_optimum_in_nine_of_ten_repetitions():
    reps = 200
    hits = 0
    for rep in range(reps):
        best = 3 + rep % 11
        run, _ = bowl(best, rep)
        got = tuning.successive_halving(run, GRID, budget=10**7)
        hits += got.lr == GRID[best]
    # measured 0.925 (the 3-seed line search: 0.59; one seed on the first rung: 0.86)
    assert hits / reps >= 0.90, hits


def test_three_seeds_do_not_suffice():
    """The old 3-seed line search misses the same optimum far more often: the test above is
    not trivially passed by any tuner."""
    reps = 200
    hits = 0
    for rep in range(reps):
        best = 3 + rep % 11
        run, _ = bowl(best, rep)
        hits += tuning.line_search(run, GRID, seeds=3, budget=10**7).lr == GRID[best]
    assert hits / reps < 0.85, hits


def test_rungs_double_seeds_and_last_rung_has_sixteen():
    run, calls = bowl(8, 0)
    got = tuning.successive_halving(run, GRID, budget=10**7, first_seeds=1, final_seeds=16)
    per_lr: dict[int, set] = {}
    for k, s, _ in calls:
        per_lr.setdefault(k, set()).add(s)
    counts = sorted((len(v) for v in per_lr.values()), reverse=True)
    assert counts[:3] == [16, 16, 16]  # the last rung keeps three values on 16 seeds
    assert len(per_lr) == len(GRID)  # every value tried on the first rung
    assert per_lr[int(math.log2(got.lr))] == set(range(16))
    # earlier rungs' seeds are reused: a run is repeated only when it was censored at a
    # smaller budget than a later rung gives
    seen: dict[tuple, int] = {}
    for k, s, b in calls:
        if (k, s) in seen:
            assert b > seen[(k, s)]
        seen[(k, s)] = b
    assert len(got.trials) == len(seen)


def test_budget_caps_after_a_best_and_ranking_unchanged():
    run, calls = bowl(6, 1)
    tuning.successive_halving(run, GRID, budget=10**7)
    # before a best is known, runs get the probe budget (budget / 256), never the whole
    assert calls[0][2] == calls[1][2] == math.ceil(10**7 / 256)
    # once a value has its median, every budget is capped at 8 × the best median
    assert max(b for _, _, b in calls) < 10**7
    for rep in range(20):  # neither the probe nor the caps change the choice
        run2, _ = bowl(6, rep)
        run3, _ = bowl(6, rep)
        assert (tuning.successive_halving(run2, GRID, budget=10**7).lr
                == tuning.successive_halving(run3, GRID, budget=10**7, cap_factor=1e9,
                                             probe=1).lr)


def test_probe_budget_grows_while_every_value_is_censored():
    """A slow objective (median 10^6, more than budget / 256): the probe budget grows 4× per
    round until a median is uncensored, and the optimum is still found; the hopeless values
    never run at the whole budget."""
    def slow(best: int, rep: int):
        fast, calls = bowl(best, rep)

        def run(lr: float, seed: int, budget: int) -> tuple[float, bool]:
            wall, censored = fast(lr, seed, budget // 50 or 1)
            return (float(budget), True) if censored else (wall * 50, False)
        return run, calls

    run, calls = slow(8, 2)
    got = tuning.successive_halving(run, GRID, budget=10**8)
    budgets = sorted({b * 50 for _, _, b in calls})
    assert budgets[:3] == [math.ceil(10**8 / 256) // 50 * 50, math.ceil(10**8 / 64) // 50 * 50,
                           math.ceil(10**8 / 16) // 50 * 50]
    assert got.lr == GRID[8]
    assert max(b for _, _, b in calls) < 10**8 // 50


def test_all_censored_reports_budget_and_edge():
    got = tuning.successive_halving(lambda lr, s, b: (float(b), True), [1.0, 2.0, 4.0],
                                    budget=500, final_seeds=4)
    assert got.median == 500 and got.lr == 1.0 and got.edge == "low"


@pytest.mark.parametrize("best,edge", [(0, "low"), (16, "high"), (8, "")])
def test_edges_flagged(best, edge):
    run, _ = bowl(best, 3, diverge=99)
    got = tuning.successive_halving(run, GRID, budget=10**9)
    assert got.lr == GRID[best] and got.edge == edge


def test_bad_seed_counts_refused():
    with pytest.raises(ValueError):
        tuning.successive_halving(lambda lr, s, b: (1.0, False), GRID, 10, first_seeds=4,
                                  final_seeds=2)


def test_near_tie_goes_to_the_step_size_without_a_cliff():
    """Two step sizes with almost the same median, one of them on a cliff (a quarter of its
    runs stall at 5×): the one without the cliff is chosen."""
    def run(lr: float, seed: int, budget: int) -> tuple[float, bool]:
        k = int(round(math.log2(lr)))
        g = np.random.default_rng([seed, k])
        base = {6: 1000.0, 7: 980.0}.get(k, 10_000.0 * abs(k - 6.5))
        wall = base * math.exp(0.2 * g.standard_normal())
        if k == 7 and seed % 4 == 3:
            wall *= 5
        return (float(budget), True) if wall >= budget else (wall, False)

    got = tuning.successive_halving(run, GRID, budget=10**6)
    assert got.lr == 64.0


def _pair(rep: int, gap: float = 1.3):
    """Two neighbouring step sizes 64 and 128 whose medians differ by ``gap`` (64 better),
    heavy-tailed as :func:`bowl`; the rest of the grid ×2 slower per step."""
    def run(lr: float, seed: int, budget: int) -> tuple[float, bool]:
        k = int(round(math.log2(lr)))
        r_seed = np.random.default_rng([rep, seed])
        r_run = np.random.default_rng([rep, seed, k])
        z = 0.6 * r_seed.standard_normal() + 0.8 * r_run.standard_normal()
        med = {6: 1000.0, 7: 1000.0 * gap}.get(k, 1000.0 * 2.0 ** abs(k - 6.5))
        wall = med * math.exp(0.5 * z) * (5.0 if r_run.random() < 0.1 else 1.0)
        return (float(budget), True) if wall >= budget else (wall, False)

    return run


def test_settling_near_ties_finds_the_better_neighbour_more_often():
    """Neighbours 1.3× apart: the last rung's near ties run on 16 more seeds before the choice
    (as compare tunes) find the better one more often than 16 seeds alone (measured 0.89 against
    0.84 over 200 repetitions), and the heavy-tailed bowl's optimum in 0.96 of them."""
    reps = 200
    plain = sum(tuning.successive_halving(_pair(r), GRID, 10**7).lr == 64.0 for r in range(reps))
    settled = sum(tuning.successive_halving(_pair(r), GRID, 10**7, settle_seeds=16).lr == 64.0
                  for r in range(reps))
    assert settled > plain and settled / reps >= 0.87, (plain, settled)
    hits = 0
    for rep in range(reps):
        best = 3 + rep % 11
        run, _ = bowl(best, rep)
        hits += tuning.successive_halving(run, GRID, 10**7, settle_seeds=16).lr == GRID[best]
    assert hits / reps >= 0.95, hits


def test_settling_runs_only_the_near_ties_on_more_seeds():
    """Equal neighbours (gap 1): where the last rung ends in a near tie, exactly the tied
    values run on 32 seeds, the others stay at 16; without settling nobody passes 16."""
    settled = 0
    for rep in range(5):
        seeds: dict[float, int] = {}
        for t in tuning.successive_halving(_pair(rep, 1.0), GRID, 10**7,
                                           settle_seeds=16).trials:
            seeds[t.lr] = seeds.get(t.lr, 0) + 1
        more = {lr for lr, n in seeds.items() if n > 16}
        assert all(n in (16, 32) for lr, n in seeds.items() if n > 8)
        assert more in (set(), {64.0, 128.0})
        settled += bool(more)
        plain = tuning.successive_halving(_pair(rep, 1.0), GRID, 10**7).trials
        assert max(sum(t.lr == lr for t in plain) for lr in GRID) == 16
    assert settled >= 1
