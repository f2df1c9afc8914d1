"""The answer, right: step sizes per setting, the critical troop fit, compare on Dask."""

import csv
import json
import math

import numpy as np
import pytest
from conftest import assert_clean_error, run_cli

from monkeysim import theory
from monkeysim.experiments import compare, compare_answer, compare_report, frontier, tuning
from monkeysim.experiments.compare_config import make_config
from monkeysim.experiments.dask_backend import available as dask_available

# a small compare: the line prefix ladder only, hamming bananas (the step-size search, the
# frontier and the report all run; seconds)
SMALL = dict(lengths=(2, 3), weasel=False, monkeys=(1, 4, 16), frontier_length=3, seeds=2,
             budget=100_000, random_max_keystrokes=50_000_000, rewards=("exact", "hamming"),
             convergence_algos=("rloo",), tune_seeds=2, noise_samples=128,
             frontier_batches=(4,), lr_grid=(4.0, 16.0, 64.0, 256.0, 1024.0, 4096.0, 16384.0))


# --- the line search -------------------------------------------------------------------------

def _bowl(best_lr: float, noise=None):
    """A fake training run whose wall time is a bowl in log lr with its minimum at best_lr."""
    calls = []

    def run(lr, seed, budget):
        calls.append((lr, seed, budget))
        wall = 100 * (1 + (math.log2(lr) - math.log2(best_lr)) ** 2)
        if noise is not None:
            wall *= 1 + noise[seed]
        return (wall, False) if wall <= budget else (budget, True)

    return run, calls


@pytest.mark.parametrize("best", [1.0, 8.0, 64.0, 1024.0])
def test_line_search_finds_the_bowl_and_flags_edges(best):
    grid = [2.0**k for k in range(0, 11)]
    run, _ = _bowl(best)
    got = tuning.line_search(run, grid, seeds=3, budget=10**6)
    assert got.lr == best
    assert got.median == pytest.approx(100)
    assert got.edge == ("low" if best == grid[0] else "high" if best == grid[-1] else "")


def test_line_search_caps_budgets_after_a_best():
    run, calls = _bowl(64.0)
    tuning.line_search(run, [2.0**k for k in range(0, 15)], seeds=2, budget=10**6)
    assert [b for _, _, b in calls[:2]] == [10**6, 10**6]  # no best yet: the full budget
    # the start is lr 128, one octave from the best: median 200, so later caps are ≤ 4 × 200
    assert max(b for _, _, b in calls[2:]) <= tuning.CAP_FACTOR * 200


def test_line_search_all_censored_reports_budget():
    got = tuning.line_search(lambda lr, s, b: (b, True), [1.0, 2.0, 4.0], seeds=2, budget=500)
    assert got.median == 500 and all(t.censored for t in got.trials)


def test_tuning_seeds_disjoint_from_reported_seeds():
    from monkeysim.rng import derived_seed

    tune = {tuning.tuning_seed(0, j) for j in range(10)}
    reported = {derived_seed(0, i) for i in range(10_000)}
    assert not tune & reported


def test_chosen_step_size_does_not_depend_on_reported_seeds():
    """Phase 1 (tuning) sees neither the reported seeds nor how many there are."""
    a = make_config(None, SMALL)
    b = make_config(None, {**SMALL, "seeds": 7})
    cells_a, cells_b = compare.tuning_plan(a), compare.tuning_plan(b)
    assert [c.key for c in cells_a] == [c.key for c in cells_b]
    for i, (ca, cb) in enumerate(zip(cells_a, cells_b, strict=True)):
        if ca.key[0] == "tune" and ca.key[5] == 4:
            ra = compare.compute_cell(a, 0, None, i, ca)
            rb = compare.compute_cell(b, 0, None, i, cb)
            assert ra == rb
            assert ra["lr"] in SMALL["lr_grid"]


# --- the hyperbola and the rule ----------------------------------------------------------------

def test_hyperbola_recovers_known_parameters():
    b = np.array([16, 64, 256, 1024, 4096], dtype=float)
    s = 3.0 * (1 + 200 / b)
    fit = frontier.fit_hyperbola(b, s)
    assert fit.s_min == pytest.approx(3.0, rel=1e-6)
    assert fit.b_crit == pytest.approx(200, rel=1e-5)
    assert fit.e_min == pytest.approx(600, rel=1e-5)
    assert fit.rms_log_error < 1e-6
    # the defining relation (S/S_min − 1)(E/E_min − 1) = 1 at every point
    e = s * b
    assert np.allclose((s / fit.s_min - 1) * (e / fit.e_min - 1), 1, rtol=1e-5)


def test_hyperbola_floor_and_too_few_points():
    fit = frontier.fit_hyperbola([16, 64, 256, 1024], [112, 11, 3, 1])
    assert fit.s_min == pytest.approx(frontier.S_MIN_FLOOR)
    assert 64 < fit.b_crit < 4096
    with pytest.raises(ValueError):
        frontier.fit_hyperbola([16, 16], [3, 4])


def test_rule_step_size_recovers_eps_max():
    b = np.array([16, 64, 256, 1024.0])
    eps = 4000 / (1 + 700 / b)
    eps_max, rule = tuning.rule_step_size(b, eps, 700)
    assert eps_max == pytest.approx(4000)
    assert np.allclose(rule, eps)


# --- the compare run ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("frontier") / "local"
    return compare.run(make_config(None, SMALL), out, seed=3, quiet=True), out


def test_frontier_csv_and_critical_summary(small_run):
    run, out = small_run
    with open(out / "frontier.csv", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == frontier.COLUMNS
    for col in ("target", "reward", "regime", "monkeys", "batch", "lr", "seed", "steps",
                "wall_time_keystrokes", "total_work_keystrokes", "reviewer_calls",
                "censored"):
        assert col in rows[0]
    body = [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]
    assert {r["regime"] for r in body} >= {"independent", "troop", "troop_fixed"}
    assert {r["goal"] for r in body} == {"typed", "solved"}
    for r in body:
        assert float(r["lr"]) in SMALL["lr_grid"]
        assert int(r["total_work_keystrokes"]) == int(r["monkeys"]) * int(
            r["wall_time_keystrokes"])
    meta = json.loads((out / "frontier.json").read_text())
    assert meta["columns"] == frontier.COLUMNS
    summary = json.loads((out / "summary.json").read_text())
    crit = summary["critical"]
    assert crit and crit[0]["target"] == "line" and crit[0]["reward"] == "hamming"
    for key in ("s_min", "e_min", "b_crit", "b_simple_init", "fit_rms_log_error"):
        assert math.isfinite(crit[0][key])
    assert crit[0]["e_min"] == pytest.approx(crit[0]["s_min"] * crit[0]["b_crit"])
    tuned = summary["tuning"]
    assert all(t["edge"] in ("", "low", "high") for t in tuned)
    assert any("rule_lr" in t for t in tuned)
    for name in ("frontier.png", "b_simple.png", "monkey_counts.png"):
        assert (out / name).stat().st_size > 10_000


def test_every_setting_uses_its_tuned_step_size(small_run):
    run, _ = small_run
    lrs = compare.step_sizes(run.config, run.tuned)
    for r in run.rows:
        if r.method.startswith("learn_") and r.reward != "exact":
            regime = r.method[len("learn_"):]
            assert r.lr == lrs[(r.target, r.length, r.reward, regime, r.monkeys, 16)]
    for f in run.frontier:  # the smaller batches too
        if f.reward != "exact":
            assert f.lr == lrs[(f.target, f.length, f.reward, f.regime, f.monkeys, f.batch)]
    assert {f.batch for f in run.frontier if f.regime == "troop"} == {4, 16}
    # the fixed-step troop shares the smallest N's step size
    fixed = {r.lr for r in run.rows if r.method == "learn_troop_fixed"}
    assert fixed == {lrs[("line", 3, "hamming", "troop", 1, 16)]}


def test_answer_mentions_the_critical_troop(small_run):
    run, _ = small_run
    text = compare_answer.table(compare_report.summarize(run))
    assert "Critical troop" in text and "own step size" in text


@pytest.mark.skipif(not dask_available(), reason="needs the 'distributed' extra")
def test_dask_backend_same_bytes_and_resume_across_backends(small_run, tmp_path):
    from monkeysim.experiments.dask_backend import dask_backend

    _, local = small_run
    cfg = make_config(None, SMALL)
    backend = dask_backend(workers=2, threads=1)
    try:
        compare.run(cfg, tmp_path / "dask", seed=3, quiet=True, backend=backend.cells)
    finally:
        backend.close()
    for name in ("compare.csv", "frontier.csv", "convergence.csv"):
        assert (tmp_path / "dask" / name).read_bytes() == (local / name).read_bytes(), name

    # interrupted locally after a few cells, resumed on Dask: the same bytes
    class Stop(Exception):
        pass

    def stop_after(i):
        if i >= 3:
            raise Stop

    with pytest.raises(Stop):
        compare.run(cfg, tmp_path / "mixed", seed=3, quiet=True, after_cell=stop_after)
    backend = dask_backend(workers=2, threads=1)
    try:
        compare.run(cfg, tmp_path / "mixed", seed=3, quiet=True, resume=True,
                    backend=backend.cells)
    finally:
        backend.close()
    for name in ("compare.csv", "frontier.csv"):
        assert (tmp_path / "mixed" / name).read_bytes() == (local / name).read_bytes(), name


@pytest.mark.skipif(not dask_available(), reason="needs the 'distributed' extra")
def test_dask_worker_killed_mid_compare_changes_no_byte(small_run, tmp_path):
    """A worker killed (SIGKILL) while it holds compare cells: Dask recomputes its cells
    and every table is byte-identical to the local run."""
    import os
    import signal

    from distributed import Client, LocalCluster

    from monkeysim.experiments.dask_backend import dask_backend

    _, local = small_run
    cfg = make_config(None, SMALL)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        pids = client.run(os.getpid)
        backend = dask_backend(workers=None, scheduler=cluster.scheduler_address, threads=1)
        killed = []

        def kill_busiest_worker(i):
            if killed or i < 2:
                return
            load = {w: len(keys) for w, keys in client.processing().items()}
            for w, keys in client.has_what().items():
                load[w] = load.get(w, 0) + len(keys)
            victim = max(pids, key=lambda w: load.get(w, 0))
            killed.append((victim, load.get(victim, 0)))
            os.kill(pids[victim], signal.SIGKILL)

        try:
            compare.run(cfg, tmp_path / "killed", seed=3, quiet=True,
                        after_cell=kill_busiest_worker, backend=backend.cells)
        finally:
            backend.close()
        assert killed and killed[0][1] > 0, killed  # the kill lost cells that were redone
    for name in ("compare.csv", "frontier.csv", "convergence.csv", "tuning.csv"):
        assert (tmp_path / "killed" / name).read_bytes() == (local / name).read_bytes(), name


@pytest.mark.parametrize("argv,fragment", [
    (["--lr-grid", "4,2"], "lr_grid must be strictly increasing"),
    (["--lr-grid", "0,2"], "lr_grid values must be positive"),
    (["--lr-grid", "-1"], "lr_grid values must be positive"),
    (["--lr-grid", ","], "--lr-grid"),
    (["--regimes", "swarm"], "unknown regime 'swarm'"),
    (["--regimes", ","], "regimes is empty"),
    (["--tune-seeds", "0"], "tune_seeds"),
    (["--backend", "dask", "--scheduler", "tcp://127.0.0.1:1"], "cannot reach the Dask"),
    (["--workers", "2"], "--workers and --scheduler go with --backend dask"),
])
def test_bad_compare_input_clean_error(tmp_path, argv, fragment):
    if "dask" in argv and not dask_available():
        pytest.skip("needs the 'distributed' extra")
    out = tmp_path / "o"
    p = run_cli("compare", "--quick", "--out", out, *argv)
    assert_clean_error(p, fragment)
    assert not out.exists()


def test_bad_toml_ladder_and_grid(tmp_path):
    for text, fragment in (("monkeys = [4, 1]", "strictly increasing"),
                           ("lr_grid = []", "lr_grid is empty"),
                           ('regimes = ["troop", "troop"]', "regimes repeat"),
                           ("frontier_batches = [1]", "frontier_batches entries must lie"),
                           ("frontier_batches = [16]", "frontier_batches entries must lie"),
                           ("frontier_batches = [8, 4]", "strictly increasing")):
        cfg = tmp_path / "c.toml"
        cfg.write_text(text + "\n")
        out = tmp_path / "o"
        p = run_cli("compare", "--quick", "--config", cfg, "--out", out)
        assert_clean_error(p, fragment)
        assert not out.exists()


def test_tuning_csv_lists_every_step_size_tried(small_run):
    run, out = small_run
    with open(out / "tuning.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    settings = {tuple(r[c] for c in ("target", "length", "reward", "regime", "monkeys",
                                     "batch")) for r in rows}
    assert len(settings) == len(run.tuned)
    for key, t in run.tuned.items():
        mine = [r for r in rows if tuple(r[c] for c in ("target", "length", "reward", "regime",
                                                         "monkeys", "batch"))
                == tuple(str(x) for x in key)]
        chosen = [r for r in mine if r["chosen"] == "1"]
        assert len(chosen) == 1 and float(chosen[0]["lr"]) == t["lr"]
        # the last rung's seeds, or twice as many where a near tie was settled
        assert int(chosen[0]["seeds"]) in (SMALL["tune_seeds"], 2 * SMALL["tune_seeds"])
        assert sum(int(r["seeds"]) for r in mine) == len(t["trials"])
        for r in mine:
            assert float(r["q1_wall_time_keystrokes"]) <= float(
                r["median_wall_time_keystrokes"]) <= float(r["q3_wall_time_keystrokes"])
    assert (out / "tuning.png").stat().st_size > 10_000


def _ladder_points():
    """One monkey at k = 2, 4, 8, 16 and troops of 4, 16, 64 at k = 16 (compare's frontier)."""
    n = np.array([1, 1, 1, 1, 4, 16, 64], dtype=float)
    k = np.array([2, 4, 8, 16, 16, 16, 16], dtype=float)
    return n, k


@pytest.mark.parametrize("share", [0.0, 0.5, 1.0])
def test_frontier_fit_recovers_the_baseline_share(share):
    n, k = _ladder_points()
    s = 5.0 * (1 + 300 / theory.effective_batch(n, k, share, 16))
    fit = frontier.fit_frontier(n, k, s)
    assert fit.baseline_share == pytest.approx(share)
    assert fit.s_min == pytest.approx(5.0, rel=1e-5)
    assert fit.b_crit == pytest.approx(300, rel=1e-4)
    assert fit.reference_batch == 16
    assert fit.rms_log_error < 1e-5


def test_effective_batch_counts_leave_one_out():
    # c = 1: a group of k documents is worth k − 1 with an exact baseline, rescaled so that the
    # reference batch counts as itself
    assert theory.effective_batch(1, 2, 1.0, 16) == pytest.approx(16 / 15)
    assert theory.effective_batch(4, 16, 1.0, 16) == pytest.approx(64)
    assert theory.effective_batch(1, 8, 0.0, 16) == pytest.approx(8)


def test_frontier_fit_without_small_batches_is_the_plain_hyperbola():
    b = np.array([16, 64, 256, 1024.0])
    s = np.array([40.0, 11.0, 4.0, 2.5])
    fit = frontier.fit_frontier(b / 16, np.full(4, 16.0), s)
    plain = frontier.fit_hyperbola(b, s)
    assert fit.baseline_share == 0.0
    assert fit.s_min == pytest.approx(plain.s_min)
    assert fit.b_crit == pytest.approx(plain.b_crit)


def test_frontier_fit_matches_a_brute_force_least_squares():
    """The closed-form scan and golden section against a plain search over a fine grid of
    (c, log B_crit) with S_min from the mean residual (floored at one step)."""
    rng = np.random.default_rng(3)
    n, k = _ladder_points()
    for _ in range(5):
        s = 3.0 * (1 + 400 / theory.effective_batch(n, k, 0.7, 16)) * rng.lognormal(0, 0.2, 7)
        fit = frontier.fit_frontier(n, k, s)
        best = (np.inf, None)
        for c in frontier.BASELINE_SHARES:
            for lb in np.linspace(np.log(1e-2), np.log(1e6), 6001):
                h = np.log1p(np.exp(lb) / theory.effective_batch(n, k, c, 16))
                r = np.log(s) - h
                r = r - max(r.mean(), 0.0)
                best = min(best, (float((r**2).sum()), (c, lb)), key=lambda t: t[0])
        assert fit.rms_log_error == pytest.approx(np.sqrt(best[0] / 7), rel=1e-3, abs=1e-6)
        assert fit.baseline_share == pytest.approx(best[1][0])
