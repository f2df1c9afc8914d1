"""Slow, obviously-correct references for monkeysim.learn.rollout: explicit loops over the text
tables, calling the reviewer on strings. No numpy arrays of the library are used except the
policy's probabilities where a policy is given (as nested lists)."""

from __future__ import annotations

import math


def probs_by_text(table, policy=None) -> dict[str, dict[str, float]]:
    """{query: {response: π(y|x)}} from the table rows (or from ``policy``)."""
    if policy is None:
        return {row.query: {y.response: y.p for y in row.responses} for row in table.rows}
    pi = policy.probs().tolist()
    return {q: {y: pi[i][j] for j, y in enumerate(table.responses[i])}
            for i, q in enumerate(table.queries)}


def expected_reward(table, reviewer, policy=None) -> float:
    """E_{x~D} Σ_y π(y|x) r(x, y) by a double loop over the text tables."""
    pi = probs_by_text(table, policy)
    total = 0.0
    for row in table.rows:
        inner = 0.0
        for y, p in pi[row.query].items():
            inner += p * reviewer(row.query, y)
        total += row.p * inner
    return total


def kl(table, policy, reference) -> float:
    """E_{x~D} Σ_y π log(π/π_ref), double loop, 0·log 0 = 0."""
    pi, ref = probs_by_text(table, policy), probs_by_text(table, reference)
    total = 0.0
    for row in table.rows:
        for y, p in pi[row.query].items():
            if p > 0:
                total += row.p * p * math.log(p / ref[row.query][y])
    return total


def estimator_variance(table, reviewer, n: int, k: int) -> float:
    """Var of (1/NK) Σ r by the law of total variance, enumerating (x, y)."""
    mus, sig2 = {}, {}
    for row in table.rows:
        mu = sum(y.p * reviewer(row.query, y.response) for y in row.responses)
        mus[row.query] = mu
        sig2[row.query] = sum(y.p * (reviewer(row.query, y.response) - mu) ** 2
                              for y in row.responses)
    mean = sum(row.p * mus[row.query] for row in table.rows)
    var_mu = sum(row.p * (mus[row.query] - mean) ** 2 for row in table.rows)
    e_sig2 = sum(row.p * sig2[row.query] for row in table.rows)
    var_one_query_mean = var_mu + e_sig2 / k  # Var of (1/K) Σ_k r(x, y_k)
    return var_one_query_mean / n


def finite_difference_gradient(f, theta, mask, h=1e-6):
    """Central differences of f(theta) for every entry with mask True (0 elsewhere)."""
    grad = [[0.0] * len(row) for row in theta]
    for i in range(len(theta)):
        for j in range(len(theta[i])):
            if not mask[i][j]:
                continue
            up = [r[:] for r in theta]
            dn = [r[:] for r in theta]
            up[i][j] += h
            dn[i][j] -= h
            grad[i][j] = (f(up) - f(dn)) / (2 * h)
    return grad
