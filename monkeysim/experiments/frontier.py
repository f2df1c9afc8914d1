"""The large-batch trade-off of learning monkeys: steps vs documents, and the critical troop.

McCandlish, Kaplan, Amodei et al. (2018, "An Empirical Model of Large-Batch Training"): with
B documents per step (B = N monkeys × batch), the steps S and documents E = S·B needed to
reach a goal obey

    (S / S_min − 1)(E / E_min − 1) = 1,   i.e.   S(B) = S_min (1 + B_crit / B),

with the critical batch B_crit = E_min / S_min (documents per step). Below B_crit more monkeys
buy wall time almost for free; above it they only add work. It is predicted by the gradient
noise scale B_simple = tr(Σ)/|G|² (:func:`monkeysim.learn.noise_scale.noise_scale`).

:func:`fit_hyperbola` fits S_min and B_crit to the median steps of each B by least squares
in log S (S_min in closed form for each B_crit, B_crit by a golden-section search in log B).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

import numpy as np

GOALS = ("typed", "solved")
"""typed: a monkey sampled the target; solved: the greedy (argmax) document is the target."""


@dataclass(frozen=True)
class FrontierRow:
    """One row of frontier.csv: one learning run, until one goal.

    ``steps``: update steps until the goal (fractional for ``typed``: documents per monkey /
    batch); ``wall_time_keystrokes``: keystrokes per monkey; ``total_work_keystrokes``: summed
    over the monkeys; ``reviewer_calls``: documents scored, all monkeys; ``censored``: 1 if the
    goal was not reached within the budget (the values are then the budget: lower bounds).
    """

    target: str
    length: int
    reward: str
    regime: str
    goal: str
    monkeys: int
    batch: int
    lr: float
    seed: int
    steps: float
    wall_time_keystrokes: int
    total_work_keystrokes: int
    reviewer_calls: int
    censored: int

    def as_list(self) -> list:
        return [getattr(self, f.name) for f in fields(self)]


COLUMNS = [f.name for f in fields(FrontierRow)]
"""Columns of frontier.csv (see :class:`FrontierRow`)."""


@dataclass(frozen=True)
class HyperbolaFit:
    """S(B) = s_min (1 + b_crit / B) fitted to median steps; e_min = s_min · b_crit.

    ``rms_log_error``: root-mean-square of ln(S_measured / S_fit) over the fitted points
    (0.1 ≈ 10 % typical deviation); ``points``: how many B were fitted."""

    s_min: float
    e_min: float
    b_crit: float
    rms_log_error: float
    points: int

    def to_dict(self) -> dict:
        return asdict(self)

    def steps(self, batch) -> np.ndarray:
        """Fitted steps at documents per step ``batch``."""
        return self.s_min * (1.0 + self.b_crit / np.asarray(batch, dtype=float))


S_MIN_FLOOR = 1.0
"""No learner reaches a goal in fewer than one update: at θ = 0 every monkey types at random
(an exact gradient step of unbounded size is the best case, one step). Fits of S_min are held
at or above this floor; without it, data that still scale perfectly at the largest B push
S_min towards 0 and B_crit past the ladder."""


def fit_hyperbola(batch, steps, s_min_floor: float = S_MIN_FLOOR) -> HyperbolaFit:
    """Least-squares fit of ln S = ln S_min + ln(1 + B_crit/B) to points (B, S), B > 0, S > 0,
    with S_min ≥ ``s_min_floor``.

    B_crit is searched over [min(B)/1e3, max(B)·1e3] (a scan, then golden section in
    log B_crit on the residual); for each B_crit the best ln S_min is the mean residual,
    raised to the floor if below it. Needs ≥ 2 distinct B."""
    b = np.asarray(batch, dtype=float)
    s = np.asarray(steps, dtype=float)
    ok = np.isfinite(s) & (s > 0) & (b > 0)
    b, s = b[ok], s[ok]
    if len(np.unique(b)) < 2:
        raise ValueError("the hyperbola needs steps at two or more batch sizes")
    s_min, b_crit, err = fit_hyperbola_many(b, s[None, :], s_min_floor)
    return HyperbolaFit(s_min=float(s_min[0]), e_min=float(s_min[0] * b_crit[0]),
                        b_crit=float(b_crit[0]), rms_log_error=float(err[0]),
                        points=int(len(s)))


def fit_hyperbola_many(b: np.ndarray, steps: np.ndarray, s_min_floor: float = S_MIN_FLOOR
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`fit_hyperbola` of many step vectors at once (a bootstrap): ``b`` (P,) distinct
    enough batch sizes, ``steps`` (R, P) positive. Returns S_min (R,), B_crit (R,) and the
    rms log error (R,)."""
    b = np.asarray(b, dtype=float)
    ls = np.log(np.asarray(steps, dtype=float))  # (R, P)
    floor = math.log(s_min_floor)

    def sse(log_bc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # log_bc (R, K) -> sse (R, K), ln S_min (R, K)
        shape = np.log1p(np.exp(log_bc)[..., None] / b)  # (R, K, P)
        resid = ls[:, None, :] - shape
        log_smin = np.maximum(resid.mean(axis=2), floor)
        return ((resid - log_smin[..., None]) ** 2).sum(axis=2), log_smin

    rows = ls.shape[0]
    lo, hi = math.log(b.min() / 1e3), math.log(b.max() * 1e3)
    scan = np.linspace(lo, hi, 241)
    k = np.argmin(sse(np.broadcast_to(scan, (rows, scan.size)))[0], axis=1)
    a = scan[np.maximum(k - 1, 0)]
    c = scan[np.minimum(k + 1, scan.size - 1)]
    g = (math.sqrt(5) - 1) / 2
    x1, x2 = c - g * (c - a), a + g * (c - a)
    for _ in range(80):
        f = sse(np.stack([x1, x2], axis=1))[0]
        left = f[:, 0] < f[:, 1]
        c = np.where(left, x2, c)
        a = np.where(left, a, x1)
        x1, x2 = np.where(left, c - g * (c - a), x2), np.where(left, x1, a + g * (c - a))
    log_bc = (a + c) / 2
    err, log_smin = sse(log_bc[:, None])
    return (np.exp(log_smin[:, 0]), np.exp(log_bc),
            np.sqrt(err[:, 0] / ls.shape[1]))
