"""Figures of `monkeysim train` (Agg backend, ``matplotlib.figure.Figure`` objects).

- :func:`convergence` — one training run: correct characters of the greedy (argmax) document
  and the mean reward of each step's documents, both against cumulative reviewer calls, and
  (positional policies) the gradient noise scale B_simple along the run.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from .figure import save

__all__ = ["convergence", "save"]


def convergence(metrics: dict, length: int, title: str, greedy_initial: int = 0,
                solved_calls: int | None = None) -> Figure:
    """Convergence of one run from its per-step ``metrics`` (see ``train.METRICS``).

    Top: correct keys of the greedy document (best policy; the mean over policies too when
    they differ) against reviewer calls, starting from the initial policy at 0 calls.
    Middle: mean reward per document of each step, with a ±1 std band.
    Bottom (when the run logged a positive ``b_simple``, i.e. positional policies): the
    gradient noise scale B_simple in documents, log scale.
    """
    calls = np.concatenate([[0], np.asarray(metrics["reviewer_calls"], dtype=float)])
    best = np.concatenate([[greedy_initial], np.asarray(metrics["greedy_correct"], dtype=float)])
    mean = np.concatenate([[greedy_initial],
                           np.asarray(metrics["greedy_correct_mean"], dtype=float)])
    b = np.asarray(metrics.get("b_simple", []), dtype=float)
    noise = bool(len(b)) and bool(np.any(np.isfinite(b) & (b > 0)))
    troop = _varies(metrics.get("monkeys")) or _varies(metrics.get("lr"))
    heights = (3, 3) + ((2,) if noise else ()) + ((2,) if troop else ())
    fig = Figure(figsize=(7, 4 + 2 * len(heights)))
    axes = list(fig.subplots(len(heights), 1, sharex=True, height_ratios=heights))
    ax, bx = axes[:2]
    nx = axes[2] if noise else None
    ax.step(calls, best, where="post", color="tab:blue", label="greedy document (best policy)")
    if not np.array_equal(best, mean):
        ax.step(calls, mean, where="post", color="tab:blue", ls=":", alpha=0.7,
                label="greedy document (mean over policies)")
    ax.axhline(length, color="black", lw=0.8, ls=":", label=f"whole target (L = {length})")
    if solved_calls is not None:
        ax.axvline(solved_calls, color="tab:green", lw=0.8, ls="--",
                   label=f"solved at {solved_calls:,} reviewer calls")
    ax.set_ylabel("correct characters (keys)")
    ax.set_ylim(0, length * 1.05 + 0.5)
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, loc="lower right")
    ax.grid(True, alpha=0.3)

    x = np.asarray(metrics["reviewer_calls"], dtype=float)
    r = np.asarray(metrics["reward_mean"], dtype=float)
    sd = np.asarray(metrics["reward_std"], dtype=float)
    if len(x):
        bx.plot(x, r, color="tab:orange", label="reward mean (bananas per document)")
        bx.fill_between(x, r - sd, r + sd, color="tab:orange", alpha=0.2, label="± 1 std")
    bx.set_ylabel("reward per document (bananas)")
    bx.legend(fontsize=7, loc="lower right")
    bx.grid(True, alpha=0.3)
    last = bx
    if noise:
        ok = np.isfinite(b) & (b > 0)
        nx.plot(x[ok], b[ok], "-o", ms=2, lw=0.8, color="tab:purple",
                label="B_simple = EMA(tr Σ) / EMA(|G|²)")
        nx.set_yscale("log")
        nx.set_ylabel("noise scale (documents)")
        nx.legend(fontsize=7, loc="upper right")
        nx.grid(True, alpha=0.3, which="both")
        last = nx
    if troop:
        last = _troop_panel(axes[-1], x, metrics)
    last.set_xlabel("reviewer calls (documents scored, all monkeys)")
    fig.tight_layout()
    return fig


def _varies(values) -> bool:
    """True if a per-step column changes during the run (an auto troop)."""
    return values is not None and len(values) > 1 and bool(np.ptp(np.asarray(values)) > 0)


def _troop_panel(tx, x, metrics: dict):
    """N(t) (monkeys typing each step, left axis) and the step size ε(t) (right axis, log;
    0 = a measuring step without an update, not drawn) of an auto troop."""
    n = np.asarray(metrics["monkeys"], dtype=float)
    lr = np.asarray(metrics["lr"], dtype=float)
    tx.step(x, n, where="pre", color="tab:green", label="monkeys N (this step)")
    tx.set_ylabel("monkeys N")
    tx.set_yscale("log")
    tx.grid(True, alpha=0.3, which="both")
    lx = tx.twinx()
    ok = lr > 0
    lx.plot(x[ok], lr[ok], "s", ms=3, color="tab:red", label="step size ε (right)")
    lx.set_yscale("log")
    lx.set_ylabel("step size ε")
    h1, l1 = tx.get_legend_handles_labels()
    h2, l2 = lx.get_legend_handles_labels()
    tx.legend(h1 + h2, l1 + l2, fontsize=7, loc="lower right")
    return tx
