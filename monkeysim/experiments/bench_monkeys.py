"""`monkeysim bench monkeys`: throughput and peak memory for monkey counts 1 .. 10^7.

Each count runs in a fresh subprocess (so peak RSS belongs to that count alone) that
warms up the kernel, runs one race on all threads and reports keystrokes per second, its
peak resident memory and the bytes of its per-monkey arrays. Memory should grow linearly in
monkeys (O(monkeys), never O(keystrokes)) and throughput should be flat from 10^3 monkeys up.
"""

from __future__ import annotations

import json
import subprocess
import sys

_CHILD = r"""
import json, resource, sys, time
from monkeysim.typewriter import type_race
target, monkeys, budget = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
type_race(target, monkeys=2, budget=100, seed=1)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
r = type_race(target, monkeys=monkeys, budget=budget, seed=0)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"monkeys": monkeys, "seconds": r.seconds,
                  "total_keystrokes": r.total_keystrokes,
                  "keystrokes_per_second": r.keystrokes_per_second,
                  "censored": r.censored, "threads": r.threads,
                  "peak_rss_mb": peak / 1024, "baseline_rss_mb": base / 1024,
                  "array_mb": (r.keystrokes.nbytes + r.found.nbytes) / 2**20}))
"""


def run(target: str = "HI", max_monkeys: int = 10_000_000, budget: int = 2000) -> dict:
    """Run the ladder 1, 10, ..., max_monkeys; returns the JSON-ready result."""
    ladder = []
    n = 1
    while n <= max_monkeys:
        ladder.append(n)
        n *= 10
    rows = []
    for monkeys in ladder:
        out = subprocess.run([sys.executable, "-c", _CHILD, target, str(monkeys), str(budget)],
                             capture_output=True, text=True, check=True)
        rows.append(json.loads(out.stdout))
    return {"target": target, "budget": budget, "rows": rows}


def report(res: dict) -> str:
    lines = [f"target {res['target']!r}, budget {res['budget']:,} keystrokes per monkey", "",
             f"{'monkeys':>10} {'M keys/s':>10} {'seconds':>9} {'peak RSS MB':>12} "
             f"{'Δ RSS MB':>9} {'arrays MB':>10}"]
    for r in res["rows"]:
        lines.append(f"{r['monkeys']:>10,} {r['keystrokes_per_second'] / 1e6:>10,.1f} "
                     f"{r['seconds']:>9.3f} {r['peak_rss_mb']:>12.1f} "
                     f"{r['peak_rss_mb'] - r['baseline_rss_mb']:>9.1f} {r['array_mb']:>10.2f}")
    return "\n".join(lines)
