"""Policy-gradient monkeys: REINFORCE, RLOO, GRPO, PPO, Dr. GRPO and REINFORCE++ with a KL
leash.

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
dr-grpo     ``r_j − mean`` (GRPO without the std division; Liu et     clipped ratio,
            al. 2025)                                                 ``epochs`` (1)
reinforce-  ``(r_j − mean) / (std + eps)`` over the whole batch,      clipped ratio,
pp          population std (Hu 2025); with one target per policy      ``epochs`` (1)
            this is GRPO's advantage × √((n−1)/n) up to eps
==========  =======================================================  ===================

Each row is one entry of :data:`monkeysim.learn.algorithms.ALGORITHMS` (with its default
epochs, smallest group and tuned step size) and one advantage function of
:func:`monkeysim._kernels.policy.group_advantages`. Where to read a step: the per-step loop is
:func:`monkeysim._kernels.policy.train_independent` (and ``train_troop``); the readable
one-file version of every algorithm, which the kernels match to 1e-8, is ``naive_train`` in
``tests/naive.py``.

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
:data:`~monkeysim.learn.metrics.NOISE_SCALE_DECAY`, smoothed before the ratio): the batch
size in documents beyond which larger batches stop paying off. ``|G|²`` estimates can be
negative, so a single step's ratio can be too. Only positional policies (a document's tokens
in distinct rows: O(1) per document without k3, O(L) with it); context policies log NaN.
:func:`~monkeysim.learn.noise_scale.noise_scale` measures it at a fixed policy.

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
from dataclasses import dataclass, field

import numpy as np

from .._kernels import policy as KP
from ..alphabet import Alphabet
from ..errors import InvalidInput
from ..policy import CharPolicy, PolicySpec
from ..rng import STREAMS, chunk_states
from ..typewriter import numba_threads
from .config import INT64_MAX, MAX_ARRAY, TrainConfig
from .metrics import METRICS, smoothed_noise_scale, step_metrics
from .params import TROOP_CHUNK, kernel_params
from .reviewers import ExternalReviewer, reviewer_for, target_codes

TRAIN_STREAM = STREAMS["train"]  # monkey m types from chunk_state(seed, m, TRAIN_STREAM)
BLOCK_DOCS = 1 << 16  # documents per kernel call (steps are run in blocks of about this size)
MAX_BLOCK_STEPS = 256


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


def initial_policies(config: TrainConfig, spec: PolicySpec, init, reference, policies: int):
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


class RunState:
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


def _stop_step(config: TrainConfig, st: RunState) -> int | None:
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
    alpha, codes = target_codes(target, alphabet, alphabet_chars)
    reviewer = reviewer_for(config, target, alpha, codes, reviewer)
    spec = PolicySpec(config.policy, len(codes), alpha.size, config.order)
    m, k, length = config.monkeys_max, config.batch, len(codes)
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
    _, _, reviewer, _ = _setup(config, target, alphabet, alphabet_chars)
    if config.auto_monkeys or config.auto_lr:
        from .auto_troop import check_auto

        check_auto(config, reviewer)


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
    if config.auto_monkeys or config.auto_lr:  # a troop that sizes itself (issue 23)
        from .auto_troop import train_auto

        return train_auto(config, target, alphabet, init=init, reference=reference,
                          reviewer=reviewer, alphabet_chars=alphabet_chars, progress=progress)
    alpha, codes, reviewer, spec = _setup(config, target, alphabet, alphabet_chars, reviewer)
    m, k, length = config.monkeys, config.batch, len(codes)
    calls_per_step = config.calls_per_step
    max_steps = config.max_steps
    theta, reference = initial_policies(config, spec, init, reference, 1 if config.troop else m)
    ip, hp = kernel_params(config, spec, reviewer)
    block = max(1, min(MAX_BLOCK_STEPS, BLOCK_DOCS // (m * k)))
    columns: list[dict[str, np.ndarray]] = []
    done = 0
    seconds = 0.0
    with numba_threads(config.threads) as used:
        st = RunState(config, spec, codes, reviewer, theta, reference, m, config.troop)
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
                from ..errors import Diverged  # step can move such logits any more)

                raise Diverged(f"learning diverged: logits reached {np.abs(st.theta).max():.3g}"
                                f" (limit 1e100) after step {done + n} with learning rate "
                                f"lr={config.lr:g}; use a smaller --lr")
            columns.append(step_metrics(mm, pm, done, config, length))
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
