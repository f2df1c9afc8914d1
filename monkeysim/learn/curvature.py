"""B_noise with the curvature term (McCandlish et al. 2018, eq. 2.6) for a positional
softmax policy, exactly (enumeration, tiny L and A) and estimated from one group of documents.

Objective ``J(θ) = E_π[r]``; per-document gradient ``g = a · s`` with ``a = r − b`` (a fixed
baseline b) and the score ``s = ∇ log π(x)``, rows ``e_{x_i} − p_i``; ``G = E[g]``, ``Σ =
Cov(g)``. A positional policy's log-likelihood has the same Hessian for every document,
``∇² log π = −D`` with ``D = blockdiag_i(diag p_i − p_i p_iᵀ)``, so the Hessian of J is
exactly

    H = E[a (s sᵀ − D)]            (any constant b: E[s sᵀ − D] = 0),

and for gradient *ascent* the curvature of the quadratic model is −H:

    B_noise = tr(HΣ) / (Gᵀ H G),   ε_max = |G|² / (−Gᵀ H G).

Both are meaningful only where J is concave along G (Gᵀ H G < 0). At the uniform policy with
hamming bananas Gᵀ H G > 0 for A > 2 (the expected reward is convex along the gradient where
every troop starts), so the curvature form is undefined there; the auto troop therefore
sizes itself from B_simple = tr Σ / |G|² (:mod:`monkeysim.learn.auto_troop`).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class CurvatureNoise:
    """|G|², tr Σ, Gᵀ H G and tr(HΣ) of one policy and reviewer, and the derived scales."""

    grad_sq: float
    trace_sigma: float
    g_h_g: float
    trace_h_sigma: float

    @property
    def b_simple(self) -> float:
        return self.trace_sigma / self.grad_sq

    @property
    def b_noise(self) -> float:
        """tr(HΣ) / (Gᵀ H G), documents (NaN unless J is concave along G)."""
        return self.trace_h_sigma / self.g_h_g if self.g_h_g < 0 else float("nan")

    @property
    def eps_max(self) -> float:
        """|G|² / (−Gᵀ H G), the best step size of a noiseless gradient (NaN unless concave)."""
        return self.grad_sq / -self.g_h_g if self.g_h_g < 0 else float("nan")


def _scores(prob: np.ndarray, docs: np.ndarray) -> np.ndarray:
    """Scores s of ``docs[n, L]`` as dense float64[n, L, A]."""
    n, length = docs.shape
    s = np.broadcast_to(-prob, (n, *prob.shape)).copy()
    s[np.arange(n)[:, None], np.arange(length)[None, :], docs] += 1.0
    return s


def _d_apply(prob: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``D v`` for v[..., L, A]: per row ``p ⊙ v − p (p · v)``."""
    return prob * v - prob * (prob * v).sum(axis=-1, keepdims=True)


def exact(prob: np.ndarray, reward, baseline: float = 0.0) -> CurvatureNoise:
    """Exact terms by enumerating all A^L documents of the positional policy ``prob[L, A]``
    (rows sum to 1); ``reward(docs[n, L]) -> r[n]``."""
    length, a = prob.shape
    docs = np.array(list(itertools.product(range(a), repeat=length)), dtype=np.int64)
    w = np.prod(prob[np.arange(length)[None, :], docs], axis=1)
    adv = np.asarray(reward(docs), dtype=float) - baseline
    s = _scores(prob, docs).reshape(len(docs), -1)
    g = adv[:, None] * s
    big_g = w @ g
    sigma = (g * w[:, None]).T @ g - np.outer(big_g, big_g)
    d = np.zeros((length * a, length * a))
    for i in range(length):
        p = prob[i]
        d[i * a:(i + 1) * a, i * a:(i + 1) * a] = np.diag(p) - np.outer(p, p)
    h = (s * (w * adv)[:, None]).T @ s - (w @ adv) * d
    return CurvatureNoise(float(big_g @ big_g), float(np.trace(sigma)),
                          float(big_g @ h @ big_g), float(np.sum(h * sigma)))


def estimate(prob: np.ndarray, docs: np.ndarray, adv: np.ndarray) -> CurvatureNoise:
    """Unbiased estimates from one group of independent documents ``docs[n, L]`` (n ≥ 6)
    typed from ``prob[L, A]`` with advantages ``adv[n] = r − b`` (a fixed baseline b).

    The group is split into thirds U, V, W (by index mod 3): ``Ĝ_U``, ``Ĝ_V`` are
    independent means of ``a s``, and the Hessian of W's documents ``Ĥ_W`` is used once, so
    ``Ĝ_Uᵀ Ĥ_W Ĝ_V`` is unbiased for ``Gᵀ H G`` and the mean over x ∈ U ∪ V of ``g_xᵀ Ĥ_W g_x``
    for ``E[gᵀ H g]``; then ``tr(HΣ) = E[gᵀ H g] − Gᵀ H G``. |G|² and tr Σ are the usual
    pair estimates over the whole group.
    """
    docs = np.asarray(docs)
    adv = np.asarray(adv, dtype=float)
    n = len(adv)
    if n < 6:
        raise ValueError(f"the curvature estimate needs at least 6 documents, got {n}")
    s = _scores(prob, docs)
    g = adv[:, None, None] * s
    u, v, wi = (np.arange(j, n, 3) for j in range(3))
    gu, gv = g[u].mean(axis=0), g[v].mean(axis=0)
    aw = adv[wi]
    sw = s[wi]

    def h_form(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """``xᵀ Ĥ_W y`` for x, y[..., L, A] (broadcast over the leading axis)."""
        sx = np.tensordot(x, sw, axes=([-2, -1], [1, 2]))  # [..., |W|]
        sy = np.tensordot(y, sw, axes=([-2, -1], [1, 2]))
        first = (sx * sy * aw).mean(axis=-1)
        return first - aw.mean() * (x * _d_apply(prob, y)).sum(axis=(-2, -1))

    ghg = float(h_form(gu, gv))
    x = g[np.concatenate([u, v])]
    e_ghg = float(h_form(x, x).mean())
    total = g.sum(axis=0)
    s1 = float((g * g).sum())
    s2 = float((total * total).sum()) / (n * n)
    grad_sq = (n * s2 - s1 / n) / (n - 1)
    trace_sigma = (s1 / n - s2) / (1.0 - 1.0 / n)
    return CurvatureNoise(grad_sq, trace_sigma, ghg, e_ghg - ghg)
