"""Figure of `monkeysim bench corpus` (Agg backend, ``matplotlib.figure.Figure``).

Left: seconds spent typing and peak memory against the characters typed (1 %, 10 %, 100 %
of the lines): time grows linearly (dotted: proportional to characters), memory stays flat.
Right: reviewer calls per character for each credit level, plain group REINFORCE first,
with the goal line.
Save with :func:`monkeysim.plots.figure.save`.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

GOAL_CALLS_PER_CHAR = 8


def corpus_figure(res: dict) -> Figure:
    """Two panels from the result of :func:`monkeysim.experiments.bench_corpus.run`."""
    fig = Figure(figsize=(12, 4.6))
    ax = fig.add_subplot(1, 2, 1)
    rows = res["scaling"]
    chars = np.array([r["chars"] for r in rows], float)
    secs = np.array([r["typing_seconds"] for r in rows])
    mem = np.array([r["peak_rss_mb"] for r in rows])
    ax.loglog(chars, secs, "o-", color="tab:blue", label="seconds typing")
    ax.loglog(chars, secs[-1] * chars / chars[-1], ":", color="tab:blue",
              label="∝ characters")
    ax.set_xlabel("characters typed (first 1 %, 10 %, 100 % of 38 plays)")
    ax.set_ylabel("wall time (s)", color="tab:blue")
    ax2 = ax.twinx()
    ax2.semilogx(chars, mem, "s--", color="tab:red", label="peak memory")
    ax2.set_ylim(0, max(320.0, 1.1 * mem.max()))
    ax2.set_ylabel("peak memory (MB)", color="tab:red")
    ax.set_title("time grows with the text, memory does not")
    ax.legend(loc="upper left", fontsize=8)
    ax2.legend(loc="lower right", fontsize=8)
    if "methods" in res:
        bx = fig.add_subplot(1, 2, 2)
        names = [r["credit"] + ("" if r.get("start", "uniform") == "uniform" else
                                "\n" + r["start"]) for r in res["methods"]]
        calls = [r["reviewer_calls_per_char"] for r in res["methods"]]
        bars = bx.bar(names, calls, color=["gray"] + [
            "tab:green" if r.get("start", "uniform") == "uniform" else "tab:orange"
            for r in res["methods"][1:]])
        for b, c in zip(bars, calls, strict=True):
            bx.annotate(f"{c:.1f}", (b.get_x() + b.get_width() / 2, c), ha="center",
                        va="bottom", fontsize=9)
        bx.axhline(GOAL_CALLS_PER_CHAR, color="black", ls="--", lw=1,
                   label=f"goal ≤ {GOAL_CALLS_PER_CHAR}")
        if "bound" in res:
            bx.axhline(res["bound"]["calls_per_char"], color="tab:purple", ls=":", lw=1.5,
                       label=f"information bound {res['bound']['calls_per_char']:.2f} "
                             "(L·log2 A / log2(L+1))")
        if "bound_pretrained" in res:
            b = res["bound_pretrained"]
            bx.axhline(b["calls_per_char"], color="tab:orange", ls=":", lw=1.5,
                       label=f"bound with the order-{b['order']} model "
                             f"{b['calls_per_char']:.2f}")
        frac = res["methods"][0]["fraction"]
        bx.set_ylim(0, 1.3 * max(calls))  # room for the legend above the bars
        bx.set_ylabel("reviewer calls per character")
        bx.tick_params(axis="x", labelsize=7, labelrotation=60)
        bx.set_title(f"credit assignment (hamming bananas, {frac:.0%} of the lines)")
        bx.legend(fontsize=8)
    fig.tight_layout()
    return fig
