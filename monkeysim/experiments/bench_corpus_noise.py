"""The complete works under noise: all 38 plays with a reviewer whose scores err.

Every row is one ``monkeysim shakespeare --all`` in a fresh subprocess (its peak memory is its
own; see :func:`~monkeysim.experiments.bench_corpus.shakespeare_row`). The noiseless run and
the noisy run (σ characters of Gaussian noise on every score, error δ per inference) go back
to back, so their time ratio is measured under the same load; the noisy run is repeated on
1 numba thread (speed-up, identical results) and on a local Dask cluster of 2 workers
(identical results). A σ sweep on a fraction of the lines shows how the cost grows with noise.
Reported per row: the lines the run claims typed beside the lines checked against the corpus,
reviewer calls per character (and the re-scores among them), seconds and peak memory.
"""

from __future__ import annotations

import os

from ..learn.corpus import DEFAULT_NOISY_CREDIT
from .bench_corpus import SAME, shakespeare_row


def _shakespeare_row(*args, **kwargs) -> dict:
    """:func:`shakespeare_row` at the noisy default credit level (also without noise, so the
    noiseless and noisy rows compare one learner)."""
    return shakespeare_row(*args, credit=DEFAULT_NOISY_CREDIT, **kwargs)


KEEP = ("lines", "chars", "lines_solved", "lines_claimed_exact", "lines_exact_checked",
        "lines_wrong", "lines_wrong_claimed", "sha256_match", "reviewer_calls",
        "reviewer_calls_per_char", "reviewer_rescores", "credit_resets", "keystrokes",
        "bananas", "seconds", "typing_seconds", "peak_rss_mb", "threads", "workers",
        "backend", "sha256_typed")


def _row(d: dict, sigma: float) -> dict:
    row = {"sigma": sigma, "fraction": d["fraction"], **{k: d[k] for k in KEEP if k in d},
           "load_average_1min": os.getloadavg()[0]}  # the machine may be shared
    exact = d.get("lines_exact_checked", d["lines_solved"] if d["sha256_match"] else None)
    row["fraction_lines_exact"] = None if exact is None else exact / d["lines"]
    row["rescores_per_char"] = d.get("reviewer_rescores", 0) / d["chars"]
    return row


def run(sigma: float = 0.5, delta: float = 1e-3, fraction: float = 1.0,
        sweep=(0.25, 0.5, 1.0), sweep_fraction: float = 0.1, thread_check: bool = True,
        dask_check: bool = True, timing_repeats: int = 1) -> dict:
    """The noiseless and noisy runs back to back (and ``timing_repeats`` more pairs in the
    other order), then the checks and the σ sweep."""
    from ..corpus import play_names

    play_names()  # InvalidInput with the install hint when the 'corpus' extra is missing
    noise = ("--reviewer-noise", repr(sigma), "--delta", repr(delta))
    _shakespeare_row(0.001)  # compile or load both kernels' caches before timing
    _shakespeare_row(0.001, extra=noise)
    clean = _row(_shakespeare_row(fraction), 0.0)
    noisy_d = _shakespeare_row(fraction, extra=noise)
    noisy = _row(noisy_d, sigma)
    res = {"sigma": sigma, "delta": delta, "fraction": fraction, "noiseless": clean,
           "noisy": noisy,
           "ratios": {"reviewer_calls_per_char": noisy["reviewer_calls_per_char"]
                      / clean["reviewer_calls_per_char"],
                      "seconds": noisy["seconds"] / clean["seconds"],
                      "typing_seconds": noisy["typing_seconds"] / clean["typing_seconds"]}}
    # the machine may be shared: time the pair again in the other order
    res["timing"] = [{"order": "noiseless, noisy", "seconds_noiseless": clean["seconds"],
                      "seconds_noisy": noisy["seconds"]}]
    for _ in range(timing_repeats):
        noisy_s = _shakespeare_row(fraction, extra=noise)["seconds"]
        res["timing"].append({"order": "noisy, noiseless", "seconds_noisy": noisy_s,
                              "seconds_noiseless": _shakespeare_row(fraction)["seconds"]})
    for t in res["timing"]:
        t["ratio"] = t["seconds_noisy"] / t["seconds_noiseless"]
    if thread_check:
        one = _shakespeare_row(fraction, threads=1, extra=noise)
        res["threads"] = {"seconds_1": one["seconds"], "seconds_n": noisy["seconds"],
                          "threads_n": noisy["threads"],
                          "speedup": one["seconds"] / noisy["seconds"],
                          "identical": all(one[k] == noisy_d[k] for k in SAME)}
    if dask_check:
        d = _shakespeare_row(fraction, extra=(*noise, "--backend", "dask", "--workers", "2"))
        res["dask"] = {"seconds": d["seconds"], "workers": d["workers"],
                       "peak_rss_mb": d["peak_rss_mb"],
                       "worker_peak_rss_mb": d.get("worker_peak_rss_mb"),
                       "identical": all(d[k] == noisy_d[k] for k in SAME)}
    res["sweep"] = [_row(_shakespeare_row(sweep_fraction, extra=(
        "--reviewer-noise", repr(s), "--delta", repr(delta))) if s > 0
        else _shakespeare_row(sweep_fraction), s) for s in (0.0, *sweep)]
    return res


def report(res: dict) -> str:
    """The runs as a short table (units in the headers)."""
    head = (f"{'σ (chars)':>9} {'fraction':>8} {'lines':>8} {'claimed':>8} {'exact':>8} "
            f"{'wrong':>6} {'exact %':>8} {'calls/char':>10} {'re-scores/char':>14} "
            f"{'seconds':>8} {'peak MB':>8}")

    def line(r):
        exact = r.get("lines_exact_checked", r["lines_solved"])
        pct = "" if r["fraction_lines_exact"] is None else f"{100 * r['fraction_lines_exact']:.3f}"
        return (f"{r['sigma']:>9g} {r['fraction']:>8g} {r['lines']:>8,} "
                f"{r.get('lines_claimed_exact', r['lines_solved']):>8,} {exact:>8,} "
                f"{r.get('lines_wrong', 0):>6,} {pct:>8} {r['reviewer_calls_per_char']:>10.2f} "
                f"{r['rescores_per_char']:>14.2f} {r['seconds']:>8.1f} "
                f"{r['peak_rss_mb']:>8.0f}")

    out = [f"all 38 plays, noiseless then σ = {res['sigma']:g} characters (δ = "
           f"{res['delta']:g}), back to back; one process per row (load average after the "
           f"runs: {res['noiseless']['load_average_1min']:.1f}, "
           f"{res['noisy']['load_average_1min']:.1f})", head,
           line(res["noiseless"]), line(res["noisy"]),
           f"noisy / noiseless: reviewer calls per character "
           f"{res['ratios']['reviewer_calls_per_char']:.2f}x, seconds "
           f"{res['ratios']['seconds']:.2f}x (typing alone "
           f"{res['ratios']['typing_seconds']:.2f}x)"]
    out += [f"  timed again ({t['order']}): {t['seconds_noiseless']:.1f} s noiseless, "
            f"{t['seconds_noisy']:.1f} s noisy: {t['ratio']:.2f}x" for t in res["timing"][1:]]
    if "threads" in res:
        t = res["threads"]
        out.append(f"noisy on 1 thread: {t['seconds_1']:.1f} s, {t['threads_n']} threads "
                   f"{t['speedup']:.2f}x faster, identical: {t['identical']}")
    if "dask" in res:
        d = res["dask"]
        out.append(f"noisy on Dask ({d['workers']} workers): {d['seconds']:.1f} s, identical "
                   f"to local: {d['identical']}")
    out += ["", f"σ sweep on the first {res['sweep'][0]['fraction']:g} of the lines", head]
    out += [line(r) for r in res["sweep"]]
    return "\n".join(out)
