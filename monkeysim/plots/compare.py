"""Figures of `monkeysim compare` (Agg backend, ``matplotlib.figure.Figure`` objects).

- :func:`time_to_target` — keystrokes per monkey vs target length: theory lines for random
  typing, measured points (median, bars min–max over seeds; hollow = censored lower bound).
- :func:`monkey_counts` — wall time vs N, every N at its own tuned step size (the dashed
  troop shares the smallest N's step size).
- :func:`frontier` — steps vs documents of the troop ladder with the fitted hyperbola.
- :func:`b_simple` — the gradient noise scale along training.
- :func:`convergence` — correct characters of the greedy document vs reviewer calls per
  algorithm, median and min–max band over seeds.
- :func:`reward_shaping` — reviewer calls until the greedy document is the target, per reward.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter

from ..theory import effective_batch

COL = {"stream": "tab:gray", "document": "black", "exact": "tab:red", "prefix": "tab:orange",
       "hamming": "tab:blue", "levenshtein": "tab:green", "ngram": "tab:purple",
       "words": "tab:brown"}


def _measured(rows, target, method, reward, n, time_col="wall_time_keystrokes",
              cens_col="censored"):
    """{length: (median, min, max, any_censored)} over seeds."""
    acc = defaultdict(list)
    for r in rows:
        if (r.target == target and r.method == method and r.reward == reward
                and r.monkeys == n):
            acc[r.length].append((r.number(time_col), int(getattr(r, cens_col) or 0)))
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


def time_to_target(run, summary: dict) -> Figure:
    """Left: keystrokes per monkey vs target length on log axes (theory lines for random
    typing, measured points: median, bars min–max over seeds). Right: the learners alone on
    linear axes, medians with their 95 % bootstrap intervals, so that the near-linear growth
    with L is visible."""
    cfg = run.config
    rows = run.rows
    n = cfg.length_sweep_monkeys
    fig = Figure(figsize=(13, 5.2))
    ax = fig.add_subplot(1, 2, 1)
    for mode, style in (("stream", "--"), ("document", "-")):
        th = sorted((r.length, r.number("wall_time_keystrokes")) for r in rows
                    if r.target == "line" and r.method == f"theory_{mode}" and r.monkeys == n)
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
    ax.set_ylim(bottom=1)
    ax.set_xlabel("target length L (characters, prefix of the line)")
    ax.set_ylabel(f"keystrokes per monkey until the target is typed (N = {n})")
    ax.set_title("Time to target: random typing vs learning from bananas", fontsize=10)
    ax.legend(fontsize=7, loc="upper left")
    ax.grid(True, which="major", alpha=0.3)
    lin = fig.add_subplot(1, 2, 2)
    for k, reward in enumerate(r for r in cfg.rewards if r != "exact"):
        pts = [(e["length"], e[f"bananas_{reward}"]) for e in summary["lengths"]
               if e["target"] == "line" and f"bananas_{reward}" in e]
        if not pts:
            continue
        xs = np.array([x for x, _ in pts], dtype=float) + 0.2 * k
        med = np.array([p["median"] for _, p in pts])
        lo = np.array([p["median_ci"][0] for _, p in pts])
        hi = np.array([p["median_ci"][1] for _, p in pts])
        cens = np.array([p["censored"] > 0 for _, p in pts])
        lin.errorbar(xs, med, yerr=[med - lo, hi - med], fmt="-", color=COL[reward], lw=0.8,
                     capsize=3, label=f"{reward} bananas: median, 95 % CI")
        lin.scatter(xs[~cens], med[~cens], color=COL[reward], zorder=3)
        lin.scatter(xs[cens], med[cens], facecolors="none", edgecolors=COL[reward], zorder=3,
                    label=f"{reward}: some runs censored (≥)" if cens.any() else None)
    lin.set_ylim(bottom=0)
    lin.set_xlabel("target length L (characters, prefix of the line)")
    lin.set_ylabel(f"keystrokes per monkey until typed (N = {n}; linear)")
    lin.set_title("Learners on linear axes: growth with L", fontsize=10)
    lin.legend(fontsize=7, loc="upper left")
    lin.grid(True, alpha=0.3)
    fig.tight_layout()
    return fig


def monkey_counts(run) -> Figure:
    """Wall time vs N per ladder target and graded reward: random typing (exact theory),
    independent monkeys and troops each at their own tuned step size, and the troop at the
    step size tuned for the smallest N (dashed: the old shared-step answer)."""
    rows = run.rows
    panels = sorted({(r.target, r.length, r.reward) for r in rows if r.method == "learn_troop"
                     and r.reward != "exact"}, key=lambda x: (x[0] != "line", x[1], x[2]))
    cols = max(1, len(panels))
    fig = Figure(figsize=(4.6 * cols, 4.6))
    for p, (target, length, reward) in enumerate(panels):
        ax = fig.add_subplot(1, cols, p + 1)
        th = sorted((r.monkeys, r.number("wall_time_keystrokes")) for r in rows
                    if r.target == target and r.length == length
                    and r.method == "theory_document")
        if th:
            ax.plot([a for a, _ in th], [b for _, b in th], "-", color=COL["document"],
                    label="random documents: theory")
        for method, style, mk, label in (
                ("learn_independent", ":", "o", "independent, own step size"),
                ("learn_troop", "-", "^", "troop, own step size"),
                ("learn_troop_fixed", "--", "v", "troop, step size of the smallest N")):
            meas = _by_n(rows, target, length, method, reward)
            if method == "learn_troop_fixed":
                first = _by_n(rows, target, length, "learn_troop", reward)
                if first and meas:
                    n0 = min(first)
                    meas = {n0: first[n0], **meas}
            if not meas:
                continue
            ns = sorted(meas)
            ax.plot(ns, [meas[k][0] for k in ns], marker=mk, ls=style, color=COL[reward]
                    if method != "learn_independent" else "tab:gray", label=label)
        _panel(ax, target, length, reward, "monkeys N",
               "wall time (keystrokes per monkey until first typed; median)", 7)
        ax.set_xscale("log", base=2)
    fig.suptitle("Fewer monkeys or less time? Each N at its own step size", fontsize=11)
    fig.tight_layout()
    return fig


def _panel(ax, target: str, length: int, reward: str, xlabel: str, ylabel: str,
           legend: int) -> None:
    """Log-log axes titled by target and reward, labelled, gridded, with a legend."""
    ax.set_xscale("log")
    ax.set_yscale("log")
    name = "weasel" if target == "weasel" else f"line prefix L={length}"
    ax.set_title(f"{name}, {reward} bananas", fontsize=10)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3, which="both")
    ax.legend(fontsize=legend)


def frontier(critical: list[dict], batch: int) -> Figure:
    """Steps vs documents until typed for the troop ladder (one point per documents per step
    B: median steps, bars its 95 % bootstrap interval; hollow: left out of the fit), the
    fitted hyperbola (S/S_min − 1)(E/E_min − 1) = 1, B_crit with its interval, and the
    self-sizing troop's median (S, E) with its intervals where it ran."""
    fits = [c for c in critical if "b_crit" in c]
    cols = max(1, len(fits))
    fig = Figure(figsize=(4.8 * cols, 4.6))
    for p, c in enumerate(fits):
        ax = fig.add_subplot(1, cols, p + 1)
        pts = c["points"]
        bs = np.array([q["documents_per_step"] for q in pts])
        med = np.array([q["median_steps"] for q in pts])
        lo = np.array([q["ci"][0] for q in pts])
        hi = np.array([q["ci"][1] for q in pts])
        fitted = np.array([q["fitted"] for q in pts])
        ax.errorbar(bs * med, med, yerr=[med - lo, hi - med], fmt="none", color="tab:blue",
                    capsize=2)
        ax.scatter((bs * med)[fitted], med[fitted], color="tab:blue", zorder=3,
                   label="troop, own step size (median, 95 % CI)")
        if (~fitted).any():
            ax.scatter((bs * med)[~fitted], med[~fitted], facecolors="none",
                       edgecolors="tab:blue", zorder=3, label="not fitted (< 2 steps)")
        for b, m in zip(bs, med, strict=True):
            label = f"N={int(b) // batch}" if b >= batch else f"1×{int(b)}"
            ax.annotate(label, (b * m, m), fontsize=6, textcoords="offset points",
                        xytext=(3, 3))
        share = c.get("baseline_share", 0.0)
        grid = np.geomspace(bs.min() if share else bs.min() / 4, bs.max() * 4, 200)
        s_fit = c["s_min"] * (1 + c["b_crit"] / _effective(grid, c))
        ax.plot(grid * s_fit, s_fit, "-", color="black",
                label=f"(S/S_min − 1)(E/E_min − 1) = 1, rms {100 * c['fit_rms_log_error']:.0f} %"
                      + (f"\n(one monkey, k < {c['reference_batch']}: leave-one-out share "
                         f"c = {share:.2g})" if share else ""))
        s_c = 2 * c["s_min"]
        ax.plot([c["b_crit"] * s_c], [s_c], "*", ms=12, color="tab:red",
                label=f"B_crit = {c['b_crit']:.3g} ({c['b_crit_ci'][0]:.3g}–"
                      f"{c['b_crit_ci'][1]:.3g}) documents/step")
        ax.axhline(c["s_min"], color="gray", ls=":", lw=0.8)
        ax.axvline(c["e_min"], color="gray", ls=":", lw=0.8)
        if "auto" in c:
            a = c["auto"]
            ax.errorbar([a["documents"]], [a["steps"]],
                        xerr=[[a["documents"] - a["documents_ci"][0]],
                              [a["documents_ci"][1] - a["documents"]]],
                        yerr=[[a["steps"] - a["steps_ci"][0]], [a["steps_ci"][1] - a["steps"]]],
                        fmt="D", color="tab:green", ms=6, capsize=2, zorder=4,
                        label=f"auto troop, no tuning (S/S_min {a['s_over_s_min']:.2g}, "
                              f"E/E_min {a['e_over_e_min']:.2g})")
        _panel(ax, c["target"], c["length"], c["reward"],
               "documents E until typed (all monkeys)", "steps S until typed", 6)
        ax.xaxis.set_minor_formatter(NullFormatter())
    fig.suptitle("Steps vs documents: the critical troop size", fontsize=11)
    fig.tight_layout()
    return fig


def _effective(b: np.ndarray, c: dict) -> np.ndarray:
    """The fit's effective batch along documents per step b: the troop ladder (N × k₀) for
    b ≥ k₀, one monkey typing k = b documents below it."""
    k0 = c.get("reference_batch") or 1
    share = c.get("baseline_share", 0.0)
    monkeys = np.maximum(b / k0, 1.0)
    return effective_batch(monkeys, np.minimum(b, k0), share, k0)


def b_simple(convergence: list[list], critical: list[dict]) -> Figure:
    """The gradient noise scale B_simple (documents) along training of one monkey on the
    weasel with hamming bananas, per algorithm (median over seeds), with the closed form at
    uniform initialisation."""
    fig = Figure(figsize=(7, 4.5))
    ax = fig.add_subplot(1, 1, 1)
    by_algo = defaultdict(lambda: defaultdict(list))
    for algo, seed, _step, calls, _correct, _length, _reward, bs in convergence:
        if bs not in ("", None):
            by_algo[algo][seed].append((calls, float(bs)))
    for k, (algo, seeds) in enumerate(by_algo.items()):
        top = min(max(c for c, _ in v) for v in seeds.values())
        grid = np.linspace(0, top, 100)
        curves = np.array([np.interp(grid, [c for c, _ in v], [b for _, b in v])
                           for v in seeds.values()])
        ax.plot(grid, np.median(curves, axis=0), color=f"C{k}", label=algo)
    for c in critical:
        if c["target"] == "weasel" and "b_simple_init_theory" in c:
            ax.axhline(c["b_simple_init_theory"], color="black", ls=":", lw=0.8,
                       label="closed form at uniform θ (this run's algorithm)")
    ax.set_yscale("log")
    ax.set_xlabel("reviewer calls (documents scored)")
    ax.set_ylabel("B_simple = tr Σ / |G|² (documents)")
    ax.set_title("Gradient noise scale along training (weasel, hamming bananas, one monkey)",
                 fontsize=9)
    ax.grid(True, alpha=0.3, which="both")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def _by_n(rows, target, length, method, reward) -> dict:
    """{N: (median wall, median total)} over seeds (censored runs count their budget)."""
    acc = defaultdict(list)
    for r in rows:
        if (r.target == target and r.length == length and r.method == method
                and r.reward == reward):
            acc[r.monkeys].append((r.number("wall_time_keystrokes"),
                                   r.number("total_work_keystrokes")))
    return {n: (float(np.median([a for a, _ in v])), float(np.median([b for _, b in v])))
            for n, v in sorted(acc.items())}


def convergence(run) -> Figure:
    fig = Figure(figsize=(7, 4.5))
    ax = fig.add_subplot(1, 1, 1)
    by_algo = defaultdict(lambda: defaultdict(list))
    length = run.convergence[-1][5] if run.convergence else None
    for algo, seed, _step, calls, correct, *_ in run.convergence:
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
    th = sorted((r.length, r.number("reviewer_calls")) for r in rows
                if r.target == "line" and r.method == "theory_document" and r.monkeys == n)
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
