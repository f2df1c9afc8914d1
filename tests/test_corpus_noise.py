"""The complete works under noise: `monkeysim shakespeare --reviewer-noise σ [--delta δ]`.

The noisy corpus kernel (``monkeysim._kernels.corpus_noise``) against its pure-Python
reference (``naive_corpus.naive_learn_line_noisy``), the score test's error rate at its δ
measured on many simulated inferences (Clopper–Pearson bounds), the noise's mean and variance
by stated tests, σ = 0 byte-identical to a run without the option, thread/chunking/backend
invariance with noise, and bad input.
"""

import hashlib
import json
import math
import os
import subprocess
import sys

import numba as nb
import numpy as np
import pytest
from conftest import assert_clean_error, run_cli
from hypothesis import given, settings
from hypothesis import strategies as st
from naive_corpus import FUTILE as N_FUTILE
from naive_corpus import GREEDY_EVERY as N_GREEDY_EVERY
from naive_corpus import MAX_SCORES as N_MAX_SCORES
from naive_corpus import SCREEN as N_SCREEN
from naive_corpus import SMALL_CHANGE as N_SMALL_CHANGE
from naive_corpus import (
    ST_CALLS,
    ST_EXACT,
    ST_KEYSTROKES,
    ST_RESCORES,
    ST_SETTLED,
    ST_SOLVED,
    naive_learn_line_noisy,
    naive_line_state,
    naive_noise_key,
    naive_normal,
)
from naive_corpus import STALL_STEPS as N_STALL_STEPS

from monkeysim import corpus
from monkeysim._kernels import corpus as kc
from monkeysim._kernels import corpus_noise as kn
from monkeysim.errors import InvalidInput
from monkeysim.experiments import shakespeare
from monkeysim.learn.corpus import (
    LINE_STATS_DTYPE,
    NOISY_CREDITS,
    ChunkTask,
    LearnSettings,
    line_stats,
    line_stats_array,
    noise_counts,
    type_chunk,
)
from monkeysim.stats import ks_critical

U64 = (1 << 64) - 1


# --- the reference -----------------------------------------------------------------------

def test_constants_match_reference():
    assert (kn.GREEDY_EVERY, kn.SMALL_CHANGE, kn.SCREEN, kn.FUTILE, kn.MAX_SCORES,
            kn.STALL_STEPS) == (N_GREEDY_EVERY, N_SMALL_CHANGE, N_SCREEN, N_FUTILE,
                                N_MAX_SCORES, N_STALL_STEPS)


@pytest.mark.parametrize("key", [0, 1, 0xDEADBEEFCAFEF00D, U64])
def test_noise_key_matches_reference(key):
    got = int(kn.noise_key(np.uint64(key)))
    assert got == naive_noise_key(key)
    assert got != key


def test_normal_matches_reference():
    from naive import Xoshiro256

    from monkeysim._kernels.policy import normal

    state = kc.line_state(np.uint64(5), 3)
    ref = Xoshiro256([int(x) for x in state])
    for _ in range(200):
        assert normal(state) == pytest.approx(naive_normal(ref), rel=0, abs=1e-13)


def run_kernel(target, a_size, group, lr, credit, max_calls, sigma, delta, key=0, index=0):
    target = np.asarray(target, np.uint8)
    doc = np.zeros(target.shape[0], np.uint8)
    stats = np.zeros(kc.N_ST, np.int64)
    key = np.uint64(key)
    bananas = kn.learn_line_noisy(target, a_size, group, float(lr), credit, max_calls,
                                  float(sigma), float(delta), kc.line_state(key, index),
                                  kc.line_state(np.uint64(kn.noise_key(key)), index), doc, stats)
    return doc.tolist(), stats.tolist(), float(bananas)


def run_naive(target, a_size, group, lr, credit, max_calls, sigma, delta, key=0, index=0):
    return naive_learn_line_noisy(list(target), a_size, group, float(lr), credit, max_calls,
                                  float(sigma), float(delta), naive_line_state(key, index),
                                  naive_line_state(naive_noise_key(key), index))


def assert_same(got, ref):
    (doc, stats, bananas), (ndoc, nstats, nbananas) = got, ref
    assert doc == ndoc
    assert stats == nstats
    assert bananas == pytest.approx(nbananas, rel=1e-12, abs=1e-9)


@st.composite
def noisy_lines(draw):
    a = draw(st.integers(2, 9))
    target = draw(st.lists(st.integers(0, a - 1), min_size=1, max_size=10))
    return dict(target=target, a_size=a, group=draw(st.integers(2, 6)),
                lr=draw(st.sampled_from([0.3, 1.0])), max_calls=draw(st.integers(1, 4000)),
                sigma=draw(st.sampled_from([0.05, 0.3, 0.5, 1.0])),
                delta=draw(st.sampled_from([1e-3, 0.05, 0.3])),
                key=draw(st.integers(0, U64)), index=draw(st.integers(0, 2**32)))


@pytest.mark.parametrize("credit", range(4), ids=NOISY_CREDITS)
@settings(max_examples=20, deadline=None)
@given(case=noisy_lines())
def test_kernel_matches_naive(credit, case):
    assert_same(run_kernel(credit=credit, **case), run_naive(credit=credit, **case))


FIXED = [
    # target, a_size, group, lr, max_calls, sigma, delta
    ([1], 2, 2, 1.0, 50, 0.5, 1e-3),
    ([3, 2, 4, 1, 4, 4, 7, 8], 9, 4, 0.5, 20_000, 0.5, 1e-3),
    ([5, 0, 11, 11, 2, 9, 7, 1, 0, 3, 10, 6], 12, 8, 0.5, 50_000, 0.5, 1e-3),
    ([1, 0, 1, 1, 0, 1, 0, 0, 1, 1, 1, 0], 2, 4, 1.0, 20_000, 1.0, 0.2),
    ([2, 2, 2, 2], 3, 5, 0.3, 5_000, 2.0, 0.01),
]


@pytest.mark.parametrize("credit", range(4), ids=NOISY_CREDITS)
@pytest.mark.parametrize("case", FIXED)
def test_kernel_matches_naive_fixed(credit, case):
    target, a, g, lr, mc, sigma, delta = case
    for index in range(3):
        args = (target, a, g, lr, credit, mc, sigma, delta, 99, index)
        assert_same(run_kernel(*args), run_naive(*args))


def test_learn_lines_noisy_matches_naive_per_line():
    """Line j of a chunk types from line_state(key, first + j) and draws its noise from
    line_state(noise_key(key), first + j)."""
    rng = np.random.default_rng(5)
    a, key, first = 5, 777, 40
    lens = rng.integers(1, 9, 10)
    offsets = np.zeros(11, np.int64)
    np.cumsum(lens, out=offsets[1:])
    codes = rng.integers(0, a, offsets[-1]).astype(np.uint8)
    typed = np.empty_like(codes)
    stats = np.zeros((10, kc.N_ST), np.int64)
    bananas = np.zeros(10)
    kn.learn_lines_noisy(codes, offsets, first, np.uint64(key), a, 4, 0.5, kc.ZERO_HITS, 5000,
                         0.5, 1e-3, typed, stats, bananas)
    for j in range(10):
        t = codes[offsets[j]:offsets[j + 1]].tolist()
        got = (typed[offsets[j]:offsets[j + 1]].tolist(), stats[j].tolist(), float(bananas[j]))
        assert_same(got, run_naive(t, a, 4, 0.5, kc.ZERO_HITS, 5000, 0.5, 1e-3, key, first + j))


# --- properties --------------------------------------------------------------------------

@pytest.mark.parametrize("credit", range(4), ids=NOISY_CREDITS)
@settings(max_examples=30, deadline=None)
@given(case=noisy_lines())
def test_kernel_properties(credit, case):
    doc, stats, bananas = run_kernel(credit=credit, **case)
    n, mc = len(case["target"]), case["max_calls"]
    calls = stats[ST_CALLS]
    assert stats[ST_SOLVED] in (0, 1) and stats[ST_EXACT] == int(doc == case["target"])
    assert 0 <= calls <= mc
    assert stats[ST_KEYSTROKES] == calls * n
    assert 0 <= stats[ST_RESCORES] <= calls
    assert 0 <= stats[ST_SETTLED] <= n
    assert math.isfinite(bananas)


def test_short_lines_are_claimed_and_right():
    """300 short random lines at σ = 0.5, δ = 10⁻³: every line ends within its budget, and
    the claims are right (a wrong claim has chance ≤ δ per line: P(any of 300) ≤ 0.3, and
    at this size the tests' real error is far smaller, so none is expected)."""
    rng = np.random.default_rng(17)
    a = 6
    lens = rng.integers(1, 12, 300)
    offsets = np.zeros(301, np.int64)
    np.cumsum(lens, out=offsets[1:])
    codes = rng.integers(0, a, offsets[-1]).astype(np.uint8)
    for credit in NOISY_CREDITS:
        r = type_chunk(ChunkTask(0, codes, offsets, 0, 4242, a,
                                 LearnSettings(monkeys=4, lr=0.5, credit=credit,
                                               max_reviewer_calls=200_000,
                                               reviewer_noise=0.5)))
        assert r.stats["solved"].all(), credit
        assert np.array_equal(r.typed, codes), credit
        if credit != "plain":
            assert r.stats["rescores"].sum() > 0


# --- the score test: error rate at its δ -------------------------------------------------

@nb.njit
def _simulate(truth, lo, hi, n, sigma, delta, thr_end, cands, screen, futile, max_scores,
              first_free, trials, key):
    """``trials`` score tests of a document whose score is ``truth`` (the kernel's
    :func:`score_test`, each on its own noise stream). Returns (wrong decisions, decided,
    scores used)."""
    thr = math.log(2.0 / delta)
    wrong = 0
    decided = 0
    used = 0
    for t in range(trials):
        nstate = kc.line_state(key, t)
        s, c = 0.0, 0
        if first_free:  # a typed document: its first score comes from the group
            s, c = kn.noisy_score(truth, sigma, nstate), 1
        v, _, _, c, _, _ = kn.score_test(truth, s, c, lo, hi, n, sigma, thr, thr_end, cands,
                                         screen, futile, max_scores, 1 << 30, nstate)
        used += c
        if v >= 0:
            decided += 1
            wrong += 1 if v != truth else 0
    return wrong, decided, used


def _binom_cdf(k, n, p):
    """P(X ≤ k) for X ~ Binomial(n, p), summed in log space."""
    if p <= 0:
        return 1.0
    if p >= 1:
        return 0.0 if k < n else 1.0
    lp, lq = math.log(p), math.log1p(-p)
    return sum(math.exp(math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1)
                        + i * lp + (n - i) * lq) for i in range(k + 1))


def clopper_pearson_upper(k, n, alpha=0.05):
    """Upper end of the two-sided (1 − alpha) Clopper–Pearson interval of a binomial
    proportion: the p with P(X ≤ k | p) = alpha/2 (bisection; the CDF falls as p grows)."""
    if k >= n:
        return 1.0
    lo, hi = k / n, 1.0
    for _ in range(100):
        mid = (lo + hi) / 2
        if _binom_cdf(k, n, mid) > alpha / 2:
            lo = mid
        else:
            hi = mid
    return hi


def test_clopper_pearson_upper_known_values():
    assert clopper_pearson_upper(0, 100) == pytest.approx(1 - 0.025 ** (1 / 100), rel=1e-9)
    assert clopper_pearson_upper(5, 100) == pytest.approx(0.11283, abs=1e-4)


DELTA = 0.02  # large enough that errors are seen, so the bound is measured, not assumed
SIGMA = 0.5
N = 40

# (name, truth, facts lo, hi, candidates, typed document?) — each truth sits next to a
# value the test could wrongly decide: the hardest cases for the bound
SCENARIOS = [
    ("greedy, two-sided, truth in the middle", 20, 17, 23, [], False),
    ("greedy, truth at a bound", 17, 17, 23, [], False),
    ("greedy, truth next to a bound", 18, 17, 23, [], False),
    ("zero-hit drop, one more hit", 6, 5, 9, [5], True),
    ("zero-hit drop, truth exact", 5, 5, 9, [5], True),
    ("settle up, one short", 11, 5, 12, [12, 10], True),
    ("settle down, one above", 11, 10, 14, [10, 14], True),
    ("drop both (|S| = 1), moved", 13, 11, 13, [13, 11, 12], True),
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s[0] for s in SCENARIOS])
def test_score_test_error_rate_at_delta(scenario):
    """Ville's inequality bounds the chance that a decided score is wrong by δ, whatever the
    screening, futility and caps. Measured on 40,000 simulated inferences at δ = 0.02: the
    95% Clopper–Pearson upper bound of the error rate must be ≤ δ."""
    _, truth, lo, hi, cands, typed = scenario
    trials = 40_000
    wrong, decided, _ = _simulate(truth, lo, hi, N, SIGMA, DELTA, math.log(2 / DELTA),
                                  np.array(cands, np.int64), kn.SCREEN, kn.FUTILE,
                                  kn.MAX_SCORES if cands else 1 << 30, typed, trials,
                                  np.uint64(hash(scenario[0]) & U64))
    assert decided > 0
    upper = clopper_pearson_upper(wrong, trials)
    assert upper <= DELTA, (wrong, decided, trials, upper)


def test_end_test_error_rate_is_alpha_spent():
    """The j-th test that could end a line needs λ⁻(L) ≥ log(π² j² / 6δ); with the greedy
    document one key short, the chance that the first test claims the line is at most
    6δ/π² (measured: 95% Clopper–Pearson upper bound below it)."""
    delta = 0.05
    bound = 6 * delta / math.pi**2
    trials = 40_000
    wrong, _, _ = _simulate(N - 1, N - 2, N, N, SIGMA, delta,
                            math.log(math.pi**2 / (6 * delta)), np.empty(0, np.int64), 0.0,
                            3.0, 1 << 30, False, trials, np.uint64(11))
    upper = clopper_pearson_upper(wrong, trials)
    assert upper <= bound, (wrong, trials, upper, bound)


def test_score_test_decides_the_truth_quickly():
    """Power: with σ = 0.5 the two-sided greedy test always decides, in about 6 scores, and
    at δ = 10⁻³ its measured error is below δ too (40,000 inferences)."""
    trials = 40_000
    wrong, decided, used = _simulate(20, 17, 23, N, SIGMA, 1e-3, math.log(2e3),
                                     np.empty(0, np.int64), 0.0, 3.0, 1 << 30, False, trials,
                                     np.uint64(3))
    assert decided == trials and clopper_pearson_upper(wrong, trials) <= 1e-3
    assert used / decided < 8


# --- the noise ---------------------------------------------------------------------------

@nb.njit
def _noise_sample(h, sigma, key, out):
    nstate = kc.line_state(key, 0)
    for i in range(out.shape[0]):
        out[i] = kn.noisy_score(h, sigma, nstate)


def test_noise_mean_and_variance():
    """200,000 scores of a document with 7 correct keys at σ = 0.8 characters. Mean: z-test,
    |mean − 7| ≤ 4.5·σ/√N. Variance: the sample variance's standard error is σ²·√(2/(N−1))
    for Gaussian data, |s² − σ²| ≤ 4.5 of them. Shape: Kolmogorov–Smirnov against
    N(7, σ²) at α = 10⁻⁴ (asymptotic critical value)."""
    n, sigma = 200_000, 0.8
    y = np.empty(n)
    _noise_sample(7, sigma, np.uint64(2024), y)
    assert abs(y.mean() - 7) <= 4.5 * sigma / math.sqrt(n)
    assert abs(y.var(ddof=1) - sigma**2) <= 4.5 * sigma**2 * math.sqrt(2 / (n - 1))
    x = np.sort((y - 7) / sigma)
    cdf = np.array([0.5 * (1 + math.erf(v / math.sqrt(2))) for v in x])
    i = np.arange(1, n + 1)
    d = max(np.max(i / n - cdf), np.max(cdf - (i - 1) / n))
    assert d <= ks_critical(n, 1e-4)


def test_noise_streams_differ_between_lines():
    a, b = np.empty(1000), np.empty(1000)
    _noise_sample(0, 1.0, np.uint64(kn.noise_key(np.uint64(1))), a)
    _noise_sample(0, 1.0, np.uint64(kn.noise_key(np.uint64(2))), b)
    assert abs(np.corrcoef(a, b)[0, 1]) < 0.15


# --- settings ----------------------------------------------------------------------------

def test_settings_without_noise_keep_their_records():
    d = LearnSettings().to_dict()
    assert "reviewer_noise" not in d and "delta" not in d
    d = LearnSettings(reviewer_noise=0.5, delta=0.01).to_dict()
    assert d["reviewer_noise"] == 0.5 and d["delta"] == 0.01


@pytest.mark.parametrize("kwargs", [
    dict(reviewer_noise=-0.1), dict(reviewer_noise=math.nan), dict(reviewer_noise=math.inf),
    dict(reviewer_noise="1"), dict(reviewer_noise=True), dict(delta=0), dict(delta=1),
    dict(delta=1.5), dict(delta=-0.1), dict(delta=math.nan), dict(delta="0.1"),
])
def test_settings_bad_noise(kwargs):
    with pytest.raises(InvalidInput):
        LearnSettings(**kwargs)


def test_noise_counts():
    stats = np.zeros(4, LINE_STATS_DTYPE)
    stats["solved"] = [1, 1, 1, 0]
    stats["exact"] = [1, 0, 1, 0]
    stats["rescores"] = [3, 0, 5, 1]
    stats["resets"] = [0, 1, 0, 0]
    stats["calls"] = [9, 9, 9, 9]  # not counted
    assert noise_counts(stats) == {
        "lines_claimed_exact": 3, "lines_exact_checked": 2, "lines_wrong": 2,
        "lines_wrong_claimed": 1, "reviewer_rescores": 9, "credit_resets": 1}


# --- type_chunk: zero noise, chunking, threads -------------------------------------------

def _task(sigma=0.5, n_lines=24, seed=8, credit="zero-hits"):
    rng = np.random.default_rng(seed)
    lens = rng.integers(1, 15, n_lines)
    offsets = np.zeros(n_lines + 1, np.int64)
    np.cumsum(lens, out=offsets[1:])
    codes = rng.integers(0, 6, offsets[-1]).astype(np.uint8)
    return ChunkTask(0, codes, offsets, 0, 0xFEEDFACE12345678, 6,
                     LearnSettings(monkeys=5, lr=0.7, credit=credit, max_reviewer_calls=20_000,
                                   reviewer_noise=sigma))


def test_zero_noise_is_the_noiseless_kernel():
    task = _task(sigma=0.0)
    r = type_chunk(task)
    typed = np.empty_like(task.codes)
    stats = np.zeros((24, kc.N_ST), np.int64)
    bananas = np.zeros(24)
    kc.learn_lines(task.codes, task.offsets, 0, np.uint64(task.key), 6, 5, 0.7, kc.ZERO_HITS,
                   20_000, typed, stats, bananas)
    assert np.array_equal(r.typed, typed) and np.array_equal(r.stats, line_stats(stats))
    assert np.array_equal(line_stats_array(r.stats), stats)
    assert np.array_equal(r.bananas, bananas)


def test_noisy_chunk_independent_of_chunking():
    from test_corpus_learn import _split

    task = _task()
    whole = type_chunk(task)
    assert whole.stats["rescores"].sum() > 0
    parts = [type_chunk(t) for t in _split(task, [0, 1, 9, 10, 24])]
    assert np.array_equal(np.concatenate([p.typed for p in parts]), whole.typed)
    assert np.array_equal(np.concatenate([p.stats for p in parts]), whole.stats)
    assert np.array_equal(np.concatenate([p.bananas for p in parts]), whole.bananas)
    noiseless = type_chunk(_task(sigma=0.0))
    assert not np.array_equal(noiseless.stats, whole.stats)


_THREADS_CHILD = """
import hashlib, sys
sys.path.insert(0, {tests!r})
import numpy as np
from monkeysim.learn.corpus import NOISY_CREDITS, type_chunk
from test_corpus_noise import _task
h = hashlib.sha256()
for credit in NOISY_CREDITS:
    r = type_chunk(_task(n_lines=48, credit=credit))
    for arr in (r.typed, r.stats, r.bananas):
        h.update(np.ascontiguousarray(arr).tobytes())
print(h.hexdigest())
"""


def _child(env_extra, code):
    env = dict(os.environ, **env_extra)
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                       timeout=600)
    assert p.returncode == 0, p.stderr
    return p.stdout.strip()


_JIT_CHILD = """
import json, warnings
warnings.simplefilter("ignore")
import numpy as np
from monkeysim._kernels import corpus as kc
from monkeysim._kernels import corpus_noise as kn
rng = np.random.default_rng(3)
out = []
for credit in range(4):
    lens = rng.integers(1, 7, 4)
    offsets = np.zeros(5, np.int64)
    np.cumsum(lens, out=offsets[1:])
    codes = rng.integers(0, 4, offsets[-1]).astype(np.uint8)
    typed = np.empty_like(codes)
    stats = np.zeros((4, kc.N_ST), np.int64)
    bananas = np.zeros(4)
    kn.learn_lines_noisy(codes, offsets, 2, np.uint64(2**64 - 5), 4, 3, 1.0, credit, 400, 0.5,
                         0.01, typed, stats, bananas)
    out.append([typed.tolist(), stats.tolist(), [float(b).hex() for b in bananas]])
print(json.dumps(out))
"""


@pytest.mark.parity
def test_noisy_jit_and_pure_python_agree():
    """learn_lines_noisy compiled and as plain Python (NUMBA_DISABLE_JIT=1)."""
    assert _child({"NUMBA_DISABLE_JIT": "1"}, _JIT_CHILD) == _child({}, _JIT_CHILD)


def test_noisy_chunk_one_and_two_threads_identical_subprocess():
    code = _THREADS_CHILD.format(tests=os.path.dirname(os.path.abspath(__file__)))
    one = _child({"NUMBA_NUM_THREADS": "1"}, code)
    two = _child({"NUMBA_NUM_THREADS": "2"}, code)
    assert one == two
    h = hashlib.sha256()
    for credit in NOISY_CREDITS:
        r = type_chunk(_task(n_lines=48, credit=credit))
        for arr in (r.typed, r.stats, r.bananas):
            h.update(np.ascontiguousarray(arr).tobytes())
    assert h.hexdigest() == one


# --- the command -------------------------------------------------------------------------

RESULT_FILES = ("typed.txt", "summary.json")


def _run_json(out, *args, env=None):
    p = run_cli("shakespeare", "--json", "--out", out, *args, env=env)
    assert p.returncode in (0, 1), p.stderr
    return json.loads(p.stdout)


def _bytes(out):
    return {name: (out / name).read_bytes() for name in RESULT_FILES}


def test_zero_noise_is_byte_identical_to_no_option(tmp_path):
    _run_json(tmp_path / "a", "--seed", "2")
    _run_json(tmp_path / "b", "--seed", "2", "--reviewer-noise", "0", "--delta", "0.01")
    assert _bytes(tmp_path / "a") == _bytes(tmp_path / "b")
    s = json.loads((tmp_path / "a" / "summary.json").read_text())
    assert "lines_exact_checked" not in s and "reviewer_noise" not in s["config"]["learn"]


def test_noisy_excerpt_end_to_end(tmp_path):
    d = _run_json(tmp_path / "a", "--reviewer-noise", "0.5", "--chunk-lines", "16")
    lines = corpus.load(source="excerpt")
    assert d["config"]["learn"]["reviewer_noise"] == 0.5 and d["config"]["learn"]["delta"] == 1e-3
    assert d["lines_claimed_exact"] == d["lines_solved"] == len(lines)
    typed = (tmp_path / "a" / "typed.txt").read_text(encoding="utf-8").splitlines()
    exact = sum(t == x.text for t, x in zip(typed, lines, strict=True))
    assert d["lines_exact_checked"] == exact and d["lines_wrong"] == len(lines) - exact
    assert d["sha256_match"] == (exact == len(lines))
    assert d["reviewer_rescores"] > 0
    quiet = _run_json(tmp_path / "q", "--chunk-lines", "16")
    assert d["reviewer_calls"] > quiet["reviewer_calls"]
    p = run_cli("shakespeare", "--out", tmp_path / "t", "--reviewer-noise", "0.5", "--quiet")
    assert "claimed typed by the reviewer's scores" in p.stdout
    assert "exact against the corpus" in p.stdout and "σ = 0.5" in p.stdout


def test_noisy_run_same_bytes_on_1_and_2_threads_and_any_chunking(tmp_path):
    args = ("--seed", "3", "--reviewer-noise", "0.7", "--delta", "0.01")
    a = _run_json(tmp_path / "a", *args, env={"NUMBA_NUM_THREADS": "1"})
    b = _run_json(tmp_path / "b", *args, "--chunk-lines", "7", env={"NUMBA_NUM_THREADS": "2"})
    assert a["threads"] == 1 and b["threads"] == 2
    sa, sb = _bytes(tmp_path / "a"), _bytes(tmp_path / "b")
    assert sa["typed.txt"] == sb["typed.txt"]
    da, db = (json.loads(s["summary.json"]) for s in (sa, sb))
    for d in (da, db):
        d.pop("chunks")
        d["config"].pop("chunk_lines")
    assert da == db


def test_noisy_resume_with_other_noise_is_refused(tmp_path):
    out = tmp_path / "r"
    _run_json(out, "--plays", "macbeth", "--excerpt", "--reviewer-noise", "0.5")
    before = _bytes(out)
    assert_clean_error(run_cli("shakespeare", "--plays", "macbeth", "--excerpt",
                               "--reviewer-noise", "0.6", "--out", out, "--resume"),
                       "--resume", "other options")
    assert _bytes(out) == before


@pytest.mark.parametrize("args, fragment", [
    (("--reviewer-noise", "-0.5"), "reviewer noise σ"),
    (("--reviewer-noise", "nan"), "reviewer noise σ"),
    (("--reviewer-noise", "inf"), "reviewer noise σ"),
    (("--reviewer-noise", "x"), "--reviewer-noise"),
    (("--reviewer-noise", "0.5", "--delta", "0"), "delta"),
    (("--reviewer-noise", "0.5", "--delta", "1"), "delta"),
    (("--reviewer-noise", "0.5", "--delta", "2"), "delta"),
    (("--reviewer-noise", "0.5", "--delta", "-0.1"), "delta"),
    (("--delta", "nan"), "delta"),
])
def test_bad_noise_input_one_line_nothing_written(tmp_path, args, fragment):
    out = tmp_path / "out"
    assert_clean_error(run_cli("shakespeare", "--out", out, *args), fragment)
    assert not out.exists()


def test_dask_same_bytes_with_noise(tmp_path):
    pytest.importorskip("distributed", reason="optional extra 'distributed' not installed")
    from monkeysim.experiments import dask_backend as db

    lines = corpus.load(source="excerpt")
    config = shakespeare.ShakespeareConfig(
        learn=LearnSettings(reviewer_noise=0.5), chunk_lines=8, seed=7)
    shakespeare.run(lines, config, tmp_path / "local", quiet=True)
    backend = db.dask_backend(workers=2, scheduler=None, threads=None)
    try:
        d = shakespeare.run(lines, config, tmp_path / "dask", backend=backend, quiet=True)
    finally:
        backend.close()
    assert d["backend"] == "dask" and d["workers"] == 2
    assert _bytes(tmp_path / "dask") == _bytes(tmp_path / "local")
