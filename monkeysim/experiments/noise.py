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
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from .. import texts
from ..alphabet import named
from ..baselines import weasel
from ..errors import InvalidInput, nonneg_float, positive_float, positive_int
from ..learn.algorithms import ALGOS, BASE_ALGOS
from ..learn.config import DEFAULT_LR, PREFERENCES
from ..learn.train import TrainConfig, train
from ..policy import CharPolicy
from ..results import sidecar, write_json, write_table
from ..rng import STREAMS, check_seed, derived_seed
from .runner import Cell, run_cells
from .tuning import line_search, tuning_seed

FILES = ["noise.csv", "noise.json", "noise.png", "summary.json"]
CHECKPOINTS = ["manifest.json", "cells"]
SIGMAS = (0.0, 0.5, 1.0, 2.0, 4.0)
"""Gaussian score noise σ, characters."""
FLIPS = (0.0, 0.1, 0.2, 0.3, 0.4)
"""Preference flip rates ε."""
PREFERENCE_LR = 1.0
"""Base step size of the preference learners' grid (advantages ±1)."""
PREFERENCE_ALGO = "rloo"
"""The algorithm under the preference learners: one plain score-function step per batch."""
LEASH_KEY = STREAMS["noise_leash"]
"""Spawn-key prefix of the KL-leash runs' root seed (reported cells use ``(j,)``)."""
WEASEL = "weasel"
LIMIT_FACTOR = 2.0**-10
"""A setting whose best step size is the grid's lowest is also run at that × this factor on
the tuning seeds: from a uniform start, SGD's greedy document depends only on the direction
of θ, so calls until solved tend to a finite lr → 0 limit (the learner becomes a counter of
advantage-weighted keys); ``limit_median`` shows whether anything below the grid is better."""

COLUMNS = ["learner", "noise", "level", "seed", "lr", "lr_edge", "reviewer_calls",
           "censored", "keystrokes", "budget", "capacity_bits", "bound_calls",
           "bound_calls_strict"]
UNITS = {
    "learner": "reinforce | rloo | grpo | ppo (scores), pref-naive | pref-debiased | "
               "pref-estimated (preferences), weasel (Dawkins' weasel, scores)",
    "noise": "sigma (Gaussian score noise) or flip (wrong preferences)",
    "level": "σ in characters (noise sigma) or the flip rate ε (noise flip)",
    "seed": "index j of the reported seed derived_seed(seed, j)",
    "lr": "SGD step size chosen by the line search on tuning seeds (empty for the weasel)",
    "lr_edge": "'' inside the grid, 'low'/'high' at its first/last value",
    "reviewer_calls": "reviewer calls until the greedy document is the target (pairs "
                      "compared for preferences; the calls spent if censored)",
    "censored": "1 if the budget ran out first",
    "keystrokes": "keystrokes typed until then (documents × L)",
    "budget": "reviewer calls allowed",
    "capacity_bits": "bits per reviewer call (issue's capacity, see bound_calls)",
    "bound_calls": "L·log2(A) / capacity_bits, reviewer calls",
    "bound_calls_strict": "L·log2(A) / (capacity valid for any strategy), reviewer calls",
}


# --- the bound ------------------------------------------------------------------------------

def h2(p: float) -> float:
    """Binary entropy in bits."""
    if p <= 0.0 or p >= 1.0:
        return 0.0
    return -p * math.log2(p) - (1 - p) * math.log2(1 - p)


def capacity(noise: str, level: float, length: int, alphabet_size: int,
             strict: bool = False) -> float:
    """Bits per reviewer call; see the module docstring (``strict``: valid for any learner)."""
    if noise == "flip":
        c = 1.0 - h2(level)
        return math.log2(1.0 + 2.0**c) if strict else c
    if noise != "sigma":
        raise InvalidInput(f"unknown noise kind {noise!r}; choose from sigma, flip")
    noiseless = math.log2(length + 1)
    if level == 0:
        return noiseless
    if strict:
        return min(noiseless, 0.5 * math.log2(1.0 + length * length / (4.0 * level * level)))
    a = alphabet_size
    var = length * (1.0 / a) * (1.0 - 1.0 / a)
    return min(noiseless, 0.5 * math.log2(1.0 + var / (level * level)))


def bound_calls(noise: str, level: float, length: int, alphabet_size: int,
                strict: bool = False) -> float:
    """``L·log2(A) / capacity`` reviewer calls (inf when a call carries no information)."""
    c = capacity(noise, level, length, alphabet_size, strict)
    return length * math.log2(alphabet_size) / c if c > 0 else math.inf


# --- the fixed point of the leashed preference learner ----------------------------------------

def _tie_or_one(q: float, length: int) -> float:
    """``P(D = 0) + P(D = 1)``, D the sum over L − 1 positions of ``c_a − c_b`` (each c
    Bernoulli(q), independent): the expected verdict of a document that has one more correct
    key than the other at the remaining positions, on a sign(…) scale."""
    w = q * (1.0 - q)
    n = length - 1
    dist = np.zeros(2 * n + 1)
    dist[n] = 1.0
    for _ in range(n):
        new = dist * (1.0 - 2.0 * w)
        new[1:] += dist[:-1] * w
        new[:-1] += dist[1:] * w
        dist = new
    return float(dist[n] + dist[n + 1])


def preference_fixed_point(beta_eff: float, length: int, alphabet_size: int
                           ) -> tuple[float, float]:
    """The mean-field fixed point ``(q, KL)`` of a preference learner with an exact KL leash
    ``beta_eff`` to the uniform policy, started uniform, hamming bananas.

    ``q`` is the probability of the target key at every position and ``KL`` the whole
    document's KL(π‖uniform) in nats. The expected step moves q up while
    ``F(q) = P(D = 0) + P(D = 1) − β_eff · log((A − 1) q / (1 − q)) > 0`` (see the module
    docstring); the learner settles at the first root of F above 1/A. ``beta_eff = 0`` has no
    leash: q → 1.
    """
    beta_eff = nonneg_float(beta_eff, "β")
    a = alphabet_size

    def f(q: float) -> float:
        return _tie_or_one(q, length) - beta_eff * math.log((a - 1) * q / (1 - q))

    qs = np.unique(np.concatenate([np.linspace(1.0 / a, 1.0, 2001)[1:-1],
                                   1.0 - np.logspace(-3, -12, 200)]))
    lo = 1.0 / a
    q = 1.0
    for hi in qs:
        if f(hi) <= 0:
            for _ in range(80):
                mid = 0.5 * (lo + hi)
                if f(mid) > 0:
                    lo = mid
                else:
                    hi = mid
            q = 0.5 * (lo + hi)
            break
        lo = hi
    if q >= 1.0:
        kl = length * math.log(a)
    else:
        kl = length * (q * math.log(a * q) + (1 - q) * math.log(a * (1 - q) / (a - 1)))
    return float(q), float(kl)


# --- configuration ----------------------------------------------------------------------------

@dataclass(frozen=True)
class NoiseConfig:
    """Sizes of the noise study (validated on construction)."""

    target: str = "weasel"
    """Built-in name or text of the target."""
    alphabet: str = "upper27"
    """Named alphabet."""
    sigmas: tuple[float, ...] = SIGMAS
    """Gaussian score noise levels σ, characters (≥ 0)."""
    flips: tuple[float, ...] = FLIPS
    """Preference flip rates ε in [0, 0.5)."""
    algos: tuple[str, ...] = BASE_ALGOS
    """Score learners (default: every algorithm that is not a variant of another)."""
    preferences: tuple[str, ...] = PREFERENCES
    """Preference learners (naive | debiased | estimated)."""
    weasel: bool = True
    """Run Dawkins' weasel at every σ."""
    batch: int = 16
    """Documents per step (even: preferences compare pairs)."""
    seeds: int = 10
    """Reported seeds per setting."""
    tune_seeds: int = 3
    """Tuning seeds per step size (disjoint from the reported seeds)."""
    grid: tuple[int, int] = (-7, 3)
    """Exponents k (first, last) of the step-size grid base_lr × 2^k."""
    budget: int = 400_000
    """Reviewer calls per run before it is censored (tuning and reported runs)."""
    leash_beta: float = 0.1
    """β of the KL-leash measure (> 0)."""
    leash_flip: float = 0.2
    """ε of the KL-leash measure, in (0, 0.5)."""
    leash_lr: float = 0.03
    """SGD step size of every KL-leash run (the same for all: the claim is about the fixed
    point)."""
    leash_steps: int = 12_000
    """Steps of every KL-leash run (long enough to converge)."""
    leash_seeds: int = 20
    """Seeds (independent policies) per KL-leash condition."""

    def __post_init__(self) -> None:
        text = texts.BUILTIN_TEXTS.get(self.target, self.target)
        if not isinstance(text, str) or not text:
            raise InvalidInput("target is empty; give at least one character")
        named(self.alphabet).encode(text)
        for s in self.sigmas:
            nonneg_float(s, "reviewer noise σ (characters)")
        for e in self.flips:
            if not (isinstance(e, int | float) and 0 <= e < 0.5):
                raise InvalidInput(f"flip rate ε must be in [0, 0.5), got {e!r}")
        for a in self.algos:
            if a not in ALGOS:
                raise InvalidInput(f"unknown algorithm {a!r}; choose from {', '.join(ALGOS)}")
        for p in self.preferences:
            if p not in PREFERENCES:
                raise InvalidInput(f"unknown preferences {p!r}; choose from "
                                   f"{', '.join(PREFERENCES)}")
        batch = positive_int(self.batch, "batch")
        if batch < 2 or batch % 2:
            raise InvalidInput(f"batch must be even and ≥ 2 (preferences compare pairs), "
                               f"got {batch}")
        positive_int(self.seeds, "seeds")
        positive_int(self.tune_seeds, "tuning seeds")
        positive_int(self.budget, "budget (reviewer calls)")
        if self.budget < batch:
            raise InvalidInput(f"budget {self.budget} is below one step of {batch} calls")
        lo, hi = self.grid
        if not (isinstance(lo, int) and isinstance(hi, int) and lo <= hi):
            raise InvalidInput(f"grid must be two integers first ≤ last, got {self.grid!r}")
        positive_float(self.leash_beta, "leash β")
        if not (isinstance(self.leash_flip, int | float) and 0 < self.leash_flip < 0.5):
            raise InvalidInput(f"leash flip rate must be in (0, 0.5), got {self.leash_flip!r}")
        positive_float(self.leash_lr, "leash step size")
        positive_int(self.leash_steps, "leash steps")
        positive_int(self.leash_seeds, "leash seeds")

    @property
    def text(self) -> str:
        return texts.BUILTIN_TEXTS.get(self.target, self.target)

    def lr_grid(self, learner: str) -> tuple[float, ...]:
        """The step-size grid of ``learner``: base × 2^k for k in ``grid``."""
        base = PREFERENCE_LR if learner.startswith("pref-") else DEFAULT_LR[(learner, "sgd")]
        lo, hi = self.grid
        return tuple(base * 2.0**k for k in range(lo, hi + 1))

    @classmethod
    def quick(cls) -> NoiseConfig:
        """A few-second version for tests."""
        return cls(sigmas=(0.0, 1.0), flips=(0.0, 0.2), seeds=2, tune_seeds=1, grid=(-2, 1),
                   budget=40_000, leash_lr=0.1, leash_steps=800, leash_seeds=4)

    @classmethod
    def full(cls) -> NoiseConfig:
        """More seeds and a wider grid."""
        return cls(seeds=30, tune_seeds=5, grid=(-9, 4), budget=1_000_000, leash_seeds=40,
                   leash_steps=20_000, leash_lr=0.02)


def learners(cfg: NoiseConfig) -> list[tuple[str, str, float]]:
    """(learner, noise kind, level) of every measured setting, in cell order."""
    out = [(a, "sigma", float(s)) for a in cfg.algos for s in cfg.sigmas]
    out += [(f"pref-{p}", "flip", float(e)) for p in cfg.preferences for e in cfg.flips]
    if cfg.weasel:
        out += [(WEASEL, "sigma", float(s)) for s in cfg.sigmas]
    return out


LEASH_CONDITIONS = ("noiseless", "naive", "debiased", "estimated", "noiseless-effective")
"""The KL-leash conditions: the noiseless preference learner at β; the naive, de-biased and
estimated learners at ε and β; the noiseless learner at the naive one's effective
β/(1 − 2ε)."""


def leash_setting(cfg: NoiseConfig, name: str) -> tuple[str, float, float]:
    """(preferences, flip rate, β) of KL-leash condition ``name``."""
    beta, eps = float(cfg.leash_beta), float(cfg.leash_flip)
    if name == "noiseless":
        return "naive", 0.0, beta
    if name == "noiseless-effective":
        return "naive", 0.0, beta / (1.0 - 2.0 * eps)
    return name, eps, beta


# --- records ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class NoiseStat:
    """Calls until solved of one learner at one noise level, over the reported seeds.

    Quantiles count a censored run as the budget (a lower bound); ``median_censored`` is True
    when more than half the runs were censored (the median is then only a lower bound)."""

    learner: str
    noise: str
    level: float
    lr: float | None
    lr_edge: str
    runs: int
    solved: int
    median: float
    q25: float
    q75: float
    min: float
    max: float
    median_censored: bool
    capacity_bits: float
    bound_calls: float
    bound_calls_strict: float
    tuning_median: float | None = None
    """Median calls until solved on the tuning seeds at the chosen lr."""
    limit_median: float | None = None
    """At a low edge: the tuning seeds' median at lr × :data:`LIMIT_FACTOR` (the lr → 0
    limit); None otherwise."""

    def to_dict(self) -> dict:
        d = asdict(self)
        for k in ("bound_calls", "bound_calls_strict"):
            if not math.isfinite(d[k]):
                d[k] = None
        return d


@dataclass(frozen=True)
class LeashStat:
    """One KL-leash condition: final exact KL (nats) and expected hamming reward per seed,
    and the mean-field fixed point of its effective β."""

    name: str
    preferences: str
    flip_rate: float
    kl_coef: float
    beta_eff: float
    kl: tuple[float, ...]
    reward: tuple[float, ...]
    fixed_q: float
    fixed_kl: float

    def quantiles(self, which: str) -> dict:
        x = np.asarray(getattr(self, which), dtype=float)
        q = np.quantile(x, [0.0, 0.25, 0.5, 0.75, 1.0])
        return dict(zip(("min", "q25", "median", "q75", "max"), (float(v) for v in q),
                        strict=True))

    def to_dict(self) -> dict:
        return {"name": self.name, "preferences": self.preferences,
                "flip_rate": self.flip_rate, "kl_coef": self.kl_coef,
                "beta_eff": self.beta_eff, "kl_nats": self.quantiles("kl"),
                "expected_reward": self.quantiles("reward"), "fixed_point_q": self.fixed_q,
                "fixed_point_kl_nats": self.fixed_kl, "kl_per_seed": list(self.kl),
                "reward_per_seed": list(self.reward)}


@dataclass(frozen=True)
class BoundCurve:
    """The lower bound ``L·log2(A)/C`` (reviewer calls) on a fine grid of noise levels."""

    noise: str
    levels: tuple[float, ...]
    calls: tuple[float, ...]
    strict: bool


def bound_curves(length: int, alphabet_size: int, sigma_max: float = 4.0,
                 flip_max: float = 0.45, points: int = 200) -> list[BoundCurve]:
    """Both bounds for noisy scores (σ in [0, sigma_max]) and preferences (ε in
    [0, flip_max])."""
    out = []
    for noise, top in (("sigma", sigma_max), ("flip", flip_max)):
        levels = tuple(float(x) for x in np.linspace(0.0, top, points))
        for strict in (False, True):
            out.append(BoundCurve(noise, levels, tuple(
                bound_calls(noise, lv, length, alphabet_size, strict) for lv in levels),
                strict))
    return out


@dataclass
class NoiseResult:
    config: NoiseConfig
    seed: int
    rows: list[dict]
    stats: list[NoiseStat]
    leash: list[LeashStat]
    tuning: dict = field(default_factory=dict)
    seconds: float = 0.0
    """Wall time of this invocation (a resume only computes the missing cells)."""
    compute_seconds: float = 0.0
    """Wall time of every cell summed, wherever and whenever it was computed."""

    @property
    def length(self) -> int:
        return len(self.config.text)

    @property
    def alphabet_size(self) -> int:
        return named(self.config.alphabet).size

    def leash_verdict(self) -> dict:
        """Does condition a end where condition b does, within the spread over seeds? For
        the pairs (debiased, noiseless), (estimated, noiseless), (naive, noiseless) and
        (naive, noiseless-effective), and for the final KL and expected reward:
        ``median_in_range`` — a's median lies in b's min–max range; ``ranges_overlap`` —
        the two min–max ranges overlap."""
        by = {s.name: s for s in self.leash}
        out = {}
        for a, b in (("debiased", "noiseless"), ("estimated", "noiseless"),
                     ("naive", "noiseless"), ("naive", "noiseless-effective")):
            if a not in by or b not in by:
                continue
            for which in ("kl", "reward"):
                qa, qb = by[a].quantiles(which), by[b].quantiles(which)
                out[f"{a}_vs_{b}_{which}"] = {
                    "median_in_range": bool(qb["min"] <= qa["median"] <= qb["max"]),
                    "ranges_overlap": bool(qa["min"] <= qb["max"] and qb["min"] <= qa["max"])}
        return out

    def as_json(self) -> dict:
        cfg = self.config
        length, a = self.length, self.alphabet_size
        return {
            "seed": self.seed, "seconds": round(self.seconds, 3),
            "compute_seconds": round(self.compute_seconds, 3), "target": cfg.text,
            "length": length, "alphabet_size": a, "target_bits": length * math.log2(a),
            "bound": ("bound_calls = L·log2(A)/C with C = 1 − H2(ε) (preference) or "
                      "½·log2(1 + Var/σ²), Var = L(1/A)(1 − 1/A) characters² (the true "
                      "score's variance at the uniform policy), log2(L + 1) at σ = 0; "
                      "bound_calls_strict uses C = log2(1 + 2^(1 − H2(ε))) (ties are a "
                      "third answer) and min(log2(L + 1), ½·log2(1 + L²/(4σ²))) (a score in "
                      "[0, L] has variance ≤ L²/4), valid for any strategy"),
            "settings": [s.to_dict() for s in self.stats],
            "kl_leash": {
                "beta": cfg.leash_beta, "flip_rate": cfg.leash_flip, "lr": cfg.leash_lr,
                "steps": cfg.leash_steps, "seeds": cfg.leash_seeds,
                "note": "every condition at the same step size: the claim is about the "
                        "fixed point; spread = min–max over seeds",
                "conditions": [s.to_dict() for s in self.leash],
                "verdict": self.leash_verdict()},
        }


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


def manifest(cfg: NoiseConfig, seed: int) -> dict:
    d = asdict(cfg)
    d["grid"] = list(cfg.grid)
    return {"command": "noise", "config": d, "seed": seed}


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


def _fmt(v) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return str(int(v))
    if isinstance(v, float):
        return "inf" if math.isinf(v) else f"{v:.6g}"
    return str(v)


def csv_rows(res: NoiseResult) -> list[list[str]]:
    return [[_fmt(r[c]) for c in COLUMNS] for r in res.rows]


def write_outputs(res: NoiseResult, out: Path) -> Path:
    """noise.csv (+ noise.json sidecar), noise.png and summary.json in ``out`` (which a
    :class:`~monkeysim.results.RunDir` holds)."""
    from ..plots.figure import save
    from ..plots.noise import noise_figure

    out = Path(out)
    summary = res.as_json()
    cfg = manifest(res.config, res.seed)["config"]
    path = write_table(out / "noise.csv", COLUMNS, csv_rows(res),
                       sidecar(cfg, res.seed, units=UNITS, summary=summary,
                               lr_grids={learner: list(res.config.lr_grid(learner))
                                         for learner in sorted({s.learner for s in res.stats})
                                         if learner != WEASEL},
                               tuning=res.tuning))
    curves = bound_curves(res.length, res.alphabet_size,
                          sigma_max=max(res.config.sigmas, default=0.0),
                          flip_max=max(res.config.flips, default=0.0))
    save(noise_figure(res.stats, res.leash, curves, length=res.length,
                      alphabet_size=res.alphabet_size), out / "noise.png")
    write_json(out / "summary.json", summary)
    return path


def _calls(st: NoiseStat) -> str:
    text = f"{st.median:,.0f}"
    return ("≥" + text) if st.median_censored else text


def report(res: NoiseResult) -> str:
    """Plain-text tables: median calls until solved per learner and level, with the bound;
    the KL-leash result."""
    lines = [f"reviewer calls until {res.config.text!r} is solved (median over "
             f"{res.config.seeds} seeds, each learner at its own tuned step size; "
             f"≥: more than half censored at {res.config.budget:,})"]
    for noise, unit in (("sigma", "σ (characters)"), ("flip", "ε")):
        stats = [s for s in res.stats if s.noise == noise]
        if not stats:
            continue
        levels = sorted({s.level for s in stats})
        names = list(dict.fromkeys(s.learner for s in stats))
        lines.append("")
        lines.append(f"{unit:<16}" + "".join(f"{lv:>12g}" for lv in levels))
        by = {(s.learner, s.level): s for s in stats}
        for name in names:
            cells = []
            for lv in levels:
                s = by.get((name, lv))
                cells.append(f"{_calls(s) if s else '':>12}")
            lines.append(f"{name:<16}" + "".join(cells))
        for label, key in (("bound", "bound_calls"), ("bound (strict)", "bound_calls_strict")):
            vals = {s.level: getattr(s, key) for s in stats}
            lines.append(f"{label:<16}" + "".join(f"{vals[lv]:>12,.0f}" for lv in levels))
    edges = []
    for s in res.stats:
        if s.lr_edge == "low" and s.limit_median is not None:
            edges.append(f"{s.learner}@{s.level:g} low (tuning median {s.tuning_median:,.0f}, "
                         f"lr → 0 limit {s.limit_median:,.0f})")
        elif s.lr_edge:
            edges.append(f"{s.learner}@{s.level:g} {s.lr_edge}")
    if edges:
        lines.append("\nstep size at the grid's edge: " + "; ".join(edges))
    cfg = res.config
    lines.append("")
    lines.append(f"KL leash β = {cfg.leash_beta:g}, ε = {cfg.leash_flip:g}, lr {cfg.leash_lr:g} "
                 f"for all, {cfg.leash_steps} steps, {cfg.leash_seeds} seeds (median "
                 "[min, max]; fixed point: mean-field)")
    lines.append(f"{'condition':<22}{'β_eff':>8}{'final KL (nats)':>26}{'fixed':>8}"
                 f"{'expected reward':>26}{'fixed':>8}")
    for s in res.leash:
        k, r = s.quantiles("kl"), s.quantiles("reward")
        lines.append(f"{s.name:<22}{s.beta_eff:>8.3f}"
                     f"{k['median']:>10.2f} [{k['min']:6.2f}, {k['max']:6.2f}]"
                     f"{s.fixed_kl:>8.2f}{r['median']:>10.3f} [{r['min']:5.3f}, "
                     f"{r['max']:5.3f}]{s.fixed_q:>8.3f}")
    lines.append(f"\n{res.seconds:.1f} s (cells computed in {res.compute_seconds:.1f} s)")
    return "\n".join(lines)


def with_sizes(cfg: NoiseConfig, seeds: int | None = None, tune_seeds: int | None = None,
               budget: int | None = None, leash_seeds: int | None = None) -> NoiseConfig:
    """``cfg`` with the given sizes replaced (None keeps a size)."""
    changes = {k: v for k, v in (("seeds", seeds), ("tune_seeds", tune_seeds),
                                 ("budget", budget), ("leash_seeds", leash_seeds))
               if v is not None}
    return replace(cfg, **changes)


__all__ = ["FILES", "LeashStat", "NoiseConfig", "NoiseResult", "NoiseStat", "bound_calls",
           "capacity", "preference_fixed_point", "report", "run", "write_outputs"]
