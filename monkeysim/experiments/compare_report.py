"""Tables, the short answer, files and figures of `monkeysim compare`."""

from __future__ import annotations

import dataclasses
import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..learn.algorithms import ALGORITHMS
from ..records import COMPARE_COLUMNS as COLUMNS
from ..records import CompareRow
from ..results import atomic_write_bytes, sidecar, write_table
from . import compare_answer as answer
from .compare_config import CompareConfig
from .compare_stats import auto_vs_frontier, frontier_fit, median_ci, ratio_ci
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
    summary: dict | None = None
    """``summary.json``'s content, once :func:`write` has made it."""
    auto: list[dict] = dataclasses.field(default_factory=list)
    """One self-sizing troop run per frontier and reported seed
    (:func:`.compare_learn.auto_cell`)."""


FILES = ["compare.csv", "compare.json", "convergence.csv", "convergence.json", "frontier.csv",
         "frontier.json", "tuning.csv", "tuning.json", "summary.json", "tuning.png",
         "time_to_target.png", "monkey_counts.png", "convergence.png", "reward_shaping.png",
         "frontier.png", "b_simple.png"]


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
    r0 = rows[0]
    ci = median_ci(t, r0.target, r0.length, r0.method, r0.reward, r0.monkeys, time_col)["ci"]
    return {"restricted_mean": float(np.mean(t)), "median": float(np.median(t)),
            "median_ci": ci,
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
                low, high = entry[f"bananas_{reward}"]["median_ci"]
                th = entry["random_document_theory"]
                if th and med > 0:
                    entry[f"savings_{reward}"] = th / med
                    entry[f"savings_{reward}_ci"] = [th / high, th / low]
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
        ladder.append({"target": tgt, "length": length, "methods": methods,
                       "ratios": ladder_ratios(cfg, measured, tgt, length)})
    tuning = tuning_summary(run)
    critical = critical_summary(run)
    summary = {"lengths": lengths, "ladder": ladder, "seconds": run.seconds,
               "monkeys": list(cfg.monkeys), "length_sweep_monkeys": n_len,
               "rewards": list(cfg.rewards), "batch": cfg.batch, "budget": cfg.budget,
               "seeds": cfg.seeds, "tune_seeds": cfg.tune_seeds,
               "tuning": tuning, "critical": critical}
    summary["answer"] = answer.lines(summary)
    return summary


def ladder_ratios(cfg, measured: dict, tgt: str, length: int) -> dict:
    """Wall time and total work of the largest N over the smallest, per layout and graded
    reward, with 95 % bootstrap intervals over the reported seeds (the fixed-step troop's
    smallest N is the tuned troop's)."""
    lo = min(cfg.monkeys)
    out = {}
    for reward in cfg.rewards:
        for layout in ("independent", "troop", "troop_fixed"):
            hi = max(n for n in cfg.monkeys if layout != "independent"
                     or n <= cfg.independent_max_monkeys)
            first = "troop" if layout == "troop_fixed" else layout
            base = measured.get((tgt, length, f"learn_{first}", reward, lo))
            top = measured.get((tgt, length, f"learn_{layout}", reward, hi))
            if not base or not top:
                continue
            entry = {"from": lo, "to": hi}
            for what, col in (("wall", "wall_time_keystrokes"),
                              ("total", "total_work_keystrokes")):
                entry[what] = ratio_ci([r.number(col) for r in base],
                                       [r.number(col) for r in top], tgt, length, layout,
                                       reward, what)
            out[f"{layout}_{reward}"] = entry
    return out


def _sweep_documents(run, target: str, reward: str) -> float:
    """Documents of the fixed-troop sweep of one frontier: every tuning run of its troop
    settings (keystrokes per monkey × N ÷ L) and every reported troop run until typed (a
    lower bound of the sweep: reported runs also go on until the greedy document is right)."""
    total = 0.0
    for key, t in run.tuned.items():
        name, length, rew, regime, n, _ = key
        if (name, rew, regime) == (target, reward, "troop"):
            total += sum(tr["wall"] for tr in t.get("trials", [])) * n / length
    total += sum(f.reviewer_calls for f in run.frontier
                 if (f.target, f.reward, f.regime, f.goal) == (target, reward, "troop", "typed"))
    return total


def _noise(run, target: str, reward: str) -> dict | None:
    return next((r for r in run.noise if r["target"] == target and r["reward"] == reward),
                None)


def tuning_summary(run) -> list[dict]:
    """Every tuned setting: its step size, whether it lies at the grid's edge, and McCandlish
    et al.'s rule ε(B) = ε_max / (1 + B_noise/B) beside it (B_noise: B_simple at
    initialisation, measured in this run; ε_max fitted to the troop's tuned step sizes of the
    same target and reward; B = documents per update of one policy)."""
    from .tuning import rule_step_size

    out = []
    for key, t in run.tuned.items():
        name, length, reward, regime, n, k = key
        out.append({"target": name, "length": length, "reward": reward, "regime": regime,
                    "monkeys": n, "batch": k,
                    "documents_per_update": n * k if regime == "troop" else k,
                    "lr": t["lr"], "median_wall_time_keystrokes": t["median"],
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
    the troop's median steps until typed (the goal the step sizes were tuned for; under
    ``solved``: until the greedy document is the target), with bootstrap intervals, and
    B_simple at initialisation (measured; closed form for hamming bananas)."""
    from .. import theory

    cfg = run.config
    out = []
    keys = list(dict.fromkeys((f.target, f.length, f.reward) for f in run.frontier
                              if f.regime == "troop" and f.reward != "exact"))
    for target, length, reward in keys:
        entry = {"target": target, "length": length, "reward": reward, "goal": "typed"}
        for goal in ("typed", "solved"):
            rows = [f for f in run.frontier if (f.target, f.length, f.reward, f.regime,
                                                f.goal) == (target, length, reward, "troop",
                                                            goal)]
            part = frontier_fit(rows, target, length, reward, goal)
            if part is None:
                continue
            if "b_crit" in part:
                part["n_crit"] = part["b_crit"] / cfg.batch
                part["n_crit_ci"] = [x / cfg.batch for x in part["b_crit_ci"]]
            if goal == "typed":
                entry.update(part)
            else:
                entry["solved"] = part
        runs = [a for a in run.auto if (a["target"], a["length"], a["reward"]) ==
                (target, length, reward)]
        if runs:
            troop = [f for f in run.frontier if (f.target, f.length, f.reward, f.regime,
                                                 f.goal) == (target, length, reward, "troop",
                                                             "typed")]
            entry["auto"] = auto_vs_frontier(runs, troop, _sweep_documents(run, target, reward),
                                             target, length, reward)
        noise = _noise(run, target, reward)
        if noise is not None:
            entry["b_simple_init"] = noise["b_simple"]
            entry["b_simple_init_ci"] = noise["b_simple_ci"]
        if reward == "hamming":
            size = next(r.alphabet_size for r in run.rows if r.target == target)
            entry["b_simple_init_theory"] = theory.noise_scale_uniform(
                length, size, ALGORITHMS[cfg.algo].noise_baseline, cfg.batch).b_simple
        out.append(entry)
    return out


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
    write_table(out / "tuning.csv", TUNING_COLUMNS, tuning_rows(run.tuned),
                sidecar(cfg, seed, columns=TUNING_COLUMNS))
    summary = summarize(run)
    run.summary = summary
    atomic_write_bytes(out / "summary.json",
                       (json.dumps(summary, indent=2, default=str) + "\n").encode())
    figs = {"time_to_target.png": pc.time_to_target(run, summary),
            "monkey_counts.png": pc.monkey_counts(run),
            "convergence.png": pc.convergence(run),
            "reward_shaping.png": pc.reward_shaping(run),
            "frontier.png": pc.frontier(summary["critical"], run.config.batch),
            "b_simple.png": pc.b_simple(run.convergence, summary["critical"]),
            "tuning.png": tuning_figure(run.tuned)}
    for name, fig in figs.items():
        save(fig, out / name)


TUNING_COLUMNS = ["target", "length", "reward", "regime", "monkeys", "batch", "lr", "seeds",
                  "median_wall_time_keystrokes", "q1_wall_time_keystrokes",
                  "q3_wall_time_keystrokes", "censored", "chosen"]
"""Columns of tuning.csv: one row per setting and step size tried; wall times are keystrokes
per monkey until typed over the tuning seeds that step size reached (censored runs at their
budget); ``chosen`` marks the setting's step size."""


def tuning_rows(tuned: dict[tuple, dict]) -> list[list]:
    """The rows of tuning.csv from the tuned settings' trials."""
    rows = []
    for key, t in tuned.items():
        by_lr = group_by(t["trials"], lambda x: x["lr"])
        for lr in sorted(by_lr):
            walls = np.array([x["wall"] for x in by_lr[lr]], dtype=float)
            q1, med, q3 = np.quantile(walls, [0.25, 0.5, 0.75])
            rows.append([*key, lr, len(walls), float(med), float(q1), float(q3),
                         sum(bool(x["censored"]) for x in by_lr[lr]), int(lr == t["lr"])])
    return rows


def tuning_figure(tuned: dict[tuple, dict]):
    from ..plots.tuning import tuning_bowls

    return tuning_bowls(TUNING_COLUMNS, tuning_rows(tuned))


def load_summary(out: Path) -> dict:
    return json.loads((Path(out) / "summary.json").read_text())
