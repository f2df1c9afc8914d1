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

from monkeysim.experiments.auto_troop import auto_until_typed, fixed_ladder, ratios
from monkeysim.plots.figure import save
from monkeysim.rng import derived_seed
from monkeysim.texts import get

ROOT = 23
TARGETS = (("macbeth", 8, "hamming"), ("richard3", 6, "prefix"), ("pacific", 10, "hamming"))
"""(built-in text, prefix length, reward): upper-cased prefixes (upper27, 27 keys)."""
LADDER = (1, 4, 16, 64, 256)
GRID = tuple(float(2**k) for k in range(1, 16))
AUTO_STREAM = 2302


def measure(name: str, length: int, reward: str, seeds: int, tune_seeds: int, ladder) -> dict:
    text = get(name)[:length].upper()  # upper27: 27 keys
    t0 = time.time()
    fixed = fixed_ladder(text, reward, ladder, GRID, seeds, ROOT, tune_seeds=tune_seeds)
    t1 = time.time()
    runs = [auto_until_typed(text, reward, derived_seed(ROOT, AUTO_STREAM, j))
            for j in range(seeds)]
    t2 = time.time()
    steps = [r.steps for r in runs]
    docs = [r.documents for r in runs]
    key = f"{name}:{length}:{reward}"
    out = {"target": name, "text": text, "length": length, "reward": reward,
           "fixed": fixed, "auto": [r.to_dict() for r in runs],
           **ratios(fixed, steps, docs, key),
           "auto_censored": int(sum(r.censored for r in runs)),
           "auto_documents_spent": int(sum(docs)),
           "sweep_documents_spent": int(sum(c["tuning_documents"] + c["reported_documents"]
                                            for c in fixed)),
           "seconds_fixed": t1 - t0, "seconds_auto": t2 - t1}
    out["sweep_over_auto_documents"] = out["sweep_documents_spent"] / out["auto_documents_spent"]
    print(f"{key}: S/S_min = {out['s_ratio']:.2f} {np.round(out['s_ratio_ci'], 2)}, "
          f"E/E_min = {out['e_ratio']:.2f} {np.round(out['e_ratio_ci'], 2)}, "
          f"sweep/auto documents = {out['sweep_over_auto_documents']:.0f}x "
          f"({t1 - t0:.0f} s fixed, {t2 - t1:.0f} s auto)", flush=True)
    return out


def figure(rows: list[dict]):
    fig = Figure(figsize=(5 * len(rows), 4.5))
    axes = fig.subplots(1, len(rows), squeeze=False)[0]
    for ax, r in zip(axes, rows, strict=True):
        for c in r["fixed"]:
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
                label=f"auto troop, median: S/S_min {r['s_ratio']:.1f}, "
                      f"E/E_min {r['e_ratio']:.1f}")
        ax.axhline(3 * r["s_min"], color="gray", ls=":", lw=0.8)
        ax.axvline(3 * r["e_min"], color="gray", ls=":", lw=0.8, label="3 × S_min, 3 × E_min")
        ax.plot([], [], "o", color="tab:blue", label="fixed troop N at its tuned ε (median, IQR)")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("documents until typed, all monkeys (E)")
        ax.set_ylabel("steps until typed (S, documents per monkey ÷ batch)")
        ax.set_title(f"{r['text']!r} ({r['reward']} bananas)", fontsize=9)
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
                         "results/auto_troop_part<ONLY>.json (two processes, one per core)")
    ap.add_argument("--merge", action="store_true",
                    help="combine the parts into results/auto_troop.json and .png")
    args = ap.parse_args()
    targets = TARGETS[:1] if args.quick else TARGETS
    ladder = (1, 16, 256) if args.quick else LADDER
    if args.only is not None:
        n, length, reward = TARGETS[args.only]
        row = measure(n, length, reward, args.seeds, args.tune_seeds, ladder)
        (RESULTS / f"auto_troop_part{args.only}.json").write_text(json.dumps(row) + "\n")
        raise SystemExit(0)
    if args.merge:
        rows = [json.loads(p.read_text()) for p in sorted(RESULTS.glob("auto_troop_part*.json"))]
    else:
        rows = [measure(n, length, reward, args.seeds, args.tune_seeds, ladder)
                for n, length, reward in targets]
    summary = {"seeds": args.seeds, "tune_seeds": args.tune_seeds, "ladder": list(ladder),
               "lr_grid": list(GRID), "targets": rows,
               "pass": all(r["s_ratio"] <= 3 and r["e_ratio"] <= 3 for r in rows)}
    RESULTS.mkdir(exist_ok=True)
    name = "auto_troop_quick" if args.quick else "auto_troop"
    (RESULTS / f"{name}.json").write_text(json.dumps(summary, indent=1) + "\n")
    save(figure(rows), RESULTS / f"{name}.png")
    print(f"wrote {RESULTS / name}.json and .png")
