"""The theory of the noise study: what a noisy reviewer can teach and where a leashed
preference learner settles. The binary entropy, the channel capacity of one reviewer call
(Gaussian score noise σ or a preference flipped with probability ε; the issue's capacity and
the strict one valid for any strategy), the information-theoretic lower bound
``L·log2(A)/C`` on reviewer calls and its curves over a fine grid of noise levels
(:class:`BoundCurve`, drawn by :mod:`monkeysim.plots.noise`), and the mean-field fixed point
of a preference learner with an exact KL leash to the uniform policy. Exact formulas, no
simulation; the derivations are in :mod:`monkeysim.experiments.noise`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import InvalidInput, nonneg_float

# --- the bound ------------------------------------------------------------------------------

def h2(p: float) -> float:
    """Binary entropy in bits."""
    if p <= 0.0 or p >= 1.0:
        return 0.0
    return -p * math.log2(p) - (1 - p) * math.log2(1 - p)


def capacity(noise: str, level: float, length: int, alphabet_size: int,
             strict: bool = False) -> float:
    """Bits per reviewer call; see :mod:`monkeysim.experiments.noise` (``strict``: valid for
    any learner)."""
    if noise == "flip":
        c = 1.0 - h2(level)
        return math.log2(1.0 + 2.0**c) if strict else c
    if noise != "sigma":
        raise InvalidInput(f"unknown noise kind {noise!r}; choose from sigma, flip")
    noiseless = math.log2(length + 1)
    if level == 0:
        return noiseless
    if strict:
        return min(noiseless, 0.5 * math.log2(1.0 + length * length / (4.0 * level * level)))
    a = alphabet_size
    var = length * (1.0 / a) * (1.0 - 1.0 / a)
    return min(noiseless, 0.5 * math.log2(1.0 + var / (level * level)))


def bound_calls(noise: str, level: float, length: int, alphabet_size: int,
                strict: bool = False) -> float:
    """``L·log2(A) / capacity`` reviewer calls (inf when a call carries no information)."""
    c = capacity(noise, level, length, alphabet_size, strict)
    return length * math.log2(alphabet_size) / c if c > 0 else math.inf


# --- the fixed point of the leashed preference learner ----------------------------------------

def _tie_or_one(q: float, length: int) -> float:
    """``P(D = 0) + P(D = 1)``, D the sum over L − 1 positions of ``c_a − c_b`` (each c
    Bernoulli(q), independent): the expected verdict of a document that has one more correct
    key than the other at the remaining positions, on a sign(…) scale."""
    w = q * (1.0 - q)
    n = length - 1
    dist = np.zeros(2 * n + 1)
    dist[n] = 1.0
    for _ in range(n):
        new = dist * (1.0 - 2.0 * w)
        new[1:] += dist[:-1] * w
        new[:-1] += dist[1:] * w
        dist = new
    return float(dist[n] + dist[n + 1])


def preference_fixed_point(beta_eff: float, length: int, alphabet_size: int
                           ) -> tuple[float, float]:
    """The mean-field fixed point ``(q, KL)`` of a preference learner with an exact KL leash
    ``beta_eff`` to the uniform policy, started uniform, hamming bananas.

    ``q`` is the probability of the target key at every position and ``KL`` the whole
    document's KL(π‖uniform) in nats. The expected step moves q up while
    ``F(q) = P(D = 0) + P(D = 1) − β_eff · log((A − 1) q / (1 − q)) > 0`` (see
    :mod:`monkeysim.experiments.noise`); the learner settles at the first root of F above
    1/A. ``beta_eff = 0`` has no leash: q → 1.
    """
    beta_eff = nonneg_float(beta_eff, "β")
    a = alphabet_size

    def f(q: float) -> float:
        return _tie_or_one(q, length) - beta_eff * math.log((a - 1) * q / (1 - q))

    qs = np.unique(np.concatenate([np.linspace(1.0 / a, 1.0, 2001)[1:-1],
                                   1.0 - np.logspace(-3, -12, 200)]))
    lo = 1.0 / a
    q = 1.0
    for hi in qs:
        if f(hi) <= 0:
            for _ in range(80):
                mid = 0.5 * (lo + hi)
                if f(mid) > 0:
                    lo = mid
                else:
                    hi = mid
            q = 0.5 * (lo + hi)
            break
        lo = hi
    if q >= 1.0:
        kl = length * math.log(a)
    else:
        kl = length * (q * math.log(a * q) + (1 - q) * math.log(a * (1 - q) / (a - 1)))
    return float(q), float(kl)


# --- the bound on a grid (for the figure) -----------------------------------------------------

@dataclass(frozen=True)
class BoundCurve:
    """The lower bound ``L·log2(A)/C`` (reviewer calls) on a fine grid of noise levels."""

    noise: str
    levels: tuple[float, ...]
    calls: tuple[float, ...]
    strict: bool


def bound_curves(length: int, alphabet_size: int, sigma_max: float = 4.0,
                 flip_max: float = 0.45, points: int = 200) -> list[BoundCurve]:
    """Both bounds for noisy scores (σ in [0, sigma_max]) and preferences (ε in
    [0, flip_max])."""
    out = []
    for noise, top in (("sigma", sigma_max), ("flip", flip_max)):
        levels = tuple(float(x) for x in np.linspace(0.0, top, points))
        for strict in (False, True):
            out.append(BoundCurve(noise, levels, tuple(
                bound_calls(noise, lv, length, alphabet_size, strict) for lv in levels),
                strict))
    return out
