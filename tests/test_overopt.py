"""`monkeysim overopt`: best-of-n KL, Gao fits, the RLHF loop, outputs, CLI and errors."""

import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import assert_clean_error, run_cli

from monkeysim.alphabet import named
from monkeysim.errors import InvalidInput
from monkeysim.experiments import overopt as oo
from monkeysim.learn import rlhf
from monkeysim.learn.rlhf import RLHFConfig, rloo_against
from monkeysim.learn.train import TrainConfig, train
from monkeysim.policy import CharPolicy
from monkeysim.reward_model import gao_curve
from monkeysim.rng import derived_seed


@pytest.mark.parametrize("n", [1, 2, 8, 32])
def test_best_of_n_kl_matches_formula(n):
    """Best-of-n from a uniform pool of M documents with distinct scores: the exact KL of the
    discrete pick is within 1e-3 of log n − (n−1)/n (the continuous formula), and the Monte
    Carlo estimate E_bon[log π_bon/π] of the sampled picks agrees with it (z-test, 4 sd)."""
    m, picks = 20_000, 20_000
    rng = np.random.default_rng(7)
    scores = rng.permutation(m).astype(float)  # distinct; rank = score
    rank = np.arange(1, m + 1)
    p_bon = (rank / m) ** n - ((rank - 1) / m) ** n
    log_ratio = np.log(np.where(p_bon > 0, p_bon * m, 1.0))
    exact = float(np.sum(p_bon * log_ratio))
    formula = float(oo.bon_kl(n))
    assert abs(exact - formula) < 1e-3
    chosen, _ = oo.best_of_n(scores, scores, n, picks, rng)
    lr = log_ratio[chosen.astype(int)]  # score = rank − 1
    se = lr.std(ddof=1) / math.sqrt(picks) if n > 1 else 0.0
    assert abs(lr.mean() - formula) <= 4 * se + 1e-3, (lr.mean(), formula, se)


def test_fit_gao_recovers_coefficients():
    d = np.linspace(0, 4, 30)
    a, b = oo.fit_gao(d, gao_curve(d, 0.3, 0.05, "bon"), "bon")
    assert (a, b) == pytest.approx((0.3, 0.05))
    a, b = oo.fit_gao(d, gao_curve(d, 0.2, 0.1, "rl"), "rl")
    assert (a, b) == pytest.approx((0.2, 0.1))
    assert oo.gao_peak_kl(0.3, 0.05, "bon") == pytest.approx(3.0 ** 2)
    assert oo.gao_peak_kl(0.2, 0.1, "rl") == pytest.approx(math.exp(1.0) ** 2)
    assert oo.gao_peak_kl(0.2, -0.1, "rl") == math.inf


def test_rlhf_raises_proxy_and_kl():
    alpha = named("lower27")
    ref = CharPolicy.pretrained("to be or not to be", alpha, 2, 8, smoothing=0.5)
    target = alpha.encode("to be or")

    def proxy(docs):
        return (docs == target).mean(axis=1)

    tr = rloo_against(ref, proxy, proxy, RLHFConfig(steps=60, batch=16, lr=2.0, eval_every=20,
                                                    eval_docs=64), "to be or", alpha, seed=1)
    assert tr.kl[0] == pytest.approx(0.0, abs=1e-12)
    assert tr.kl[-1] > 0.1
    assert tr.proxy[-1] > tr.proxy[0] + 4 * math.hypot(tr.proxy_se[0], tr.proxy_se[-1])
    np.testing.assert_allclose(tr.kl[-1], tr.policy.kl(ref)[0])
    with pytest.raises(InvalidInput, match="at least 2"):
        RLHFConfig(batch=1)


def test_evaluation_steps_with_and_without_early_evals():
    assert rlhf.evaluation_steps(RLHFConfig(steps=60, eval_every=25)) == [25, 50, 60]
    assert rlhf.evaluation_steps(RLHFConfig(steps=60, eval_every=25, early_evals=True)) == [
        1, 2, 4, 8, 16, 25, 50, 60]
    assert rlhf.evaluation_steps(RLHFConfig(steps=3, eval_every=25, early_evals=True)) == [
        1, 2, 3]
    alpha = named("lower27")
    ref = CharPolicy.pretrained("to be or not to be", alpha, 2, 8, smoothing=0.5)

    def proxy(docs):
        return (docs == alpha.encode("to be or")).mean(axis=1)

    tr = rloo_against(ref, proxy, proxy, RLHFConfig(steps=10, batch=4, eval_every=5,
                                                    eval_docs=8, early_evals=True),
                      "to be or", alpha, seed=2)
    assert tr.step.tolist() == [0, 1, 2, 4, 5, 10]


def test_rlhf_is_the_learner_core():
    """A segment of rloo_against is train() with the reward model as reviewer: same policy."""
    alpha = named("lower27")
    ref = CharPolicy.pretrained("to be or not to be", alpha, 2, 8, smoothing=0.5)
    target = alpha.encode("to be or")

    def proxy(docs):
        return (docs == target).mean(axis=1)

    cfg = RLHFConfig(kl_coef=0.1, steps=15, batch=8, lr=1.0, eval_every=15, eval_docs=16)
    tr = rloo_against(ref, proxy, proxy, cfg, "to be or", alpha, seed=3)
    direct = train(TrainConfig(algo="rloo", policy="context", order=2, batch=8, lr=1.0,
                               kl_coef=0.1, kl_estimator="k1", max_reviewer_calls=120,
                               stop="budget", seed=derived_seed(3, rlhf.RLHF_STREAM, 0)),
                   "to be or", alpha, init=ref, reference=ref, reviewer=proxy)
    np.testing.assert_array_equal(tr.policy.theta, direct.policy.theta)


def test_quick_run_outputs(tmp_path):
    res = oo.run(oo.OveroptConfig.quick(), seed=0)
    j = res.as_json()
    assert 0.5 < j["rm_heldout_accuracy"] <= 1.0
    assert [r["run"] for r in j["runs"]] == ["bon", "rl-beta=0", "rl-beta=0.2"]
    for r in j["runs"]:
        assert r["peak_gold_kl"] >= 0 and 0 <= r["peak_gold_reward"] <= 1
    np.testing.assert_allclose(res.bon_kl, np.log(res.bon_n) - (res.bon_n - 1) / res.bon_n)
    oo.write_outputs(res, tmp_path)
    assert {p.name for p in tmp_path.iterdir()} == set(oo.FILES)
    side = json.loads((tmp_path / "overopt.json").read_text())
    assert side["seed"] == 0 and side["config"]["noise"] == 0.2
    header = (tmp_path / "overopt.csv").read_text().splitlines()[0]
    assert header == ",".join(oo.COLUMNS)
    with pytest.raises(InvalidInput, match="--overwrite"):
        oo.write_outputs(res, tmp_path)


def test_config_errors():
    with pytest.raises(InvalidInput, match="outside \\[0, 1\\]"):
        oo.OveroptConfig(noise=1.2)
    with pytest.raises(InvalidInput, match="n ≥ 1"):
        oo.OveroptConfig(bon_ns=(0, 2))
    with pytest.raises(InvalidInput, match="n ≥ 1"):
        oo.bon_kl(0)
    with pytest.raises(InvalidInput, match="positive integer"):
        oo.best_of_n(np.zeros(3), np.zeros(3), 0, 5, np.random.default_rng(0))


def _quick_json(threads: int, out) -> dict:
    env = {**os.environ, "NUMBA_NUM_THREADS": str(threads)}
    proc = subprocess.run([sys.executable, "-m", "monkeysim", "overopt", "--quick", "--json",
                           "--seed", "3", "--out", str(out)], capture_output=True, text=True,
                          env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    d = json.loads(proc.stdout)
    d.pop("seconds")
    d.pop("out")
    return d


def test_cli_json_same_on_1_and_2_threads(tmp_path):
    one = _quick_json(1, tmp_path / "a")
    two = _quick_json(2, tmp_path / "b")
    assert one == two
    assert "rm_heldout_accuracy" in one
    assert all({"peak_gold_kl", "peak_gold_reward"} <= set(r) for r in one["runs"])
    assert (tmp_path / "a" / "overopt.png").stat().st_size > 0
    assert (tmp_path / "a" / "overopt.csv").read_bytes() != b""


@pytest.mark.parametrize("args, fragment", [
    (["--noise", "1.5"], "label noise rate 1.5 is outside [0, 1]"),
    (["--noise", "-0.1"], "outside [0, 1]"),
    (["--n-max", "0"], "best-of-n needs n ≥ 1"),
    (["--seed", "-1"], "seed must be a non-negative integer"),
])
def test_cli_bad_inputs(tmp_path, args, fragment):
    proc = run_cli("overopt", "--quick", "--out", tmp_path / "o", *args)
    assert_clean_error(proc, fragment)
    assert not (tmp_path / "o" / "overopt.csv").exists()


def test_cli_refuses_to_overwrite(tmp_path):
    (tmp_path / "overopt.csv").write_text("keep me\n")
    proc = run_cli("overopt", "--quick", "--out", tmp_path)
    assert_clean_error(proc, "--overwrite")
    assert (tmp_path / "overopt.csv").read_text() == "keep me\n"


def test_pretraining_on_the_plays_or_a_clear_error():
    from monkeysim import corpus
    from monkeysim.errors import InvalidInput
    from monkeysim.experiments.overopt import OveroptConfig, shakespeare_corpus

    if corpus.available():
        text = shakespeare_corpus(source="plays")
        assert len(text) > 3_000_000 and set(text) <= set("abcdefghijklmnopqrstuvwxyz ")
    else:
        with pytest.raises(InvalidInput, match="corpus"):
            shakespeare_corpus(source="plays")
    with pytest.raises(InvalidInput, match="pretraining source 'novels'"):
        OveroptConfig(pretrain="novels")


def test_each_beta_gets_its_own_tuned_step_size():
    """Every β's step size comes from successive halving on the KL-regularised proxy reward
    J = proxy − β KL of tuning runs (never the gold reviewer): the reported lr is the grid
    value the tuner chose, with the median J of its tuning runs."""
    cfg = oo.OveroptConfig.quick()
    res = oo.run(cfg, seed=0)
    for tuned in res.tuned.values():
        assert tuned["lr"] in cfg.lr_grid
        chosen = [t["wall"] for t in tuned["trials"] if t["lr"] == tuned["lr"]]
        assert len(chosen) == cfg.tune_seeds
        assert tuned["median_objective"] == pytest.approx(-math.log(np.median(chosen)))
    runs = {r["run"]: r for r in res.peaks()}
    assert runs["rl-beta=0.2"]["lr"] == res.tuned[0.2]["lr"]
    assert "lr" in oo.report(res).splitlines()[3]


def test_lr_grid_refused_when_not_increasing():
    with pytest.raises(InvalidInput, match="lr_grid"):
        oo.OveroptConfig(lr_grid=(0.2, 0.1))
