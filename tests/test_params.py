"""The learner kernels' parameters (monkeysim.learn.params): one named record, packed once."""

import itertools

import numpy as np
import pytest

from monkeysim._kernels import policy as KP
from monkeysim.alphabet import named
from monkeysim.learn.config import ALGOS, OPTIMIZERS, PREFERENCES, TrainConfig
from monkeysim.learn.params import FLOAT_SLOTS, INT_SLOTS, KernelParams, kernel_params
from monkeysim.policy import PolicySpec
from monkeysim.reward import make_reviewer


def _slots(prefix: str) -> dict[str, int]:
    return {n: getattr(KP, n) for n in dir(KP) if n.startswith(prefix) and n.isupper()}


def test_every_kernel_slot_has_exactly_one_name():
    ints, floats = _slots("I_"), _slots("F_")
    assert sorted(INT_SLOTS.values()) == sorted(ints.values()) == list(range(KP.N_INT))
    assert sorted(FLOAT_SLOTS.values()) == sorted(floats.values()) == list(range(KP.N_FLOAT))
    names = [f for f in KernelParams.__dataclass_fields__]
    assert sorted(names) == sorted([*INT_SLOTS, *FLOAT_SLOTS])


def _by_hand(config, spec, reviewer, dry):
    """The packing as it was written out index by index (the reference)."""
    ip = np.zeros(KP.N_INT, dtype=np.int64)
    ip[KP.I_KIND], ip[KP.I_ROWS], ip[KP.I_BASE] = spec.kind_code, spec.rows, spec.base
    ip[KP.I_REWARD], ip[KP.I_NGRAM] = reviewer.kind_code, reviewer.ngram_n
    ip[KP.I_ADV] = {"baseline": KP.ADV_BASELINE, "loo": KP.ADV_LOO, "group": KP.ADV_GROUP,
                    "mean": KP.ADV_MEAN, "batch": KP.ADV_BATCH}[config.advantage]
    ip[KP.I_EPOCHS] = config.n_epochs
    ip[KP.I_KL] = {"exact": KP.KL_EXACT, "k1": KP.KL_K1, "k3": KP.KL_K3}[config.kl_mode]
    ip[KP.I_OPT] = KP.OPT_ADAM if config.optimizer == "adam" else KP.OPT_SGD
    ip[KP.I_DRY], ip[KP.I_CHUNK], ip[KP.I_TRACK_KL] = int(dry), 16, int(config.track_kl)
    ip[KP.I_PREF] = {None: KP.PREF_NONE, "naive": KP.PREF_NAIVE, "debiased": KP.PREF_DEBIASED,
                     "estimated": KP.PREF_ESTIMATED}[config.preferences]
    hp = np.zeros(KP.N_FLOAT)
    hp[KP.F_LR] = config.lr
    clipped = ("grpo", "ppo", "dr-grpo", "reinforce-pp")
    hp[KP.F_CLIP] = config.clip if config.algo in clipped else 0.0
    hp[KP.F_GROUP_EPS], hp[KP.F_BETA] = config.group_eps, config.kl_coef
    hp[KP.F_ENTROPY] = config.entropy_coef
    hp[KP.F_B1], hp[KP.F_B2] = config.adam_betas
    hp[KP.F_ADAM_EPS], hp[KP.F_DECAY] = config.adam_eps, config.baseline_decay
    hp[KP.F_NOISE] = config.reviewer_noise / spec.length
    hp[KP.F_FLIP] = config.flip_rate
    return ip, hp


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
    reviewer = make_reviewer("hamming", "HELLO", alpha)
    ip, hp = kernel_params(config, spec, reviewer, dry)
    want_ip, want_hp = _by_hand(config, spec, reviewer, dry)
    np.testing.assert_array_equal(ip, want_ip)
    np.testing.assert_array_equal(hp, want_hp)
