"""The course note's walkthrough at the default seed: estimator convergence (log-log, with the
1/√(NK) line) and expected reward and KL over policy-gradient updates.

Regenerates results/walkthrough.png, results/walkthrough.csv (+ .json sidecar) and
results/walkthrough_summary.json from `monkeysim walkthrough --seed 0`.
Run: python experiments/make_walkthrough.py
"""

import shutil
import tempfile
from pathlib import Path

from common import RESULTS, SEED

from monkeysim.experiments import walkthrough

if __name__ == "__main__":
    res = walkthrough.run(walkthrough.WalkthroughConfig(), seed=SEED)
    with tempfile.TemporaryDirectory() as tmp:
        walkthrough.write_outputs(res, Path(tmp))
        RESULTS.mkdir(exist_ok=True)
        for name, dest in (("walkthrough.png", "walkthrough.png"),
                           ("walkthrough.csv", "walkthrough.csv"),
                           ("walkthrough.json", "walkthrough.json"),
                           ("summary.json", "walkthrough_summary.json")):
            shutil.copyfile(Path(tmp) / name, RESULTS / dest)
            print(f"wrote {RESULTS / dest}")
