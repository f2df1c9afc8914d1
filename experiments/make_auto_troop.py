"""A troop that sizes itself, on targets nobody tuned for (issue 23): the auto troop
(``monkeys="auto", lr="auto"``, no tuning run) against fixed troops of N = 1 .. 256 monkeys,
each at its own step size tuned by successive halving on its own tuning seeds. Measures the
auto troop's median steps and documents until typed relative to S_min and E_min (the least
medians over the ladder), with 95 % bootstrap intervals over seeds.

Targets: prefixes of built-in lines that ``compare`` does not use (it tunes on the Hamlet
line and the weasel), with hamming and prefix bananas. Writes results/auto_troop.json and
results/auto_troop.png: python experiments/make_auto_troop.py [--seeds 12] [--quick]
"""

import argparse
import json
import time

import numpy as np
from common import RESULTS
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter

from monkeysim.experiments.auto_troop import auto_until_typed, fixed_ladder, ratios
from monkeysim.plots.figure import save
from monkeysim.rng import derived_seed
from monkeysim.texts import get

ROOT = 23
HELD_OUT = (("macbeth", 8, "hamming"), ("richard3", 6, "prefix"), ("pacific", 10, "hamming"),
            ("antarctica", 14, "hamming"), ("macbeth", 5, "prefix"), ("sonnet18", 5, "prefix"))
"""(built-in text, prefix length, reward): upper-cased prefixes (upper27, 27 keys), held out
from the rule's development; TOMOR's miss prompted changes since, so they are seen."""
SEEN = (("pacific", 5, "prefix", 12), ("antarctica", 6, "prefix", 43),
        ("banana", 6, "prefix", 0), ("richard3", 10, "hamming", 25))
"""(built-in text, length, reward, start): words (OCEAN, TREATY, BANANA, DISCONTENT) added
fresh for the probe rule (stop 32), whose misses on them were seen before the first-step rule
replaced the probe."""
FRESH = (("sonnet18", 6, "prefix", 26), ("richard3", 6, "prefix", 11),
         ("hamlet", 5, "prefix", 33), ("antarctica", 13, "hamming", 29))
"""Words (SUMMER, WINTER, QUEST, INTERNATIONAL) whose fixed ladders were measured before the
first-step rule was chosen and whose auto runs were measured once, after it was fixed."""
TARGETS = HELD_OUT + SEEN + FRESH
GROUPS = ("held out",) * len(HELD_OUT) + ("seen",) * len(SEEN) + ("fresh",) * len(FRESH)
LADDER = (1, 4, 16, 64, 256)
BETWEEN = (2, 8, 32, 128)
"""Troop sizes between the ladder's (``--between``): with them the ladder is 1, 2, 4, .., 256,
to ask whether any fixed troop lands in the 3 × 3 box."""
GRID = tuple(float(2**k) for k in range(1, 16))
AUTO_STREAM = 2302
PARTS = RESULTS.parent / "runs" / "auto-troop-parts"
COMPARE_CELLS = (("line", 4, "prefix"), ("line", 4, "hamming"), ("weasel", 28, "hamming"))
"""compare's default frontier cells (troop ladder, typed): in-sample for the auto troop (its
probe rule was chosen on them)."""


def compare_defaults(seeds: int) -> list[dict]:
    """The auto troop against the committed fixed-troop frontier of the default compare run
    (results/frontier.csv: every (N, batch) point at its tuned step size, 10 seeds)."""
    import csv

    from monkeysim.alphabet import default_for, named

    rows = list(csv.DictReader((RESULTS / "frontier.csv").open()))
    out = []
    for target, length, reward in COMPARE_CELLS:
        text = get("hamlet") if target == "line" else get("weasel")
        alphabet = default_for(text) if target == "line" else named("upper27")
        points: dict = {}
        for r in rows:
            if (r["target"], int(r["length"]), r["reward"], r["regime"], r["goal"]) == (
                    target, length, reward, "troop", "typed"):
                p = points.setdefault((int(r["monkeys"]), int(r["batch"])),
                                      {"monkeys": int(r["monkeys"]), "batch": int(r["batch"]),
                                       "lr": float(r["lr"]), "steps": [], "documents": []})
                p["steps"].append(float(r["steps"]))
                p["documents"].append(int(r["reviewer_calls"]))
        ladder = [points[k] for k in sorted(points)]
        runs = [auto_until_typed(text[:length], reward, derived_seed(ROOT, AUTO_STREAM, j),
                                 alphabet=alphabet) for j in range(seeds)]
        res = {"target": target, "text": text[:length], "length": length, "reward": reward,
               "fixed": ladder, "auto": [r.to_dict() for r in runs],
               **ratios(ladder, [r.steps for r in runs], [r.documents for r in runs],
                        f"compare:{target}:{length}:{reward}")}
        print(f"compare {target}/{length} {reward}: S/S_min = {res['s_ratio']:.2f} "
              f"{np.round(res['s_ratio_ci'], 2)}, E/E_min = {res['e_ratio']:.2f} "
              f"{np.round(res['e_ratio_ci'], 2)}", flush=True)
        out.append(res)
    return out


def target_text(name: str, length: int, start: int = 0) -> str:
    """The upper-cased target (upper27: 27 keys): ``length`` characters of built-in text
    ``name`` from ``start``."""
    return get(name)[start:start + length].upper()


def measure(name: str, length: int, reward: str, seeds: int, tune_seeds: int, ladder,
            start: int = 0) -> dict:
    """One target: its fixed ladder (the expensive part), then :func:`with_auto`."""
    text = target_text(name, length, start)
    t0 = time.time()
    fixed = fixed_ladder(text, reward, ladder, GRID, seeds, ROOT, tune_seeds=tune_seeds)
    row = {"target": name, **({"start": start} if start else {}), "text": text,
           "length": length, "reward": reward, "fixed": fixed, "seconds_fixed": time.time() - t0}
    return with_auto(row, seeds)


def with_auto(row: dict, seeds: int) -> dict:
    """``row`` (a target and its fixed ladder, as :func:`measure` writes it) with ``seeds``
    auto runs and their ratios, recomputed; ``--rerun-auto`` applies it to the stored parts,
    so that a change of the rule costs the auto runs only (minutes, not CPU-hours)."""
    t0 = time.time()
    runs = [auto_until_typed(row["text"], row["reward"], derived_seed(ROOT, AUTO_STREAM, j))
            for j in range(seeds)]
    seconds = time.time() - t0
    steps = [r.steps for r in runs]
    docs = [r.documents for r in runs]
    start = row.get("start", 0)
    key = f"{row['target']}:{row['length']}:{row['reward']}" + (f":{start}" if start else "")
    fixed = row["fixed"]
    out = {name: row[name] for name in ("target", "start", "text", "length", "reward", "fixed")
           if name in row}
    out.update({"auto": [r.to_dict() for r in runs],
                **ratios(fixed, steps, docs, key),
                "auto_censored": int(sum(r.censored for r in runs)),
                "auto_documents_spent": int(sum(docs)),
                "sweep_documents_spent": int(sum(c["tuning_documents"] + c["reported_documents"]
                                                 for c in fixed)),
                "seconds_fixed": row["seconds_fixed"], "seconds_auto": seconds})
    out["sweep_over_auto_documents"] = out["sweep_documents_spent"] / out["auto_documents_spent"]
    print(f"{key}: S/S_min = {out['s_ratio']:.2f} {np.round(out['s_ratio_ci'], 2)}, "
          f"E/E_min = {out['e_ratio']:.2f} {np.round(out['e_ratio_ci'], 2)}, "
          f"sweep/auto documents = {out['sweep_over_auto_documents']:.0f}x "
          f"({row['seconds_fixed']:.0f} s fixed, {seconds:.0f} s auto)", flush=True)
    return out


def best_placed(ladder: list[dict]) -> dict:
    """The fixed troop nearest the knee: the least max(S/S_min, E/E_min) over ``ladder``
    (medians over seeds; S_min and E_min the ladder's least medians)."""
    s_min = min(float(np.median(c["steps"])) for c in ladder)
    e_min = min(float(np.median(c["documents"])) for c in ladder)
    rows = [{"monkeys": c["monkeys"], "s_ratio": float(np.median(c["steps"])) / s_min,
             "e_ratio": float(np.median(c["documents"])) / e_min} for c in ladder]
    return min(rows, key=lambda r: max(r["s_ratio"], r["e_ratio"]))


def with_between(row: dict, between: list[dict]) -> dict:
    """``row`` plus the troops of :data:`BETWEEN`: the auto ratios and the best-placed fixed
    troop against the ×2 ladder (``x2``)."""
    dense = sorted(row["fixed"] + between, key=lambda c: c["monkeys"])
    key = f"{row['target']}:{row['length']}:{row['reward']}:{row.get('start', 0)}:x2"
    x2 = ratios(dense, [a["steps"] for a in row["auto"]], [a["documents"] for a in row["auto"]],
                key)
    return {**row, "between": between,
            "x2": {**x2, "ladder": [c["monkeys"] for c in dense],
                   "best_fixed": best_placed(dense),
                   "box_reachable": any(max(r_s, r_e) <= 3 for r_s, r_e in (
                       (np.median(c["steps"]) / x2["s_min"],
                        np.median(c["documents"]) / x2["e_min"]) for c in dense))}}


def figure(rows: list[dict]):
    cols = min(3, len(rows))
    nrows = -(-len(rows) // cols)
    fig = Figure(figsize=(5 * cols, 4.5 * nrows))
    axes = fig.subplots(nrows, cols, squeeze=False).ravel()
    for ax in axes[len(rows):]:
        ax.set_visible(False)
    for ax, r in zip(axes, rows, strict=False):
        ref = r.get("x2", r)  # S_min, E_min and the ratios over the x2 ladder when measured
        for c in sorted(r["fixed"] + r.get("between", []), key=lambda c: c["monkeys"]):
            s, e = np.median(c["steps"]), np.median(c["documents"])
            ax.errorbar(e, s, xerr=[[e - np.quantile(c["documents"], 0.25)],
                                    [np.quantile(c["documents"], 0.75) - e]],
                        yerr=[[s - np.quantile(c["steps"], 0.25)],
                              [np.quantile(c["steps"], 0.75) - s]],
                        fmt="o", color="tab:blue", ms=5, capsize=2)
            ax.annotate(f"N={c['monkeys']}", (e, s), fontsize=7, xytext=(4, 4),
                        textcoords="offset points")
        a_s = [x["steps"] for x in r["auto"]]
        a_e = [x["documents"] for x in r["auto"]]
        ax.plot(a_e, a_s, ".", color="tab:red", alpha=0.35, label="auto troop, one seed")
        ax.plot(np.median(a_e), np.median(a_s), "*", color="tab:red", ms=14,
                label=f"auto troop, median: S/S_min {ref['s_ratio']:.1f}, "
                      f"E/E_min {ref['e_ratio']:.1f}")
        ax.axhline(3 * ref["s_min"], color="gray", ls=":", lw=0.8)
        ax.axvline(3 * ref["e_min"], color="gray", ls=":", lw=0.8, label="3 × S_min, 3 × E_min")
        ax.plot([], [], "o", color="tab:blue", label="fixed troop N at its tuned ε (median, IQR)")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.yaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("documents until typed, all monkeys (E)")
        ax.set_ylabel("steps until typed (S, documents per monkey ÷ batch)")
        ax.set_title(f"{r['text']!r} ({r['reward']} bananas, {r['group']})", fontsize=9)
        ax.legend(fontsize=6, loc="upper right")
        ax.grid(True, alpha=0.3, which="both")
    fig.tight_layout()
    return fig


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=12)
    ap.add_argument("--tune-seeds", type=int, default=8)
    ap.add_argument("--quick", action="store_true", help="first target, N = 1, 16, 256")
    ap.add_argument("--only", type=int, default=None,
                    help="measure only target number ONLY (0-based) into "
                         "runs/auto-troop-parts/part<ONLY>.json (one process per core)")
    ap.add_argument("--between", action="store_true",
                    help="with --only: fixed troops of N = 2, 8, 32, 128 (between the "
                         "ladder's) into runs/auto-troop-parts/between<ONLY>.json; --merge "
                         "adds them (the auto ratios against the x2 ladder, the best-placed "
                         "fixed troop)")
    ap.add_argument("--merge", action="store_true",
                    help="combine the parts into results/auto_troop.json and .png")
    ap.add_argument("--rerun-auto", action="store_true",
                    help="with --merge: first recompute every part's auto runs (the rule's) "
                         "against its stored fixed ladder, and rewrite the parts")
    args = ap.parse_args()
    targets = TARGETS[:1] if args.quick else TARGETS
    ladder = (1, 16, 256) if args.quick else LADDER
    if args.only is not None:
        n, length, reward, *start = TARGETS[args.only]
        if args.between:
            part = fixed_ladder(target_text(n, length, *start), reward, BETWEEN, GRID,
                                args.seeds, ROOT, tune_seeds=args.tune_seeds)
        else:
            part = measure(n, length, reward, args.seeds, args.tune_seeds, ladder, *start)
        PARTS.mkdir(parents=True, exist_ok=True)
        name = f"between{args.only}" if args.between else f"part{args.only}"
        (PARTS / f"{name}.json").write_text(json.dumps(part) + "\n")
        raise SystemExit(0)
    if args.merge:
        rows = [json.loads((PARTS / f"part{i}.json").read_text()) for i in range(len(TARGETS))]
        if args.rerun_auto:
            rows = [with_auto(row, args.seeds) for row in rows]
            for i, row in enumerate(rows):
                (PARTS / f"part{i}.json").write_text(json.dumps(row) + "\n")
        for i, row in enumerate(rows):
            row["group"] = GROUPS[i]
            row["best_fixed"] = best_placed(row["fixed"])
            if (PARTS / f"between{i}.json").exists():
                rows[i] = with_between(row, json.loads((PARTS / f"between{i}.json").read_text()))
        for r in rows:
            b = r["best_fixed"]
            line = (f"{r['text']!r} {r['reward']}: S/S_min {r['s_ratio']:.2f} "
                    f"{np.round(r['s_ratio_ci'], 2)}, E/E_min {r['e_ratio']:.2f} "
                    f"{np.round(r['e_ratio_ci'], 2)}; best fixed N={b['monkeys']}: "
                    f"{b['s_ratio']:.2f}, {b['e_ratio']:.2f}")
            if "x2" in r:
                x, b = r["x2"], r["x2"]["best_fixed"]
                line += (f" | x2 ladder: {x['s_ratio']:.2f} {np.round(x['s_ratio_ci'], 2)}, "
                         f"{x['e_ratio']:.2f} {np.round(x['e_ratio_ci'], 2)}; best fixed "
                         f"N={b['monkeys']}: {b['s_ratio']:.2f}, {b['e_ratio']:.2f}; box "
                         f"reachable by a fixed troop: {x['box_reachable']}")
            print(line, flush=True)
    else:
        rows = [measure(n, length, reward, args.seeds, args.tune_seeds, ladder, *start)
                for n, length, reward, *start in targets]
    summary = {"seeds": args.seeds, "tune_seeds": args.tune_seeds, "ladder": list(ladder),
               "lr_grid": list(GRID), "targets": rows,
               "pass": all(r.get("x2", r)["s_ratio"] <= 3 and r.get("x2", r)["e_ratio"] <= 3
                           for r in rows),
               "compare_defaults": [] if args.quick else compare_defaults(args.seeds)}
    RESULTS.mkdir(exist_ok=True)
    name = "auto_troop_quick" if args.quick else "auto_troop"
    (RESULTS / f"{name}.json").write_text(json.dumps(summary, indent=1) + "\n")
    save(figure(rows), RESULTS / f"{name}.png")
    print(f"wrote {RESULTS / name}.json and .png")
