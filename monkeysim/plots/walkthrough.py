"""Figure of `monkeysim walkthrough` (Agg backend, ``matplotlib.figure.Figure``).

Left: the empirical expected reward's error and standard error vs NK documents on log-log
axes, with the exact sd of the estimator (∝ 1/√(NK)) as a line. Right: exact expected reward
and KL(π_θ ‖ π_0) over policy-gradient updates (lines), with their rollout estimates (points).
Save with :func:`monkeysim.plots.figure.save`.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure


def walkthrough_figure(res) -> Figure:
    """Two panels from a :class:`monkeysim.experiments.walkthrough.WalkthroughResult`."""
    cv, tr = res.convergence, res.training
    fig = Figure(figsize=(12, 4.8))
    ax = fig.add_subplot(1, 2, 1)
    nk = cv.documents.astype(float)
    ax.plot(nk, cv.exact_stderr, "-", color="black", label="exact sd of the estimate (∝ 1/√(NK))")
    ax.plot(nk, cv.exact_stderr * math.sqrt(2 / math.pi), ":", color="tab:blue",
            label="theory mean |error| = √(2/π)·sd")
    ax.scatter(nk, cv.mean_abs_error, color="tab:blue", zorder=3,
               label=f"measured mean |estimate − exact| ({cv.repetitions} rollouts)")
    ax.scatter(nk, cv.mean_stderr, color="tab:orange", marker="s", zorder=3,
               label="mean estimated stderr")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(f"NK documents per estimate (reviewer calls; K = {cv.k})")
    ax.set_ylabel("bananas per document")
    cov = ", ".join(f"{c:.2f}" for c in cv.coverage)
    ax.set_title(f"Empirical expected reward: slope {cv.slope():.2f} (theory −0.5)\n"
                 f"95% interval coverage: {cov}", fontsize=10)
    ax.legend(fontsize=8, loc="lower left")
    ax.grid(True, which="both", alpha=0.3)

    ax = fig.add_subplot(1, 2, 2)
    steps = tr.step
    ax.plot(steps, tr.expected_reward_exact, "-", color="tab:green",
            label="expected reward (exact)")
    ax.errorbar(steps, tr.expected_reward_estimate, yerr=1.96 * np.nan_to_num(
        tr.expected_reward_stderr), fmt="o", ms=3, color="tab:green", alpha=0.5,
        label="expected reward (rollout, 95% interval)")
    ax.set_xlabel(f"policy-gradient updates ({tr.n_queries}×{tr.k} documents each)")
    ax.set_ylabel("expected reward (bananas per document)", color="tab:green")
    ax2 = ax.twinx()
    ax2.plot(steps, tr.kl_exact, "-", color="tab:purple", label="KL(π_θ ‖ π_0) (exact)")
    ax2.scatter(steps, tr.kl_k3, s=10, color="tab:purple", alpha=0.5,
                label="KL (rollout k3 estimate)")
    ax2.set_ylabel("KL to the pretrained policy (nats)", color="tab:purple")
    ax.set_title(f"Table policy π_θ, lr {tr.lr:g}, baseline {tr.baseline}", fontsize=10)
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, fontsize=8, loc="lower right")
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    return fig
