"""`monkeysim type`: race random monkeys to a target and compare with exact theory."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .. import theory
from ..errors import check_memory, positive_int
from ..results import prepare_out_dir, sidecar, write_table
from ..stats import mean_ci
from ..typewriter import MODES, RaceResult, check_budget, check_threads, type_race

FILES = ["race.csv", "race.json"]
BYTES_PER_MONKEY = 48
"""Memory per monkey of a race and its summary (counts, flags, a sorted copy, statistics)."""
BYTES_PER_ROW = 160
"""Memory per monkey of its ``race.csv`` row while the file is written (``--out``)."""


@dataclass(frozen=True)
class TypingSummary:
    """Measured vs theory for one race (all times in keystrokes per monkey)."""

    target: str
    alphabet: str
    alphabet_size: int
    mode: str
    monkeys: int
    budget: int
    seed: int
    threads: int
    censored: int
    mean_keystrokes: float
    mean_keystrokes_stderr: float
    mean_keystrokes_ci95: tuple[float, float]
    mean_is_restricted: bool
    theory_mean_keystrokes: int
    theory_restricted_mean_keystrokes: float
    median_keystrokes: float | None
    theory_median_keystrokes: float
    wall_time_keystrokes: int | None
    theory_wall_time_keystrokes: float
    theory_censored: float
    total_keystrokes: int
    seconds: float
    keystrokes_per_second: float

    def as_json(self) -> dict:
        d = asdict(self)
        d["mean_keystrokes_ci95"] = list(self.mean_keystrokes_ci95)
        d["theory_log10_mean_keystrokes"] = math.log10(self.theory_mean_keystrokes)
        return d


def summarize(race: RaceResult) -> TypingSummary:
    """Measured statistics of ``race`` beside the exact theory for the same setting.

    With censoring, the measured mean is the restricted mean E[min(T, budget)], compared with
    its exact theoretical value; the unrestricted theory mean is reported too.
    """
    wt = theory.waiting_time(race.target, race.alphabet, race.mode)
    ci = mean_ci(race.keystrokes)
    ks = np.sort(race.keystrokes)
    half = race.monkeys // 2
    # the sample median is known when fewer than half of the monkeys were censored
    median = float(np.median(ks)) if race.censored < half or race.censored == 0 else None
    return TypingSummary(
        target=race.target, alphabet=race.alphabet.name, alphabet_size=race.alphabet.size,
        mode=race.mode, monkeys=race.monkeys, budget=race.budget, seed=race.seed,
        threads=race.threads, censored=race.censored,
        mean_keystrokes=ci.mean, mean_keystrokes_stderr=ci.stderr,
        mean_keystrokes_ci95=(ci.low, ci.high), mean_is_restricted=race.censored > 0,
        theory_mean_keystrokes=wt.mean,
        theory_restricted_mean_keystrokes=wt.restricted_mean(race.budget),
        median_keystrokes=median, theory_median_keystrokes=float(wt.quantile(0.5)[0]),
        wall_time_keystrokes=race.wall_time,
        theory_wall_time_keystrokes=wt.mean_first(race.monkeys),
        theory_censored=race.monkeys * float(wt.sf(race.budget)[()]),
        total_keystrokes=race.total_keystrokes, seconds=race.seconds,
        keystrokes_per_second=race.keystrokes_per_second,
    )


def fmt_count(x: float | int | None) -> str:
    """A count in plain digits up to 10^7, else in scientific notation."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    if abs(x) < 1e7:
        return f"{x:,.1f}" if isinstance(x, float) and not float(x).is_integer() else f"{int(x):,}"
    return f"{float(x):.4g}"


def report(s: TypingSummary) -> str:
    """Human-readable table: measured vs exact theory."""
    kind = "restricted mean E[min(T, budget)]" if s.mean_is_restricted else "mean"
    theory_mean = s.theory_restricted_mean_keystrokes if s.mean_is_restricted else (
        s.theory_mean_keystrokes)
    rows = [
        (f"{kind} keystrokes", f"{fmt_count(s.mean_keystrokes)} "
         f"[{fmt_count(s.mean_keystrokes_ci95[0])}, {fmt_count(s.mean_keystrokes_ci95[1])}]",
         fmt_count(theory_mean)),
        ("mean keystrokes (uncensored)", "—" if s.mean_is_restricted else
         fmt_count(s.mean_keystrokes), fmt_count(s.theory_mean_keystrokes)),
        ("median keystrokes", fmt_count(s.median_keystrokes),
         fmt_count(s.theory_median_keystrokes)),
        (f"wall time: first of {s.monkeys:,}", fmt_count(s.wall_time_keystrokes),
         fmt_count(s.theory_wall_time_keystrokes)),
        ("censored monkeys", f"{s.censored:,} of {s.monkeys:,}",
         f"{s.theory_censored:,.1f} expected"),
    ]
    width = max(len(r[0]) for r in rows)
    lines = [
        f"target {s.target!r}  (L={len(s.target)}, alphabet {s.alphabet}, A={s.alphabet_size}, "
        f"{s.mode} mode)",
        f"{s.monkeys:,} monkeys × budget {s.budget:,} keystrokes, seed {s.seed}, "
        f"{s.threads} threads",
        "",
        f"{'':{width}}  {'measured (95% CI)':>32}  {'exact theory':>16}",
    ]
    lines += [f"{a:{width}}  {b:>32}  {c:>16}" for a, b, c in rows]
    lines += ["", f"{fmt_count(s.total_keystrokes)} keystrokes in {s.seconds:.3f} s = "
              f"{s.keystrokes_per_second / 1e6:,.1f} M keystrokes/s"]
    return "\n".join(lines)


def write_outputs(race: RaceResult, summary: TypingSummary, out: Path, overwrite: bool,
                  config: dict) -> Path:
    """Per-monkey CSV (monkey, keystrokes, found) + JSON sidecar with the summary."""
    prepare_out_dir(out, overwrite, FILES)
    rows = zip(range(race.monkeys), race.keystrokes.tolist(), race.found.astype(int).tolist(),
               strict=True)
    meta = sidecar(config, race.seed, summary=summary.as_json(),
                   columns={"monkey": "index", "keystrokes": "keystrokes (until success or "
                            "budget)", "found": "1 if the target was typed within budget"})
    return write_table(out / "race.csv", ["monkey", "keystrokes", "found"], rows, meta)


def check(target: str, alphabet, *, monkeys: int, budget: int, mode: str,
          threads: int | None, rows: bool) -> None:
    """Every refusal of :func:`run` before anything runs: counts, budget, threads, the
    memory of ``monkeys`` (with their CSV rows when ``rows``) and the exact theory's length
    limit (stream mode)."""
    from ..errors import InvalidInput

    monkeys = positive_int(monkeys, "monkeys")
    if mode not in MODES:
        raise InvalidInput(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    check_budget(budget, monkeys, len(target), mode)
    check_threads(threads)
    check_memory(monkeys, BYTES_PER_MONKEY + (BYTES_PER_ROW if rows else 0), "--monkeys")
    if mode == "stream":
        theory.check_exact(len(target), alphabet.size)


def run(target: str, quiet: bool = False, **kwargs) -> tuple[RaceResult, TypingSummary]:
    """The race (with a progress bar on stderr for long races unless ``quiet``) and its
    summary."""
    from .runner import progress_bar

    monkeys = kwargs.get("monkeys", 1000)
    bar = progress_bar(monkeys, quiet, "type", unit="monkey", delay=2.0)
    done = [0]

    def progress(finished: int, keystrokes: int) -> None:
        bar.update(finished - done[0])
        done[0] = finished
        bar.set_postfix_str(f"{keystrokes:,} keystrokes", refresh=False)

    try:
        race = type_race(target, progress=progress, **kwargs)
    finally:
        bar.close()
    return race, summarize(race)
