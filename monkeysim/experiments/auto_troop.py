"""Where the self-sizing troop lands on the frontier (issue 23): one auto run per seed
(:func:`auto_until_typed`, the hook for ``compare``'s ``auto`` regime) against fixed troops
of N monkeys, each at its own step size tuned by successive halving (:func:`fixed_ladder`),
and the ratios S/S_min and E/E_min with bootstrap intervals (:func:`ratios`).

Units: steps S = documents per monkey until the first monkey typed the target ÷ batch (wall
time; keystrokes per monkey = S · batch · L); documents E = documents typed by all monkeys
until then (total work). A run censored at the budget counts at its budget.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ..learn.config import TrainConfig
from ..learn.train import train
from ..rng import derived_seed
from ..stats import bootstrap_medians, bootstrap_rng, percentile_interval
from .tuning import successive_halving, tuning_seed

REPORT_STREAM = 2301  # reported seeds: derived_seed(seed, REPORT_STREAM, j)


@dataclass(frozen=True)
class AutoRun:
    """One auto-troop run until typed.

    ``steps``: documents per monkey until a monkey typed the target ÷ batch (the budget if
    censored); ``documents``: documents of all monkeys until then; ``monkeys`` and ``lr``:
    N and ε of every step (ε = 0: the measuring step, no update)."""

    steps: float
    documents: int
    censored: bool
    monkeys: tuple[int, ...]
    lr: tuple[float, ...]

    def to_dict(self) -> dict:
        return asdict(self)


def auto_config(text: str, reward: str, seed: int, *, algo: str = "rloo",
                optimizer: str = "sgd", alphabet=None, batch: int = 16, max_monkeys: int = 256,
                budget: int = 1_000_000) -> TrainConfig:
    """The configuration of :func:`auto_until_typed` (``alphabet`` unused: the same
    signature)."""
    docs_per_monkey = max(batch, budget // len(text))
    return TrainConfig(algo=algo, reward=reward, optimizer=optimizer, monkeys="auto",
                       lr="auto", troop=True, batch=batch, max_monkeys=max_monkeys,
                       max_reviewer_calls=max_monkeys * docs_per_monkey, stop="typed",
                       seed=seed)


def auto_until_typed(text: str, reward: str, seed: int, *, algo: str = "rloo",
                     optimizer: str = "sgd", alphabet=None, batch: int = 16,
                     max_monkeys: int = 256, budget: int = 1_000_000) -> AutoRun:
    """One run of ``monkeys="auto", lr="auto"`` until a monkey types ``text``, with a budget
    of ``budget`` keystrokes per monkey (the largest troop's documents stop there too)."""
    res = train(auto_config(text, reward, seed, algo=algo, optimizer=optimizer,
                            alphabet=alphabet, batch=batch, max_monkeys=max_monkeys,
                            budget=budget), text, alphabet)
    m = res.metrics
    monkeys = tuple(int(x) for x in m["monkeys"])
    lrs = tuple(float(x) for x in m["lr"])
    if res.typed:
        return AutoRun(res.typed_wall_reviewer_calls / batch, int(res.typed_reviewer_calls),
                       False, monkeys, lrs)
    return AutoRun(res.steps, int(res.total_reviewer_calls), True, monkeys, lrs)


def fixed_until_typed(text: str, reward: str, monkeys: int, lr: float, seed: int,
                      budget: int, *, algo: str = "rloo", alphabet=None,
                      batch: int = 16) -> tuple[float, int, bool]:
    """A fixed troop of ``monkeys`` at step size ``lr`` until typed: (steps, documents,
    censored), counted as :class:`AutoRun`."""
    docs_per_monkey = max(batch, budget // len(text))
    cfg = TrainConfig(algo=algo, reward=reward, monkeys=monkeys, troop=True, batch=batch,
                      lr=lr, max_reviewer_calls=monkeys * docs_per_monkey, stop="typed",
                      seed=seed)
    res = train(cfg, text, alphabet)
    if res.typed:
        wall = res.typed_wall_reviewer_calls
        return wall / batch, monkeys * wall, False
    return res.steps, monkeys * res.steps * batch, True


def fixed_ladder(text: str, reward: str, ladder, grid, seeds: int, root: int, *,
                 tune_seeds: int = 8, budget: int = 1_000_000, alphabet=None,
                 batch: int = 16) -> list[dict]:
    """Every troop size of ``ladder`` at its own step size, chosen on tuning seeds by
    successive halving over ``grid`` (median keystrokes per monkey until typed), then run on
    ``seeds`` reported seeds. Returns one dict per N with the tuned step size and the
    per-seed steps and documents, and the documents that the tuning spent."""
    out = []
    length = len(text)
    for n in ladder:
        spent = [0]

        def run(lr: float, j: int, cap: int, n=n, spent=spent) -> tuple[float, bool]:
            s, docs, censored = fixed_until_typed(text, reward, n, lr, tuning_seed(root, j),
                                                  cap, alphabet=alphabet, batch=batch)
            spent[0] += docs
            return s * batch * length, censored

        tuned = successive_halving(run, grid, budget, first_seeds=2, final_seeds=tune_seeds)
        steps, docs, cens = [], [], []
        for j in range(seeds):
            s, d, c = fixed_until_typed(text, reward, n, tuned.lr,
                                        derived_seed(root, REPORT_STREAM, j), budget,
                                        alphabet=alphabet, batch=batch)
            steps.append(s)
            docs.append(d)
            cens.append(c)
        out.append({"monkeys": n, "lr": tuned.lr, "edge": tuned.edge, "steps": steps,
                    "documents": docs, "censored": cens, "tuning_documents": spent[0],
                    "reported_documents": int(sum(docs))})
    return out


def ratios(ladder: list[dict], auto_steps, auto_docs, key: str) -> dict:
    """S/S_min and E/E_min of the auto runs with 95 % bootstrap intervals (seeds of every
    troop size and of the auto runs resampled; S_min and E_min recomputed in each resample as
    the least median over the ladder)."""
    rng = bootstrap_rng("auto_troop", key)
    s_fixed = np.array([bootstrap_medians(c["steps"], rng) for c in ladder])
    e_fixed = np.array([bootstrap_medians(c["documents"], rng) for c in ladder])
    s_auto = bootstrap_medians(auto_steps, rng)
    e_auto = bootstrap_medians(auto_docs, rng)
    s_min = min(float(np.median(c["steps"])) for c in ladder)
    e_min = min(float(np.median(c["documents"])) for c in ladder)
    s_ratio = float(np.median(auto_steps)) / s_min
    e_ratio = float(np.median(auto_docs)) / e_min
    return {"s_min": s_min, "e_min": e_min,
            "auto_median_steps": float(np.median(auto_steps)),
            "auto_median_documents": float(np.median(auto_docs)),
            "s_ratio": s_ratio, "s_ratio_ci": percentile_interval(s_auto / s_fixed.min(axis=0)),
            "e_ratio": e_ratio, "e_ratio_ci": percentile_interval(e_auto / e_fixed.min(axis=0))}
