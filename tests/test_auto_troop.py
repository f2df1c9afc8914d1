"""The troop that sizes itself (issue 23): the per-step rule against a plain-Python
reference, the recruited troop at a known noise scale, counting, refusals, same bytes."""

import hashlib
import math
import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import assert_clean_error, run_cli
from naive_auto import first_step, noise_for_next_step, step_choice, trust

from monkeysim.errors import InvalidInput
from monkeysim.learn import auto_troop as AT
from monkeysim.learn.config import TrainConfig
from monkeysim.learn.train import train
from monkeysim.theory import noise_scale_uniform


def _auto(**kw):
    base = dict(monkeys="auto", lr="auto", troop=True, batch=8, max_monkeys=64,
                max_reviewer_calls=40_000, stop="typed", seed=3)
    return TrainConfig(**{**base, **kw})


def test_choose_step_matches_reference():
    rng = np.random.default_rng(5)
    for _ in range(2000):
        b = float(rng.choice([math.nan, -1.0, 0.0, math.inf, *rng.lognormal(4, 2, 4)]))
        batch = int(rng.integers(2, 40))
        cap = int(rng.integers(1, 300))
        prev = int(rng.integers(1, cap + 1))
        per_doc = None if rng.random() < 0.2 else float(rng.lognormal(0, 2))
        got = AT.choose_step(b, batch, cap, prev, 7.5, per_doc)
        want = step_choice(b, batch, cap, prev, 7.5, per_doc)
        assert got[0] == want[0] and got[1] == pytest.approx(want[1], rel=1e-12)


def test_first_step_matches_reference():
    rng = np.random.default_rng(6)
    for _ in range(500):
        length = int(rng.integers(1, 40))
        g = rng.normal(size=(length, 5)) * rng.lognormal(0, 2)
        b1 = int(rng.integers(2, 5000))
        b0 = float(rng.choice([math.nan, -1.0, 0.0, math.inf, *rng.lognormal(4, 2, 4)]))
        got = AT.first_step(g, length, b1, b0)
        want = first_step(float(np.sqrt(np.sum(g * g))), length, b1, b0, AT.FIRST_JUMP)
        assert got == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize("text,reward", [("TO BE OR NOT", "prefix"), ("BANANA", "hamming")])
def test_run_follows_the_rule(text, reward):
    """The measuring step's first SGD step and every later step: N and ε as the reference
    computes them from the run's own logged estimates (one per-document step size c for the
    whole run, from the first step), each step applied within the trust cap (the reference's
    trust, from the logged |Ĝ|)."""
    r = train(_auto(reward=reward, stop="budget", max_reviewer_calls=30_000), text, "upper27")
    m = r.metrics
    n, lr = list(m["monkeys"]), list(m["lr"])
    assert n[0] == AT.first_monkeys(r.config) == 8  # the measuring step
    b0 = noise_for_next_step(m["grad_sq"][:1], m["trace_sigma"][:1], False)
    rule_lr, per_doc = first_step(m["grad_norm"][0], len(text), 8 * 8, b0, AT.FIRST_JUMP)
    assert lr[0] == pytest.approx(rule_lr, rel=1e-9) and per_doc > 0
    checked = 0
    for t in range(1, r.steps):
        b = noise_for_next_step(m["grad_sq"][:t], m["trace_sigma"][:t],
                                m["frac_reward_zero_std"][t - 1] == 1)
        want_n, rule_lr = step_choice(b, 8, 64, n[t - 1], rule_lr, per_doc)
        want_lr = trust(rule_lr, m["grad_norm"][t], len(text), AT.FIRST_JUMP, AT.TRUST)
        assert n[t] == want_n, t
        assert lr[t] == pytest.approx(want_lr, rel=1e-9), t
        checked += 1
    assert checked >= 5
    # counting: the documents column is the sum of every step's N × batch
    assert list(m["reviewer_calls"]) == list(np.cumsum(np.array(n) * 8))


def test_trust_cap_bounds_every_step(monkeypatch):
    """With a first jump of 1/2 the cap binds: the first step moves a position's logits by
    exactly 1/2 in root-mean-square, no later step by more than TRUST / 2, and some later
    steps are cut to exactly that."""
    monkeypatch.setattr(AT, "FIRST_JUMP", 0.5)
    text = "TO BE OR NOT"
    r = train(_auto(reward="prefix", stop="budget", max_reviewer_calls=30_000), text,
              "upper27")
    m = r.metrics
    rms = m["lr"] * m["grad_norm"] / math.sqrt(len(text))
    assert rms[0] == pytest.approx(0.5, rel=1e-9)
    bound = AT.TRUST * 0.5
    assert np.all(rms[1:] <= bound * (1 + 1e-9)), rms
    assert np.sum(np.isclose(rms[1:], bound, rtol=1e-9)) >= 2, rms


def test_recruits_the_predicted_troop_at_the_known_noise_scale():
    """Uniform policy, hamming bananas, RLOO: B_simple has a closed form
    (theory.noise_scale_uniform). With a step size so small that the policy stays uniform,
    the measuring step's estimates agree with it (z-test on the ratio of means over seeds,
    delta-method standard error) and the troop recruited next is round(0.9 · B / batch)."""
    text, batch, seeds = "ABCDEFGH", 8, 60
    g, t, recruited = [], [], []
    for seed in range(seeds):
        cfg = TrainConfig(monkeys="auto", lr=1e-9, troop=True, batch=batch, max_monkeys=64,
                          reward="hamming", stop="budget", max_reviewer_calls=64 + 512,
                          seed=seed)
        r = train(cfg, text, alphabet_chars="ABCDEFGH")
        g.append(r.metrics["grad_sq"][0])
        t.append(r.metrics["trace_sigma"][0])
        recruited.append(int(r.metrics["monkeys"][1]))
    theory = noise_scale_uniform(8, 8, "loo", group=8 * batch)
    g, t = np.array(g), np.array(t)
    b = t.mean() / g.mean()
    cov = np.cov(np.stack([t, g]))
    se = math.sqrt((cov[0, 0] - 2 * b * cov[0, 1] + b * b * cov[1, 1]) / seeds) / g.mean()
    assert abs(b - theory.b_simple) < 4 * se, (b, theory.b_simple, se)
    predicted = int(AT.TROOP_SHARE * theory.b_simple / batch + 0.5)
    assert abs(float(np.median(recruited)) - predicted) <= 1, (recruited, predicted)


def test_typed_counts():
    r = train(_auto(), "BANANA", "upper27")
    assert r.typed
    m = r.metrics
    step = -(-r.typed_wall_reviewer_calls // 8)
    assert step == r.steps
    before = int(m["reviewer_calls"][step - 2]) if step > 1 else 0
    assert r.typed_reviewer_calls == before + int(m["monkeys"][step - 1]) * (
        r.typed_wall_reviewer_calls - (step - 1) * 8)


@pytest.mark.parametrize("kw,fragment", [
    (dict(troop=False), "needs a troop"),
    (dict(max_monkeys=0), "max_monkeys must be a positive integer"),
    (dict(optimizer="adam"), "lr=auto needs optimizer sgd"),
    (dict(monkeys="many"), "monkeys must be a number or 'auto'"),
    (dict(policy="context", order=2), "positional policy"),
])
def test_config_refusals(kw, fragment):
    with pytest.raises(InvalidInput, match=fragment):
        _auto(**kw)


@pytest.mark.parametrize("args,fragment", [
    (["--monkeys", "auto"], "needs a troop"),
    (["--troop", "--monkeys", "auto", "--max-monkeys", "0"], "max_monkeys"),
    (["--troop", "--lr", "auto", "--optimizer", "adam"], "needs optimizer sgd"),
    (["--troop", "--monkeys", "auto", "--batch", "1"], "batch ≥ 2"),
])
def test_cli_refusals_write_nothing(tmp_path, args, fragment):
    out = tmp_path / "run"
    p = run_cli("train", "TO BE", *args, "--out", out)
    assert_clean_error(p, fragment)
    assert not out.exists()


def test_cli_writes_monkeys_and_lr(tmp_path):
    out = tmp_path / "run"
    p = run_cli("train", "BANANA", "--troop", "--monkeys", "auto", "--lr", "auto",
                "--max-monkeys", "16", "--stop", "typed", "--out", out)
    assert p.returncode == 0, p.stderr
    header = (out / "train.csv").read_text().splitlines()[0].split(",")
    assert header[-2:] == ["monkeys", "lr"]
    assert "auto troop: N from" in p.stdout
    assert (out / "convergence.png").stat().st_size > 0


_CHILD = """
import hashlib
import numpy as np
from monkeysim.learn.config import TrainConfig
from monkeysim.learn.train import train
h = hashlib.sha256()
for reward in ("prefix", "hamming"):
    r = train(TrainConfig(monkeys="auto", lr="auto", troop=True, batch=4, max_monkeys=100,
                          reward=reward, stop="budget", max_reviewer_calls=20_000, seed=7),
              "HELLO THERE", "upper27")
    for v in r.metrics.values():
        h.update(np.ascontiguousarray(v).tobytes())
    h.update(r.policy.theta.tobytes())
print(h.hexdigest())
"""


def test_same_bytes_on_one_and_two_threads():
    """A troop of up to 100 monkeys (7 gradient chunks) and the first step: byte-identical
    metrics and logits with NUMBA_NUM_THREADS=1 and 2."""
    out = []
    for threads in ("1", "2"):
        p = subprocess.run([sys.executable, "-c", _CHILD], capture_output=True, text=True,
                           env=dict(os.environ, NUMBA_NUM_THREADS=threads), timeout=900)
        assert p.returncode == 0, p.stderr
        out.append(p.stdout.strip())
    assert out[0] == out[1]
    assert len(out[0]) == len(hashlib.sha256().hexdigest())
