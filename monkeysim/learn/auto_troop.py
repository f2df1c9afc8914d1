"""A troop that sizes itself: ``monkeys="auto"`` and ``lr="auto"`` (issue 23).

The troop measures the gradient noise scale of its own documents while it learns and sets,
before every step, the number of monkeys N that type this step and the SGD step size,
following McCandlish et al. (2018, "An Empirical Model of Large-Batch Training"): the knee of
the steps–documents hyperbola sits at a batch of B ≈ B_noise documents, and the best step size
at a batch of B documents is ε(B) = ε_max / (1 + B_noise / B).

The rule (:func:`first_step` and :func:`choose_step`, pure functions; the test replays
them in plain Python):

1. **Measure and take the first step** (step 1). ``N₁`` monkeys (``round(√max_monkeys)``, the
   geometric middle of the allowed range; a fixed N when ``monkeys`` is a number) type at the
   initial policy. The kernels return the ascent direction Ĝ of their ``B₁ = N₁ · batch``
   documents and the unbiased per-step estimates of |G|² and tr Σ (the ``grad_sq`` and
   ``trace_sigma`` columns). While Ĝ is exactly 0 (no document earned a different banana:
   sparse bananas) this step repeats with twice the monkeys, without an update. With
   ``lr="auto"`` the step that measured a Ĝ ≠ 0 then moves the logits of a position by
   :data:`FIRST_JUMP` = 2.5 in root-mean-square along Ĝ (``ε₁ = 2.5 · √L / |Ĝ|``), a trust
   region step, and takes that ε₁ as the knee's ε(B₁) = ε_max / (1 + B̂₀/B₁): this fixes
   ε_max and the per-document step size ``c = ε_max / B̂₀`` for the rest of the run.

   *Why no probe* (issue 23). Until stop 32 step 2 was a probe of ε_max: 6 candidate
   policies θ₀ + ε_k Ĝ (RMS changes 1/2 .. 16) typed by sub-troops of 2 monkeys (192
   documents, one step of wall time), the winner one candidate below the knee of the reward
   gain. On every prefix-banana target the run then recruited the troop of the best-placed
   fixed troop (N = 8-11) and needed its steps, and paid the calibration on top (measuring
   256 + probe 192 documents): on the shortest targets, whose E_min is ~400 documents at one
   monkey, E/E_min passed 3 (held-out TOMOR 3.83, fresh OCEAN 3.12). The probe's winners
   were 1 or 2 (prefix bananas) and 4 (hamming) in 160 development runs, never the ends, so a
   fixed trust-region jump replaces it. Chosen on the development targets (below) with two
   seed sets of 48, by the larger of the mean S/S_min and E/E_min over the five: the probe
   2.89 / 2.81 and 2.90 / 2.62; jump 1: 3.82 / 4.38; 1.5: 2.88 / 3.56; 2: 2.27 / 2.69 and 2.41
   / 2.68; 2.5: 2.04 / 2.55 and 1.97 / 2.50; 3: 1.97 / 2.50 and 2.12 / 2.42; 4: 2.95 / 4.26.
   2.5 and 3 tie; compare's "To b" prefix cell (96 keys, 48 fresh seeds, budget 2,000
   keystrokes per monkey) decided: 0 stalled runs with 2.5, 2 with 3, 3 with the probe; the
   weasel with hamming bananas: median S 3.06 with either, 4.13 with the probe. The price:
   hamming targets, which the probe's large candidates often typed in step 2, now take two
   steps (S/S_min ≈ 2 instead of ≈ 1; E/E_min 2.2-2.6 instead of 1.2-1.5), and long targets
   with prefix bananas stall more often (the weasel, 16 seeds at max_monkeys 256: 3 runs at
   the budget against none with the probe; a first jump of 1 had none and median steps 86
   against the probe's 107, but took hamming targets to S/S_min 3.6-3.8). Development
   targets: experiments/make_auto_troop.py's kind, not reported (prefixes ANTAR, THE PA,
   ANTARCT with prefix bananas; SHALL I CO, NOW IS THE W with hamming bananas; fixed ladders
   N = 1 .. 256 tuned on their own seeds).

2. **Every later step t**: ``B̂`` is the bias-corrected EMA ratio ``EMA(tr Σ) / EMA(|G|²)``
   of the estimates of all steps so far (decay :data:`~monkeysim.learn.metrics.
   NOISE_SCALE_DECAY`, the ``b_simple`` column, so the figure shows what the troop saw);
   ``N_t = clip(round(0.9 · B̂ / batch), 1, max_monkeys)`` (:data:`TROOP_SHARE`) and ``ε_t =
   ε_max / (1 + B̂ / (N_t · batch))`` with ``ε_max = c · B̂``. B̂ is the *largest* smoothed
   value so far: the troop recruits but never dismisses (as the growing batches of Smith et
   al. 2017 and AdaScale).
   B_simple falls as the policy sharpens after the first steps, but the knee of whole runs
   sits near its value at θ₀ (results/summary.json: the weasel's fitted B_crit 804 against
   B_simple 793 at θ₀); following the falling value made the troop 5-10× slower (and, with
   the probe rule on the development targets' prefix cells, S/S_min 4.8-6.1 for E/E_min
   1.3-1.9). When B̂
   is undefined (the smoothed |G|² is ≤ 0 or NaN) or the last step carried no signal (all
   its documents earned the same banana: a plateau of sparse bananas), N doubles (up to
   ``max_monkeys``) and ε stays.

   **Trust cap.** Every later SGD step moves the logits of a position by at most
   :data:`TRUST` × :data:`FIRST_JUMP` = 5 in root-mean-square (:func:`trust_step`: ``ε =
   min(ε_rule, TRUST · FIRST_JUMP · √L / |Ĝ_t|)``; the ``lr`` column is the step size
   applied). Why: the rule extrapolates ε (it grows with B̂ and N as ε_max / (1 + B̂/B)), and
   when the measuring step is nearly without signal (prefix bananas over 96 keys: 2-3 of its
   documents rewarded) its B̂ is noise (35,655 against ~30 a step later), the troop jumps to
   64-256 monkeys and ε to 14-140 × the first step; one such step makes a position
   deterministic on a wrong key, after which every document earns the same banana and no
   gradient can undo it (an absorbing stall). The cap of 2 × the calibrated jump was chosen
   with the probe (a replay on 48 fresh seeds of compare's "To b" cell: 8 of 48 runs stalled
   with a cap of 4 × the winner's jump, 3 with 2 ×) and kept.

   **Why a troop of 0.9 B̂, not B̂.** At the knee B = B_noise a run would need 2 S_min steps
   and 2 E_min documents; the measuring step adds its documents, which weigh more on
   documents than on steps on short prefix targets. A troop a little below the knee trades
   steps for documents (the hyperbola: S/S_min = 1 + B_noise/B, E/E_min = 1 + B/B_noise).
   Chosen with the probe on the development targets' prefix cells (two seed sets of 32 and
   48), by the larger of the mean S/S_min and the mean E/E_min: share 1.0 2.32 / 2.51, 0.9:
   2.44 / 2.43, 0.8: 2.51 / 2.31, 0.7: 2.62 / 2.16 (within the seeds' noise; 0.9 balanced),
   and kept.

Counting: wall time is the troop's steps (a monkey of step t types documents ``(t − 1)·batch
+ 1 .. t·batch``), total work is the documents of every step at that step's N (the measuring
step's included). ``train.csv`` gets N and ε per step (``monkeys``, ``lr``).

Randomness: main-troop monkey m types from ``chunk_state(seed, m, 5)`` (whichever steps it is
recruited for); every step is one troop kernel call, whose result does not depend on the
thread count.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import time

import numpy as np

from .._kernels import policy as KP
from ..errors import InvalidInput
from ..rng import chunk_states
from ..typewriter import numba_threads
from .config import TrainConfig
from .metrics import METRICS, NOISE_SCALE_DECAY, smoothed_noise_scale, step_metrics
from .params import TROOP_CHUNK, kernel_params
from .reviewers import ExternalReviewer
from .run_state import stop_step

FIRST_JUMP = 2.5
"""Root-mean-square logit change per position of the first SGD step (along the measuring
step's Ĝ); it calibrates ε_max (module docstring, "Why no probe")."""
TROOP_SHARE = 0.9
"""The troop the rule recruits, in units of the knee: ``N = round(TROOP_SHARE · B̂ / batch)``
(module docstring, "Why a troop of 0.9 B̂")."""
TRUST = 2.0
"""Largest root-mean-square logit change per position of one SGD step, in units of
:data:`FIRST_JUMP` (module docstring, "Trust cap")."""
MAX_DOUBLINGS = 64  # bound of the measuring loop (N doubles, or stays at max_monkeys)


def first_monkeys(config: TrainConfig) -> int:
    """N₁, the troop of the measuring step: ``round(√max_monkeys)`` when recruited, else
    the fixed N."""
    if config.auto_monkeys:
        return max(1, int(math.floor(math.sqrt(config.max_monkeys) + 0.5)))
    return int(config.monkeys)


def ema_noise_scale(grad_sq, trace_sigma, decay: float = NOISE_SCALE_DECAY) -> float:
    """``EMA(trace_sigma) / EMA(grad_sq)`` after the given steps (the last entry of
    :func:`~monkeysim.learn.metrics.smoothed_noise_scale`); NaN when undefined (no step,
    a NaN estimate, or a smoothed |G|² ≤ 0)."""
    if len(grad_sq) == 0:
        return math.nan
    b = float(smoothed_noise_scale(grad_sq, trace_sigma, decay)[-1])
    return b if math.isfinite(b) and b > 0 and _smoothed_positive(grad_sq, decay) else math.nan


def _smoothed_positive(grad_sq, decay: float) -> bool:
    e = 0.0
    for g in grad_sq:
        e = decay * e + (1.0 - decay) * float(g)
    return e > 0


def choose_step(b_noise: float, batch: int, max_monkeys: int, prev_monkeys: int,
                prev_lr: float, per_doc: float | None,
                share: float = TROOP_SHARE) -> tuple[int, float]:
    """The rule's (N, ε) for the next step from the smoothed noise scale ``b_noise``
    (documents; NaN: undefined).

    ``N = clip(round(share · b_noise / batch), 1, max_monkeys)`` and ``ε = ε_max / (1 +
    b_noise / B)`` with ``B = N · batch`` and ``ε_max = per_doc · b_noise``; ``per_doc`` None keeps
    ``prev_lr`` (a fixed step size). Undefined ``b_noise``: N doubles (up to
    ``max_monkeys``) and ε stays ``prev_lr``. Pass ``max_monkeys = prev_monkeys`` to keep a
    fixed N.
    """
    if not (math.isfinite(b_noise) and b_noise > 0):
        return min(2 * prev_monkeys, max_monkeys), prev_lr
    n = min(max(int(math.floor(share * b_noise / batch + 0.5)), 1), max_monkeys)
    if per_doc is None:
        return n, prev_lr
    return n, per_doc * b_noise / (1.0 + b_noise / (n * batch))


def rms_step(jump: float, grad: np.ndarray, length: int) -> float:
    """The step size along the ascent direction ``grad`` (logits) that moves the logits of a
    position by ``jump`` in root-mean-square: ``jump · √L / |Ĝ|`` (``|Ĝ| = 0``: inf)."""
    grad_norm = float(np.sqrt(np.sum(grad**2)))
    return jump * math.sqrt(length) / grad_norm if grad_norm > 0 else math.inf


def trust_step(lr: float, grad: np.ndarray, length: int, jump: float,
               trust: float = TRUST) -> float:
    """The step size applied along the ascent direction ``grad``: ``min(lr, trust · jump ·
    √L / |Ĝ|)``, so that the step moves the logits of a position by at most ``trust · jump`` in
    root-mean-square (``|Ĝ| = 0``: ``lr``)."""
    return min(lr, rms_step(trust * jump, grad, length))


def first_step(grad: np.ndarray, length: int, b1: int, b0: float) -> tuple[float, float]:
    """The first SGD step from the measuring step's ascent direction ``grad`` (``b1``
    documents, smoothed noise scale ``b0``, NaN if undefined): ``(ε, c)`` with ε moving the
    logits of a position by :data:`FIRST_JUMP` in root-mean-square (:func:`rms_step`), taken
    as the knee's ε(B₁) = ε_max / (1 + B̂₀/B₁); ``c = ε_max / B̂₀ = ε · (1/B₁ + 1/B̂₀)`` is
    the per-document step size of every later step (B̂₀ := B₁ when undefined)."""
    eps = rms_step(FIRST_JUMP, grad, length)
    b_cal = b0 if math.isfinite(b0) and b0 > 0 else float(b1)
    return eps, eps * (1.0 / b1 + 1.0 / b_cal)


def check_auto(config: TrainConfig, reviewer) -> None:
    """Refusals of the auto troop beyond :class:`TrainConfig`'s (InvalidInput)."""
    if isinstance(reviewer, ExternalReviewer):
        raise InvalidInput("monkeys/lr auto need a built-in reviewer (the noise scale is "
                           "measured inside the kernels)")
    if config.preferences is not None:
        raise InvalidInput("monkeys/lr auto learn from scores; preferences are not supported")
    if config.batch < 2:
        raise InvalidInput(f"monkeys/lr auto need batch ≥ 2 (the noise scale needs two "
                           f"documents per group), got {config.batch}")


class _Troop:
    """The arrays of one troop (up to ``size`` monkeys) and one kernel step of its first n
    monkeys."""

    def __init__(self, base: TrainConfig, spec, codes, reviewer, theta, reference, size: int,
                 first_stream: int):
        from .run_state import TRAIN_STREAM, RunState

        self.st = RunState(base, spec, codes, reviewer, theta, reference, size, True)
        self.st.states[...] = chunk_states(base.seed, first_stream, size, TRAIN_STREAM)

    def view(self, n: int):
        v = copy.copy(self.st)
        for name in self.st.MONKEYS:
            setattr(v, name, getattr(self.st, name)[:n])
        slots = -(-n // TROOP_CHUNK)
        for name in ("grad", "rowsum", "s1"):
            setattr(v, name, getattr(self.st, name)[:slots])
        return v

    def step(self, par, n: int, step0: int, lr: float, dry: bool):
        return self.view(n).run(par._replace(step0=step0, dry=int(dry), lr=float(lr)), 1)

    def ascend(self, lr: float, n: int, decay: float) -> None:
        """After a dry step of n monkeys: the SGD step ``θ += lr · Ĝ`` (as the kernel's
        :func:`~monkeysim._kernels.policy.sgd_row`), the new tables, and the running baseline."""
        st = self.st
        st.theta[0] += lr * st.grad[0]
        st.tables()
        KP.baseline_update(st.baseline[0], st.shaped[:n].reshape(-1), decay)
        st.opt_t[0] += 1

    def policy_row(self, pm, codes, step: int) -> None:
        """Fill the greedy / KL / entropy metrics of the current policy into ``pm[0, 0]``
        (a dry step leaves them unset); a greedy target marks the troop solved at ``step``
        (1-based)."""
        st = self.st
        g = st.greedy_documents()
        pm[0, 0, KP.PM_GREEDY] = float((g[0] == codes).sum())
        kl = np.zeros(1)
        h = np.zeros(1)
        s = st.spec
        KP.kl_entropy_batch(st.logp, st.prob, st.logq, s.kind_code, s.rows, s.base, s.length,
                            kl, h)
        pm[0, 0, KP.PM_KL] = kl[0]
        pm[0, 0, KP.PM_ENTROPY] = h[0]
        if (g[0] == codes).all() and st.first_solved[0] < 0:
            st.first_solved[0] = step


@dataclasses.dataclass
class _Log:
    """Per-step records of an auto run."""

    columns: list = dataclasses.field(default_factory=list)
    monkeys: list = dataclasses.field(default_factory=list)
    lrs: list = dataclasses.field(default_factory=list)
    grad_sq: list = dataclasses.field(default_factory=list)
    trace_sigma: list = dataclasses.field(default_factory=list)
    docs: int = 0

    def add(self, mm, pm, step0: int, config: TrainConfig, length: int, lr: float) -> None:
        n = mm.shape[1]
        cfg = dataclasses.replace(config, monkeys=n, lr=1.0, max_reviewer_calls=max(
            config.max_reviewer_calls, n * config.batch))
        col = step_metrics(mm, pm, step0, cfg, length)
        self.docs += n * config.batch
        col["reviewer_calls"] = np.array([self.docs], dtype=np.int64)
        col["keystrokes"] = np.array([self.docs * length], dtype=np.int64)
        col["monkeys"] = np.array([n], dtype=np.int64)
        col["lr"] = np.array([lr])
        self.columns.append(col)
        self.monkeys.append(n)
        self.lrs.append(lr)
        self.grad_sq.append(float(col["grad_sq"][0]))
        self.trace_sigma.append(float(col["trace_sigma"][0]))

    def no_signal(self) -> bool:
        """True if every document of the last step earned the same banana."""
        return bool(self.columns) and float(self.columns[-1]["frac_reward_zero_std"][0]) == 1

    def b_noise_max(self) -> float:
        """The largest smoothed noise scale after any step so far (NaN: none defined)."""
        b = smoothed_noise_scale(self.grad_sq, self.trace_sigma) if self.grad_sq else []
        ok = [float(x) for x in b if math.isfinite(x) and x > 0]
        return max(ok) if ok else math.nan


def _typed_step(first_typed: np.ndarray, batch: int) -> int | None:
    typed = first_typed[first_typed >= 0]
    return int(-(-typed.min() // batch)) if typed.size else None


def train_auto(config: TrainConfig, target: str, alphabet=None, *, init=None, reference=None,
               reviewer=None, alphabet_chars=None, progress=None):
    """:func:`monkeysim.learn.train.train` for ``monkeys="auto"`` and/or ``lr="auto"``
    (see the module docstring); returns a :class:`~monkeysim.learn.train.TrainResult` whose
    metrics carry the per-step ``monkeys`` and ``lr``."""
    from .run_state import TrainResult, _setup, initial_policies

    alpha, codes, reviewer, spec = _setup(config, target, alphabet, alphabet_chars, reviewer)
    check_auto(config, reviewer)
    k, length = config.batch, len(codes)
    size = config.monkeys_max
    base = dataclasses.replace(config, monkeys=size, lr=1.0, max_monkeys=size)
    theta, reference = initial_policies(base, spec, init, reference, 1)
    par = kernel_params(base, spec)
    budget = config.max_reviewer_calls
    fixed_lr = None if config.auto_lr else float(config.lr)
    log = _Log()
    seconds = 0.0
    t0 = time.perf_counter()
    with numba_threads(config.threads) as used:
        main = _Troop(base, spec, codes, reviewer, theta, reference, size, 0)
        initial_correct = int((main.st.greedy_documents()[0] == codes).sum())
        if initial_correct == length:
            main.st.first_solved[0] = 0
        typed = [main.st.first_typed]
        stop_at = _stop(config, main, typed)
        n = first_monkeys(config)
        lr = fixed_lr if fixed_lr is not None else 0.0
        per_doc = None  # c = ε_max / B_noise, set by the first step (lr="auto")
        # 1. measure at the initial policy (repeat, doubling N, while Ĝ = 0); with
        # lr="auto" the step that measured a Ĝ ≠ 0 then takes the first SGD step along it
        for _ in range(MAX_DOUBLINGS):
            if stop_at is not None or log.docs + n * k > budget:
                break
            dry = fixed_lr is None
            step0 = len(log.columns)
            mm, pm = main.step(par, n, step0, 0.0 if dry else lr, dry)
            applied = 0.0 if dry else lr
            signal = bool(np.any(main.st.grad[0] != 0))
            if dry:
                if signal:
                    b0 = ema_noise_scale([pm[0, 0, KP.PM_GRAD_SQ]],
                                         [pm[0, 0, KP.PM_TRACE_SIGMA]])
                    applied, per_doc = first_step(main.st.grad[0], length, n * k, b0)
                    lr = applied
                    main.ascend(applied, n, config.baseline_decay)
                else:
                    KP.baseline_update(main.st.baseline[0], main.st.shaped[:n].reshape(-1),
                                       config.baseline_decay)
                main.policy_row(pm, codes, step0 + 1)
            log.add(mm, pm, step0, config, length, applied)
            stop_at = _stop(config, main, typed)
            if not dry or signal:
                break
            n = min(2 * n, size) if config.auto_monkeys else n
        # 2. the rule, every later step
        while stop_at is None:
            # a step whose documents all earned the same banana carried no signal: recruit
            b = math.nan if log.no_signal() else log.b_noise_max()
            cap = size if config.auto_monkeys else n
            n, lr = choose_step(b, k, cap, n, lr, per_doc)
            if log.docs + n * k > budget:
                break
            if per_doc is None:  # a fixed step size: the kernel's step
                mm, pm = main.step(par, n, len(log.columns), lr, False)
                applied = lr
            else:  # the direction first, then the step within the trust cap
                step0 = len(log.columns)
                mm, pm = main.step(par, n, step0, 0.0, True)
                applied = trust_step(lr, main.st.grad[0], length, FIRST_JUMP)
                main.ascend(applied, n, config.baseline_decay)
                main.policy_row(pm, codes, step0 + 1)
            log.add(mm, pm, len(log.columns), config, length, applied)
            stop_at = _stop(config, main, typed)
            if not np.abs(main.st.theta).max() <= 1e100:
                from ..errors import Diverged

                raise Diverged(f"learning diverged: logits reached "
                               f"{np.abs(main.st.theta).max():.3g} after step "
                               f"{len(log.columns)} with learning rate lr={lr:g}")
            if progress is not None:
                progress(len(log.columns), max(1, budget // (size * k)), log.docs)
        greedy = main.st.greedy_documents()
    seconds = time.perf_counter() - t0
    return _result(config, target, alpha, spec, main, log, typed, greedy, initial_correct,
                   seconds, used, TrainResult)


def _stop(config: TrainConfig, main: _Troop, typed: list) -> int | None:
    """The step at which the run's stop condition first held, else None."""
    steps = [s for s in (_typed_step(ft, config.batch) for ft in typed) if s is not None]
    t_step = min(steps) if steps else None
    solved = int(main.st.first_solved[0]) if main.st.first_solved[0] >= 0 else None
    return stop_step(config.stop, solved, t_step)


def _result(config, target, alpha, spec, main: _Troop, log: _Log, typed, greedy,
            initial_correct, seconds, used, result_cls):
    from ..policy import CharPolicy

    k, length = config.batch, spec.length
    names = [n for n in METRICS if n != "b_simple"]
    metrics = {name: (np.concatenate([c[name] for c in log.columns]) if log.columns
                      else np.zeros(0)) for name in names}
    metrics["b_simple"] = smoothed_noise_scale(metrics["grad_sq"], metrics["trace_sigma"])
    metrics = {name: metrics[name] for name in METRICS}
    steps = len(log.columns)
    cum = np.cumsum([0, *[m * k for m in log.monkeys]])
    solved_step = int(main.st.first_solved[0]) if main.st.first_solved[0] >= 0 else None
    t_steps = [s for s in (_typed_step(ft, k) for ft in typed) if s is not None]
    typed_step = min(t_steps) if t_steps else None
    typed_wall = None
    typed_docs = None
    if typed_step is not None:
        firsts = [ft[ft >= 0] for ft in typed]
        walls = np.concatenate([f for f in firsts if f.size])
        typed_wall = int(walls.min())  # documents per monkey until the first hit
        # documents of the steps before, plus the hitting step's monkeys up to the hit
        typed_docs = int(cum[typed_step - 1]) + log.monkeys[typed_step - 1] * (
            typed_wall - (typed_step - 1) * k)
    calls_until = int(cum[solved_step]) if solved_step is not None else int(cum[-1])
    final = CharPolicy(spec, main.st.theta)
    return result_cls(
        config=config, target=target, alphabet=alpha, policy=final, metrics=metrics,
        steps=steps, solved=solved_step is not None, solved_step=solved_step,
        reviewer_calls=calls_until, keystrokes=calls_until * length,
        wall_reviewer_calls=(solved_step if solved_step is not None else steps) * k,
        typed=typed_wall is not None, typed_reviewer_calls=typed_docs,
        typed_keystrokes=None if typed_docs is None else typed_docs * length,
        typed_wall_reviewer_calls=typed_wall,
        greedy=alpha.decode(greedy[0]), greedy_correct_initial=initial_correct,
        seconds=seconds, threads=used)
