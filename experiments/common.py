"""Shared by the figure scripts: run (or reuse) the default `monkeysim compare` run.

The run is checkpointed in ``runs/results-cache`` (ignored by git), so the four scripts
compute it once; each script then writes its own figure(s), and the tables, into
``results/``. Every script here calls the installed package (``pip install -e .``), its
library or its CLI, and imports this module as ``from common import ...``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from monkeysim.experiments import compare, compare_report
from monkeysim.experiments.compare_config import make_config

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "results"
CACHE = ROOT / "runs" / "results-cache"
SEED = 0


def default_run() -> compare_report.CompareRun:
    """The default compare run (seed 0), resumed from the cache when it is there."""
    cfg = make_config()
    CACHE.mkdir(parents=True, exist_ok=True)
    run = compare.run(cfg, CACHE, seed=SEED, resume=True)
    RESULTS.mkdir(exist_ok=True)
    for name in ("compare.csv", "compare.json", "convergence.csv", "convergence.json",
                 "frontier.csv", "frontier.json", "tuning.csv", "tuning.json",
                 "summary.json"):
        shutil.copyfile(CACHE / name, RESULTS / name)
    return run


def save_figure(name: str) -> Path:
    """Copy figure ``name`` of the default run into results/."""
    shutil.copyfile(CACHE / name, RESULTS / name)
    print(f"wrote {RESULTS / name}")
    return RESULTS / name


__all__ = ["compare_report", "default_run", "save_figure"]
