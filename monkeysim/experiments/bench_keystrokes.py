"""`monkeysim bench keystrokes`: keystrokes per second of the typing kernel and baselines.

All methods type the same target in stream mode in one process:

- ``kernel_1t`` / ``kernel_nt``: :func:`monkeysim.type_race` on 1 thread / all threads (four
  monkeys per lane, keys by multiply-and-shift from 32-bit halves).
- ``old_kernel_1t``: the former kernel (:mod:`monkeysim._kernels.typing_baseline`), one
  monkey at a time, keys by division of 64-bit draws; 1 thread.
- ``numpy``: vectorised numpy, blocks of keys per monkey from ``Generator.integers`` and a
  search by L shifted comparisons, carrying L−1 keys across blocks.
- ``python``: a plain Python loop over keys with ``random.Random`` and the same automaton.
- ``ceiling_rng``: the kernel's key drawing alone (four lanes, the same halves and digits,
  keys summed, no automaton); ``ceiling_loads``: the kernel's four chains of dependent table
  loads ``s = table[s + key]`` alone, keys read from a 4 KB buffer instead of drawn. Both
  1 thread. The kernel does both jobs, so it cannot beat the slower one: that ceiling binds.

Each timing is the best of ``repeats`` runs after a warm-up (JIT compiled or loaded).
"""

from __future__ import annotations

import random
import time

import numba
import numpy as np

from .._kernels import typing_baseline as KB
from .._kernels.options import call_specialized
from .._kernels.random import digits_per_half
from .._kernels.typing_baseline import keys_per_draw
from ..alphabet import resolve
from ..automaton import kmp_automaton
from ..rng import chunk_states
from ..typewriter import CHUNK_MONKEYS, lane_setup, numba_threads, race_table, type_race

GOALS = {"kernel_1t/numpy": 5.0, "kernel_1t/python": 300.0, "kernel_1t/ceiling": 0.6,
         "kernel_nt/kernel_1t": 1.8}
"""Issue 21's goals: ratio ≥ value (``ceiling``: the faster of the two ceilings)."""


def numpy_race(codes: np.ndarray, alphabet_size: int, monkeys: int, budget: int,
               seed: int, block: int = 1 << 16) -> np.ndarray:
    """Stream-mode race in vectorised numpy; returns keystrokes per monkey (int64)."""
    rng = np.random.default_rng(seed)
    length = len(codes)
    out = np.empty(monkeys, dtype=np.int64)
    for m in range(monkeys):
        carry = np.empty(0, dtype=np.uint8)
        typed = 0
        result = budget
        while typed < budget:
            n = min(block, budget - typed)
            keys = rng.integers(0, alphabet_size, size=n, dtype=np.uint8)
            buf = np.concatenate([carry, keys])
            span = len(buf) - length + 1
            if span > 0:
                hit = buf[:span] == codes[0]
                for j in range(1, length):
                    hit &= buf[j:j + span] == codes[j]
                idx = np.flatnonzero(hit)
                if idx.size:
                    result = typed - len(carry) + int(idx[0]) + length
                    break
            typed += n
            carry = buf[-(length - 1):] if length > 1 else buf[:0]
        out[m] = result
    return out


def python_race(codes, alphabet_size: int, monkeys: int, budget: int, seed: int) -> list[int]:
    """Stream-mode race in a plain Python loop over keys."""
    rng = random.Random(seed)
    delta = kmp_automaton(np.asarray(codes), alphabet_size).tolist()
    length = len(codes)
    out = []
    for _ in range(monkeys):
        s, t = 0, 0
        while t < budget:
            s = delta[s][rng.randrange(alphabet_size)]
            t += 1
            if s == length:
                break
        out.append(t)
    return out


def _best(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def run(target: str = "MONKEY", monkeys: int = 256, budget: int = 2_000_000,
        repeats: int = 3, seed: int = 0) -> dict:
    """Measure keystrokes per second for every method; returns the JSON-ready result."""
    alpha = resolve(target)
    codes = alpha.encode(target)
    a = alpha.size
    total = monkeys * budget
    threads = numba.get_num_threads()
    rates: dict[str, float] = {}
    # warm-up (compile or load the cache)
    type_race(target, monkeys=4, budget=1000, seed=seed)
    race_keys: dict[str, int] = {}

    def kernel(t):
        def go():
            r = type_race(target, monkeys=monkeys, budget=budget, seed=seed, threads=t)
            race_keys[str(t)] = r.total_keystrokes
        return go

    rates["kernel_1t"] = race_keys_rate(kernel(1), repeats, race_keys, "1")
    rates["kernel_nt"] = race_keys_rate(kernel(threads), repeats, race_keys, str(threads))
    with numba_threads(1):
        rates["old_kernel_1t"] = _old_kernel_rate(codes, a, monkeys, budget, seed, repeats)
        rates.update(_ceilings(codes, a, total, seed, repeats))

    np_monkeys = max(1, monkeys // 16)
    np_out = []
    sec = _best(lambda: np_out.append(numpy_race(codes, a, np_monkeys, budget, seed)), repeats)
    rates["numpy"] = int(np_out[-1].sum()) / sec

    py_budget = 200_000
    py_out = []
    sec = _best(lambda: py_out.append(python_race(codes, a, 1, py_budget, seed)), 1)
    rates["python"] = sum(py_out[-1]) / sec

    k1 = rates["kernel_1t"]
    faster = max(rates["ceiling_rng"], rates["ceiling_loads"])
    ratios = {
        "kernel_1t/numpy": k1 / rates["numpy"],
        "kernel_1t/python": k1 / rates["python"],
        "kernel_1t/ceiling": k1 / faster,
        "kernel_nt/kernel_1t": rates["kernel_nt"] / k1,
        "kernel_1t/old_kernel_1t": k1 / rates["old_kernel_1t"],
        "kernel_1t/ceiling_rng": k1 / rates["ceiling_rng"],
        "kernel_1t/ceiling_loads": k1 / rates["ceiling_loads"],
    }
    binds = "ceiling_rng" if rates["ceiling_rng"] < rates["ceiling_loads"] else "ceiling_loads"
    return {
        "target": target, "alphabet": alpha.name, "alphabet_size": a, "monkeys": monkeys,
        "budget": budget, "threads": threads, "cores": _cores(),
        "keystrokes_per_second": rates,
        "ratios": ratios,
        "binding_ceiling": binds,
        "goals": {k: {"target": v, "measured": ratios[k], "met": ratios[k] >= v}
                  for k, v in GOALS.items()},
    }


def _old_kernel_rate(codes, a: int, monkeys: int, budget: int, seed: int,
                     repeats: int) -> float:
    """Keystrokes per second of the former one-monkey-at-a-time kernel (current threads)."""
    delta = kmp_automaton(codes, a)
    keys_per, limit = keys_per_draw(a)
    out = np.zeros(monkeys, dtype=np.int64)
    found = np.zeros(monkeys, dtype=np.bool_)

    def go(m):
        n_chunk = (m + CHUNK_MONKEYS - 1) // CHUNK_MONKEYS
        call_specialized(KB.race_chunks, (5, 6), chunk_states(seed, 0, n_chunk),
                         CHUNK_MONKEYS, m, delta, codes, a, keys_per, np.uint64(limit),
                         budget, out, found)

    go(1)
    sec = _best(lambda: go(monkeys), repeats)
    return int(out.sum()) / sec


def _ceilings(codes, a: int, keys: int, seed: int, repeats: int) -> dict[str, float]:
    """Keystrokes per second of the kernel's two halves alone: drawing keys (four lanes) and
    stepping four chains of dependent table loads; ``keys`` keys each, current threads."""
    table, _, dead = race_table(codes, a, "stream")
    k, p, thr = digits_per_half(a)
    rounds = max(1, keys // (8 * k))
    rs, _, _ = lane_setup(chunk_states(seed, 0, 1), 0, 4, dead)
    buf = np.random.default_rng(seed).integers(0, a, 4096).astype(np.uint8)

    def draw(n):
        call_specialized(KB.rng_ceiling, (1, 2, 3, 4), rs[0], a, k, p, thr, n)

    def step(n):
        call_specialized(KB.load_ceiling, (2,), table, buf, k, n)

    draw(1)
    step(1)
    return {"ceiling_rng": rounds * 8 * k / _best(lambda: draw(rounds), repeats),
            "ceiling_loads": rounds * 8 * k / _best(lambda: step(rounds), repeats)}


def race_keys_rate(fn, repeats: int, store: dict, key: str) -> float:
    sec = _best(fn, repeats)
    return store[key] / sec


def _cores() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def report(res: dict) -> str:
    lines = [f"keystrokes per second, target {res['target']!r} ({res['alphabet']}, "
             f"A={res['alphabet_size']}), {res['threads']} threads on {res['cores']} cores", ""]
    for name, rate in res["keystrokes_per_second"].items():
        lines.append(f"  {name:<14} {rate / 1e6:>12,.2f} M keystrokes/s")
    lines.append("")
    for name, value in res["ratios"].items():
        goal = res["goals"].get(name)
        tail = ""
        if goal is not None:
            tail = f"   goal ≥ {goal['target']}×  {'ok ' if goal['met'] else 'MISS'}"
        lines.append(f"  {name:<24} {value:>9.2f}×{tail}")
    lines.append(f"\n  binding ceiling: {res['binding_ceiling']} (the slower of the two)")
    return "\n".join(lines)
