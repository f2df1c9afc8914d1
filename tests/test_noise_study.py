"""Reviewers who err: the noise models' statistics, the de-biased preference advantage, the
effective-β claim, thread invariance with noise, the capacity bounds and the fixed point of
`monkeysim noise`, the command end to end, and bad input.

Statistical tests run at fixed seeds with tolerances from the sample size: a z-test (|z| <
Z, two-sided p ≈ 6·10⁻⁵ at Z = 4), a chi-square variance test (Wilson–Hilferty normal
approximation of χ²), a binomial test (normal approximation, n·ε·(1 − ε) ≥ 1000).
"""

from __future__ import annotations

import csv
import itertools
import json
import math
import os
import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest
from conftest import assert_clean_error, run_cli

from monkeysim import baselines as B
from monkeysim._kernels import policy as KP
from monkeysim.alphabet import Alphabet
from monkeysim.errors import InvalidInput
from monkeysim.experiments import noise as N
from monkeysim.experiments import noise_theory as NT
from monkeysim.learn import noise_scale as NS
from monkeysim.learn import train as T
from monkeysim.policy import CharPolicy, PolicySpec
from monkeysim.rng import chunk_state

Z = 4.0
WEASEL = "METHINKS IT IS LIKE A WEASEL"


def _variance_z(sample_var: float, true_var: float, n: int) -> float:
    """z of the chi-square variance test: X = (n − 1) s²/σ² ~ χ²(k = n − 1), and
    (X/k)^(1/3) ≈ Normal(1 − 2/(9k), 2/(9k)) (Wilson–Hilferty)."""
    k = n - 1
    x = k * sample_var / true_var
    return ((x / k) ** (1 / 3) - (1 - 2 / (9 * k))) / math.sqrt(2 / (9 * k))


def _binomial_z(hits: int, n: int, p: float) -> float:
    return (hits - n * p) / math.sqrt(n * p * (1 - p))


# --- the noise models, kernel by kernel ----------------------------------------------------

@pytest.mark.parametrize("r, sd", [(0.25, 0.1), (0.0, 1.5), (1.0, 4.0 / 28)])
def test_gaussian_score_noise_mean_and_variance(r, sd):
    """noisy_score adds Normal(0, sd²): z-test of the mean, chi-square test of the variance."""
    n = 40_000
    state = chunk_state(101, 0, 3)
    x = np.array([KP.noisy_score(state, r, False, 0.0, sd) for _ in range(n)])
    z_mean = (x.mean() - r) / (sd / math.sqrt(n))
    assert abs(z_mean) < Z, z_mean
    assert abs(_variance_z(x.var(ddof=1), sd * sd, n)) < Z
    # standardised fourth moment of a normal is 3 (sd of the estimate ≈ √(96/n))
    k4 = np.mean(((x - r) / sd) ** 4)
    assert abs(k4 - 3.0) < Z * math.sqrt(96 / n)


@pytest.mark.parametrize("truth, flip", [(1.0, 0.1), (0.0, 0.3), (1.0, 0.45)])
def test_wrong_exact_verdicts_flip_at_their_rate(truth, flip):
    """An exact-bananas verdict is reported as 1 − r with probability ε (binomial test)."""
    n = 40_000
    state = chunk_state(102, 0, 3)
    x = np.array([KP.noisy_score(state, truth, True, flip, 0.0) for _ in range(n)])
    assert set(np.unique(x)) <= {0.0, 1.0}
    wrong = int((x != truth).sum())
    assert abs(_binomial_z(wrong, n, flip)) < Z


def test_verdict_flip_then_gaussian_noise():
    """Both together: a flipped verdict plus noise; the mean is (1 − ε)·r + ε·(1 − r)."""
    n = 40_000
    flip, sd = 0.2, 0.3
    state = chunk_state(103, 0, 3)
    x = np.array([KP.noisy_score(state, 1.0, True, flip, sd) for _ in range(n)])
    mean = 1.0 - flip
    var = flip * (1 - flip) + sd * sd
    assert abs((x.mean() - mean) / math.sqrt(var / n)) < Z


def test_noiseless_reviewer_draws_nothing():
    state = chunk_state(104, 0, 3)
    before = state.copy()
    assert KP.noisy_score(state, 0.5, False, 0.0, 0.0) == 0.5
    assert KP.noisy_score(state, 1.0, True, 0.0, 0.0) == 1.0
    assert KP.preference_verdict(state, 0.3, 0.3, 0.2) == 0.0  # a tie: no draw, no flip
    np.testing.assert_array_equal(state, before)


@pytest.mark.parametrize("flip", [0.0, 0.2, 0.4])
def test_preference_verdicts_flip_at_their_rate(flip):
    """The preference reviewer names the worse document with probability ε (binomial test);
    ties are reported as ties."""
    n = 40_000
    state = chunk_state(105, 0, 3)
    v = np.array([KP.preference_verdict(state, 0.7, 0.2, flip) for _ in range(n)])
    assert set(np.unique(v)) <= {-1.0, 1.0}
    wrong = int((v == -1.0).sum())
    if flip == 0.0:
        assert wrong == 0
    else:
        assert abs(_binomial_z(wrong, n, flip)) < Z
    assert {KP.preference_verdict(state, 0.5, 0.5, flip) for _ in range(100)} == {0.0}


# --- the de-biased preference advantage is unbiased -----------------------------------------

# a tiny non-uniform positional policy: L = 2, A = 3, rows of rational probabilities
PROBS = [[Fraction(1, 2), Fraction(1, 3), Fraction(1, 6)],
         [Fraction(1, 5), Fraction(3, 10), Fraction(1, 2)]]
TARGET = (0, 2)
CHARS = "ABC"
TEXT = "AC"


def _hamming(doc) -> int:
    return sum(int(a == t) for a, t in zip(doc, TARGET, strict=True))


def _sign(x) -> int:
    return (x > 0) - (x < 0)


def _grad_log_pi(doc) -> list[list[Fraction]]:
    """∇_θ log π(doc) of a positional softmax policy: e_{a_l} − p_l per row."""
    return [[Fraction(int(a == k)) - PROBS[row][k] for k in range(3)]
            for row, a in enumerate(doc)]


def _expected_direction(flip: Fraction, scale: Fraction) -> list[list[Fraction]]:
    """E over pairs (a, b) of the reported verdict × scale × ∇ log π(a), exactly: every pair
    of documents, the verdict right with probability 1 − ε and flipped with ε (ties 0)."""
    docs = list(itertools.product(range(3), repeat=2))
    out = [[Fraction(0)] * 3 for _ in range(2)]
    for a in docs:
        pa = PROBS[0][a[0]] * PROBS[1][a[1]]
        g = _grad_log_pi(a)
        for b in docs:
            pb = PROBS[0][b[0]] * PROBS[1][b[1]]
            s = _sign(_hamming(a) - _hamming(b))
            reported = (1 - flip) * s + flip * (-s)  # E[s̃ | a, b]
            for r in range(2):
                for k in range(3):
                    out[r][k] += pa * pb * reported * scale * g[r][k]
    return out


@pytest.mark.parametrize("flip", [Fraction(1, 10), Fraction(1, 5), Fraction(2, 5)])
def test_debiased_preference_advantage_is_exactly_unbiased(flip):
    """E[s̃/(1 − 2ε) · ∇log π(a)] = E[s · ∇log π(a)] by enumeration of all pairs, in exact
    rational arithmetic; the naive one is (1 − 2ε) times it."""
    truth = _expected_direction(Fraction(0), Fraction(1))
    assert any(v != 0 for row in truth for v in row)
    assert _expected_direction(flip, 1 / (1 - 2 * flip)) == truth
    naive = _expected_direction(flip, Fraction(1))
    assert naive == [[(1 - 2 * flip) * v for v in row] for row in truth]


def _tiny_policy() -> CharPolicy:
    theta = np.log(np.array([[float(p) for p in row] for row in PROBS]))
    return CharPolicy(PolicySpec("positional", 2, 3), theta)


def _kernel_directions(samples: int, seed: int, **kw) -> np.ndarray:
    cfg = T.TrainConfig(algo="rloo", batch=2, seed=seed, **kw)
    return NS.policy_gradient_samples(cfg, TEXT, _tiny_policy(), samples,
                                     Alphabet(CHARS, "custom"))


@pytest.mark.parametrize("prefs, flip, factor", [("naive", 0.0, 1.0), ("debiased", 0.2, 1.0),
                                                 ("debiased", 0.4, 1.0), ("naive", 0.2, 0.6)])
def test_kernel_preference_direction_matches_the_exact_expectation(prefs, flip, factor):
    """The kernel's mean first-epoch direction (one pair per sample) against the exact
    E[s·∇log π(a)] (× (1 − 2ε) for the naive learner): a z-test per logit with the sample
    standard error (|z| < Z for all 6, Bonferroni: family p ≈ 4·10⁻⁴)."""
    n = 60_000
    g = _kernel_directions(n, 17, preferences=prefs, flip_rate=flip)[:, :, :]
    exact = factor * np.array([[float(v) for v in row]
                               for row in _expected_direction(Fraction(0), Fraction(1))])
    mean = g.mean(axis=0)
    se = g.std(axis=0, ddof=1) / math.sqrt(n)
    z = (mean - exact) / se
    assert np.all(np.abs(z) < Z), z


def test_naive_learner_follows_the_noiseless_flow_at_the_effective_beta():
    """With a KL leash: E[naive step at (β, ε)] = (1 − 2ε)·E[noiseless step at β/(1 − 2ε)]
    (z-test per logit), the effective-β claim at the level of the expected update."""
    n, beta, flip = 60_000, 0.3, 0.2
    naive = _kernel_directions(n, 18, preferences="naive", flip_rate=flip, kl_coef=beta)
    clean = _kernel_directions(n, 19, preferences="naive", kl_coef=beta / (1 - 2 * flip))
    diff = naive.mean(axis=0) - (1 - 2 * flip) * clean.mean(axis=0)
    se = np.sqrt(naive.var(axis=0, ddof=1) / n
                 + (1 - 2 * flip) ** 2 * clean.var(axis=0, ddof=1) / n)
    assert np.all(np.abs(diff / se) < Z), diff / se


def test_debiased_is_the_naive_learner_at_a_larger_step():
    """Without a leash the de-biased learner at step η is the naive one at η/(1 − 2ε): the
    same logits bit for bit (ε = 1/4: the factor 2 is exact in floating point)."""
    kw = dict(algo="rloo", batch=16, flip_rate=0.25, stop="budget", max_reviewer_calls=8 * 60,
              seed=4)
    d = T.train(T.TrainConfig(preferences="debiased", lr=0.25, **kw), WEASEL, "upper27")
    n = T.train(T.TrainConfig(preferences="naive", lr=0.5, **kw), WEASEL, "upper27")
    np.testing.assert_array_equal(d.policy.theta, n.policy.theta)


# --- thread invariance with noise ---------------------------------------------------------

_CHILD = """
import hashlib, warnings
warnings.simplefilter("ignore")
import numpy as np
from monkeysim.learn import metrics as TM
from monkeysim.learn import noise_scale as NS
from monkeysim.learn import train as T
from monkeysim.learn.params import kernel_params
from monkeysim import baselines as B
out = []
for kw in (dict(algo="rloo", monkeys=7, reviewer_noise=1.5),
           dict(algo="grpo", monkeys=24, troop=True, reviewer_noise=0.7),
           dict(algo="reinforce", monkeys=5, reward="exact", flip_rate=0.1, reviewer_noise=0.5),
           dict(algo="rloo", monkeys=6, preferences="naive", flip_rate=0.3),
           dict(algo="ppo", monkeys=24, troop=True, preferences="estimated", flip_rate=0.2,
                kl_coef=0.05),
           dict(algo="rloo", monkeys=5, preferences="debiased", flip_rate=0.2)):
    probe = T.TrainConfig(batch=4, **kw)
    r = T.train(T.TrainConfig(batch=4, seed=12, stop="budget",
                              max_reviewer_calls=probe.calls_per_step * 9, **kw),
                "HI THERE", "upper27")
    h = hashlib.sha256()
    for name in TM.METRICS:
        h.update(np.ascontiguousarray(r.metrics[name]).tobytes())
    h.update(r.policy.theta.tobytes())
    out.append(h.hexdigest())
w = B.weasel("HI THERE", "upper27", seeds=range(6), noise=1.0, max_reviewer_calls=3000)
out.append(hashlib.sha256(w.reviewer_calls.tobytes() + "".join(w.final).encode()).hexdigest())
print(" ".join(out))
"""


def _child(env_extra: dict) -> str:
    env = dict(os.environ, **env_extra)
    p = subprocess.run([sys.executable, "-c", _CHILD], capture_output=True, text=True,
                       env=env, timeout=900)
    assert p.returncode == 0, p.stderr
    return p.stdout.strip()


def test_noisy_runs_identical_on_one_and_two_threads():
    """Score noise, wrong verdicts, preferences (independent monkeys and troops) and the
    noisy weasel: byte-identical metrics and logits with NUMBA_NUM_THREADS=1 and 2."""
    one = _child({"NUMBA_NUM_THREADS": "1"})
    assert len(one.split()) == 7
    assert one == _child({"NUMBA_NUM_THREADS": "2"})


def test_weasel_noise_zero_is_the_noiseless_weasel_and_noise_changes_it():
    base = B.weasel(WEASEL, "upper27", seeds=range(4), max_reviewer_calls=20_000)
    zero = B.weasel(WEASEL, "upper27", seeds=range(4), max_reviewer_calls=20_000, noise=0.0)
    noisy = B.weasel(WEASEL, "upper27", seeds=range(4), max_reviewer_calls=20_000, noise=0.5)
    np.testing.assert_array_equal(base.reviewer_calls, zero.reviewer_calls)
    assert base.final == zero.final and base.params == zero.params
    assert noisy.params["noise"] == 0.5
    assert not np.array_equal(base.reviewer_calls, noisy.reviewer_calls)
    with pytest.raises(InvalidInput, match="reviewer noise σ"):
        B.weasel(WEASEL, "upper27", noise=-1.0)


# --- the bound and the fixed point ----------------------------------------------------------

def test_capacity_bounds():
    L, A = 28, 27
    bits = L * math.log2(A)
    assert N.bound_calls("sigma", 0.0, L, A) == pytest.approx(bits / math.log2(L + 1))
    assert N.bound_calls("flip", 0.0, L, A) == pytest.approx(bits)
    assert N.bound_calls("flip", 0.0, L, A, strict=True) == pytest.approx(bits / math.log2(3))
    h = -(0.2 * math.log2(0.2) + 0.8 * math.log2(0.8))
    assert N.capacity("flip", 0.2, L, A) == pytest.approx(1 - h)
    var = L * (1 / A) * (1 - 1 / A)
    assert N.capacity("sigma", 2.0, L, A) == pytest.approx(0.5 * math.log2(1 + var / 4))
    assert N.capacity("sigma", 2.0, L, A, strict=True) == pytest.approx(
        0.5 * math.log2(1 + L * L / 16))
    assert N.bound_calls("flip", 0.5, L, A) == math.inf
    # more noise, more calls; the strict bound is never above the issue's
    for kind, levels in (("sigma", N.SIGMAS), ("flip", N.FLIPS)):
        b = [N.bound_calls(kind, x, L, A) for x in levels]
        s = [N.bound_calls(kind, x, L, A, strict=True) for x in levels]
        assert b == sorted(b) and s == sorted(s)
        assert all(si <= bi + 1e-9 for si, bi in zip(s, b, strict=True))


def test_tie_or_one_against_enumeration():
    """P(D = 0) + P(D = 1) of the fixed-point equation by brute force over all 2^(2(L−1))
    outcomes of the other positions (L = 5)."""
    L, q = 5, 0.3
    total = 0.0
    for ca in itertools.product((0, 1), repeat=L - 1):
        for cb in itertools.product((0, 1), repeat=L - 1):
            p = math.prod(q if c else 1 - q for c in ca + cb)
            if sum(ca) - sum(cb) in (0, 1):
                total += p
    assert NT._tie_or_one(q, L) == pytest.approx(total, rel=1e-12)


def test_fixed_point_of_the_leashed_preference_learner():
    L, A = 28, 27
    q, kl = N.preference_fixed_point(0.1, L, A)
    assert 1 / A < q < 1
    assert NT._tie_or_one(q, L) == pytest.approx(0.1 * math.log((A - 1) * q / (1 - q)),
                                                 abs=1e-9)
    assert kl == pytest.approx(L * (q * math.log(A * q)
                                    + (1 - q) * math.log(A * (1 - q) / (A - 1))))
    q2, kl2 = N.preference_fixed_point(0.1 / 0.6, L, A)  # a stronger leash: closer to π_ref
    assert q2 < q and kl2 < kl
    assert N.preference_fixed_point(0.0, L, A)[0] == 1.0


def test_leash_run_lands_near_its_fixed_point():
    """A short leashed run (β = 0.2, lr 0.1, 2000 steps, 8 policies): the median expected
    reward is within 0.01 of the mean-field q (the step size's O(lr) shift is smaller)."""
    cfg = N.NoiseConfig(leash_beta=0.2, leash_lr=0.1, leash_steps=2000, leash_seeds=8)
    (out,) = N.leash_cell(cfg, "noiseless", seed=0)
    q, kl = N.preference_fixed_point(0.2, 28, 27)
    assert abs(float(np.median(out["reward"])) - q) < 0.01
    assert abs(float(np.median(out["kl"])) - kl) < 0.1 * kl


# --- the command ------------------------------------------------------------------------

def test_noise_quick_end_to_end(tmp_path):
    out = tmp_path / "run"
    p = run_cli("noise", "--quick", "--out", out, "--json", "--seed", "3",
                env={"MONKEYSIM_QUIET": "1"})
    assert p.returncode == 0, p.stderr
    summary = json.loads(p.stdout)
    for name in N.FILES:
        assert (out / name).exists(), name
    with open(out / "noise.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == N.COLUMNS
    cfg = N.NoiseConfig.quick()
    n_settings = len(N.learners(cfg))
    assert len(rows) == n_settings * cfg.seeds
    learners = {r["learner"] for r in rows}
    assert learners == {"reinforce", "rloo", "grpo", "ppo", "pref-naive", "pref-debiased",
                        "pref-estimated", "weasel"}
    for r in rows:
        assert r["noise"] in ("sigma", "flip")
        assert int(r["censored"]) in (0, 1)
        assert int(r["reviewer_calls"]) <= int(r["budget"])
        assert (r["lr"] == "") == (r["learner"] == "weasel")
        assert float(r["bound_calls_strict"]) <= float(r["bound_calls"]) + 1e-6
    side = json.loads((out / "noise.json").read_text())
    assert side["seed"] == 3 and "units" in side and "tuning" in side
    assert len(summary["settings"]) == n_settings
    leash = summary["kl_leash"]
    assert [c["name"] for c in leash["conditions"]] == list(N.LEASH_CONDITIONS)
    assert all(len(c["kl_per_seed"]) == cfg.leash_seeds for c in leash["conditions"])
    assert json.loads((out / "summary.json").read_text()) == {
        k: v for k, v in summary.items() if k != "out"}
    # the same run again is refused without --overwrite, and nothing is changed
    before = (out / "noise.csv").read_bytes()
    p = run_cli("noise", "--quick", "--out", out)
    assert_clean_error(p, "already holds results", "--overwrite")
    assert (out / "noise.csv").read_bytes() == before


@pytest.mark.slow
def test_noise_resume_is_byte_identical(tmp_path):
    """Cells removed from a finished run are recomputed by --resume; the table is the same."""
    out = tmp_path / "run"
    p = run_cli("noise", "--quick", "--out", out, "--quiet")
    assert p.returncode == 0, p.stderr
    before = (out / "noise.csv").read_bytes()
    cells = sorted((out / "cells").iterdir())
    for c in cells[::3]:
        c.unlink()
    (out / "noise.csv").unlink()
    p = run_cli("noise", "--quick", "--out", out, "--resume", "--quiet")
    assert p.returncode == 0, p.stderr
    assert "recomputing" in p.stderr
    assert (out / "noise.csv").read_bytes() == before


@pytest.mark.parametrize("args, fragment", [
    (["--seeds", "0"], "seeds must be a positive integer"),
    (["--budget", "-5"], "budget"),
    (["--tune-seeds", "0"], "tuning seeds"),
    (["--leash-seeds", "0"], "leash seeds"),
    (["--seed", "-1"], "seed"),
    (["--resume", "--overwrite"], "give one of them"),
])
def test_noise_bad_input_writes_nothing(tmp_path, args, fragment):
    out = tmp_path / "never"
    p = run_cli("noise", "--quick", "--out", out, *args)
    assert_clean_error(p, fragment)
    assert not out.exists()


# --- bad input of the noisy reviewer --------------------------------------------------------

@pytest.mark.parametrize("args, fragment", [
    (["--reviewer-noise", "-1"], "reviewer noise σ (characters) must be a finite number ≥ 0"),
    (["--reviewer-noise", "nan"], "reviewer noise σ"),
    (["--preferences", "naive", "--flip-rate", "0.5"], "flip rate ε must be in [0, 0.5)"),
    (["--preferences", "naive", "--flip-rate", "-0.1"], "flip rate ε must be in [0, 0.5)"),
    (["--preferences", "debiased", "--reward", "exact"], "preferences need graded bananas"),
    (["--flip-rate", "0.1"], "a flip rate needs binary verdicts"),
])
def test_train_refuses_bad_noise_settings(tmp_path, args, fragment):
    """`monkeysim train` with σ < 0, ε outside [0, 0.5), preferences under exact bananas:
    one line, exit status 2, nothing written."""
    out = tmp_path / "never"
    p = run_cli("train", "--builtin", "weasel", "--out", out, *args)
    assert_clean_error(p, fragment)
    assert not out.exists()


@pytest.mark.parametrize("kw, fragment", [
    (dict(reviewer_noise=-0.5), "reviewer noise σ (characters) must be a finite number ≥ 0"),
    (dict(preferences="naive", flip_rate=0.5), "flip rate ε must be in [0, 0.5)"),
    (dict(preferences="debiased", reward="exact"), "preferences need graded bananas"),
    (dict(preferences="naive", reviewer_noise=1.0), "a preference reviewer errs by its flip"),
    (dict(preferences="sometimes"), "unknown preferences 'sometimes'"),
])
def test_train_config_refuses_bad_noise_settings(kw, fragment):
    with pytest.raises(InvalidInput) as exc:
        T.TrainConfig(**kw)
    assert fragment in str(exc.value)


@pytest.mark.parametrize("kw, fragment", [
    (dict(sigmas=(-1.0,)), "reviewer noise σ"),
    (dict(flips=(0.5,)), "flip rate ε must be in [0, 0.5)"),
    (dict(batch=15), "batch must be even"),
    (dict(grid=(3, -3)), "grid must be two integers"),
    (dict(leash_flip=0.0), "leash flip rate must be in (0, 0.5)"),
    (dict(algos=("sarsa",)), "unknown algorithm 'sarsa'"),
    (dict(target="weasel", alphabet="lower27"), "not in"),
])
def test_noise_config_refuses_bad_values(kw, fragment):
    with pytest.raises(InvalidInput) as exc:
        N.NoiseConfig(**kw)
    assert fragment in str(exc.value)
