"""The ``count-split`` credit level (``monkeysim._kernels.corpus_count``).

Parity with the pure-Python reference (``naive_corpus_count.py``) bit for bit on random lines
and on a few hundred lines of text; the scores prove what the kernel concludes (brute force
over every line of length L ≤ 6 over A ≤ 5 keys: the right key is never excluded, and a
line ends only when it is the one line consistent with every score); the run's key order;
noise is refused.
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from naive_corpus_count import consistent_keys, naive_count_split_line

from monkeysim import corpus
from monkeysim._kernels import corpus as kc
from monkeysim._kernels import corpus_count as kcc
from monkeysim.errors import InvalidInput
from monkeysim.experiments import shakespeare
from monkeysim.learn.corpus import (
    NOISY_CREDITS,
    ChunkTask,
    LearnSettings,
    encode,
    frequency_order,
    type_chunk,
)

BIG = 10**9


def run_kernel(target, order, max_calls):
    target = np.asarray(target, np.uint8)
    doc = np.zeros(target.shape[0], np.uint8)
    stats = np.zeros(kc.N_ST, np.int64)
    bananas = kcc.count_split_line(target, np.asarray(order, np.uint8), max_calls, doc, stats)
    return doc.tolist(), stats.tolist(), float(bananas)


def assert_same(target, order, max_calls):
    got = run_kernel(target, order, max_calls)
    doc, stats, bananas, _ = naive_count_split_line(target, order, max_calls)
    assert got == (doc, stats, bananas)  # bananas: the same sums in the same order
    return got


@st.composite
def cases(draw, max_a=12, max_len=40):
    a = draw(st.integers(2, max_a))
    target = draw(st.lists(st.integers(0, a - 1), min_size=1, max_size=max_len))
    order = draw(st.permutations(range(a)))
    budget = draw(st.one_of(st.integers(1, 200), st.just(BIG)))
    return target, order, budget


@settings(max_examples=300, deadline=None)
@given(case=cases())
def test_kernel_matches_naive(case):
    target, order, budget = case
    doc, stats, bananas = assert_same(*case)
    n, calls = len(target), stats[kc.ST_CALLS]
    assert stats[kc.ST_SOLVED] == stats[kc.ST_EXACT] == int(doc == target)
    assert calls <= budget and stats[kc.ST_KEYSTROKES] == calls * n
    assert stats[kc.ST_STEPS] == calls and stats[kc.ST_RESCORES] == stats[kc.ST_RESETS] == 0
    assert 0 <= stats[kc.ST_DROPPED] <= n * (len(order) - 1)
    assert 0 <= bananas <= calls
    if budget == BIG:  # always typed, and proven: every position settled
        assert stats[kc.ST_SOLVED] == 1 and stats[kc.ST_SETTLED] == n


def _text_lines():
    """The excerpt's 80 lines and 300 lines drawn from its character frequencies (a few
    hundred lines over the excerpt's alphabet)."""
    lines = [x.text for x in corpus.load(source="excerpt")]
    alphabet = corpus.summarize(corpus.load(source="excerpt")).alphabet
    codes, offsets = encode(lines, alphabet)
    counts = np.bincount(codes, minlength=len(alphabet))
    rng = np.random.default_rng(11)
    p = counts / counts.sum()
    fake = ["".join(rng.choice(list(alphabet), int(n), p=p)) for n in rng.integers(1, 75, 300)]
    return lines + fake, alphabet, frequency_order(counts)


def test_kernel_matches_naive_on_text_lines():
    texts, alphabet, order = _text_lines()
    codes, offsets = encode(texts, alphabet)
    for j in range(len(texts)):
        t = codes[offsets[j]:offsets[j + 1]].tolist()
        doc, stats, _ = assert_same(t, order.tolist(), BIG)
        assert doc == t and stats[kc.ST_SOLVED] == 1
        if j % 7 == 0:  # and with a budget that runs out part of the way
            assert_same(t, order.tolist(), stats[kc.ST_CALLS] // 2)


def test_count_split_lines_matches_each_line():
    texts, alphabet, order = _text_lines()
    codes, offsets = encode(texts[:120], alphabet)
    n = len(offsets) - 1
    typed, stats, bananas = np.empty_like(codes), np.zeros((n, kc.N_ST), np.int64), np.zeros(n)
    kcc.count_split_lines(codes, offsets, order, 150, typed, stats, bananas)
    for j in range(n):
        got = run_kernel(codes[offsets[j]:offsets[j + 1]], order, 150)
        assert got == (typed[offsets[j]:offsets[j + 1]].tolist(), stats[j].tolist(),
                       float(bananas[j]))


# --- what the scores prove -------------------------------------------------------------------

@settings(max_examples=150, deadline=None)
@given(case=cases(max_a=5, max_len=6))
def test_right_key_is_never_excluded_and_the_end_is_proven(case):
    """Brute force over all A^L lines: the keys the scores leave possible at each position
    always include the right one; a settled position has no other; a line ends typed only
    when it is the one line that agrees with every score the reviewer gave."""
    target, order, budget = case
    doc, stats, _, seen = naive_count_split_line(target, order, budget)
    assert run_kernel(target, order, budget)[1] == stats
    possible = consistent_keys(seen, len(target), len(order))
    assert all(t in keys for t, keys in zip(target, possible, strict=True))
    if stats[kc.ST_SOLVED]:
        assert all(keys == {t} for t, keys in zip(target, possible, strict=True))


def test_line_holding_every_key_is_located_without_a_filler():
    """When every key is in the line (A ≤ L) no key counts zero: the first key is found one
    position at a time against a second key's count, then it serves as the filler."""
    for target, a in [([0, 1, 1, 0], 2), ([2, 0, 1, 2, 2, 1], 3), ([1, 0], 2), ([3, 2, 1, 0], 4)]:
        doc, stats, _ = assert_same(target, list(range(a)), BIG)
        assert doc == target and stats[kc.ST_SOLVED] == 1
        seen = naive_count_split_line(target, list(range(a)), BIG)[3]
        assert all(k == {t} for t, k in zip(target, consistent_keys(seen, len(target), a),
                                            strict=True))


def test_costs_of_simple_lines():
    # one key repeated: one count when it comes first (it fills every position), and one
    # count more for each key counted before it
    assert run_kernel([4] * 9, [4, 0, 1, 2, 3], BIG)[1][kc.ST_CALLS] == 1
    assert run_kernel([4] * 9, range(5), BIG)[1][kc.ST_CALLS] == 5
    # key 0 once among 8 and key 1 elsewhere: count 0 (1), probe key 4 as filler (1),
    # three halvings (3), count 1 fills the rest (1)
    doc, stats, bananas = run_kernel([1, 1, 1, 1, 1, 0, 1, 1], range(5), BIG)
    assert doc == [1, 1, 1, 1, 1, 0, 1, 1] and stats[kc.ST_CALLS] == 6


_CHILD = """
import json, sys
import numpy as np
from monkeysim._kernels import corpus_count as kcc
from monkeysim._kernels import corpus as kc
rng = np.random.default_rng(3)
lens = rng.integers(1, 12, 20)
offsets = np.zeros(21, np.int64)
np.cumsum(lens, out=offsets[1:])
codes = rng.integers(0, 5, offsets[-1]).astype(np.uint8)
typed, stats, bananas = np.empty_like(codes), np.zeros((20, kc.N_ST), np.int64), np.zeros(20)
kcc.count_split_lines(codes, offsets, np.array([2, 0, 4, 1, 3], np.uint8), 40, typed, stats,
                      bananas)
print(json.dumps([typed.tolist(), stats.tolist(), [float(b).hex() for b in bananas]]))
"""


def _child(env_extra):
    p = subprocess.run([sys.executable, "-c", _CHILD], capture_output=True, text=True,
                       env=dict(os.environ, **env_extra), timeout=600)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


@pytest.mark.parity
def test_jit_and_pure_python_agree():
    assert _child({"NUMBA_DISABLE_JIT": "1"}) == _child({"NUMBA_NUM_THREADS": "1"}) == _child(
        {"NUMBA_NUM_THREADS": "2"})


# --- the run's key order, settings -----------------------------------------------------------

def test_frequency_order():
    assert frequency_order(np.array([3, 9, 0, 9, 1])).tolist() == [1, 3, 0, 4, 2]
    assert frequency_order(np.zeros(3, np.int64)).tolist() == [0, 1, 2]
    assert frequency_order(np.array([5])).dtype == np.uint8


def test_every_chunk_carries_the_whole_runs_order():
    lines = corpus.load(source="excerpt")
    texts = [x.text for x in lines]
    alphabet = corpus.summarize(lines).alphabet
    codes, _ = encode(texts, alphabet)
    want = frequency_order(np.bincount(codes, minlength=len(alphabet)))
    tasks = shakespeare.tasks_for(texts, alphabet, shakespeare.ShakespeareConfig(chunk_lines=9))
    assert len(tasks) == 9
    for t in tasks:
        assert np.array_equal(t.key_order, want)
    assert alphabet[want[0]] == " "  # the space is the most frequent key


def test_type_chunk_uses_the_order_and_code_order_without_one():
    rng = np.random.default_rng(4)
    codes = rng.integers(0, 6, 50).astype(np.uint8)
    offsets = np.array([0, 20, 50], np.int64)
    settings_ = LearnSettings(credit="count-split")
    plain = type_chunk(ChunkTask(0, codes, offsets, 0, 1, 6, settings_))
    rev = type_chunk(ChunkTask(0, codes, offsets, 0, 1, 6, settings_,
                               np.arange(6)[::-1].astype(np.uint8)))
    for r, order in ((plain, range(6)), (rev, range(5, -1, -1))):
        assert np.array_equal(r.typed, codes)
        for j in range(2):
            t = codes[offsets[j]:offsets[j + 1]]
            assert run_kernel(t, list(order), settings_.max_reviewer_calls)[1] == list(r.stats[
                j].tolist())


def test_count_split_needs_exact_scores():
    assert LearnSettings().credit == "count-split"
    assert LearnSettings(reviewer_noise=0.5).credit == "zero-hits"
    for credit in NOISY_CREDITS:
        assert LearnSettings(reviewer_noise=0.5, credit=credit).credit == credit
    with pytest.raises(InvalidInput, match="count-split needs exact scores; with reviewer "
                                           "noise use one of: plain, greedy-pairs, "
                                           "group-pairs, zero-hits"):
        LearnSettings(reviewer_noise=0.5, credit="count-split")


def test_information_bound():
    from monkeysim.experiments.bench_corpus import information_bound

    assert information_bound([1], 2) == 1.0  # one bit, a score of two values
    assert information_bound([3], 4) == 1.0  # 6 bits, log2(4) = 2 bits per score
    # two lines: (3·2/2 + 1·2/1) bits / 4 characters
    assert information_bound([3, 1], 4) == pytest.approx((3 + 2) / 4, abs=1e-15)
