"""`monkeysim bench ...`: speed benchmarks that time baselines side by side and print ratios."""

from __future__ import annotations

import sys
from pathlib import Path

from ..errors import InvalidInput
from .common import Parser, add_bench_output, bench_output, check_bench_files, int_arg


def add_parser(sub) -> None:
    p = sub.add_parser("bench", help="speed benchmarks (baselines side by side, ratios)",
                       description="Benchmarks that measure baselines side by side in one "
                                   "process and print ratios.")
    bsub = p.add_subparsers(dest="bench", metavar="BENCH", required=True, parser_class=Parser)
    k = bsub.add_parser("keystrokes", help="keystrokes per second: kernel vs numpy, Python, "
                        "the old kernel and two ceilings (key drawing, table loads)")
    k.add_argument("--target", default="MONKEY", help="target text (default MONKEY)")
    k.add_argument("--monkeys", type=int_arg, default=1024, help="monkeys (default 1024)")
    k.add_argument("--budget", type=int_arg, default=1_000_000,
                   help="keystrokes per monkey (default 10^6)")
    k.add_argument("--repeats", type=int_arg, default=3,
                   help="timed repeats, best kept (default 3)")
    add_bench_output(k)
    k.set_defaults(func=_cmd_bench_keystrokes)
    m = bsub.add_parser("monkeys", help="throughput and peak memory vs monkey count")
    m.add_argument("--target", default="HI", help="short target (default HI)")
    m.add_argument("--max-monkeys", type=int_arg, default=10_000_000,
                   help="top of the 1, 10, 100, ... ladder (default 10^7)")
    m.add_argument("--budget", type=int_arg, default=2000,
                   help="keystrokes per monkey (default 2000)")
    add_bench_output(m)
    m.set_defaults(func=_cmd_bench_monkeys)
    add_bench_learning(bsub)
    c = bsub.add_parser("corpus", help="whole-corpus run: time and memory vs size, threads, "
                        "reviewer calls per credit level (needs the 'corpus' extra)")
    c.add_argument("--fractions", default="0.01,0.1,1", metavar="F,F,...",
                   help="fractions of the lines to type (default 0.01,0.1,1)")
    c.add_argument("--methods-fraction", type=float, default=1.0, metavar="F",
                   help="fraction of the lines for the credit-method rows (0 skips them; "
                        "default 1)")
    c.add_argument("--pretrained", type=int_arg, default=3, metavar="ORDER",
                   help="the credit rows are also run from the leave-one-play-out n-gram "
                        "start of this order (default 3)")
    c.add_argument("--no-thread-check", action="store_true",
                   help="skip the 1-thread repeat of the largest fraction")
    add_bench_output(c)
    c.add_argument("--figure", metavar="FILE", type=Path,
                   help="also draw the figure (time/memory vs size, calls per credit level)")
    c.set_defaults(func=_cmd_bench_corpus)


def _check_race(target: str, monkeys: int, budget: int, flag: str) -> None:
    """A race bench's target, monkey count (``flag``) and budget, before anything runs."""
    from ..alphabet import resolve
    from ..errors import check_memory, positive_int
    from ..typewriter import check_budget

    if not target:
        raise InvalidInput("--target is empty; give at least one character")
    resolve(target)
    monkeys = positive_int(monkeys, flag)
    check_budget(budget, monkeys, len(target), "stream")
    check_memory(monkeys, 9, flag)


def _cmd_bench_keystrokes(args) -> int:
    from ..errors import positive_int
    from ..experiments import bench_keystrokes as b

    _check_race(args.target, args.monkeys, args.budget, "--monkeys")
    positive_int(args.repeats, "--repeats")
    check_bench_files(args)
    res = b.run(target=args.target, monkeys=args.monkeys, budget=args.budget,
                repeats=args.repeats)
    return bench_output(args, res, b.report(res))


def _fractions(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(x) for x in text.split(","))
    except ValueError:
        values = ()
    if not values or not all(0 < v <= 1 for v in values):
        raise InvalidInput(f"--fractions must be comma-separated numbers in (0, 1], got {text!r}")
    return values


def _cmd_bench_corpus(args) -> int:
    from ..experiments import bench_corpus as b

    fractions = _fractions(args.fractions)
    if not 0 <= args.methods_fraction <= 1:
        raise InvalidInput(f"--methods-fraction must be in [0, 1], got {args.methods_fraction}")
    from ..errors import positive_int

    positive_int(args.pretrained, "pretrained ORDER")
    check_bench_files(args)
    res = b.run(fractions, args.methods_fraction, not args.no_thread_check, quiet=args.json,
                pretrained=args.pretrained)
    if args.figure is not None:
        from ..plots.corpus import corpus_figure
        from ..plots.figure import save

        save(corpus_figure(res), args.figure)
    return bench_output(args, res, b.report(res))


def _cmd_bench_monkeys(args) -> int:
    from ..experiments import bench_monkeys as b

    _check_race(args.target, args.max_monkeys, args.budget, "--max-monkeys")
    check_bench_files(args)
    res = b.run(target=args.target, max_monkeys=args.max_monkeys, budget=args.budget)
    return bench_output(args, res, b.report(res))


def add_bench_learning(bsub) -> None:
    """Register ``monkeysim bench learning`` (``bsub``: the bench subparsers)."""
    from .common import int_arg

    p = bsub.add_parser(
        "learning", help="reviewer calls until the greedy document is the weasel: every "
                         "algorithm vs weasel and coordinate search; numba vs numpy speed",
        description="Learning efficiency on the weasel sentence with hamming bananas: "
                    "reviewer calls until the greedy document is the target, median and "
                    "interquartile range over seeds, for every algorithm of `monkeysim train` "
                    "(with the ratio of its median to RLOO's and a 95% bootstrap interval) and "
                    "the baselines (Dawkins' weasel, latching and not; coordinate search; random "
                    "typing in theory), an exact-bananas row, and reviewer calls per second "
                    "of the numba trainer vs a plain numpy REINFORCE step.")
    p.add_argument("--seeds", type=int_arg, default=20, help="seeds per method (default 20)")
    p.add_argument("--seed0", type=int_arg, default=0, help="first seed (default 0)")
    p.add_argument("--max-reviewer-calls", type=int_arg, default=20_000,
                   help="budget per learning run (default 20,000)")
    p.add_argument("--repeats", type=int_arg, default=3,
                   help="timed repeats of the speed comparison, best kept (default 3)")
    p.add_argument("--no-speed", action="store_true", help="skip the speed comparison")
    add_bench_output(p)
    p.add_argument("--out", metavar="DIR", type=Path,
                   help="write bench_learning.json and bench_learning_runs.csv (+ sidecar) "
                        "into DIR")
    p.add_argument("--overwrite", action="store_true", help="replace results in --out")
    p.set_defaults(func=_cmd_bench_learning)


def _cmd_bench_learning(args) -> int:
    from ..errors import positive_int
    from ..experiments import bench_learning as b
    from ..results import RunDir, check_out_dir
    from ..rng import check_seed
    from .common import bench_output, check_bench_files

    seeds = positive_int(args.seeds, "seeds")
    check_seed(args.seed0)
    budget = positive_int(args.max_reviewer_calls, "max reviewer calls")
    repeats = positive_int(args.repeats, "repeats")
    if budget < 16:
        raise InvalidInput(f"max reviewer calls {budget} is below one step (16 documents)")
    check_bench_files(args)
    if args.out is None:
        res = b.run(seeds=seeds, seed0=args.seed0, budget=budget, repeats=repeats,
                    with_speed=not args.no_speed)
        return bench_output(args, res, b.report(res))
    check_out_dir(args.out, args.overwrite, b.FILES)
    with RunDir(args.out, b.FILES, overwrite=args.overwrite):
        res = b.run(seeds=seeds, seed0=args.seed0, budget=budget, repeats=repeats,
                    with_speed=not args.no_speed)
        path = b.write_outputs(res, args.out, {k: (str(v) if isinstance(v, Path) else v)
                                               for k, v in vars(args).items() if k != "func"})
    print(f"wrote {path} and {b.FILES[1]} in {args.out}", file=sys.stderr)
    return bench_output(args, res, b.report(res))
