"""The configuration of the noise study: :class:`NoiseConfig` (the target, the noise levels
σ and ε, the learners, the tuning grid and budget, the KL-leash measure; validated on
construction, with ``quick`` and ``full`` presets), :func:`with_sizes` (the CLI's size
overrides), the measured settings in cell order (:func:`learners`), the KL-leash conditions
(:data:`LEASH_CONDITIONS`, :func:`leash_setting`) and the run's :func:`manifest` (the config
as JSON, which a resumed run must match).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from .. import texts
from ..alphabet import named
from ..errors import InvalidInput, nonneg_float, positive_float, positive_int
from ..learn.algorithms import ALGOS, BASE_ALGOS
from ..learn.config import DEFAULT_LR, PREFERENCES

SIGMAS = (0.0, 0.5, 1.0, 2.0, 4.0)
"""Gaussian score noise σ, characters."""
FLIPS = (0.0, 0.1, 0.2, 0.3, 0.4)
"""Preference flip rates ε."""
PREFERENCE_LR = 1.0
"""Base step size of the preference learners' grid (advantages ±1)."""
WEASEL = "weasel"


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


def with_sizes(cfg: NoiseConfig, seeds: int | None = None, tune_seeds: int | None = None,
               budget: int | None = None, leash_seeds: int | None = None) -> NoiseConfig:
    """``cfg`` with the given sizes replaced (None keeps a size)."""
    changes = {k: v for k, v in (("seeds", seeds), ("tune_seeds", tune_seeds),
                                 ("budget", budget), ("leash_seeds", leash_seeds))
               if v is not None}
    return replace(cfg, **changes)


def manifest(cfg: NoiseConfig, seed: int) -> dict:
    d = asdict(cfg)
    d["grid"] = list(cfg.grid)
    return {"command": "noise", "config": d, "seed": seed}
