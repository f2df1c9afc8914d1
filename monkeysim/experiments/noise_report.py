"""The outputs of the noise study: the columns of noise.csv and their units, the CSV rows,
:func:`write_outputs` (noise.csv with its JSON sidecar, noise.png from
:mod:`monkeysim.plots.noise`, summary.json; all written atomically) and :func:`report`, the
plain-text tables (median reviewer calls until solved per learner and noise level beside the
bounds, the step sizes at the grid's edge, the KL-leash conditions beside their fixed points).
"""

from __future__ import annotations

import math
from pathlib import Path

from ..results import sidecar, write_json, write_table
from .noise_config import WEASEL, manifest
from .noise_records import NoiseResult, NoiseStat
from .noise_theory import bound_curves

FILES = ["noise.csv", "noise.json", "noise.png", "summary.json"]
COLUMNS = ["learner", "noise", "level", "seed", "lr", "lr_edge", "reviewer_calls",
           "censored", "keystrokes", "budget", "capacity_bits", "bound_calls",
           "bound_calls_strict"]
UNITS = {
    "learner": "reinforce | rloo | grpo | ppo (scores), pref-naive | pref-debiased | "
               "pref-estimated (preferences), weasel (Dawkins' weasel, scores)",
    "noise": "sigma (Gaussian score noise) or flip (wrong preferences)",
    "level": "σ in characters (noise sigma) or the flip rate ε (noise flip)",
    "seed": "index j of the reported seed derived_seed(seed, j)",
    "lr": "SGD step size chosen by the line search on tuning seeds (empty for the weasel)",
    "lr_edge": "'' inside the grid, 'low'/'high' at its first/last value",
    "reviewer_calls": "reviewer calls until the greedy document is the target (pairs "
                      "compared for preferences; the calls spent if censored)",
    "censored": "1 if the budget ran out first",
    "keystrokes": "keystrokes typed until then (documents × L)",
    "budget": "reviewer calls allowed",
    "capacity_bits": "bits per reviewer call (issue's capacity, see bound_calls)",
    "bound_calls": "L·log2(A) / capacity_bits, reviewer calls",
    "bound_calls_strict": "L·log2(A) / (capacity valid for any strategy), reviewer calls",
}


def _fmt(v) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return str(int(v))
    if isinstance(v, float):
        return "inf" if math.isinf(v) else f"{v:.6g}"
    return str(v)


def csv_rows(res: NoiseResult) -> list[list[str]]:
    return [[_fmt(r[c]) for c in COLUMNS] for r in res.rows]


def write_outputs(res: NoiseResult, out: Path) -> Path:
    """noise.csv (+ noise.json sidecar), noise.png and summary.json in ``out`` (which a
    :class:`~monkeysim.results.RunDir` holds)."""
    from ..plots.figure import save
    from ..plots.noise import noise_figure

    out = Path(out)
    summary = res.as_json()
    cfg = manifest(res.config, res.seed)["config"]
    path = write_table(out / "noise.csv", COLUMNS, csv_rows(res),
                       sidecar(cfg, res.seed, units=UNITS, summary=summary,
                               lr_grids={learner: list(res.config.lr_grid(learner))
                                         for learner in sorted({s.learner for s in res.stats})
                                         if learner != WEASEL},
                               tuning=res.tuning))
    curves = bound_curves(res.length, res.alphabet_size,
                          sigma_max=max(res.config.sigmas, default=0.0),
                          flip_max=max(res.config.flips, default=0.0))
    save(noise_figure(res.stats, res.leash, curves, length=res.length,
                      alphabet_size=res.alphabet_size), out / "noise.png")
    write_json(out / "summary.json", summary)
    return path


def _calls(st: NoiseStat) -> str:
    text = f"{st.median:,.0f}"
    return ("≥" + text) if st.median_censored else text


def report(res: NoiseResult) -> str:
    """Plain-text tables: median calls until solved per learner and level, with the bound;
    the KL-leash result."""
    lines = [f"reviewer calls until {res.config.text!r} is solved (median over "
             f"{res.config.seeds} seeds, each learner at its own tuned step size; "
             f"≥: more than half censored at {res.config.budget:,})"]
    for noise, unit in (("sigma", "σ (characters)"), ("flip", "ε")):
        stats = [s for s in res.stats if s.noise == noise]
        if not stats:
            continue
        levels = sorted({s.level for s in stats})
        names = list(dict.fromkeys(s.learner for s in stats))
        lines.append("")
        lines.append(f"{unit:<16}" + "".join(f"{lv:>12g}" for lv in levels))
        by = {(s.learner, s.level): s for s in stats}
        for name in names:
            cells = []
            for lv in levels:
                s = by.get((name, lv))
                cells.append(f"{_calls(s) if s else '':>12}")
            lines.append(f"{name:<16}" + "".join(cells))
        for label, key in (("bound", "bound_calls"), ("bound (strict)", "bound_calls_strict")):
            vals = {s.level: getattr(s, key) for s in stats}
            lines.append(f"{label:<16}" + "".join(f"{vals[lv]:>12,.0f}" for lv in levels))
    edges = []
    for s in res.stats:
        if s.lr_edge == "low" and s.limit_median is not None:
            edges.append(f"{s.learner}@{s.level:g} low (tuning median {s.tuning_median:,.0f}, "
                         f"lr → 0 limit {s.limit_median:,.0f})")
        elif s.lr_edge:
            edges.append(f"{s.learner}@{s.level:g} {s.lr_edge}")
    if edges:
        lines.append("\nstep size at the grid's edge: " + "; ".join(edges))
    cfg = res.config
    lines.append("")
    lines.append(f"KL leash β = {cfg.leash_beta:g}, ε = {cfg.leash_flip:g}, lr {cfg.leash_lr:g} "
                 f"for all, {cfg.leash_steps} steps, {cfg.leash_seeds} seeds (median "
                 "[min, max]; fixed point: mean-field)")
    lines.append(f"{'condition':<22}{'β_eff':>8}{'final KL (nats)':>26}{'fixed':>8}"
                 f"{'expected reward':>26}{'fixed':>8}")
    for s in res.leash:
        k, r = s.quantiles("kl"), s.quantiles("reward")
        lines.append(f"{s.name:<22}{s.beta_eff:>8.3f}"
                     f"{k['median']:>10.2f} [{k['min']:6.2f}, {k['max']:6.2f}]"
                     f"{s.fixed_kl:>8.2f}{r['median']:>10.3f} [{r['min']:5.3f}, "
                     f"{r['max']:5.3f}]{s.fixed_q:>8.3f}")
    lines.append(f"\n{res.seconds:.1f} s (cells computed in {res.compute_seconds:.1f} s)")
    return "\n".join(lines)
