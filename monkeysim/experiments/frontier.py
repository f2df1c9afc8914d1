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

from ..theory import effective_batch

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
    (0.1 ≈ 10 % typical deviation); ``points``: how many B were fitted. With groups of
    different sizes (:func:`fit_frontier`), B is the effective batch of
    :func:`effective_batch` at the fitted ``baseline_share`` c, and b_crit, e_min are in
    documents at ``reference_batch`` documents per monkey."""

    s_min: float
    e_min: float
    b_crit: float
    rms_log_error: float
    points: int
    baseline_share: float = 0.0
    reference_batch: int | None = None

    def to_dict(self) -> dict:
        return asdict(self)

    def steps(self, batch) -> np.ndarray:
        """Fitted steps at (effective) documents per step ``batch``."""
        return self.s_min * (1.0 + self.b_crit / np.asarray(batch, dtype=float))


S_MIN_FLOOR = 1.0
"""No learner reaches a goal in fewer than one update: at θ = 0 every monkey types at random
(an exact gradient step of unbounded size is the best case, one step). Fits of S_min are held
at or above this floor; without it, data that still scale perfectly at the largest B push
S_min towards 0 and B_crit past the ladder."""

BASELINE_SHARES = np.round(np.linspace(0.0, 1.0, 21), 2)
"""The grid of the leave-one-out baseline's noise share c fitted by :func:`fit_frontier`."""


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


def fit_frontier(monkeys, batch, steps, s_min_floor: float = S_MIN_FLOOR) -> HyperbolaFit:
    """:func:`fit_hyperbola` of median steps at N monkeys × k documents per step, with B the
    :func:`effective_batch` and its baseline share c fitted too (on :data:`BASELINE_SHARES`;
    c = 0 when every point has the same k, or some k < 2). B_crit and E_min are in documents
    at the largest k (the troop ladder's batch)."""
    n = np.asarray(monkeys, dtype=float)
    k = np.asarray(batch, dtype=float)
    s = np.asarray(steps, dtype=float)
    if len(np.unique(n * k)) < 2:
        raise ValueError("the hyperbola needs steps at two or more batch sizes")
    s_min, b_crit, share, err = fit_frontier_many(n, k, s[None, :], s_min_floor)
    return HyperbolaFit(s_min=float(s_min[0]), e_min=float(s_min[0] * b_crit[0]),
                        b_crit=float(b_crit[0]), rms_log_error=float(err[0]),
                        points=int(len(s)), baseline_share=float(share[0]),
                        reference_batch=int(k.max()))


def fit_frontier_many(monkeys: np.ndarray, batch: np.ndarray, steps: np.ndarray,
                      s_min_floor: float = S_MIN_FLOOR
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`fit_frontier` of many step vectors at once (a bootstrap): ``monkeys``, ``batch``
    (P,), ``steps`` (R, P) positive. Returns S_min, B_crit, the baseline share c and the rms
    log error, each (R,)."""
    k = np.asarray(batch, dtype=float)
    k0 = float(k.max())
    varied = len(np.unique(k)) > 1 and k.min() >= 2
    shares = BASELINE_SHARES if varied else np.zeros(1)
    b_eff = np.stack([effective_batch(monkeys, k, c, k0) for c in shares])  # (C, P)
    return _fit_many(b_eff, np.asarray(steps, dtype=float), s_min_floor, shares)


def fit_hyperbola_many(b: np.ndarray, steps: np.ndarray, s_min_floor: float = S_MIN_FLOOR
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`fit_hyperbola` of many step vectors at once (a bootstrap): ``b`` (P,) distinct
    enough batch sizes, ``steps`` (R, P) positive. Returns S_min (R,), B_crit (R,) and the
    rms log error (R,)."""
    s_min, b_crit, _, err = _fit_many(np.asarray(b, dtype=float)[None, :],
                                      np.asarray(steps, dtype=float), s_min_floor,
                                      np.zeros(1))
    return s_min, b_crit, err


SCAN = 241
"""Grid points of the scan over log B_crit (before the golden section)."""


def _fit_many(b_eff: np.ndarray, steps: np.ndarray, s_min_floor: float, shares: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Least squares in ln S over candidate batch vectors ``b_eff`` (C, P) (one per share):
    a scan of every (share, B_crit) pair, by the closed form of the residual sum of squares
    (one matrix product), then a golden section in log B_crit at each row's best share."""
    ls = np.log(steps)  # (R, P)
    p = ls.shape[1]
    floor = math.log(s_min_floor)
    lo, hi = math.log(b_eff.min() / 1e3), math.log(b_eff.max() * 1e3)
    scan = np.linspace(lo, hi, SCAN)
    shape = np.log1p(np.exp(scan)[None, :, None] / b_eff[:, None, :]).reshape(-1, p)  # (CK, P)
    # sse = Σ(ls − h − m)², m = max(mean(ls − h), floor), expanded so that only ls·h is (R, CK)
    cross = ls @ shape.T
    mean = (ls.sum(axis=1)[:, None] - shape.sum(axis=1)[None, :]) / p
    sq = (ls**2).sum(axis=1)[:, None] - 2 * cross + (shape**2).sum(axis=1)[None, :]
    m = np.maximum(mean, floor)
    best = np.argmin(sq - 2 * m * p * mean + p * m**2, axis=1)
    ci, ki = np.divmod(best, SCAN)
    b_row = b_eff[ci]  # (R, P): each row's best share

    def sse(log_bc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # log_bc (R, K) -> sse (R, K), ln S_min (R, K)
        h = np.log1p(np.exp(log_bc)[..., None] / b_row[:, None, :])  # (R, K, P)
        resid = ls[:, None, :] - h
        log_smin = np.maximum(resid.mean(axis=2), floor)
        return ((resid - log_smin[..., None]) ** 2).sum(axis=2), log_smin

    a = scan[np.maximum(ki - 1, 0)]
    c = scan[np.minimum(ki + 1, SCAN - 1)]
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
    return (np.exp(log_smin[:, 0]), np.exp(log_bc), shares[ci],
            np.sqrt(err[:, 0] / p))
