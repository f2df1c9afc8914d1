import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest
from naive import naive_race

from monkeysim import theory, type_race
from monkeysim.errors import InvalidInput
from monkeysim.rng import chunk_states
from monkeysim.stats import ks_critical, ks_statistic
from monkeysim.typewriter import CHUNK_MONKEYS

Z_CRIT = 3.89  # two-sided z-test at α = 1e-4: a fixed-seed test that should essentially never fail


@pytest.mark.parametrize("mode", ["stream", "document"])
@pytest.mark.parametrize("target, chars", [("ABA", "AB"), ("ABAB", "AB"), ("CAT", "ABCT"),
                                           ("AA", "ABCDEFGHIJKLMNOPQRSTUVWXYZ ")])
def test_kernel_matches_naive_typist(mode, target, chars):
    monkeys, budget, seed = CHUNK_MONKEYS + 40, 97, 11  # two chunks, some censored
    race = type_race(target, alphabet_chars=chars, monkeys=monkeys, budget=budget, mode=mode,
                     seed=seed)
    states = chunk_states(seed, 0, 2)
    codes = [chars.index(c) for c in target]
    ref = naive_race(states, CHUNK_MONKEYS, monkeys, codes, len(chars), budget, mode)
    assert race.keystrokes.tolist() == [t for t, _ in ref]
    assert race.found.tolist() == [f for _, f in ref]


def test_wide_alphabet_matches_naive():
    chars = "".join(chr(c) for c in range(33, 33 + 200))
    race = type_race(chars[5], alphabet_chars=chars, monkeys=30, budget=5000, seed=2)
    ref = naive_race(chunk_states(2, 0, 1), CHUNK_MONKEYS, 30, [5], 200, 5000, "stream")
    assert race.keystrokes.tolist() == [t for t, _ in ref]


@pytest.mark.parametrize("mode", ["stream", "document"])
def test_mean_matches_theory_z_test(mode):
    target, chars, n = "ABA", "ABC", 20_000
    race = type_race(target, alphabet_chars=chars, monkeys=n, budget=10**6, mode=mode, seed=5)
    assert race.censored == 0
    wt = theory.waiting_time(target, 3, mode)
    x = race.keystrokes.astype(float)
    z = (x.mean() - wt.mean) / (x.std(ddof=1) / math.sqrt(n))
    assert abs(z) < Z_CRIT, z


def test_distribution_matches_theory_ks():
    target, chars, n = "HTH", "HT", 20_000
    race = type_race(target, alphabet_chars=chars, monkeys=n, budget=10**6, seed=9)
    wt = theory.waiting_time(target, 2)
    d = ks_statistic(race.keystrokes, wt.cdf)
    assert d < ks_critical(n, alpha=1e-3), d


def test_censored_restricted_mean_matches_theory():
    target, n, budget = "ABCD", 20_000, 300
    race = type_race(target, alphabet_chars="ABCD", monkeys=n, budget=budget, seed=3)
    wt = theory.waiting_time(target, 4)
    assert 0 < race.censored < n
    assert abs(race.censored - n * wt.sf(budget)) < Z_CRIT * math.sqrt(n * 0.25)
    x = race.keystrokes.astype(float)
    z = (x.mean() - wt.restricted_mean(budget)) / (x.std(ddof=1) / math.sqrt(n))
    assert abs(z) < Z_CRIT


def test_threads_in_process_identical():
    kw = dict(alphabet_chars="AB", monkeys=3 * CHUNK_MONKEYS + 5, budget=500, seed=4)
    r1 = type_race("ABBA", threads=1, **kw)
    r2 = type_race("ABBA", threads=2, **kw)
    assert np.array_equal(r1.keystrokes, r2.keystrokes)
    assert np.array_equal(r1.found, r2.found)


_CHILD = ("import json, warnings; warnings.simplefilter('ignore');"
          "from monkeysim import type_race;"
          "r = type_race('ABBA', alphabet_chars='AB', monkeys=600, budget=300, seed=8);"
          "d = type_race('AB', alphabet_chars='ABC', monkeys=300, budget=50, seed=8,"
          " mode='document');"
          "print(json.dumps([r.keystrokes.tolist(), r.found.tolist(), d.keystrokes.tolist()]))")


def _child(env_extra):
    env = dict(os.environ, **env_extra)
    out = subprocess.run([sys.executable, "-c", _CHILD], capture_output=True, text=True,
                         env=env, check=True, timeout=900)
    return json.loads(out.stdout)


def test_one_and_two_threads_identical_subprocess():
    assert _child({"NUMBA_NUM_THREADS": "1"}) == _child({"NUMBA_NUM_THREADS": "2"})


@pytest.mark.parity
def test_jit_and_pure_python_agree():
    assert _child({"NUMBA_DISABLE_JIT": "1"}) == _child({})


def test_huge_budget_runs_in_constant_memory():
    # 10^9 keystrokes of budget for 2 monkeys: only O(monkeys) memory is allocated
    race = type_race("ZZZZZZZZZZ", monkeys=2, budget=10**9 // 2, seed=0)
    assert race.keystrokes.tolist() == [10**9 // 2] * 2 and race.censored == 2


@pytest.mark.parametrize("kwargs, fragment", [
    (dict(target=""), "empty"),
    (dict(target="ab", alphabet="upper27"), "'ab'"),
    (dict(target="AB", monkeys=0), "monkeys"),
    (dict(target="AB", monkeys=2.5), "monkeys"),
    (dict(target="AB", budget=-1), "budget"),
    (dict(target="AB", budget=2**62, monkeys=4), "overflows"),
    (dict(target="ABC", budget=2, mode="document"), "document"),
    (dict(target="AB", mode="typing"), "mode"),
    (dict(target="AB", seed=-1), "seed"),
])
def test_bad_inputs(kwargs, fragment):
    with pytest.raises(InvalidInput, match=fragment):
        type_race(**kwargs)
