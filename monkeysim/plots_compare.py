"""Figures of `monkeysim compare` (Agg backend, ``matplotlib.figure.Figure`` objects).

- :func:`time_to_target` — keystrokes per monkey vs target length: theory lines for random
  typing, measured points (median, bars min–max over seeds; hollow = censored lower bound).
- :func:`monkey_counts` — wall time vs total work across monkey counts: the "fewer monkeys or
  less time" frontier.
- :func:`convergence` — correct characters of the greedy document vs reviewer calls per
  algorithm, median and min–max band over seeds.
- :func:`reward_shaping` — reviewer calls until the greedy document is the target, per reward.
"""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .results import atomic_write_bytes

COL = {"stream": "tab:gray", "document": "black", "exact": "tab:red", "prefix": "tab:orange",
       "hamming": "tab:blue", "levenshtein": "tab:green", "ngram": "tab:purple",
       "words": "tab:brown"}


def _idx(name):
    from .experiments.compare import COLUMNS

    return COLUMNS.index(name)


def _f(v) -> float:
    return float(v) if v not in ("", None) else math.nan


def save(fig: Figure, path: Path) -> None:
    """Render ``fig`` to PNG and write it atomically."""
    import io

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, metadata={"Software": None})
    atomic_write_bytes(path, buf.getvalue())


def _measured(rows, target, method, reward, n, time_col="wall_time_keystrokes",
              cens_col="censored"):
    """{length: (median, min, max, any_censored)} over seeds."""
    acc = defaultdict(list)
    for r in rows:
        if (r[0] == target and r[3] == method and r[4] == reward and r[5] == n):
            acc[r[1]].append((_f(r[_idx(time_col)]), int(r[_idx(cens_col)] or 0)))
    return {k: (float(np.median([t for t, _ in v])), min(t for t, _ in v),
                max(t for t, _ in v), any(c for _, c in v)) for k, v in sorted(acc.items())}


def _points(ax, data: dict, color, label, marker="o", offset=0.0):
    if not data:
        return
    xs = np.array(list(data)) + offset
    med = np.array([v[0] for v in data.values()])
    lo = np.array([v[1] for v in data.values()])
    hi = np.array([v[2] for v in data.values()])
    cens = np.array([v[3] for v in data.values()])
    ax.errorbar(xs, med, yerr=[med - lo, hi - med], fmt="none", ecolor=color, alpha=0.6)
    ax.scatter(xs[~cens], med[~cens], color=color, marker=marker, label=label, zorder=3)
    if cens.any():
        ax.scatter(xs[cens], med[cens], facecolors="none", edgecolors=color, marker=marker,
                   zorder=3, label=f"{label} (censored ≥)" if not (~cens).any() else None)


def time_to_target(run) -> Figure:
    cfg = run.config
    rows = run.rows
    n = cfg.length_sweep_monkeys
    fig = Figure(figsize=(8, 5.2))
    ax = fig.add_subplot(1, 1, 1)
    for mode, style in (("stream", "--"), ("document", "-")):
        th = sorted((r[1], _f(r[_idx("wall_time_keystrokes")])) for r in rows
                    if r[0] == "line" and r[3] == f"theory_{mode}" and r[5] == n)
        if th:
            ax.plot([a for a, _ in th], [b for _, b in th], style, color=COL[mode],
                    label=f"random {mode}: exact theory")
        _points(ax, _measured(rows, "line", f"random_{mode}", "none", n), COL[mode],
                f"random {mode}: measured", marker="s")
    for k, reward in enumerate(cfg.rewards):
        _points(ax, _measured(rows, "line", "learn_independent", reward, n), COL[reward],
                f"bananas ({reward}): first typed", offset=0.15 * (k + 1))
    ax.axhline(cfg.budget, color="tab:red", lw=0.8, ls=":", label="budget per monkey")
    ax.set_yscale("log")
    ax.set_xlabel("target length L (characters, prefix of the line)")
    ax.set_ylabel(f"keystrokes per monkey until the target is typed (N = {n})")
    ax.set_title("Time to target: random typing vs learning from bananas")
    ax.legend(fontsize=7, loc="upper left")
    ax.grid(True, which="major", alpha=0.3)
    fig.tight_layout()
    return fig


def monkey_counts(run) -> Figure:
    cfg = run.config
    rows = run.rows
    tg = sorted({(r[0], r[1]) for r in rows if r[3] == "learn_troop"},
                key=lambda x: (x[0] != "line", x[1]))
    fig = Figure(figsize=(6 * max(1, len(tg)), 5.2))
    for p, (target, length) in enumerate(tg):
        ax = fig.add_subplot(1, max(1, len(tg)), p + 1)
        for mode, style in (("stream", "--"), ("document", "-")):
            th = [(r[5], _f(r[_idx("wall_time_keystrokes")])) for r in rows
                  if r[0] == target and r[1] == length and r[3] == f"theory_{mode}"]
            if th:
                ns = np.array([a for a, _ in th], dtype=float)
                w = np.array([b for _, b in th])
                ax.plot(ns * w, w, style, color=COL[mode], label=f"random {mode}: theory")
            meas = _by_n(rows, target, length, f"random_{mode}", "none")
            if meas:
                ax.scatter([v[1] for v in meas.values()], [v[0] for v in meas.values()],
                           marker="s", color=COL[mode], label=f"random {mode}: measured")
        for reward in cfg.rewards:
            for layout, mk in (("independent", "o"), ("troop", "^")):
                meas = _by_n(rows, target, length, f"learn_{layout}", reward)
                if not meas:
                    continue
                ns = sorted(meas)
                ax.plot([meas[k][1] for k in ns], [meas[k][0] for k in ns], marker=mk,
                        color=COL[reward], ls="-" if layout == "troop" else ":",
                        label=f"{reward} bananas, {layout}")
                for k in (ns[0], ns[-1]):
                    ax.annotate(f"N={k}", (meas[k][1], meas[k][0]), fontsize=6,
                                textcoords="offset points", xytext=(3, 3))
        ax.set_xscale("log")
        ax.set_yscale("log")
        name = "weasel" if target == "weasel" else f"line prefix L={length}"
        ax.set_title(f"Fewer monkeys or less time? ({name})", fontsize=10)
        ax.set_xlabel("total work (keystrokes summed over all monkeys)")
        ax.set_ylabel("wall time (keystrokes per monkey until first success)")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=6)
    fig.tight_layout()
    return fig


def _by_n(rows, target, length, method, reward) -> dict:
    """{N: (median wall, median total)} over seeds (censored runs count their budget)."""
    acc = defaultdict(list)
    for r in rows:
        if r[0] == target and r[1] == length and r[3] == method and r[4] == reward:
            acc[r[5]].append((_f(r[_idx("wall_time_keystrokes")]),
                              _f(r[_idx("total_work_keystrokes")])))
    return {n: (float(np.median([a for a, _ in v])), float(np.median([b for _, b in v])))
            for n, v in sorted(acc.items())}


def convergence(run) -> Figure:
    fig = Figure(figsize=(7, 4.5))
    ax = fig.add_subplot(1, 1, 1)
    by_algo = defaultdict(lambda: defaultdict(list))
    length = run.convergence[-1][5] if run.convergence else None
    for algo, seed, _step, calls, correct, _length, _reward in run.convergence:
        by_algo[algo][seed].append((calls, correct))
    for k, (algo, seeds) in enumerate(by_algo.items()):
        grid_max = max(c for v in seeds.values() for c, _ in v)
        grid = np.linspace(0, grid_max, 200)
        curves = []
        for v in seeds.values():
            calls = np.array([c for c, _ in v], dtype=float)
            corr = np.array([y for _, y in v], dtype=float)
            # after a run stops (solved) it stays at its last value
            curves.append(np.interp(grid, calls, corr, right=corr[-1]))
        curves = np.array(curves)
        color = f"C{k}"
        ax.plot(grid, np.median(curves, axis=0), color=color, label=algo)
        ax.fill_between(grid, curves.min(axis=0), curves.max(axis=0), color=color, alpha=0.2)
    if length:
        ax.axhline(length, color="black", lw=0.8, ls=":", label="whole target")
    ax.set_xlabel("reviewer calls (documents scored, per monkey)")
    ax.set_ylabel("correct characters of the greedy document")
    ax.set_title("Convergence on the weasel sentence (hamming bananas; median, min–max band)",
                 fontsize=9)
    ax.legend(fontsize=8)
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    return fig


def reward_shaping(run) -> Figure:
    cfg = run.config
    rows = run.rows
    n = cfg.length_sweep_monkeys
    fig = Figure(figsize=(7, 4.5))
    ax = fig.add_subplot(1, 1, 1)
    for k, reward in enumerate(cfg.rewards):
        data = _measured(rows, "line", "learn_independent", reward, n,
                         "greedy_reviewer_calls", "greedy_censored")
        _points(ax, data, COL[reward], f"{reward} bananas", offset=0.15 * k)
    th = sorted((r[1], _f(r[_idx("reviewer_calls")])) for r in rows
                if r[0] == "line" and r[3] == "theory_document" and r[5] == n)
    if th:
        ax.plot([a for a, _ in th], [b for _, b in th], "-", color="black",
                label="random documents: exact theory")
    ax.set_yscale("log")
    ax.set_xlabel("target length L (characters)")
    ax.set_ylabel("reviewer calls until the greedy document is the target")
    ax.set_title("Reward shaping: dense bananas vs sparse (exact) bananas", fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    return fig
