"""Baselines for learning from bananas, counted like the trainer: one reviewer call per
scored document, keystrokes = documents × L.

- :func:`random_typing` — random monkeys in document mode (no learning): exact theory
  (geometric with success probability ``A**-L`` per document) and a simulation.
- :func:`weasel` — Dawkins' weasel program (*The Blind Watchmaker*, 1986): 100 offspring per
  generation, mutation rate 0.05, the best offspring becomes the parent (non-latching), and
  the latching variant in which correct keys are never mutated again.
- :func:`coordinate_search` — try every key at one position at a time and keep the best:
  the "perfect bookkeeping" reference, about ``L · (A + 1) / 2`` calls with hamming bananas.

Each function takes a list of root seeds and runs them in parallel (seed ``s`` draws from
``chunk_state(s, 0, stream)``), so a single run and a run inside a batch are identical.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from . import theory
from ._kernels import baselines as KB
from .alphabet import Alphabet, resolve
from .errors import InvalidInput, nonneg_float, positive_int
from .rng import STREAMS, check_seed, chunk_state
from .typewriter import type_race

WEASEL_STREAM = STREAMS["weasel"]
COORDINATE_STREAM = STREAMS["coordinate"]
METHODS = ("random", "weasel", "weasel-latching", "coordinate")


@dataclass(frozen=True, eq=False)
class BaselineRuns:
    """Runs of one baseline method, one per seed.

    Attributes:
        method: ``random``, ``weasel``, ``weasel-latching`` or ``coordinate``.
        target, alphabet: what was typed.
        seeds: the root seeds, one run each.
        reviewer_calls: int64[runs], calls until solved (or the calls spent if not).
        solved: bool[runs].
        rounds: int64[runs], generations (weasel), positions visited (coordinate search) or
            documents (random typing).
        final: the final document of each run (parents / searched documents), as text.
        params: the method's parameters.
    """

    method: str
    target: str
    alphabet: Alphabet
    seeds: tuple[int, ...]
    reviewer_calls: np.ndarray = field(repr=False)
    solved: np.ndarray = field(repr=False)
    rounds: np.ndarray = field(repr=False)
    final: tuple[str, ...] = field(repr=False)
    params: dict = field(default_factory=dict)

    @property
    def keystrokes(self) -> np.ndarray:
        """Keystrokes typed for the reviewer: calls × L (int64[runs])."""
        return self.reviewer_calls * len(self.target)


def _setup(target, alphabet, alphabet_chars, reward: str):
    from .reward import make_reviewer

    if not isinstance(target, str) or not target:
        raise InvalidInput("target is empty; give at least one character")
    alpha = resolve(target, alphabet, alphabet_chars)
    codes = alpha.encode(target)
    rev = make_reviewer(reward, target, alpha)
    return alpha, codes, rev


def _seeds(seeds) -> tuple[int, ...]:
    if isinstance(seeds, int | np.integer) and not isinstance(seeds, bool):
        seeds = [seeds]
    seeds = tuple(check_seed(s) for s in seeds)
    if not seeds:
        raise InvalidInput("give at least one seed")
    return seeds


def _states(seeds, stream: int) -> np.ndarray:
    return np.stack([chunk_state(s, 0, stream) for s in seeds])


def weasel(target: str, alphabet: Alphabet | str | None = None, *, seeds=(0,),
           offspring: int = 100, mutation_rate: float = 0.05, latching: bool = False,
           reward: str = "hamming", max_reviewer_calls: int = 1_000_000,
           alphabet_chars: str | None = None, noise: float = 0.0) -> BaselineRuns:
    """Dawkins' weasel, one run per seed (see :func:`_kernels_baselines.weasel_run`).

    Reviewer calls count every scored offspring: ``offspring × generations``. ``noise``: σ
    of Gaussian noise on every reported score, in characters (σ/L in reward units, as
    ``TrainConfig.reviewer_noise``); the noise is drawn from the run's own stream, and with
    σ = 0 the runs are those of the noiseless weasel, byte for byte.
    """
    alpha, codes, rev = _setup(target, alphabet, alphabet_chars, reward)
    offspring = positive_int(offspring, "offspring")
    mu = float(mutation_rate) if isinstance(mutation_rate, int | float) else math.nan
    if not (0 < mu <= 1):
        raise InvalidInput(f"mutation rate must be in (0, 1], got {mutation_rate!r}")
    budget = positive_int(max_reviewer_calls, "max reviewer calls")
    sigma = nonneg_float(noise, "reviewer noise σ (characters)")
    seeds = _seeds(seeds)
    n = len(seeds)
    calls = np.zeros(n, dtype=np.int64)
    gens = np.zeros(n, dtype=np.int64)
    solved = np.zeros(n, dtype=np.bool_)
    final = np.zeros((n, len(codes)), dtype=np.uint8)
    KB.weasel_batch(_states(seeds, WEASEL_STREAM), codes, alpha.size, offspring, mu,
                    bool(latching), budget, rev.record, sigma / len(codes), calls, gens, solved,
                    final)
    return BaselineRuns("weasel-latching" if latching else "weasel", target, alpha, seeds,
                        calls, solved, gens, tuple(alpha.decode(f) for f in final),
                        {"offspring": offspring, "mutation_rate": mu, "latching": bool(latching),
                         "reward": reward, "max_reviewer_calls": budget,
                         **({"noise": sigma} if sigma > 0 else {})})


def coordinate_search(target: str, alphabet: Alphabet | str | None = None, *, seeds=(0,),
                      reward: str = "hamming", early_stop: bool = True,
                      max_reviewer_calls: int = 1_000_000,
                      alphabet_chars: str | None = None) -> BaselineRuns:
    """Coordinate search with perfect bookkeeping, one run per seed.

    With ``early_stop`` a position is left at the first key that raises the score; its
    expected cost with hamming bananas is ``1 + L·((A − 1)/A + (A − 1)/2) ≈ L·(A + 1)/2``.
    """
    alpha, codes, rev = _setup(target, alphabet, alphabet_chars, reward)
    budget = positive_int(max_reviewer_calls, "max reviewer calls")
    seeds = _seeds(seeds)
    n = len(seeds)
    calls = np.zeros(n, dtype=np.int64)
    positions = np.zeros(n, dtype=np.int64)
    solved = np.zeros(n, dtype=np.bool_)
    final = np.zeros((n, len(codes)), dtype=np.uint8)
    KB.coordinate_batch(_states(seeds, COORDINATE_STREAM), codes, alpha.size, bool(early_stop),
                        budget, rev.record, calls, positions, solved, final)
    return BaselineRuns("coordinate", target, alpha, seeds, calls, solved, positions,
                        tuple(alpha.decode(f) for f in final),
                        {"early_stop": bool(early_stop), "reward": reward,
                         "max_reviewer_calls": budget})


def coordinate_expected_calls(length: int, alphabet_size: int) -> float:
    """Expected calls of early-stopping coordinate search with hamming bananas (all
    positions visited): ``1 + L · ((A − 1)/A + (A − 1)/2)``."""
    a = alphabet_size
    return 1 + length * ((a - 1) / a + (a - 1) / 2)


@dataclass(frozen=True)
class RandomTypingTheory:
    """Reviewer calls until a random monkey types the target in document mode (exact).

    The number of documents is geometric with success probability ``A**-L``.
    Attributes: mean, median, q25, q75 in reviewer calls (floats; may be astronomically
    large), log10_mean.
    """

    mean: float
    median: float
    q25: float
    q75: float
    log10_mean: float


def random_typing_theory(target: str, alphabet: Alphabet | str | None = None,
                         alphabet_chars: str | None = None) -> RandomTypingTheory:
    """Exact reviewer-call statistics of random document typing (from :mod:`theory`)."""
    alpha = resolve(target, alphabet, alphabet_chars)
    wt = theory.waiting_time(target, alpha, "document")
    length = len(target)
    q25, q50, q75 = (float(x) / length for x in wt.quantile([0.25, 0.5, 0.75]))
    log10_mean = theory.log10_expected_keystrokes(target, alpha, "document") - math.log10(length)
    return RandomTypingTheory(mean=float(10.0**log10_mean), median=q50, q25=q25, q75=q75,
                              log10_mean=log10_mean)


def random_typing(target: str, alphabet: Alphabet | str | None = None, *, seeds=(0,),
                  max_reviewer_calls: int = 1_000_000,
                  alphabet_chars: str | None = None) -> BaselineRuns:
    """Random monkeys in document mode: one monkey per seed types whole documents until one
    is the target (every document is one reviewer call) or the budget runs out."""
    alpha = resolve(target, alphabet, alphabet_chars)
    budget = positive_int(max_reviewer_calls, "max reviewer calls")
    seeds = _seeds(seeds)
    length = len(target)
    calls = np.zeros(len(seeds), dtype=np.int64)
    solved = np.zeros(len(seeds), dtype=np.bool_)
    for j, s in enumerate(seeds):  # each seed is its own race, so runs do not depend on batching
        race = type_race(target, alpha, monkeys=1, budget=budget * length, mode="document",
                         seed=s)
        calls[j] = race.keystrokes[0] // length
        solved[j] = race.found[0]
    return BaselineRuns("random", target, alpha, seeds, calls, solved, calls.copy(),
                        tuple("" for _ in seeds), {"max_reviewer_calls": budget})
