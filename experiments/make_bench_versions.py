"""The refactor against the revision before it, side by side: speed ratios and output bytes.

Extracts ``--old`` (default 31a8304, the last revision before the learner-core refactor of
issue 14; any later revision works too, e.g. ``--old cfe0949``, before issue 24's two-phase
step) with ``git archive`` into a temporary directory beside this checkout, then runs each
workload in fresh processes, alternating old and new (``--repeats`` rounds, best time kept),
each version importing its own tree (``PYTHONPATH``) with its own numba cache (warmed first):

- ``learning``: the numba trainer's reviewer calls per second on one thread, one monkey and
  64 monkeys (``bench learning``'s speed workloads), new / old;
- ``corpus``: the corpus kernel (``learn_lines``, 2 threads, best of 3 in the process) on
  the lines of hamlet, macbeth, othello and king-lear, new / old; and the bytes of
  ``typed.txt`` and ``summary.json`` of ``monkeysim shakespeare`` on those plays;
- ``compare``: ``monkeysim compare --quick`` wall time and the bytes of ``compare.csv``,
  ``frontier.csv`` and ``convergence.csv``.

Writes results/bench_versions.json. Run: python experiments/make_bench_versions.py
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

from common import RESULTS, ROOT

LEARNING = """
import json, time
from monkeysim.experiments.bench_learning import SPEED_WORKLOADS, TARGET, ALPHABET
from monkeysim.alphabet import named
{train_import}
alpha = named(ALPHABET)
out = {{}}
for name, m, k, steps in SPEED_WORKLOADS:
    cfg = dict(algo="reinforce", reward="hamming", monkeys=m, batch=k, optimizer="sgd",
               stop="budget", seed=0, threads=1)
    train(TrainConfig(**cfg, max_reviewer_calls=m * k), TARGET, alpha)
    t = time.perf_counter()
    train(TrainConfig(**cfg, max_reviewer_calls=m * k * steps), TARGET, alpha)
    out[name] = m * k * steps / (time.perf_counter() - t)
print(json.dumps(out))
"""
CORPUS = """
import json, time
import numpy as np
from monkeysim import corpus
{kernel_import}
{encode_import}
texts = [x.text for x in corpus.load(["hamlet", "macbeth", "othello", "king-lear"])]
alphabet = "".join(sorted(set("".join(texts))))
codes, offsets = encode(texts, alphabet)
best = float("inf")
for r in range(4):  # the first run loads the kernel (not timed)
    docs = np.zeros_like(codes)
    stats = np.zeros((len(offsets) - 1, N_ST), np.int64)
    bananas = np.zeros(len(offsets) - 1)
    t = time.perf_counter()
    learn_lines(codes, offsets, 0, np.uint64(12345), len(alphabet), 8, 0.5, 3, 10**6, docs,
                stats, bananas)
    best = min(best, time.perf_counter() - t) if r else best
print(json.dumps(best))
"""
CORPUS_IMPORT = {"old": ("from monkeysim._kernels_corpus import N_ST, learn_lines",
                         "from monkeysim.corpus_learn import encode"),
                 "new": ("from monkeysim._kernels.corpus import N_ST, learn_lines",
                         "from monkeysim.learn.corpus import encode")}
TRAIN_IMPORT = {"old": "from monkeysim.train import TrainConfig, train",
                "new": "from monkeysim.learn.train import TrainConfig, train"}


def _layout(tree: Path) -> str:
    """"new" if ``tree`` has the layered package (monkeysim/learn/), else "old"."""
    return "new" if (tree / "monkeysim" / "learn" / "train.py").exists() else "old"


def _run(tree: Path, args: list[str], code: str | None = None) -> tuple[float, str]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    cmd = [sys.executable, "-c", code] if code else [sys.executable, "-m", "monkeysim", *args]
    t = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=tree)
    if done.returncode != 0:
        raise SystemExit(f"{tree.name}: {' '.join(cmd[:4])} failed:\n{done.stderr[-2000:]}")
    return time.perf_counter() - t, done.stdout


def _extract(rev: str, dest: Path) -> Path:
    tar = subprocess.run(["git", "-C", str(ROOT), "archive", rev], capture_output=True,
                         check=True).stdout
    with tarfile.open(fileobj=BytesIO(tar)) as tf:
        tf.extractall(dest, filter="data")
    return dest


def _same(a: Path, b: Path, names) -> dict[str, bool]:
    return {n: filecmp.cmp(a / n, b / n, shallow=False) for n in names}


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--old", default="31a8304", help="the revision to compare against")
    p.add_argument("--repeats", type=int, default=5, help="alternating rounds (best kept)")
    args = p.parse_args(argv)
    trees: dict[str, Path] = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        trees["old"] = _extract(args.old, tmp / "old")
        trees["new"] = ROOT
        learning: dict[str, dict[str, float]] = {"old": {}, "new": {}}
        corpus: dict[str, float] = {}
        quick: dict[str, float] = {}
        for version, tree in trees.items():  # warm the numba caches (compiling is not timed)
            _run(tree, [], LEARNING.format(train_import=TRAIN_IMPORT[_layout(tree)]))
            _run(tree, ["shakespeare", "--excerpt", "--quiet", "--out",
                        str(tmp / f"warm-{version}")])
        for r in range(args.repeats):
            for version, tree in trees.items():
                _, out = _run(tree, [], LEARNING.format(train_import=TRAIN_IMPORT[_layout(tree)]))
                for name, rate in json.loads(out).items():
                    learning[version][name] = max(learning[version].get(name, 0.0), rate)
                kernel, enc = CORPUS_IMPORT[_layout(tree)]
                _, out = _run(tree, [], CORPUS.format(kernel_import=kernel, encode_import=enc))
                corpus[version] = min(corpus.get(version, float("inf")), json.loads(out))
                if r == 0:
                    _run(tree, ["shakespeare", "--plays", "hamlet,macbeth,othello,king-lear",
                                "--quiet", "--out", str(tmp / f"corpus-{version}-0")])
                sec, _ = _run(tree, ["compare", "--quick", "--quiet", "--out",
                                     str(tmp / f"compare-{version}-{r}")])
                quick[version] = min(quick.get(version, float("inf")), sec)
        res = {
            "old": args.old, "new": subprocess.run(
                ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                text=True).stdout.strip(), "repeats": args.repeats, "cores": os.cpu_count(),
            "learning_reviewer_calls_per_second": learning,
            "learning_new_over_old": {n: learning["new"][n] / learning["old"][n]
                                      for n in learning["new"]},
            "corpus_kernel_seconds": corpus,
            "corpus_new_over_old_speed": corpus["old"] / corpus["new"],
            "corpus_same_bytes": _same(tmp / "corpus-old-0", tmp / "corpus-new-0",
                                       ("typed.txt", "summary.json")),
            "compare_quick_seconds": quick,
            "compare_quick_new_over_old_speed": quick["old"] / quick["new"],
            "compare_quick_same_bytes": _same(tmp / "compare-old-0", tmp / "compare-new-0",
                                              ("compare.csv", "frontier.csv",
                                               "convergence.csv")),
        }
    print(json.dumps(res, indent=2))
    (RESULTS / "bench_versions.json").write_text(json.dumps(res, indent=2) + "\n")
    print(f"wrote {RESULTS / 'bench_versions.json'}")
    return res


if __name__ == "__main__":
    main()
