"""Learning cells of `monkeysim compare`: monkeys that learn from bananas.

A cell trains N monkeys (independent policies, or a troop sharing one) with the configured
algorithm until a monkey has typed the target *and* the greedy document is the target, or the
budget of keystrokes per monkey runs out. Times are converted to the compare units:
wall time = reviewer calls per monkey × L keystrokes, total work = N × wall time.
"""

from __future__ import annotations

from ..train import TrainConfig, train
from .compare_config import CompareConfig


def _train_config(cfg: CompareConfig, reward: str, troop: bool, monkeys: int, length: int,
                  seed: int) -> TrainConfig:
    docs_per_monkey = max(cfg.batch, cfg.budget // length)
    return TrainConfig(algo=cfg.algo, reward=reward, monkeys=monkeys, troop=troop,
                       batch=cfg.batch, lr=cfg.lr, optimizer=cfg.optimizer,
                       max_reviewer_calls=monkeys * docs_per_monkey,
                       stop="both", seed=seed, threads=None)


def learn_row(cfg: CompareConfig, tgt, length: int, reward: str, layout: str, monkeys: int,
              seed: int, seed_index: int) -> list:
    """One row of compare.csv for a learning cell (see ``compare.COLUMNS``)."""
    text = tgt.prefix(length)
    tc = _train_config(cfg, reward, layout == "troop", monkeys, length, seed)
    res = train(tc, text, tgt.alphabet)
    spent = (res.steps * tc.batch * length, res.steps * tc.batch * monkeys)

    def until(done: bool, wall_docs, calls) -> tuple[int, int]:
        """(keystrokes per monkey, reviewer calls) until the event, or the budget spent."""
        return (wall_docs * length, calls) if done else spent

    wall, calls = until(res.typed, res.typed_wall_reviewer_calls, res.typed_reviewer_calls)
    g_wall, g_calls = until(res.solved, res.wall_reviewer_calls, res.reviewer_calls)
    return [tgt.name, length, tgt.alphabet.size, f"learn_{layout}", reward, monkeys,
            seed_index, wall, monkeys * wall, calls, int(not res.typed), g_wall,
            monkeys * g_wall, g_calls, int(not res.solved), cfg.budget]


def convergence_rows(cfg: CompareConfig, algo: str, seed: int, seed_index: int) -> list[list]:
    """Per-step greedy correctness of one monkey on the weasel with hamming bananas, each
    algorithm with its tuned defaults (``train.DEFAULT_LR``, batch 16, SGD)."""
    from .. import texts
    from ..alphabet import named

    text = texts.get("weasel")
    # each algorithm with its own tuned defaults (batch, optimiser, learning rate)
    tc = TrainConfig(algo=algo, reward="hamming", monkeys=1,
                     max_reviewer_calls=max(cfg.budget // len(text), 1), stop="solved",
                     seed=seed)
    res = train(tc, text, named("upper27"))
    m = res.metrics
    rows = [[algo, seed_index, 0, 0, res.greedy_correct_initial, len(text), ""]]
    for i in range(res.steps):
        rows.append([algo, seed_index, int(m["step"][i]), int(m["reviewer_calls"][i]),
                     int(m["greedy_correct"][i]), len(text), float(m["reward_mean"][i])])
    return rows
