"""How much a reviewer who errs costs: reviewer calls until the weasel is solved vs Gaussian
score noise σ and preference flip rate ε, each learner at its own tuned step size, beside
the capacity bounds; and the KL-leash measure (naive vs de-biased preferences at ε = 0.2).

Regenerates results/noise.png, results/noise.csv (+ .json sidecar) and
results/noise_summary.json from `monkeysim noise --seed 0`. The run is checkpointed in
runs/noise-cache (ignored by git), so an interrupted run continues where it stopped.
Run: python experiments/make_noise.py
"""

import shutil

from common import CACHE, RESULTS, SEED

from monkeysim.experiments import noise
from monkeysim.results import RunDir

if __name__ == "__main__":
    cfg = noise.NoiseConfig()
    out = CACHE.parent / "noise-cache"
    resume = (out / "manifest.json").exists()
    with RunDir(out, noise.FILES + noise.CHECKPOINTS, overwrite=True, resume=resume,
                subdirs=["cells"]):
        res = noise.run(cfg, out, seed=SEED, resume=resume)
        noise.write_outputs(res, out)
    print(noise.report(res))
    RESULTS.mkdir(exist_ok=True)
    for name, dest in (("noise.png", "noise.png"), ("noise.csv", "noise.csv"),
                       ("noise.json", "noise.json"), ("summary.json", "noise_summary.json")):
        shutil.copyfile(out / name, RESULTS / dest)
        print(f"wrote {RESULTS / dest}")
