"""The state of one training run and its setup, shared by the fixed-size driver
(:func:`monkeysim.learn.train.train`) and the self-sizing troop
(:mod:`monkeysim.learn.auto_troop`): the kernel arrays (:class:`RunState`), the initial and
reference policies, the checks of a configuration against its target, and the result record
(:class:`TrainResult`)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._kernels import policy as KP
from ..alphabet import Alphabet
from ..errors import InvalidInput
from ..policy import CharPolicy, PolicySpec
from ..rng import STREAMS, chunk_states
from .config import INT64_MAX, MAX_ARRAY, TrainConfig
from .params import TROOP_CHUNK
from .reviewers import ExternalReviewer, review_record, reviewer_for, target_codes

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
    """All arrays of a run; the kernels update them in place. :meth:`run` hands them to the
    kernels as the named records of :mod:`monkeysim._kernels.policy_records`."""

    # the state a block of steps changes (the tables logp/prob/cdf follow from theta; Adam's
    # moments only matter with Adam)
    MUTABLE = ("theta", "opt_t", "states", "baseline", "first_typed", "first_solved")
    ADAM = ("opt_m", "opt_v")
    MONKEYS = KP.Monkeys._fields  # per monkey: a sub-troop's view takes the first n rows

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
        self.sq = np.empty(p)
        self.psq = np.zeros((p, r))
        self.tables()
        ref_logp, ref_prob, _ = reference.tables()
        self.logq = ref_logp[0]
        self.qprob = ref_prob[0]
        self.review = review_record(reviewer, codes)
        self.states = chunk_states(config.seed, 0, m, TRAIN_STREAM)
        self.baseline = np.zeros((p, KP.N_BASE))
        self.docs = np.zeros((m, k, length), dtype=np.uint8)
        self.oldlp = np.zeros((m, k, length))
        for name in ("rewards", "shaped", "adv", "k1", "logp_sum", "psum"):
            setattr(self, name, np.zeros((m, k)))
        self.grad = np.zeros((slots, r, a))
        self.rowsum = np.zeros((slots, r))
        self.s1 = np.zeros(slots)
        self.greedy = np.zeros((p, length), dtype=np.uint8)
        self.first_typed = np.full(m, -1, dtype=np.int64)
        self.first_solved = np.full(p, -1, dtype=np.int64)
        self.policies = p
        self.spec = spec
        self.saved = self.MUTABLE + (self.ADAM if config.optimizer == "adam" else ())

    def greedy_documents(self) -> np.ndarray:
        """Greedy document of every policy from the current tables, uint8[P, L]."""
        out = np.empty((self.policies, self.spec.length), dtype=np.uint8)
        KP.greedy_batch(self.logp, self.spec.kind_code, self.spec.rows, self.spec.base, out)
        return out

    def tables(self) -> None:
        """The tables of ``theta`` (after a change outside the kernels' updates)."""
        KP.all_tables(self.theta, self.logp, self.prob, self.cdf)
        KP.sq_totals(self.prob, self.psq, self.sq)

    def snapshot(self) -> dict:
        return {name: getattr(self, name).copy() for name in self.saved}

    def restore(self, snap: dict) -> None:
        for name, arr in snap.items():
            getattr(self, name)[...] = arr
        self.tables()

    def records(self, steps: int):
        """The kernels' records of this state: ``(policies, reference, review, monkeys,
        work, metrics)``, the metrics new zeros for ``steps`` steps."""
        return (KP.Policies(*(getattr(self, f) for f in KP.Policies._fields)),
                KP.Reference(self.logq, self.qprob), self.review,
                KP.Monkeys(*(getattr(self, f) for f in self.MONKEYS)),
                KP.Work(*(getattr(self, f) for f in KP.Work._fields)),
                KP.Metrics(np.zeros((steps, self.states.shape[0], KP.N_MM)),
                           np.zeros((steps, self.policies, KP.N_PM))))

    def run(self, par, steps: int):
        """``steps`` steps with a built-in reviewer; returns their metrics ``(mm, pm)``."""
        pol, ref, rev, mon, work, met = self.records(steps)
        KP.train_steps(par, steps, pol, ref, rev, mon, work, met)
        return met

    def run_external(self, par, reviewer: ExternalReviewer):
        """One step with a reviewer outside numba: the kernels type (and draw the noise of a
        noisy reviewer as usual), ``reviewer`` scores the documents, the kernels learn.
        Returns the step's metrics like :meth:`run`."""
        pol, ref, rev, mon, work, met = self.records(1)
        KP.type_step(par, 0, pol, ref, rev, mon, met)
        m, k, length = self.docs.shape
        self.rewards += reviewer(self.docs.reshape(m * k, length)).reshape(m, k)
        KP.learn_step(par, 0, pol, ref, rev, mon, work, met)
        return met


def _stop_step(config: TrainConfig, st: RunState) -> int | None:
    """The global step at which the run stops (its stop condition first held), else None."""
    solved = st.first_solved[st.first_solved >= 0]
    typed = st.first_typed[st.first_typed >= 0]
    return stop_step(config.stop, int(solved.min()) if solved.size else None,
                     int(-(-typed.min() // config.batch)) if typed.size else None)


def stop_step(stop: str, solved: int | None, typed: int | None) -> int | None:
    """The step at which ``stop`` (solved | typed | both | budget) first held, given the steps
    at which the greedy document was first solved and a monkey first typed the target."""
    if stop == "solved":
        return solved
    if stop == "typed":
        return typed
    if stop == "both":
        return None if solved is None or typed is None else max(solved, typed)
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
