"""`monkeysim shakespeare`: monkeys type every line of the plays from the reviewer's scores.

Registered by :mod:`monkeysim.cli.main`; CLI helpers are imported inside the functions, so
importing this module does not import the CLI.
"""

from __future__ import annotations


def add_parser(sub) -> None:
    """Register ``shakespeare`` on the subparsers ``sub`` (with ``func=run``)."""
    from ..learn.corpus import CREDITS, DEFAULT_NOISY_CREDIT, LearnSettings
    from .common import add_common_out, int_arg

    d = LearnSettings()
    p = sub.add_parser(
        "shakespeare", help="monkeys type every line of the plays from the reviewer's scores",
        description="Monkeys type each line of dialogue until the reviewer's scores prove "
                    "the line: by default count-split (count each key, then find its "
                    "positions by binary splitting with exact counts; it does not learn, so "
                    "--monkeys and --lr do not apply), or a troop of learning monkeys with a "
                    "learning --credit level, until the greedy document equals the line; at "
                    "the end "
                    "the typed text is checked against the corpus (sha256). Lines go through "
                    "in chunks, each checkpointed in --out, so --resume continues a killed "
                    "run with identical results. Default: the small built-in excerpt; "
                    "--plays/--all need the optional extra: pip install -e '.[corpus]'.")
    p.add_argument("--plays", metavar="NAMES", default=None,
                   help="only these plays, comma-separated (e.g. hamlet,macbeth)")
    p.add_argument("--all", action="store_true", dest="all_plays",
                   help="all 38 plays of the corpus (optional extra 'corpus')")
    p.add_argument("--excerpt", action="store_true",
                   help="the built-in excerpt (the default without --plays/--all)")
    p.add_argument("--fraction", type=float, default=1.0, metavar="F",
                   help="type only the first fraction F (0 < F <= 1) of the selected lines "
                        "(default 1)")
    p.add_argument("--monkeys", type=int_arg, default=d.monkeys, metavar="N",
                   help=f"monkeys in the troop of each line; each types one document per "
                        f"step (default {d.monkeys})")
    p.add_argument("--reward", default="hamming",
                   help="the reviewer: hamming (per-character matches, the only kind the "
                        "corpus run supports)")
    p.add_argument("--credit", default=None,
                   help=f"credit assignment: {' | '.join(CREDITS)} (default {d.credit}, "
                        f"{DEFAULT_NOISY_CREDIT} with --reviewer-noise; plain = group "
                        "REINFORCE, the reference; count-split counts keys and splits their "
                        "positions with exact scores, without a policy)")
    p.add_argument("--pretrained", type=int_arg, default=None, metavar="ORDER",
                   help="start from a character n-gram model of order ORDER (1, 2, 3, ...) "
                        "fitted on the other plays only (leave one play out): the learning "
                        "levels' initial policy, count-split's choice of questions "
                        "(default: the uniform start)")
    p.add_argument("--lr", type=float, default=d.lr,
                   help=f"step size on the logits (default {d.lr})")
    p.add_argument("--max-reviewer-calls", type=int_arg, default=d.max_reviewer_calls,
                   metavar="C", help=f"budget per line (default {d.max_reviewer_calls})")
    p.add_argument("--reviewer-noise", type=float, default=d.reviewer_noise, metavar="SIGMA",
                   help="Gaussian noise on every score the reviewer reports, σ in characters "
                        "(1/L of a hamming score); credit then rests on sequential tests "
                        "(default 0: a reviewer who never errs)")
    p.add_argument("--delta", type=float, default=d.delta, metavar="DELTA",
                   help=f"with noise: error chance in (0, 1) allowed to each settle/drop "
                        f"inference and to each line's claim to be typed (default {d.delta})")
    p.add_argument("--chunk-lines", type=int_arg, default=1024, metavar="K",
                   help="lines per chunk: the unit of checkpoints and of Dask tasks "
                        "(default 1024; results do not depend on it)")
    p.add_argument("--threads", type=int_arg, default=None,
                   help="numba threads per process (default: all cores / workers)")
    p.add_argument("--backend", choices=("local", "dask"), default="local",
                   help="local (this process) or dask (optional extra 'distributed')")
    p.add_argument("--workers", type=int_arg, default=None, metavar="W",
                   help="dask: start a local cluster of W worker processes (default 2)")
    p.add_argument("--scheduler", metavar="ADDRESS", default=None,
                   help="dask: join the cluster whose scheduler is at ADDRESS "
                        "(e.g. tcp://10.0.0.5:8786)")
    p.add_argument("--resume", action="store_true",
                   help="continue the interrupted run in --out")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_common_out(p, "manifest.json, chunks/, typed.txt, summary.json and run.json (default: "
                      "a new runs/shakespeare-YYYYmmdd-HHMMSS)")
    p.set_defaults(func=run)


def run(args) -> int:
    """Run for parsed ``args``; returns the exit status.

    Every option, the corpus selection, the memory a line's troop needs and ``--out`` are
    checked before anything is written; the run then holds ``--out``'s lock (RunDir)."""
    import os

    from .. import corpus
    from ..errors import InvalidInput, check_memory
    from ..experiments import shakespeare
    from ..experiments.runner import verify_manifest
    from ..learn.corpus import LearnSettings
    from ..results import RunDir, check_out_dir, run_out_dir
    from ..typewriter import check_threads
    from .common import check_resume_overwrite, emit_json

    check_resume_overwrite(args)
    plays, source = shakespeare.check_source(args.plays, args.all_plays, args.excerpt)
    learn = LearnSettings(monkeys=args.monkeys, lr=args.lr, credit=args.credit,
                          max_reviewer_calls=args.max_reviewer_calls,
                          reviewer_noise=args.reviewer_noise, delta=args.delta,
                          pretrained=args.pretrained)
    config = shakespeare.ShakespeareConfig(learn=learn, reward=args.reward,
                                           chunk_lines=args.chunk_lines, seed=args.seed)
    if args.backend == "local" and (args.workers is not None or args.scheduler is not None):
        raise InvalidInput("--workers and --scheduler go with --backend dask")
    if args.workers is not None and args.scheduler is not None:
        raise InvalidInput("give either --workers W (a local cluster) or --scheduler ADDRESS, "
                           "not both")
    if not 0 < args.fraction <= 1:
        raise InvalidInput(f"--fraction must be in (0, 1], got {args.fraction}")
    if args.backend == "local":
        check_threads(args.threads)
    lines = corpus.load(plays, source=source)
    lines = lines[:max(1, round(args.fraction * len(lines)))]
    if args.pretrained is not None:
        from ..learn.pretrained import check_order

        check_order(args.pretrained, corpus.summarize(lines).alphabet_size)
    longest = max(len(x.text) for x in lines)
    # each thread learns one line at a time: G documents and slots of the longest line
    check_memory(args.monkeys, 9 * longest * (args.threads or os.cpu_count() or 1),
                 "--monkeys")
    out = run_out_dir(args.out, "shakespeare", args.resume)
    check_out_dir(out, args.overwrite, shakespeare.FILES, resume=args.resume)
    if args.resume:
        alphabet = corpus.summarize(lines).alphabet
        verify_manifest(out, shakespeare.manifest_for(lines, alphabet, config, source))
    if args.backend == "dask":  # connects to a scheduler now: fails before any write
        from ..experiments.dask_backend import dask_backend

        backend = dask_backend(workers=args.workers, scheduler=args.scheduler,
                               threads=args.threads)
    else:
        backend = shakespeare.local_backend(args.threads)
    try:
        with RunDir(out, shakespeare.FILES, overwrite=args.overwrite, resume=args.resume,
                    subdirs=["chunks"]):
            summary = shakespeare.run(lines, config, out, source=source, resume=args.resume,
                                      backend=backend, quiet=args.quiet or args.json,
                                      announce=f"writing into {out}")
    finally:
        getattr(backend, "close", lambda: None)()  # a Dask client must not outlive the run
    if args.json:
        emit_json(summary)
    else:
        print(shakespeare.report(summary))
    return 0 if summary["sha256_match"] else 1
