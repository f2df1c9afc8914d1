"""The policy-gradient algorithms, one table entry each.

An algorithm differs from the others only where its mathematics differs: how it turns a
group's rewards into advantages, whether later epochs clip the importance ratio, how many
epochs it takes by default, the smallest group it can learn from, its tuned step sizes and
the baseline the gradient-noise theory (:func:`monkeysim.theory.noise_scale_uniform`) uses
for its first step. :data:`ALGORITHMS` holds one :class:`Algorithm` per name; the
configuration (:class:`~monkeysim.learn.config.TrainConfig`), the kernels' parameter packing
(:mod:`monkeysim.learn.params`), the CLI, ``compare``, the noise study and ``bench learning``
all read it, and nothing else lists the algorithms.

Adding an algorithm: one advantage function in the kernels
(:func:`monkeysim._kernels.policy.group_advantages` and its code in ``ADV_*``), the same in
the reference trainer ``tests/naive.py``, its code in :data:`monkeysim.learn.params.ADVANTAGES`,
and one entry here with its step size tuned as the others were (weasel, hamming bananas, one
monkey, batch 16, seeds 100-179; see docs/metrics.md).
"""

from __future__ import annotations

from dataclasses import dataclass

ADVANTAGE_KINDS = ("baseline", "loo", "group", "mean", "batch")
"""baseline: ``r − b`` with a running mean of earlier batches; loo: ``r − mean of the
others``; group: ``(r − mean) / (sample std + ε)``; mean: ``r − mean``; batch:
``(r − mean) / (population std + ε)`` over every document the policy learns from."""


@dataclass(frozen=True)
class Algorithm:
    """One policy-gradient algorithm: everything in which it differs from the others."""

    name: str
    """The name of ``--algo`` and of ``TrainConfig.algo``."""
    title: str
    """Human-readable name and source."""
    advantage: str
    """Advantage of a group of two or more documents (one of :data:`ADVANTAGE_KINDS`)."""
    clipped: bool
    """True: later epochs use the PPO-clipped importance ratio (and may be > 1)."""
    epochs: int
    """Default optimisation epochs per batch."""
    min_group: int
    """The smallest group (documents per update) it can learn from."""
    lr_sgd: float
    """Default (tuned) SGD step size."""
    lr_adam: float
    """Default Adam step size."""
    noise_baseline: str
    """Baseline of its first step in the noise-scale theory: zero | loo | group."""
    lone_advantage: str = "baseline"
    """Advantage of a group of one document (only reachable when ``min_group`` is 1)."""
    variant_of: str | None = None
    """The algorithm it modifies; variants are not in the default comparisons of
    ``compare`` and the noise study (whose committed results predate them)."""

    def advantage_for(self, group: int) -> str:
        """The advantage kind used for a group of ``group`` documents."""
        return self.advantage if group >= 2 else self.lone_advantage


# Step sizes: tuned on the weasel sentence with hamming bananas, one monkey, batch 16, SGD
# (seeds 100-179, disjoint from the benchmark's seeds; docs/metrics.md). GRPO's advantages
# are normalised to unit spread, hence its smaller rate; PPO takes 4 steps per batch.
# Dr. GRPO and REINFORCE++: the smallest median of a √2-spaced grid (experiments/
# make_default_lr.py; dr-grpo 0.03-32, 624 calls at 5.66; reinforce-pp 0.0016-1.6, 608 calls
# at 0.0125-0.035, the middle of the tie taken), replayed on fresh seeds 200-279. The bowl
# is flat: every step size within 8× of the chosen one gives a median within 5 % of it.
# Adam step sizes of the two are GRPO's, untuned.
_TABLE = (
    Algorithm("reinforce", "REINFORCE with a running-mean baseline (Williams 1992)",
              advantage="baseline", clipped=False, epochs=1, min_group=1, lr_sgd=2.0,
              lr_adam=0.01, noise_baseline="zero"),
    Algorithm("rloo", "REINFORCE leave-one-out (Kool et al. 2019; Ahmadian et al. 2024)",
              advantage="loo", clipped=False, epochs=1, min_group=2, lr_sgd=4.0,
              lr_adam=0.01, noise_baseline="loo"),
    Algorithm("grpo", "group-relative policy optimisation (Shao et al. 2024)",
              advantage="group", clipped=True, epochs=1, min_group=2, lr_sgd=0.2,
              lr_adam=0.01, noise_baseline="group"),
    Algorithm("ppo", "PPO's clipped objective without a critic, leave-one-out advantages",
              advantage="loo", clipped=True, epochs=4, min_group=1, lr_sgd=0.75,
              lr_adam=0.003, noise_baseline="loo"),
    Algorithm("dr-grpo", "Dr. GRPO: GRPO without the std division (Liu et al. 2025)",
              advantage="mean", clipped=True, epochs=1, min_group=2, lr_sgd=5.66,
              lr_adam=0.01, noise_baseline="loo", variant_of="grpo"),
    Algorithm("reinforce-pp", "REINFORCE++: batch-normalised advantages (Hu 2025)",
              advantage="batch", clipped=True, epochs=1, min_group=2, lr_sgd=0.025,
              lr_adam=0.01, noise_baseline="group", variant_of="reinforce"),
)
ALGORITHMS: dict[str, Algorithm] = {a.name: a for a in _TABLE}
"""Every algorithm by name, in the order of tables and figures."""
ALGOS: tuple[str, ...] = tuple(ALGORITHMS)
"""Every algorithm's name."""
BASE_ALGOS: tuple[str, ...] = tuple(a.name for a in _TABLE if a.variant_of is None)
"""The algorithms that are not variants of another (the default comparisons)."""
