"""`monkeysim train`: one training run, its files and its printed summary.

Files written into the output directory (all atomically):

- ``train.csv`` — one row per update step with every column of :data:`train.METRICS`;
- ``train.json`` — its sidecar: the configuration, seed, versions, git revision, the run's
  summary and the meaning and unit of every column;
- ``convergence.png`` — greedy correct characters and reward mean vs reviewer calls.
"""

from __future__ import annotations

import math
from pathlib import Path

from ..learn.metrics import METRICS
from ..learn.train import TrainResult
from ..plots import train as plots_train
from ..results import sidecar, write_table

FILES = ["train.csv", "train.json", "convergence.png"]


def write_outputs(result: TrainResult, out: Path, config: dict) -> Path:
    """Write the per-step CSV, its sidecar and the convergence figure into ``out``."""
    out = Path(out)
    m = result.metrics
    names = list(METRICS)
    rows = ([_cell(m[name][i]) for name in names] for i in range(result.steps))
    meta = sidecar(config, result.config.seed, summary=result.summary(),
                   train_config=result.config.as_dict(), columns=dict(METRICS))
    path = write_table(out / "train.csv", names, rows, meta)
    c = result.config
    who = (f"a troop of {_monkeys_text(c)}" if c.troop
           else f"{c.monkeys} monkey{'s' if c.monkeys != 1 else ''}")
    title = (f"{c.algo} learning {result.target!r}\n{c.reward} bananas, {c.policy} policy, "
             f"{who} × batch {c.batch}, {c.optimizer} lr {_lr_text(c)}, seed {c.seed}")
    fig = plots_train.convergence(m, len(result.target), title, result.greedy_correct_initial,
                                  result.reviewer_calls if result.solved else None)
    plots_train.save(fig, out / "convergence.png")
    return path


def _monkeys_text(c) -> str:
    return f"auto (≤ {c.max_monkeys})" if c.auto_monkeys else str(c.monkeys)


def _lr_text(c) -> str:
    return "auto" if c.auto_lr else f"{c.lr:g}"


def _cell(v):
    x = v.item() if hasattr(v, "item") else v
    if isinstance(x, float) and not math.isfinite(x):
        return ""
    return x


def report(result: TrainResult) -> str:
    """A readable summary of one run."""
    c = result.config
    s = result.summary()
    a = result.alphabet
    who = (f"a troop of {_monkeys_text(c)} monkeys sharing one policy" if c.troop
           else f"{c.monkeys} independent monkey{'s' if c.monkeys != 1 else ''}")
    kl = "" if c.kl_coef == 0 else f", KL β = {c.kl_coef:g} ({c.kl_mode})"
    ent = "" if c.entropy_coef == 0 else f", entropy α = {c.entropy_coef:g}"
    lines = [
        f"{c.algo} on {result.target!r} ({a.name}, A={a.size}, L={len(result.target)}), "
        f"{c.reward} bananas, {c.policy} policy" + (f" n={c.order}" if c.policy == "context"
                                                    else ""),
        f"{who}, batch {c.batch}, {c.optimizer} lr {_lr_text(c)}{kl}{ent}, seed {c.seed}",
        "",
    ]
    if (c.auto_monkeys or c.auto_lr) and result.steps:
        m = result.metrics
        steps_lr = m["lr"][m["lr"] > 0]
        lines[-1:-1] = [f"auto troop: N from {int(m['monkeys'].min())} to "
                        f"{int(m['monkeys'].max())} monkeys, lr from "
                        f"{(steps_lr.min() if steps_lr.size else 0.0):g} "
                        f"to {m['lr'].max():g} over {result.steps} steps, "
                        f"{int(m['reviewer_calls'][-1]):,} documents"]
    if result.solved:
        lines.append(f"solved: the greedy document is the target after {result.solved_step:,} "
                     f"steps = {result.reviewer_calls:,} reviewer calls "
                     f"({result.keystrokes:,} keystrokes, all monkeys)")
    else:
        lines.append(f"not solved within {result.steps:,} steps = "
                     f"{result.total_reviewer_calls:,} reviewer calls (budget "
                     f"{c.max_reviewer_calls:,})")
    if result.typed:
        lines.append(f"typed: a monkey typed the target after {result.typed_reviewer_calls:,} "
                     "reviewer calls (all monkeys)")
    lines.append(f"greedy document: {result.greedy!r} ({s['greedy_correct']}/"
                 f"{len(result.target)} correct; {result.greedy_correct_initial} at the start)")
    if result.steps:
        lines.append(f"last step: reward mean {s['final_reward_mean']:.3f} bananas/document, "
                     f"KL to reference {s['final_kl_exact']:.3f} nats, entropy "
                     f"{s['final_entropy']:.2f} nats")
        lines.append(f"{result.seconds:.3f} s in the kernels "
                     f"({result.reviewer_calls_per_second:,.0f} reviewer calls/s, "
                     f"{result.threads} threads)")
    return "\n".join(lines)
