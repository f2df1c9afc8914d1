"""Per-step metric columns of a training run (``train.csv``; documented in docs/metrics.md):
their names, the reduction of the kernels' per-monkey metrics to them, and the smoothed
gradient noise scale."""

from __future__ import annotations

import numpy as np

from .._kernels import policy as KP
from .config import TrainConfig

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
    "monkeys": "monkeys N that typed this step (set per step by monkeys=auto)",
    "lr": "step size ε of this step's update (set per step by lr=auto; 0: no update)",
}
NOISE_SCALE_DECAY = 0.9  # decay of the EMAs over steps whose ratio is the b_simple column


def step_metrics(mm: np.ndarray, pm: np.ndarray, step0: int, config: TrainConfig,
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
        "monkeys": np.full(n_steps, monkeys, dtype=np.int64),
        "lr": np.full(n_steps, float(config.lr)),
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
