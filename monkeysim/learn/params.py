"""The learner kernels' parameters, built in one place from a :class:`TrainConfig`.

:func:`kernel_params` fills the kernels' :data:`~monkeysim._kernels.policy_records.Params`
record (every scalar of a step, by name). ``step0`` (the first step of a block), ``dry`` and,
for the self-sizing troop, ``lr`` change during a run: the driver sets them with
``params._replace(...)``.
"""

from __future__ import annotations

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


def make_params(**values) -> KP.Params:
    """A :data:`~monkeysim._kernels.policy_records.Params` with every integer field an ``int``
    and every float a ``float`` (so that its numba type, and the compiled kernels, never
    change); ``step0`` and ``dry`` default to 0."""
    values = {"step0": 0, "dry": 0, **values}
    return KP.Params(**{name: int(values[name]) for name in KP.INT_PARAMS},
                     **{name: float(values[name]) for name in KP.FLOAT_PARAMS})


def kernel_params(config: TrainConfig, spec: PolicySpec, dry: bool = False,
                  troop: bool | None = None) -> KP.Params:
    """The kernels' parameters of ``config`` for policies of ``spec`` (one shared policy if
    ``troop``, default ``config.troop``)."""
    return make_params(
        kind=spec.kind_code, rows=spec.rows, base=spec.base,
        troop=config.troop if troop is None else troop,
        advantage=ADVANTAGES[config.advantage], epochs=config.n_epochs,
        kl=KL_MODES[config.kl_mode], optimiser=OPTIMISERS[config.optimizer], dry=dry,
        chunk=TROOP_CHUNK, preferences=PREFERENCE_MODES[config.preferences],
        track_kl=config.track_kl, lr=config.lr,
        clip=config.clip if ALGORITHMS[config.algo].clipped else 0.0,
        group_eps=config.group_eps, kl_coef=config.kl_coef, entropy_coef=config.entropy_coef,
        adam_b1=config.adam_betas[0], adam_b2=config.adam_betas[1], adam_eps=config.adam_eps,
        baseline_decay=config.baseline_decay, noise=config.reviewer_noise / spec.length,
        flip_rate=config.flip_rate)
