"""`monkeysim noise`: how much a reviewer who errs costs, and what a KL leash makes of it.

**Calls until solved.** Monkeys learn the weasel sentence (upper27, L = 28) with hamming
bananas, one monkey, batch 16, SGD, until the greedy document is the target, from

- a *noisy score*: every reported score carries Gaussian noise of σ characters (σ/L in
  reward units), σ ∈ :data:`SIGMAS`, for REINFORCE, RLOO, GRPO and PPO;
- a *noisy preference*: documents 2i and 2i+1 of each batch are compared (one reviewer call
  per pair) and the verdict is wrong with probability ε, ε ∈ :data:`FLIPS`, for the naive,
  de-biased and estimated preference learners (advantages ±1 from the verdicts; RLOO's one
  plain step per batch; see :mod:`monkeysim.learn.train`);
- and Dawkins' weasel (100 offspring, mutation rate 0.05, non-latching) under the same
  score noise (:func:`monkeysim.baselines.weasel`); it has no step size.

Every learner at every noise level gets its own step size: :func:`.tuning.line_search` on
the log grid ``base_lr × 2^k`` (k in ``grid``; ``base_lr`` the algorithm's default, or
:data:`PREFERENCE_LR`) with the objective "reviewer calls until solved" (censored at the
budget), on tuning seeds (:func:`.tuning.tuning_seed`); the reported runs use the seeds
``derived_seed(seed, j)``, the same for every setting (common random numbers).

**The information-theoretic lower bound.** The target holds ``L·log2(A)`` bits (uniform over
A^L documents); a reviewer call carries at most its channel capacity C bits, so at least
``L·log2(A)/C`` calls are needed to identify it. Two capacities are reported:

- ``bound_calls`` (the issue's choice): a preference with flip rate ε is a binary symmetric
  channel, ``C = 1 − H2(ε)``; a Gaussian score has ``C = ½·log2(1 + Var/σ²)`` with Var the
  variance of the true score at the uniform policy, ``L·(1/A)(1 − 1/A)`` characters² — the
  signal power of the first calls; at σ = 0 the score takes L + 1 values,
  ``C = log2(L + 1)``, which also caps C for tiny σ (a noisy score carries no more than the
  score itself).
- ``bound_calls_strict`` (valid for any strategy): the preference reviewer also reports
  ties, a three-symbol channel whose capacity is ``log2(1 + 2^(1 − H2(ε)))``; a score lies
  in [0, L], so its variance is at most L²/4 and ``C = min(log2(L + 1),
  ½·log2(1 + L²/(4σ²)))``.

**The KL leash.** The preference learners with an exact KL leash β to the uniform
reference (positional policy) run a fixed number of steps, one policy per seed (seed j is
monkey j of one independent-monkeys run, stream ``chunk_state(root, j, 5)``), all at the
same step size — the claim is about the fixed point, which does not depend on the step
size (SGD noise shifts the final KL by O(lr)). Measured per seed: the exact final KL(π‖π_ref)
and the exact expected hamming reward ``mean_l p_l(target_l)`` of the final policy. Beside
them, the mean-field fixed point (:func:`preference_fixed_point`): by symmetry every
position holds the same probability q on its target key, and the expected step vanishes
where ``P(D = 0) + P(D = 1) = β_eff · log((A − 1) q / (1 − q))``, D the difference in
correct keys of two documents at the other L − 1 positions; the naive learner at flip rate
ε has ``β_eff = β/(1 − 2ε)``, the de-biased one ``β_eff = β``.

This module runs the study: the cells (tuning and reported runs of one setting, one KL-leash
condition), their checkpoints, and the statistics assembled into a :class:`NoiseResult`. The
configuration lives in :mod:`.noise_config`, the bounds and the fixed point in
:mod:`.noise_theory`, the records in :mod:`.noise_records` and the CSV, figure, summary and
report in :mod:`.noise_report`; their public names are re-exported here.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np

from ..alphabet import named
from ..baselines import weasel
from ..learn.train import TrainConfig, train
from ..policy import CharPolicy
from ..rng import STREAMS, check_seed, derived_seed
from .noise_config import (
    FLIPS,
    LEASH_CONDITIONS,
    PREFERENCE_LR,
    SIGMAS,
    WEASEL,
    NoiseConfig,
    learners,
    leash_setting,
    manifest,
    with_sizes,
)
from .noise_records import LeashStat, NoiseResult, NoiseStat
from .noise_report import COLUMNS, FILES, UNITS, csv_rows, report, write_outputs
from .noise_theory import (
    BoundCurve,
    bound_calls,
    bound_curves,
    capacity,
    h2,
    preference_fixed_point,
)
from .runner import Cell, run_cells
from .tuning import line_search, tuning_seed

CHECKPOINTS = ["manifest.json", "cells"]
PREFERENCE_ALGO = "rloo"
"""The algorithm under the preference learners: one plain score-function step per batch."""
LEASH_KEY = STREAMS["noise_leash"]
"""Spawn-key prefix of the KL-leash runs' root seed (reported cells use ``(j,)``)."""
LIMIT_FACTOR = 2.0**-10
"""A setting whose best step size is the grid's lowest is also run at that × this factor on
the tuning seeds: from a uniform start, SGD's greedy document depends only on the direction
of θ, so calls until solved tend to a finite lr → 0 limit (the learner becomes a counter of
advantage-weighted keys); ``limit_median`` shows whether anything below the grid is better."""


# --- runs -------------------------------------------------------------------------------------

def _train_config(cfg: NoiseConfig, learner: str, noise: str, level: float, lr: float,
                  seed: int, budget: int) -> TrainConfig:
    if learner.startswith("pref-"):
        kw = {"algo": PREFERENCE_ALGO, "preferences": learner[5:], "flip_rate": level}
    else:
        kw = {"algo": learner, "reviewer_noise": level}
    probe = TrainConfig(batch=cfg.batch, **kw)
    return TrainConfig(batch=cfg.batch, lr=lr, optimizer="sgd", seed=seed, stop="solved",
                       max_reviewer_calls=max(int(budget), probe.calls_per_step), **kw)


def _run_one(cfg: NoiseConfig, learner: str, noise: str, level: float, lr: float, seed: int,
             budget: int) -> tuple[int, bool, int]:
    """(reviewer calls until solved or spent, censored, keystrokes) of one training run."""
    res = train(_train_config(cfg, learner, noise, level, lr, seed, budget), cfg.text,
                cfg.alphabet)
    return int(res.reviewer_calls), not res.solved, int(res.keystrokes)


def setting_cell(cfg: NoiseConfig, learner: str, noise: str, level: float, seed: int) -> list:
    """Tune the step size of one setting on the tuning seeds, then run the reported seeds.
    Returns ``[{"tuned": ..., "runs": [...]}]`` (JSON-able, the cell's checkpoint)."""
    length = len(cfg.text)
    if learner == WEASEL:
        seeds = [derived_seed(seed, j) for j in range(cfg.seeds)]
        runs = weasel(cfg.text, cfg.alphabet, seeds=seeds, max_reviewer_calls=cfg.budget,
                      noise=level)
        out = [{"seed": j, "reviewer_calls": int(runs.reviewer_calls[j]),
                "censored": not bool(runs.solved[j]),
                "keystrokes": int(runs.reviewer_calls[j]) * length}
               for j in range(cfg.seeds)]
        return [{"tuned": None, "runs": out}]

    def run(lr: float, j: int, budget: int) -> tuple[float, bool]:
        calls, censored, _ = _run_one(cfg, learner, noise, level, lr, tuning_seed(seed, j),
                                      budget)
        return float(calls), censored

    grid = cfg.lr_grid(learner)
    tuned = line_search(run, grid, cfg.tune_seeds, cfg.budget).to_dict()
    if tuned["edge"] == "low":  # the lr → 0 limit, on the same tuning seeds
        walls = [run(grid[0] * LIMIT_FACTOR, j, cfg.budget) for j in range(cfg.tune_seeds)]
        tuned["limit_lr"] = grid[0] * LIMIT_FACTOR
        limit = float(np.median([w if not c else math.inf for w, c in walls]))
        tuned["limit_median"] = limit if math.isfinite(limit) else float(cfg.budget)
    out = []
    for j in range(cfg.seeds):
        calls, censored, keys = _run_one(cfg, learner, noise, level, tuned["lr"],
                                         derived_seed(seed, j), cfg.budget)
        out.append({"seed": j, "reviewer_calls": calls, "censored": censored,
                    "keystrokes": keys})
    return [{"tuned": tuned, "runs": out}]


def leash_cell(cfg: NoiseConfig, name: str, seed: int) -> list:
    """One KL-leash condition: ``leash_seeds`` independent policies (monkeys of one run, one
    stream each) for ``leash_steps`` steps; returns ``[{"kl": [...], "reward": [...]}]``."""
    prefs, eps, beta = leash_setting(cfg, name)
    m = cfg.leash_seeds
    probe = TrainConfig(algo=PREFERENCE_ALGO, preferences=prefs, flip_rate=eps, monkeys=m,
                        batch=cfg.batch)
    tc = TrainConfig(algo=PREFERENCE_ALGO, preferences=prefs, flip_rate=eps, kl_coef=beta,
                     kl_estimator="exact", monkeys=m, batch=cfg.batch, lr=cfg.leash_lr,
                     optimizer="sgd", stop="budget", seed=derived_seed(seed, LEASH_KEY, 0),
                     max_reviewer_calls=probe.calls_per_step * cfg.leash_steps)
    res = train(tc, cfg.text, cfg.alphabet)
    alpha = named(cfg.alphabet)
    codes = alpha.encode(cfg.text)
    p = res.policy.probs()
    reward = p[:, np.arange(len(codes)), codes].mean(axis=1)
    kl = res.policy.kl(CharPolicy.positional(len(codes), alpha.size))
    return [{"kl": [float(x) for x in kl], "reward": [float(x) for x in reward],
             "steps": int(res.steps)}]


def _cells(cfg: NoiseConfig) -> list[Cell]:
    length, a = len(cfg.text), named(cfg.alphabet).size
    base = bound_calls("sigma", 0.0, length, a)
    cells = []
    for learner, noise, level in learners(cfg):
        weight = min(bound_calls(noise, level, length, a) / base, 200.0)
        cost = weight * (0.2 if learner == WEASEL else cfg.tune_seeds * 6 + cfg.seeds)
        cells.append(Cell(("setting", learner, noise, level), cost))
    for name in LEASH_CONDITIONS:
        cells.append(Cell(("leash", name), cfg.leash_seeds * cfg.leash_steps / 2000))
    return cells


def _stat(cfg: NoiseConfig, learner: str, noise: str, level: float, cell: dict) -> NoiseStat:
    length, a = len(cfg.text), named(cfg.alphabet).size
    runs = cell["runs"]
    calls = np.array([r["reviewer_calls"] for r in runs], dtype=float)
    censored = np.array([r["censored"] for r in runs], dtype=bool)
    q = np.quantile(calls, [0.0, 0.25, 0.5, 0.75, 1.0])
    tuned = cell["tuned"]
    return NoiseStat(
        learner=learner, noise=noise, level=level,
        lr=None if tuned is None else float(tuned["lr"]),
        lr_edge="" if tuned is None else tuned["edge"], runs=len(runs),
        solved=int((~censored).sum()), median=float(q[2]), q25=float(q[1]), q75=float(q[3]),
        min=float(q[0]), max=float(q[4]), median_censored=bool(censored.sum() * 2 > len(runs)),
        capacity_bits=capacity(noise, level, length, a),
        bound_calls=bound_calls(noise, level, length, a),
        bound_calls_strict=bound_calls(noise, level, length, a, strict=True),
        tuning_median=None if tuned is None else float(tuned["median"]),
        limit_median=None if tuned is None else tuned.get("limit_median"))


def run(cfg: NoiseConfig, out: Path, seed: int = 0, resume: bool = False,
        quiet: bool = False) -> NoiseResult:
    """Run every cell (checkpointed in ``out/cells``; ``resume`` keeps finished ones) and
    assemble the result; nothing else is written."""
    seed = check_seed(seed)
    t0 = time.perf_counter()
    cells = _cells(cfg)

    def work(i: int, cell: Cell) -> list:
        t = time.perf_counter()
        if cell.key[0] == "leash":
            (payload,) = leash_cell(cfg, cell.key[1], seed)
        else:
            _, learner, noise, level = cell.key
            (payload,) = setting_cell(cfg, learner, noise, level, seed)
        return [{**payload, "seconds": round(time.perf_counter() - t, 3)}]

    done = run_cells(cells, work, Path(out), manifest(cfg, seed), resume, quiet=quiet,
                     desc="noise")
    rows, stats, leash, tuning = [], [], [], {}
    length, a = len(cfg.text), named(cfg.alphabet).size
    for cell, (payload,) in zip(cells, done, strict=True):
        if cell.key[0] == "leash":
            name = cell.key[1]
            prefs, eps, beta = leash_setting(cfg, name)
            beta_eff = beta / (1.0 - 2.0 * eps) if prefs == "naive" else beta
            fq, fkl = preference_fixed_point(beta_eff, length, a)
            leash.append(LeashStat(name, prefs, eps, beta, beta_eff, tuple(payload["kl"]),
                                   tuple(payload["reward"]), fq, fkl))
            continue
        _, learner, noise, level = cell.key
        st = _stat(cfg, learner, noise, level, payload)
        stats.append(st)
        if payload["tuned"] is not None:
            tuning[f"{learner}/{noise}={level:g}"] = payload["tuned"]
        for r in payload["runs"]:
            rows.append({"learner": learner, "noise": noise, "level": level, **r,
                         "lr": st.lr, "lr_edge": st.lr_edge, "budget": cfg.budget,
                         "capacity_bits": st.capacity_bits, "bound_calls": st.bound_calls,
                         "bound_calls_strict": st.bound_calls_strict})
    compute = sum(float(p.get("seconds", 0.0)) for (p,) in done)
    return NoiseResult(cfg, seed, rows, stats, leash, tuning, time.perf_counter() - t0,
                       compute)


__all__ = ["CHECKPOINTS", "COLUMNS", "FILES", "FLIPS", "LEASH_CONDITIONS", "LEASH_KEY",
           "LIMIT_FACTOR", "PREFERENCE_ALGO", "PREFERENCE_LR", "SIGMAS", "UNITS", "WEASEL",
           "BoundCurve", "LeashStat", "NoiseConfig", "NoiseResult", "NoiseStat",
           "bound_calls", "bound_curves", "capacity", "csv_rows", "h2", "leash_cell",
           "leash_setting", "learners", "manifest", "preference_fixed_point", "report", "run",
           "setting_cell", "with_sizes", "write_outputs"]
