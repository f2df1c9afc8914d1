"""`monkeysim noise`: how much a reviewer who errs costs (registered by :mod:`monkeysim.cli.main`).

Helpers of :mod:`monkeysim.cli.main` are imported inside the functions, so importing this module
does not import the CLI (and the CLI can import this module at load time).
"""

from __future__ import annotations

import sys


def add_parser(sub) -> None:
    """Register ``noise`` on the subparsers ``sub`` (with ``func=run``)."""
    from .common import add_common_out, int_arg

    p = sub.add_parser(
        "noise", help="reviewers who err: calls until solved vs score noise and flipped "
        "preferences, the capacity bound, and the KL leash",
        description="Reviewer calls until the weasel sentence is solved against Gaussian "
                    "score noise σ (REINFORCE, RLOO, GRPO, PPO, Dawkins' weasel) and against "
                    "the flip rate ε of a preference reviewer (naive, de-biased and estimated "
                    "preference learners), every learner at every level at its own step size "
                    "(tuned on tuning seeds), beside the information-theoretic bound "
                    "L·log2(A)/capacity; and preference learners with a KL leash at a flip "
                    "rate: final KL and expected reward vs the noiseless learner. Writes "
                    "noise.csv (+ JSON sidecar), noise.png and summary.json; checkpoints "
                    "every finished setting (--resume continues).")
    size = p.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="a seconds-long version (for tests)")
    size.add_argument("--full", action="store_true",
                      help="30 seeds, 5 tuning seeds, a wider grid, 40 leash seeds")
    p.add_argument("--seeds", type=int_arg, default=None,
                   help="reported seeds per setting (default 10; --quick 2, --full 30)")
    p.add_argument("--tune-seeds", type=int_arg, default=None,
                   help="tuning seeds per step size (default 3; --quick 1, --full 5)")
    p.add_argument("--budget", type=int_arg, default=None, metavar="CALLS",
                   help="reviewer calls per run before it is censored (default 400000; "
                        "--quick 40000, --full 10^6)")
    p.add_argument("--leash-seeds", type=int_arg, default=None,
                   help="seeds per KL-leash condition (default 20; --quick 4, --full 40)")
    p.add_argument("--resume", action="store_true", help="continue the interrupted run in --out")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_common_out(p, "noise.csv (+ JSON sidecar), noise.png and summary.json (default: a new "
                       "runs/noise-YYYYmmdd-HHMMSS)")
    p.set_defaults(func=run)


def run(args) -> int:
    """Run the study for parsed ``args``; returns the exit status."""
    from ..experiments import noise
    from ..results import RunDir, check_out_dir, run_out_dir
    from ..rng import check_seed
    from .common import check_resume_overwrite, emit_json

    check_resume_overwrite(args)
    check_seed(args.seed)
    cfg = (noise.NoiseConfig.quick() if args.quick else noise.NoiseConfig.full() if args.full
           else noise.NoiseConfig())
    cfg = noise.with_sizes(cfg, seeds=args.seeds, tune_seeds=args.tune_seeds,
                           budget=args.budget, leash_seeds=args.leash_seeds)
    out = run_out_dir(args.out, "noise", args.resume)
    names = noise.FILES + noise.CHECKPOINTS
    check_out_dir(out, args.overwrite, names, resume=args.resume)
    if args.resume:  # another command's run or other options: refused before announcing
        from ..experiments.runner import verify_manifest

        verify_manifest(out, noise.manifest(cfg, args.seed))
    with RunDir(out, names, overwrite=args.overwrite, resume=args.resume, subdirs=["cells"]):
        if not args.json:
            print(f"writing into {out}", file=sys.stderr)
        res = noise.run(cfg, out, seed=args.seed, resume=args.resume,
                        quiet=args.quiet or args.json)
        path = noise.write_outputs(res, out)
    if args.json:
        emit_json({"out": str(out), **res.as_json()})
    else:
        print(noise.report(res))
        print(f"wrote {path}, {path.with_suffix('.json')}, {out / 'noise.png'} and "
              f"{out / 'summary.json'}")
    return 0
