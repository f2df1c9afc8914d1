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

from .. import texts, theory
from ..alphabet import Alphabet, default_for, named
from ..errors import InvalidInput
from ..records import COMPARE_COLUMNS, CompareRow
from ..rng import STREAMS, derived_seed
from ..typewriter import numba_threads, type_race
from . import compare_report
from .compare_config import CompareConfig
from .compare_learn import Setting
from .compare_report import CompareRun
from .frontier import FrontierRow
from .runner import Cell, run_cells

COLUMNS = COMPARE_COLUMNS
"""Columns of compare.csv (see :class:`~monkeysim.records.CompareRow`)."""


WEASEL = "weasel"
MIN_SUCCESS_PROBABILITY = 0.01
"""Random typing is simulated only where the largest troop types the target within the budget
with at least this probability (elsewhere every run would be censored: theory only)."""
METHODS_RANDOM = ("random_stream", "random_document")
NOISE_STREAM = STREAMS["compare_noise_scale"]
"""Spawn-key prefix of the B_simple cells' seeds (phase 1)."""


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


# --- cells ---------------------------------------------------------------------------------

def _graded(cfg: CompareConfig) -> list[str]:
    """The rewards whose step sizes are tuned (exact bananas give no gradient before the
    first hit, so there the step size cannot matter)."""
    return [r for r in cfg.rewards if r != "exact"]


def _ladder(cfg: CompareConfig, tgt: Target) -> int:
    """The prefix length of the monkey ladder for ``tgt``."""
    return cfg.frontier_length if tgt.name == "line" else len(tgt.text)


def _ladder_rewards(cfg: CompareConfig, tgt: Target, graded: bool = False) -> list[str]:
    """The rewards of ``tgt``'s monkey ladder (only graded ones with ``graded``)."""
    keep = cfg.weasel_ladder_rewards if tgt.name == WEASEL else cfg.rewards
    return [r for r in cfg.rewards if r in keep and not (graded and r == "exact")]


def _ladder_regimes(cfg: CompareConfig, tgt: Target, reward: str,
                    regimes: tuple[str, ...] | list[str]) -> list[str]:
    """The regimes of ``tgt``'s ladder for ``reward``: the weasel races independent monkeys
    only for ``weasel_racing_rewards``."""
    return [r for r in regimes if _racing(cfg, tgt, reward) or r != "independent"]


def _racing(cfg: CompareConfig, tgt: Target, reward: str) -> bool:
    """Whether ``tgt``'s ladder for ``reward`` races independent monkeys and runs fixed-step
    troops (every ladder but the weasel's for rewards outside ``weasel_racing_rewards``)."""
    return tgt.name != WEASEL or reward in cfg.weasel_racing_rewards


def _regime_monkeys(cfg: CompareConfig, regime: str) -> list[int]:
    """The monkey ladder of ``regime`` (the independent one stops at
    ``independent_max_monkeys``)."""
    if regime == "independent":
        return [n for n in cfg.monkeys if n <= cfg.independent_max_monkeys]
    return list(cfg.monkeys)


def _regime_ladder(cfg: CompareConfig, regime: str) -> list[tuple[int, int]]:
    """(N, batch per monkey) of ``regime``'s ladder: every N at ``cfg.batch``, and for the
    troops also one monkey at each of ``cfg.frontier_batches`` (smaller documents per step
    for the frontier)."""
    out = [(n, cfg.batch) for n in _regime_monkeys(cfg, regime)]
    if regime in ("troop", "troop_fixed"):
        out = [(1, k) for k in cfg.frontier_batches] + out
    return out


def _lengths(cfg: CompareConfig, tgt: Target) -> tuple[int, ...]:
    return cfg.lengths if tgt.name == "line" else (len(tgt.text),)


def settings(cfg: CompareConfig) -> list[Setting]:
    """Every setting that gets its own step size, in a fixed order (no repeats): the length
    sweep (independent, ``length_sweep_monkeys``) and the monkey ladder (every regime, N),
    for each graded reward."""
    out: list[Setting] = []
    for tgt in targets(cfg):
        for length in _lengths(cfg, tgt):
            for reward in _graded(cfg):
                out.append(Setting(tgt.name, length, reward, "independent",
                                   cfg.length_sweep_monkeys, cfg.batch))
        for reward in _ladder_rewards(cfg, tgt, graded=True):
            for regime in _ladder_regimes(cfg, tgt, reward, cfg.regimes):
                for n, k in _regime_ladder(cfg, regime):
                    out.append(Setting(tgt.name, _ladder(cfg, tgt), reward, regime, n, k))
    return list(dict.fromkeys(out))


def tuning_plan(cfg: CompareConfig) -> list[Cell]:
    """Phase 1: a step-size search per setting, and B_simple at initialisation per ladder
    target and graded reward."""
    cells = [Cell(("tune", *st.key), cost=_tune_cost(cfg, st.length, st.monkeys * st.batch))
             for st in settings(cfg)]
    for tgt in targets(cfg):
        for reward in _ladder_rewards(cfg, tgt, graded=True):
            cells.append(Cell(("noise", tgt.name, _ladder(cfg, tgt), reward), cost=1.0))
    return cells


def plan(cfg: CompareConfig) -> list[Cell]:
    """Phase 2: all reported cells in a fixed order (their index seeds them)."""
    cells: list[Cell] = []
    tgts = targets(cfg)
    nmax = max(cfg.monkeys)
    for tgt in tgts:
        for length in _lengths(cfg, tgt):
            for mode in ("stream", "document"):
                expected = random_feasible(cfg, tgt, length, mode, nmax)
                if expected is not None:
                    for s in range(cfg.seeds):
                        cells.append(Cell(("random", tgt.name, length, mode, s),
                                          cost=1 + expected / 2e8))
    # learning: length sweep (line prefixes and the weasel) at length_sweep_monkeys
    n_len = cfg.length_sweep_monkeys
    for tgt in tgts:
        for length in _lengths(cfg, tgt):
            for reward in cfg.rewards:
                if not _learning_feasible(cfg, tgt, length, reward, n_len):
                    continue
                for s in range(cfg.seeds):
                    cells.append(Cell(("learn", tgt.name, length, reward, "independent", n_len,
                                       cfg.batch, s),
                                      cost=_learn_cost(cfg, length, n_len, reward)))
    # learning: monkey ladder at the frontier prefix and the weasel, each N at its own step
    # size; the fixed-step troop at the step size of the smallest N
    regimes = list(cfg.regimes)
    if cfg.fixed_step_troop and "troop" in regimes:
        regimes.append("troop_fixed")
    for tgt in tgts:
        length = _ladder(cfg, tgt)
        for reward in _ladder_rewards(cfg, tgt):
            for regime in _ladder_regimes(cfg, tgt, reward, regimes):
                for n, k in _regime_ladder(cfg, regime):
                    if regime == "independent" and n == n_len and length in _lengths(cfg, tgt):
                        continue  # already in the length sweep
                    if regime == "troop_fixed" and (n == min(cfg.monkeys) or reward == "exact"
                                                    or k != cfg.batch):
                        continue  # the same runs as the tuned troop
                    if regime == "troop_fixed" and not _racing(cfg, tgt, reward):
                        continue  # big troops at one monkey's small step size: too costly
                    if k != cfg.batch and reward == "exact":
                        continue  # the frontier is fitted for graded bananas only
                    if not _learning_feasible(cfg, tgt, length, reward, n):
                        continue
                    for s in range(cfg.seeds):
                        cells.append(Cell(("learn", tgt.name, length, reward, regime, n, k, s),
                                          cost=_learn_cost(cfg, length, n, reward)))
    for algo in cfg.convergence_algos:
        for s in range(cfg.seeds):
            cells.append(Cell(("convergence", algo, s), cost=2.0))
    if cfg.auto_troop and "troop" in cfg.regimes:  # last: the other cells keep their seeds
        for tgt in tgts:
            for reward in _ladder_rewards(cfg, tgt, graded=True):
                for s in range(cfg.seeds):
                    cells.append(Cell(("auto", tgt.name, _ladder(cfg, tgt), reward, s),
                                      cost=_learn_cost(cfg, _ladder(cfg, tgt), 16, reward)))
    return cells


def step_sizes(cfg: CompareConfig, tuned: dict[tuple, dict]) -> dict[tuple, float]:
    """The step size of every learning setting of :func:`plan`, from the tuned settings:
    graded rewards their own; ``troop_fixed`` the troop's at the smallest N; exact bananas
    that of the first graded reward of the same setting (else ``cfg.lr``)."""
    lrs = {key: float(t["lr"]) for key, t in tuned.items()}
    out = dict(lrs)
    for (name, length, reward, regime, n, k) in list(lrs):
        if regime == "troop" and k == cfg.batch:
            out[(name, length, reward, "troop_fixed", n, k)] = lrs[
                (name, length, reward, "troop", min(cfg.monkeys), k)]
    graded = _graded(cfg)
    for key in list(out):
        name, length, reward, regime, n, k = key
        if graded and reward == graded[0]:
            out.setdefault((name, length, "exact", regime, n, k), out[key])
    return out


def _tune_cost(cfg: CompareConfig, length: int, docs: int) -> float:
    return 1 + docs / cfg.batch * length / 20


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
                seed_index: int) -> list[list]:  # CompareRow values, JSON-able
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
        rows.append(CompareRow(tgt.name, length, tgt.alphabet.size, f"random_{mode}", "none",
                               n, seed_index, wall, total, calls, int(censored), "", "", "",
                               "", cfg.budget, "").as_list())
    return rows


def theory_rows(cfg: CompareConfig) -> list[CompareRow]:
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
                    rows.append(CompareRow(tgt.name, length, tgt.alphabet.size,
                                           f"theory_{mode}", "none", n, "", f"{wall:.6g}",
                                           f"{total:.6g}", calls, 0, "", "", "", "", "", ""))
    return rows


# --- the run --------------------------------------------------------------------------------

def compute_cell(cfg: CompareConfig, seed: int, lrs: dict | None, index: int, cell: Cell):
    """The JSON-able result of one cell (module-level, so a Dask worker can run it): phase-1
    cells (``tune``, ``noise``) need no step sizes; ``learn`` cells take theirs from ``lrs``."""
    from . import compare_learn

    by_name = {t.name: t for t in targets(cfg)}
    kind = cell.key[0]
    if kind == "tune":
        _, name, length, reward, regime, n, k = cell.key
        tgt = by_name[name]
        return compare_learn.tune_cell(cfg, Setting(name, length, reward, regime, n, k),
                                       tgt.prefix(length), tgt.alphabet, seed)
    if kind == "noise":
        _, name, length, reward = cell.key
        return compare_learn.noise_cell(cfg, by_name[name], length, reward,
                                        derived_seed(seed, NOISE_STREAM, index))
    cell_seed = derived_seed(seed, index)
    if kind == "random":
        _, name, length, mode, s = cell.key
        return random_rows(cfg, by_name[name], length, mode, cell_seed, s)
    if kind == "learn":
        _, name, length, reward, regime, n, k, s = cell.key
        lr = lrs.get((name, length, reward, regime, n, k), cfg.lr)
        return compare_learn.learn_cell(cfg, by_name[name], length, reward, regime, n, k, lr,
                                        cell_seed, s).to_dict()
    if kind == "auto":
        _, name, length, reward, s = cell.key
        return compare_learn.auto_cell(cfg, by_name[name], length, reward, cell_seed, s)
    _, algo, s = cell.key
    return compare_learn.convergence_rows(cfg, algo, cell_seed, s)


def check_cells(cfg: CompareConfig) -> None:
    """Build every cell's configuration, both phases, and check it as the cell would
    (InvalidInput before any cell runs): each random race (:func:`~monkeysim.typewriter.
    check_budget`) and each distinct training configuration
    (:func:`.compare_learn.check_cell`)."""
    from ..typewriter import check_budget
    from . import compare_learn

    by_name = {t.name: t for t in targets(cfg)}
    weasel = Target(WEASEL, texts.get("weasel"), named("upper27"))
    seen: set[tuple] = set()
    for cell in tuning_plan(cfg) + plan(cfg):
        kind, *rest = cell.key
        if kind == "random":
            name, length, mode, _ = rest
            check_budget(cfg.budget, max(cfg.monkeys), length, mode)
            continue
        job = (kind, *rest[:6]) if kind not in ("convergence", "auto") else (kind, *rest[:3])
        if job in seen:
            continue
        seen.add(job)
        if kind == "convergence":
            compare_learn.check_cell(cfg, kind, weasel, len(weasel.text), rest[0])
        elif kind == "noise":
            name, length, reward = rest
            compare_learn.check_cell(cfg, kind, by_name[name], length, reward)
        elif kind == "auto":
            name, length, reward, _ = rest
            compare_learn.check_auto_cell(cfg, by_name[name], length, reward)
        else:
            name, length, reward, regime, n, k = rest[:6]
            regime = "troop" if regime == "troop_fixed" else regime
            compare_learn.check_cell(cfg, kind, by_name[name], length, reward, regime, n, k)


def run_manifest(cfg: CompareConfig, seed: int) -> dict:
    """What identifies a compare run (``manifest.json``; a resume must match it)."""
    return {"command": "compare", "config": cfg.to_dict(), "seed": seed}


def run(cfg: CompareConfig, out: Path, seed: int = 0, resume: bool = False,
        threads: int | None = None, quiet: bool = False, after_cell=None,
        backend=None) -> CompareRun:
    """Tune a step size per setting (phase 1, checkpointed in ``out/tuning``), run every
    reported cell at its setting's step size (phase 2, ``out/cells``), then write the tables
    and figures. ``backend``: None (here) or a Dask backend (:mod:`.dask_backend`); the bytes
    written do not depend on it. The result's ``seconds`` (also in ``compare.json`` and
    ``summary.json``) are those of this call if it computed every cell, else None (a resumed
    run: the time of the calls that computed the rest is not known)."""
    from functools import partial

    from . import compare_learn

    start = time.perf_counter()
    manifest = run_manifest(cfg, seed)
    phase1 = tuning_plan(cfg)
    computed = [0]  # cells computed by this call (the others were resumed from checkpoints)

    def counted(i: int) -> None:
        computed[0] += 1
        if after_cell is not None:
            after_cell(i)

    with numba_threads(threads):
        got = run_cells(phase1, partial(compute_cell, cfg, seed, None), out, manifest, resume,
                        quiet, counted, desc="tuning", subdir="tuning", backend=backend)
        tuned = {tuple(r["setting"]): r for c, r in zip(phase1, got, strict=True)
                 if c.key[0] == "tune"}
        noise = [r for c, r in zip(phase1, got, strict=True) if c.key[0] == "noise"]
        cells = plan(cfg)
        lrs = step_sizes(cfg, tuned)
        per_cell = run_cells(cells, partial(compute_cell, cfg, seed, lrs), out, manifest,
                             resume, quiet, counted, backend=backend)
    rows = theory_rows(cfg)
    convergence: list[list] = []
    frontier: list[FrontierRow] = []
    auto: list[dict] = []
    ladder = {t.name: _ladder(cfg, t) for t in targets(cfg)}
    for cell, got in zip(cells, per_cell, strict=True):
        if cell.key[0] == "convergence":
            convergence.extend(got)
        elif cell.key[0] == "auto":
            auto.append(got)
        elif cell.key[0] == "learn":
            outcome = compare_learn.LearnOutcome(**got)
            if outcome.batch == cfg.batch:  # smaller batches: frontier points only
                rows.append(outcome.compare_row())
            if outcome.length == ladder[outcome.target]:
                frontier.extend(outcome.frontier_rows())
        else:
            rows.extend(CompareRow(*row) for row in got)  # random rows, as checkpointed
    # the seconds of the run that computed the results: unknown (None) if cells were resumed
    seconds = time.perf_counter() - start if computed[0] == len(phase1) + len(cells) else None
    result = CompareRun(cfg, rows, convergence, frontier, tuned, noise, out, seconds, auto=auto)
    compare_report.write(result, seed)
    return result


def log10(x: float) -> float:
    return math.log10(x) if x > 0 else -math.inf


def as_float(v) -> float:
    return float(v) if v not in ("", None) else math.nan
