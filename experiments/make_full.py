"""`monkeysim compare --full` at the default seed: every table, the summary and the seven
figures of the bigger ladder (troops of 1 to 4,096 monkeys, racing monkeys up to 256, 16 prefix
lengths, the weasel with hamming and prefix bananas, 20 reported seeds, budget 10^7).

Regenerates results/full/ from a run checkpointed in runs/full-cache (ignored by git; an
interrupted run resumes there, byte-identical). 25 minutes uninterrupted on 2 cores at a low
load (45 CPU-minutes, peak 803 MB; README, *Compare on a cluster*).
Run: python experiments/make_full.py
"""

import shutil

from common import RESULTS, ROOT, SEED

from monkeysim.experiments import compare
from monkeysim.experiments.compare_config import make_config

CACHE = ROOT / "runs" / "full-cache"
FILES = ("compare.csv", "compare.json", "convergence.csv", "convergence.json", "frontier.csv",
         "frontier.json", "tuning.csv", "tuning.json", "summary.json", "time_to_target.png",
         "monkey_counts.png", "frontier.png", "b_simple.png", "convergence.png",
         "reward_shaping.png", "tuning.png")

if __name__ == "__main__":
    CACHE.mkdir(parents=True, exist_ok=True)
    run = compare.run(make_config("full"), CACHE, seed=SEED, resume=True)
    out = RESULTS / "full"
    out.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        shutil.copyfile(CACHE / name, out / name)
        print(f"wrote {out / name}")
