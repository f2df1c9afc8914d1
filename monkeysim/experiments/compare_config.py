"""Configuration of `monkeysim compare`: a frozen dataclass, presets and TOML loading."""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass
from pathlib import Path

from ..errors import InvalidInput, positive_float, positive_int
from ..learn.algorithms import ALGORITHMS, ALGOS, BASE_ALGOS

REWARDS = ("exact", "prefix", "hamming", "levenshtein", "ngram", "words")
REGIMES = ("independent", "troop")

@dataclass(frozen=True)
class CompareConfig:
    """Everything `monkeysim compare` measures. Times are keystrokes per monkey."""

    line: str = "hamlet"
    """Built-in name or text of the line whose prefixes are typed (default: the Hamlet line)."""
    lengths: tuple[int, ...] = (2, 3, 4, 6, 8, 12, 16, 24, 32, 41)
    """Prefix lengths of the line (each ≤ its length)."""
    weasel: bool = True
    """Also race to the weasel sentence (METHINKS IT IS LIKE A WEASEL, upper27)."""
    monkeys: tuple[int, ...] = (1, 4, 16, 64)
    """Monkey counts N, the ladder of the "fewer monkeys or less time" frontier."""
    length_sweep_monkeys: int = 1
    """N for the time-to-target vs length sweep."""
    frontier_length: int = 4
    """Prefix length of the line for the monkey-count sweep (the weasel is swept too)."""
    seeds: int = 10
    """Reported seeds (independent repetitions) per measured cell; the 95 % intervals
    resample them."""
    rewards: tuple[str, ...] = ("exact", "prefix", "hamming")
    """Reward kinds of the learning monkeys."""
    algo: str = "rloo"
    """Policy-gradient algorithm of the learning monkeys."""
    convergence_algos: tuple[str, ...] = BASE_ALGOS
    """Algorithms compared in the convergence figure (weasel, hamming bananas); default:
    every algorithm that is not a variant of another."""
    budget: int = 1_000_000
    """Keystrokes per monkey before a run is censored (random and learning alike)."""
    random_max_keystrokes: int = 3_000_000_000
    """Random typing is simulated only where the expected total keystrokes of a race stay
    below this; elsewhere only the exact theory is reported."""
    learn_max_documents: int = 2_000_000
    """Exact (sparse) bananas are simulated only where the documents that N monkeys are
    expected to type before the first hit (or the budget) stay below this; elsewhere they
    type like random documents and the random-document theory is reported."""
    batch: int = 16
    """Documents per monkey per update of the learning monkeys (a troop's update pools
    monkeys × batch documents)."""
    lr_grid: tuple[float, ...] = tuple(float(2**k) for k in range(0, 17))
    """Log grid of step sizes (increasing, > 0) searched for every setting (target, length,
    graded reward, regime, N) on the tuning seeds; see ``experiments.tuning``."""
    tune_seeds: int = 16
    """Tuning seeds of the last rung of successive halving (the first rung has 2; their own
    stream, disjoint from the reported seeds); see ``experiments.tuning``."""
    frontier_batches: tuple[int, ...] | None = None
    """Documents per update of a one-monkey troop below ``batch``: more points on the
    frontier below one monkey × ``batch`` (each tuned like every other setting). Default:
    those of 2, 4, 8 that lie below ``batch`` (and at or above the algorithm's smallest
    group)."""
    regimes: tuple[str, ...] = ("independent", "troop")
    """Regimes of the monkey ladder: independent (N policies, the first to type the target
    ends the race) and troop (one policy, all N monkeys' documents in each update)."""
    independent_max_monkeys: int = 16
    """Largest N of the independent regime's ladder (N racing monkeys, each learning on its
    own, cost N times the keystrokes of one, and tuning each N on 16 seeds more so; the
    troop's ladder goes to the end)."""
    fixed_step_troop: bool = True
    """Also run troops at the step size tuned for the smallest N (the old shared-step answer,
    dashed in the figure)."""
    weasel_ladder_rewards: tuple[str, ...] = ("hamming",)
    """Rewards (among ``rewards``) of the weasel's monkey ladder. Prefix bananas type the
    weasel in about 10^6 keystrokes per monkey, so their ladder belongs to ``--full``."""
    weasel_racing_rewards: tuple[str, ...] = ("hamming",)
    """Rewards (among ``weasel_ladder_rewards``) whose weasel ladder also races independent
    monkeys and runs troops at one monkey's step size. N racing monkeys cost N × one monkey's
    keystrokes, about N × 10^6 with prefix bananas, and so does a big troop at one monkey's
    small step size, so their weasel ladder is the tuned troop's only (sharing the work)."""
    auto_troop: bool = True
    """Also run the self-sizing troop (``monkeys="auto", lr="auto"``, at most
    ``max(monkeys)`` and 256 monkeys) once per reported seed on every frontier, with no
    tuning run, and place it on the frontier (S/S_min, E/E_min)."""
    noise_samples: int = 2048
    """Groups of ``batch`` documents for B_simple at uniform initialisation."""
    lr: float = 10.0
    """Step size of the settings that are not tuned: exact bananas take the step size tuned
    for a graded reward of the same setting (before their first hit the step size cannot
    matter), and this one only when no graded reward is compared."""
    optimizer: str = "sgd"
    """Optimiser of the learning monkeys: sgd or adam. Plain SGD is the robust default here:
    Adam's per-parameter scaling lets noise push a position onto a wrong key, where the
    policy stops exploring and the run stalls (seen with lr ≥ 0.2 on the Hamlet line)."""

    def __post_init__(self) -> None:
        minimum = ALGORITHMS[self.algo].min_group if self.algo in ALGORITHMS else 1
        if self.frontier_batches is None:
            object.__setattr__(self, "frontier_batches", tuple(
                k for k in (2, 4, 8) if minimum <= k < self.batch))
        if isinstance(self.frontier_batches, list):
            object.__setattr__(self, "frontier_batches", tuple(self.frontier_batches))
        for k in self.frontier_batches:
            positive_int(k, "frontier_batches entry")
            if not minimum <= k < self.batch:
                raise InvalidInput(f"frontier_batches entries must lie in [{minimum}, batch "
                                   f"{self.batch}) for {self.algo}, got {k}")
        if list(self.frontier_batches) != sorted(set(self.frontier_batches)):
            raise InvalidInput(f"frontier_batches must be strictly increasing, got "
                               f"{list(self.frontier_batches)}")
        for name in ("lengths", "monkeys", "rewards", "convergence_algos", "lr_grid", "regimes",
                     "weasel_ladder_rewards", "weasel_racing_rewards"):
            value = getattr(self, name)
            if isinstance(value, list):
                object.__setattr__(self, name, tuple(value))
            if len(getattr(self, name)) == 0:
                raise InvalidInput(f"{name} is empty; give at least one value")
        for n in self.lengths:
            positive_int(n, "lengths entry")
            if n < 1:
                raise InvalidInput(f"lengths entries must be ≥ 1, got {n}")
        for n in self.monkeys:
            positive_int(n, "monkeys entry")
        if list(self.monkeys) != sorted(set(self.monkeys)):
            raise InvalidInput(f"monkeys ladder must be strictly increasing, got "
                               f"{list(self.monkeys)}")
        positive_int(self.length_sweep_monkeys, "length_sweep_monkeys")
        positive_int(self.frontier_length, "frontier_length")
        positive_int(self.seeds, "seeds")
        positive_int(self.budget, "budget")
        positive_int(self.random_max_keystrokes, "random_max_keystrokes")
        positive_int(self.learn_max_documents, "learn_max_documents")
        positive_int(self.batch, "batch")
        if self.batch < minimum:
            raise InvalidInput(f"batch must be ≥ {minimum} for {self.algo}, got {self.batch}")
        for r in (*self.rewards, *self.weasel_ladder_rewards, *self.weasel_racing_rewards):
            if r not in REWARDS:
                raise InvalidInput(f"unknown reward {r!r}; choose from {', '.join(REWARDS)}")
        for a in (self.algo, *self.convergence_algos):
            if a not in ALGOS:
                raise InvalidInput(f"unknown algorithm {a!r}; choose from {', '.join(ALGOS)}")
        positive_float(self.lr, "learning rate lr")
        for v in self.lr_grid:
            if isinstance(v, bool) or not isinstance(v, int | float) or not (
                    0 < v < float("inf")):
                raise InvalidInput(f"lr_grid values must be positive numbers, got {v!r}")
        if list(self.lr_grid) != sorted(set(self.lr_grid)):
            raise InvalidInput(f"lr_grid must be strictly increasing, got {list(self.lr_grid)}")
        object.__setattr__(self, "lr_grid", tuple(float(v) for v in self.lr_grid))
        positive_int(self.tune_seeds, "tune_seeds")
        positive_int(self.independent_max_monkeys, "independent_max_monkeys")
        positive_int(self.noise_samples, "noise_samples")
        for r in self.regimes:
            if r not in REGIMES:
                raise InvalidInput(f"unknown regime {r!r}; choose from {', '.join(REGIMES)}")
        if len(set(self.regimes)) != len(self.regimes):
            raise InvalidInput(f"regimes repeat a value: {list(self.regimes)}")
        if not isinstance(self.fixed_step_troop, bool):
            raise InvalidInput(f"fixed_step_troop must be true or false, got "
                               f"{self.fixed_step_troop!r}")
        if not isinstance(self.weasel, bool):
            raise InvalidInput(f"weasel must be true or false, got {self.weasel!r}")
        if self.optimizer not in ("sgd", "adam"):
            raise InvalidInput(f"unknown optimizer {self.optimizer!r}; choose sgd or adam")
        if not isinstance(self.line, str) or not self.line:
            raise InvalidInput("line is empty; give a built-in name or some text")

    def to_dict(self) -> dict:
        return {f.name: (list(v) if isinstance(v := getattr(self, f.name), tuple) else v)
                for f in dataclasses.fields(self)}

QUICK = dict(lengths=(2, 3, 6, 8), weasel=False, monkeys=(1, 4, 16), frontier_length=3,
             seeds=3, budget=200_000, random_max_keystrokes=200_000_000,
             convergence_algos=("reinforce", "rloo"), tune_seeds=2, noise_samples=256,
             frontier_batches=(4,), lr_grid=tuple(float(4**k) for k in range(1, 7)))
FULL = dict(lengths=(2, 3, 4, 5, 6, 8, 10, 12, 14, 16, 20, 24, 28, 32, 36, 41),
            monkeys=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096),
            seeds=20, budget=10_000_000, random_max_keystrokes=2_000_000_000,
            tune_seeds=16, independent_max_monkeys=256, weasel_ladder_rewards=("hamming", "prefix"),
            lr_grid=tuple(float(2**k) for k in range(-2, 19)))

def load_toml(path: Path) -> dict:
    """Read a TOML file of CompareConfig fields; unknown keys and values of the wrong type
    (a string for a boolean, ...) are errors, and so is a path that is not a readable text
    file."""
    from ..errors import os_error_message

    where = f"--config {str(path)!r}"
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInput(f"{where} does not exist") from None
    except IsADirectoryError:
        raise InvalidInput(f"{where} is a directory; give a TOML file") from None
    except UnicodeDecodeError:
        raise InvalidInput(f"{where} is not a text file (not UTF-8); give a TOML "
                           "file") from None
    except OSError as exc:
        raise InvalidInput(os_error_message(exc, "read", path)) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(f"{where} is not valid TOML: {exc}") from None
    known = {f.name for f in dataclasses.fields(CompareConfig)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise InvalidInput(f"unknown key {unknown[0]!r} in {str(path)!r}; allowed keys: "
                           f"{', '.join(sorted(known))}")
    check_types(data, f" in {str(path)!r}")
    return data


def check_types(values: dict, where: str = "") -> None:
    """InvalidInput naming the first value whose type does not fit its CompareConfig field
    (``weasel = "no"`` is a string, not a boolean; an integer field takes no 2.5)."""
    import typing

    hints = typing.get_type_hints(CompareConfig)
    for key, value in values.items():
        if key in hints and not _fits(value, hints[key]):
            raise InvalidInput(f"{key}{where} must be {_describe(hints[key])}, got {value!r}")


def _fits(value, hint) -> bool:
    import types
    import typing

    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_fits(value, h) for h in typing.get_args(hint))
    if origin is tuple:
        args = typing.get_args(hint)
        return isinstance(value, list | tuple) and all(_fits(v, args[0]) for v in value)
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if hint is type(None):
        return value is None
    return isinstance(value, hint) if isinstance(hint, type) else True


def _describe(hint) -> str:
    import types
    import typing

    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(h) for h in typing.get_args(hint))
    if origin is tuple:
        return f"a list of {_describe(typing.get_args(hint)[0]).replace('a ', '', 1)}s"
    return {bool: "true or false", int: "an integer", float: "a number", str: "a string",
            type(None): "nothing"}.get(hint, str(hint))


def check_size(cfg: CompareConfig) -> None:
    """Refuse a config whose rows, races or learners would not fit in memory (or overflow),
    before anything runs: seeds × cells × rows, the largest race, the largest learner."""
    from ..errors import check_memory
    from ..learn.config import MAX_ARRAY
    from ..typewriter import check_budget

    targets = len(cfg.lengths) + 1 + (1 if cfg.weasel else 0)
    cells = (2 * targets + targets * len(cfg.rewards) + len(cfg.convergence_algos)
             + 4 * (1 + cfg.weasel) * len(cfg.rewards) * len(cfg.monkeys))
    convergence_rows = len(cfg.convergence_algos) * (cfg.budget // 28 // 16 + 2)
    per_seed = cells * 2_000 + 2 * targets * len(cfg.monkeys) * 1_000 + convergence_rows * 600
    check_memory(cfg.seeds, per_seed, "seeds")
    check_memory(max(cfg.monkeys), 9, "monkeys (largest race)")
    check_budget(cfg.budget, max(cfg.monkeys), 1, "stream")
    if cfg.convergence_algos and cfg.budget < 28 * 16:  # compare_learn.convergence_rows
        raise InvalidInput(f"budget {cfg.budget:,} keystrokes is below one step of the "
                           "convergence runs (16 documents of the weasel's 28 keys = 448)")
    longest = max(*cfg.lengths, cfg.frontier_length, 28 if cfg.weasel else 1)
    docs = max(max(cfg.monkeys), cfg.length_sweep_monkeys) * cfg.batch * longest
    if docs > MAX_ARRAY:
        raise InvalidInput(f"monkeys {max(cfg.monkeys):,} × batch {cfg.batch} × L {longest} = "
                           f"{docs:,} keystrokes per learning step; at most {MAX_ARRAY:,}")


def check_theory(cfg: CompareConfig) -> None:
    """The exact theory must handle the longest prefix of the line (a length limit)."""
    from .. import texts, theory
    from ..alphabet import default_for

    text = texts.BUILTIN_TEXTS.get(cfg.line, cfg.line)
    longest = min(len(text), max(*cfg.lengths, cfg.frontier_length))
    theory.check_exact(longest, default_for(text).size)


def make_config(preset: str | None = None, toml: dict | None = None, **overrides) -> CompareConfig:
    """Defaults, then a preset (``quick``/``full``), then TOML values, then explicit overrides;
    types and sizes are checked (:func:`check_types`, :func:`check_size`)."""
    values: dict = {}
    if preset == "quick":
        values.update(QUICK)
    elif preset == "full":
        values.update(FULL)
    elif preset is not None:
        raise InvalidInput(f"unknown preset {preset!r}; choose quick or full")
    values.update(toml or {})
    values.update({k: v for k, v in overrides.items() if v is not None})
    check_types(values)
    try:
        cfg = CompareConfig(**values)
    except TypeError as exc:
        raise InvalidInput(f"bad config value: {exc}") from None
    check_size(cfg)
    return cfg
