"""Key drawing of the race kernel: 32-bit halves, Lemire's rejection, digits by
multiply-and-shift, four jumped lane streams per chunk (issue 21)."""

import math

import numpy as np
import pytest
from naive import NaiveLane, Xoshiro256, digits_per_half, lane_states

from monkeysim import type_race
from monkeysim import typewriter as tw
from monkeysim._kernels import random as R
from monkeysim._kernels import typing as K
from monkeysim._kernels.options import call_specialized
from monkeysim.rng import chunk_state, chunk_states
from monkeysim.stats import chi_square_sf, chi_square_uniform

ALPHABETS = (2, 26, 27, 75, 256)
P_MIN = 1e-4  # a fixed-seed test at α = 1e-4: should essentially never fail


def lane_keys(a: int, n: int, seed: int = 0, stream: int = 0) -> np.ndarray:
    """The first ``n`` keys of lane 0 of chunk 0 (uint8), drawn by the numba kernel."""
    lane = np.zeros(5, dtype=np.uint64)
    lane[:4] = chunk_state(seed, 0, stream)
    out = np.empty(n, dtype=np.uint8)
    call_specialized(K.draw_keys, (1, 2, 3, 4), lane, a, *R.digits_per_half(a), out)
    return out


@pytest.mark.parametrize("a", (1, 2, 3, 26, 27, 75, 96, 200, 255, 256))
def test_digits_per_half_matches_reference(a):
    k, p, thr = R.digits_per_half(a)
    assert (k, p, thr) == digits_per_half(a)
    assert p <= 2**32 and (a == 1 or p * a > 2**32)


@pytest.mark.parametrize("a", (2, 26, 27, 75, 96, 256))
def test_kernel_keys_match_naive_lane(a):
    keys = lane_keys(a, 40 * digits_per_half(a)[0], seed=3)
    ref = NaiveLane(chunk_state(3, 0), a)
    expected = []
    while len(expected) < len(keys):
        expected += ref.keys()
    assert keys.tolist() == expected[:len(keys)]


def test_rejected_halves_are_skipped():
    # A = 75: P = 75**5, 2**32 mod P = 1,921,449,421 of 2**32 halves (45 %) are rejected
    k, p, thr = digits_per_half(75)
    ref = Xoshiro256(chunk_state(5, 0))
    halves = []
    for _ in range(200):
        u = ref.next()
        halves += [u & 0xFFFFFFFF, u >> 32]
    rejected = sum((h * p) % 2**32 < thr for h in halves)
    assert 100 < rejected < 260  # the test stream does exercise rejection
    accepted = [h for h in halves if (h * p) % 2**32 >= thr]
    v = [h * p >> 32 for h in accepted]
    digits = [x // 75 ** (k - 1 - i) % 75 for x in v for i in range(k)]
    assert lane_keys(75, len(digits), seed=5).tolist() == digits


def test_lanes_are_jumped_chunk_states():
    states = chunk_states(7, 0, 3)
    rs, lanes, nxt = tw.lane_setup(states, 0, 2 * tw.CHUNK_MONKEYS + 2, dead=99)
    for c in range(3):
        assert rs[c, :, :4].tolist() == lane_states(states[c])
    assert lanes[2, :, 0].tolist() == [2 * tw.CHUNK_MONKEYS, 2 * tw.CHUNK_MONKEYS + 1, -1, -1]
    assert lanes[2, 2:, 2].tolist() == [99, 99]
    assert nxt.tolist() == [[4, 256], [260, 512], [514, 514]]


def test_jump_matches_reference():
    # the published jump polynomial applied in pure Python (tests/naive.py)
    state = chunk_state(1, 0)
    lane = np.zeros(5, dtype=np.uint64)
    lane[:4] = state
    R.jump(lane)
    ref = Xoshiro256(state)
    ref.jump()
    assert lane[:4].tolist() == ref.s != [int(x) for x in state]


@pytest.mark.parametrize("a", ALPHABETS)
def test_keys_uniform_chi_square(a):
    n = 400 * a
    counts = np.bincount(lane_keys(a, n, seed=11), minlength=a)
    _, p = chi_square_uniform(counts)
    assert p > P_MIN, (a, p)


@pytest.mark.parametrize("a", ALPHABETS)
def test_consecutive_pairs_uniform_chi_square(a):
    # non-overlapping pairs (x[2i], x[2i+1]): independent cells, about 20 per cell; pairs
    # straddle the halves' and draws' boundaries as well as sit inside them
    pairs = 20 * a * a
    keys = lane_keys(a, 2 * pairs, seed=13).astype(np.int64)
    counts = np.bincount(keys[0::2] * a + keys[1::2], minlength=a * a)
    _, p = chi_square_uniform(counts)
    assert p > P_MIN, (a, p)


def test_lanes_independent_pairs():
    # key i of lane 0 against key i of lane 1 (the race's four chains must not be correlated)
    a, n = 27, 20 * 27 * 27
    st = chunk_states(17, 0, 1)
    rs, _, _ = tw.lane_setup(st, 0, 4, dead=0)
    k, p, thr = R.digits_per_half(a)
    x = np.empty(n, dtype=np.uint8)
    y = np.empty(n, dtype=np.uint8)
    call_specialized(K.draw_keys, (1, 2, 3, 4), rs[0, 0], a, k, p, thr, x)
    call_specialized(K.draw_keys, (1, 2, 3, 4), rs[0, 1], a, k, p, thr, y)
    _, pv = chi_square_uniform(np.bincount(x.astype(np.int64) * a + y, minlength=a * a))
    assert pv > P_MIN


def test_chi_square_helper():
    assert math.isclose(chi_square_sf(3.841458820694124, 1), 0.05, rel_tol=1e-9)
    assert math.isclose(chi_square_sf(124.34211340400407, 100), 0.05, rel_tol=1e-9)
    # and it rejects a clearly biased sample
    assert chi_square_uniform([1150, 850, 1000, 1000])[1] < 1e-4


def test_pieces_and_waves_do_not_change_the_race(monkeypatch):
    kw = dict(alphabet_chars="ABC", monkeys=3 * tw.CHUNK_MONKEYS + 9, budget=400, seed=21)
    whole = type_race("ABCA", **kw), type_race("ABC", mode="document", **kw)
    monkeypatch.setattr(tw, "BLOCK_KEYSTROKES", 64)  # many kernel calls per monkey
    monkeypatch.setattr(tw, "WAVE_CHUNKS", 3)  # chunks 0-2 in flight, then chunk 3 in a slot
    seen = []
    pieces = (type_race("ABCA", progress=lambda m, t: seen.append(m), **kw),
              type_race("ABC", mode="document", **kw))
    assert len(seen) > 100 and seen[-1] == kw["monkeys"]
    for w, p in zip(whole, pieces, strict=True):
        assert np.array_equal(w.keystrokes, p.keystrokes)
        assert np.array_equal(w.found, p.found)


def test_single_key_alphabet():
    race = type_race("AAA", alphabet_chars="A", monkeys=5, budget=10)
    assert race.keystrokes.tolist() == [3] * 5 and race.found.all()
    doc = type_race("AA", alphabet_chars="A", monkeys=5, budget=10, mode="document")
    assert doc.keystrokes.tolist() == [2] * 5


@pytest.mark.parametrize("mode", ["stream", "document"])
def test_first_monkeys_of_a_race_are_a_smaller_race(mode):
    # lanes take the next monkey in index order, so monkey m never depends on monkeys > m:
    # compare's troops of N are the first N monkeys of one race
    kw = dict(alphabet_chars="ABC", budget=300, seed=6, mode=mode)
    big = type_race("CAB", monkeys=tw.CHUNK_MONKEYS + 50, **kw)
    for n in (1, 3, 7, 100, tw.CHUNK_MONKEYS + 13):
        small = type_race("CAB", monkeys=n, **kw)
        assert np.array_equal(small.keystrokes, big.keystrokes[:n])
        assert np.array_equal(small.found, big.found[:n])
