"""The records of the noise study: :class:`NoiseStat` (calls until solved of one learner at
one noise level over the reported seeds, with its tuned step size and the bounds),
:class:`LeashStat` (one KL-leash condition: final KL and expected reward per seed beside the
mean-field fixed point) and :class:`NoiseResult` (a whole run: the per-seed rows, both kinds of
statistics, the tuning records, the times; its JSON summary and the KL-leash verdict). Named
fields that cross to the report and :mod:`monkeysim.plots.noise`; nothing here runs anything.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

from ..alphabet import named
from .noise_config import NoiseConfig


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
    """At a low edge: the tuning seeds' median at lr ×
    :data:`~monkeysim.experiments.noise.LIMIT_FACTOR` (the lr → 0 limit); None otherwise."""

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
