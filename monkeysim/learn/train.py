"""Policy-gradient monkeys: REINFORCE, RLOO, GRPO and PPO with a KL leash.

Each monkey (or a troop sharing one policy) types ``batch`` documents per step from its
character policy (:mod:`monkeysim.policy`), the reviewer scores every document (one reviewer
call each), and a policy-gradient step changes θ. The algorithms share one implementation of
sampling, log-probabilities, advantages and gradients (:mod:`monkeysim._kernels.policy`) and
differ only in

==========  =======================================================  ===================
algorithm   advantage of document j in its group                      update
==========  =======================================================  ===================
reinforce   ``r_j − b``, ``b`` = running mean reward of *earlier*     one step per batch
            batches (bias-corrected EMA), so the estimator is
            unbiased for any batch size
rloo        ``r_j − mean of the other documents of the group``        one step per batch
grpo        ``(r_j − mean) / (std + eps)`` (sample std, as TRL)       clipped ratio,
                                                                      ``epochs`` (1)
ppo         leave-one-out as RLOO (running-mean baseline if the       clipped ratio,
            group has one document)                                   ``epochs`` (4)
==========  =======================================================  ===================

A *group* is the documents of one policy in one step: a monkey's ``batch`` documents, or the
whole troop's ``monkeys × batch``. The clipped objective uses per-token ratios
``ρ = π(a|row) / π_old(a|row)``; in the first epoch ρ = 1 and every algorithm's step is the
plain score-function gradient of its advantages.

KL leash to a reference policy π_ref (default: the initial policy) with coefficient β,
maximising ``E[r] − β KL(π‖π_ref) + α H(π)``:

- ``exact`` (default for positional policies): the KL and entropy factorise over positions
  and their exact gradients are added;
- ``k1`` (default for context policies): ``−β log(π/π_ref)`` of each document is folded into
  its reward (score function: an unbiased estimate of ∇KL); the entropy bonus of a context
  policy is folded in the same way as ``−α log π``;
- ``k3``: the per-token ``β (π_ref/π − 1 − log(π_ref/π))`` is put in the loss as GRPO does;
  note its gradient is that of the *reverse* KL(π_ref‖π) per token.

Gradient noise scale (McCandlish, Kaplan, Amodei et al. 2018, "An Empirical Model of
Large-Batch Training", App. A). With ``g_j = A_j ∇ log π(x_j)`` the per-document
score-function gradient of a group of n documents (first epoch, the algorithm's own advantage,
plus the k3 term in k3 mode, without the exact KL / entropy gradients), ``S1 = Σ_j |g_j|²``
and ``S2 = |mean_j g_j|²``, the kernels estimate per policy and step (``B_small = 1``,
``B_big = n``)

    |G|² ≈ (n S2 − S1/n) / (n − 1),        tr Σ ≈ (S1/n − S2) / (1 − 1/n),

unbiased when the g_j are independent (REINFORCE). With leave-one-out advantages (RLOO, PPO)
the g_j of a group are correlated, ``E[g_i · g_j] = (1 + 1/(n−1)²) |G|²``, so the first
estimates ``(1 + 1/(n−1)²) |G|²`` instead (see :func:`monkeysim.theory.noise_scale_uniform`).
The columns ``grad_sq`` and ``trace_sigma`` are their means over policies, and ``b_simple``
is ``EMA(trace_sigma) / EMA(grad_sq)`` (bias-corrected EMAs, decay
:data:`NOISE_SCALE_DECAY`, smoothed before the ratio): the batch size in documents beyond
which larger batches stop paying off. ``|G|²`` estimates can be negative, so a single step's
ratio can be too. Only positional policies (a document's tokens in distinct rows: O(1) per
document without k3, O(L) with it); context policies log NaN. :func:`noise_scale` measures
it at a fixed policy.

Counting: one reviewer call per scored document; keystrokes = documents typed × L. All
monkeys step in lockstep, so "total work" is ``monkeys ×`` the per-monkey ("wall") count.

Defaults: SGD, batch 16 and a learning rate per algorithm (:data:`DEFAULT_LR`), tuned on the
weasel sentence with hamming bananas. Adam with a large step (the earlier default 0.35) and a
baseline that lags a rising reward (REINFORCE) or several epochs per batch (PPO) pushes
noisy positions onto a wrong key with high confidence; the policy then stops exploring
them and the run stalls (greedy document nearly right, never solved). That is a property
of those hyperparameters, not a bug: the estimators match the exact gradient (tests), and
with SGD every algorithm solves the weasel in a few hundred reviewer calls.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np

from .._kernels import policy as KP
from .._kernels.reward import REWARD_KINDS
from ..alphabet import Alphabet, resolve
from ..errors import InvalidInput, choice, is_real, nonneg_float, positive_float, positive_int
from ..policy import POLICY_KINDS, CharPolicy, PolicySpec
from ..rng import STREAMS, check_seed, chunk_states
from ..typewriter import numba_threads

ALGOS = ("reinforce", "rloo", "grpo", "ppo")
OPTIMIZERS = ("sgd", "adam")
KL_ESTIMATORS = ("auto", "exact", "k1", "k3")
STOPS = ("solved", "typed", "both", "budget")
PREFERENCES = ("naive", "debiased", "estimated")
TRAIN_STREAM = STREAMS["train"]  # monkey m types from chunk_state(seed, m, TRAIN_STREAM)
TROOP_CHUNK = 16  # monkeys per gradient chunk of a troop (fixed: independent of threads)
BLOCK_DOCS = 1 << 16  # documents per kernel call (steps are run in blocks of about this size)
MAX_BLOCK_STEPS = 256
INT64_MAX = np.iinfo(np.int64).max
MAX_ARRAY = 1 << 25  # largest logits (policies × rows × keys) or per-step tokens (M × K × L)

# Default learning rates per (algorithm, optimiser), tuned on the weasel sentence with
# hamming bananas, one monkey, batch 16 (seeds 100-179, disjoint from the benchmark's seeds;
# see docs/metrics.md). GRPO's advantages are normalised to unit std, hence its smaller SGD
# rate; PPO takes 4 steps per batch.
DEFAULT_LR: dict[tuple[str, str], float] = {
    ("reinforce", "sgd"): 2.0, ("rloo", "sgd"): 4.0, ("grpo", "sgd"): 0.2, ("ppo", "sgd"): 0.75,
    ("reinforce", "adam"): 0.01, ("rloo", "adam"): 0.01, ("grpo", "adam"): 0.01,
    ("ppo", "adam"): 0.003,
}

# per-step metric columns (name, unit/meaning) -- documented in docs/metrics.md
METRICS: dict[str, str] = {
    "step": "update step (1-based)",
    "reviewer_calls": "cumulative reviewer calls, all monkeys (documents scored, or pairs "
                      "compared with preferences)",
    "keystrokes": "cumulative keystrokes, all monkeys (documents × L)",
    "reward_mean": "mean reviewer reward (bananas per document) of this step's documents",
    "reward_std": "standard deviation of this step's rewards (over all documents)",
    "bananas": "total reward handed out this step (sum over documents)",
    "exact_hits": "documents this step that were exactly the target",
    "greedy_correct": "correct keys of the greedy (argmax) document, best policy",
    "greedy_correct_mean": "correct keys of the greedy document, mean over policies",
    "kl_exact": "exact KL(π‖π_ref) of whole documents after the step, nats (mean over policies)",
    "kl_k1": "k1 estimate Σ log(π/π_ref) over this step's documents, nats (mean)",
    "kl_k3": "k3 estimate Σ (π_ref/π − 1 − log(π_ref/π)) over this step's documents, nats",
    "entropy": "exact entropy H(π) of whole documents after the step, nats (mean)",
    "frac_reward_zero_std": "fraction of groups whose rewards are all equal (no signal)",
    "grad_norm": "Euclidean norm of the first-epoch ascent direction (mean over policies)",
    "clip_fraction": "fraction of token updates clipped by the PPO/GRPO ratio clip",
    "grad_sq": "unbiased estimate of |G|², the squared norm of the true gradient of this "
               "step's objective (mean over policies; NaN for context policies)",
    "trace_sigma": "unbiased estimate of tr Σ, the per-document gradient variance "
                   "(mean over policies; NaN for context policies)",
    "b_simple": "gradient noise scale B_simple = EMA(trace_sigma) / EMA(grad_sq), documents "
                "(bias-corrected EMAs over steps, decay NOISE_SCALE_DECAY)",
}
NOISE_SCALE_DECAY = 0.9  # decay of the EMAs over steps whose ratio is the b_simple column


@dataclass(frozen=True)
class TrainConfig:
    """Configuration of one training run (validated on construction)."""

    algo: str = "rloo"
    """reinforce | rloo | grpo | ppo."""
    reward: str = "hamming"
    """The reviewer: exact | prefix | hamming | levenshtein | ngram | words."""
    policy: str = "positional"
    """positional (one categorical per position) | context (n-gram)."""
    order: int = 1
    """n of a context policy: the next key depends on the last n − 1 keys."""
    monkeys: int = 1
    """Number of monkeys N."""
    troop: bool = False
    """True: all monkeys share one policy and pool their documents in every update."""
    batch: int = 16
    """Documents each monkey types (and the reviewer scores) per step."""
    lr: float | None = None
    """Learning rate (> 0); None: the tuned default of the algorithm and optimiser
    (:data:`DEFAULT_LR`). Resolved on construction, so ``config.lr`` is always a number."""
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
    """Optimisation epochs over each batch (None: 4 for ppo, else 1; > 1 only for grpo/ppo)."""
    clip: float = 0.2
    """PPO/GRPO ratio clip ε (> 0)."""
    baseline_decay: float = 0.9
    """REINFORCE running-mean baseline decay in [0, 1)."""
    group_eps: float = 1e-4
    """GRPO: ε added to the group's reward std."""
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

    def __post_init__(self) -> None:
        choice(self.algo, ALGOS, "algorithm")
        choice(self.reward, REWARD_KINDS, "reward")
        choice(self.policy, POLICY_KINDS, "policy")
        choice(self.optimizer, OPTIMIZERS, "optimizer")
        choice(self.kl_estimator, KL_ESTIMATORS, "KL estimator")
        choice(self.stop, STOPS, "stop")
        order = positive_int(self.order, "order")
        if self.policy == "positional" and order != 1:
            raise InvalidInput(f"order n={order} needs --policy context")
        monkeys = positive_int(self.monkeys, "monkeys")
        batch = positive_int(self.batch, "batch")
        if not isinstance(self.troop, bool | np.bool_):
            raise InvalidInput(f"troop must be True or False, got {self.troop!r}")
        if self.lr is None:
            object.__setattr__(self, "lr", DEFAULT_LR[(self.algo, self.optimizer)])
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
        if self.algo in ("rloo", "grpo") and group < 2:
            where = (f"monkeys × batch = {group}" if self.troop else f"batch = {batch}")
            raise InvalidInput(
                f"{self.algo} needs at least 2 documents per group (batch ≥ 2, or a troop "
                f"with monkeys × batch ≥ 2), got {where}")
        if self.epochs is not None:
            epochs = positive_int(self.epochs, "epochs")
            if epochs > 1 and self.algo not in ("grpo", "ppo"):
                raise InvalidInput(f"epochs > 1 needs a clipped algorithm (grpo or ppo); "
                                   f"{self.algo} is on-policy with one step per batch")
        if self.kl_estimator == "exact" and self.policy != "positional":
            raise InvalidInput("the exact KL gradient needs a positional policy; use "
                               "kl_estimator k1 or k3 for context policies")
        self._check_reviewer()
        calls = positive_int(self.max_reviewer_calls, "max reviewer calls")
        if calls < self.calls_per_step:
            raise InvalidInput(
                f"max reviewer calls {calls} is below one step of {monkeys} monkeys × batch "
                f"{batch} = {self.calls_per_step} calls")
        if self.threads is not None:
            import numba

            t = positive_int(self.threads, "threads")
            if t > numba.config.NUMBA_NUM_THREADS:
                raise InvalidInput(f"threads must be between 1 and "
                                   f"{numba.config.NUMBA_NUM_THREADS}, got {t}")

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
        choice(self.preferences, PREFERENCES, "preferences")
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

    # --- derived ------------------------------------------------------------------------

    @property
    def calls_per_step(self) -> int:
        """Reviewer calls of one step, all monkeys: one per document, or with preferences
        one per pair (plus one repeat per group when ε is estimated)."""
        docs = self.monkeys * self.batch
        if self.preferences is None:
            return docs
        groups = 1 if self.troop else self.monkeys
        return docs // 2 + (groups if self.preferences == "estimated" else 0)

    @property
    def group_size(self) -> int:
        """Documents per group: batch, or monkeys × batch for a troop."""
        return self.monkeys * self.batch if self.troop else self.batch

    @property
    def n_epochs(self) -> int:
        if self.epochs is not None:
            return int(self.epochs)
        return 4 if self.algo == "ppo" else 1

    @property
    def kl_mode(self) -> str:
        """The KL gradient actually used: exact, k1 or k3."""
        if self.kl_estimator != "auto":
            return self.kl_estimator
        return "exact" if self.policy == "positional" else "k1"

    @property
    def advantage(self) -> str:
        """baseline | loo | group."""
        if self.algo == "reinforce":
            return "baseline"
        if self.algo == "grpo":
            return "group"
        if self.algo == "ppo" and self.group_size < 2:
            return "baseline"
        return "loo"

    def as_dict(self) -> dict:
        d = asdict(self)
        d["adam_betas"] = list(self.adam_betas)
        return d


@dataclass(frozen=True, eq=False)
class TrainResult:
    """Outcome of :func:`train`.

    Attributes:
        config: the configuration.
        target: the target text; alphabet: its alphabet.
        policy: the final policies (θ after ``steps`` steps).
        metrics: per-step arrays (see :data:`METRICS`), each of length ``steps``.
        steps: steps run (the stop step, or all the budget allowed).
        solved: whether a greedy document equalled the target.
        solved_step: the step after which it first did (0: the initial policy), else None.
        reviewer_calls, keystrokes: total over all monkeys until ``solved_step`` (or for the
            whole run if not solved).
        wall_reviewer_calls: per monkey, the same moment.
        typed: whether a monkey typed (sampled) the target exactly.
        typed_reviewer_calls, typed_keystrokes: total over all monkeys until the first
            monkey typed it (lockstep: monkeys × its own count), else None.
        typed_wall_reviewer_calls: per monkey, the same moment, else None.
        greedy: the greedy document of the best policy at the end.
        greedy_correct_initial: correct keys of the initial greedy document.
        seconds: wall-clock seconds in the kernels; threads: numba threads used.
    """

    config: TrainConfig
    target: str
    alphabet: Alphabet
    policy: CharPolicy = field(repr=False)
    metrics: dict = field(repr=False)
    steps: int
    solved: bool
    solved_step: int | None
    reviewer_calls: int
    keystrokes: int
    wall_reviewer_calls: int
    typed: bool
    typed_reviewer_calls: int | None
    typed_keystrokes: int | None
    typed_wall_reviewer_calls: int | None
    greedy: str
    greedy_correct_initial: int
    seconds: float
    threads: int

    @property
    def total_reviewer_calls(self) -> int:
        """Reviewer calls of the whole run (all steps, all monkeys)."""
        return self.steps * self.config.calls_per_step

    @property
    def reviewer_calls_per_second(self) -> float:
        return self.total_reviewer_calls / self.seconds if self.seconds > 0 else float("inf")

    def summary(self) -> dict:
        """JSON-ready summary."""
        m = self.metrics
        last = {k: float(v[-1]) for k, v in m.items() if len(v)} if self.steps else {}
        return {
            "target": self.target, "alphabet": self.alphabet.name,
            "alphabet_size": self.alphabet.size, "length": len(self.target),
            "algo": self.config.algo, "reward": self.config.reward,
            "policy": self.config.policy, "monkeys": self.config.monkeys,
            "troop": self.config.troop, "batch": self.config.batch, "seed": self.config.seed,
            "solved": self.solved, "steps": self.steps, "solved_step": self.solved_step,
            "reviewer_calls": self.reviewer_calls, "keystrokes": self.keystrokes,
            "wall_reviewer_calls": self.wall_reviewer_calls,
            "typed": self.typed, "typed_reviewer_calls": self.typed_reviewer_calls,
            "typed_keystrokes": self.typed_keystrokes,
            "typed_wall_reviewer_calls": self.typed_wall_reviewer_calls,
            "total_reviewer_calls": self.total_reviewer_calls,
            "greedy": self.greedy, "greedy_correct": int(last.get("greedy_correct",
                                                                   self.greedy_correct_initial)),
            "greedy_correct_initial": self.greedy_correct_initial,
            "final_reward_mean": last.get("reward_mean"),
            "final_kl_exact": last.get("kl_exact"), "final_entropy": last.get("entropy"),
            "seconds": self.seconds, "reviewer_calls_per_second": self.reviewer_calls_per_second,
            "threads": self.threads,
        }


# --- set-up shared by train() and policy_gradient_samples() ------------------------------

def _target_codes(target, alphabet, alphabet_chars) -> tuple[Alphabet, np.ndarray]:
    if not isinstance(target, str) or len(target) == 0:
        raise InvalidInput("target is empty; give at least one character")
    alpha = resolve(target, alphabet, alphabet_chars)
    return alpha, alpha.encode(target)


class ExternalReviewer:
    """A reviewer outside numba, wrapped for :func:`train`: any object with
    ``score_batch(docs) -> scores`` or any callable ``f(docs) -> scores``, where ``docs`` is
    uint8[n, L] (encoded documents) and ``scores`` n finite numbers (bananas). If the object
    has ``score_range = (lo, hi)``, every score must lie in it. Each step the kernels type the
    documents, this reviewer scores them, and the kernels learn from the scores."""

    kind_code = -1  # no built-in kind: the kernels never score by themselves
    ngram_n = 1
    word_start = word_end = np.zeros(0, dtype=np.int64)

    def __init__(self, reviewer) -> None:
        self.reviewer = reviewer
        self.score = getattr(reviewer, "score_batch", reviewer)
        self.range = getattr(reviewer, "score_range", None)
        self.name = type(reviewer).__name__

    def __call__(self, docs: np.ndarray) -> np.ndarray:
        """float64[n]: the validated scores of ``docs`` (uint8[n, L])."""
        n = docs.shape[0]
        try:
            out = np.asarray(self.score(docs), dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise InvalidInput(f"reviewer {self.name} did not return numbers: {exc}") from None
        if out.shape != (n,):
            raise InvalidInput(f"reviewer {self.name} returned scores of shape {out.shape} "
                               f"for {n} documents; expected ({n},)")
        if not np.isfinite(out).all():
            bad = out[~np.isfinite(out)][0]
            raise InvalidInput(f"reviewer {self.name} returned {bad!r}; scores must be finite")
        if self.range is not None:
            lo, hi = self.range
            if out.min() < lo or out.max() > hi:
                v = out.min() if out.min() < lo else out.max()
                raise InvalidInput(f"reviewer {self.name} returned {v!r}, outside its "
                                   f"score_range [{lo}, {hi}]")
        return out


def _reviewer_for(config: TrainConfig, target: str, alpha: Alphabet, codes, reviewer):
    """The built-in reviewer of ``config.reward``; a given ``TextReviewer`` (the numba fast
    path); or any other reviewer (:class:`ExternalReviewer`)."""
    from ..reward import make_reviewer

    if reviewer is None:
        return make_reviewer(config.reward, target, alpha, ngram_n=config.ngram_n)
    if isinstance(reviewer, ExternalReviewer):
        return reviewer
    builtin = ("kind_code", "target_codes", "word_start", "word_end", "ngram_n")
    if all(hasattr(reviewer, attr) for attr in builtin):
        if not np.array_equal(np.asarray(reviewer.target_codes), codes):
            raise InvalidInput("the reviewer's target differs from the training target")
        return reviewer
    if not (callable(reviewer) or callable(getattr(reviewer, "score_batch", None))):
        raise InvalidInput(f"reviewer must score a batch of encoded documents (a "
                           f"score_batch(docs) method or a callable), got "
                           f"{type(reviewer).__name__}")
    if config.flip_rate > 0 and config.preferences is None:
        raise InvalidInput("a flip rate of verdicts applies to the built-in exact bananas; "
                           "wrap your reviewer (e.g. reward.NoisyReviewer) instead")
    return ExternalReviewer(reviewer)


def _policies(config: TrainConfig, spec: PolicySpec, init, reference, policies: int):
    if init is None:
        init = CharPolicy.uniform(spec)
    if not isinstance(init, CharPolicy):
        raise InvalidInput(f"init must be a CharPolicy, got {type(init).__name__}")
    if init.spec != spec:
        raise InvalidInput(
            f"initial policy has the wrong shape: {init.spec.kind} n={init.spec.order} "
            f"L={init.spec.length} A={init.spec.alphabet_size}; training needs {spec.kind} "
            f"n={spec.order} L={spec.length} A={spec.alphabet_size}")
    theta = init.copy(policies)
    if reference is None:
        reference = CharPolicy(spec, init.theta[:1])
    else:
        theta.check_reference(reference)
    return theta, reference


def _params(config: TrainConfig, spec: PolicySpec, reviewer, dry: bool):
    ip = np.zeros(KP.N_INT, dtype=np.int64)
    ip[KP.I_KIND] = spec.kind_code
    ip[KP.I_ROWS] = spec.rows
    ip[KP.I_BASE] = spec.base
    ip[KP.I_REWARD] = int(reviewer.kind_code)
    ip[KP.I_NGRAM] = int(reviewer.ngram_n)
    ip[KP.I_ADV] = {"baseline": KP.ADV_BASELINE, "loo": KP.ADV_LOO,
                    "group": KP.ADV_GROUP}[config.advantage]
    ip[KP.I_EPOCHS] = config.n_epochs
    ip[KP.I_KL] = {"exact": KP.KL_EXACT, "k1": KP.KL_K1, "k3": KP.KL_K3}[config.kl_mode]
    ip[KP.I_OPT] = KP.OPT_ADAM if config.optimizer == "adam" else KP.OPT_SGD
    ip[KP.I_DRY] = int(dry)
    ip[KP.I_CHUNK] = TROOP_CHUNK
    hp = np.zeros(KP.N_FLOAT)
    hp[KP.F_LR] = config.lr
    hp[KP.F_CLIP] = config.clip if config.algo in ("grpo", "ppo") else 0.0
    hp[KP.F_GROUP_EPS] = config.group_eps
    hp[KP.F_BETA] = config.kl_coef
    hp[KP.F_ENTROPY] = config.entropy_coef
    hp[KP.F_B1], hp[KP.F_B2] = config.adam_betas
    hp[KP.F_ADAM_EPS] = config.adam_eps
    hp[KP.F_DECAY] = config.baseline_decay
    hp[KP.F_NOISE] = config.reviewer_noise / spec.length
    hp[KP.F_FLIP] = config.flip_rate
    ip[KP.I_PREF] = {None: KP.PREF_NONE, "naive": KP.PREF_NAIVE, "debiased": KP.PREF_DEBIASED,
                     "estimated": KP.PREF_ESTIMATED}[config.preferences]
    return ip, hp


class _State:
    """All arrays of a run; the kernels update them in place."""

    # the state a block of steps changes (the tables logp/prob/cdf follow from theta; Adam's
    # moments only matter with Adam)
    MUTABLE = ("theta", "opt_t", "states", "baseline", "first_typed", "first_solved")
    ADAM = ("opt_m", "opt_v")

    def __init__(self, config: TrainConfig, spec: PolicySpec, codes, reviewer,
                 theta: CharPolicy, reference: CharPolicy, monkeys: int, troop: bool):
        m, k, length = monkeys, config.batch, spec.length
        p = 1 if troop else m
        slots = -(-m // TROOP_CHUNK) if troop else m
        r, a = spec.shape
        self.theta = theta.theta
        self.opt_m = np.zeros_like(self.theta)
        self.opt_v = np.zeros_like(self.theta)
        self.opt_t = np.zeros(p, dtype=np.int64)
        self.logp = np.empty_like(self.theta)
        self.prob = np.empty_like(self.theta)
        self.cdf = np.empty_like(self.theta)
        KP.all_tables(self.theta, self.logp, self.prob, self.cdf)
        ref_logp, ref_prob, _ = reference.tables()
        self.logq = ref_logp[0]
        self.qprob = ref_prob[0]
        self.states = chunk_states(config.seed, 0, m, TRAIN_STREAM)
        self.target = np.ascontiguousarray(codes, dtype=np.uint8)
        self.word_start = np.ascontiguousarray(reviewer.word_start, dtype=np.int64)
        self.word_end = np.ascontiguousarray(reviewer.word_end, dtype=np.int64)
        self.baseline = np.zeros((p, KP.N_BASE))
        self.docs = np.zeros((m, k, length), dtype=np.uint8)
        self.rewards = np.zeros((m, k))
        self.shaped = np.zeros((m, k))
        self.adv = np.zeros((m, k))
        self.oldlp = np.zeros((m, k, length))
        self.grad = np.zeros((slots, r, a))
        self.rowsum = np.zeros((slots, r))
        self.greedy = np.zeros((p, length), dtype=np.uint8)
        self.first_typed = np.full(m, -1, dtype=np.int64)
        self.first_solved = np.full(p, -1, dtype=np.int64)
        self.policies = p
        self.spec = spec
        self.saved = self.MUTABLE + (self.ADAM if config.optimizer == "adam" else ())
        self.kernel = KP.train_troop if troop else KP.train_independent

    def greedy_documents(self) -> np.ndarray:
        """Greedy document of every policy from the current tables, uint8[P, L]."""
        out = np.empty((self.policies, self.spec.length), dtype=np.uint8)
        KP.greedy_batch(self.logp, self.spec.kind_code, self.spec.rows, self.spec.base, out)
        return out

    def snapshot(self) -> dict:
        return {name: getattr(self, name).copy() for name in self.saved}

    def restore(self, snap: dict) -> None:
        for name, arr in snap.items():
            getattr(self, name)[...] = arr
        KP.all_tables(self.theta, self.logp, self.prob, self.cdf)

    def run_external(self, ip, hp, reviewer: ExternalReviewer):
        """One step with a reviewer outside numba: the kernels type (``PHASE_TYPE``, noise of
        a noisy reviewer drawn as usual), ``reviewer`` scores the documents, the kernels
        learn (``PHASE_LEARN``). Returns the step's metrics like :meth:`run`."""
        m, k, length = self.docs.shape
        ip[KP.I_PHASE] = KP.PHASE_TYPE
        try:
            mm, _ = self.run(ip, hp, 1)
            r = reviewer(self.docs.reshape(m * k, length)).reshape(m, k)
            self.rewards += r  # the kernels left 0 (plus any reviewer noise)
            self.shaped += r
            # summed in document order, as the kernels do (cumsum is sequential)
            mm[0, :, KP.MM_REWARD] = np.cumsum(self.rewards, axis=1)[:, -1]
            mm[0, :, KP.MM_REWARD_SQ] = np.cumsum(self.rewards * self.rewards, axis=1)[:, -1]
            ip[KP.I_PHASE] = KP.PHASE_LEARN
            learned, pm = self.run(ip, hp, 1)
        finally:
            ip[KP.I_PHASE] = KP.PHASE_ALL
        learned[0, :, KP.MM_CLIPPED] += mm[0, :, KP.MM_CLIPPED]
        for col in (KP.MM_REWARD, KP.MM_REWARD_SQ, KP.MM_HITS, KP.MM_K1, KP.MM_K3):
            learned[0, :, col] = mm[0, :, col]
        return learned, pm

    def run(self, ip, hp, steps: int):
        mm = np.zeros((steps, self.states.shape[0], KP.N_MM))
        pm = np.zeros((steps, self.policies, KP.N_PM))
        self.kernel(ip, hp, steps, self.theta, self.opt_m, self.opt_v, self.opt_t, self.logp,
                    self.prob, self.cdf, self.logq, self.qprob, self.states, self.target,
                    self.word_start, self.word_end, self.baseline, self.docs, self.rewards,
                    self.shaped, self.adv, self.oldlp, self.grad, self.rowsum, self.greedy, mm, pm,
                    self.first_typed, self.first_solved)
        return mm, pm


def _step_metrics(mm: np.ndarray, pm: np.ndarray, step0: int, config: TrainConfig,
                  length: int) -> dict[str, np.ndarray]:
    """Reduce per-monkey / per-policy kernel metrics of a block to per-step columns."""
    n_steps, monkeys, _ = mm.shape
    docs = monkeys * config.batch
    steps = np.arange(step0 + 1, step0 + n_steps + 1, dtype=np.int64)
    tot = mm.sum(axis=1)
    mean = tot[:, KP.MM_REWARD] / docs
    var = np.maximum(tot[:, KP.MM_REWARD_SQ] / docs - mean**2, 0.0)
    return {
        "step": steps,
        "reviewer_calls": steps * config.calls_per_step,
        "keystrokes": steps * docs * length,
        "reward_mean": mean,
        "reward_std": np.sqrt(var),
        "bananas": tot[:, KP.MM_REWARD],
        "exact_hits": tot[:, KP.MM_HITS].astype(np.int64),
        "greedy_correct": pm[:, :, KP.PM_GREEDY].max(axis=1).astype(np.int64),
        "greedy_correct_mean": pm[:, :, KP.PM_GREEDY].mean(axis=1),
        "kl_exact": pm[:, :, KP.PM_KL].mean(axis=1),
        "kl_k1": tot[:, KP.MM_K1] / docs,
        "kl_k3": tot[:, KP.MM_K3] / docs,
        "entropy": pm[:, :, KP.PM_ENTROPY].mean(axis=1),
        "frac_reward_zero_std": pm[:, :, KP.PM_ZERO_STD].mean(axis=1),
        "grad_norm": pm[:, :, KP.PM_GRAD_NORM].mean(axis=1),
        "clip_fraction": tot[:, KP.MM_CLIPPED] / (docs * length * config.n_epochs),
        "grad_sq": pm[:, :, KP.PM_GRAD_SQ].mean(axis=1),
        "trace_sigma": pm[:, :, KP.PM_TRACE_SIGMA].mean(axis=1),
    }


def smoothed_noise_scale(grad_sq, trace_sigma, decay: float = NOISE_SCALE_DECAY) -> np.ndarray:
    """``B_simple`` per step: ``EMA(trace_sigma) / EMA(grad_sq)`` over the steps so far.

    Both exponential moving averages (decay ``decay``) are bias-corrected by ``1 − decay**t``
    (the factors cancel in the ratio). NaN where an estimate is NaN (context policies) and
    where the smoothed ``|G|²`` is exactly 0 (no learning signal yet).
    """
    g = np.ascontiguousarray(grad_sq, dtype=np.float64)
    t = np.ascontiguousarray(trace_sigma, dtype=np.float64)
    out = np.empty(len(g))
    KP.ema_ratio(t, g, float(decay), out)
    return out


def _stop_step(config: TrainConfig, st: _State) -> int | None:
    """The global step at which the run stops (its stop condition first held), else None."""
    solved = st.first_solved[st.first_solved >= 0]
    typed = st.first_typed[st.first_typed >= 0]
    s_step = int(solved.min()) if solved.size else None
    t_step = int(-(-typed.min() // config.batch)) if typed.size else None
    if config.stop == "solved":
        return s_step
    if config.stop == "typed":
        return t_step
    if config.stop == "both":
        return None if s_step is None or t_step is None else max(s_step, t_step)
    return None


def _setup(config, target, alphabet, alphabet_chars, reviewer=None):
    """Validate a run before anything is allocated: (alphabet, codes, reviewer, spec)."""
    if not isinstance(config, TrainConfig):
        raise InvalidInput(f"config must be a TrainConfig, got {type(config).__name__}")
    alpha, codes = _target_codes(target, alphabet, alphabet_chars)
    reviewer = _reviewer_for(config, target, alpha, codes, reviewer)
    spec = PolicySpec(config.policy, len(codes), alpha.size, config.order)
    m, k, length = config.monkeys, config.batch, len(codes)
    if config.max_reviewer_calls * length > INT64_MAX:
        raise InvalidInput(f"max reviewer calls {config.max_reviewer_calls} × L {length} "
                           "overflows int64 keystrokes")
    logits = (1 if config.troop else m) * spec.rows * spec.alphabet_size
    if logits > MAX_ARRAY:
        raise InvalidInput(
            f"{'one shared policy' if config.troop else f'{m} policies'} × {spec.rows} rows × "
            f"{spec.alphabet_size} keys = {logits:,} logits; at most {MAX_ARRAY:,} are allowed "
            "(fewer monkeys, a troop, or a smaller context order)")
    if m * k * length > MAX_ARRAY:
        raise InvalidInput(f"monkeys {m} × batch {k} × L {length} = {m * k * length:,} keystrokes "
                           f"per step; at most {MAX_ARRAY:,} are allowed")
    return alpha, codes, reviewer, spec


def check(config: TrainConfig, target: str, alphabet: Alphabet | str | None = None,
          alphabet_chars: str | None = None) -> None:
    """Raise :class:`InvalidInput` if :func:`train` would refuse this run (nothing is run)."""
    _setup(config, target, alphabet, alphabet_chars)


def train(config: TrainConfig, target: str, alphabet: Alphabet | str | None = None, *,
          init: CharPolicy | None = None, reference: CharPolicy | None = None,
          reviewer=None, alphabet_chars: str | None = None,
          progress: Callable[[int, int, int], None] | None = None) -> TrainResult:
    """Train monkeys to type ``target`` with policy-gradient steps; see the module docstring.

    Args:
        config: the :class:`TrainConfig`.
        target: the target text (documents have ``len(target)`` keys).
        alphabet: an :class:`Alphabet`, a named alphabet, or None for the smallest named one.
        init: initial policy (one policy, or one per monkey); default uniform (θ = 0).
        reference: KL reference policy (one policy of the same shape); default the initial
            policy (policy 0 of ``init``).
        reviewer: default ``make_reviewer(config.reward, target, alphabet, config.ngram_n)``;
            a ``TextReviewer`` for ``target`` (scored inside the kernels); or any reviewer
            that scores a batch of encoded documents (``score_batch(docs)`` or a callable:
            a learned reward model, a user's function; see :class:`ExternalReviewer`), called
            once per step with all the step's documents. ``config.reward`` is then unused.
        alphabet_chars: custom alphabet symbols (instead of ``alphabet``).
        progress: called after each block of steps as ``progress(steps_done, max_steps,
            reviewer_calls)``.
    """
    alpha, codes, reviewer, spec = _setup(config, target, alphabet, alphabet_chars, reviewer)
    m, k, length = config.monkeys, config.batch, len(codes)
    calls_per_step = config.calls_per_step
    max_steps = config.max_reviewer_calls // calls_per_step
    theta, reference = _policies(config, spec, init, reference, 1 if config.troop else m)
    ip, hp = _params(config, spec, reviewer, dry=False)
    block = max(1, min(MAX_BLOCK_STEPS, BLOCK_DOCS // (m * k)))
    columns: list[dict[str, np.ndarray]] = []
    done = 0
    seconds = 0.0
    with numba_threads(config.threads) as used:
        st = _State(config, spec, codes, reviewer, theta, reference, m, config.troop)
        initial_correct = (st.greedy_documents() == codes).sum(axis=1)
        greedy_correct_initial = int(initial_correct.max())
        st.first_solved[initial_correct == length] = 0
        stop_at = _stop_step(config, st)
        external = isinstance(reviewer, ExternalReviewer)
        while stop_at is None and done < max_steps:
            n = 1 if external else min(block, max_steps - done)
            snap = st.snapshot() if n > 1 and config.stop != "budget" else None
            ip[KP.I_STEP0] = done
            t0 = time.perf_counter()
            mm, pm = st.run_external(ip, hp, reviewer) if external else st.run(ip, hp, n)
            seconds += time.perf_counter() - t0
            stop_at = _stop_step(config, st)
            if stop_at is not None and stop_at < done + n:  # rerun the block up to the stop
                st.restore(snap)
                n = stop_at - done
                t0 = time.perf_counter()
                mm, pm = st.run(ip, hp, n)
                seconds += time.perf_counter() - t0
            if not np.abs(st.theta).max() <= 1e100:  # diverged (inf/NaN, or no float64
                from ..errors import RunFailed  # step can move such logits any more)

                raise RunFailed(f"learning diverged: logits reached {np.abs(st.theta).max():.3g}"
                                f" (limit 1e100) after step {done + n} with learning rate "
                                f"lr={config.lr:g}; use a smaller --lr")
            columns.append(_step_metrics(mm, pm, done, config, length))
            done += n
            if progress is not None:
                progress(done, max_steps, done * calls_per_step)
        greedy = st.greedy_documents()
    metrics = {name: (np.concatenate([c[name] for c in columns]) if columns
                      else np.zeros(0)) for name in METRICS if name != "b_simple"}
    metrics["b_simple"] = smoothed_noise_scale(metrics["grad_sq"], metrics["trace_sigma"])
    metrics = {name: metrics[name] for name in METRICS}

    solved_steps = st.first_solved[st.first_solved >= 0]
    solved_step = int(solved_steps.min()) if solved_steps.size else None
    typed_docs = st.first_typed[st.first_typed >= 0]
    typed_wall = int(typed_docs.min()) if typed_docs.size else None
    calls_until = (solved_step if solved_step is not None else done) * calls_per_step
    final = CharPolicy(spec, st.theta)
    best = int(np.argmax((greedy == codes).sum(axis=1)))
    return TrainResult(
        config=config, target=target, alphabet=alpha, policy=final, metrics=metrics,
        steps=done, solved=solved_step is not None, solved_step=solved_step,
        reviewer_calls=calls_until, keystrokes=calls_until * length,
        wall_reviewer_calls=(solved_step if solved_step is not None else done) * k,
        typed=typed_wall is not None,
        typed_reviewer_calls=None if typed_wall is None else -(
            -typed_wall * m * calls_per_step // (m * k)),  # documents, or pairs compared
        typed_keystrokes=None if typed_wall is None else typed_wall * m * length,
        typed_wall_reviewer_calls=typed_wall,
        greedy=alpha.decode(greedy[best]), greedy_correct_initial=greedy_correct_initial,
        seconds=seconds, threads=used)


def _dry_step(config: TrainConfig, target: str, policy: CharPolicy | None, samples: int,
              alphabet, reference: CharPolicy | None, reviewer, baseline: float | None,
              first: int = 0, batch: int | None = None,
              caller: str = "policy_gradient_samples") -> tuple[_State, np.ndarray]:
    """One dry training step of ``samples`` independent monkeys that all hold ``policy``.

    Monkey ``i`` types ``batch`` (default ``config.batch``) documents from stream
    ``chunk_state(seed, first + i, 5)``. Returns the state (``grad`` holds every monkey's
    first-epoch direction) and the per-policy metrics ``pm[1, samples, N_PM]``.
    """
    samples = positive_int(samples, "samples")
    batch = config.batch if batch is None else batch
    config = TrainConfig(**{**config.as_dict(), "adam_betas": config.adam_betas,
                            "monkeys": samples, "troop": False, "batch": batch,
                            "max_reviewer_calls": max(config.max_reviewer_calls,
                                                      samples * batch)})
    alpha, codes = _target_codes(target, alphabet, None)
    reviewer = _reviewer_for(config, target, alpha, codes, reviewer)
    if isinstance(reviewer, ExternalReviewer):
        raise InvalidInput(f"{caller} needs a built-in reviewer (a TextReviewer)")
    spec = PolicySpec(config.policy, len(codes), alpha.size, config.order)
    if policy is not None and (not isinstance(policy, CharPolicy) or policy.policies != 1):
        raise InvalidInput(f"{caller} needs a single policy")
    theta, reference = _policies(config, spec, policy, reference, samples)
    st = _State(config, spec, codes, reviewer, theta, reference, samples, False)
    if first:
        st.states[...] = chunk_states(config.seed, first, samples, TRAIN_STREAM)
    if baseline is not None:
        st.baseline[:, 0] = float(baseline)
        st.baseline[:, 1] = 1.0
    ip, hp = _params(config, spec, reviewer, dry=True)
    with numba_threads(config.threads):
        _, pm = st.run(ip, hp, 1)
    return st, pm


def policy_gradient_samples(config: TrainConfig, target: str, policy: CharPolicy, samples: int,
                            alphabet: Alphabet | str | None = None, *,
                            reference: CharPolicy | None = None, reviewer=None,
                            baseline: float | None = None) -> np.ndarray:
    """Independent draws of one algorithm's first-epoch ascent direction at ``policy``.

    Runs the training kernel for one step without updating, for ``samples`` independent
    monkeys that all hold ``policy`` (one policy), each typing ``config.batch`` documents from
    its own stream. Returns float64[samples, R, A]: the direction each monkey's step would
    follow (before the optimiser), whose mean estimates the algorithm's expected update —
    for REINFORCE, RLOO and PPO/GRPO's first epoch with unbiased advantages this is the
    gradient of ``E[r] − β KL + α H``. ``baseline`` sets REINFORCE's running baseline.
    """
    if not isinstance(policy, CharPolicy):
        raise InvalidInput(f"policy must be a CharPolicy, got {type(policy).__name__}")
    st, _ = _dry_step(config, target, policy, samples, alphabet, reference, reviewer, baseline)
    return st.grad.copy()


NOISE_CHUNK = 1024  # groups per kernel call of noise_scale (bounds its memory)


@dataclass(frozen=True)
class NoiseScale:
    """The gradient noise scale of one algorithm at a fixed policy (:func:`noise_scale`).

    Every field is a mean over ``groups`` independent groups of ``group_size`` documents;
    ``*_se`` are standard errors of the means. ``b_simple = trace_sigma / grad_sq`` (a ratio
    of means, in documents) with its delta-method standard error
    ``se² = (var T − 2 B cov(T, G) + B² var G) / (groups · G²)`` and the 95 % interval
    ``b_simple ± 1.96 se``.
    """

    grad_sq: float
    """Mean per-group estimate of |G|² (for leave-one-out advantages: of (1 + 1/(n−1)²) |G|²)."""
    grad_sq_se: float
    trace_sigma: float
    """Mean per-group estimate of tr Σ, the per-document gradient variance."""
    trace_sigma_se: float
    b_simple: float
    """trace_sigma / grad_sq, documents."""
    b_simple_se: float
    b_simple_ci: tuple[float, float]
    """95 % interval of b_simple (delta method)."""
    groups: int
    group_size: int


def noise_scale(config: TrainConfig, target: str, alphabet: Alphabet | str | None = None, *,
                policy: CharPolicy | None = None, samples: int = 4096, reviewer=None,
                reference: CharPolicy | None = None,
                baseline: float | None = None) -> NoiseScale:
    """Measure ``B_simple`` of ``config``'s algorithm at a fixed positional ``policy``.

    Runs one dry step (as :func:`policy_gradient_samples`) for ``samples`` independent groups
    of ``config.group_size`` documents (``batch``, or ``monkeys × batch`` for a troop), all
    typed from ``policy`` (default uniform, θ = 0), and averages the kernels' per-group
    estimates of ``|G|²`` and ``tr Σ`` (see the module docstring). Groups run in chunks of
    :data:`NOISE_CHUNK` with streams ``chunk_state(seed, i, 5)`` for group i, so the result
    depends only on ``config.seed`` (not on threads). ``reference`` and ``baseline`` as in
    :func:`policy_gradient_samples` (REINFORCE's baseline defaults to 0, its first step).
    """
    samples = positive_int(samples, "samples")
    if not isinstance(config, TrainConfig):
        raise InvalidInput(f"config must be a TrainConfig, got {type(config).__name__}")
    if config.policy != "positional":
        raise InvalidInput("noise_scale needs a positional policy (a context policy's "
                           "per-document gradient norms are not computed)")
    n = config.group_size
    if n < 2:
        raise InvalidInput(f"noise_scale needs at least 2 documents per group, got {n}")
    if samples < 2:
        raise InvalidInput(f"noise_scale needs at least 2 samples (groups), got {samples}")
    g = np.empty(samples)
    t = np.empty(samples)
    for first in range(0, samples, NOISE_CHUNK):
        count = min(NOISE_CHUNK, samples - first)
        _, pm = _dry_step(config, target, policy, count, alphabet, reference, reviewer,
                          baseline, first=first, batch=n, caller="noise_scale")
        g[first:first + count] = pm[0, :, KP.PM_GRAD_SQ]
        t[first:first + count] = pm[0, :, KP.PM_TRACE_SIGMA]
    gm, tm = float(g.mean()), float(t.mean())
    cov = np.cov(np.stack([t, g]), ddof=1)
    b = tm / gm
    var_b = (cov[0, 0] - 2 * b * cov[0, 1] + b * b * cov[1, 1]) / (samples * gm * gm)
    se_b = float(np.sqrt(max(var_b, 0.0)))
    return NoiseScale(grad_sq=gm, grad_sq_se=float(np.sqrt(cov[1, 1] / samples)),
                      trace_sigma=tm, trace_sigma_se=float(np.sqrt(cov[0, 0] / samples)),
                      b_simple=b, b_simple_se=se_b,
                      b_simple_ci=(b - 1.959963984540054 * se_b, b + 1.959963984540054 * se_b),
                      groups=samples, group_size=n)
