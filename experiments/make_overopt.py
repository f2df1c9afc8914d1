"""Reward-model over-optimisation at the default seed: gold and proxy reward vs √KL for
best-of-n and RLOO at several KL coefficients, with the Gao et al. (2022) fits.

Regenerates results/overopt.png, results/overopt.csv (+ .json sidecar) and
results/overopt_summary.json from `monkeysim overopt --seed 0`.
Run: python experiments/make_overopt.py
"""

import shutil
import tempfile
from pathlib import Path

from common import RESULTS, SEED

from monkeysim.experiments import overopt

if __name__ == "__main__":
    res = overopt.run(overopt.OveroptConfig(), seed=SEED)
    print(overopt.report(res))
    with tempfile.TemporaryDirectory() as tmp:
        overopt.write_outputs(res, Path(tmp))
        RESULTS.mkdir(exist_ok=True)
        for name, dest in (("overopt.png", "overopt.png"), ("overopt.csv", "overopt.csv"),
                           ("overopt.json", "overopt.json"),
                           ("summary.json", "overopt_summary.json")):
            shutil.copyfile(Path(tmp) / name, RESULTS / dest)
            print(f"wrote {RESULTS / dest}")
