"""A step size for each setting: a line search on a log grid, on tuning seeds only.

A *setting* (target, length, reward, regime, monkey count) gets the learning rate that
minimises the median over the tuning seeds of the wall time until a monkey first types the
target (keystrokes per monkey). The search walks the configured log grid from its middle,
uphill and downhill, and stops in a direction after ``PATIENCE`` consecutive points worse
than the best so far (the time-to-target is unimodal in log lr up to seed noise). Once a
best is known, each further run gets a budget of ``CAP_FACTOR`` × the best median (a run
censored there is worse than the best anyway), so diverging step sizes cost little.

Tuning seeds come from their own stream (``rng.derived_seed(seed, TUNE_STREAM, j)``): they
are disjoint from the reported seeds (``derived_seed(seed, cell_index)``) and do not depend on
how many seeds are reported.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from ..rng import STREAMS

TUNE_STREAM = STREAMS["compare_tuning"]
"""Spawn-key prefix of the tuning seeds (reported cells use ``(cell_index,)``)."""
PATIENCE = 2
"""Consecutive points worse than the best after which the search stops in that direction."""
CAP_FACTOR = 4.0
"""Budget of a tuning run once a best is known: this many times the best median."""


@dataclass(frozen=True)
class Trial:
    """One tuning run: step size, tuning seed index, wall time until typed (keystrokes per
    monkey; the run's budget if censored), censored flag."""

    lr: float
    seed: int
    wall: float
    censored: bool


@dataclass(frozen=True)
class Tuned:
    """The chosen step size of one setting.

    ``lr``: the best grid value; ``median``: its median wall time (keystrokes per monkey);
    ``edge``: ``""`` if the best is inside the grid, ``"low"``/``"high"`` if it is the
    grid's first/last value (the optimum may lie beyond); ``trials``: every run made.
    """

    lr: float
    median: float
    edge: str
    trials: tuple[Trial, ...]

    def to_dict(self) -> dict:
        return {"lr": self.lr, "median": self.median, "edge": self.edge,
                "trials": [asdict(t) for t in self.trials]}

    @classmethod
    def from_dict(cls, d: dict) -> Tuned:
        return cls(float(d["lr"]), float(d["median"]), str(d["edge"]),
                   tuple(Trial(float(t["lr"]), int(t["seed"]), float(t["wall"]),
                               bool(t["censored"])) for t in d["trials"]))


def line_search(run: Callable[[float, int, int], tuple[float, bool]], grid: Sequence[float],
                seeds: int, budget: int) -> Tuned:
    """Best step size of ``grid`` (increasing) for ``run(lr, seed_index, budget) -> (wall,
    censored)``, which trains with step size ``lr`` on tuning seed ``seed_index`` and a budget
    of ``budget`` keystrokes per monkey, and returns the wall time until typed (the budget if
    censored). See the module docstring for the search."""
    grid = [float(g) for g in grid]
    trials: list[Trial] = []
    medians: dict[int, float] = {}
    best: list[int] = []  # index of the best grid point so far (a list: set in evaluate)

    def evaluate(i: int) -> float:
        cap = budget
        if best and math.isfinite(medians[best[0]]):
            cap = min(budget, max(1, math.ceil(CAP_FACTOR * medians[best[0]])))
        walls = []
        for s in range(seeds):
            wall, censored = run(grid[i], s, cap)
            trials.append(Trial(grid[i], s, float(wall), bool(censored)))
            walls.append(float(wall) if not censored else math.inf)
        medians[i] = float(np.median(walls))
        if not best or _better(i, best[0], medians):
            best[:] = [i]
        return medians[i]

    start = (len(grid) - 1) // 2
    evaluate(start)
    for step in (1, -1):  # uphill from the start, then downhill
        i, worse = start + step, 0
        while 0 <= i < len(grid) and worse < PATIENCE:
            before = best[0]
            evaluate(i)
            worse = worse + 1 if best[0] == before else 0
            i += step
    b = best[0]
    edge = "low" if b == 0 else "high" if b == len(grid) - 1 else ""
    median = medians[b]
    if math.isinf(median):  # every run censored: the budget is a lower bound
        median = float(budget)
    return Tuned(grid[b], median, edge, tuple(trials))


def successive_halving(run: Callable[[float, int, int], tuple[float, bool]],
                       grid: Sequence[float], budget: int, first_seeds: int = 2,
                       final_seeds: int = 16, keep_last: int = 3,
                       cap_factor: float = 8.0, probe: int = 256,
                       settle_seeds: int = 0) -> Tuned:
    """Best step size of ``grid`` (increasing) by successive halving over tuning seeds.

    Rung 0 runs every grid value on ``first_seeds`` tuning seeds; each later rung keeps the
    better half of the survivors (never fewer than ``keep_last``) and doubles their seeds
    (the earlier seeds' runs are reused), until the survivors have ``final_seeds`` seeds; the
    best of the last rung is chosen. With ``settle_seeds`` > 0 the values in a near tie with
    the best (median within half a standard error of the best median, :func:`_near`) first
    run on ``settle_seeds`` more seeds and are ranked again; a near tie that remains goes to
    the smaller upper quartile (:func:`_near_tie`).
    ``run(lr, seed_index, budget) -> (wall, censored)`` as for :func:`line_search`.
    Objective: the median wall time (keystrokes per monkey), a censored run counted at its
    budget.

    Budgets: until a best is known, rung 0 runs every value at ``budget / probe``
    keystrokes per monkey and, while every median is censored, again at 4× that (up to
    ``budget``), so that a hopeless step size never costs the whole budget before a good one
    has been seen. Once a best is known, a run's budget is capped at ``cap_factor`` × the
    best median. A run censored at a smaller cap than the current one is run again at the
    current cap; a value whose median is a censored run is a lower bound and ranks after
    every value with an uncensored median, so the caps never change the choice. Returns a
    :class:`Tuned` (``median``: the chosen value's median over ``final_seeds`` seeds, the
    budget if censored)."""
    grid = [float(g) for g in grid]
    if first_seeds < 1 or final_seeds < first_seeds:
        raise ValueError("need 1 <= first_seeds <= final_seeds")
    runs: dict[int, list[tuple[float, bool, int]]] = {i: [] for i in range(len(grid))}
    alive = list(range(len(grid)))
    seeds = first_seeds
    probe_cap = min(budget, max(1, math.ceil(budget / probe)))
    best: tuple | None = None

    def cap() -> int:
        if best is None:
            return probe_cap
        return min(budget, max(1, math.ceil(cap_factor * best[1])))

    def rung(alive: list[int], seeds: int) -> list[int]:
        """Run ``alive`` on ``seeds`` seeds; returns them ranked."""
        nonlocal best
        # middle of the grid first: a good best early makes the caps tight
        for i in sorted(alive, key=lambda i: abs(i - (len(grid) - 1) / 2)):
            for s in range(seeds):
                c = cap()
                if s < len(runs[i]) and not (runs[i][s][1] and runs[i][s][2] < c):
                    continue  # kept: uncensored, or censored at a cap at least this one
                wall, censored = run(grid[i], s, c)
                entry = (float(wall), bool(censored), c)
                runs[i][s:s + 1] = [entry]
            rank = _rank(_walls(runs[i]))
            if not rank[0] and (best is None or rank < best):
                best = rank
        return sorted(alive, key=lambda i: (_rank(_walls(runs[i])), i))

    while True:
        ranked = rung(alive, seeds)
        top = _rank(_walls(runs[ranked[0]]))
        best = top if not top[0] else None
        if best is None and probe_cap < budget:  # every median censored at the probe:
            probe_cap = min(budget, 4 * probe_cap)  # look further
            continue
        if seeds >= final_seeds or best is None:  # done, or every value censored at the
            break                                 # whole budget: no ranking to refine
        alive = sorted(ranked[:max(keep_last, math.ceil(len(ranked) / 2))])
        seeds = min(final_seeds, 2 * seeds)
    last = [i for i in ranked if len(runs[i]) == seeds]
    near = _near(ranked[0], last, {i: _walls(runs[i]) for i in last})
    if settle_seeds > 0 and best is not None and len(near) > 1:
        seeds += settle_seeds
        ranked = last = rung(near, seeds)
    walls = {i: _walls(r) for i, r in runs.items()}
    b = _near_tie(ranked[0], last, walls)
    edge = "low" if b == 0 else "high" if b == len(grid) - 1 else ""
    censored_median, median = _rank(walls[b])
    trials = tuple(Trial(grid[i], s, w, c) for i in range(len(grid))
                   for s, (w, c, _) in enumerate(runs[i]))
    return Tuned(grid[b], median if not censored_median else float(budget), edge, trials)


def _walls(runs: list[tuple[float, bool, int]]) -> list[tuple[float, bool]]:
    """(wall, censored) of each run, without the cap it ran at."""
    return [(w, c) for w, c, _ in runs]


def _near(best: int, last: list[int], walls: dict) -> list[int]:
    """The last rung's values whose median is within half a standard error of the best
    median (``best`` included; only ``best`` when its median is censored). The standard error
    of a median on log scale is 1.2533 × σ/√n, with σ estimated robustly as IQR/1.349 of the
    log wall times (any positive cost works: overopt tunes on exp(−objective))."""
    censored, median = _rank(walls[best])
    if censored:
        return [best]
    logs = np.log([max(w, 1e-300) for w, _ in walls[best]])
    q1, q3 = np.quantile(logs, [0.25, 0.75])
    se = 1.2533 * (q3 - q1) / 1.349 / math.sqrt(len(logs))
    near = [i for i in last if not _rank(walls[i])[0]
            and _rank(walls[i])[1] <= median * math.exp(se / 2)]
    return sorted(set(near) | {best})


def _near_tie(best: int, last: list[int], walls: dict) -> int:
    """Among the values in a near tie with the best (:func:`_near`), the one with the
    smallest upper quartile. Near the largest stable step size learning times have a cliff:
    a few runs stall, which moves the upper quartile long before the median, and unseen seeds
    find more of them."""
    return min(_near(best, last, walls), key=lambda i: (float(np.quantile(
        [w for w, _ in walls[i]], 0.75)), i))


def _rank(runs: list[tuple[float, bool]]) -> tuple[bool, float]:
    """Sort key of one grid value's runs: (median is a censored lower bound, median). The
    median of runs whose censored ones count at their budget is exact unless the upper
    middle run is censored (censored values are at least their budget, every uncensored
    one below it)."""
    values = sorted(runs, key=lambda x: (x[0], x[1]))
    n = len(values)
    middle = values[n // 2]
    return (middle[1], float(np.median([w for w, _ in values])))


def _better(i: int, j: int, medians: dict[int, float]) -> bool:
    """Grid point i beats j: a smaller median; finite ties go to the smaller step size."""
    mi, mj = medians[i], medians[j]
    return mi < mj or (mi == mj and math.isfinite(mi) and i < j)


def tuning_seed(seed: int, j: int) -> int:
    """The ``j``-th tuning seed of root ``seed`` (disjoint from the reported cells' seeds)."""
    from ..rng import derived_seed

    return derived_seed(seed, TUNE_STREAM, j)


def rule_step_size(batch: np.ndarray, tuned_lr: np.ndarray, b_noise: float
                   ) -> tuple[float, np.ndarray]:
    """McCandlish et al.'s rule ε(B) = ε_max / (1 + B_noise / B) with ``b_noise`` measured:
    ε_max fitted to the tuned step sizes by least squares in log space. Returns
    ``(ε_max, ε(B) for each B)``."""
    batch = np.asarray(batch, dtype=float)
    tuned_lr = np.asarray(tuned_lr, dtype=float)
    shape = 1.0 / (1.0 + b_noise / batch)
    eps_max = float(np.exp(np.mean(np.log(tuned_lr) - np.log(shape))))
    return eps_max, eps_max * shape
