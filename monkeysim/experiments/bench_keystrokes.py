"""`monkeysim bench keystrokes`: keystrokes per second of the typing kernel and baselines.

All baselines type the same target in stream mode in one process:

- ``kernel_1t`` / ``kernel_nt``: :func:`monkeysim.type_race` on 1 thread / all threads.
- ``numpy``: vectorised numpy, blocks of keys per monkey from ``Generator.integers`` and a
  search by L shifted comparisons, carrying L−1 keys across blocks.
- ``python``: a plain Python loop over keys with ``random.Random`` and the same automaton.
- ``rng_limit``: a numba loop that only draws keys with the same generator (as many keys per
  64-bit draw as the kernel) and sums them: the ceiling for the kernel.

Each timing is the best of ``repeats`` runs after a warm-up (JIT compiled or loaded).
"""

from __future__ import annotations

import random
import time

import numba
import numpy as np

from .._kernels import typing as K
from .._kernels.options import call_specialized
from .._kernels.typing_baseline import keys_per_draw
from ..alphabet import resolve
from ..automaton import kmp_automaton
from ..rng import chunk_states
from ..typewriter import numba_threads, type_race


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

    keys_per, limit = keys_per_draw(a)
    states = chunk_states(seed, 0, 1)
    sums = np.zeros(1, dtype=np.uint64)
    def ceiling(keys):
        call_specialized(K.rng_limit_chunks, (1, 2), states.copy(), a, keys_per,
                           np.uint64(limit), keys, sums)

    ceiling(1000)
    with numba_threads(1):
        sec = _best(lambda: ceiling(total), repeats)
    rates["rng_limit"] = total / sec

    np_monkeys = max(1, monkeys // 16)
    np_out = []
    sec = _best(lambda: np_out.append(numpy_race(codes, a, np_monkeys, budget, seed)), repeats)
    rates["numpy"] = int(np_out[-1].sum()) / sec

    py_budget = 200_000
    py_out = []
    sec = _best(lambda: py_out.append(python_race(codes, a, 1, py_budget, seed)), 1)
    rates["python"] = sum(py_out[-1]) / sec

    k1 = rates["kernel_1t"]
    ratios = {
        "kernel_1t/numpy": k1 / rates["numpy"],
        "kernel_1t/python": k1 / rates["python"],
        "kernel_1t/rng_limit": k1 / rates["rng_limit"],
        "kernel_nt/kernel_1t": rates["kernel_nt"] / k1,
    }
    targets = {"kernel_1t/numpy": 3.0, "kernel_1t/python": 200.0, "kernel_1t/rng_limit": 0.6,
               "kernel_nt/kernel_1t": 1.7}
    return {
        "target": target, "alphabet": alpha.name, "alphabet_size": a, "monkeys": monkeys,
        "budget": budget, "threads": threads, "cores": _cores(),
        "keystrokes_per_second": rates,
        "ratios": ratios,
        "goals": {k: {"target": v, "measured": ratios[k], "met": ratios[k] >= v}
                  for k, v in targets.items()},
    }


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
        lines.append(f"  {name:<10} {rate / 1e6:>12,.2f} M keystrokes/s")
    lines.append("")
    for name, goal in res["goals"].items():
        mark = "ok " if goal["met"] else "MISS"
        lines.append(f"  {name:<22} {goal['measured']:>9.2f}×   goal ≥ {goal['target']}×  {mark}")
    return "\n".join(lines)
