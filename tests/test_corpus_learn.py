"""The corpus kernel (``monkeysim._kernels.corpus``) and its wrapper (``monkeysim.learn.corpus``).

Parity with the pure-Python reference in ``naive_corpus.py`` is exact (doc, stats and bananas
bit for bit) for every credit level; properties, chunking/thread invariance, the sparse update
identity and a statistical check of the credit levels follow.
"""

import hashlib
import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from naive_corpus import (
    ST_CALLS,
    ST_DROPPED,
    ST_EXACT,
    ST_KEYSTROKES,
    ST_RESCORES,
    ST_RESETS,
    ST_SETTLED,
    ST_SOLVED,
    ST_STEPS,
    naive_learn_line,
    naive_line_state,
)
from naive_corpus import _Policy as NaivePolicy

from monkeysim._kernels import corpus as kc
from monkeysim.errors import InvalidInput
from monkeysim.learn.corpus import (
    CREDITS,
    LINE_STATS_DTYPE,
    ChunkResult,
    ChunkTask,
    LearnSettings,
    decode,
    encode,
    type_chunk,
)

U64 = (1 << 64) - 1
LEARNERS = CREDITS[:4]  # the levels of the learning kernel (count-split: test_corpus_count)


def run_kernel(target, a_size, group, lr, credit, max_calls, key=0, index=0):
    """``learn_line`` on line ``index`` of run ``key``: (doc list, stats list, bananas)."""
    target = np.asarray(target, np.uint8)
    doc = np.zeros(target.shape[0], np.uint8)
    stats = np.zeros(kc.N_ST, np.int64)
    bananas = kc.learn_line(target, a_size, group, float(lr), credit, max_calls,
                            kc.line_state(np.uint64(key), index), doc, stats)
    return doc.tolist(), stats.tolist(), float(bananas)


def run_naive(target, a_size, group, lr, credit, max_calls, key=0, index=0):
    return naive_learn_line(list(target), a_size, group, float(lr), credit, max_calls,
                            naive_line_state(key, index))


def assert_same(got, ref):
    (doc, stats, bananas), (ndoc, nstats, nbananas) = got, ref
    assert doc == ndoc
    assert stats == nstats
    assert bananas == pytest.approx(nbananas, rel=0, abs=1e-12)


def test_constants_match_reference():
    assert (kc.ST_SOLVED, kc.ST_CALLS, kc.ST_KEYSTROKES, kc.ST_STEPS, kc.ST_SETTLED,
            kc.ST_DROPPED) == (ST_SOLVED, ST_CALLS, ST_KEYSTROKES, ST_STEPS, ST_SETTLED,
                               ST_DROPPED)
    assert (kc.ST_EXACT, kc.ST_RESCORES, kc.ST_RESETS) == (ST_EXACT, ST_RESCORES, ST_RESETS)
    assert kc.N_ST == 9
    assert (kc.PLAIN, kc.GREEDY_PAIRS, kc.GROUP_PAIRS, kc.ZERO_HITS) == (0, 1, 2, 3)
    assert CREDITS == ("plain", "greedy-pairs", "group-pairs", "zero-hits", "count-split")


# --- line_state ------------------------------------------------------------------------------

def test_naive_splitmix64_known_value():
    # first output of splitmix64 seeded with 0 (Vigna's reference generator)
    assert naive_line_state(0, 0)[0] == 0xE220A8397B1DCDAF


@pytest.mark.parametrize("key", [0, 1, 12345, 0xDEADBEEFCAFEF00D, 2**63, U64])
@pytest.mark.parametrize("index", [0, 1, 7, 10**6, 2**40 + 3])
def test_line_state_matches_splitmix64(key, index):
    state = kc.line_state(np.uint64(key), index)
    assert state.dtype == np.uint64 and state.shape == (4,)
    assert [int(x) for x in state] == naive_line_state(key, index)


def test_line_states_differ_between_lines_and_keys():
    states = {tuple(naive_line_state(k, i)) for k in range(4) for i in range(50)}
    assert len(states) == 200


# --- parity with the reference ---------------------------------------------------------------

@st.composite
def lines(draw):
    a = draw(st.integers(2, 12))
    target = draw(st.lists(st.integers(0, a - 1), min_size=1, max_size=12))
    return dict(target=target, a_size=a, group=draw(st.integers(1, 6)),
                lr=draw(st.sampled_from([0.3, 1.0, 3.0])),
                max_calls=draw(st.integers(1, 3000)),
                key=draw(st.integers(0, U64)), index=draw(st.integers(0, 2**32)))


@pytest.mark.parametrize("credit", range(4), ids=LEARNERS)
@settings(max_examples=25, deadline=None)
@given(case=lines())
def test_kernel_matches_naive(credit, case):
    assert_same(run_kernel(credit=credit, **case), run_naive(credit=credit, **case))


FIXED = [
    # target, a_size, group, lr, max_calls
    ([1], 2, 2, 1.0, 3),
    ([0, 0, 0], 2, 1, 1.0, 50),
    ([3, 2, 4, 1, 4, 4, 7, 8], 9, 3, 0.3, 26),
    ([5, 0, 11, 11, 2, 9, 7, 1, 0, 3, 10, 6], 12, 6, 3.0, 3000),
    ([1, 0, 1, 1, 0, 1, 0, 0, 1, 1, 1, 0], 2, 4, 1.0, 2000),
    ([2, 2, 2, 2], 3, 5, 0.3, 1000),
]


@pytest.mark.parametrize("credit", range(4), ids=LEARNERS)
@pytest.mark.parametrize("case", FIXED)
def test_kernel_matches_naive_fixed(credit, case):
    target, a, g, lr, mc = case
    for index in range(3):
        args = (target, a, g, lr, credit, mc, 99, index)
        assert_same(run_kernel(*args), run_naive(*args))


def test_learn_lines_matches_naive_per_line():
    """learn_lines: line j of the chunk draws from line_state(key, first_index + j)."""
    rng = np.random.default_rng(5)
    a, key, first = 5, 777, 40
    targets = [rng.integers(0, a, int(n)).tolist() for n in rng.integers(1, 9, 12)]
    codes, offsets = encode(["".join(map(str, t)) for t in targets], "01234")
    for credit in range(4):
        typed = np.empty_like(codes)
        stats = np.zeros((len(targets), kc.N_ST), np.int64)
        bananas = np.zeros(len(targets))
        kc.learn_lines(codes, offsets, first, np.uint64(key), a, 3, 1.0, credit, 500, typed,
                       stats, bananas)
        for j, t in enumerate(targets):
            got = (typed[offsets[j]:offsets[j + 1]].tolist(), stats[j].tolist(),
                   float(bananas[j]))
            assert_same(got, run_naive(t, a, 3, 1.0, credit, 500, key, first + j))


_CHILD = """
import json, sys, warnings
warnings.simplefilter("ignore")
import numpy as np
from monkeysim._kernels import corpus as kc
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
    kc.learn_lines(codes, offsets, 2, np.uint64(2**64 - 5), 4, 3, 1.0, credit, 150, typed,
                   stats, bananas)
    out.append([typed.tolist(), stats.tolist(), [float(b).hex() for b in bananas]])
print(json.dumps(out))
"""


def _child(env_extra, code=_CHILD):
    env = dict(os.environ, **env_extra)
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                       timeout=600)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


@pytest.mark.parity
def test_jit_and_pure_python_agree():
    """learn_lines (and learn_line, line_state) compiled and as plain Python."""
    assert _child({"NUMBA_DISABLE_JIT": "1"}) == _child({})


# --- properties ------------------------------------------------------------------------------

@pytest.mark.parametrize("credit", range(4), ids=LEARNERS)
@settings(max_examples=40, deadline=None)
@given(case=lines())
def test_kernel_properties(credit, case):
    doc, stats, bananas = run_kernel(credit=credit, **case)
    n, mc, g = len(case["target"]), case["max_calls"], case["group"]
    calls = stats[ST_CALLS]
    assert stats[ST_SOLVED] in (0, 1)
    assert stats[ST_EXACT] == int(doc == case["target"])
    assert stats[ST_RESCORES] == 0 and stats[ST_RESETS] == 0  # no noise
    if stats[ST_SOLVED]:
        assert doc == case["target"]
    else:  # it stops short of the target only when the budget cannot pay another group
        assert calls + g > mc
    assert 1 <= calls <= mc
    assert stats[ST_KEYSTROKES] == calls * n
    assert stats[ST_STEPS] * g < calls  # plus at least one greedy document
    assert 0 <= stats[ST_SETTLED] <= n
    assert stats[ST_DROPPED] >= 0
    assert 0 <= bananas <= calls + 1e-9
    if credit == kc.PLAIN:
        assert stats[ST_SETTLED] == 0 and stats[ST_DROPPED] == 0
    # credit only refutes wrong keys: at most A − 1 per position
    assert stats[ST_DROPPED] <= n * (case["a_size"] - 1)


def test_budget_is_never_exceeded():
    # one key of two, a group of 2, budget 3: greedy call (1) + one group (2) = 3 calls;
    # the group moves the argmax, the new greedy document is scored: call 4 > max_calls
    doc, stats, _ = run_kernel([1], 2, 2, 1.0, kc.PLAIN, 3, key=0, index=3)
    assert stats[ST_CALLS] <= 3, (doc, stats)


def test_right_key_is_never_dropped(monkeypatch):
    """In the reference (bit-identical to the kernel) no credit level ever drops a key that
    the target has at that position."""
    target_of = {}
    real_drop = NaivePolicy.drop

    def checked_drop(self, i, c):
        assert c != target_of["t"][i], (target_of["t"], i, c)
        return real_drop(self, i, c)

    monkeypatch.setattr(NaivePolicy, "drop", checked_drop)
    rng = np.random.default_rng(11)
    n_dropped = 0
    for j in range(120):
        a = int(rng.integers(2, 6))
        t = rng.integers(0, a, int(rng.integers(1, 7))).tolist()
        target_of["t"] = t
        credit = 1 + j % 3
        doc, stats, _ = naive_learn_line(t, a, int(rng.integers(2, 5)), 1.0, credit, 3000,
                                         naive_line_state(21, j))
        assert stats[ST_SOLVED] == 1 and doc == t
        n_dropped += stats[ST_DROPPED]
    assert n_dropped > 50  # the check was exercised


@pytest.mark.parametrize("credit", CREDITS)
def test_many_short_lines_all_solved(credit):
    """A few hundred random short lines with a generous budget: every line is solved and its
    greedy document is its target (a dropped right key could never be typed again)."""
    rng = np.random.default_rng(17)
    a = 4
    lens = rng.integers(1, 9, 300)
    offsets = np.zeros(301, np.int64)
    np.cumsum(lens, out=offsets[1:])
    codes = rng.integers(0, a, offsets[-1]).astype(np.uint8)
    r = type_chunk(ChunkTask(0, codes, offsets, 0, 4242, a,
                             LearnSettings(monkeys=4, lr=1.0, credit=credit,
                                           max_reviewer_calls=100_000)))
    assert r.stats["solved"].all()
    assert np.array_equal(r.typed, codes)
    assert (r.stats["calls"] <= 100_000).all()
    assert np.array_equal(r.stats["keystrokes"], r.stats["calls"] * lens)
    if credit == "plain":
        assert not r.stats["settled"].any() and not r.stats["dropped"].any()
    if credit == "zero-hits":
        assert r.stats["dropped"].sum() > 0 and r.stats["settled"].sum() > 0


# --- the sparse update ----------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(5))
def test_sparse_update_is_exact(seed):
    """With mean-baseline advantages (which sum to zero) the score-function update
    Σ_k A_k (e_{x_k} − p) equals Σ_k A_k e_{x_k}: only the typed keys' logits move."""
    rng = np.random.default_rng(seed)
    a, group = int(rng.integers(2, 30)), int(rng.integers(1, 12))
    theta = rng.normal(0, 2, a)
    p = np.exp(theta - theta.max())
    p /= p.sum()
    x = rng.choice(a, size=group, p=p)
    r = rng.random(group)
    adv = r - r.mean()
    onehot = np.eye(a)[x]
    full = (adv[:, None] * (onehot - p[None, :])).sum(axis=0)
    sparse = np.zeros(a)
    np.add.at(sparse, x, adv)
    assert abs(adv.sum()) < 1e-12
    np.testing.assert_allclose(full, sparse, rtol=0, atol=1e-12)


# --- type_chunk: chunking and threads ---------------------------------------------------------

def _task(credit="zero-hits", n_lines=24, seed=8):
    rng = np.random.default_rng(seed)
    lens = rng.integers(1, 15, n_lines)
    offsets = np.zeros(n_lines + 1, np.int64)
    np.cumsum(lens, out=offsets[1:])
    codes = rng.integers(0, 6, offsets[-1]).astype(np.uint8)
    return ChunkTask(0, codes, offsets, 0, 0xFEEDFACE12345678, 6,
                     LearnSettings(monkeys=5, lr=0.7, credit=credit,
                                   max_reviewer_calls=4000))


def _split(task, bounds, first_line=0):
    """Chunks of ``task`` with lines [bounds[c], bounds[c+1]) each."""
    out = []
    for c, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
        a, b = task.offsets[lo], task.offsets[hi]
        out.append(ChunkTask(c, task.codes[a:b].copy(), task.offsets[lo:hi + 1] - a,
                             first_line + lo, task.key, task.alphabet_size, task.settings))
    return out


@pytest.mark.parametrize("credit", CREDITS)
def test_type_chunk_independent_of_chunking(credit):
    task = _task(credit)
    whole = type_chunk(task)
    assert isinstance(whole, ChunkResult) and whole.chunk == 0
    assert whole.typed.shape == task.codes.shape and whole.typed.dtype == np.uint8
    assert whole.stats.shape == (24,) and whole.stats.dtype == LINE_STATS_DTYPE
    assert whole.bananas.shape == (24,)
    parts = [type_chunk(t) for t in _split(task, [0, 1, 9, 10, 24])]
    assert [p.chunk for p in parts] == [0, 1, 2, 3]
    assert np.array_equal(np.concatenate([p.typed for p in parts]), whole.typed)
    assert np.array_equal(np.concatenate([p.stats for p in parts]), whole.stats)
    assert np.array_equal(np.concatenate([p.bananas for p in parts]), whole.bananas)
    if credit == "count-split":  # no randomness: the same lines anywhere in the run
        return
    # a chunk's result depends on first_line: the same lines later in the run differ
    shifted = type_chunk(_split(task, [0, 24], first_line=1)[0])
    assert not np.array_equal(shifted.bananas, whole.bananas)


_THREADS_CHILD = """
import hashlib, sys
sys.path.insert(0, {tests!r})
import numpy as np
from monkeysim.learn.corpus import CREDITS, type_chunk
from test_corpus_learn import _task
h = hashlib.sha256()
for credit in CREDITS:
    r = type_chunk(_task(credit, n_lines=64))
    for arr in (r.typed, r.stats, r.bananas):
        h.update(np.ascontiguousarray(arr).tobytes())
print('"' + h.hexdigest() + '"')
"""


def test_type_chunk_one_and_two_threads_identical_subprocess():
    code = _THREADS_CHILD.format(tests=os.path.dirname(os.path.abspath(__file__)))
    one = _child({"NUMBA_NUM_THREADS": "1"}, code)
    two = _child({"NUMBA_NUM_THREADS": "2"}, code)
    assert one == two
    h = hashlib.sha256()
    for credit in CREDITS:
        r = type_chunk(_task(credit, n_lines=64))
        for arr in (r.typed, r.stats, r.bananas):
            h.update(np.ascontiguousarray(arr).tobytes())
    assert h.hexdigest() == one


# --- encode / decode, settings ----------------------------------------------------------------

@given(st.lists(st.text(alphabet="ab c!", max_size=12), max_size=8))
def test_encode_decode_round_trip(texts):
    alphabet = "ab c!"
    codes, offsets = encode(texts, alphabet)
    assert codes.dtype == np.uint8 and offsets.dtype == np.int64
    assert offsets.tolist() == [0, *np.cumsum([len(t) for t in texts]).tolist()]
    assert codes.tolist() == [alphabet.index(c) for t in texts for c in t]
    assert decode(codes, offsets, alphabet) == texts


def test_encode_rejects_large_alphabet():
    with pytest.raises(InvalidInput, match="255"):
        encode(["a"], "".join(chr(0x100 + i) for i in range(256)) + "a")


def test_learn_settings_defaults():
    s = LearnSettings()
    assert (s.monkeys, s.lr, s.credit) == (8, 0.5, "count-split")
    assert LearnSettings(reviewer_noise=0.5).credit == "zero-hits"  # the default under noise
    for credit in CREDITS:
        assert LearnSettings(monkeys=2, lr=2, credit=credit, max_reviewer_calls=1).credit == credit


@pytest.mark.parametrize("kwargs", [
    dict(monkeys=0), dict(monkeys=1), dict(monkeys=-3), dict(monkeys=2.5), dict(monkeys=True),
    dict(lr=0), dict(lr=-1), dict(lr=math.nan), dict(lr=math.inf), dict(lr=True),
    dict(lr="1"), dict(credit="x"), dict(credit="Plain"),
    dict(max_reviewer_calls=0), dict(max_reviewer_calls=-1),
])
def test_learn_settings_bad_inputs(kwargs):
    with pytest.raises(InvalidInput):
        LearnSettings(**kwargs)


# --- statistics ------------------------------------------------------------------------------

def test_zero_hits_needs_clearly_fewer_calls_than_plain():
    """200 random lines over 27 keys, 20–40 long: every line is solved under both, and
    zero-hits credit needs clearly fewer reviewer calls per character than plain."""
    rng = np.random.default_rng(2024)
    lens = rng.integers(20, 41, 200)
    offsets = np.zeros(201, np.int64)
    np.cumsum(lens, out=offsets[1:])
    codes = rng.integers(0, 27, offsets[-1]).astype(np.uint8)
    per_char = {}
    for credit in ("plain", "zero-hits"):
        r = type_chunk(ChunkTask(0, codes, offsets, 0, 31337, 27,
                                 LearnSettings(credit=credit, max_reviewer_calls=200_000)))
        assert r.stats["solved"].all()
        assert np.array_equal(r.typed, codes)
        per_char[credit] = r.stats["calls"].sum() / offsets[-1]
    assert per_char["zero-hits"] / per_char["plain"] < 0.8, per_char


@pytest.mark.parametrize("credit", range(4), ids=LEARNERS)
def test_group_of_one_learns_only_from_credit(credit):
    """With one monkey the mean-baseline advantage is always 0: plain and greedy-pairs never
    move the logits (the greedy document stays all key 0) and spend the whole budget; the
    group credit levels still solve the line from exact score comparisons."""
    doc, stats, _ = run_kernel([1, 1, 1], 2, 1, 1.0, credit, 500)
    if credit < kc.GROUP_PAIRS:
        assert doc == [0, 0, 0] and stats[ST_SOLVED] == 0 and stats[ST_CALLS] == 500
    else:
        assert doc == [1, 1, 1] and stats[ST_SOLVED] == 1
