"""The learner kernels' parameters, built in one place from a :class:`TrainConfig`.

:class:`KernelParams` names every parameter the kernels of :mod:`monkeysim._kernels.policy`
read; :meth:`KernelParams.pack` lays them out in the two arrays the kernels index (``ip``:
int64[N_INT], ``hp``: float64[N_FLOAT]) through :data:`INT_SLOTS` / :data:`FLOAT_SLOTS`, the
only map from names to the kernels' index constants. ``step0`` (the first step of a block) and
``phase`` (type / learn / both) change during a run and are set by the driver.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from .._kernels import policy as KP
from ..policy import PolicySpec
from .algorithms import ALGORITHMS
from .config import TrainConfig

TROOP_CHUNK = 16  # monkeys per gradient chunk of a troop (fixed: independent of threads)

ADVANTAGES = {"baseline": KP.ADV_BASELINE, "loo": KP.ADV_LOO, "group": KP.ADV_GROUP,
              "mean": KP.ADV_MEAN, "batch": KP.ADV_BATCH}  # every ADVANTAGE_KINDS entry
KL_MODES = {"exact": KP.KL_EXACT, "k1": KP.KL_K1, "k3": KP.KL_K3}
OPTIMISERS = {"sgd": KP.OPT_SGD, "adam": KP.OPT_ADAM}
PREFERENCE_MODES = {None: KP.PREF_NONE, "naive": KP.PREF_NAIVE,
                    "debiased": KP.PREF_DEBIASED, "estimated": KP.PREF_ESTIMATED}

INT_SLOTS = {"kind": KP.I_KIND, "rows": KP.I_ROWS, "base": KP.I_BASE,
             "reward": KP.I_REWARD, "ngram": KP.I_NGRAM, "advantage": KP.I_ADV,
             "epochs": KP.I_EPOCHS, "kl": KP.I_KL, "optimiser": KP.I_OPT, "dry": KP.I_DRY,
             "step0": KP.I_STEP0, "chunk": KP.I_CHUNK, "preferences": KP.I_PREF,
             "phase": KP.I_PHASE, "track_kl": KP.I_TRACK_KL}
FLOAT_SLOTS = {"lr": KP.F_LR, "clip": KP.F_CLIP, "group_eps": KP.F_GROUP_EPS,
               "kl_coef": KP.F_BETA, "entropy_coef": KP.F_ENTROPY, "adam_b1": KP.F_B1,
               "adam_b2": KP.F_B2, "adam_eps": KP.F_ADAM_EPS,
               "baseline_decay": KP.F_DECAY, "noise": KP.F_NOISE, "flip_rate": KP.F_FLIP}


@dataclass(frozen=True)
class KernelParams:
    """Every parameter of the learner kernels, by name (codes are the kernels' constants)."""

    kind: int
    """Policy kind code (positional or context)."""
    rows: int
    base: int
    reward: int
    """Built-in reviewer kind code; −1 for a reviewer outside numba."""
    ngram: int
    advantage: int
    epochs: int
    kl: int
    optimiser: int
    dry: int
    """1: compute the step's direction and metrics without updating θ."""
    chunk: int
    preferences: int
    lr: float
    clip: float
    """PPO/GRPO ratio clip (0: no clip)."""
    group_eps: float
    kl_coef: float
    entropy_coef: float
    adam_b1: float
    adam_b2: float
    adam_eps: float
    baseline_decay: float
    noise: float
    """Reviewer noise sd in reward units (σ / L)."""
    flip_rate: float
    track_kl: int
    """1: exact KL and entropy of a context policy after every step (else NaN)."""
    step0: int = 0
    phase: int = KP.PHASE_ALL

    @classmethod
    def of(cls, config: TrainConfig, spec: PolicySpec, reviewer,
           dry: bool = False) -> KernelParams:
        """The parameters of ``config`` for policies of ``spec`` and ``reviewer``."""
        return cls(
            kind=spec.kind_code, rows=spec.rows, base=spec.base,
            reward=int(reviewer.kind_code), ngram=int(reviewer.ngram_n),
            advantage=ADVANTAGES[config.advantage], epochs=config.n_epochs,
            kl=KL_MODES[config.kl_mode], optimiser=OPTIMISERS[config.optimizer],
            dry=int(dry), chunk=TROOP_CHUNK, preferences=PREFERENCE_MODES[config.preferences],
            lr=config.lr, clip=config.clip if ALGORITHMS[config.algo].clipped else 0.0,
            group_eps=config.group_eps, kl_coef=config.kl_coef,
            entropy_coef=config.entropy_coef, adam_b1=config.adam_betas[0],
            adam_b2=config.adam_betas[1], adam_eps=config.adam_eps,
            baseline_decay=config.baseline_decay,
            noise=config.reviewer_noise / spec.length, flip_rate=config.flip_rate,
            track_kl=int(config.track_kl))

    def pack(self) -> tuple[np.ndarray, np.ndarray]:
        """``(ip, hp)``: int64[N_INT] and float64[N_FLOAT], as the kernels read them."""
        ip = np.zeros(KP.N_INT, dtype=np.int64)
        hp = np.zeros(KP.N_FLOAT)
        for f in fields(self):
            if f.name in INT_SLOTS:
                ip[INT_SLOTS[f.name]] = getattr(self, f.name)
            else:
                hp[FLOAT_SLOTS[f.name]] = getattr(self, f.name)
        return ip, hp


def kernel_params(config: TrainConfig, spec: PolicySpec, reviewer,
                  dry: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """``KernelParams.of(config, spec, reviewer, dry).pack()``."""
    return KernelParams.of(config, spec, reviewer, dry).pack()
