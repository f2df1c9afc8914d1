"""The answer's numbers with 95 % bootstrap intervals over the reported seeds.

Every quantity the answer quotes is a function of per-seed measurements (wall time, total
work, steps until typed). Each cell's seeds are resampled with replacement, independently of
the other cells', :data:`~monkeysim.stats.BOOTSTRAP_RESAMPLES` times, the quantity is
recomputed on every resample and the central 95 % of the draws is its interval (percentile
bootstrap; `tests/test_compare_stats.py` checks its coverage). Censored runs count at their
budget, as in the medians.
"""

from __future__ import annotations

import numpy as np

from ..stats import bootstrap_medians, bootstrap_rng, percentile_interval
from ..theory import effective_batch
from .frontier import FrontierRow, fit_frontier, fit_frontier_many

MIN_FIT_STEPS = 2.0
"""Frontier points whose median steps fall below this are left out of the fit: at one or two
steps the integer floor of an update, not the trade-off, sets the steps."""


def median_ci(values, *key) -> dict:
    """{"median", "ci": [low, high]} of ``values`` (one cell's seeds)."""
    draws = bootstrap_medians(values, bootstrap_rng("median", *key))
    return {"median": float(np.median(values)), "ci": list(percentile_interval(draws))}


def ratio_ci(base, other, *key) -> dict:
    """{"ratio", "ci"} of median(other) / median(base), each cell resampled on its own."""
    rng = bootstrap_rng("ratio", *key)
    draws = bootstrap_medians(other, rng) / bootstrap_medians(base, rng)
    return {"ratio": float(np.median(other) / np.median(base)),
            "ci": list(percentile_interval(draws))}


def compared_with(ci: list[float], one: float = 1.0) -> str:
    """"less" / "more" if the interval lies wholly below / above ``one``, else "same"."""
    return "less" if ci[1] < one else "more" if ci[0] > one else "same"


def frontier_fit(rows: list[FrontierRow], *key) -> dict | None:
    """The hyperbola S = S_min (1 + B_crit/B) fitted to the median steps of each point of N
    monkeys × k documents per step (points whose median is censored or below
    :data:`MIN_FIT_STEPS` are shown but not fitted), B counted as the effective batch of
    :func:`~monkeysim.experiments.frontier.effective_batch` with the baseline share c fitted,
    with bootstrap intervals on S_min, E_min, B_crit and c; None with fewer than two fitted
    points."""
    by_point: dict[tuple[int, int], list[FrontierRow]] = {}
    for r in rows:
        by_point.setdefault((r.monkeys, r.batch), []).append(r)
    points, fit_n, fit_k, fit_steps = [], [], [], []
    rng = bootstrap_rng("frontier", *key)
    for n, k in sorted(by_point, key=lambda nk: (nk[0] * nk[1], nk)):
        steps = np.array([r.steps for r in by_point[n, k]], dtype=float)
        censored = int(sum(r.censored for r in by_point[n, k]))
        med = float(np.median(steps))
        draws = bootstrap_medians(steps, rng)
        fitted = censored * 2 < len(steps) and med >= MIN_FIT_STEPS
        points.append({"documents_per_step": float(n * k), "monkeys": n, "batch": k,
                       "median_steps": med, "ci": list(percentile_interval(draws)),
                       "censored": censored, "seeds": len(steps), "fitted": fitted})
        if fitted:
            fit_n.append(n)
            fit_k.append(k)
            fit_steps.append(draws)
    if len(set(n * k for n, k in zip(fit_n, fit_k, strict=True))) < 2:
        return {"points": points}
    fit = fit_frontier(fit_n, fit_k, [p["median_steps"] for p in points if p["fitted"]])
    s_min, b_crit, share, _ = fit_frontier_many(np.array(fit_n), np.array(fit_k),
                                                np.stack(fit_steps, axis=1))
    for p in points:
        p["effective_batch"] = float(effective_batch(p["monkeys"], p["batch"],
                                                     fit.baseline_share, fit.reference_batch))
    return {"s_min": fit.s_min, "s_min_ci": list(percentile_interval(s_min)),
            "e_min": fit.e_min, "e_min_ci": list(percentile_interval(s_min * b_crit)),
            "b_crit": fit.b_crit, "b_crit_ci": list(percentile_interval(b_crit)),
            "baseline_share": fit.baseline_share,
            "baseline_share_ci": list(percentile_interval(share)),
            "reference_batch": fit.reference_batch,
            "fit_rms_log_error": fit.rms_log_error, "fit_points": fit.points,
            "points": points}


def auto_vs_frontier(runs: list[dict], troop: list[FrontierRow], sweep_documents: float,
                     *key) -> dict:
    """Where the self-sizing troop lands against the fixed troops of one frontier.

    ``runs``: its runs (one per reported seed: ``steps``, ``documents``, ``censored``);
    ``troop``: the fixed troops' frontier rows until typed. S_min and E_min are the least
    median steps and the least median documents over the fixed troops' documents per step B
    (each at its own tuned step size); the intervals of S/S_min and E/E_min resample the
    auto runs and every B's seeds together (2,000 resamples). ``sweep_documents``: the
    documents the fixed-troop sweep spent; ``sweep_over_auto`` = that ÷ the auto runs' own."""
    rng = bootstrap_rng("auto", *key)
    steps = np.array([r["steps"] for r in runs], dtype=float)
    docs = np.array([r["documents"] for r in runs], dtype=float)
    by_b: dict[int, list[FrontierRow]] = {}
    for r in troop:
        by_b.setdefault(r.monkeys * r.batch, []).append(r)
    s_med = {b: float(np.median([r.steps for r in rs])) for b, rs in by_b.items()}
    e_med = {b: float(np.median([r.reviewer_calls for r in rs])) for b, rs in by_b.items()}
    s_draws = np.min([bootstrap_medians([r.steps for r in rs], rng)
                      for rs in by_b.values()], axis=0)
    e_draws = np.min([bootstrap_medians([r.reviewer_calls for r in rs], rng)
                      for rs in by_b.values()], axis=0)
    a_s, a_e = bootstrap_medians(steps, rng), bootstrap_medians(docs, rng)
    s_min, e_min = min(s_med.values()), min(e_med.values())
    spent = float(docs.sum())
    return {"seeds": len(runs), "censored": int(sum(r["censored"] for r in runs)),
            "steps": float(np.median(steps)), "steps_ci": list(percentile_interval(a_s)),
            "documents": float(np.median(docs)), "documents_ci": list(percentile_interval(a_e)),
            "s_min": s_min, "e_min": e_min,
            "s_min_at": min(s_med, key=s_med.get), "e_min_at": min(e_med, key=e_med.get),
            "s_over_s_min": float(np.median(steps)) / s_min,
            "s_over_s_min_ci": list(percentile_interval(a_s / s_draws)),
            "e_over_e_min": float(np.median(docs)) / e_min,
            "e_over_e_min_ci": list(percentile_interval(a_e / e_draws)),
            "monkeys_median": float(np.median([np.median(r["monkeys"]) for r in runs])),
            "documents_spent": spent, "sweep_documents": float(sweep_documents),
            "sweep_over_auto": float(sweep_documents) / spent if spent else None}
