"""The learner kernels' parameters (monkeysim.learn.params): one named record, built once."""

import itertools

import pytest

from monkeysim._kernels import policy as KP
from monkeysim.alphabet import named
from monkeysim.learn.config import ALGOS, OPTIMIZERS, PREFERENCES, TrainConfig
from monkeysim.learn.params import kernel_params, make_params
from monkeysim.policy import PolicySpec


def test_every_param_field_is_an_int_or_a_float_and_is_typed_so():
    assert set(KP.INT_PARAMS).isdisjoint(KP.FLOAT_PARAMS)
    assert KP.Params._fields == KP.INT_PARAMS + KP.FLOAT_PARAMS
    par = kernel_params(TrainConfig(), PolicySpec("positional", 5, 27, 1))
    assert [type(getattr(par, f)) for f in KP.INT_PARAMS] == [int] * len(KP.INT_PARAMS)
    assert [type(getattr(par, f)) for f in KP.FLOAT_PARAMS] == [float] * len(KP.FLOAT_PARAMS)
    with pytest.raises(KeyError):
        make_params(kind=0)  # every field but step0 and dry must be given


def _by_hand(config, spec, dry):
    """The parameters as they were written out one by one (the reference)."""
    clipped = ("grpo", "ppo", "dr-grpo", "reinforce-pp")
    return dict(
        kind=spec.kind_code, rows=spec.rows, base=spec.base, troop=int(config.troop),
        advantage={"baseline": KP.ADV_BASELINE, "loo": KP.ADV_LOO, "group": KP.ADV_GROUP,
                   "mean": KP.ADV_MEAN, "batch": KP.ADV_BATCH}[config.advantage],
        epochs=config.n_epochs,
        kl={"exact": KP.KL_EXACT, "k1": KP.KL_K1, "k3": KP.KL_K3}[config.kl_mode],
        optimiser=KP.OPT_ADAM if config.optimizer == "adam" else KP.OPT_SGD, dry=int(dry),
        step0=0, chunk=16,
        preferences={None: KP.PREF_NONE, "naive": KP.PREF_NAIVE, "debiased": KP.PREF_DEBIASED,
                     "estimated": KP.PREF_ESTIMATED}[config.preferences],
        track_kl=int(config.track_kl), lr=config.lr,
        clip=config.clip if config.algo in clipped else 0.0, group_eps=config.group_eps,
        kl_coef=config.kl_coef, entropy_coef=config.entropy_coef,
        adam_b1=config.adam_betas[0], adam_b2=config.adam_betas[1], adam_eps=config.adam_eps,
        baseline_decay=config.baseline_decay, noise=config.reviewer_noise / spec.length,
        flip_rate=config.flip_rate)


@pytest.mark.parametrize("algo,optimizer,prefs,dry", list(itertools.product(
    ALGOS, OPTIMIZERS, (None, *PREFERENCES), (False, True))))
def test_packing_matches_the_slots_written_by_hand(algo, optimizer, prefs, dry):
    kw = dict(algo=algo, optimizer=optimizer, kl_coef=0.3, entropy_coef=0.01, seed=1)
    if prefs is not None:
        kw.update(preferences=prefs, flip_rate=0.1, kl_estimator="exact")
    else:
        kw.update(reviewer_noise=0.5)
    config = TrainConfig(**kw)
    alpha = named("upper27")
    spec = PolicySpec("positional", 5, alpha.size, 1)
    assert kernel_params(config, spec, dry)._asdict() == _by_hand(config, spec, dry)
