"""Records that cross layers: rows of the compare tables, read by name (never by position).

The experiment runners build them, the reports and the figures read their fields; a new
column is a new field, so nothing that reads by name breaks.
"""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(frozen=True)
class CompareRow:
    """One row of compare.csv.

    Times in keystrokes (per monkey for wall time, summed over monkeys for total work);
    reviewer calls = documents scored; ``censored`` = 1 when no monkey succeeded within the
    budget (times are then the budget: a lower bound). ``greedy_*``: until the greedy
    (argmax) document of a learning policy equals the target (empty for random typing).
    ``seed`` is empty for theory rows, whose times are exact means (formatted strings);
    ``lr``: the step size of a learning row (empty otherwise). Empty values are ``""``.
    """

    target: str
    length: int
    alphabet_size: int
    method: str
    reward: str
    monkeys: int
    seed: int | str
    wall_time_keystrokes: int | float | str
    total_work_keystrokes: int | float | str
    reviewer_calls: int | str
    censored: int
    greedy_wall_time_keystrokes: int | str
    greedy_total_work_keystrokes: int | str
    greedy_reviewer_calls: int | str
    greedy_censored: int | str
    budget_keystrokes: int | str
    lr: float | str

    def as_list(self) -> list:
        """The values in column order (for the CSV and the JSON checkpoints)."""
        return [getattr(self, f.name) for f in fields(self)]

    def number(self, name: str) -> float:
        """Field ``name`` as a float (NaN where empty)."""
        v = getattr(self, name)
        return float(v) if v not in ("", None) else float("nan")


COMPARE_COLUMNS = [f.name for f in fields(CompareRow)]
"""Columns of compare.csv, in order."""
