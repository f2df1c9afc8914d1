"""`monkeysim type`: race random monkeys to a target; measured vs exact theory."""

from __future__ import annotations

from .common import add_common_out, add_target_args, emit_json, int_arg, target_text


def add_parser(sub) -> None:
    p = sub.add_parser(
        "type", help="race random monkeys to a target; measured vs exact theory",
        description="Race N random monkeys (no bananas) to type a target and compare the "
                    "measured keystrokes with the exact theory. Stream mode: keys until the "
                    "target appears as a substring; document mode: whole documents of "
                    "len(target) keys until one is exactly the target.")
    add_target_args(p)
    p.add_argument("--monkeys", type=int_arg, default=1000, help="number of monkeys (default 1000)")
    p.add_argument("--budget", type=int_arg, default=10_000_000,
                   help="keystrokes per monkey before it is censored (default 10^7)")
    p.add_argument("--mode", choices=("stream", "document"), default="stream",
                   help="stream (substring) or document (exact documents) (default stream)")
    p.add_argument("--threads", type=int_arg, default=None,
                   help="numba threads (default: all cores); results do not depend on it")
    add_common_out(p, "race.csv (one row per monkey) and race.json")
    p.set_defaults(func=_cmd_type)


def _cmd_type(args) -> int:
    from ..alphabet import resolve
    from ..experiments import typing_run
    from ..results import RunDir, check_out_dir

    target = target_text(args)
    alphabet = resolve(target, args.alphabet, args.alphabet_chars)
    typing_run.check(target, alphabet, monkeys=args.monkeys, budget=args.budget,
                     mode=args.mode, threads=args.threads, rows=args.out is not None)
    if args.out is None:
        race, summary = typing_run.run(target, alphabet=alphabet, monkeys=args.monkeys,
                                       budget=args.budget, mode=args.mode, seed=args.seed,
                                       threads=args.threads, quiet=args.json)
    else:
        check_out_dir(args.out, args.overwrite, typing_run.FILES)  # refuse before computing
        with RunDir(args.out, typing_run.FILES, overwrite=args.overwrite):
            race, summary = typing_run.run(target, alphabet=alphabet, monkeys=args.monkeys,
                                           budget=args.budget, mode=args.mode, seed=args.seed,
                                           threads=args.threads, quiet=args.json)
            config = {k: v for k, v in vars(args).items() if k != "func"}
            path = typing_run.write_outputs(race, summary, args.out, True, config)
    if args.json:
        emit_json(summary.as_json())
    else:
        print(typing_run.report(summary))
        if args.out is not None:
            print(f"\nwrote {path} and {path.with_suffix('.json')}")
    return 0
