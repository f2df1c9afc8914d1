"""Figure of `monkeysim noise` (Agg backend, ``matplotlib.figure.Figure``).

Built from named records only: ``stats`` are
:class:`~monkeysim.experiments.noise.NoiseStat` (fields ``learner, noise, level, median,
q25, q75, median_censored, bound_calls, bound_calls_strict``), ``leash`` are
:class:`~monkeysim.experiments.noise.LeashStat` (``name, beta_eff, kl, reward, fixed_q,
fixed_kl``). Left: reviewer calls until solved vs Gaussian score noise σ; middle: vs the
preference flip rate ε; both log y, medians with interquartile bars (hollow: more than half
the runs censored, the median is a lower bound), the capacity bounds as lines. Right: the
KL leash: each seed's final expected reward and KL, with the mean-field fixed points.
Save with :func:`monkeysim.plots_compare.save`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

COLORS = {"reinforce": "tab:blue", "rloo": "tab:orange", "grpo": "tab:green",
          "ppo": "tab:red", "weasel": "black", "pref-naive": "tab:purple",
          "pref-debiased": "tab:brown", "pref-estimated": "tab:pink",
          "noiseless": "tab:blue", "naive": "tab:purple", "debiased": "tab:brown",
          "estimated": "tab:pink", "noiseless-effective": "tab:cyan"}
MARKERS = {"reinforce": "o", "rloo": "s", "grpo": "^", "ppo": "v", "weasel": "D",
           "pref-naive": "o", "pref-debiased": "s", "pref-estimated": "^"}


def _panel(ax, stats: Sequence, noise: str, xlabel: str) -> None:
    stats = [s for s in stats if s.noise == noise]
    if not stats:
        ax.set_visible(False)
        return
    levels = sorted({s.level for s in stats})
    names = list(dict.fromkeys(s.learner for s in stats))
    span = (max(levels) - min(levels)) or 1.0
    width = 0.012 * span
    for j, name in enumerate(names):
        pts = sorted((s for s in stats if s.learner == name), key=lambda s: s.level)
        x = np.array([s.level for s in pts]) + (j - (len(names) - 1) / 2) * width
        y = np.array([s.median for s in pts])
        err = np.array([[s.median - s.q25 for s in pts], [s.q75 - s.median for s in pts]])
        c = COLORS.get(name, None)
        ax.errorbar(x, y, yerr=err, color=c, lw=1, capsize=2, fmt="-", alpha=0.8)
        for xi, s in zip(x, pts, strict=True):
            ax.plot([xi], [s.median], MARKERS.get(name, "o"), color=c, ms=5,
                    mfc="white" if s.median_censored else c)
        ax.plot([], [], "-" + MARKERS.get(name, "o"), color=c, label=name, ms=5)
    grid = np.linspace(min(levels), max(levels), 200)
    by_level = {s.level: s for s in stats}
    for key, style, label in (("bound_calls", "-", "capacity bound"),
                              ("bound_calls_strict", ":", "bound, any strategy")):
        lv = np.array(levels)
        b = np.array([getattr(by_level[v], key) for v in levels])
        ok = np.isfinite(b)
        if ok.sum() >= 2:  # interpolate in log space between the measured levels
            yy = np.exp(np.interp(grid, lv[ok], np.log(b[ok])))
            ax.plot(grid, yy, style, color="gray", lw=1.5, label=label)
        elif ok.any():
            ax.plot(lv[ok], b[ok], "_", color="gray", ms=14, label=label)
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("reviewer calls until solved (median, IQR)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="upper left")


def _leash_panel(ax, leash: Sequence) -> None:
    if not leash:
        ax.set_visible(False)
        return
    for s in leash:
        c = COLORS.get(s.name, None)
        ax.plot(s.reward, s.kl, "o", color=c, ms=3, alpha=0.6,
                label=f"{s.name} (β_eff {s.beta_eff:.3g})")
        ax.plot([s.fixed_q], [s.fixed_kl], "*", color=c, ms=14, mec="black", mew=0.7)
    ax.plot([], [], "*", color="white", mec="black", ms=12, label="mean-field fixed point")
    ax.set_xlabel("final expected reward  mean_l p_l(target_l)  (bananas per document)")
    ax.set_ylabel("final KL(π ‖ π_ref), nats (exact)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7, loc="best")


def noise_figure(stats: Sequence, leash: Sequence, *, length: int, alphabet_size: int
                 ) -> Figure:
    """Three panels: calls vs σ, calls vs ε, and the KL leash."""
    fig = Figure(figsize=(17, 5.2))
    axes = [fig.add_subplot(1, 3, i + 1) for i in range(3)]
    bits = length * math.log2(alphabet_size)
    _panel(axes[0], stats, "sigma", "Gaussian score noise σ (characters; σ/L in bananas)")
    axes[0].set_title(f"Noisy scores (target: {bits:.0f} bits)", fontsize=10)
    _panel(axes[1], stats, "flip", "preference flip rate ε")
    axes[1].set_title("Noisy preferences (one call per pair compared)", fontsize=10)
    _leash_panel(axes[2], leash)
    if leash:
        s = leash[0]
        axes[2].set_title(f"KL leash β = {s.kl_coef:g}: each seed's final policy",
                          fontsize=10)
    fig.tight_layout()
    return fig
