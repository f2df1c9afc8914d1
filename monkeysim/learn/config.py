"""The learner core's one configuration, :class:`TrainConfig`, validated on construction,
and the choices it names (algorithms, optimisers, KL estimators, stop rules). The learning
rate defaults (:data:`DEFAULT_LR`) and why SGD is the default are explained in
:mod:`monkeysim.learn.train`."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .._kernels.reward import REWARD_KINDS
from ..errors import InvalidInput, choice, is_real, nonneg_float, positive_float, positive_int
from ..policy import POLICY_KINDS
from ..rng import check_seed
from .algorithms import ALGORITHMS, ALGOS

OPTIMIZERS = ("sgd", "adam")
KL_ESTIMATORS = ("auto", "exact", "k1", "k3")
STOPS = ("solved", "typed", "both", "budget")
PREFERENCES = ("naive", "debiased", "estimated")
# the fields with a fixed set of values: (values, their name in error messages)
CHOICES: dict[str, tuple[tuple[str, ...], str]] = {
    "algo": (ALGOS, "algorithm"), "reward": (REWARD_KINDS, "reward"),
    "policy": (POLICY_KINDS, "policy"), "optimizer": (OPTIMIZERS, "optimizer"),
    "kl_estimator": (KL_ESTIMATORS, "KL estimator"), "stop": (STOPS, "stop"),
    "preferences": (PREFERENCES, "preferences")}  # preferences may also be None
INT64_MAX = np.iinfo(np.int64).max
MAX_ARRAY = 1 << 25  # largest logits (policies × rows × keys) or per-step tokens (M × K × L)

# Default learning rates per (algorithm, optimiser), from the algorithm table (tuned on the
# weasel sentence with hamming bananas, one monkey, batch 16, seeds 100-179; docs/metrics.md).
DEFAULT_LR: dict[tuple[str, str], float] = {
    **{(a.name, "sgd"): a.lr_sgd for a in ALGORITHMS.values()},
    **{(a.name, "adam"): a.lr_adam for a in ALGORITHMS.values()},
}


@dataclass(frozen=True)
class TrainConfig:
    """Configuration of one training run (validated on construction)."""

    algo: str = "rloo"
    """Policy-gradient algorithm: one entry of the table
    :data:`monkeysim.learn.algorithms.ALGORITHMS` (advantage, clipping, epochs, step size)."""
    reward: str = "hamming"
    """The reviewer: exact | prefix | hamming | levenshtein | ngram | words."""
    policy: str = "positional"
    """positional (one categorical per position) | context (n-gram)."""
    order: int = 1
    """n of a context policy: the next key depends on the last n − 1 keys."""
    monkeys: int | str = 1
    """Number of monkeys N, or ``"auto"`` (a troop only): the troop recruits N each step from
    its measured noise scale, up to ``max_monkeys`` (:mod:`monkeysim.learn.auto_troop`)."""
    troop: bool = False
    """True: all monkeys share one policy and pool their documents in every update."""
    batch: int = 16
    """Documents each monkey types (and the reviewer scores) per step."""
    lr: float | str | None = None
    """Learning rate (> 0); None: the tuned default of the algorithm and optimiser
    (:data:`DEFAULT_LR`), resolved on construction; ``"auto"`` (a troop with SGD only): set
    every step by ε(B) = ε_max / (1 + B_noise/B) (:mod:`monkeysim.learn.auto_troop`)."""
    max_monkeys: int = 256
    """Largest troop that ``monkeys="auto"`` may recruit (≥ 1)."""
    optimizer: str = "sgd"
    """sgd | adam. Plain SGD is the robust default: with Adam's per-parameter scaling a
    large step pushes noisy positions onto a wrong key and the policy stops exploring."""
    adam_betas: tuple[float, float] = (0.9, 0.999)
    """Adam's moment decay rates β1, β2 in [0, 1)."""
    adam_eps: float = 1e-8
    """Adam's ε (> 0)."""
    kl_coef: float = 0.0
    """β of the KL penalty to the reference policy (≥ 0; 0: no leash)."""
    kl_estimator: str = "auto"
    """exact | k1 | k3 | auto (exact for positional, k1 for context policies)."""
    entropy_coef: float = 0.0
    """α of the entropy bonus (≥ 0)."""
    epochs: int | None = None
    """Optimisation epochs over each batch (None: the algorithm's default, 4 for ppo, else 1;
    > 1 only for a clipped algorithm)."""
    clip: float = 0.2
    """Ratio clip ε (> 0) of the later epochs of a clipped algorithm (PPO's objective)."""
    baseline_decay: float = 0.9
    """REINFORCE running-mean baseline decay in [0, 1)."""
    group_eps: float = 1e-4
    """ε added to the std of the rewards by the normalising algorithms (grpo: the group's
    sample std; reinforce-pp: the batch's population std)."""
    ngram_n: int = 3
    """n of the ``ngram`` reviewer."""
    max_reviewer_calls: int = 100_000
    """Budget: reviewer calls of all monkeys together; no step may exceed it."""
    stop: str = "solved"
    """solved (greedy document is the target) | typed (a monkey typed the target) | both |
    budget (run the whole budget)."""
    seed: int = 0
    """Root seed; monkey m types from ``chunk_state(seed, m, stream=5)``."""
    threads: int | None = None
    """numba threads (None: numba's default); results do not depend on it."""
    reviewer_noise: float = 0.0
    """σ of Gaussian noise on every score the reviewer reports, in characters (one character
    = 1/L of a hamming score; the noise is σ/L in reward units for every reward kind)."""
    flip_rate: float = 0.0
    """ε in [0, 0.5): the probability that a binary verdict is wrong: exact bananas' verdict
    (1 − score), or, with ``preferences``, which of two documents is better."""
    preferences: str | None = None
    """None: learn from scores. naive | debiased | estimated: learn from pairwise preferences
    within each group (documents 2i and 2i+1 compared, one reviewer call each; winner +1,
    loser −1, ties 0), used as they are, divided by (1 − 2ε) with the known flip rate, or by
    (1 − 2ε̂) with ε̂ estimated from one repeated comparison per group and step."""
    track_kl: bool = True
    """Compute the exact KL(π‖π_ref) and entropy of a context policy after every step
    (L·R·A work a step, often more than the step itself); False logs NaN for them.
    Positional policies always get them (at no extra cost)."""

    def __post_init__(self) -> None:
        for name, (values, label) in CHOICES.items():
            if name != "preferences":  # checked with the other preference settings
                choice(getattr(self, name), values, label)
        order = positive_int(self.order, "order")
        if self.policy == "positional" and order != 1:
            raise InvalidInput(f"order n={order} needs --policy context")
        batch = positive_int(self.batch, "batch")
        monkeys = self._check_auto()
        for flag in ("troop", "track_kl"):
            if not isinstance(getattr(self, flag), bool | np.bool_):
                raise InvalidInput(f"{flag} must be True or False, got {getattr(self, flag)!r}")
        if self.lr is None:
            object.__setattr__(self, "lr", DEFAULT_LR[(self.algo, self.optimizer)])
        if not self.auto_lr:
            positive_float(self.lr, "learning rate lr")
        nonneg_float(self.kl_coef, "KL coefficient β (kl_coef)")
        nonneg_float(self.entropy_coef, "entropy coefficient")
        positive_float(self.clip, "clip")
        positive_float(self.adam_eps, "adam_eps")
        positive_float(self.group_eps, "group_eps")
        b = tuple(self.adam_betas)
        if len(b) != 2 or not all(is_real(x) and 0 <= x < 1 for x in b):
            raise InvalidInput(f"adam_betas must be two numbers in [0, 1), got {self.adam_betas!r}")
        if not (is_real(self.baseline_decay) and 0 <= self.baseline_decay < 1):
            raise InvalidInput(f"baseline_decay must be in [0, 1), got {self.baseline_decay!r}")
        positive_int(self.ngram_n, "ngram_n")
        check_seed(self.seed)
        group = monkeys * batch if self.troop else batch
        least = ALGORITHMS[self.algo].min_group
        if group < least:
            where = (f"monkeys × batch = {group}" if self.troop else f"batch = {batch}")
            raise InvalidInput(
                f"{self.algo} needs at least {least} documents per group (batch ≥ {least}, or "
                f"a troop with monkeys × batch ≥ {least}), got {where}")
        if self.epochs is not None:
            epochs = positive_int(self.epochs, "epochs")
            if epochs > 1 and not ALGORITHMS[self.algo].clipped:
                clipped = " or ".join(a.name for a in ALGORITHMS.values() if a.clipped)
                raise InvalidInput(f"epochs > 1 needs a clipped algorithm ({clipped}); "
                                   f"{self.algo} is on-policy with one step per batch")
        if self.kl_estimator == "exact" and self.policy != "positional":
            raise InvalidInput("the exact KL gradient needs a positional policy; use "
                               "kl_estimator k1 or k3 for context policies")
        self._check_reviewer()
        calls = positive_int(self.max_reviewer_calls, "max reviewer calls")
        if calls < self.calls_per_step:
            who = f"max_monkeys {monkeys}" if self.auto_monkeys else f"{monkeys} monkeys"
            raise InvalidInput(
                f"max reviewer calls {calls} is below one step of {who} × batch "
                f"{batch} = {self.calls_per_step} calls")
        if self.threads is not None:
            import numba

            t = positive_int(self.threads, "threads")
            if t > numba.config.NUMBA_NUM_THREADS:
                raise InvalidInput(f"threads must be between 1 and "
                                   f"{numba.config.NUMBA_NUM_THREADS}, got {t}")

    def _check_auto(self) -> int:
        """``monkeys="auto"`` / ``lr="auto"``: a troop (and SGD for the step size); returns
        the largest N a step can have (``max_monkeys`` when auto)."""
        max_monkeys = positive_int(self.max_monkeys, "max_monkeys")
        for name in ("monkeys", "lr"):
            value = getattr(self, name)
            if isinstance(value, str) and value != "auto":
                raise InvalidInput(f"{name} must be a number or 'auto', got {value!r}")
        if (self.auto_monkeys or self.auto_lr) and not self.troop:
            which = "monkeys" if self.auto_monkeys else "lr"
            raise InvalidInput(f"{which}=auto needs a troop (--troop): the noise scale is "
                               "measured on the documents the monkeys pool")
        if self.auto_lr and self.optimizer != "sgd":
            raise InvalidInput(f"lr=auto needs optimizer sgd (the rule ε(B) = ε_max / (1 + "
                               f"B_noise/B) is for plain SGD steps), got {self.optimizer}")
        if (self.auto_monkeys or self.auto_lr) and self.policy != "positional":
            raise InvalidInput("monkeys/lr auto need a positional policy (the noise scale of "
                               "a context policy is not measured)")
        if self.auto_monkeys:
            return max_monkeys
        return positive_int(self.monkeys, "monkeys")

    @property
    def auto_monkeys(self) -> bool:
        """True if the troop recruits its monkeys each step (``monkeys="auto"``)."""
        return isinstance(self.monkeys, str)

    @property
    def auto_lr(self) -> bool:
        """True if the step size is set each step (``lr="auto"``)."""
        return isinstance(self.lr, str)

    @property
    def monkeys_max(self) -> int:
        """The largest number of monkeys of a step: ``monkeys``, or ``max_monkeys`` when
        auto."""
        return int(self.max_monkeys) if self.auto_monkeys else int(self.monkeys)

    def _check_reviewer(self) -> None:
        """The noisy reviewer and the preference settings."""
        nonneg_float(self.reviewer_noise, "reviewer noise σ (characters)")
        if not (is_real(self.flip_rate) and 0 <= self.flip_rate < 0.5):
            raise InvalidInput(f"flip rate ε must be in [0, 0.5), got {self.flip_rate!r}")
        if self.preferences is None:
            if self.flip_rate > 0 and self.reward != "exact":
                raise InvalidInput(f"a flip rate needs binary verdicts: exact bananas or "
                                   f"--preferences; {self.reward} bananas are graded (use "
                                   f"reviewer noise σ)")
            return
        choice(self.preferences, *CHOICES["preferences"])
        if self.reward == "exact":
            raise InvalidInput("preferences need graded bananas: two documents that both miss "
                               "the target are always a tie under exact bananas; choose "
                               "prefix, hamming, levenshtein, ngram or words")
        if self.reviewer_noise > 0:
            raise InvalidInput("reviewer noise σ applies to scores; a preference reviewer errs "
                               "by its flip rate ε")
        if self.group_size % 2:
            raise InvalidInput(f"preferences compare the documents of a group in pairs; the "
                               f"group has {self.group_size} (make batch even)")
        if self.kl_mode == "k1":
            raise InvalidInput("preferences cannot carry the k1 KL term in the reward; use "
                               "kl_estimator exact (positional) or k3")
        if self.policy == "context" and self.entropy_coef != 0:
            raise InvalidInput(f"preferences cannot carry a context policy's entropy bonus "
                               f"(entropy_coef {self.entropy_coef:g}), which is folded into the "
                               "scores; use entropy_coef 0 or a positional policy")

    # --- derived ------------------------------------------------------------------------

    @property
    def calls_per_step(self) -> int:
        """Reviewer calls of one step, all monkeys: one per document, or with preferences
        one per pair (plus one repeat per group when ε is estimated)."""
        docs = self.monkeys_max * self.batch
        if self.preferences is None:
            return docs
        groups = 1 if self.troop else self.monkeys
        return docs // 2 + (groups if self.preferences == "estimated" else 0)

    @property
    def max_steps(self) -> int:
        """Steps the budget allows: ``max_reviewer_calls ÷ calls_per_step`` (rounded down; an
        auto troop may recruit a single monkey per step, so there ÷ ``batch``)."""
        if self.auto_monkeys:
            return self.max_reviewer_calls // self.batch
        return self.max_reviewer_calls // self.calls_per_step

    @property
    def group_size(self) -> int:
        """Documents per group: batch, or monkeys × batch for a troop (the largest troop when
        the monkeys are recruited)."""
        return self.monkeys_max * self.batch if self.troop else self.batch

    @property
    def n_epochs(self) -> int:
        if self.epochs is not None:
            return int(self.epochs)
        return ALGORITHMS[self.algo].epochs

    @property
    def kl_mode(self) -> str:
        """The KL gradient actually used: exact, k1 or k3."""
        if self.kl_estimator != "auto":
            return self.kl_estimator
        return "exact" if self.policy == "positional" else "k1"

    @property
    def advantage(self) -> str:
        """The advantage kind of the algorithm for this group size
        (:data:`~monkeysim.learn.algorithms.ADVANTAGE_KINDS`)."""
        return ALGORITHMS[self.algo].advantage_for(self.group_size)

    def as_dict(self) -> dict:
        d = asdict(self)
        d["adam_betas"] = list(self.adam_betas)
        return d
