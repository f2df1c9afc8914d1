"""Figure of `monkeysim overopt` (Agg backend, ``matplotlib.figure.Figure``).

Left: gold reward (the real reviewer) vs d = √KL for best-of-n and RL at each β, as points
with 95% error bars, with the fitted Gao et al. (2022) forms as lines (the legend gives each
β's tuned step size). Right: the proxy
(reward-model) score on the same axes: it keeps rising while the gold reward flattens or
falls — over-optimisation. Save with :func:`monkeysim.plots.figure.save`.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure


def overopt_figure(res) -> Figure:
    """Two panels from a :class:`monkeysim.experiments.overopt.OveroptResult`."""
    from ..reward_model import gao_curve

    fig = Figure(figsize=(12, 4.8))
    axes = [fig.add_subplot(1, 2, i + 1) for i in range(2)]
    colors = ["black", "tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple",
              "tab:brown", "tab:pink"]
    for j, (name, _, kl, proxy, gold) in enumerate(res.runs()):
        d = np.sqrt(np.maximum(kl, 0.0))
        c = colors[j % len(colors)]
        if name == "bon":
            se_p, se_g, label, form = res.bon_proxy_se, res.bon_gold_se, "best-of-n", "bon"
        else:
            tr = res.rl[float(name.split("=")[1])]
            se_p, se_g, form = tr.proxy_se, tr.gold_se, "rl"
            lr = res.tuned[float(name.split("=")[1])]["lr"] if res.tuned else None
            label = f"RLOO, β = {name.split('=')[1]}" + (f", lr {lr:g}" if lr else "")
        fit = res.fits[name]
        dd = np.linspace(0.0, d.max(), 200)
        for ax, y, se, which in ((axes[0], gold, se_g, "gold"), (axes[1], proxy, se_p, "proxy")):
            ax.errorbar(d, y, yerr=1.96 * se, fmt="o" if name == "bon" else "s", ms=3,
                        color=c, alpha=0.7, label=label)
            a, b = fit[f"{which}_alpha"], fit[f"{which}_beta"]
            if np.isfinite(a):
                ax.plot(dd, y[0] + gao_curve(dd, a, b, form), "-" if name == "bon" else "--",
                        color=c, lw=1)
    axes[0].set_ylabel("gold reward (ngram F1 vs target, per document)")
    axes[0].set_title(f"Gold reviewer; reward model held-out accuracy "
                      f"{res.rm.heldout_accuracy:.2f}\nlines: fits d(α − βd) (best-of-n), "
                      f"d(α − β log d) (RL)", fontsize=10)
    axes[1].set_ylabel("proxy reward (reward-model score, sd units of π_ref)")
    axes[1].set_title("Learned reward model (what is optimised)", fontsize=10)
    for ax in axes:
        ax.set_xlabel("d = √KL(π ‖ π_ref)  (nats^½)")
        ax.grid(True, alpha=0.3)
    axes[0].legend(fontsize=8, loc="best")
    fig.tight_layout()
    return fig
