"""Learning efficiency on the weasel: reviewer calls until the greedy document is the target,
every algorithm vs Dawkins' weasel and coordinate search, and numba vs numpy speed.

Regenerates results/bench_learning.json and results/bench_learning_runs.csv (+ sidecar).
Run: python experiments/bench_learning.py [--seeds N]
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from monkeysim.cli import main  # noqa: E402

if __name__ == "__main__":
    raise SystemExit(main(["bench", "learning", "--out", str(ROOT / "results"), "--overwrite",
                           *sys.argv[1:]]))
