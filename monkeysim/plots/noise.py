"""Figure of `monkeysim noise` (Agg backend, ``matplotlib.figure.Figure``).

Built from named records only: ``stats`` are
:class:`~monkeysim.experiments.noise_records.NoiseStat` (fields ``learner, noise, level, median,
q25, q75, median_censored, bound_calls, bound_calls_strict``), ``leash`` are
:class:`~monkeysim.experiments.noise_records.LeashStat` (``name, beta_eff, kl, reward, fixed_q,
fixed_kl``). Left: reviewer calls until solved vs Gaussian score noise σ; middle: vs the
preference flip rate ε; both log y, medians with interquartile bars (hollow: more than half
the runs censored, the median is a lower bound), the capacity bounds as lines. Right: the
KL leash: each seed's final KL per condition (median reward printed above), with the
mean-field fixed point of the condition's effective β as a bar.
Save with :func:`monkeysim.plots.figure.save`.
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


def _panel(ax, stats: Sequence, bounds: Sequence, noise: str, xlabel: str) -> None:
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
    if any(s.median_censored for s in stats):
        ax.plot([], [], "o", color="gray", mfc="white", ms=5,
                label="hollow: most runs censored (median ≥)")
    for b in bounds:
        if b.noise != noise:
            continue
        lv, calls = np.asarray(b.levels, float), np.asarray(b.calls, float)
        ok = np.isfinite(calls) & (lv >= min(levels)) & (lv <= max(levels))
        ax.plot(lv[ok], calls[ok], ":" if b.strict else "-", color="gray", lw=1.5,
                label="bound, any strategy" if b.strict else "capacity bound L·log2(A)/C")
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("reviewer calls until solved (median, IQR)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=3)


def _leash_panel(ax, leash: Sequence) -> None:
    if not leash:
        ax.set_visible(False)
        return
    rng = np.random.default_rng(0)  # jitter only
    for i, s in enumerate(leash):
        c = COLORS.get(s.name, None)
        kl = np.asarray(s.kl, float)
        ax.plot(i + rng.uniform(-0.15, 0.15, len(kl)), kl, "o", color=c, ms=3, alpha=0.6)
        q = np.quantile(kl, [0.25, 0.5, 0.75])
        ax.errorbar([i + 0.28], [q[1]], yerr=[[q[1] - q[0]], [q[2] - q[1]]], fmt="s",
                    color=c, ms=4, capsize=2)
        ax.plot([i - 0.35, i + 0.35], [s.fixed_kl] * 2, "-", color="black", lw=1)
        ax.annotate(f"reward {np.median(s.reward):.3f}\n(fixed {s.fixed_q:.3f})",
                    (i, max(kl.max(), s.fixed_kl)), textcoords="offset points",
                    xytext=(0, 6), ha="center", fontsize=7)
    ax.plot([], [], "-", color="black", lw=1, label="mean-field fixed point of β_eff")
    ax.plot([], [], "s", color="gray", ms=4, label="median, IQR")
    ax.set_xticks(range(len(leash)))
    ax.set_xticklabels([f"{s.name}\nε={s.flip_rate:g}, β_eff={s.beta_eff:.3g}"
                        for s in leash], fontsize=7)
    ax.set_ylabel("final KL(π ‖ π_ref) per seed, nats (exact)")
    top = max(max(max(s.kl), s.fixed_kl) for s in leash)
    ax.set_ylim(0, top * 1.15)
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(fontsize=7, loc="center right")


def noise_figure(stats: Sequence, leash: Sequence, bounds: Sequence, *, length: int,
                 alphabet_size: int) -> Figure:
    """Three panels: calls vs σ, calls vs ε, and the KL leash. ``bounds`` are
    :class:`~monkeysim.experiments.noise_theory.BoundCurve` records (``noise, levels, calls,
    strict``)."""
    fig = Figure(figsize=(18, 6.2))
    axes = [fig.add_subplot(1, 3, i + 1) for i in range(3)]
    bits = length * math.log2(alphabet_size)
    _panel(axes[0], stats, bounds, "sigma",
           "Gaussian score noise σ (characters; σ/L in bananas)")
    axes[0].set_title(f"Noisy scores (target: L·log2 A = {bits:.0f} bits)", fontsize=10)
    _panel(axes[1], stats, bounds, "flip", "preference flip rate ε")
    axes[1].set_title("Noisy preferences (one call per pair compared)", fontsize=10)
    _leash_panel(axes[2], leash)
    if leash:
        axes[2].set_title(f"KL leash β = {leash[0].kl_coef:g}: final KL of each seed, same "
                          "step size for all", fontsize=10)
    fig.tight_layout()
    return fig
