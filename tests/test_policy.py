"""Character policies: log-probabilities, sampling, greedy documents, exact KL and entropy
against brute force over all A**L documents (tests/naive.py), and the KL estimators."""

import math
from statistics import NormalDist

import naive
import numpy as np
import pytest

from monkeysim.alphabet import named
from monkeysim.errors import InvalidInput
from monkeysim.policy import CharPolicy, PolicySpec

A, L = 3, 3
ALPHA = 1e-3  # family-wise error rate of every statistical test in this file


def z_crit(tests: int = 1) -> float:
    """Two-sided z critical value at family-wise level ALPHA over ``tests`` tests (Bonferroni)."""
    return NormalDist().inv_cdf(1 - ALPHA / (2 * tests))


def chi2_crit(dof: int) -> float:
    """Upper ALPHA point of chi-square(dof) (Wilson–Hilferty)."""
    z = NormalDist().inv_cdf(1 - ALPHA)
    return dof * (1 - 2 / (9 * dof) + z * math.sqrt(2 / (9 * dof))) ** 3


SPECS = [("positional", 1), ("context", 1), ("context", 2), ("context", 3)]


def _policy(kind, order, seed=0, scale=1.0):
    spec = PolicySpec(kind, L, A, order)
    theta = np.random.default_rng(seed).normal(size=spec.shape) * scale
    return CharPolicy(spec, theta)


@pytest.mark.parametrize("kind, order", SPECS)
def test_log_probs_sum_to_one_and_match_naive(kind, order):
    pol = _policy(kind, order)
    docs = naive.all_documents(L, A)
    lp = pol.log_prob(np.array(docs, dtype=np.uint8))[0]
    assert math.isclose(np.exp(lp).sum(), 1.0, rel_tol=1e-12)
    logp = naive.log_softmax_rows(pol.theta[0].tolist())
    ref = [naive.doc_log_prob(logp, kind, order, A, d) for d in docs]
    np.testing.assert_allclose(lp, ref, rtol=0, atol=1e-12)


@pytest.mark.parametrize("kind, order", SPECS)
def test_tables_match_naive(kind, order):
    pol = _policy(kind, order, seed=1, scale=3.0)
    logp, prob, cdf = pol.tables()
    nl, npr, nc = naive.naive_tables(pol.theta[0].tolist())
    np.testing.assert_allclose(logp[0], nl, atol=1e-14)
    np.testing.assert_allclose(prob[0], npr, atol=1e-15)
    np.testing.assert_allclose(cdf[0], nc, atol=1e-15)
    assert np.all(np.diff(cdf[0], axis=1) >= 0)


@pytest.mark.parametrize("kind, order", SPECS)
def test_exact_kl_entropy_match_enumeration(kind, order):
    p = _policy(kind, order, seed=2)
    q = _policy(kind, order, seed=3)
    kl, h = p.kl_entropy(q)
    nkl, nh = naive.exact_kl_entropy(p.theta[0].tolist(), q.theta[0].tolist(), kind, order,
                                     A, L)
    assert kl[0] == pytest.approx(nkl, abs=1e-12) and kl[0] > 0
    assert h[0] == pytest.approx(nh, abs=1e-12)
    assert p.kl(p)[0] == pytest.approx(0.0, abs=1e-12)
    # no reference: KL to the uniform policy = L log A − H
    assert p.kl()[0] == pytest.approx(L * math.log(A) - h[0], abs=1e-12)


@pytest.mark.parametrize("kind, order", SPECS)
def test_sampling_frequencies_chi_square(kind, order):
    """Documents sampled by the kernel follow π(doc): chi-square over all A**L documents."""
    pol = _policy(kind, order, seed=4)
    n = 30_000
    docs = pol.sample(n, seed=11)[0]
    index = (docs.astype(np.int64) * A ** np.arange(L - 1, -1, -1)).sum(axis=1)
    counts = np.bincount(index, minlength=A**L)
    all_docs = np.array(naive.all_documents(L, A), dtype=np.uint8)  # same order as index
    expected = n * np.exp(pol.log_prob(all_docs)[0])
    chi2 = float(((counts - expected) ** 2 / expected).sum())
    assert chi2 < chi2_crit(A**L - 1), chi2


def test_sampling_is_reproducible_and_per_policy():
    pol = CharPolicy(PolicySpec("positional", 5, 4), np.zeros((3, 5, 4)))
    a, b = pol.sample(7, seed=5), pol.sample(7, seed=5)
    assert np.array_equal(a, b)
    assert not np.array_equal(a[0], a[1])  # each policy has its own stream
    assert not np.array_equal(a, pol.sample(7, seed=6))


@pytest.mark.parametrize("kind, order", SPECS)
def test_greedy_document_is_the_argmax_path(kind, order):
    pol = _policy(kind, order, seed=6)
    g = pol.greedy()[0].tolist()
    logp = naive.log_softmax_rows(pol.theta[0].tolist())
    doc = []
    for i in range(L):
        row = naive.policy_rows(kind, order, A, doc + [0])[i]
        doc.append(int(np.argmax(logp[row])))
    assert g == doc


def test_kl_estimators_match_exact_kl():
    """k1 = log π/π_ref and k3 = Σ_tokens (π_ref/π − 1 − log π_ref/π) are unbiased for the
    exact KL; both means agree with it within z·se at a fixed seed, and k3 ≥ 0 per doc."""
    kind, order = "context", 2
    p = _policy(kind, order, seed=7)
    q = _policy(kind, order, seed=8)
    kl = p.kl(q)[0]
    n = 40_000
    docs = p.sample(n, seed=3)[0]
    k1 = p.log_prob(docs)[0] - q.log_prob(docs)[0]
    lp, lq = p.log_probs()[0], q.log_probs()[0]
    k3 = np.zeros(n)
    for j, d in enumerate(docs.tolist()):
        for row, key in zip(naive.policy_rows(kind, order, A, d), d, strict=True):
            r = lq[row, key] - lp[row, key]
            k3[j] += math.expm1(r) - r
    assert (k3 >= 0).all()
    for est in (k1, k3):
        z = (est.mean() - kl) / (est.std(ddof=1) / math.sqrt(n))
        assert abs(z) < z_crit(2), (z, est.mean(), kl)


def test_pretrained_counts_the_text():
    alpha = named("upper27")
    pol = CharPolicy.pretrained("ABAB", alpha, order=2, length=4, smoothing=0.5)
    probs = pol.probs()[0]
    spec = pol.spec
    start = spec.rows - 1
    a, b = alpha.encode("AB").tolist()
    # after the start symbol the text has A once; after A, B twice; after B, A once
    assert probs[start].argmax() == a
    assert probs[a * spec.base + a].sum() == pytest.approx(1.0)
    row_a = (start * spec.base + a) % spec.rows
    assert probs[row_a].argmax() == b
    assert probs[row_a, b] == pytest.approx(2.5 / (2 + 0.5 * 27))
    assert pol.greedy()[0].tolist() == alpha.encode("ABAB").tolist()


@pytest.mark.parametrize("make, fragment", [
    (lambda: PolicySpec("ngram", 3, 3), "policy must be one of"),
    (lambda: PolicySpec("positional", 3, 3, order=2), "needs --policy context"),
    (lambda: PolicySpec("context", 0, 3), "document length"),
    (lambda: PolicySpec("context", 5, 300), "at most 255"),
    (lambda: PolicySpec("context", 5, 27, order=7), "at most"),
    (lambda: CharPolicy(PolicySpec("positional", 3, 3), np.zeros((2, 3))), "shape"),
    (lambda: CharPolicy(PolicySpec("positional", 2, 2), [[0, np.nan], [0, 0]]), "finite"),
    (lambda: CharPolicy.positional(3, 3).kl(CharPolicy.positional(4, 3)),
     "reference policy has the wrong shape"),
    (lambda: CharPolicy.positional(3, 3).kl(CharPolicy.positional(3, 3, policies=2)),
     "single policy"),
    (lambda: CharPolicy.positional(3, 3).log_prob(np.zeros((2, 4), dtype=np.uint8)), "shape"),
    (lambda: CharPolicy.positional(3, 3).log_prob(np.full((2, 3), 3, dtype=np.uint8)),
     "outside the alphabet"),
    (lambda: CharPolicy.pretrained("", named("upper27"), 2, 3), "empty"),
])
def test_bad_inputs(make, fragment):
    with pytest.raises(InvalidInput, match=fragment):
        make()
