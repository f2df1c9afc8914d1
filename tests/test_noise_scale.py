"""Gradient noise scale B_simple (McCandlish et al. 2018, App. A): the kernels' per-group
estimates against a Python recomputation on the same documents, their expectations against
enumeration of every group of documents, the closed form of theory.noise_scale_uniform against
enumeration and Monte Carlo, the train.csv columns, determinism and JIT parity."""

import csv
import math
import os
import subprocess
import sys
from statistics import NormalDist

import naive
import numpy as np
import pytest

from monkeysim import theory
from monkeysim._kernels import policy as KP
from monkeysim.alphabet import Alphabet
from monkeysim.errors import InvalidInput
from monkeysim.experiments import train_run
from monkeysim.learn import config as TC
from monkeysim.learn import metrics as TM
from monkeysim.learn import noise_scale as NS
from monkeysim.learn import train as T
from monkeysim.learn.algorithms import ALGORITHMS
from monkeysim.learn.params import kernel_params
from monkeysim.policy import CharPolicy, PolicySpec
from monkeysim.reward import make_reviewer

ALPHA = 1e-3  # family-wise error rate of each test's Monte-Carlo comparisons
WEASEL = "METHINKS IT IS LIKE A WEASEL"


def z_crit(tests: int) -> float:
    """Two-sided z critical value at family-wise level ALPHA over ``tests`` comparisons."""
    return NormalDist().inv_cdf(1 - ALPHA / (2 * tests))


def assert_z(mean: float, se: float, exact: float, z: float, what: str) -> None:
    assert se > 0, what
    assert abs(mean - exact) <= z * se, (what, mean, exact, se, (mean - exact) / se)


# --- the kernels' estimates on the very documents they typed -------------------------------

def dry_run(cfg: T.TrainConfig, target: str, chars: str, theta=None, ref=None):
    """One dry step of ``cfg`` (troop or independent monkeys) through the private state."""
    _, codes, reviewer, spec = T._setup(cfg, target, None, chars)
    init = None if theta is None else CharPolicy(spec, theta)
    reference = None if ref is None else CharPolicy(spec, ref)
    policies = 1 if cfg.troop else cfg.monkeys
    th, reference = T.initial_policies(cfg, spec, init, reference, policies)
    st = T.RunState(cfg, spec, codes, reviewer, th, reference, cfg.monkeys, cfg.troop)
    _, pm = st.run(kernel_params(cfg, spec, dry=True), 1)
    return st, pm[0]


def python_estimates(cfg, st, docs, adv, policy: int) -> tuple[float, float]:
    """(|G|², tr Σ) estimates of one group recomputed in Python from its documents."""
    prob = st.prob[policy]
    logp = st.logp[policy]
    beta = cfg.kl_coef if cfg.kl_mode == "k3" else 0.0
    grads = []
    for doc, a_j in zip(docs, adv, strict=True):
        g = [[0.0] * prob.shape[1] for _ in range(prob.shape[0])]
        for i, key in enumerate(doc):
            c = a_j + beta * math.expm1(st.logq[i, key] - logp[i, key])
            for b in range(prob.shape[1]):
                g[i][b] = c * ((1.0 if b == key else 0.0) - prob[i, b])
        grads.append(g)
    return naive.noise_estimates(grads)


@pytest.mark.parametrize("kw", [
    dict(algo="reinforce", monkeys=3, batch=4),
    dict(algo="rloo", monkeys=2, batch=5, kl_coef=0.3, entropy_coef=0.2),  # exact regulariser
    dict(algo="grpo", monkeys=2, batch=4),
    dict(algo="ppo", monkeys=2, batch=3, kl_coef=0.4, kl_estimator="k3"),
    dict(algo="reinforce", monkeys=2, batch=3, kl_coef=0.4, kl_estimator="k1"),
    dict(algo="rloo", monkeys=40, batch=2, troop=True),  # 3 gradient chunks of the troop
    dict(algo="ppo", monkeys=20, batch=2, troop=True, kl_coef=0.2, kl_estimator="k3"),
], ids=lambda kw: "-".join(map(str, kw.values())))
def test_kernel_estimates_equal_python_on_the_same_documents(kw):
    cfg = T.TrainConfig(reward="hamming", seed=9, **kw)
    rng = np.random.default_rng(1)
    spec = PolicySpec("positional", 4, 3)
    theta = rng.normal(size=spec.shape) * 0.6
    ref = rng.normal(size=spec.shape) * 0.6
    st, pm = dry_run(cfg, "ACBA", "ABC", theta, ref)
    if cfg.troop:
        groups = [(st.docs.reshape(-1, 4), st.adv.reshape(-1), 0)]
    else:
        groups = [(st.docs[m], st.adv[m], m) for m in range(cfg.monkeys)]
    for p, (docs, adv, policy) in enumerate(groups):
        g, t = python_estimates(cfg, st, docs, adv, policy)
        assert pm[p, KP.PM_GRAD_SQ] == pytest.approx(g, rel=1e-9, abs=1e-14)
        assert pm[p, KP.PM_TRACE_SIGMA] == pytest.approx(t, rel=1e-9, abs=1e-14)
        assert t > 0


def test_context_policies_and_single_document_groups_give_nan():
    _, pm = dry_run(T.TrainConfig(algo="rloo", policy="context", order=2, monkeys=2, batch=3,
                                  seed=1), "ABCA", "ABC")
    assert np.isnan(pm[:, KP.PM_GRAD_SQ]).all() and np.isnan(pm[:, KP.PM_TRACE_SIGMA]).all()
    _, pm = dry_run(T.TrainConfig(algo="reinforce", monkeys=2, batch=1, seed=1), "ABCA", "ABC")
    assert np.isnan(pm[:, KP.PM_GRAD_SQ]).all() and np.isnan(pm[:, KP.PM_TRACE_SIGMA]).all()


# --- expectations by enumeration ------------------------------------------------------------

class Tiny:
    """L = 2, A = 3, a non-uniform positional policy: every group of documents enumerable."""

    def __init__(self, reward: str, target: str = "CA", chars: str = "ABC", seed: int = 2):
        self.target, self.alphabet = target, Alphabet(chars)
        self.a, self.length = len(chars), len(target)
        self.spec = PolicySpec("positional", self.length, self.a)
        rev = make_reviewer(reward, target, self.alphabet)
        self.reward = {d: rev.score_codes(np.array(d, dtype=np.uint8))
                       for d in naive.all_documents(self.length, self.a)}
        self.theta = np.random.default_rng(seed).normal(size=self.spec.shape) * 0.8
        self.policy = CharPolicy(self.spec, self.theta)

    def exact(self, advantage: str, group: int, baseline: float = 0.0):
        return naive.expected_noise_estimates(self.theta.tolist(), "positional", 1, self.a,
                                              self.length, self.reward, group, advantage,
                                              baseline)

    def grad_sq(self) -> float:
        _, g = naive.exact_objective_gradient(self.theta.tolist(), "positional", 1, self.a,
                                              self.length, self.reward)
        return float(np.sum(np.square(g)))


def test_leave_one_out_inflates_the_gradient_estimate_by_one_plus_c_squared():
    """Enumerating every group checks the algebra: with a fixed baseline the |G|² estimate is
    unbiased; with leave-one-out advantages E[g_i · g_j] = (1 + c²)|G|², c = 1/(n − 1)."""
    for reward in ("hamming", "prefix"):
        tiny = Tiny(reward)
        g2 = tiny.grad_sq()
        for n in (2, 3):
            c = 1 / (n - 1)
            assert tiny.exact("baseline", n, 0.3)[0] == pytest.approx(g2, rel=1e-10)
            assert tiny.exact("loo", n)[0] == pytest.approx((1 + c * c) * g2, rel=1e-10)


ENUM_CASES = [("hamming", "reinforce", None), ("hamming", "reinforce", 0.3),
              ("hamming", "rloo", None), ("hamming", "grpo", None),
              ("prefix", "reinforce", None), ("prefix", "rloo", None),
              ("prefix", "grpo", None)]


@pytest.mark.parametrize("reward, algo, baseline", ENUM_CASES,
                         ids=lambda x: str(x))
def test_kernel_estimates_are_unbiased_by_enumeration(reward, algo, baseline):
    """The mean of many groups' kernel estimates equals their exact expectation (z-test)."""
    tiny = Tiny(reward)
    n = 3
    cfg = T.TrainConfig(algo=algo, reward=reward, batch=n, seed=4)
    res = NS.noise_scale(cfg, tiny.target, tiny.alphabet, policy=tiny.policy, samples=100_000,
                        baseline=baseline)
    adv = {"reinforce": "baseline", "rloo": "loo", "grpo": "group"}[algo]
    e_g, e_t = tiny.exact(adv, n, baseline or 0.0)
    z = z_crit(2)
    assert_z(res.grad_sq, res.grad_sq_se, e_g, z, "grad_sq")
    assert_z(res.trace_sigma, res.trace_sigma_se, e_t, z, "trace_sigma")
    assert res.groups == 100_000 and res.group_size == n


# --- the closed form at uniform initialisation ----------------------------------------------

@pytest.mark.parametrize("length, chars, n", [(2, "ABC", 3), (3, "AB", 4), (2, "ABCD", 2)])
def test_closed_form_equals_enumeration(length, chars, n):
    tiny = Tiny("hamming", target=chars[-1] + chars[0] * (length - 1), chars=chars)
    tiny.theta = np.zeros(tiny.spec.shape)
    a = len(chars)
    for baseline, adv in (("zero", "baseline"), ("loo", "loo")):
        th = theory.noise_scale_uniform(length, a, baseline, n)
        e_g, e_t = tiny.exact(adv, n)
        assert th.exact
        assert th.grad_sq == pytest.approx(e_g, rel=1e-10)
        assert th.trace_sigma == pytest.approx(e_t, rel=1e-10)
        assert th.b_simple == pytest.approx(e_t / e_g, rel=1e-10)
    zero = theory.noise_scale_uniform(length, a, "zero", n)
    assert zero.grad_sq == pytest.approx(tiny.grad_sq(), rel=1e-12)
    assert zero.b_simple == pytest.approx(length * (a - 1 + length) - 1, rel=1e-12)


@pytest.mark.parametrize("algo", ["reinforce", "rloo"])
def test_closed_form_matches_monte_carlo_on_the_weasel(algo):
    """L = 28, A = 27, batch 16 at θ = 0: both estimates and their ratio agree with theory."""
    cfg = T.TrainConfig(algo=algo, batch=16, seed=7)
    res = NS.noise_scale(cfg, WEASEL, "upper27", samples=4096)
    th = theory.noise_scale_uniform(28, 27, ALGORITHMS[algo].noise_baseline, 16)
    z = z_crit(3)
    assert_z(res.grad_sq, res.grad_sq_se, th.grad_sq, z, "grad_sq")
    assert_z(res.trace_sigma, res.trace_sigma_se, th.trace_sigma, z, "trace_sigma")
    assert_z(res.b_simple, res.b_simple_se, th.b_simple, z, "b_simple")
    lo, hi = res.b_simple_ci
    assert lo < res.b_simple < hi
    assert hi - lo == pytest.approx(2 * 1.959963984540054 * res.b_simple_se)


def test_theory_values_and_algorithm_map():
    assert theory.noise_scale_uniform(28, 27, "zero").b_simple == pytest.approx(1511)
    loo = theory.noise_scale_uniform(28, 27, "loo", 16)
    c = 1 / 15
    assert loo.b_simple == pytest.approx(28 * 26 * 16 / (15 * (1 + c * c)) - 1)
    grp = theory.noise_scale_uniform(28, 27, "group", 16)
    assert not grp.exact and grp.b_simple == pytest.approx(loo.b_simple)
    baselines = {a: ALGORITHMS[a].noise_baseline for a in TC.ALGOS}
    assert baselines == {"reinforce": "zero", "rloo": "loo", "ppo": "loo", "grpo": "group",
                         "dr-grpo": "loo", "reinforce-pp": "group"}
    assert set(baselines.values()) <= set(theory.NOISE_BASELINES)


# --- training metrics -----------------------------------------------------------------------

def test_smoothed_noise_scale_is_a_ratio_of_bias_corrected_emas():
    g = np.array([2.0, 1.0, 4.0, -0.5])
    t = np.array([10.0, 30.0, 5.0, 7.0])
    d = TM.NOISE_SCALE_DECAY
    eg = et = w = 0.0
    want = []
    for gi, ti in zip(g, t, strict=True):
        eg, et, w = d * eg + (1 - d) * gi, d * et + (1 - d) * ti, d * w + (1 - d)
        want.append((et / w) / (eg / w))
    assert TM.smoothed_noise_scale(g, t) == pytest.approx(want, rel=1e-12)
    assert TM.smoothed_noise_scale(np.full(3, 2.0), np.full(3, 6.0)) == pytest.approx([3.0] * 3)
    out = TM.smoothed_noise_scale(np.zeros(2), np.zeros(2))
    assert np.isnan(out).all()


def test_train_csv_has_the_noise_scale_columns(tmp_path):
    cfg = T.TrainConfig(algo="rloo", monkeys=2, batch=8, seed=3, stop="budget",
                        max_reviewer_calls=2 * 8 * 6)
    res = T.train(cfg, "HELLO", "upper27")
    m = res.metrics
    for name in ("grad_sq", "trace_sigma", "b_simple"):
        assert name in TM.METRICS and len(m[name]) == 6
    assert np.isfinite(m["b_simple"]).all() and (m["trace_sigma"] > 0).all()
    assert m["b_simple"] == pytest.approx(TM.smoothed_noise_scale(m["grad_sq"],
                                                                 m["trace_sigma"]))
    train_run.write_outputs(res, tmp_path, cfg.as_dict())
    with open(tmp_path / "train.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 6 and all(math.isfinite(float(r["b_simple"])) for r in rows)

    ctx = T.train(T.TrainConfig(algo="rloo", policy="context", order=2, batch=4, seed=3,
                                stop="budget", max_reviewer_calls=4 * 3), "HELLO", "upper27")
    for name in ("grad_sq", "trace_sigma", "b_simple"):
        assert np.isnan(ctx.metrics[name]).all()
    train_run.write_outputs(ctx, tmp_path / "ctx", ctx.config.as_dict())
    with open(tmp_path / "ctx" / "train.csv", newline="") as f:
        assert all(r["b_simple"] == "" for r in csv.DictReader(f))


def test_a_troop_logs_the_noise_scale_of_its_whole_group():
    cfg = T.TrainConfig(algo="reinforce", monkeys=20, troop=True, batch=2, seed=2,
                        stop="budget", max_reviewer_calls=40 * 3)
    m = T.train(cfg, "HELLO", "upper27").metrics
    assert np.isfinite(m["grad_sq"]).all() and np.isfinite(m["b_simple"]).all()


# --- determinism, parity, bad input ---------------------------------------------------------

def test_noise_scale_is_deterministic_and_independent_of_chunking(monkeypatch):
    cfg = T.TrainConfig(algo="rloo", batch=4, seed=12)
    a = NS.noise_scale(cfg, "HELLO", "upper27", samples=300)
    monkeypatch.setattr(NS, "NOISE_CHUNK", 64)
    b = NS.noise_scale(cfg, "HELLO", "upper27", samples=300)
    assert a == b
    c = NS.noise_scale(T.TrainConfig(algo="rloo", batch=4, seed=13), "HELLO", "upper27",
                      samples=300)
    assert c != a


_CHILD = """
import warnings
warnings.simplefilter("ignore")
from monkeysim.learn import metrics as TM
from monkeysim.learn import noise_scale as NS
from monkeysim.learn import train as T
from monkeysim.learn.params import kernel_params
for algo in ("reinforce", "grpo"):
    r = NS.noise_scale(T.TrainConfig(algo=algo, batch=3, seed=5, kl_coef=0.2,
                                    kl_estimator="k3"), "HI", "upper27", samples=40)
    print(repr(r))
r = T.train(T.TrainConfig(algo="rloo", monkeys=18, troop=True, batch=2, seed=5, stop="budget",
                          max_reviewer_calls=36 * 2), "HI", "upper27")
print(r.metrics["grad_sq"].tobytes().hex(), r.metrics["b_simple"].tobytes().hex())
"""


def _child(env_extra: dict) -> str:
    env = dict(os.environ, **env_extra)
    p = subprocess.run([sys.executable, "-c", _CHILD], capture_output=True, text=True, env=env,
                       timeout=900)
    assert p.returncode == 0, p.stderr
    return p.stdout


@pytest.mark.parity
def test_jit_and_pure_python_agree():
    assert _child({"NUMBA_DISABLE_JIT": "1"}) == _child({})


@pytest.mark.parametrize("kw, args, fragment", [
    (dict(policy="context", order=2), {}, "noise_scale needs a positional policy"),
    (dict(algo="reinforce", batch=1), {}, "at least 2 documents per group, got 1"),
    ({}, dict(samples=1), "at least 2 samples"),
    ({}, dict(samples=0), "samples must be a positive integer, got 0"),
    ({}, dict(policy=CharPolicy.positional(5, 27, 2)), "noise_scale needs a single policy"),
    ({}, dict(policy=CharPolicy.positional(4, 27)), "initial policy has the wrong shape"),
])
def test_noise_scale_bad_input(kw, args, fragment):
    with pytest.raises(InvalidInput, match=fragment):
        NS.noise_scale(T.TrainConfig(**kw), "HELLO", "upper27", **args)


@pytest.mark.parametrize("args, fragment", [
    ((28, 27, "mean"), "unknown baseline 'mean'"),
    ((28, 1, "zero"), "alphabet size A must be at least 2"),
    ((28, 27, "loo", 1), "needs a group of at least 2 documents"),
    ((0, 27, "zero"), "length L must be a positive integer"),
])
def test_theory_bad_input(args, fragment):
    with pytest.raises(InvalidInput, match=fragment):
        theory.noise_scale_uniform(*args)
