"""Command-line front end of the learning monkeys: ``monkeysim train`` and
``monkeysim bench learning`` (registered by :mod:`monkeysim.cli.main`).

Helpers of :mod:`monkeysim.cli.main` are imported inside the functions, so importing this module
does not import the CLI (and the CLI can import this module at load time). Parses
arguments, calls the library, prints; no science here.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None


def _auto_or(parse):
    """An argument type that accepts ``auto`` or what ``parse`` accepts."""
    def convert(text: str):
        return "auto" if text == "auto" else parse(text)
    convert.__name__ = parse.__name__
    return convert


# --- train ----------------------------------------------------------------------------------

def add_parser(sub) -> None:
    """Register ``monkeysim train`` on the subparsers ``sub`` (with ``func=_cmd_train``)."""
    from .._kernels.reward import REWARD_KINDS
    from ..learn.config import ALGOS, DEFAULT_LR, KL_ESTIMATORS, OPTIMIZERS, STOPS, TrainConfig
    from ..policy import POLICY_KINDS
    from .common import add_common_out, add_target_args, int_arg

    d = TrainConfig()
    lrs = ", ".join(f"{a} {DEFAULT_LR[(a, 'sgd')]:g}" for a in ALGOS)
    p = sub.add_parser(
        "train", help="monkeys that learn from bananas (REINFORCE, RLOO, GRPO, PPO)",
        description="Train monkeys with a character policy to type a target from the "
                    "reviewer's bananas, with a policy-gradient algorithm, until the greedy "
                    "(argmax) document is the target or the reviewer-call budget runs out. "
                    "Writes train.csv (one row per step, every metric of docs/metrics.md), "
                    "its JSON sidecar and convergence.png, and prints a summary.")
    add_target_args(p)
    p.add_argument("--algo", choices=ALGOS, default=d.algo,
                   help=f"policy-gradient algorithm (default {d.algo})")
    p.add_argument("--reward", choices=REWARD_KINDS, default=d.reward,
                   help=f"the reviewer's bananas (default {d.reward})")
    p.add_argument("--policy", choices=POLICY_KINDS, default=d.policy,
                   help="positional (one categorical per position) or context (n-gram) "
                        f"(default {d.policy})")
    p.add_argument("--order", type=int_arg, default=d.order,
                   help="n of a context policy: the key depends on the last n − 1 keys "
                        f"(default {d.order})")
    p.add_argument("--monkeys", type=_auto_or(int_arg), default=d.monkeys,
                   help=f"number of monkeys N (default {d.monkeys}); auto (with --troop): "
                        "recruited each step from the measured gradient noise scale")
    p.add_argument("--max-monkeys", type=int_arg, default=d.max_monkeys,
                   help=f"largest troop --monkeys auto may recruit (default {d.max_monkeys})")
    p.add_argument("--troop", action="store_true",
                   help="the monkeys share one policy and pool their documents per update")
    p.add_argument("--batch", type=int_arg, default=d.batch,
                   help=f"documents per monkey per update step (default {d.batch})")
    p.add_argument("--lr", type=_auto_or(_float), default=None,
                   help=f"learning rate (default per algorithm; with sgd: {lrs}); auto (a "
                        "troop with sgd): ε_max / (1 + B_noise/B) each step, ε_max probed")
    p.add_argument("--optimizer", choices=OPTIMIZERS, default=d.optimizer,
                   help=f"sgd or adam (default {d.optimizer})")
    p.add_argument("--kl-coef", type=_float, default=d.kl_coef, metavar="BETA",
                   help="β of the KL penalty to the initial policy (default 0: no leash)")
    p.add_argument("--kl-estimator", choices=KL_ESTIMATORS, default=d.kl_estimator,
                   help="exact (positional), k1 or k3; auto: exact for positional, k1 for "
                        "context policies (default auto)")
    p.add_argument("--entropy-coef", type=_float, default=d.entropy_coef, metavar="ALPHA",
                   help="α of the entropy bonus (default 0)")
    p.add_argument("--epochs", type=int_arg, default=None,
                   help="optimisation epochs per batch (grpo/ppo; default 1, ppo 4)")
    p.add_argument("--max-reviewer-calls", type=int_arg, default=d.max_reviewer_calls,
                   help="budget of reviewer calls, all monkeys together "
                        f"(default {d.max_reviewer_calls:,})")
    p.add_argument("--stop", choices=STOPS, default=d.stop,
                   help="stop when the greedy document is the target (solved), when a "
                        "monkey typed it (typed), both, or run the whole budget "
                        f"(default {d.stop})")
    p.add_argument("--threads", type=int_arg, default=None,
                   help="numba threads (default: all cores); results do not depend on it")
    p.add_argument("--reviewer-noise", type=_float, default=d.reviewer_noise, metavar="SIGMA",
                   help="Gaussian noise on every score the reviewer reports, σ in characters "
                        "(1/L of a hamming score) (default 0: a reviewer who never errs)")
    p.add_argument("--flip-rate", type=_float, default=d.flip_rate, metavar="EPS",
                   help="probability in [0, 0.5) that a binary verdict is wrong: exact "
                        "bananas' verdict, or a preference (default 0)")
    p.add_argument("--preferences", nargs="?", const="debiased", default=None,
                   choices=("naive", "debiased", "estimated"),
                   help="learn from pairwise preferences within each group instead of scores "
                        "(one reviewer call per pair): naive verdicts, debiased by the known "
                        "flip rate (the default when given without a value), or by a flip "
                        "rate estimated from repeated comparisons")
    add_common_out(p, "train.csv, train.json and convergence.png (default: a new "
                       "runs/train-YYYYmmdd-HHMMSS)")
    p.set_defaults(func=_cmd_train)


def _cmd_train(args) -> int:
    from ..alphabet import resolve
    from ..errors import check_memory
    from ..experiments import train_run
    from ..learn.metrics import METRICS
    from ..learn.train import TrainConfig, check
    from ..results import RunDir, check_out_dir, new_run_dir
    from .common import emit_json, target_text

    target = target_text(args)
    alpha = resolve(target, args.alphabet, args.alphabet_chars)
    cfg = TrainConfig(algo=args.algo, reward=args.reward, policy=args.policy, order=args.order,
                      monkeys=args.monkeys, max_monkeys=args.max_monkeys, troop=args.troop,
                      batch=args.batch, lr=args.lr,
                      optimizer=args.optimizer, kl_coef=args.kl_coef,
                      kl_estimator=args.kl_estimator, entropy_coef=args.entropy_coef,
                      epochs=args.epochs, max_reviewer_calls=args.max_reviewer_calls,
                      stop=args.stop, seed=args.seed, threads=args.threads,
                      reviewer_noise=args.reviewer_noise, flip_rate=args.flip_rate,
                      preferences=args.preferences)
    check(cfg, target, alpha)  # every refusal before anything touches the disk
    max_steps = cfg.max_reviewer_calls // cfg.batch if cfg.auto_monkeys else (
        cfg.max_reviewer_calls // (cfg.monkeys * cfg.batch))
    # per step: the metric columns (8 bytes each) and the step's row of train.csv
    check_memory(max_steps, 8 * len(METRICS) + 400,
                 "steps (--max-reviewer-calls ÷ (monkeys × batch))")
    out = new_run_dir("train") if args.out is None else args.out
    check_out_dir(out, args.overwrite, train_run.FILES)  # refuse before computing
    with RunDir(out, train_run.FILES, overwrite=args.overwrite):
        result = _train(cfg, target, alpha, quiet=args.json)
        config = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()
                  if k != "func"}
        path = train_run.write_outputs(result, out, config)
    if args.json:
        emit_json({**result.summary(), "out": str(out)})
    else:
        print(train_run.report(result))
        print(f"\nwrote {path}, {path.with_suffix('.json').name} and convergence.png "
              f"in {out}")
    return 0


def _train(cfg, target: str, alpha, quiet: bool):
    """:func:`monkeysim.learn.train.train` with a progress bar on stderr (reviewer calls; shown
    when the run lasts more than 2 s, on a terminal, unless ``quiet``)."""
    from ..experiments.runner import progress_bar
    from ..learn.train import train

    bar = progress_bar(cfg.max_reviewer_calls // (cfg.monkeys_max * cfg.batch), quiet,
                       "train", unit="step", delay=2.0)

    def progress(done: int, total: int, calls: int) -> None:
        bar.update(done - bar.n)
        bar.set_postfix_str(f"{calls:,} reviewer calls", refresh=False)

    try:
        return train(cfg, target, alpha, progress=progress)
    finally:
        bar.close()
