"""B_noise with the curvature term: the exact terms against finite differences of the
enumerated expected reward, the one-group estimator against the exact terms (z-test over
many groups), and the sign at the uniform policy."""

import itertools

import numpy as np
import pytest

from monkeysim.learn import curvature as CV

L, A = 2, 3
TARGET = np.array([0, 2])


def _prob(theta):
    e = np.exp(theta - theta.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _hamming(docs):
    return (np.asarray(docs) == TARGET).mean(axis=1)


def _prefix(docs):
    ok = np.cumprod(np.asarray(docs) == TARGET, axis=1)
    return ok.sum(axis=1) / L


def _j(theta, reward):
    """Exact E[r] by enumeration (plain loops)."""
    p = _prob(theta)
    total = 0.0
    for doc in itertools.product(range(A), repeat=L):
        w = 1.0
        for i, a in enumerate(doc):
            w *= p[i, a]
        total += w * reward(np.array([doc]))[0]
    return total


def _naive_terms(theta, reward, baseline):
    """G and Σ by enumeration, H by central finite differences of J."""
    p = _prob(theta)
    docs = list(itertools.product(range(A), repeat=L))
    gs, ws = [], []
    for doc in docs:
        s = -p.copy()
        for i, a in enumerate(doc):
            s[i, a] += 1.0
        gs.append((reward(np.array([doc]))[0] - baseline) * s.ravel())
        ws.append(np.prod([p[i, a] for i, a in enumerate(doc)]))
    gs, ws = np.array(gs), np.array(ws)
    g = ws @ gs
    sigma = (gs * ws[:, None]).T @ gs - np.outer(g, g)
    h = np.zeros((L * A, L * A))
    eps = 1e-4
    for i in range(L * A):
        for j in range(L * A):
            def j_at(di, dj, i=i, j=j):
                t = theta.ravel().copy()
                t[i] += di
                t[j] += dj
                return _j(t.reshape(L, A), reward)
            h[i, j] = (j_at(eps, eps) - j_at(eps, -eps) - j_at(-eps, eps)
                       + j_at(-eps, -eps)) / (4 * eps * eps)
    return g @ g, np.trace(sigma), g @ h @ g, np.sum(h * sigma)


@pytest.mark.parametrize("reward", [_hamming, _prefix])
def test_exact_matches_finite_differences(reward):
    theta = np.random.default_rng(1).normal(0, 0.8, (L, A))
    got = CV.exact(_prob(theta), reward, baseline=0.2)
    want = _naive_terms(theta, reward, 0.2)
    assert got.grad_sq == pytest.approx(want[0], rel=1e-9)
    assert got.trace_sigma == pytest.approx(want[1], rel=1e-9)
    assert got.g_h_g == pytest.approx(want[2], rel=1e-5, abs=1e-9)
    assert got.trace_h_sigma == pytest.approx(want[3], rel=1e-5, abs=1e-9)


@pytest.mark.parametrize("reward", [_hamming, _prefix])
def test_estimate_is_unbiased(reward):
    """Mean of the one-group estimates over many groups: within 4.5 standard errors of the
    exact terms (each of the four)."""
    theta = np.random.default_rng(2).normal(0, 1.0, (L, A))
    p = _prob(theta)
    exact = CV.exact(p, reward, baseline=0.3)
    rng = np.random.default_rng(3)
    groups, n = 4000, 12
    est = np.empty((groups, 4))
    for k in range(groups):
        docs = np.stack([rng.choice(A, size=n, p=p[i]) for i in range(L)], axis=1)
        e = CV.estimate(p, docs, reward(docs) - 0.3)
        est[k] = (e.grad_sq, e.trace_sigma, e.g_h_g, e.trace_h_sigma)
    mean = est.mean(axis=0)
    se = est.std(axis=0, ddof=1) / np.sqrt(groups)
    want = (exact.grad_sq, exact.trace_sigma, exact.g_h_g, exact.trace_h_sigma)
    for m, s, w in zip(mean, se, want, strict=True):
        assert abs(m - w) < 4.5 * s, (m, w, s)


def test_convex_along_the_gradient_at_the_uniform_policy():
    """Hamming bananas at θ = 0 with A > 2: Gᵀ H G > 0, so B_noise (curvature) and ε_max are
    undefined where a troop starts; after a step towards the target they are defined."""
    uniform = np.full((L, A), 1.0 / A)
    c0 = CV.exact(uniform, _hamming)
    assert c0.g_h_g > 0 and np.isnan(c0.b_noise) and np.isnan(c0.eps_max)
    theta = np.zeros((L, A))
    theta[np.arange(L), TARGET] = 3.0
    c1 = CV.exact(_prob(theta), _hamming)
    assert c1.g_h_g < 0 and c1.b_noise > 0 and c1.eps_max > 0
