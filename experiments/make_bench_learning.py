"""Learning efficiency on the weasel: reviewer calls until the greedy document is the target,
every algorithm vs Dawkins' weasel and coordinate search, and numba vs numpy speed.

Regenerates results/bench_learning.json and results/bench_learning_runs.csv (+ sidecar).
Run: python experiments/make_bench_learning.py [--seeds N]
"""

import sys

from common import RESULTS

from monkeysim.cli.main import main

if __name__ == "__main__":
    raise SystemExit(main(["bench", "learning", "--out", str(RESULTS), "--overwrite",
                           *sys.argv[1:]]))
