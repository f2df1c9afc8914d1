"""Do the tuned step sizes hold on seeds nobody tuned on? For every tuned setting of the
default compare run at one monkey per regime and the largest troop, replay the chosen step
size and its two grid neighbours on 20 unseen seeds (their own stream) and compare the
median wall times: the chosen one should be within 1.25× of the best of the three.

Writes results/tuning_check.json. Run after the compare results: python
experiments/make_tuning_check.py [--seeds 20] [--all]
"""

import argparse
import json

import numpy as np
from common import RESULTS, SEED, default_run

from monkeysim.experiments import compare
from monkeysim.experiments.compare_learn import Setting, replay
from monkeysim.experiments.compare_stats import ratio_ci

if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--all", action="store_true", help="every tuned setting (slow)")
    args = ap.parse_args()
    run = default_run()
    cfg = run.config
    by_name = {t.name: t for t in compare.targets(cfg)}
    grid = list(cfg.lr_grid)
    checks = []
    for key, t in run.tuned.items():
        st = Setting(*key)
        ladder = st.length == (cfg.frontier_length if st.target == "line" else 28)
        if not args.all and not (ladder and st.batch == cfg.batch
                                 and st.monkeys in (min(cfg.monkeys), max(cfg.monkeys))):
            continue
        i = grid.index(t["lr"])
        lrs = grid[max(0, i - 1): i + 2]
        tgt = by_name[st.target]
        walls = replay(cfg, st, tgt.prefix(st.length), tgt.alphabet, lrs, args.seeds, SEED)
        med = {lr: float(np.median(w)) for lr, w in walls.items()}
        best = min(med, key=med.get)
        ratio = ratio_ci(walls[best], walls[t["lr"]], "tuning_check", *key)
        checks.append({"setting": list(key), "chosen": t["lr"], "medians": med,
                       "chosen_over_best": med[t["lr"]] / med[best],
                       "chosen_over_best_ci": ratio["ci"],
                       "holds": med[t["lr"]] <= 1.25 * med[best]})
        print(f"{key}: chosen lr {t['lr']:g}, unseen-seed medians "
              + ", ".join(f"{lr:g}: {m:,.0f}" for lr, m in med.items())
              + f" -> {med[t['lr']] / med[best]:.2f}x the best "
              + f"(95% CI {ratio['ci'][0]:.2f}-{ratio['ci'][1]:.2f})")
    out = {"seeds": args.seeds, "checks": checks,
           "held": sum(c["holds"] for c in checks), "of": len(checks),
           "held_within_ci": sum(c["chosen_over_best_ci"][0] <= 1.25 for c in checks)}
    (RESULTS / "tuning_check.json").write_text(json.dumps(out, indent=2) + "\n")
    print(f"{out['held']} of {out['of']} chosen step sizes within 1.25x of the best neighbour; "
          f"{out['held_within_ci']} with 1.25x inside or above the ratio's 95% interval")
