"""Tables, the short answer, files and figures of `monkeysim compare`."""

from __future__ import annotations

import json
import math
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..records import COMPARE_COLUMNS as COLUMNS
from ..records import CompareRow
from ..results import atomic_write_bytes, sidecar, write_table
from .compare_config import CompareConfig
from .frontier import COLUMNS as FRONTIER_COLUMNS
from .frontier import FrontierRow

CONVERGENCE_COLUMNS = ["algo", "seed", "step", "reviewer_calls", "greedy_correct_chars",
                       "length", "reward_mean", "b_simple"]


@dataclass
class CompareRun:
    """Result of :func:`~monkeysim.experiments.compare.run`: the tidy rows of compare.csv
    and convergence.csv, the frontier rows, the tuned step sizes and B_simple at
    initialisation, and where they were written."""

    config: CompareConfig
    rows: list[CompareRow]
    convergence: list[list]
    frontier: list[FrontierRow]
    tuned: dict[tuple, dict]
    noise: list[dict]
    out: Path
    seconds: float | None
    """Seconds of the run that computed every cell; None if cells were resumed."""


FILES = ["compare.csv", "compare.json", "convergence.csv", "convergence.json", "frontier.csv",
         "frontier.json", "summary.json", "time_to_target.png", "monkey_counts.png",
         "convergence.png", "reward_shaping.png", "frontier.png", "b_simple.png"]


def group(rows, *keys) -> dict:
    """Rows grouped by the values of the named fields."""
    return group_by(rows, lambda r: tuple(getattr(r, k) for k in keys))


def cell_stats(rows, time_col="wall_time_keystrokes", cens_col="censored") -> dict:
    """Across seeds: restricted mean (censored runs count their budget), median, min, max,
    and how many seeds were censored. Censored values are lower bounds."""
    t = np.array([r.number(time_col) for r in rows])
    c = np.array([int(getattr(r, cens_col) or 0) for r in rows])
    total_col = "total_work_keystrokes" if time_col.startswith("wall") else (
        "greedy_total_work_keystrokes")
    w = np.array([r.number(total_col) for r in rows])
    calls_col = "reviewer_calls" if cens_col == "censored" else "greedy_reviewer_calls"
    calls = np.array([r.number(calls_col) for r in rows])
    return {"restricted_mean": float(np.mean(t)), "median": float(np.median(t)),
            "min": float(np.min(t)), "max": float(np.max(t)), "censored": int(c.sum()),
            "seeds": len(rows), "total_work_median": float(np.median(w)),
            "reviewer_calls_median": float(np.median(calls)) if not np.all(np.isnan(calls))
            else None}


def summarize(run: CompareRun) -> dict:
    """The measured answer: bananas' savings per length, and what more monkeys buy."""
    cfg = run.config
    rows = run.rows
    theory = {k: v[0].number("wall_time_keystrokes")
              for k, v in group([r for r in rows if r.method.startswith("theory_")],
                                "target", "length", "method", "monkeys").items()}
    measured = group([r for r in rows if not r.method.startswith("theory_")],
                     "target", "length", "method", "reward", "monkeys")
    n_len = cfg.length_sweep_monkeys
    lengths = []
    seen = sorted({(r.target, r.length) for r in rows
                   if r.monkeys == n_len and r.method == "learn_independent"},
                  key=lambda x: (x[0] != "line", x[1]))
    for tgt, length in seen:
        entry = {"target": tgt, "length": length,
                 "random_stream_theory": theory.get((tgt, length, "theory_stream", n_len)),
                 "random_document_theory": theory.get((tgt, length, "theory_document", n_len))}
        for mode in ("stream", "document"):
            rs = measured.get((tgt, length, f"random_{mode}", "none", n_len))
            if rs:
                entry[f"random_{mode}_measured"] = cell_stats(rs)
        for reward in cfg.rewards:
            rs = measured.get((tgt, length, "learn_independent", reward, n_len))
            if rs:
                entry[f"bananas_{reward}"] = cell_stats(rs)
                entry[f"bananas_{reward}_greedy"] = cell_stats(
                    rs, "greedy_wall_time_keystrokes", "greedy_censored")
                med = entry[f"bananas_{reward}"]["median"]
                if entry["random_document_theory"] and med > 0:
                    entry[f"savings_{reward}"] = entry["random_document_theory"] / med
        lengths.append(entry)
    ladder = []
    frontier = sorted({(r.target, r.length) for r in rows if r.method == "learn_troop"},
                      key=lambda x: (x[0] != "line", x[1]))
    for tgt, length in frontier:
        methods = {}
        for mode in ("stream", "document"):
            methods[f"theory_{mode}"] = {
                n: {"wall": theory[(tgt, length, f"theory_{mode}", n)],
                    "total": n * theory[(tgt, length, f"theory_{mode}", n)]}
                for n in cfg.monkeys if (tgt, length, f"theory_{mode}", n) in theory}
            rand = {n: cell_stats(measured[(tgt, length, f"random_{mode}", "none", n)])
                    for n in cfg.monkeys if (tgt, length, f"random_{mode}", "none", n) in measured}
            if rand:
                methods[f"random_{mode}"] = rand
        for reward in cfg.rewards:
            for layout in ("independent", "troop", "troop_fixed"):
                got = {n: cell_stats(measured[(tgt, length, f"learn_{layout}", reward, n)])
                       for n in cfg.monkeys
                       if (tgt, length, f"learn_{layout}", reward, n) in measured}
                if got:
                    methods[f"{layout}_{reward}"] = got
        ladder.append({"target": tgt, "length": length, "methods": methods})
    tuning = tuning_summary(run)
    critical = critical_summary(run)
    return {"lengths": lengths, "ladder": ladder, "seconds": run.seconds,
            "monkeys": list(cfg.monkeys), "length_sweep_monkeys": n_len,
            "tuning": tuning, "critical": critical,
            "answer": answer_lines(lengths, ladder, cfg) + critical_lines(critical, cfg)
            + tuning_lines(tuning)}


def tuning_lines(tuning: list[dict]) -> list[str]:
    """How the step sizes were chosen, the rule beside them, and any at the grid's edge."""
    out = [f"Step sizes: each of {len(tuning)} settings tuned on its own tuning seeds "
           f"(disjoint from the reported ones) over the lr grid."]
    ratios = [t["rule_over_tuned"] for t in tuning
              if "rule_over_tuned" in t and t["regime"] == "troop"]
    if ratios:
        out.append(f"McCandlish et al.'s rule ε(B) = ε_max/(1 + B_simple/B) lands within "
                   f"{min(ratios):.2g}–{max(ratios):.2g}× of the troops' tuned step sizes.")
    edge = [t for t in tuning if t["edge"]]
    for t in edge:
        out.append(f"At the grid's {t['edge']} edge (the best step size may lie beyond): "
                   f"{t['target']} L={t['length']} {t['reward']} {t['regime']} "
                   f"N={t['monkeys']}, lr {t['lr']:g}.")
    return out


def _noise(run, target: str, reward: str) -> dict | None:
    return next((r for r in run.noise if r["target"] == target and r["reward"] == reward),
                None)


def tuning_summary(run) -> list[dict]:
    """Every tuned setting: its step size, whether it lies at the grid's edge, and McCandlish
    et al.'s rule ε(B) = ε_max / (1 + B_noise/B) beside it (B_noise: B_simple at
    initialisation, measured in this run; ε_max fitted to the troop's tuned step sizes of the
    same target and reward; B = documents per update of one policy)."""
    from .tuning import rule_step_size

    cfg = run.config
    out = []
    for key, t in run.tuned.items():
        name, length, reward, regime, n = key
        out.append({"target": name, "length": length, "reward": reward, "regime": regime,
                    "monkeys": n, "documents_per_update": n * cfg.batch if regime == "troop"
                    else cfg.batch, "lr": t["lr"], "median_wall_time_keystrokes": t["median"],
                    "edge": t["edge"], "runs": len(t["trials"])})
    troops = group_by(out, lambda x: (x["target"], x["length"], x["reward"]),
                      lambda x: x["regime"] == "troop")
    eps_max = {}  # one fit per target, length and reward
    for (name, length, reward), troop in troops.items():
        noise = _noise(run, name, reward)
        if noise is not None and len(troop) >= 2:
            eps_max[(name, length, reward)] = (rule_step_size(
                [x["documents_per_update"] for x in troop], [x["lr"] for x in troop],
                noise["b_simple"])[0], noise["b_simple"])
    for e in out:
        fit = eps_max.get((e["target"], e["length"], e["reward"]))
        if fit is not None:
            rule = fit[0] / (1 + fit[1] / e["documents_per_update"])
            e.update(rule_lr=rule, rule_over_tuned=rule / e["lr"], rule_eps_max=fit[0])
    return out


def group_by(items, key, keep=lambda x: True) -> dict:
    """``items`` that pass ``keep``, grouped by ``key(item)`` in first-seen order."""
    out = defaultdict(list)
    for x in items:
        if keep(x):
            out[key(x)].append(x)
    return out


def critical_summary(run) -> list[dict]:
    """Per ladder target and graded reward: the hyperbola S = S_min (1 + B_crit/B) fitted to
    the troop's median steps until solved (and, under ``typed``, until typed), with B_simple
    at initialisation (measured; closed form for hamming bananas)."""
    from .. import theory
    from .frontier import fit_hyperbola, medians_by_batch

    cfg = run.config
    out = []
    keys = list(dict.fromkeys((f.target, f.length, f.reward) for f in run.frontier
                              if f.regime == "troop" and f.reward != "exact"))
    for target, length, reward in keys:
        entry = {"target": target, "length": length, "reward": reward}
        for goal in ("solved", "typed"):
            rows = [f for f in run.frontier if (f.target, f.length, f.reward, f.regime,
                                                f.goal) == (target, length, reward, "troop",
                                                            goal)]
            b, med, cens = medians_by_batch(rows)
            keep = cens * 2 < len(rows) / max(len(b), 1)  # median not censored
            try:
                fit = fit_hyperbola(b[keep], med[keep])
            except ValueError:
                continue
            part = {"s_min": fit.s_min, "e_min": fit.e_min, "b_crit": fit.b_crit,
                    "n_crit": fit.b_crit / cfg.batch, "fit_rms_log_error": fit.rms_log_error,
                    "fit_points": fit.points,
                    "points": [{"documents_per_step": float(x), "median_steps": float(y),
                                "censored": int(c)} for x, y, c in zip(b, med, cens,
                                                                        strict=True)]}
            if goal == "solved":
                entry.update(part)
            else:
                entry["typed"] = part
        noise = _noise(run, target, reward)
        if noise is not None:
            entry["b_simple_init"] = noise["b_simple"]
            entry["b_simple_init_ci"] = noise["b_simple_ci"]
        if reward == "hamming":
            size = next(r.alphabet_size for r in run.rows if r.target == target)
            entry["b_simple_init_theory"] = theory.noise_scale_uniform(
                length, size, theory.ALGO_NOISE_BASELINE[cfg.algo], cfg.batch).b_simple
        out.append(entry)
    return out


def critical_lines(critical: list[dict], cfg) -> list[str]:
    """The critical troop size in words."""
    out = []
    for c in critical:
        if "b_crit" not in c:
            continue
        name = "weasel" if c["target"] == "weasel" else f"L={c['length']} prefix"
        noise = (f"; B_simple at initialisation {c['b_simple_init']:.3g} documents"
                 if "b_simple_init" in c else "")
        out.append(
            f"Critical troop ({name}, {c['reward']} bananas): steps to solve follow "
            f"S = {c['s_min']:.3g}·(1 + B_crit/B) with B_crit = {c['b_crit']:.3g} documents "
            f"per step (≈ {c['n_crit']:.3g} monkeys × {cfg.batch}; fit error "
            f"{100 * c['fit_rms_log_error']:.0f} % rms){noise}: below it more monkeys buy "
            f"wall time almost for free, above it they only add work.")
    return out


def _fmt(x) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    if x >= 1e6:
        return f"{x:.2e}"
    return f"{x:,.0f}"


def answer_lines(lengths, ladder, cfg) -> list[str]:
    """A short answer in words, computed from the measured data."""
    out = []
    best = "hamming" if "hamming" in cfg.rewards else cfg.rewards[-1]
    sav = [(e["target"], e["length"], e.get(f"savings_{best}"),
            e.get(f"bananas_{best}", {}).get("censored", 0)) for e in lengths]
    sav = [s for s in sav if s[2] is not None]
    if sav:
        parts = [f"{'weasel' if t == 'weasel' else f'L={ln}'}: {s:.3g}×"
                 + (" (censored, lower bound)" if c else "") for t, ln, s, c in sav]
        out.append(f"Less time: with {best} bananas one monkey needs fewer keystrokes than "
                   f"the exact random-document mean by " + ", ".join(parts) + ".")
    if "exact" in cfg.rewards:
        hard = [e["length"] for e in lengths if e["target"] == "line" and (
            "bananas_exact" not in e or e["bananas_exact"]["censored"])]
        if hard:
            out.append("Sparse (exact) bananas help nothing until the first hit: before it the "
                       "policy gets no gradient and types like random documents, so from "
                       f"L={min(hard)} on no monkey is paid within the budget of "
                       f"{cfg.budget:,} keystrokes.")
    for lad in ladder:
        m = lad["methods"]
        lo, hi = min(cfg.monkeys), max(cfg.monkeys)
        name = "weasel" if lad["target"] == "weasel" else f"L={lad['length']} prefix"
        td = m.get("theory_document", {})
        if lo in td and hi in td:
            out.append(f"More monkeys without bananas ({name}): N={lo}→{hi} divides wall time "
                       f"by {td[lo]['wall'] / td[hi]['wall']:.3g} but total work changes "
                       f"×{td[hi]['total'] / td[lo]['total']:.3g} (theory).")
        for layout, how in (("independent", "independent monkeys, each N at its own step size"),
                            ("troop", "a troop, each N at its own step size"),
                            ("troop_fixed", f"a troop at the step size tuned for N={lo}")):
            g = dict(m.get(f"{layout}_{best}", {}))
            if layout == "troop_fixed" and lo in m.get(f"troop_{best}", {}):
                g[lo] = m[f"troop_{best}"][lo]
            if lo in g and hi in g:
                out.append(
                    f"More monkeys with {best} bananas, {how} ({name}): N={lo}→{hi} wall time "
                    f"×{g[hi]['median'] / g[lo]['median']:.3g}, total work "
                    f"×{g[hi]['total_work_median'] / g[lo]['total_work_median']:.3g} (medians).")
    return out


def table(summary: dict, cfg) -> str:
    """Printed table: keystrokes per monkey to the target, random vs bananas."""
    rewards = list(cfg.rewards)
    head = (f"{'target':<8}{'L':>4}  {'random stream':>14}{'random doc':>12}"
            + "".join(f"{'bananas ' + r:>17}" for r in rewards)
            + f"{'savings':>10}")
    lines = [f"keystrokes per monkey until the target is first typed "
             f"(N = {summary['length_sweep_monkeys']}; theory for random, median over seeds "
             f"for bananas; ≥ = censored; = : exact bananas give no gradient before the "
             f"first hit, so there they type like random documents: theory)", head]
    best = "hamming" if "hamming" in rewards else rewards[-1]
    for e in summary["lengths"]:
        cells = ""
        for r in rewards:
            st = e.get(f"bananas_{r}")
            if st is None and r == "exact":  # not simulated: equal in law to random documents
                shown = "=" + _fmt(e["random_document_theory"])
            else:
                shown = ("≥" if st and st["censored"] else "") + _fmt(
                    st["median"] if st else None)
            cells += f"{shown:>17}"
        s = e.get(f"savings_{best}")
        lines.append(f"{e['target']:<8}{e['length']:>4}  {_fmt(e['random_stream_theory']):>14}"
                     f"{_fmt(e['random_document_theory']):>12}{cells}"
                     f"{(f'{s:.3g}×' if s else '—'):>10}")
    lines += ["", "Answer:"] + [f"  - {a}" for a in summary["answer"]]
    return "\n".join(lines)


def write(run: CompareRun, seed: int) -> None:
    """compare.csv + sidecar, convergence.csv + sidecar, summary.json and the figures."""
    from ..plots import compare as pc
    from ..plots.figure import save

    out = run.out
    cfg = run.config.to_dict()
    meta = sidecar(cfg, seed, columns=COLUMNS, seconds=run.seconds)
    write_table(out / "compare.csv", COLUMNS, [r.as_list() for r in run.rows], meta)
    write_table(out / "convergence.csv", CONVERGENCE_COLUMNS, run.convergence,
                sidecar(cfg, seed, columns=CONVERGENCE_COLUMNS))
    write_table(out / "frontier.csv", FRONTIER_COLUMNS, [f.as_list() for f in run.frontier],
                sidecar(cfg, seed, columns=FRONTIER_COLUMNS))
    summary = summarize(run)
    atomic_write_bytes(out / "summary.json",
                       (json.dumps(summary, indent=2, default=str) + "\n").encode())
    figs = {"time_to_target.png": pc.time_to_target(run),
            "monkey_counts.png": pc.monkey_counts(run),
            "convergence.png": pc.convergence(run),
            "reward_shaping.png": pc.reward_shaping(run),
            "frontier.png": pc.frontier(run.frontier, summary["critical"], run.config.batch),
            "b_simple.png": pc.b_simple(run.convergence, summary["critical"])}
    for name, fig in figs.items():
        save(fig, out / name)


def load_summary(out: Path) -> dict:
    return json.loads((Path(out) / "summary.json").read_text())
