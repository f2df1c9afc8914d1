"""Learning cells of `monkeysim compare`: monkeys that learn from bananas.

A cell trains N monkeys (``independent``: N policies, the first to type the target ends the
race; ``troop``: one policy fed by all N monkeys' documents) with the configured algorithm
until a monkey has typed the target *and* the greedy document is the target, or the budget
of keystrokes per monkey runs out. Each setting runs at its own step size, tuned on tuning
seeds by :func:`tune_cell` (``troop_fixed``: a troop at the step size tuned for one monkey,
the old shared-step answer). Times are converted to the compare units: wall time =
documents per monkey × L keystrokes, total work = N × wall time.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ..learn.train import TrainConfig, TrainResult, train
from ..records import CompareRow
from ..rng import STREAMS
from .compare_config import CompareConfig
from .frontier import FrontierRow
from .tuning import Tuned, successive_halving, tuning_seed

CHECK_STREAM = STREAMS["tuning_check"]
"""Spawn-key prefix of the unseen seeds of :func:`replay`."""
REGIMES = ("independent", "troop")
"""The regimes whose step sizes are tuned (``troop_fixed`` reuses the N = 1 step size)."""


@dataclass(frozen=True)
class Setting:
    """What gets its own step size: a target prefix, a reward, a regime, N and the documents
    per monkey per update (``batch``)."""

    target: str
    length: int
    reward: str
    regime: str
    monkeys: int
    batch: int

    @property
    def key(self) -> tuple:
        return (self.target, self.length, self.reward, self.regime, self.monkeys, self.batch)


@dataclass(frozen=True)
class LearnOutcome:
    """One learning run, in documents per monkey until each goal (the budget if censored)."""

    target: str
    length: int
    alphabet_size: int
    reward: str
    regime: str
    monkeys: int
    batch: int
    lr: float
    seed: int
    budget: int
    typed: bool
    typed_docs: int
    solved: bool
    solved_docs: int

    def to_dict(self) -> dict:
        return asdict(self)

    def compare_row(self) -> CompareRow:
        """The row of compare.csv."""
        n, length = self.monkeys, self.length
        wall, g_wall = self.typed_docs * length, self.solved_docs * length
        return CompareRow(self.target, length, self.alphabet_size, f"learn_{self.regime}",
                          self.reward, n, self.seed, wall, n * wall, n * self.typed_docs,
                          int(not self.typed), g_wall, n * g_wall, n * self.solved_docs,
                          int(not self.solved), self.budget, self.lr)

    def frontier_rows(self) -> list[FrontierRow]:
        """Two rows of frontier.csv: until typed and until solved."""
        n, length, k = self.monkeys, self.length, self.batch
        out = []
        for goal, done, docs in (("typed", self.typed, self.typed_docs),
                                 ("solved", self.solved, self.solved_docs)):
            out.append(FrontierRow(self.target, length, self.reward, self.regime, goal, n, k,
                                   self.lr, self.seed, docs / k, docs * length,
                                   n * docs * length, n * docs, int(not done)))
        return out


MAX_WORK_MONKEYS = 256
"""A run's total work is capped at the budgets of this many monkeys: a troop of N > 256
monkeys is censored at ``budget · 256 / N`` keystrokes per monkey (a troop of 4,096 whose
step size diverges on one seed would otherwise type 4·10^10 keystrokes before it stops)."""


def _train_config(cfg: CompareConfig, reward: str, troop: bool, monkeys: int, batch: int,
                  length: int, lr: float, seed: int, budget: int, stop: str) -> TrainConfig:
    budget = min(budget, cfg.budget * MAX_WORK_MONKEYS // monkeys)  # of the run's budget
    docs_per_monkey = max(batch, budget // length)
    return TrainConfig(algo=cfg.algo, reward=reward, monkeys=monkeys, troop=troop,
                       batch=batch, lr=lr, optimizer=cfg.optimizer,
                       max_reviewer_calls=monkeys * docs_per_monkey, stop=stop, seed=seed,
                       threads=None)


def _run(cfg: CompareConfig, text: str, alphabet, reward: str, regime: str, monkeys: int,
         batch: int, lr: float, seed: int, budget: int, stop: str) -> TrainResult:
    tc = _train_config(cfg, reward, regime != "independent", monkeys, batch, len(text), lr,
                       seed, budget, stop)
    return train(tc, text, alphabet)


def check_cell(cfg: CompareConfig, kind: str, tgt, length: int, reward: str = "",
               regime: str = "", monkeys: int = 1, batch: int | None = None) -> None:
    """Build the training configuration that a ``tune``, ``learn``, ``noise`` or
    ``convergence`` cell (``reward`` the algorithm) would run and check it as the cell would
    (InvalidInput; nothing is run). The step size is the grid's first: any positive one
    builds the same configuration otherwise."""
    from ..learn.noise_scale import check_noise_scale
    from ..learn.train import check

    if kind == "convergence":
        tc = convergence_config(cfg, reward, 0)
        check(tc, tgt.text, tgt.alphabet)
        return
    stop = {"tune": "typed", "learn": "both", "noise": "budget"}[kind]
    troop = regime not in ("independent", "")
    tc = _train_config(cfg, reward, troop, monkeys, cfg.batch if batch is None else batch,
                       length, cfg.lr_grid[0], 0, cfg.budget, stop)
    check(tc, tgt.prefix(length), tgt.alphabet)
    if kind == "noise":
        check_noise_scale(tc, cfg.noise_samples)


def tune_cell(cfg: CompareConfig, setting: Setting, text: str, alphabet, seed: int) -> dict:
    """The step size of ``setting`` (a :class:`~.tuning.Tuned` as a dict), chosen on the
    tuning seeds of root ``seed`` by successive halving on the median wall time until typed
    (``cfg.tune_seeds`` seeds on the last rung, twice as many for the values in a near tie
    with the best)."""

    def run(lr: float, j: int, budget: int) -> tuple[float, bool]:
        return _until_typed(cfg, setting, text, alphabet, lr, tuning_seed(seed, j), budget)

    tuned: Tuned = successive_halving(run, cfg.lr_grid, cfg.budget,
                                      first_seeds=min(2, cfg.tune_seeds),
                                      final_seeds=cfg.tune_seeds, settle_seeds=cfg.tune_seeds)
    return {"setting": list(setting.key), **tuned.to_dict()}


def _until_typed(cfg: CompareConfig, setting: Setting, text: str, alphabet, lr: float,
                 seed: int, budget: int) -> tuple[int, bool]:
    """One run of ``setting`` until a monkey types ``text``: (wall time in keystrokes per
    monkey, or the keystrokes spent if censored at ``budget``; censored flag)."""
    res = _run(cfg, text, alphabet, setting.reward, setting.regime, setting.monkeys,
               setting.batch, lr, seed, budget, "typed")
    if res.typed:
        return res.typed_wall_reviewer_calls * len(text), False
    return res.steps * setting.batch * len(text), True


def replay(cfg: CompareConfig, setting: Setting, text: str, alphabet, lrs, seeds: int,
           seed: int) -> dict[float, list[float]]:
    """Wall times until typed (keystrokes per monkey; the budget if censored) of ``setting``
    at each step size of ``lrs`` on ``seeds`` seeds that neither the tuning nor the reported
    cells use (stream ``tuning_check``): does a tuned step size hold on unseen seeds?"""
    from ..rng import derived_seed

    out: dict[float, list[float]] = {}
    for lr in lrs:
        walls = []
        for j in range(seeds):
            wall, _ = _until_typed(cfg, setting, text, alphabet, lr,
                                   derived_seed(seed, CHECK_STREAM, j), cfg.budget)
            walls.append(float(wall))
        out[float(lr)] = walls
    return out


def learn_cell(cfg: CompareConfig, tgt, length: int, reward: str, regime: str, monkeys: int,
               batch: int, lr: float, seed: int, seed_index: int) -> LearnOutcome:
    """One reported learning run (a reported seed) at step size ``lr``."""
    text = tgt.prefix(length)
    res = _run(cfg, text, tgt.alphabet, reward, regime, monkeys, batch, lr, seed, cfg.budget,
               "both")
    spent = res.steps * batch
    return LearnOutcome(
        target=tgt.name, length=length, alphabet_size=tgt.alphabet.size, reward=reward,
        regime=regime, monkeys=monkeys, batch=batch, lr=float(lr), seed=seed_index,
        budget=cfg.budget, typed=res.typed,
        typed_docs=res.typed_wall_reviewer_calls if res.typed else spent,
        solved=res.solved, solved_docs=res.wall_reviewer_calls if res.solved else spent)


def auto_cell(cfg: CompareConfig, tgt, length: int, reward: str, seed: int,
              seed_index: int) -> dict:
    """One run of the self-sizing troop (no tuning run, at most ``max(cfg.monkeys)`` and
    :data:`MAX_WORK_MONKEYS` monkeys) until a monkey types ``tgt``'s prefix: steps S,
    documents E (all monkeys, calibration included), censored, and N and lr of every step
    (:func:`monkeysim.experiments.auto_troop.auto_until_typed`)."""
    from .auto_troop import auto_until_typed

    run = auto_until_typed(tgt.prefix(length), reward, seed, **_auto_options(cfg, tgt))
    return {"target": tgt.name, "length": length, "reward": reward, "seed": seed_index,
            **run.to_dict()}


def _auto_options(cfg: CompareConfig, tgt) -> dict:
    return {"algo": cfg.algo, "optimizer": cfg.optimizer, "alphabet": tgt.alphabet,
            "batch": cfg.batch, "max_monkeys": min(max(cfg.monkeys), MAX_WORK_MONKEYS),
            "budget": cfg.budget}


def check_auto_cell(cfg: CompareConfig, tgt, length: int, reward: str) -> None:
    """Check the configuration an ``auto`` cell would run, as the cell would (InvalidInput;
    nothing is run)."""
    from ..learn.auto_troop import check_auto
    from ..learn.train import check
    from .auto_troop import auto_config

    tc = auto_config(tgt.prefix(length), reward, 0, **_auto_options(cfg, tgt))
    check(tc, tgt.prefix(length), tgt.alphabet)
    check_auto(tc, None)


def noise_cell(cfg: CompareConfig, tgt, length: int, reward: str, seed: int) -> dict:
    """B_simple of the per-document gradient at uniform initialisation (documents), measured
    on ``cfg.noise_samples`` groups of ``cfg.batch`` documents."""
    from ..learn.noise_scale import noise_scale

    text = tgt.prefix(length)
    tc = _train_config(cfg, reward, False, 1, cfg.batch, length, cfg.lr_grid[0], seed,
                       cfg.budget, "budget")
    ns = noise_scale(tc, text, tgt.alphabet, samples=cfg.noise_samples)
    return {"target": tgt.name, "length": length, "reward": reward,
            "b_simple": float(ns.b_simple), "grad_sq": float(ns.grad_sq),
            "trace_sigma": float(ns.trace_sigma),
            "b_simple_ci": [float(x) for x in ns.b_simple_ci]}


def convergence_rows(cfg: CompareConfig, algo: str, seed: int, seed_index: int) -> list[list]:
    """Per-step greedy correctness and noise scale of one monkey on the weasel with hamming
    bananas, each algorithm with its tuned defaults (``train.DEFAULT_LR``, batch 16, SGD)."""
    from .. import texts
    from ..alphabet import named

    text = texts.get("weasel")
    res = train(convergence_config(cfg, algo, seed), text, named("upper27"))
    m = res.metrics
    rows = [[algo, seed_index, 0, 0, res.greedy_correct_initial, len(text), "", ""]]
    for i in range(res.steps):
        rows.append([algo, seed_index, int(m["step"][i]), int(m["reviewer_calls"][i]),
                     int(m["greedy_correct"][i]), len(text), float(m["reward_mean"][i]),
                     _finite(m["b_simple"][i])])
    return rows


def convergence_config(cfg: CompareConfig, algo: str, seed: int) -> TrainConfig:
    """The training configuration of a convergence run (one monkey, the weasel sentence)."""
    from .. import texts

    length = len(texts.get("weasel"))
    return TrainConfig(algo=algo, reward="hamming", monkeys=1,
                       max_reviewer_calls=max(cfg.budget // length, 1), stop="solved",
                       seed=seed)


def _finite(x) -> float | str:
    x = float(x)
    return x if x == x and abs(x) != float("inf") else ""
