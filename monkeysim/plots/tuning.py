"""The step-size bowls of `monkeysim compare`: median wall time until typed against the step
size, one curve per setting of a ladder, the chosen step size marked."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from matplotlib.figure import Figure


def tuning_bowls(columns: list[str], rows: list[list]) -> Figure:
    """One panel per ladder (target, length, reward, regime) with more than one setting, plus
    one for the length sweep; each curve a setting (N × batch, or L), each point a step size
    (filled: reached the last rung of successive halving; hollow: dropped earlier; bars:
    quartiles over the tuning seeds it ran), a star at the chosen step size."""
    col = {c: i for i, c in enumerate(columns)}
    curves = defaultdict(list)
    for r in rows:
        key = tuple(r[col[c]] for c in ("target", "length", "reward", "regime", "monkeys",
                                        "batch"))
        curves[key].append(r)
    panels = defaultdict(dict)
    for key, rs in curves.items():
        target, length, reward, regime, n, k = key
        panels[(target, length, reward, regime)][f"N={n}×{k}"] = rs
    ladders = {p: c for p, c in panels.items() if len(c) > 1}
    sweep = {f"{p[0]} L={p[1]} {p[2]}": next(iter(c.values()))
             for p, c in panels.items() if len(c) == 1}
    groups = list(ladders.items()) + ([(("length sweep",), sweep)] if sweep else [])
    cols = min(3, max(1, len(groups)))
    nrows = (len(groups) + cols - 1) // cols
    fig = Figure(figsize=(5 * cols, 4 * max(1, nrows)))
    for p, (title, group) in enumerate(groups):
        ax = fig.add_subplot(max(1, nrows), cols, p + 1)
        for j, (label, rs) in enumerate(sorted(group.items(), key=lambda x: _order(x[0]))):
            rs = sorted(rs, key=lambda r: r[col["lr"]])
            lr = np.array([r[col["lr"]] for r in rs], dtype=float)
            med = np.array([r[col["median_wall_time_keystrokes"]] for r in rs], dtype=float)
            q1 = np.array([r[col["q1_wall_time_keystrokes"]] for r in rs], dtype=float)
            q3 = np.array([r[col["q3_wall_time_keystrokes"]] for r in rs], dtype=float)
            seeds = np.array([r[col["seeds"]] for r in rs])
            last = seeds == seeds.max()
            color = f"C{j % 10}"
            ax.plot(lr, med, "-", color=color, lw=0.8, label=label)
            ax.errorbar(lr[last], med[last], yerr=[med[last] - q1[last], q3[last] - med[last]],
                        fmt="o", color=color, ms=4, capsize=2)
            ax.scatter(lr[~last], med[~last], facecolors="none", edgecolors=color, s=16)
            chosen = [i for i, r in enumerate(rs) if r[col["chosen"]]]
            if chosen:
                ax.plot(lr[chosen], med[chosen], "*", ms=13, color=color, mec="black", mew=0.6)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        name = title[0] if len(title) == 1 else (
            f"{'weasel' if title[0] == 'weasel' else f'L={title[1]} prefix'}, {title[2]}, "
            f"{title[3]}")
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("step size lr")
        ax.set_ylabel("median wall time until typed (keystrokes per monkey)")
        ax.grid(True, alpha=0.3, which="both")
        ax.legend(fontsize=6, ncol=2)
    fig.suptitle("Step sizes tuned by successive halving (★ chosen; hollow: dropped early; "
                 "bars: quartiles over tuning seeds)", fontsize=10)
    fig.tight_layout()
    return fig


def _order(label: str) -> tuple:
    """Curves in order of documents per step (N × batch) or of the sweep's name."""
    if label.startswith("N="):
        n, k = label[2:].split("×")
        return (0, int(n) * int(k), "")
    return (1, 0, label)
