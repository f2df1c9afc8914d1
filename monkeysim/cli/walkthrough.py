"""`monkeysim walkthrough`: the course note step by step (registered by :mod:`monkeysim.cli.main`).

Helpers of :mod:`monkeysim.cli.main` are imported inside the functions, so importing this module
does not import the CLI (and the CLI can import this module at load time).
"""

from __future__ import annotations

import sys


def add_parser(sub) -> None:
    """Register ``walkthrough`` on the subparsers ``sub`` (with ``func=run``)."""
    from .common import add_common_out, int_arg

    p = sub.add_parser(
        "walkthrough", help="the course note's RLHF steps: reviewer, rollouts, expected "
        "reward, policy gradient",
        description="Walk through the course note: the reviewer's scores (incl. the reward "
                    "model's -10000), the query and response tables, a sampled rollout, its "
                    "empirical expected reward vs the exact value, the estimator's 1/sqrt(NK) "
                    "convergence and 95% interval coverage, and policy-gradient updates of a "
                    "table policy (expected reward up, KL to the pretrained policy growing). "
                    "Writes walkthrough.csv (+ JSON sidecar), walkthrough.png and "
                    "summary.json.")
    p.add_argument("--queries", type=int_arg, default=6, metavar="N",
                   help="queries in the shown rollout (default 6, at least 2)")
    p.add_argument("--responses", type=int_arg, default=3, metavar="K",
                   help="responses per query in the shown rollout (default 3)")
    p.add_argument("--repetitions", type=int_arg, default=400, metavar="R",
                   help="rollouts per point of the convergence study (default 400)")
    p.add_argument("--updates", type=int_arg, default=30,
                   help="policy-gradient updates (default 30)")
    p.add_argument("--lr", type=float, default=5.0, help="learning rate (default 5)")
    p.add_argument("--baseline", choices=("loo", "none"), default="loo",
                   help="baseline of the score-function gradient: leave-one-out mean of the "
                        "other responses to the same query, or none (default loo)")
    add_common_out(p, "walkthrough.csv (+ JSON sidecar), walkthrough.png and summary.json "
                       "(default: a new runs/walkthrough-YYYYmmdd-HHMMSS)")
    p.set_defaults(func=run)



def check_sizes(cfg) -> None:
    """Refuse counts whose arrays (and printed rollout) would not fit in memory."""
    from ..errors import check_memory

    # the shown rollout: its draws, rewards and the text of every response in the report
    check_memory(cfg.queries * cfg.responses, 300, "--queries × --responses")
    # the convergence study: max(ladder) × repetitions rollouts of ladder_k responses
    check_memory(cfg.repetitions, max(cfg.ladder) * cfg.ladder_k * 48, "--repetitions")
    check_memory(cfg.updates, 2_000, "--updates")


def run(args) -> int:
    """Run the walkthrough for parsed ``args``; returns the exit status."""
    from ..experiments import walkthrough
    from ..results import RunDir, check_out_dir, new_run_dir
    from ..rng import check_seed
    from .common import emit_json

    check_seed(args.seed)
    cfg = walkthrough.WalkthroughConfig(
        queries=args.queries, responses=args.responses, repetitions=args.repetitions,
        updates=args.updates, lr=args.lr, baseline=args.baseline)
    check_sizes(cfg)
    out = new_run_dir("walkthrough") if args.out is None else args.out
    check_out_dir(out, args.overwrite, walkthrough.FILES)  # refuse before computing
    with RunDir(out, walkthrough.FILES, overwrite=args.overwrite):
        res = walkthrough.run(cfg, seed=args.seed)
        path = walkthrough.write_outputs(res, out, overwrite=True)
    for line in res.warnings:
        print(line, file=sys.stderr)
    if args.json:
        emit_json({"out": str(out), **res.as_json()})
    else:
        print(walkthrough.report(res))
        print(f"wrote {path}, {path.with_suffix('.json')}, {out / 'walkthrough.png'} and "
              f"{out / 'summary.json'}")
    return 0
