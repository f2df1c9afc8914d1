"""Command-line front end of the learning monkeys: ``monkeysim train`` (registered by
:mod:`monkeysim.cli.main`), its options built from
:class:`~monkeysim.learn.config.TrainConfig` by :mod:`monkeysim.cli.config_args`.

Helpers of :mod:`monkeysim.cli.main` are imported inside the functions, so importing this module
does not import the CLI (and the CLI can import this module at load time). Parses
arguments, calls the library, prints; no science here.
"""

from __future__ import annotations

from pathlib import Path

# --- train ----------------------------------------------------------------------------------

def add_parser(sub) -> None:
    """Register ``monkeysim train`` on the subparsers ``sub`` (with ``func=_cmd_train``): one
    option per field of :class:`~monkeysim.learn.config.TrainConfig`
    (:func:`~monkeysim.cli.config_args.add_config_options`)."""
    from ..learn.config import CHOICES, DEFAULT_LR, TrainConfig
    from .common import add_common_out, add_target_args, int_arg
    from .config_args import add_config_options, auto_or, number

    algos = CHOICES["algo"][0]
    lrs = ", ".join(f"{a} {DEFAULT_LR[(a, 'sgd')]:g}" for a in algos)
    p = sub.add_parser(
        "train", help=f"monkeys that learn from bananas ({', '.join(algos)})",
        description="Train monkeys with a character policy to type a target from the "
                    "reviewer's bananas, with a policy-gradient algorithm, until the greedy "
                    "(argmax) document is the target or the reviewer-call budget runs out. "
                    "Writes train.csv (one row per step, every metric of docs/metrics.md), "
                    "its JSON sidecar and convergence.png, and prints a summary. Every "
                    "option is a field of TrainConfig (monkeysim.learn.config).")
    add_target_args(p)
    add_config_options(
        p, TrainConfig, {k: v for k, (v, _) in CHOICES.items()}, skip=("seed",),
        int_type=int_arg,
        extra={"lr": {"type": auto_or(number), "help_extra": f"With sgd: {lrs}."},
               "monkeys": {"type": auto_or(int_arg)},
               "kl_coef": {"metavar": "BETA"}, "entropy_coef": {"metavar": "ALPHA"},
               "reviewer_noise": {"metavar": "SIGMA"}, "flip_rate": {"metavar": "EPS"},
               "preferences": {"nargs": "?", "const": "debiased", "help_extra":
                               "Given without a value: debiased."}})
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
    from .config_args import config_from_args

    target = target_text(args)
    alpha = resolve(target, args.alphabet, args.alphabet_chars)
    cfg = config_from_args(TrainConfig, args)
    check(cfg, target, alpha)  # every refusal before anything touches the disk
    # per step: the metric columns (8 bytes each) and the step's row of train.csv
    check_memory(cfg.max_steps, 8 * len(METRICS) + 400,
                 "steps (--max-reviewer-calls ÷ reviewer calls per step)")
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

    bar = progress_bar(cfg.max_steps, quiet, "train",
                       unit="step", delay=2.0)

    def progress(done: int, total: int, calls: int) -> None:
        bar.update(done - bar.n)
        bar.set_postfix_str(f"{calls:,} reviewer calls", refresh=False)

    try:
        return train(cfg, target, alpha, progress=progress)
    finally:
        bar.close()
