"""`monkeysim compare`: the main job (fewer monkeys or less time, with and without bananas)."""

from __future__ import annotations

import sys
from pathlib import Path

from ..errors import InvalidInput
from .common import check_resume_overwrite, emit_json, floats, int_arg, words


def add_parser(sub) -> None:
    p = sub.add_parser(
        "compare", help="the main job: fewer monkeys or less time, with and without bananas",
        description="Race random monkeys (no bananas; exact theory everywhere, simulation "
                    "where affordable) and learning monkeys (exact, prefix, hamming bananas; "
                    "independent and as a troop) to prefixes of a Shakespeare line and the "
                    "weasel sentence, across monkey counts, each setting at its own step size "
                    "(tuned on tuning seeds disjoint from the reported ones). Writes "
                    "compare.csv, frontier.csv (steps vs documents, the critical troop size), "
                    "convergence.csv, tuning.csv (each + JSON sidecar), summary.json (every "
                    "quoted number with its 95% bootstrap interval) and seven figures, and "
                    "prints a table and a short answer. Checkpoints every finished cell; "
                    "--resume continues an interrupted run with byte-identical results, on "
                    "either backend.")
    size = p.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="a seconds-long version (for tests)")
    size.add_argument("--full", action="store_true",
                      help="a bigger ladder: 16 lengths, N up to 4096 (racing monkeys up to 256), "
                           "20 seeds, budget 10^7 (most of an hour on 2 cores; see the README)")
    p.add_argument("--config", metavar="FILE.toml", type=Path,
                   help="set any CompareConfig field (unknown keys are errors)")
    p.add_argument("--line", metavar="TEXT|NAME", help="the line whose prefixes are typed "
                   "(built-in name or text; default hamlet)")
    p.add_argument("--seeds", type=int_arg, help="reported seeds per measured cell; the 95%% "
                   "intervals resample them (default 10; --quick 3, --full 20)")
    p.add_argument("--tune-seeds", type=int_arg, help="tuning seeds of the last rung of "
                   "successive halving (the first rung has 2; default 16; --quick 2, on the "
                   "grid 4, 16, ..., 4096); "
                   "disjoint from the reported seeds")
    p.add_argument("--lr-grid", metavar="LR,LR,...", type=floats,
                   help="increasing log grid of step sizes searched per setting "
                   "(default 1,2,4,...,65536; --full 0.25 ... 262144)")
    p.add_argument("--regimes", metavar="R,R", type=words,
                   help="regimes of the monkey ladder: independent,troop (default both)")
    p.add_argument("--threads", type=int_arg, default=None,
                   help="numba threads (default: all cores; with --backend dask: per worker, "
                   "default cores ÷ workers); results do not depend on it")
    p.add_argument("--backend", choices=("local", "dask"), default="local",
                   help="where the cells run: here, or as tasks on a Dask cluster (extra "
                   "'distributed'); the bytes written are the same (default local)")
    p.add_argument("--workers", type=int_arg, default=None,
                   help="--backend dask: start a local cluster of W worker processes "
                   "(default 2)")
    p.add_argument("--scheduler", metavar="ADDRESS", default=None,
                   help="--backend dask: join a running cluster, e.g. tcp://HOST:8786")
    p.add_argument("--seed", type=int_arg, default=0, help="root seed (default 0)")
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

    from ..experiments import compare
    from ..experiments.compare_config import check_theory, load_toml, make_config
    from ..rng import check_seed
    from ..typewriter import check_threads

    check_resume_overwrite(args)
    preset = "quick" if args.quick else "full" if args.full else None
    toml = load_toml(args.config) if args.config is not None else None
    cfg = make_config(preset, toml, line=args.line, seeds=args.seeds,
                      tune_seeds=args.tune_seeds, lr_grid=args.lr_grid, regimes=args.regimes)
    check_seed(args.seed)
    compare.targets(cfg)  # validate lengths against the line before touching the disk
    check_theory(cfg)
    compare.check_cells(cfg)  # every cell's configuration, as the cell would build it
    if args.backend == "local" and (args.workers is not None or args.scheduler is not None):
        raise InvalidInput("--workers and --scheduler go with --backend dask")
    if args.backend == "local":
        check_threads(args.threads)
    backend = None
    if args.backend == "dask":  # connects to a scheduler now: fails before any write
        from ..experiments.dask_backend import dask_backend

        backend = dask_backend(workers=args.workers, scheduler=args.scheduler,
                               threads=args.threads)
    try:
        return _run_compare(args, cfg, backend)
    finally:
        if backend is not None:
            backend.close()


def _run_compare(args, cfg, backend) -> int:
    from ..experiments import compare, compare_answer, compare_report
    from ..experiments.runner import verify_manifest
    from ..results import RunDir, check_out_dir, run_out_dir

    out = run_out_dir(args.out, "compare", args.resume)
    names = compare_report.FILES + ["manifest.json", "cells", "tuning"]
    check_out_dir(out, args.overwrite, names, resume=args.resume)
    if args.resume:  # another command's run or other options: refused before announcing
        verify_manifest(out, compare.run_manifest(cfg, args.seed))
    with RunDir(out, names, overwrite=args.overwrite, resume=args.resume,
                subdirs=["cells", "tuning"]):
        print(f"writing into {out}", file=sys.stderr)
        result = compare.run(cfg, out, seed=args.seed, resume=args.resume,
                             threads=args.threads if backend is None else None,
                             quiet=args.quiet or args.json,
                             backend=None if backend is None else backend.cells)
    summary = result.summary or compare_report.summarize(result)
    if args.json:
        emit_json({"out": str(out), **summary})
    else:
        print(compare_answer.table(summary))
        took = (f"{result.seconds:.1f} s" if result.seconds is not None else
                "resumed from checkpoints (the time of the earlier runs is not recorded)")
        print(f"\n{took}; results and figures in {out}")
    return 0
