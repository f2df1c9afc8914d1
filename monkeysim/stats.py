"""Small statistics helpers: means with confidence intervals, and censored summaries."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

Z95 = 1.959963984540054


@dataclass(frozen=True)
class MeanCI:
    """A sample mean with its standard error and 95% normal interval."""

    mean: float
    stderr: float
    n: int

    @property
    def low(self) -> float:
        return self.mean - Z95 * self.stderr

    @property
    def high(self) -> float:
        return self.mean + Z95 * self.stderr


def mean_ci(values) -> MeanCI:
    """Mean, standard error (sample sd / √n) and 95% interval of ``values``."""
    x = np.asarray(values, dtype=np.float64)
    n = x.size
    if n == 0:
        return MeanCI(math.nan, math.nan, 0)
    sd = float(x.std(ddof=1)) if n > 1 else math.nan
    return MeanCI(float(x.mean()), sd / math.sqrt(n) if n > 1 else math.nan, n)


def ks_statistic(samples, cdf) -> float:
    """Kolmogorov–Smirnov distance between the empirical CDF of integer ``samples`` and a
    theoretical ``cdf`` (a callable on arrays), evaluated at every jump of the sample."""
    x = np.sort(np.asarray(samples, dtype=np.float64))
    n = x.size
    values, counts = np.unique(x, return_counts=True)
    ecdf_hi = np.cumsum(counts) / n
    ecdf_lo = ecdf_hi - counts / n
    f = cdf(values)
    f_before = cdf(values - 1)  # integer-valued: CDF just below each jump
    return float(max(np.max(np.abs(ecdf_hi - f)), np.max(np.abs(ecdf_lo - f_before))))


def ks_critical(n: int, alpha: float = 0.01) -> float:
    """Asymptotic one-sample KS critical value c(α)/√n (conservative for discrete laws)."""
    c = math.sqrt(-0.5 * math.log(alpha / 2))
    return c / math.sqrt(n)


BOOTSTRAP_RESAMPLES = 2000
"""Resamples of every bootstrap interval."""


def bootstrap_rng(*key) -> np.random.Generator:
    """The generator of one bootstrap, seeded by what it is about (``key``: strings and
    numbers), so that every interval is reproducible and independent of the others."""
    import zlib

    return np.random.default_rng([zlib.crc32(repr(key).encode()), 2026])


def bootstrap_medians(values, rng: np.random.Generator,
                      resamples: int = BOOTSTRAP_RESAMPLES) -> np.ndarray:
    """Medians of ``resamples`` resamples (with replacement, by seed) of ``values`` (n,):
    shape (resamples,)."""
    x = np.asarray(values, dtype=np.float64)
    idx = rng.integers(0, x.size, size=(resamples, x.size))
    return np.median(x[idx], axis=1)


def percentile_interval(draws, level: float = 0.95) -> tuple[float, float]:
    """The central ``level`` interval of bootstrap ``draws`` (percentile method)."""
    a = (1.0 - level) / 2
    lo, hi = np.quantile(np.asarray(draws, dtype=np.float64), [a, 1.0 - a])
    return float(lo), float(hi)


def chi_square_sf(stat: float, df: int) -> float:
    """P(X ≥ stat) for X ~ χ²(df): the regularised upper incomplete gamma Q(df/2, stat/2)
    (series below a + 1, Lentz's continued fraction above, as in Numerical Recipes)."""
    a, x = df / 2.0, stat / 2.0
    if x <= 0:
        return 1.0
    log_front = a * math.log(x) - x - math.lgamma(a)
    if x < a + 1:  # P(a, x) by its series
        term = total = 1.0 / a
        n = a
        while abs(term) > 1e-16 * abs(total):
            n += 1
            term *= x / n
            total += term
        return max(0.0, 1.0 - total * math.exp(log_front))
    tiny = 1e-300
    b = x + 1 - a
    c, d = 1 / tiny, 1 / b
    h = d
    i = 1
    while True:
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1 / d
        step = d * c
        h *= step
        if abs(step - 1) < 1e-15:
            break
        i += 1
    return h * math.exp(log_front)


def chi_square_uniform(counts) -> tuple[float, float]:
    """Pearson's χ² statistic of ``counts`` against equal cells, and its p-value."""
    c = np.asarray(counts, dtype=np.float64).ravel()
    expected = c.sum() / c.size
    stat = float(((c - expected) ** 2).sum() / expected)
    return stat, chi_square_sf(stat, c.size - 1)
