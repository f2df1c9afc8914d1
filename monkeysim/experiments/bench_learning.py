"""`monkeysim bench learning`: how many reviewer calls until the monkeys know the weasel?

Learning efficiency. Every method types the weasel sentence (``upper27``, A = 27, L = 28)
for the same hamming reviewer and is charged one reviewer call per scored document; the
count stops when the *greedy* document (argmax of the policy; the parent for Dawkins' weasel;
the current document for coordinate search) is the target. Median and interquartile range
over ``seeds`` runs (seeds ``seed0 .. seed0 + seeds − 1``; the trainer defaults were tuned
on seeds 100-179):

- every algorithm of :data:`~monkeysim.learn.algorithms.ALGORITHMS` (``reinforce``, ``rloo``,
  ``grpo``, ``ppo``, ``dr-grpo``, ``reinforce-pp``): one monkey, the
  :class:`~monkeysim.learn.train.TrainConfig` defaults (positional policy, SGD, batch 16,
  per-algorithm learning rate), and each one's median ÷ RLOO's with a 95 % bootstrap interval
  (``vs_rloo``; the goal for the variants Dr. GRPO and REINFORCE++: ≤ 1.5, the interval's
  upper end included);
- ``weasel`` / ``weasel-latching``: Dawkins' program, 100 offspring, mutation rate 0.05;
- ``coordinate``: coordinate search with perfect bookkeeping (≈ L·(A+1)/2 calls);
- ``random``: random documents, exact theory only (A**L = 27**28 calls on average);
- ``rloo-exact``: RLOO with *exact* (sparse) bananas on the same sentence: no document ever
  earns a banana, every group has zero reward spread, the gradient is exactly zero and the
  policy never moves. The ``exact_short`` section repeats this on the 2-key prefix ``ME``,
  where hits do happen: the gradient is zero until the first hit and learning starts there.

Speed. Reviewer calls per second of the numba trainer against :func:`numpy_reinforce`, a
plain vectorised numpy implementation of the same REINFORCE step (sample, score, running-
mean baseline, score-function gradient, SGD, and the same per-step metrics), timed side by
side in this process (best of ``repeats`` after a warm-up) on two workloads: one monkey
(the setting of the efficiency table) and 64 monkeys (numpy's best case: one vectorised step
for all monkeys).
"""

from __future__ import annotations

import math
import os
import time

import numba
import numpy as np

from .. import baselines, texts
from ..alphabet import named
from ..learn.algorithms import ALGORITHMS, ALGOS
from ..learn.train import TrainConfig, train
from ..results import sidecar, write_json, write_table
from ..reward import make_reviewer
from .compare_stats import ratio_ci

TARGET = texts.get("weasel")
ALPHABET = "upper27"
GOALS = {"best_rl_median_max": 600, "weasel_over_best_min": 10.0,
         "best_over_coordinate_max": 2.0, "numba_over_numpy_min": 5.0,
         "over_rloo_max": 1.5}
SPEED_WORKLOADS = (("one monkey", 1, 16, 2000), ("64 monkeys", 64, 16, 100))
FILES = ["bench_learning.json", "bench_learning_runs.csv", "bench_learning_runs.json"]


def _stats(calls, solved) -> dict:
    """Median and quartiles of reviewer calls; unsolved runs count as +∞ (None in JSON)."""
    x = np.where(np.asarray(solved, dtype=bool), np.asarray(calls, dtype=float), np.inf)
    with np.errstate(invalid="ignore"):  # interpolating between two +∞ gives NaN: still +∞
        q = np.quantile(x, [0.25, 0.5, 0.75], method="linear")
    q25, q50, q75 = (float(v) if not math.isnan(v) else math.inf for v in q)
    fin = lambda v: v if math.isfinite(v) else None  # noqa: E731
    return {"median_reviewer_calls": fin(q50), "q25": fin(q25), "q75": fin(q75),
            "solved": int(np.sum(solved)), "seeds": int(len(x)),
            "reviewer_calls": [int(c) if s else None for c, s in zip(calls, solved,
                                                                       strict=True)]}


def _trainer_runs(algo: str, reward: str, seeds, budget: int, target: str = TARGET):
    rows = []
    for s in seeds:
        res = train(TrainConfig(algo=algo, reward=reward, seed=s, max_reviewer_calls=budget),
                    target, named(ALPHABET))
        rows.append(res)
    return rows


TUNING_SEEDS = range(100, 180)  # the seeds the default step sizes were tuned on
CHECK_SEEDS = range(200, 280)  # fresh seeds replaying the choice and its grid neighbours


def lr_bowl(algo: str, grid, seeds=TUNING_SEEDS, budget: int = 20_000) -> list[dict]:
    """The step-size bowl of ``algo`` as the defaults were tuned: for every step size of
    ``grid`` (SGD, one monkey, batch 16, hamming bananas on the weasel) the median reviewer
    calls until solved over ``seeds``, an unsolved run counted at the budget."""
    out = []
    for lr in grid:
        calls = [r.reviewer_calls if r.solved else budget
                 for r in (train(TrainConfig(algo=algo, lr=lr, seed=s,
                                             max_reviewer_calls=budget), TARGET,
                                 named(ALPHABET)) for s in seeds)]
        out.append({"lr": float(lr), "median_reviewer_calls": float(np.median(calls)),
                    "solved": int(sum(c < budget for c in calls)), "seeds": len(calls)})
    return out


def efficiency(seeds: int = 20, seed0: int = 0, budget: int = 20_000) -> dict:
    """The learning-efficiency table (``methods``) and the sparse-bananas sections."""
    seed_list = list(range(seed0, seed0 + seeds))
    methods: dict[str, dict] = {}
    timing: dict[str, float] = {}
    for algo in ALGOS:
        t0 = time.perf_counter()
        runs = _trainer_runs(algo, "hamming", seed_list, budget)
        timing[algo] = time.perf_counter() - t0
        c = runs[0].config
        methods[algo] = {**_stats([r.reviewer_calls for r in runs], [r.solved for r in runs]),
                         "kind": "learning", "reward": "hamming", "monkeys": c.monkeys,
                         "batch": c.batch, "optimizer": c.optimizer, "lr": c.lr,
                         "epochs": c.n_epochs, "budget": budget}
    for name, fn, kw in (("weasel", baselines.weasel, {"latching": False}),
                         ("weasel-latching", baselines.weasel, {"latching": True}),
                         ("coordinate", baselines.coordinate_search, {})):
        t0 = time.perf_counter()
        runs = fn(TARGET, ALPHABET, seeds=seed_list, max_reviewer_calls=1_000_000, **kw)
        timing[name] = time.perf_counter() - t0
        methods[name] = {**_stats(runs.reviewer_calls.tolist(), runs.solved.tolist()),
                         "kind": "baseline", "reward": "hamming", **runs.params}
    methods["coordinate"]["expected_reviewer_calls"] = baselines.coordinate_expected_calls(
        len(TARGET), named(ALPHABET).size)

    # sparse bananas on the weasel: no hit, no gradient, no learning
    n_exact = min(seeds, 5)
    t0 = time.perf_counter()
    runs = _trainer_runs("rloo", "exact", seed_list[:n_exact], budget)
    timing["rloo-exact"] = time.perf_counter() - t0
    methods["rloo-exact"] = {
        **_stats([r.reviewer_calls for r in runs], [r.solved for r in runs]),
        "kind": "learning", "reward": "exact", "budget": budget,
        "exact_hits": int(sum(int(r.metrics["exact_hits"].sum()) for r in runs)),
        "frac_reward_zero_std": float(np.mean([r.metrics["frac_reward_zero_std"].mean()
                                               for r in runs])),
        "max_grad_norm": float(max(r.metrics["grad_norm"].max() for r in runs)),
        "max_abs_theta": float(max(np.abs(r.policy.theta).max() for r in runs)),
    }
    random = baselines.random_typing_theory(TARGET, ALPHABET)
    return {"methods": methods, "exact_short": exact_short(seed_list, budget),
            "random_typing_theory": {"median_reviewer_calls": random.median,
                                     "q25": random.q25, "q75": random.q75,
                                     "mean_reviewer_calls": random.mean,
                                     "log10_mean_reviewer_calls": random.log10_mean},
            "seconds": timing}


def exact_short(seed_list, budget: int, prefix: int = 2) -> dict:
    """Exact bananas on a short prefix of the weasel: the gradient is exactly zero before
    the first hit (θ stays at 0, KL to the start stays 0), and learning starts with it."""
    target = TARGET[:prefix]
    runs = _trainer_runs("rloo", "exact", seed_list, budget, target)
    first_hit, first_grad, solved, silent = [], [], [], True
    for r in runs:
        m = r.metrics
        hit = np.flatnonzero(m["exact_hits"] > 0)
        moved = np.flatnonzero(m["grad_norm"] > 0)
        h = int(hit[0]) if hit.size else None
        g = int(moved[0]) if moved.size else None
        first_hit.append(None if h is None else int(m["reviewer_calls"][h]))
        first_grad.append(None if g is None else int(m["reviewer_calls"][g]))
        solved.append(r.reviewer_calls if r.solved else None)
        end = h if h is not None else r.steps
        silent &= bool(np.all(m["grad_norm"][:end] == 0) and np.all(m["kl_exact"][:end] == 0))
    return {"target": target, "alphabet_size": named(ALPHABET).size,
            "expected_calls_to_first_hit": named(ALPHABET).size ** prefix,
            "first_hit_reviewer_calls": first_hit, "first_gradient_reviewer_calls": first_grad,
            "solved_reviewer_calls": solved,
            "gradient_zero_until_first_hit": silent and first_hit == first_grad,
            "median_first_hit": _median(first_hit), "median_solved": _median(solved)}


def _median(xs):
    v = [x for x in xs if x is not None]
    return float(np.median(v)) if len(v) == len(xs) and v else None


# --- the same REINFORCE step in plain numpy -------------------------------------------------

def numpy_reinforce(codes: np.ndarray, alphabet_size: int, monkeys: int, batch: int,
                    steps: int, lr: float, decay: float = 0.9, seed: int = 0) -> dict:
    """REINFORCE with the running-mean baseline for ``monkeys`` independent positional
    policies, vectorised over monkeys, documents and positions; hamming bananas, SGD.

    Each step does what the numba trainer does: sample ``batch`` documents per monkey by
    inverse CDF, score them, advantages ``r − b`` (bias-corrected EMA of earlier batch
    means), the score-function gradient ``(1/K) Σ_j adv_j (e_{x_ji} − p_i)`` (scattered with
    ``np.bincount``), an SGD step, new tables, and the per-step metrics (reward mean/std,
    exact hits, greedy correct keys, exact KL to the start and entropy, k1/k3 estimates,
    zero-std groups, gradient norm). Returns the last step's metrics.
    """
    rng = np.random.default_rng(seed)
    m, k, length, a = monkeys, batch, len(codes), alphabet_size
    codes = np.asarray(codes, dtype=np.int64)
    theta = np.zeros((m, length, a))
    logq = np.full((length, a), -math.log(a))
    qprob = np.exp(logq)
    base = np.zeros((m, 2))
    offsets = (np.arange(m)[:, None, None] * length + np.arange(length)[None, None, :]) * a
    pos = np.arange(length)

    def tables(th):
        mx = th.max(-1, keepdims=True)
        e = np.exp(th - mx)
        s = e.sum(-1, keepdims=True)
        return th - mx - np.log(s), e / s

    logp, prob = tables(theta)
    out: dict = {}
    for _ in range(steps):
        cdf = np.cumsum(prob, -1)
        u = rng.random((m, k, length))
        docs = (u[..., None] >= cdf[:, None, :, :-1]).sum(-1)
        hits = docs == codes
        r = hits.mean(-1)
        lp_tok = logp[np.arange(m)[:, None, None], pos, docs]
        d = logq[pos, docs] - lp_tok
        k1 = (-d).sum(-1)
        k3 = (qprob[pos, docs] / np.exp(lp_tok) - 1.0 - d).sum(-1)
        w = base[:, 1]
        b = np.divide(base[:, 0], w, out=np.zeros(m), where=w > 0)
        adv = r - b[:, None]
        g = np.bincount((offsets + docs).ravel(), weights=np.repeat(adv.ravel(), length),
                        minlength=m * length * a).reshape(m, length, a)
        grad = (g - adv.sum(1)[:, None, None] * prob) / k
        gnorm = np.sqrt((grad**2).sum((1, 2)))
        theta += lr * grad
        base[:, 0] = decay * base[:, 0] + (1 - decay) * r.mean(1)
        base[:, 1] = decay * base[:, 1] + (1 - decay)
        logp, prob = tables(theta)
        correct = (theta.argmax(-1) == codes).sum(-1)
        out = {"reward_mean": float(r.mean()), "reward_std": float(r.std()),
               "exact_hits": int(hits.all(-1).sum()), "greedy_correct": int(correct.max()),
               "greedy_correct_mean": float(correct.mean()),
               "kl_exact": float((prob * (logp - logq)).sum((1, 2)).mean()),
               "entropy": float(-(prob * logp).sum((1, 2)).mean()),
               "kl_k1": float(k1.mean()), "kl_k3": float(k3.mean()),
               "frac_reward_zero_std": float((r.max(1) == r.min(1)).mean()),
               "grad_norm": float(gnorm.mean())}
    return out


def _best(fn, repeats: int):
    """(best wall seconds of ``repeats`` calls of ``fn()``, the last call's result)."""
    best, out = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def speed(repeats: int = 3, seed: int = 0) -> dict:
    """Reviewer calls per second: numba trainer (1 thread, all threads) vs numpy."""
    alpha = named(ALPHABET)
    codes = alpha.encode(TARGET)
    lr = TrainConfig(algo="reinforce").lr
    threads = numba.get_num_threads()
    make_reviewer("hamming", TARGET, alpha)
    rows = []
    for name, m, k, steps in SPEED_WORKLOADS:
        calls = m * k * steps
        cfg = dict(algo="reinforce", reward="hamming", monkeys=m, batch=k, lr=lr,
                   optimizer="sgd", stop="budget", max_reviewer_calls=calls, seed=seed)
        rates, final = {}, {}
        for label, t in (("numba_1t", 1), ("numba_nt", threads)):
            if label == "numba_nt" and (m == 1 or threads == 1):
                continue
            tc = TrainConfig(**cfg, threads=t)
            train(TrainConfig(**{**cfg, "max_reviewer_calls": m * k}, threads=t), TARGET,
                  alpha)  # warm-up: compile or load the cache
            sec, res = _best(lambda tc=tc: train(tc, TARGET, alpha), repeats)
            rates[label] = calls / sec
            last = res.metrics
            final[label] = {"reward_mean": float(last["reward_mean"][-1]),
                            "greedy_correct_mean": float(last["greedy_correct_mean"][-1]),
                            "kl_exact": float(last["kl_exact"][-1])}
        numpy_reinforce(codes, alpha.size, m, k, 2, lr, seed=seed)  # warm-up
        sec, res = _best(lambda m=m, k=k, steps=steps: numpy_reinforce(
            codes, alpha.size, m, k, steps, lr, seed=seed), repeats)
        rates["numpy"] = calls / sec
        final["numpy"] = {key: res[key] for key in ("reward_mean", "greedy_correct_mean",
                                                         "kl_exact")}
        ratios = {f"{label}/numpy": rates[label] / rates["numpy"]
                  for label in rates if label != "numpy"}
        rows.append({"workload": name, "monkeys": m, "batch": k, "steps": steps,
                     "reviewer_calls": calls, "reviewer_calls_per_second": rates,
                     "ratios": ratios, "final_step": final})
    return {"threads": threads, "cores": _cores(), "lr": lr, "repeats": repeats,
            "workloads": rows}


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def run(seeds: int = 20, seed0: int = 0, budget: int = 20_000, repeats: int = 3,
        with_speed: bool = True) -> dict:
    """The whole benchmark as a JSON-ready dict (see the module docstring)."""
    t0 = time.perf_counter()
    res = {"target": TARGET, "alphabet": ALPHABET, "alphabet_size": named(ALPHABET).size,
           "length": len(TARGET), "seed0": seed0, **efficiency(seeds, seed0, budget)}
    res["vs_rloo"] = vs_rloo(res["methods"], budget)
    res["goals"] = goals(res["methods"])
    for algo in (a for a in res["vs_rloo"] if ALGORITHMS[a].variant_of is not None):
        v, target = res["vs_rloo"][algo], GOALS["over_rloo_max"]
        res["goals"][f"{algo}_over_rloo"] = {"target": target, "measured": v["ratio"],
                                            "ci": v["ci"], "met": v["ci"][1] <= target}
    if with_speed:
        res["speed"] = speed(repeats)
        worst = min(r for w in res["speed"]["workloads"] for lab, r in w["ratios"].items()
                    if lab.startswith("numba_1t"))
        best = max(r for w in res["speed"]["workloads"] for r in w["ratios"].values())
        target = GOALS["numba_over_numpy_min"]
        res["goals"]["numba_over_numpy_1t_worst"] = {"target": target, "measured": worst,
                                                     "met": worst >= target}
        res["goals"]["numba_over_numpy_best"] = {"target": target, "measured": best,
                                                 "met": best >= target}
    res["total_seconds"] = time.perf_counter() - t0
    return res


def vs_rloo(methods: dict, budget: int) -> dict:
    """Median reviewer calls of every other algorithm ÷ RLOO's, with a 95 % bootstrap interval
    (seeds resampled; an unsolved run counted at the budget)."""
    def calls(name):
        return [budget if c is None else c for c in methods[name]["reviewer_calls"]]

    return {a: ratio_ci(calls("rloo"), calls(a), "bench_learning", a)
            for a in ALGOS if a != "rloo"}


def goals(methods: dict) -> dict:
    """The issue's goals for the best RL method (smallest median reviewer calls)."""
    rl = {a: methods[a]["median_reviewer_calls"] for a in ALGOS
          if methods[a]["median_reviewer_calls"] is not None}
    if not rl:
        return {"best_rl": None}
    best = min(rl, key=rl.get)
    b = rl[best]
    weasel = methods["weasel"]["median_reviewer_calls"]
    coord = methods["coordinate"]["median_reviewer_calls"]
    out = {"best_rl": best,
           "best_rl_median": {"target": GOALS["best_rl_median_max"], "measured": b,
                              "met": b <= GOALS["best_rl_median_max"]}}
    if weasel is not None:
        r = weasel / b
        out["weasel_over_best"] = {"target": GOALS["weasel_over_best_min"], "measured": r,
                                   "met": r >= GOALS["weasel_over_best_min"]}
    if coord is not None:
        r = b / coord
        out["best_over_coordinate"] = {"target": GOALS["best_over_coordinate_max"],
                                       "measured": r,
                                       "met": r <= GOALS["best_over_coordinate_max"]}
    return out


def report(res: dict) -> str:
    """The benchmark as a readable table."""
    def f(x):
        return "—" if x is None else f"{x:,.0f}"

    lines = [f"reviewer calls until the greedy document is {res['target']!r} "
             f"({res['alphabet']}, A={res['alphabet_size']}, L={res['length']}); "
             f"median and IQR over seeds", "",
             f"  {'method':<16}{'median':>9}{'q25':>9}{'q75':>9}{'solved':>10}  notes"]
    for name, m in res["methods"].items():
        if m["kind"] == "learning" and m["reward"] == "hamming":
            note = f"{m['optimizer']} lr {m['lr']:g}, batch {m['batch']}, 1 monkey"
        elif name == "rloo-exact":
            note = (f"exact bananas: {m['exact_hits']} hits, zero-std groups "
                    f"{m['frac_reward_zero_std']:.0%}, max |grad| {m['max_grad_norm']:g}")
        elif name == "coordinate":
            note = f"theory ≈ {m['expected_reviewer_calls']:.0f}"
        else:
            note = f"{m['offspring']} offspring, mutation {m['mutation_rate']}"
        lines.append(f"  {name:<16}{f(m['median_reviewer_calls']):>9}{f(m['q25']):>9}"
                     f"{f(m['q75']):>9}{m['solved']:>6}/{m['seeds']:<3}  {note}")
    rt = res["random_typing_theory"]
    lines.append(f"  {'random':<16}{'10^' + format(rt['log10_mean_reviewer_calls'], '.1f'):>9}"
                 f"{'':>9}{'':>9}{'':>10}  exact theory (mean calls), never simulated")
    es = res["exact_short"]
    lines += ["", f"exact bananas on {es['target']!r} (first hit expected after "
              f"{es['expected_calls_to_first_hit']} calls): median first hit "
              f"{f(es['median_first_hit'])}, median solved {f(es['median_solved'])}; gradient "
              f"exactly zero until the first hit: {es['gradient_zero_until_first_hit']}"]
    lines += ["", "median reviewer calls ÷ RLOO's (95 % bootstrap interval over seeds):"]
    for algo, v in res.get("vs_rloo", {}).items():
        lines.append(f"  {algo:<16}{v['ratio']:>6.2f}  [{v['ci'][0]:.2f}, {v['ci'][1]:.2f}]")
    g = res["goals"]
    lines += ["", f"goals (best RL method: {g.get('best_rl')}):"]
    for key, label in (("best_rl_median", "median reviewer calls ≤"),
                       ("weasel_over_best", "weasel / best ≥"),
                       ("best_over_coordinate", "best / coordinate ≤"),
                       ("numba_over_numpy_1t_worst", "numba 1 thread / numpy ≥ (worst)"),
                       ("numba_over_numpy_best", "numba / numpy ≥ (best)")):
        if key in g:
            v = g[key]
            lines.append(f"  {label:<34} {v['target']:<6g} measured {v['measured']:,.2f}  "
                         f"{'ok' if v['met'] else 'MISS'}")
    for key in (k for k in g if k.endswith("_over_rloo")):
        v = g[key]
        lines.append(f"  {key.replace('_', ' ') + ' ≤':<34} {v['target']:<6g} measured "
                     f"{v['measured']:,.2f} [{v['ci'][0]:.2f}, {v['ci'][1]:.2f}]  "
                     f"{'ok' if v['met'] else 'MISS'}")
    if "speed" in res:
        sp = res["speed"]
        lines += ["", f"reviewer calls per second, REINFORCE step, numba trainer vs numpy "
                  f"({sp['threads']} threads on {sp['cores']} cores):"]
        for w in sp["workloads"]:
            rates = ", ".join(f"{k} {v:,.0f}" for k, v in w["reviewer_calls_per_second"].items())
            ratios = ", ".join(f"{k} {v:.1f}×" for k, v in w["ratios"].items())
            lines.append(f"  {w['workload']:<11} (× batch {w['batch']}): {rates}; {ratios}")
    lines.append(f"\n{res['total_seconds']:.1f} s")
    return "\n".join(lines)


def write_outputs(res: dict, out, config: dict):
    """``bench_learning.json`` (the result) and ``bench_learning_runs.csv`` (one row per
    method and seed: reviewer calls until solved, empty if not) with its JSON sidecar."""
    from pathlib import Path

    out = Path(out)
    rows = []
    for name, m in res["methods"].items():
        for j, calls in enumerate(m["reviewer_calls"]):
            rows.append([name, res["seed0"] + j, "" if calls is None else calls,
                         int(calls is not None)])
    meta = sidecar(config, res["seed0"], target=res["target"], alphabet=res["alphabet"],
                   columns={"method": "learning algorithm or baseline",
                            "seed": "root seed of the run",
                            "reviewer_calls": "reviewer calls (documents scored) until the "
                                              "greedy document is the target; empty: not "
                                              "within the budget",
                            "solved": "1 if solved within the budget"})
    write_table(out / FILES[1], ["method", "seed", "reviewer_calls", "solved"], rows, meta)
    write_json(out / FILES[0], res)
    return out / FILES[0]
