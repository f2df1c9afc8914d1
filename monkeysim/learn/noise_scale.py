"""The gradient noise scale at a fixed policy (:func:`noise_scale`) and independent draws of
an algorithm's first-epoch ascent direction (:func:`policy_gradient_samples`), both from one
dry step of the learner core's kernels."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._kernels import policy as KP
from ..alphabet import Alphabet
from ..errors import InvalidInput, positive_int
from ..policy import CharPolicy, PolicySpec
from ..rng import chunk_states
from ..typewriter import numba_threads
from .config import TrainConfig
from .params import kernel_params
from .reviewers import ExternalReviewer, reviewer_for, target_codes
from .run_state import TRAIN_STREAM, RunState, initial_policies


def dry_step(config: TrainConfig, target: str, policy: CharPolicy | None, samples: int,
              alphabet, reference: CharPolicy | None, reviewer, baseline: float | None,
              first: int = 0, batch: int | None = None,
              caller: str = "policy_gradient_samples") -> tuple[RunState, np.ndarray]:
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
    alpha, codes = target_codes(target, alphabet, None)
    reviewer = reviewer_for(config, target, alpha, codes, reviewer)
    if isinstance(reviewer, ExternalReviewer):
        raise InvalidInput(f"{caller} needs a built-in reviewer (a TextReviewer)")
    spec = PolicySpec(config.policy, len(codes), alpha.size, config.order)
    if policy is not None and (not isinstance(policy, CharPolicy) or policy.policies != 1):
        raise InvalidInput(f"{caller} needs a single policy")
    theta, reference = initial_policies(config, spec, policy, reference, samples)
    st = RunState(config, spec, codes, reviewer, theta, reference, samples, False)
    if first:
        st.states[...] = chunk_states(config.seed, first, samples, TRAIN_STREAM)
    if baseline is not None:
        st.baseline[:, 0] = float(baseline)
        st.baseline[:, 1] = 1.0
    par = kernel_params(config, spec, dry=True, troop=False)
    with numba_threads(config.threads):
        _, pm = st.run(par, 1)
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
    st, _ = dry_step(config, target, policy, samples, alphabet, reference, reviewer, baseline)
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


def check_noise_scale(config: TrainConfig, samples: int) -> int:
    """Raise :class:`InvalidInput` if :func:`noise_scale` would refuse ``config`` and
    ``samples`` (nothing is run); returns ``samples``."""
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
    return samples


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
    samples = check_noise_scale(config, samples)
    n = config.group_size
    g = np.empty(samples)
    t = np.empty(samples)
    for first in range(0, samples, NOISE_CHUNK):
        count = min(NOISE_CHUNK, samples - first)
        _, pm = dry_step(config, target, policy, count, alphabet, reference, reviewer,
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
