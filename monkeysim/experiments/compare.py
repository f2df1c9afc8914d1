"""`monkeysim compare`: fewer monkeys or less time? Random typing vs learning from bananas.

Measures, on the same units (keystrokes per monkey, total keystrokes, reviewer calls):

- **random** monkeys (no bananas) in stream and document mode, simulated where a race is
  affordable and has a chance, right-censored at the budget (censored runs are kept:
  summaries use restricted means E[min(T, budget)]), and the **exact theory** everywhere
  (27^28 ≈ 1.2·10^40 keystrokes is an answer);
- **learning** monkeys for each reward kind, as independent monkeys and as a troop sharing
  one policy: keystrokes until a monkey first types the target, and until the greedy policy
  types it.

Sweeps: time-to-target vs prefix length of a Shakespeare line (and the weasel sentence) at
``length_sweep_monkeys`` monkeys; wall time vs total work across the monkey ladder for a short
prefix and the weasel (the "fewer monkeys or less time" frontier); convergence of every
algorithm on the weasel with hamming bananas.

For N monkeys that type simultaneously, the *wall time* is keystrokes per monkey until the
first success and the *total work* is N × wall time.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import texts, theory
from ..alphabet import Alphabet, default_for, named
from ..errors import InvalidInput
from ..rng import derived_seed
from ..typewriter import numba_threads, type_race
from .compare_config import CompareConfig
from .runner import Cell, run_cells

COLUMNS = [
    "target", "length", "alphabet_size", "method", "reward", "monkeys", "seed",
    "wall_time_keystrokes", "total_work_keystrokes", "reviewer_calls", "censored",
    "greedy_wall_time_keystrokes", "greedy_total_work_keystrokes", "greedy_reviewer_calls",
    "greedy_censored", "budget_keystrokes",
]
"""Columns of compare.csv. Times in keystrokes (per monkey for wall time, summed over monkeys
for total work); reviewer calls = documents scored; censored = 1 when no monkey succeeded
within the budget (times are then the budget: a lower bound). ``greedy_*`` columns: until the
greedy (argmax) document of a learning policy equals the target (empty for random typing).
``seed`` is empty for theory rows, whose times are exact means."""

CONVERGENCE_COLUMNS = ["algo", "seed", "step", "reviewer_calls", "greedy_correct_chars",
                       "length", "reward_mean"]

WEASEL = "weasel"
MIN_SUCCESS_PROBABILITY = 0.01
"""Random typing is simulated only where the largest troop types the target within the budget
with at least this probability (elsewhere every run would be censored: theory only)."""
METHODS_RANDOM = ("random_stream", "random_document")
LAYOUTS = ("independent", "troop")


@dataclass(frozen=True)
class Target:
    """A target for the compare run: ``name`` (``line`` or ``weasel``), text and alphabet."""

    name: str
    text: str
    alphabet: Alphabet

    def prefix(self, length: int) -> str:
        return self.text[:length]


def targets(cfg: CompareConfig) -> list[Target]:
    """The line (its own smallest named alphabet, shared by all prefixes) and the weasel."""
    text = texts.BUILTIN_TEXTS.get(cfg.line, cfg.line)
    out = [Target("line", text, default_for(text))]
    too_long = [n for n in cfg.lengths if n > len(text)]
    if too_long:
        raise InvalidInput(f"lengths {too_long} exceed the line's length {len(text)}")
    if cfg.frontier_length > len(text):
        raise InvalidInput(f"frontier_length {cfg.frontier_length} exceeds the line's length "
                           f"{len(text)}")
    if cfg.weasel:
        out.append(Target(WEASEL, texts.get("weasel"), named("upper27")))
    return out


# --- cells ----------------------------------------------------------------------------------

def plan(cfg: CompareConfig) -> list[Cell]:
    """All measured cells in a fixed order (their index seeds them)."""
    cells: list[Cell] = []
    tgts = targets(cfg)
    nmax = max(cfg.monkeys)
    for tgt in tgts:
        lengths = cfg.lengths if tgt.name == "line" else (len(tgt.text),)
        for length in lengths:
            for mode in ("stream", "document"):
                expected = random_feasible(cfg, tgt, length, mode, nmax)
                if expected is not None:
                    for s in range(cfg.seeds):
                        cells.append(Cell(("random", tgt.name, length, mode, s),
                                          cost=1 + expected / 2e8))
    # learning: length sweep (line prefixes and the weasel) at length_sweep_monkeys
    n_len = cfg.length_sweep_monkeys
    for tgt in tgts:
        lengths = cfg.lengths if tgt.name == "line" else (len(tgt.text),)
        for length in lengths:
            for reward in cfg.rewards:
                if not _learning_feasible(cfg, tgt, length, reward, n_len):
                    continue
                for s in range(cfg.seeds):
                    cells.append(Cell(("learn", tgt.name, length, reward, "independent", n_len,
                                       s), cost=_learn_cost(cfg, length, n_len, reward)))
    # learning: monkey ladder at the frontier prefix and the weasel
    for tgt in tgts:
        length = cfg.frontier_length if tgt.name == "line" else len(tgt.text)
        for reward in cfg.rewards:
            for layout in LAYOUTS:
                for n in cfg.monkeys:
                    if layout == "independent" and n == n_len and (
                            tgt.name == WEASEL or length in cfg.lengths):
                        continue  # already in the length sweep
                    if not _learning_feasible(cfg, tgt, length, reward, n):
                        continue
                    for s in range(cfg.seeds):
                        cells.append(Cell(("learn", tgt.name, length, reward, layout, n, s),
                                          cost=_learn_cost(cfg, length, n, reward)))
    for algo in cfg.convergence_algos:
        for s in range(cfg.seeds):
            cells.append(Cell(("convergence", algo, s), cost=2.0))
    return cells


def random_feasible(cfg: CompareConfig, tgt: Target, length: int, mode: str,
                    monkeys: int) -> float | None:
    """Expected keystrokes of a race of ``monkeys`` random monkeys if it is worth simulating
    (some monkey types the target within the budget with probability ≥
    MIN_SUCCESS_PROBABILITY and the race costs ≤ random_max_keystrokes), else None."""
    wt = theory.waiting_time(tgt.prefix(length), tgt.alphabet, mode)
    expected = monkeys * wt.restricted_mean(cfg.budget)
    p_any = -math.expm1(monkeys * float(wt.log_sf(cfg.budget)[()]))
    if p_any >= MIN_SUCCESS_PROBABILITY and expected <= cfg.random_max_keystrokes:
        return expected
    return None


def _learning_feasible(cfg: CompareConfig, tgt: Target, length: int, reward: str,
                       monkeys: int) -> bool:
    """Exact (sparse) bananas give no gradient before the first hit, so until then those
    monkeys type exactly like random document monkeys: simulate them only where random
    documents are (elsewhere the random-document theory is their answer)."""
    if reward != "exact":
        return True
    expected = random_feasible(cfg, tgt, length, "document", monkeys)
    return expected is not None and expected / length <= cfg.learn_max_documents


def _learn_cost(cfg: CompareConfig, length: int, n: int, reward: str) -> float:
    if reward == "exact":
        return 1 + n * cfg.budget / 2e7
    return 1 + n * length / 50


def random_rows(cfg: CompareConfig, tgt: Target, length: int, mode: str, seed: int,
                seed_index: int) -> list[list]:
    """One race of max(N) monkeys; the first N of them form the troop of N (rows per N).

    The first N monkeys of a race are exactly the monkeys of a race of N with the same
    seed, so each row is what ``monkeysim type --monkeys N`` would measure.
    """
    text = tgt.prefix(length)
    race = type_race(text, alphabet=tgt.alphabet, monkeys=max(cfg.monkeys), budget=cfg.budget,
                     mode=mode, seed=seed)
    rows = []
    for n in cfg.monkeys:
        ks = race.keystrokes[:n]
        found = race.found[:n]
        censored = not found.any()
        wall = int(ks[found].min()) if not censored else int(ks.max())
        total = n * wall
        calls = total // length if mode == "document" else ""
        rows.append([tgt.name, length, tgt.alphabet.size, f"random_{mode}", "none", n,
                     seed_index, wall, total, calls, int(censored), "", "", "", "",
                     cfg.budget])
    return rows


def theory_rows(cfg: CompareConfig) -> list[list]:
    """Exact mean wall time and total work of random monkeys for every length and N."""
    rows = []
    for tgt in targets(cfg):
        lengths = sorted(set(cfg.lengths) | {cfg.frontier_length}) if tgt.name == "line" else (
            len(tgt.text),)
        for length in lengths:
            for mode in ("stream", "document"):
                wt = theory.waiting_time(tgt.prefix(length), tgt.alphabet, mode)
                for n in cfg.monkeys:
                    wall = wt.mean_first(n)
                    total = n * wall
                    calls = f"{total / length:.6g}" if mode == "document" else ""
                    rows.append([tgt.name, length, tgt.alphabet.size, f"theory_{mode}", "none",
                                 n, "", f"{wall:.6g}", f"{total:.6g}", calls, 0, "", "", "",
                                 "", ""])
    return rows


# --- the run --------------------------------------------------------------------------------

@dataclass
class CompareRun:
    """Result of :func:`run`: the tidy rows, convergence rows and where they were written."""

    config: CompareConfig
    rows: list[list]
    convergence: list[list]
    out: Path
    seconds: float


def run(cfg: CompareConfig, out: Path, seed: int = 0, resume: bool = False,
        threads: int | None = None, quiet: bool = False, after_cell=None) -> CompareRun:
    """Run every cell (checkpointed in ``out/cells``), then write the tables and figures."""
    from . import compare_learn, compare_report

    start = time.perf_counter()
    cells = plan(cfg)
    by_name = {t.name: t for t in targets(cfg)}

    def work(index: int, cell: Cell) -> list:
        kind = cell.key[0]
        cell_seed = derived_seed(seed, index)
        if kind == "random":
            _, name, length, mode, s = cell.key
            return random_rows(cfg, by_name[name], length, mode, cell_seed, s)
        if kind == "learn":
            _, name, length, reward, layout, n, s = cell.key
            return [compare_learn.learn_row(cfg, by_name[name], length, reward, layout, n,
                                            cell_seed, s)]
        _, algo, s = cell.key
        return compare_learn.convergence_rows(cfg, algo, cell_seed, s)

    manifest = {"command": "compare", "config": cfg.to_dict(), "seed": seed,
                "cells": len(cells)}
    with numba_threads(threads):
        per_cell = run_cells(cells, work, out, manifest, resume, quiet, after_cell)
    rows = theory_rows(cfg)
    convergence = []
    for cell, cell_rows in zip(cells, per_cell, strict=True):
        (convergence if cell.key[0] == "convergence" else rows).extend(cell_rows)
    result = CompareRun(cfg, rows, convergence, out, time.perf_counter() - start)
    compare_report.write(result, seed)
    return result


def log10(x: float) -> float:
    return math.log10(x) if x > 0 else -math.inf


def as_float(v) -> float:
    return float(v) if v not in ("", None) else math.nan


def column(rows: list[list], name: str) -> np.ndarray:
    i = COLUMNS.index(name)
    return np.array([r[i] for r in rows], dtype=object)
