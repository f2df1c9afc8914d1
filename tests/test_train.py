"""Policy-gradient training: every algorithm's update against exact expectations by
enumeration, the kernels against a token-by-token reference trainer, determinism across
threads, block sizes and JIT, learning a short target, bad input and the CLI."""

import csv
import hashlib
import json
import math
import os
import subprocess
import sys
from statistics import NormalDist

import naive
import numba
import numpy as np
import pytest
from conftest import assert_clean_error, run_cli

from monkeysim.alphabet import Alphabet
from monkeysim.errors import InvalidInput
from monkeysim.learn import config as TC
from monkeysim.learn import metrics as TM
from monkeysim.learn import noise_scale as NS
from monkeysim.learn import train as T
from monkeysim.learn.config import TrainConfig
from monkeysim.learn.params import kernel_params
from monkeysim.policy import CharPolicy, PolicySpec
from monkeysim.reward import make_reviewer
from monkeysim.rng import chunk_states

ALPHA = 1e-3  # family-wise error rate of each Monte-Carlo comparison
SAMPLES = 20_000  # independent monkeys per Monte-Carlo gradient estimate


def z_crit(tests: int) -> float:
    """Two-sided z critical value at family-wise level ALPHA over ``tests`` components."""
    return NormalDist().inv_cdf(1 - ALPHA / (2 * tests))


class Tiny:
    """A tiny problem: target, alphabet, policy shape and the reward of every document."""

    def __init__(self, target="ACB", chars="ABC", kind="positional", order=1, reward="hamming",
                 seed=1):
        self.target, self.alphabet = target, Alphabet(chars)
        self.a, self.length = len(chars), len(target)
        self.kind, self.order = kind, order
        self.spec = PolicySpec(kind, self.length, self.a, order)
        rev = make_reviewer(reward, target, self.alphabet)
        self.reward = {d: rev.score_codes(np.array(d, dtype=np.uint8))
                       for d in naive.all_documents(self.length, self.a)}
        rng = np.random.default_rng(seed)
        self.theta = rng.normal(size=self.spec.shape) * 0.7
        self.ref = rng.normal(size=self.spec.shape) * 0.7
        self.policy = CharPolicy(self.spec, self.theta)
        self.reference = CharPolicy(self.spec, self.ref)

    def config(self, **kw):
        return T.TrainConfig(reward="hamming", policy=self.kind, order=self.order, **kw)

    def exact_direction(self, cfg: T.TrainConfig) -> np.ndarray:
        """The expected first-epoch ascent direction of ``cfg`` by enumeration."""
        th, ref = self.theta.tolist(), self.ref.tolist()
        args = (self.kind, self.order, self.a, self.length)
        if cfg.algo in ("grpo", "reinforce-pp"):
            assert cfg.kl_coef == 0 and cfg.entropy_coef == 0
            ddof = 1 if cfg.algo == "grpo" else 0
            return np.array(naive.expected_grpo_direction(th, *args, self.reward, cfg.batch,
                                                          cfg.group_eps, ddof))
        beta = cfg.kl_coef if cfg.kl_mode != "k3" else 0.0
        _, g = naive.exact_objective_gradient(th, *args, self.reward, ref, beta,
                                              cfg.entropy_coef)
        g = np.array(g)
        if cfg.algo == "dr-grpo":  # r − mean = (n − 1)/n × (r − mean of the others)
            assert cfg.kl_coef == 0 and cfg.entropy_coef == 0
            g *= (cfg.batch - 1) / cfg.batch
        if cfg.kl_mode == "k3":
            g += cfg.kl_coef * np.array(naive.expected_k3_direction(th, ref, *args))
        return g

    def samples(self, cfg: T.TrainConfig, **kw) -> np.ndarray:
        return NS.policy_gradient_samples(cfg, self.target, self.policy, SAMPLES, self.alphabet,
                                         reference=self.reference, **kw)


def assert_mc_matches(samples: np.ndarray, exact: np.ndarray) -> None:
    """Per component |mean − exact| < z·se, z Bonferroni-corrected over the components with
    a non-zero sample spread; components that never vary must match exactly."""
    n = samples.shape[0]
    mean = samples.mean(axis=0)
    se = samples.std(axis=0, ddof=1) / math.sqrt(n)
    live = se > 0
    assert np.allclose(mean[~live], exact[~live], atol=1e-12)
    z = np.abs(mean[live] - exact[live]) / se[live]
    assert z.max() < z_crit(int(live.sum())), (z.max(), mean, exact)


# --- every algorithm's estimator vs the exact expectation -----------------------------------

CASES = [
    dict(algo="reinforce"),
    dict(algo="rloo"),
    dict(algo="ppo"),  # 4 epochs by default: the first one is the score-function gradient
    dict(algo="rloo", kl_coef=0.3, entropy_coef=0.2),  # exact KL / entropy gradients
    dict(algo="reinforce", kl_coef=0.3, entropy_coef=0.2, kl_estimator="k1"),
    dict(algo="ppo", kl_coef=0.3, kl_estimator="k3"),
    dict(algo="dr-grpo"),  # unbiased up to the factor (n − 1)/n
]


@pytest.mark.parametrize("kw", CASES, ids=lambda kw: "-".join(map(str, kw.values())))
def test_positional_estimator_mean_matches_exact_gradient(kw):
    tiny = Tiny()
    cfg = tiny.config(batch=4, seed=3, **kw)
    assert_mc_matches(tiny.samples(cfg), tiny.exact_direction(cfg))


@pytest.mark.parametrize("kw", [dict(algo="rloo"), dict(algo="ppo", kl_coef=0.3, entropy_coef=0.1),
                                dict(algo="reinforce", kl_coef=0.3, kl_estimator="k3")],
                         ids=lambda kw: "-".join(map(str, kw.values())))
def test_context_estimator_mean_matches_exact_gradient(kw):
    tiny = Tiny(kind="context", order=2, seed=2)
    cfg = tiny.config(batch=4, seed=5, **kw)
    assert_mc_matches(tiny.samples(cfg), tiny.exact_direction(cfg))


def test_reinforce_baseline_keeps_the_estimator_unbiased():
    tiny = Tiny(seed=4)
    cfg = tiny.config(algo="reinforce", batch=2, seed=6)
    assert_mc_matches(tiny.samples(cfg, baseline=0.4), tiny.exact_direction(cfg))


@pytest.mark.parametrize("kind, order, chars, target", [
    ("positional", 1, "ABC", "ACB"), ("context", 2, "AB", "ABB")])
@pytest.mark.parametrize("algo", ["grpo", "reinforce-pp"])
def test_grpo_direction_matches_its_exact_expectation(kind, order, chars, target, algo):
    """GRPO's and REINFORCE++'s normalised advantages make their update a biased gradient
    estimate; its mean matches the exact expectation over all groups of documents."""
    tiny = Tiny(target, chars, kind, order, seed=7)
    cfg = tiny.config(algo=algo, batch=3, seed=8)
    assert_mc_matches(tiny.samples(cfg), tiny.exact_direction(cfg))


# --- the kernels against the token-by-token reference trainer -------------------------------

REF_CASES = [
    ("positional", "reinforce", "sgd", False, 2, "auto", 0.0, 0.0),
    ("positional", "rloo", "adam", False, 2, "auto", 0.2, 0.1),
    ("positional", "ppo", "sgd", False, 1, "k3", 0.3, 0.0),
    ("positional", "grpo", "adam", True, 3, "k1", 0.2, 0.05),
    ("positional", "ppo", "adam", True, 20, "auto", 0.1, 0.1),  # two gradient chunks
    ("context", "rloo", "sgd", True, 40, "k3", 0.1, 0.0),  # three gradient chunks
    ("context", "grpo", "sgd", False, 2, "k1", 0.2, 0.1),
    ("context", "ppo", "adam", False, 1, "auto", 0.0, 0.0),
    ("positional", "dr-grpo", "sgd", False, 2, "auto", 0.2, 0.1),
    ("positional", "reinforce-pp", "adam", True, 20, "k3", 0.1, 0.0),  # two gradient chunks
    ("context", "dr-grpo", "adam", True, 3, "k1", 0.2, 0.05),
    ("context", "reinforce-pp", "sgd", False, 2, "auto", 0.0, 0.1),
]


@pytest.mark.parametrize("kind, algo, opt, troop, monkeys, kl, beta, alpha", REF_CASES)
def test_training_steps_match_reference_trainer(kind, algo, opt, troop, monkeys, kl, beta,
                                                alpha):
    tiny = Tiny(kind=kind, order=2 if kind == "context" else 1, seed=5)
    steps, batch = 3, 3
    cfg = tiny.config(algo=algo, optimizer=opt, lr=0.3, monkeys=monkeys, troop=troop,
                      batch=batch, kl_coef=beta, entropy_coef=alpha, kl_estimator=kl, seed=7,
                      stop="budget", max_reviewer_calls=steps * monkeys * batch)
    res = T.train(cfg, tiny.target, tiny.alphabet, init=tiny.policy, reference=tiny.reference)
    assert res.steps == steps
    states = chunk_states(7, 0, monkeys, T.TRAIN_STREAM)
    ref = naive.naive_train(tiny.theta.tolist(), tiny.kind, tiny.order, tiny.a, tiny.length,
                            tiny.reward, states, steps, batch, algo=algo, lr=0.3,
                            optimizer=opt, troop=troop, beta=beta, alpha=alpha, kl=cfg.kl_mode,
                            theta_ref=tiny.ref.tolist(), epochs=cfg.n_epochs)
    np.testing.assert_allclose(res.policy.theta, np.array(ref), rtol=0, atol=1e-8)


@pytest.mark.parametrize("algo", ["grpo", "ppo", "dr-grpo", "reinforce-pp"])
def test_clipped_epochs_match_reference_trainer(algo):
    """Three epochs per batch: the later epochs' clipped ratios as the reference computes them."""
    tiny = Tiny(seed=6)
    steps, batch, monkeys = 3, 4, 2
    cfg = tiny.config(algo=algo, lr=2.0, monkeys=monkeys, batch=batch, epochs=3, seed=9,
                      stop="budget", max_reviewer_calls=steps * monkeys * batch)
    res = T.train(cfg, tiny.target, tiny.alphabet, init=tiny.policy)
    states = chunk_states(9, 0, monkeys, T.TRAIN_STREAM)
    ref = naive.naive_train(tiny.theta.tolist(), tiny.kind, tiny.order, tiny.a, tiny.length,
                            tiny.reward, states, steps, batch, algo=algo, lr=2.0, epochs=3)
    assert res.metrics["clip_fraction"].max() > 0
    np.testing.assert_allclose(res.policy.theta, np.array(ref), rtol=0, atol=1e-8)


@pytest.mark.parametrize("kind, opt", [(0, "sgd"), (0, "adam"), (1, "sgd")])
def test_update_tables_matches_step_then_tables(kind, opt):
    """The fused optimiser step + tables + greedy keys + exact KL / entropy equal, bit for bit,
    a plain step followed by naive_tables and in-order sums (ties: the first key wins)."""
    from monkeysim._kernels import policy as KP

    rng = np.random.default_rng(3)
    rows, a = 6, 5
    theta = rng.normal(size=(rows, a))
    grad = rng.normal(size=(rows, a))
    theta[2], grad[2] = [0.2, 0.7, -0.3, 0.7, 0.1], 0.0  # an untouched row with a tie
    logq = np.log(np.full((rows, a), 1.0 / a))
    m, v = rng.random((rows, a)), rng.random((rows, a))
    t, lr, b1, b2, eps = 3, 0.5, 0.9, 0.999, 1e-8
    par = kernel_params(TrainConfig(), PolicySpec("positional", rows, a, 1))._replace(
        kind=kind, optimiser=KP.OPT_ADAM if opt == "adam" else KP.OPT_SGD, lr=lr, adam_b1=b1,
        adam_b2=b2, adam_eps=eps)
    # reference: step, then the tables, greedy keys and sums row by row in order
    new = theta.tolist()
    em, ev = m.tolist(), v.tolist()
    for r in range(rows):
        for j in range(a):
            g = float(grad[r, j])
            if opt == "adam":
                em[r][j] = b1 * em[r][j] + (1.0 - b1) * g
                ev[r][j] = b2 * ev[r][j] + (1.0 - b2) * g * g
                new[r][j] += lr * (em[r][j] / (1.0 - b1 ** t)) / (
                    math.sqrt(ev[r][j] / (1.0 - b2 ** t)) + eps)
            else:
                new[r][j] += lr * g
    logp, prob, cdf = naive.naive_tables(new)
    g2 = q = kl = h = 0.0
    for r in range(rows):
        row_q = row_kl = row_h = 0.0
        for j in range(a):
            g2 += float(grad[r, j]) ** 2
            row_q += prob[r][j] * prob[r][j]
            row_kl += prob[r][j] * (logp[r][j] - logq[r, j])
            row_h -= prob[r][j] * logp[r][j]
        q += row_q
        kl += row_kl
        h += row_h
    greedy_ref = [row.index(max(row)) for row in logp]
    assert greedy_ref[2] == 1

    th, mm, vv = theta.copy(), m.copy(), v.copy()
    out = [np.empty_like(theta) for _ in range(3)]
    greedy = np.full(rows, 99, dtype=np.uint8)
    got = KP.update_tables(par, th, grad, mm, vv, t, *out, logq, greedy)
    assert th.tolist() == new
    for arr, ref in zip(out, (logp, prob, cdf), strict=True):
        assert arr.tolist() == ref
    if opt == "adam":
        assert mm.tolist() == em and vv.tolist() == ev
    if kind == KP.POSITIONAL:
        assert got == (g2, q, kl, h)
        assert greedy.tolist() == greedy_ref
        assert [KP.row_argmax(out[0], r) for r in range(rows)] == greedy_ref
    else:  # a context policy's statistics follow the chain of rows: not computed here
        assert got == (g2, q, 0.0, 0.0) and (greedy == 99).all()


def test_ppo_later_epochs_clip_and_others_do_not():
    kw = dict(batch=8, seed=1, stop="budget", max_reviewer_calls=8 * 20)
    ppo = T.train(T.TrainConfig(algo="ppo", lr=5.0, **kw), "METHINKS", "upper27")
    rloo = T.train(T.TrainConfig(algo="rloo", **kw), "METHINKS", "upper27")
    assert ppo.metrics["clip_fraction"].max() > 0
    assert (rloo.metrics["clip_fraction"] == 0).all()


# --- KL and metrics --------------------------------------------------------------------------

def test_exact_kl_nonnegative_and_estimators_agree_in_the_trainer():
    """Step 1's k1/k3 metrics (documents typed from the initial policy) estimate the exact
    KL(π_init‖π_ref); kl_exact (after each step) is ≥ 0 and equals the policy's exact KL."""
    tiny = Tiny(kind="context", order=2, seed=9)
    monkeys, batch = 5000, 2
    cfg = tiny.config(algo="reinforce", monkeys=monkeys, batch=batch, kl_coef=0.1, seed=2,
                      stop="budget", max_reviewer_calls=monkeys * batch * 3)
    res = T.train(cfg, tiny.target, tiny.alphabet, init=tiny.policy, reference=tiny.reference)
    exact = tiny.policy.kl(tiny.reference)[0]
    assert exact > 0
    docs = tiny.policy.sample(20_000, seed=4)[0]  # per-document spread for the tolerance
    k1 = tiny.policy.log_prob(docs)[0] - tiny.reference.log_prob(docs)[0]
    se = k1.std(ddof=1) / math.sqrt(monkeys * batch)
    assert abs(res.metrics["kl_k1"][0] - exact) < z_crit(2) * se
    assert abs(res.metrics["kl_k3"][0] - exact) < z_crit(2) * se * 2  # k3's spread is < k1's
    assert (res.metrics["kl_exact"] >= 0).all()
    final_kl = res.policy.kl(tiny.reference)
    assert res.metrics["kl_exact"][-1] == pytest.approx(final_kl.mean(), abs=1e-12)
    _, h = res.policy.kl_entropy(tiny.reference)
    assert res.metrics["entropy"][-1] == pytest.approx(h.mean(), abs=1e-12)


def test_metric_columns_and_counting():
    res = T.train(T.TrainConfig(monkeys=3, batch=4, seed=1, stop="budget",
                                max_reviewer_calls=3 * 4 * 5), "TO BE", "upper27")
    m = res.metrics
    assert list(m) == list(TM.METRICS)
    assert all(len(v) == 5 for v in m.values())
    assert m["step"].tolist() == [1, 2, 3, 4, 5]
    assert m["reviewer_calls"].tolist() == [12, 24, 36, 48, 60]
    assert m["keystrokes"].tolist() == [60, 120, 180, 240, 300]
    assert ((0 <= m["reward_mean"]) & (m["reward_mean"] <= 1)).all()
    assert m["bananas"] == pytest.approx(m["reward_mean"] * 12)
    assert res.total_reviewer_calls == 60 and not res.solved and res.reviewer_calls == 60
    assert (m["greedy_correct"] >= m["greedy_correct_mean"]).all()


def test_exact_bananas_give_no_gradient_until_the_first_hit():
    res = T.train(T.TrainConfig(algo="rloo", reward="exact", seed=2, max_reviewer_calls=5000),
                  "AB", alphabet_chars="ABCDEF")
    m = res.metrics
    hit = int(np.flatnonzero(m["exact_hits"] > 0)[0])
    assert hit > 0
    assert (m["grad_norm"][:hit] == 0).all() and (m["kl_exact"][:hit] == 0).all()
    assert (m["frac_reward_zero_std"][:hit] == 1).all()
    assert m["grad_norm"][hit] > 0 and m["kl_exact"][hit] > 0


def test_typed_counts_are_lockstep():
    res = T.train(T.TrainConfig(algo="rloo", monkeys=3, batch=2, seed=4, stop="typed",
                                max_reviewer_calls=30_000), "ABC", alphabet_chars="ABCD")
    assert res.typed
    assert res.typed_reviewer_calls == res.typed_wall_reviewer_calls * 3
    assert res.typed_keystrokes == res.typed_reviewer_calls * 3
    assert res.steps == -(-res.typed_wall_reviewer_calls // 2)


# --- determinism -----------------------------------------------------------------------------

@pytest.mark.parametrize("algo", TC.ALGOS)
def test_learns_a_short_target_deterministically(algo):
    cfg = T.TrainConfig(algo=algo, seed=5, max_reviewer_calls=20_000)
    a = T.train(cfg, "TO BE", "upper27")
    b = T.train(cfg, "TO BE", "upper27")
    assert a.solved and a.greedy == "TO BE"
    assert a.reviewer_calls == b.reviewer_calls and a.steps == b.steps
    for name in TM.METRICS:
        assert np.array_equal(a.metrics[name], b.metrics[name]), name
    assert np.array_equal(a.policy.theta, b.policy.theta)
    assert a.reviewer_calls < 2000  # a random monkey needs 27**5 ≈ 1.4e7 documents


def _digest(res) -> str:
    h = hashlib.sha256()
    for name in TM.METRICS:
        h.update(np.ascontiguousarray(res.metrics[name]).tobytes())
    h.update(res.policy.theta.tobytes())
    return h.hexdigest()


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_result_does_not_depend_on_block_size(monkeypatch, optimizer):
    cfg = T.TrainConfig(algo="grpo", monkeys=4, batch=4, seed=3, max_reviewer_calls=20_000,
                        optimizer=optimizer)
    a = T.train(cfg, "TO BE", "upper27")
    monkeypatch.setattr(T, "BLOCK_DOCS", 16)
    monkeypatch.setattr(T, "MAX_BLOCK_STEPS", 3)
    b = T.train(cfg, "TO BE", "upper27")
    assert a.solved and a.steps == b.steps and _digest(a) == _digest(b)
    # a run stopped at the solve step equals the same run with exactly that budget
    c = T.train(T.TrainConfig(**{**cfg.as_dict(), "adam_betas": cfg.adam_betas,
                                 "stop": "budget",
                                 "max_reviewer_calls": a.steps * 16}), "TO BE", "upper27")
    assert _digest(a) == _digest(c)


@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2,
                    reason="NUMBA_NUM_THREADS caps numba at one thread: 2 threads are refused")
def test_threads_in_process_identical():
    for troop, monkeys in ((False, 7), (True, 40)):
        cfg = dict(algo="ppo", monkeys=monkeys, troop=troop, batch=3, seed=6, stop="budget",
                   max_reviewer_calls=monkeys * 3 * 6)
        a = T.train(T.TrainConfig(**cfg, threads=1), "HELLO", "upper27")
        b = T.train(T.TrainConfig(**cfg, threads=2), "HELLO", "upper27")
        assert _digest(a) == _digest(b)


_CHILD = """
import hashlib, warnings
warnings.simplefilter("ignore")
import numpy as np
from monkeysim.learn import metrics as TM
from monkeysim.learn import noise_scale as NS
from monkeysim.learn import train as T
from monkeysim.learn.config import TrainConfig
from monkeysim.learn.params import kernel_params
from monkeysim.learn.params import kernel_params
from monkeysim.policy import CharPolicy
out = []
for kw in (dict(algo="rloo", monkeys=9), dict(algo="ppo", monkeys=40, troop=True),
           dict(algo="grpo", monkeys=5, policy="context", order=2, kl_coef=0.1),
           dict(algo="dr-grpo", monkeys=4, epochs=2),
           dict(algo="reinforce-pp", monkeys=20, troop=True, kl_coef=0.1, kl_estimator="k3")):
    r = T.train(T.TrainConfig(batch=3, seed=11, stop="budget", max_reviewer_calls=STEPS * 3
                              * kw["monkeys"], **kw), "HI THERE", "upper27")
    h = hashlib.sha256()
    for name in TM.METRICS:
        h.update(np.ascontiguousarray(r.metrics[name]).tobytes())
    h.update(r.policy.theta.tobytes())
    out.append(h.hexdigest())
print(" ".join(out))
"""


def _child(env_extra: dict, steps: int) -> str:
    env = dict(os.environ, **env_extra)
    p = subprocess.run([sys.executable, "-c", _CHILD.replace("STEPS", str(steps))],
                       capture_output=True, text=True, env=env, timeout=900)
    assert p.returncode == 0, p.stderr
    return p.stdout.strip()


def test_one_and_two_threads_identical_subprocess():
    """Independent monkeys, a troop (3 gradient chunks) and a context policy: byte-identical
    metrics and logits with NUMBA_NUM_THREADS=1 and 2."""
    assert _child({"NUMBA_NUM_THREADS": "1"}, 8) == _child({"NUMBA_NUM_THREADS": "2"}, 8)


@pytest.mark.parity
def test_jit_and_pure_python_agree():
    """Two training steps with the kernels compiled and as plain Python."""
    assert _child({"NUMBA_DISABLE_JIT": "1"}, 2) == _child({}, 2)


# --- bad input -------------------------------------------------------------------------------

@pytest.mark.parametrize("kw, fragment", [
    (dict(lr=0), "learning rate lr must be a positive finite number, got 0"),
    (dict(lr=-0.5), "learning rate lr must be a positive finite number"),
    (dict(lr=float("nan")), "got nan"),
    (dict(lr=float("inf")), "got inf"),
    (dict(kl_coef=-0.1), "KL coefficient β (kl_coef) must be a finite number ≥ 0"),
    (dict(kl_coef=float("nan")), "KL coefficient"),
    (dict(entropy_coef=-1), "entropy coefficient"),
    (dict(algo="rloo", batch=1), "rloo needs at least 2 documents per group"),
    (dict(algo="grpo", batch=1), "grpo needs at least 2 documents per group"),
    (dict(algo="grpo", batch=1, monkeys=3, troop=True, max_reviewer_calls=10**5), None),
    (dict(algo="sarsa"), "unknown algorithm 'sarsa'; choose from reinforce, rloo, grpo, "
                         "ppo, dr-grpo, reinforce-pp"),
    (dict(reward="bleu"), "unknown reward 'bleu'"),
    (dict(optimizer="rmsprop"), "unknown optimizer"),
    (dict(policy="transformer"), "unknown policy"),
    (dict(order=2), "needs --policy context"),
    (dict(algo="rloo", epochs=3), "epochs > 1 needs a clipped algorithm"),
    (dict(policy="context", order=2, kl_estimator="exact"), "exact KL gradient needs"),
    (dict(batch=0), "batch must be a positive integer"),
    (dict(monkeys=2.5), "monkeys must be a positive integer"),
    (dict(max_reviewer_calls=3, batch=4), "below one step"),
    (dict(seed=-1), "seed"),
    (dict(clip=0), "clip"),
    (dict(adam_betas=(0.9, 1.0)), "adam_betas"),
    (dict(threads=10**6), "threads must be between 1 and"),
])
def test_bad_config(kw, fragment):
    if fragment is None:  # a troop of 3 monkeys with batch 1 is a group of 3: fine
        T.TrainConfig(**kw)
        return
    with pytest.raises(InvalidInput) as err:
        T.TrainConfig(**kw)
    assert fragment in str(err.value)
    assert "\n" not in str(err.value)


def test_bad_policies_and_targets():
    spec_wrong = PolicySpec("positional", 4, 27)
    with pytest.raises(InvalidInput, match="reference policy has the wrong shape"):
        T.train(T.TrainConfig(kl_coef=0.1), "TO BE", "upper27",
                reference=CharPolicy.uniform(spec_wrong))
    with pytest.raises(InvalidInput, match="reference policy has the wrong shape"):
        T.train(T.TrainConfig(policy="context", order=2), "TO BE", "upper27",
                reference=CharPolicy.context(5, 27, order=3))
    with pytest.raises(InvalidInput, match="initial policy has the wrong shape"):
        T.train(T.TrainConfig(), "TO BE", "upper27", init=CharPolicy.uniform(spec_wrong))
    with pytest.raises(InvalidInput, match="cannot spread 3 policies over 2"):
        T.train(T.TrainConfig(monkeys=2), "TO BE", "upper27",
                init=CharPolicy.positional(5, 27, policies=3))
    with pytest.raises(InvalidInput, match="empty"):
        T.train(T.TrainConfig(), "")
    with pytest.raises(InvalidInput, match="'ab' are not in alphabet"):
        T.train(T.TrainConfig(), "ab", "upper27")
    with pytest.raises(InvalidInput, match="logits; at most"):
        T.check(T.TrainConfig(monkeys=200_000, max_reviewer_calls=10**7), "METHINKS", "upper27")
    T.check(T.TrainConfig(monkeys=100_000, troop=True, max_reviewer_calls=10**7), "METHINKS",
            "upper27")  # one shared policy is small
    with pytest.raises(InvalidInput, match="keystrokes per step"):
        T.check(T.TrainConfig(monkeys=100_000, troop=True, batch=100,
                              max_reviewer_calls=10**8), "METHINKS", "upper27")
    with pytest.raises(InvalidInput, match="single policy"):
        NS.policy_gradient_samples(T.TrainConfig(), "TO BE", CharPolicy.positional(5, 27, 2), 3,
                                  "upper27")


# --- CLI -------------------------------------------------------------------------------------

def test_cli_train_writes_csv_sidecar_figure_and_json(tmp_path):
    out = tmp_path / "run"
    p = run_cli("train", "TO BE", "--algo", "rloo", "--reward", "hamming", "--seed", "5",
                "--out", out, "--json")
    assert p.returncode == 0, p.stderr
    s = json.loads(p.stdout)
    for key in ("solved", "reviewer_calls", "keystrokes", "steps"):
        assert key in s
    assert s["solved"] and s["keystrokes"] == s["reviewer_calls"] * 5 and s["out"] == str(out)
    lib = T.train(T.TrainConfig(algo="rloo", seed=5), "TO BE", "upper27")
    assert s["reviewer_calls"] == lib.reviewer_calls and s["steps"] == lib.steps
    with open(out / "train.csv", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == list(TM.METRICS) and len(rows) == 1 + s["steps"]
    meta = json.loads((out / "train.json").read_text())
    assert meta["train_config"]["algo"] == "rloo" and meta["seed"] == 5
    assert meta["summary"]["solved"] and set(meta["columns"]) == set(TM.METRICS)
    assert (out / "convergence.png").read_bytes()[:4] == b"\x89PNG"
    # the same command again refuses to overwrite, and --overwrite replaces
    assert_clean_error(run_cli("train", "TO BE", "--out", out), "--overwrite")
    assert run_cli("train", "TO BE", "--out", out, "--overwrite").returncode == 0


def test_cli_train_default_out_dir_and_table(tmp_path):
    p = run_cli("train", "--builtin", "to-be", "--algo", "ppo", "--monkeys", "3", "--troop",
                "--batch", "4", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    runs = list((tmp_path / "runs").iterdir())
    assert len(runs) == 1 and runs[0].name.startswith("train-")
    assert str(runs[0].relative_to(tmp_path)) in p.stdout
    assert "solved" in p.stdout and "greedy document" in p.stdout
    assert (runs[0] / "train.csv").exists()


@pytest.mark.parametrize("args, fragment", [
    (["--lr", "0"], "learning rate lr must be a positive finite number"),
    (["--lr", "nan"], "got nan"),
    (["--lr", "fast"], "not a number"),
    (["--kl-coef", "-1"], "KL coefficient"),
    (["--algo", "rloo", "--batch", "1"], "rloo needs at least 2 documents"),
    (["--algo", "grpo", "--batch", "1"], "grpo needs at least 2 documents"),
    (["--algo", "sarsa"], "invalid choice: 'sarsa'"),
    (["--reward", "bleu"], "invalid choice: 'bleu'"),
    (["--order", "2"], "needs --policy context"),
    (["--monkeys", "0"], "monkeys must be a positive integer"),
    (["--alphabet", "lower27"], "not in alphabet 'lower27'"),
    (["--threads", "4096"], "threads must be between 1 and"),
    (["--policy", "context", "--order", "7"], "logits per policy are allowed"),
    (["--monkeys", "300000", "--max-reviewer-calls", "1e7"], "logits; at most"),
])
def test_cli_train_bad_input(tmp_path, args, fragment):
    p = run_cli("train", "TO BE", "--out", tmp_path / "x", *args, cwd=tmp_path)
    assert_clean_error(p, fragment)
    assert not (tmp_path / "x").exists() and not (tmp_path / "runs").exists()


def test_cli_train_needs_a_target(tmp_path):
    assert_clean_error(run_cli("train", cwd=tmp_path), "give a target")
    assert_clean_error(run_cli("train", "X", "--builtin", "weasel", cwd=tmp_path), "not both")


def test_cli_bench_learning_small(tmp_path):
    out = tmp_path / "bench"
    p = run_cli("bench", "learning", "--seeds", "2", "--no-speed", "--max-reviewer-calls",
                "3000", "--json", "--out", out)
    assert p.returncode == 0, p.stderr
    res = json.loads(p.stdout)
    methods = res["methods"]
    for name in (*TC.ALGOS, "weasel", "weasel-latching", "coordinate", "rloo-exact"):
        m = methods[name]
        assert {"median_reviewer_calls", "q25", "q75", "solved", "seeds"} <= set(m)
        assert m["seeds"] == 2
    assert methods["rloo-exact"]["solved"] == 0 and methods["rloo-exact"]["max_grad_norm"] == 0
    assert methods["coordinate"]["solved"] == 2
    assert res["exact_short"]["gradient_zero_until_first_hit"]
    assert set(res["vs_rloo"]) == set(TC.ALGOS) - {"rloo"}
    for algo, v in res["vs_rloo"].items():
        calls = [c or 3000 for c in methods[algo]["reviewer_calls"]]
        base = [c or 3000 for c in methods["rloo"]["reviewer_calls"]]
        assert v["ratio"] == pytest.approx(np.median(calls) / np.median(base))
        assert v["ci"][0] <= v["ci"][1]
    for algo in ("dr-grpo", "reinforce-pp"):
        g = res["goals"][f"{algo}_over_rloo"]
        assert g["met"] == (g["ci"][1] <= 1.5) and g["measured"] == res["vs_rloo"][algo]["ratio"]
    assert "grpo_over_rloo" not in res["goals"]
    assert json.loads((out / "bench_learning.json").read_text())["methods"].keys() == \
        methods.keys()
    with open(out / "bench_learning_runs.csv", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["method", "seed", "reviewer_calls", "solved"]
    assert len(rows) == 1 + 2 * len(methods)
    assert_clean_error(run_cli("bench", "learning", "--seeds", "0"), "seeds")
    assert_clean_error(run_cli("bench", "learning", "--seeds", "2", "--out", out), "--overwrite")


def test_track_kl_off_skips_only_the_context_kl():
    """track_kl=False: a context policy learns the same θ; its KL and entropy columns are NaN."""
    kw = dict(algo="rloo", policy="context", order=2, batch=8, seed=3, stop="budget",
              max_reviewer_calls=8 * 12)
    on = T.train(T.TrainConfig(**kw), "TO BE", "upper27")
    off = T.train(T.TrainConfig(**kw, track_kl=False), "TO BE", "upper27")
    np.testing.assert_array_equal(on.policy.theta, off.policy.theta)
    assert np.isfinite(on.metrics["kl_exact"]).all()
    assert np.isnan(off.metrics["kl_exact"]).all() and np.isnan(off.metrics["entropy"]).all()
    np.testing.assert_array_equal(on.metrics["greedy_correct"], off.metrics["greedy_correct"])
    with pytest.raises(InvalidInput, match="track_kl"):
        T.TrainConfig(track_kl="no")
