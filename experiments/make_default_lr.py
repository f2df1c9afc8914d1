"""The default step size of an algorithm, tuned as the table's were: the median reviewer calls
until the greedy document is the weasel (hamming bananas, one monkey, batch 16, SGD) for every
step size of a log grid on seeds 100-179; the best one (not at the grid's edge) is replayed
with its grid neighbours on fresh seeds 200-279. Prints JSON; writes nothing.
Run: python experiments/make_default_lr.py ALGO [LR ...]
"""

import json
import sys

from monkeysim.experiments.bench_learning import CHECK_SEEDS, lr_bowl
from monkeysim.learn.algorithms import ALGORITHMS

if __name__ == "__main__":
    algo = sys.argv[1]
    start = ALGORITHMS[algo].lr_sgd
    grid = ([float(x) for x in sys.argv[2:]]
            or [start * 2 ** (k / 2) for k in range(-6, 7)])
    bowl = lr_bowl(algo, grid)
    best = min(range(len(bowl)), key=lambda i: bowl[i]["median_reviewer_calls"])
    if best in (0, len(bowl) - 1):
        print(f"warning: the best step size {grid[best]:g} is at the edge of the grid",
              file=sys.stderr)
    near = grid[max(best - 1, 0):best + 2]
    check = lr_bowl(algo, near, CHECK_SEEDS)
    print(json.dumps({"algo": algo, "tuning": bowl, "best_lr": grid[best],
                      "fresh_seeds": check}, indent=1))
