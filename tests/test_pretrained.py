"""Pretrained corpus monkeys (``--pretrained ORDER``, ``monkeysim.learn.pretrained``).

The n-gram fit against a naive reference on a hand-made corpus; leave one play out (the play
being typed contributes nothing); the position marginals against enumeration; the
``count-split`` kernel from a pretrained start against a pure-Python reference bit for bit,
and by brute force (the right key is never excluded, a line ends only when the scores prove
it); the learners' pretrained start against the naive learner; same bytes on any threads,
chunking and after a resume; bad input.
"""

import itertools
import json

import numpy as np
import pytest
from conftest import assert_clean_error, run_cli
from hypothesis import given, settings
from hypothesis import strategies as st
from naive_corpus import naive_learn_line, naive_line_state
from naive_corpus_count import consistent_keys
from naive_corpus_prior import (
    naive_best_split,
    naive_conditional,
    naive_count_split_prior_line,
    naive_counts,
)

from monkeysim import corpus
from monkeysim._kernels import corpus as kc
from monkeysim._kernels import corpus_prior as kp
from monkeysim._kernels import ngram as kg
from monkeysim.errors import InvalidInput
from monkeysim.experiments import shakespeare
from monkeysim.learn import pretrained
from monkeysim.learn.corpus import CREDITS, LearnSettings

ALPHABET = "ab c"
PLAYS = {"p": ["ab cab", "ba", "c"], "q": ["aab c", "x ab", ""], "r": ["cc a b"]}
BIG = 10**9


def _model(order, plays=PLAYS, alphabet=ALPHABET, k=pretrained.SMOOTHING):
    counts = pretrained.fit(plays, alphabet, order)
    return pretrained.model_tables(counts.total, len(alphabet), order, k)


# --- the n-gram fit ----------------------------------------------------------------------------

@pytest.mark.parametrize("order", [1, 2, 3])
@pytest.mark.parametrize("k", [0.5, 0.01])
def test_probabilities_match_the_naive_model(order, k):
    """Every context up to order - 1 (line starts and a character outside the alphabet, 'x',
    included): the same add-k chances with the same back-off as the naive counts."""
    texts = [t for lines in PLAYS.values() for t in lines]
    ref = naive_counts(texts, ALPHABET, order)
    probs, seen = _model(order, k=k)
    a = len(ALPHABET)
    for j in range(order):
        for ctx in itertools.product(range(a), repeat=j):
            got = pretrained.conditional(probs, seen, order, ctx)
            want = naive_conditional(ref, a, order, ctx, k)
            assert got.tolist() == pytest.approx(want, rel=1e-14, abs=0)
            assert got.sum() == pytest.approx(1.0, rel=1e-14) and (got > 0).all()


def test_counts_by_hand():
    """Order 2 over 'ab c': the line 'ab' gives (BOL, a) and (a, b); 'x ab' cut at 'x' gives
    ' ab' from the line's start."""
    counts = pretrained.fit({"p": ["ab", "x ab"]}, ALPHABET, 2).total.reshape(5, 4)
    bol, a, b, sp = 4, 0, 1, 2
    want = np.zeros((5, 4), np.int64)
    want[bol, a] += 1
    want[a, b] += 2
    want[bol, sp] += 1
    want[sp, a] += 1
    assert np.array_equal(counts, want)
    probs, seen = pretrained.model_tables(counts.reshape(-1), 4, 2, 0.5)
    # P(b | a) = (2 + 0.5) / (2 + 4·0.5); the context 'c' was never seen: back off to
    # P(c) = (0 + 0.5) / (5 + 2) over the 5 characters counted
    assert pretrained.conditional(probs, seen, 2, [a])[b] == 2.5 / 4
    assert pretrained.conditional(probs, seen, 2, [3])[3] == 0.5 / 7


def test_leave_one_out_ignores_the_typed_play():
    """The model that types play p is the same whatever p says; the models of the other plays
    change when p changes, and equal a fit on the others alone."""
    changed = dict(PLAYS, p=["cccc", "abba ba", "a"])
    for order in (1, 2, 3):
        one, two = pretrained.fit(PLAYS, ALPHABET, order), pretrained.fit(changed, ALPHABET,
                                                                           order)
        assert np.array_equal(one.others("p"), two.others("p"))
        assert not np.array_equal(one.others("q"), two.others("q"))
        alone = pretrained.fit({k: v for k, v in PLAYS.items() if k != "p"}, ALPHABET, order)
        assert np.array_equal(one.others("p"), alone.total)
        m1 = pretrained.chunk_models(one, ["p", "q", "p"])
        m2 = pretrained.chunk_models(two, ["p", "q", "p"])
        assert m1.plays == ("p", "q") and m1.line_model.tolist() == [0, 1, 0]
        (p1, s1), (p2, s2) = m1.tables(), m2.tables()
        assert np.array_equal(p1[0], p2[0]) and np.array_equal(s1[0], s2[0])
        assert not np.array_equal(p1[1], p2[1])


def test_a_chunk_of_a_run_carries_the_leave_one_out_models():
    lines = corpus.load(source="excerpt")
    alphabet = corpus.summarize(lines).alphabet
    ngrams = pretrained.fit_source("excerpt", alphabet, 2)
    config = shakespeare.ShakespeareConfig(learn=LearnSettings(pretrained=2), chunk_lines=50)
    tasks = shakespeare.tasks_for([x.text for x in lines], alphabet, config,
                                  [x.play for x in lines], ngrams)
    for t in tasks:
        plays = [lines[t.first_line + j].play for j in range(len(t.offsets) - 1)]
        assert [t.models.plays[g] for g in t.models.line_model] == plays
        for play in t.models.plays:  # fitted on the other play only
            other = [x.text for x in lines if x.play != play]
            want = pretrained.count_texts(other, alphabet, 2)
            assert np.array_equal(t.models.counts.others(play), want)


def test_position_marginals_match_enumeration():
    """P(key at position i) = Σ over every prefix of its chance under the chain, by brute
    force over all prefixes (A = 4, positions 0..3, orders 1..3)."""
    for order in (1, 2, 3):
        probs, seen = _model(order)
        got = pretrained.position_marginals(probs, seen, order, 4)
        a = len(ALPHABET)
        for i in range(4):
            want = np.zeros(a)
            for prefix in itertools.product(range(a), repeat=i):
                p = 1.0
                for t, c in enumerate(prefix):
                    p *= pretrained.conditional(probs, seen, order, prefix[:t])[c]
                want += p * pretrained.conditional(probs, seen, order, prefix)
            assert got[i] == pytest.approx(want, rel=1e-12, abs=1e-15)


# --- count-split from a pretrained start -------------------------------------------------------

def run_kernel(target, probs, seen, order, sure, max_calls):
    target = np.asarray(target, np.uint8)
    doc = np.zeros(target.shape[0], np.uint8)
    stats = np.zeros(kc.N_ST, np.int64)
    bananas = kp.count_split_prior_line(target, probs.shape[1], probs.reshape(-1), seen,
                                        order, sure, max_calls, doc, stats)
    return doc.tolist(), stats.tolist(), float(bananas)


def assert_same(target, probs, seen, order, sure, max_calls):
    got = run_kernel(target, probs, seen, order, sure, max_calls)
    doc, stats, bananas, _ = naive_count_split_prior_line(
        target, probs.shape[1], probs.reshape(-1).tolist(), seen.tolist(), order, sure,
        max_calls)
    assert got == (doc, stats, bananas)
    return got


def _random_model(rng, a, order):
    plays = {"x": ["".join(chr(65 + int(c)) for c in rng.integers(0, a, int(n)))
                   for n in rng.integers(0, 12, 6)]}
    alphabet = "".join(chr(65 + c) for c in range(a))
    counts = pretrained.fit(plays, alphabet, order)
    return pretrained.model_tables(counts.total, a, order, float(rng.choice([0.5, 0.05])))


@st.composite
def cases(draw, max_a=8, max_len=30):
    a = draw(st.integers(2, max_a))
    target = draw(st.lists(st.integers(0, a - 1), min_size=1, max_size=max_len))
    order = draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2**32 - 1))
    sure = draw(st.sampled_from([0.0, 0.3, 0.9, 1.1]))
    budget = draw(st.one_of(st.integers(1, 80), st.just(BIG)))
    return target, a, order, seed, sure, budget


@settings(max_examples=250, deadline=None)
@given(case=cases())
def test_kernel_matches_naive(case):
    target, a, order, seed, sure, budget = case
    probs, seen = _random_model(np.random.default_rng(seed), a, order)
    doc, stats, bananas = assert_same(target, probs, seen, order, sure, budget)
    assert stats[kc.ST_CALLS] <= budget and stats[kc.ST_SOLVED] <= stats[kc.ST_EXACT]
    if budget == BIG:
        assert doc == target and stats[kc.ST_SOLVED] == 1
        assert stats[kc.ST_SETTLED] == len(target)


def test_kernel_matches_naive_on_text_lines():
    """The excerpt's lines, typed with the model fitted on the other excerpt play (and some
    with a budget that runs out part of the way)."""
    lines = corpus.load(source="excerpt")
    alphabet = corpus.summarize(lines).alphabet
    counts = pretrained.fit_source("excerpt", alphabet, 3)
    from monkeysim.learn.corpus import encode

    for play in ("hamlet", "macbeth"):
        probs, seen = pretrained.model_tables(counts.others(play), len(alphabet), 3)
        texts = [x.text for x in lines if x.play == play]
        codes, offsets = encode(texts, alphabet)
        for j in range(len(texts)):
            t = codes[offsets[j]:offsets[j + 1]].tolist()
            doc, stats, _ = assert_same(t, probs, seen, 3, pretrained.SURE, BIG)
            assert doc == t
            if j % 5 == 0:
                assert_same(t, probs, seen, 3, pretrained.SURE, stats[kc.ST_CALLS] // 2)


@settings(max_examples=150, deadline=None)
@given(case=cases(max_a=4, max_len=6))
def test_right_key_is_never_excluded_and_the_end_is_proven(case):
    """Brute force over all A^L lines: whatever the model says, the scores leave the right key
    possible everywhere, and a line ends typed only when it is the one line agreeing with
    every score."""
    target, a, order, seed, sure, budget = case
    probs, seen = _random_model(np.random.default_rng(seed), a, order)
    _, stats, _, scored = naive_count_split_prior_line(
        target, a, probs.reshape(-1).tolist(), seen.tolist(), order, sure, budget)
    possible = consistent_keys(scored, len(target), a)
    assert all(t in keys for t, keys in zip(target, possible, strict=True))
    if stats[kc.ST_SOLVED]:
        assert all(keys == {t} for t, keys in zip(target, possible, strict=True))


def test_best_split_matches_naive_and_halves_without_a_prior():
    rng = np.random.default_rng(5)
    for _ in range(200):
        n = int(rng.integers(2, 30))
        m = int(rng.integers(1, n))
        w = np.sort(rng.choice([1e-6, 0.01, 0.3, 1.0, 5.0, 1e6], n))[::-1].copy()
        assert kp.best_split(w, 0, n, m) == naive_best_split(w.tolist(), m)
    assert kp.best_split(np.ones(10), 0, 10, 1) == 5
    assert kp.best_split(np.ones(9), 0, 9, 1) in (4, 5)


def test_a_strong_prior_saves_calls_on_the_corpus_alphabet():
    """Lines typed with the model fitted on the other excerpt play take fewer calls than the
    uniform count-split in code order (the model knows the space and the letters)."""
    lines = corpus.load(source="excerpt")
    alphabet = corpus.summarize(lines).alphabet
    texts = [x.text for x in lines]
    config = shakespeare.ShakespeareConfig(learn=LearnSettings(pretrained=2))
    ngrams = pretrained.fit_source("excerpt", alphabet, 2)
    from monkeysim.learn.corpus import type_chunk

    calls = {}
    for name, tasks in (("pre", shakespeare.tasks_for(texts, alphabet, config,
                                                       [x.play for x in lines], ngrams)),
                        ("uniform", shakespeare.tasks_for(texts, alphabet, config))):
        res = [type_chunk(t) for t in tasks]
        assert all(np.array_equal(r.typed, t.codes) for r, t in zip(res, tasks, strict=True))
        calls[name] = sum(int(r.stats["calls"].sum()) for r in res)
    assert calls["pre"] < 0.95 * calls["uniform"]


# --- the learners from a pretrained start ------------------------------------------------------

@pytest.mark.parametrize("credit", range(4))
def test_learner_from_a_prior_matches_naive(credit):
    rng = np.random.default_rng(credit)
    for trial in range(6):
        a = int(rng.integers(2, 6))
        target = rng.integers(0, a, int(rng.integers(1, 7))).astype(np.uint8)
        prior = rng.dirichlet(np.ones(a), int(rng.integers(1, 9))) ** 0.5
        doc = np.zeros(target.shape[0], np.uint8)
        stats = np.zeros(kc.N_ST, np.int64)
        bananas = kc.learn_line_from(target, a, 3, 0.7, credit, 5000,
                                     kc.line_state(np.uint64(9), trial), doc, stats, prior)
        ndoc, nstats, nbananas = naive_learn_line(list(target), a, 3, 0.7, credit, 5000,
                                                  naive_line_state(9, trial), prior.tolist())
        assert doc.tolist() == ndoc and stats.tolist() == nstats
        assert bananas == pytest.approx(nbananas, rel=0, abs=1e-12)


def test_empty_prior_is_the_uniform_start():
    target = np.array([1, 0, 2, 2], np.uint8)
    out = []
    for prior in (None, np.empty((0, 3))):
        doc, stats = np.zeros(4, np.uint8), np.zeros(kc.N_ST, np.int64)
        args = (target, 3, 4, 0.5, 3, 10_000, kc.line_state(np.uint64(1), 2), doc, stats)
        b = kc.learn_line(*args) if prior is None else kc.learn_line_from(*args, prior)
        out.append((doc.tolist(), stats.tolist(), b))
    assert out[0] == out[1]


# --- the run -----------------------------------------------------------------------------------

def _run_json(out, *args, env=None):
    p = run_cli("shakespeare", "--json", "--out", out, *args, env=env)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def _bytes(out):
    return {name: (out / name).read_bytes() for name in ("typed.txt", "summary.json")}


@pytest.mark.parametrize("credit", ["count-split", "zero-hits"])
def test_same_bytes_on_1_and_2_threads_and_any_chunking(tmp_path, credit):
    a = _run_json(tmp_path / "a", "--pretrained", "2", "--credit", credit,
                  env={"NUMBA_NUM_THREADS": "1"})
    b = _run_json(tmp_path / "b", "--pretrained", "2", "--credit", credit, "--chunk-lines",
                  "7", env={"NUMBA_NUM_THREADS": "2"})
    assert a["sha256_match"] and a["threads"] == 1 and b["threads"] == 2
    assert a["config"]["learn"]["pretrained"] == 2
    sa, sb = _bytes(tmp_path / "a"), _bytes(tmp_path / "b")
    assert sa["typed.txt"] == sb["typed.txt"]
    da, db = (json.loads(s["summary.json"]) for s in (sa, sb))
    for d in (da, db):
        d.pop("chunks")
        d["config"].pop("chunk_lines")
    assert da == db
    uniform = _run_json(tmp_path / "u", "--credit", credit)
    assert "pretrained" not in uniform["config"]["learn"]  # records unchanged without it
    assert uniform["reviewer_calls"] != a["reviewer_calls"]


def test_resume_is_byte_identical_and_other_orders_are_refused(tmp_path):
    lines = corpus.load(source="excerpt")
    config = shakespeare.ShakespeareConfig(learn=LearnSettings(pretrained=2), chunk_lines=8)
    whole = shakespeare.run(lines, config, tmp_path / "whole", quiet=True)

    class Killed(Exception):
        pass

    def kill(i):
        if i == 2:
            raise Killed

    with pytest.raises(Killed):
        shakespeare.run(lines, config, tmp_path / "cut", quiet=True, after_chunk=kill)
    resumed = shakespeare.run(lines, config, tmp_path / "cut", quiet=True, resume=True)
    assert resumed["chunks_resumed"] == 3
    assert _bytes(tmp_path / "cut") == _bytes(tmp_path / "whole")
    assert resumed["reviewer_calls"] == whole["reviewer_calls"]
    before = _bytes(tmp_path / "cut")
    for other in (("--pretrained", "3"), ()):
        assert_clean_error(run_cli("shakespeare", "--chunk-lines", "8", "--out",
                                   tmp_path / "cut", "--resume", *other), "other options")
    assert _bytes(tmp_path / "cut") == before


def test_bad_inputs_one_line_exit_2(tmp_path):
    out = tmp_path / "never"
    for args, frags in [
        (("--pretrained", "0"), ("pretrained ORDER must be a positive integer, got 0",)),
        (("--pretrained", "-2"), ("pretrained ORDER must be a positive integer, got -2",)),
        (("--pretrained", "2.5"), ("'2.5' is not an integer",)),
        (("--pretrained", "two"), ("'two' is not an integer",)),
        (("--pretrained", "9"), ("pretrained ORDER 9 needs an n-gram table of",
                                 "at most 4,194,304", "ORDER <= 3 here")),
        (("--pretrained", "2", "--reviewer-noise", "0.5"), ("--pretrained does not go with "
                                                            "reviewer noise",)),
    ]:
        assert_clean_error(run_cli("shakespeare", "--out", out, *args), *frags)
    assert not out.exists()


def test_order_checks():
    assert pretrained.table_entries(3, 75) == (1 + 76 + 76**2) * 75
    assert pretrained.check_order(3, 75) == 3 and pretrained.check_order(3.0, 75) == 3
    with pytest.raises(InvalidInput, match=r"ORDER 4 needs an n-gram table of 33,362,175 "
                                           r"entries over 75 keys; .* \(ORDER <= 3 here\)"):
        pretrained.check_order(4, 75)
    for bad in (0, -1, 1.5, "2", True, None):
        with pytest.raises(InvalidInput, match="pretrained ORDER must be a positive integer"):
            pretrained.check_order(bad, 75)
    with pytest.raises(InvalidInput, match="pretrained ORDER"):
        LearnSettings(pretrained=0)
    assert LearnSettings(pretrained=2).to_dict()["pretrained"] == 2
    assert "pretrained" not in LearnSettings().to_dict()
    assert set(pretrained.TEMPER) == set(CREDITS[:4])


def test_kernels_agree_with_numba_disabled(tmp_path):
    """The n-gram and pretrained count-split kernels give the same run under
    NUMBA_DISABLE_JIT=1 (pure Python) as compiled."""
    a = _run_json(tmp_path / "a", "--pretrained", "2", "--plays", "macbeth", "--excerpt")
    b = _run_json(tmp_path / "b", "--pretrained", "2", "--plays", "macbeth", "--excerpt",
                  env={"NUMBA_DISABLE_JIT": "1"})
    assert _bytes(tmp_path / "a") == _bytes(tmp_path / "b")
    assert a["reviewer_calls"] == b["reviewer_calls"]


def test_ngram_count_kernel_pieces():
    out = np.zeros(3 * 2, np.int64)  # order 2 over 2 keys: 3 contexts (a, b, BOL)
    kg.count_ngrams(np.array([0, 1, 1], np.uint8), np.array([0, 3], np.int64), 2, 2, out)
    assert out.reshape(3, 2).tolist() == [[0, 1], [0, 1], [1, 0]]
    assert kg.row_offset(5, 0) == 0 and kg.row_offset(5, 3) == 1 + 5 + 25


def test_information_bound_with_the_model():
    """Σ −log2 P(line) / log2(L + 1) per character, P the leave-one-out model, against the
    chances of :func:`conditional` multiplied out in Python."""
    import math

    lines = corpus.load(source="excerpt")
    alphabet = corpus.summarize(lines).alphabet
    got = pretrained.information_bound(lines, alphabet, 2, "excerpt")
    counts = pretrained.fit_source("excerpt", alphabet, 2)
    bits = calls = chars = 0
    for x in lines:
        probs, seen = pretrained.model_tables(counts.others(x.play), len(alphabet), 2)
        codes = [alphabet.index(c) for c in x.text]
        b = -sum(math.log2(pretrained.conditional(probs, seen, 2, codes[:i])[c])
                 for i, c in enumerate(codes))
        bits, calls, chars = bits + b, calls + b / math.log2(len(codes) + 1), chars + len(codes)
    assert got["bits_per_char"] == pytest.approx(bits / chars, rel=1e-12)
    assert got["calls_per_char"] == pytest.approx(calls / chars, rel=1e-12)
    assert got["bits_per_char"] < math.log2(len(alphabet))


def test_dask_cluster_is_byte_identical_to_local(tmp_path):
    """The chunks carry their leave-one-out models to the workers: a local cluster of two
    worker processes gives the local backend's bytes (count-split and a learner)."""
    pytest.importorskip("distributed", reason="optional extra 'distributed' not installed")
    from monkeysim.experiments import dask_backend as db

    lines = corpus.load(source="excerpt")
    backend = db.dask_backend(workers=2, scheduler=None, threads=None)
    try:
        for credit in ("count-split", "zero-hits"):
            config = shakespeare.ShakespeareConfig(
                learn=LearnSettings(pretrained=3, credit=credit), chunk_lines=16, seed=2)
            shakespeare.run(lines, config, tmp_path / f"local-{credit}", quiet=True)
            d = shakespeare.run(lines, config, tmp_path / f"dask-{credit}", backend=backend,
                                quiet=True)
            assert d["backend"] == "dask" and d["sha256_match"]
            assert _bytes(tmp_path / f"dask-{credit}") == _bytes(tmp_path / f"local-{credit}")
    finally:
        getattr(backend, "close", lambda: None)()
