"""The answer of `monkeysim compare` in words, from ``summary.json`` alone.

Every number quoted carries its 95 % bootstrap interval (:mod:`.compare_stats`), and a
comparison is put in words ("less total work than one monkey") only when its interval lies
wholly on one side; otherwise the line says the interval includes the comparison. The same
text is printed by the command and written into the README (:func:`readme`; a test checks
that the committed README matches ``results/summary.json``).
"""

from __future__ import annotations

import math

from .compare_stats import compared_with
from .frontier import S_MIN_FLOOR

README_END = "<!-- end of the generated answer -->"
FULL_SUMMARY = "results/full/summary.json"
"""The summary of ``compare --full`` whose answer the README quotes too."""


def readme_begin(source: str = "results/summary.json") -> str:
    """The marker that opens the README's block generated from ``source``."""
    return f"<!-- answer: generated from {source}; do not edit by hand -->"


README_BEGIN = readme_begin()


def _fmt(x) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    if x >= 1e6:
        return f"{x:.2e}"
    return f"{x:,.0f}"


def _g(x: float) -> str:
    return f"{x:.3g}"


def _ci(ci) -> str:
    return f"(95 % CI {_g(ci[0])}–{_g(ci[1])})"


def _name(target: str, length: int) -> str:
    return "weasel" if target == "weasel" else f"L={length} prefix"


def _best(summary: dict) -> str:
    rewards = summary["rewards"]
    return "hamming" if "hamming" in rewards else rewards[-1]


def lines(summary: dict) -> list[str]:
    """The short answer: savings per length, what more monkeys buy per regime, the critical
    troop and how the step sizes were tuned."""
    return (_savings(summary) + _sparse(summary) + _ladder(summary) + _critical(summary)
            + _auto(summary)
            + _tuning(summary))


def _savings(summary: dict) -> list[str]:
    best = _best(summary)
    parts = []
    for e in summary["lengths"]:
        s = e.get(f"savings_{best}")
        if s is None:
            continue
        cens = e.get(f"bananas_{best}", {}).get("censored", 0)
        where = "weasel" if e["target"] == "weasel" else f"L={e['length']}"
        parts.append(f"{where}: {_g(s)}× {_ci(e[f'savings_{best}_ci'])}"
                     + (" (censored runs: a lower bound)" if cens else ""))
    if not parts:
        return []
    return [f"Less time: with {best} bananas one monkey needs fewer keystrokes than the exact "
            f"random-document mean (ratio of the theory to the median over "
            f"{summary['seeds']} seeds) by " + ", ".join(parts) + "."]


def _sparse(summary: dict) -> list[str]:
    if "exact" not in summary["rewards"]:
        return []
    hard = [e["length"] for e in summary["lengths"] if e["target"] == "line" and (
        "bananas_exact" not in e or e["bananas_exact"]["censored"])]
    if not hard:
        return []
    return ["Sparse (exact) bananas help nothing until the first hit: before it the policy "
            "gets no gradient and types like random documents, so from "
            f"L={min(hard)} on no monkey is paid within the budget of "
            f"{summary['budget']:,} keystrokes."]


HOW = {"independent": "independent monkeys, each N at its own step size",
       "troop": "a troop, each N at its own step size",
       "troop_fixed": "a troop at the step size tuned for the smallest N"}


def _ladder(summary: dict) -> list[str]:
    out = []
    best = _best(summary)
    for lad in summary["ladder"]:
        name = _name(lad["target"], lad["length"])
        td = lad["methods"].get("theory_document", {})
        lo, hi = min(summary["monkeys"]), max(summary["monkeys"])
        td = {int(n): v for n, v in td.items()}  # JSON keys are strings
        if lo in td and hi in td:
            out.append(f"More monkeys without bananas ({name}): N={lo}→{hi} divides wall time "
                       f"by {_g(td[lo]['wall'] / td[hi]['wall'])} but total work changes "
                       f"×{_g(td[hi]['total'] / td[lo]['total'])} (theory).")
        for layout in ("independent", "troop", "troop_fixed"):
            r = lad.get("ratios", {}).get(f"{layout}_{best}")
            if r is None:
                continue
            wall, total = r["wall"], r["total"]
            words = {"less": "less", "more": "more", "same": "indistinguishable"}
            out.append(f"More monkeys with {best} bananas, {HOW[layout]} ({name}): "
                       f"N={r['from']}→{r['to']} wall time ×{_g(wall['ratio'])} "
                       f"{_ci(wall['ci'])}, total work ×{_g(total['ratio'])} "
                       f"{_ci(total['ci'])}; against N={r['from']}: "
                       f"{words[compared_with(wall['ci'])]} wall time, "
                       f"{words[compared_with(total['ci'])]} total work (medians over seeds).")
    return out


def _critical(summary: dict) -> list[str]:
    out = []
    for c in summary["critical"]:
        name = _name(c["target"], c["length"])
        if "b_crit" not in c:
            out.append(f"Critical troop ({name}, {c['reward']} bananas): fewer than two "
                       "frontier points with a median of ≥ 2 steps; no fit.")
            continue
        noise = ""
        if "b_simple_init" in c:
            noise = (f"; B_simple at initialisation {_g(c['b_simple_init'])} documents "
                     f"{_ci(c['b_simple_init_ci'])}")
        out.append(
            f"Critical troop ({name}, {c['reward']} bananas): steps until typed follow "
            f"S = S_min·(1 + B_crit/B){_share(c)} with S_min = {_g(c['s_min'])} "
            f"{_ci(c['s_min_ci'])}, "
            f"E_min = {_g(c['e_min'])} documents {_ci(c['e_min_ci'])} and "
            f"B_crit = {_g(c['b_crit'])} documents per step {_ci(c['b_crit_ci'])}, "
            f"≈ {_g(c['n_crit'])} monkeys × {summary['batch']} (fit error "
            f"{100 * c['fit_rms_log_error']:.0f} % rms over {c['fit_points']} points){noise}: "
            f"below B_crit more monkeys buy wall time almost for free, above it they only add "
            f"work." + (_floor_note(c) if c["s_min"] <= S_MIN_FLOOR * (1 + 1e-9) else ""))
    return out


def _auto(summary: dict) -> list[str]:
    """Where the self-sizing troop lands against the fixed troops' best medians."""
    out = []
    for c in summary["critical"]:
        a = c.get("auto")
        if not a:
            continue
        cens = f", {a['censored']} of {a['seeds']} runs censored" if a["censored"] else ""
        out.append(
            f"Auto troop ({_name(c['target'], c['length'])}, {c['reward']} bananas; N and the "
            f"step size set each step from the measured noise scale, no tuning run{cens}): "
            f"{_g(a['steps'])} steps {_ci(a['steps_ci'])} and {_g(a['documents'])} documents "
            f"{_ci(a['documents_ci'])} until typed, median troop {_g(a['monkeys_median'])} "
            f"monkeys; S/S_min = {_g(a['s_over_s_min'])} {_ci(a['s_over_s_min_ci'])} and "
            f"E/E_min = {_g(a['e_over_e_min'])} {_ci(a['e_over_e_min_ci'])} against the fixed "
            f"troops' least medians (S_min = {_g(a['s_min'])} steps, E_min = "
            f"{_g(a['e_min'])} documents, each troop at its own tuned step size); its "
            f"{a['seeds']} runs spent {_g(a['documents_spent'])} documents, the fixed-troop "
            f"sweep (tuning and reported runs) {_g(a['sweep_documents'])}: "
            f"{_g(a['sweep_over_auto'])}× as many.")
    return out


def _share(c: dict) -> str:
    """How B counts one monkey's smaller batches, when the fit has them: the leave-one-out
    baseline's fitted noise share c (:func:`~monkeysim.theory.effective_batch`)."""
    k0 = c.get("reference_batch")
    if not k0 or not any(p["fitted"] and p["batch"] < k0 for p in c["points"]):
        return ""
    return (f" (B in documents per step, a batch of k < {k0} counted as (k − c)·{k0}/({k0} − c) "
            f"with the leave-one-out baseline's noise share c = {_g(c['baseline_share'])} "
            f"{_ci(c['baseline_share_ci'])} fitted; c = 1 is the theory of a baseline from k − 1 "
            f"other documents)")


def _floor_note(c: dict) -> str:
    """Said when the fit holds S_min at its floor of one step: then the data do not show the
    bend of the hyperbola, and B_crit = E_min is only a lower bound."""
    return (" S_min is held at its floor of one step, so the steps measured fall about as 1/B "
            "without the bend of the hyperbola: B_crit is a lower bound here, and its interval "
            "is that of E_min.")


def _tuning(summary: dict) -> list[str]:
    tuning = summary["tuning"]
    out = [f"Step sizes: each of {len(tuning)} settings tuned by successive halving over the "
           f"lr grid on its own tuning seeds (disjoint from the reported ones; "
           f"{summary['tune_seeds']} seeds on the last rung, {2 * summary['tune_seeds']} for "
           f"near ties), objective the median wall time until typed."]
    ratios = [t["rule_over_tuned"] for t in tuning
              if "rule_over_tuned" in t and t["regime"] == "troop"]
    if ratios:
        out.append(f"McCandlish et al.'s rule ε(B) = ε_max/(1 + B_simple/B) lands within "
                   f"{min(ratios):.2g}–{max(ratios):.2g}× of the troops' tuned step sizes.")
    for t in tuning:
        if t["edge"]:
            out.append(f"At the grid's {t['edge']} edge (the best step size may lie beyond): "
                       f"{t['target']} L={t['length']} {t['reward']} {t['regime']} "
                       f"N={t['monkeys']} batch {t['batch']}, lr {t['lr']:g}.")
    return out


def table(summary: dict) -> str:
    """Printed table: keystrokes per monkey to the target, random vs bananas, then the
    answer."""
    rewards = summary["rewards"]
    head = (f"{'target':<8}{'L':>4}  {'random stream':>14}{'random doc':>12}"
            + "".join(f"{'bananas ' + r:>17}" for r in rewards)
            + f"{'savings':>10}")
    lines_ = [f"keystrokes per monkey until the target is first typed "
              f"(N = {summary['length_sweep_monkeys']}; theory for random, median over "
              f"{summary['seeds']} seeds for bananas; ≥ = censored; = : exact bananas give no "
              f"gradient before the first hit, so there they type like random documents: "
              f"theory)", head]
    best = _best(summary)
    for e in summary["lengths"]:
        cells = ""
        for r in rewards:
            st = e.get(f"bananas_{r}")
            if st is None and r == "exact":  # not simulated: equal in law to random documents
                shown = "=" + _fmt(e["random_document_theory"])
            else:
                shown = ("≥" if st and st["censored"] else "") + _fmt(
                    st["median"] if st else None)
            cells += f"{shown:>17}"
        s = e.get(f"savings_{best}")
        lines_.append(f"{e['target']:<8}{e['length']:>4}  "
                      f"{_fmt(e['random_stream_theory']):>14}"
                      f"{_fmt(e['random_document_theory']):>12}{cells}"
                      f"{(f'{s:.3g}×' if s else '—'):>10}")
    lines_ += ["", "Answer:"] + [f"  - {a}" for a in summary["answer"]]
    return "\n".join(lines_)


def readme(summary: dict, source: str = "results/summary.json") -> str:
    """The README's answer block: the table and the answer as a list, between markers."""
    text = table(summary)
    head, _, _ = text.partition("\n\nAnswer:")
    bullets = "\n".join(f"- {a}" for a in summary["answer"])
    return f"{readme_begin(source)}\n```\n{head}\n```\n\n{bullets}\n{README_END}"


def readme_replace(readme_text: str, summary: dict,
                   source: str = "results/summary.json") -> str:
    """``readme_text`` with the block generated from ``source`` (between its markers)
    replaced by :func:`readme`."""
    start = readme_text.index(readme_begin(source))
    end = readme_text.index(README_END, start) + len(README_END)
    return readme_text[:start] + readme(summary, source) + readme_text[end:]
