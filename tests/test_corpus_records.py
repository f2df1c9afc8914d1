"""The corpus run's per-line statistics as a typed record (``LINE_STATS_DTYPE``), read by name.

The kernels fill int64[n, N_ST] arrays addressed by their ``ST_*`` column constants; at the
Python boundary :func:`~monkeysim.learn.corpus.line_stats` names the columns. The names must
match the kernels' columns one to one (a new kernel column without a field fails here), the
conversion must keep the values and the bytes, and the checkpoints keep storing the kernels'
plain array.
"""

import io

import numpy as np
import pytest

from monkeysim._kernels import corpus as kc
from monkeysim._kernels import corpus_noise as kn
from monkeysim.experiments import shakespeare
from monkeysim.experiments.runner import checkpoint_bytes, read_checkpoint
from monkeysim.learn.corpus import (
    LINE_STATS_DTYPE,
    LINE_STATS_FIELDS,
    ChunkTask,
    LearnSettings,
    line_stats,
    line_stats_array,
    noise_counts,
    stats_totals,
    type_chunk,
)
from monkeysim.results import atomic_write_bytes


def _kernel_columns(module) -> dict[str, int]:
    """The ``ST_*`` column constants of a kernel module, by name."""
    return {name: getattr(module, name) for name in dir(module)
            if name.startswith("ST_") and isinstance(getattr(module, name), int)}


def test_fields_match_kernel_columns_one_to_one():
    cols = _kernel_columns(kc)
    assert kc.N_ST == len(cols) == len(LINE_STATS_FIELDS)
    assert sorted(cols.values()) == list(range(kc.N_ST))  # no gaps, no duplicates
    by_index = [name for name, _ in sorted(cols.items(), key=lambda item: item[1])]
    assert by_index == ["ST_" + f.upper() for f in LINE_STATS_FIELDS]
    assert LINE_STATS_DTYPE.names == LINE_STATS_FIELDS
    assert all(LINE_STATS_DTYPE[f] == np.int64 for f in LINE_STATS_FIELDS)
    assert LINE_STATS_DTYPE.itemsize == 8 * kc.N_ST
    # the noisy kernel fills the same columns (it defines none of its own)
    assert kn.N_ST == kc.N_ST
    assert {k: v for k, v in _kernel_columns(kn).items() if k not in cols} == {}


def test_line_stats_names_known_values():
    raw = np.zeros((2, kc.N_ST), np.int64)
    raw[0, kc.ST_SOLVED], raw[1, kc.ST_SOLVED] = 1, 0
    raw[0, kc.ST_CALLS], raw[1, kc.ST_CALLS] = 40, 1000
    raw[0, kc.ST_KEYSTROKES], raw[1, kc.ST_KEYSTROKES] = 400, 3000
    raw[0, kc.ST_STEPS], raw[1, kc.ST_STEPS] = 7, 200
    raw[0, kc.ST_SETTLED], raw[1, kc.ST_SETTLED] = 10, 2
    raw[0, kc.ST_DROPPED], raw[1, kc.ST_DROPPED] = 55, 6
    raw[0, kc.ST_EXACT], raw[1, kc.ST_EXACT] = 1, 0
    raw[0, kc.ST_RESCORES], raw[1, kc.ST_RESCORES] = 3, 11
    raw[0, kc.ST_RESETS], raw[1, kc.ST_RESETS] = 0, 2
    s = line_stats(raw)
    assert s.dtype == LINE_STATS_DTYPE and s.shape == (2,)
    assert s[0].tolist() == (1, 40, 400, 7, 10, 55, 1, 3, 0)
    assert s["solved"].tolist() == [1, 0]
    assert s["calls"].tolist() == [40, 1000]
    assert s["keystrokes"].tolist() == [400, 3000]
    assert s["steps"].tolist() == [7, 200]
    assert s["settled"].tolist() == [10, 2]
    assert s["dropped"].tolist() == [55, 6]
    assert s["exact"].tolist() == [1, 0]
    assert s["rescores"].tolist() == [3, 11]
    assert s["resets"].tolist() == [0, 2]
    assert np.shares_memory(s, raw)  # a view: no copy at the boundary
    assert s.tobytes() == raw.tobytes()
    back = line_stats_array(s)
    assert back.dtype == np.int64 and back.shape == raw.shape and np.array_equal(back, raw)
    assert stats_totals(s) == {"solved": 1, "calls": 1040, "keystrokes": 3400, "steps": 207,
                               "settled": 12, "dropped": 61, "exact": 1, "rescores": 14,
                               "resets": 2}
    assert noise_counts(s) == {
        "lines_claimed_exact": 1, "lines_exact_checked": 1, "lines_wrong": 1,
        "lines_wrong_claimed": 0, "reviewer_rescores": 14, "credit_resets": 2}


def test_line_stats_edge_cases():
    empty = line_stats(np.zeros((0, kc.N_ST), np.int64))
    assert empty.shape == (0,) and empty.dtype == LINE_STATS_DTYPE
    assert line_stats_array(empty).shape == (0, kc.N_ST)
    assert stats_totals(empty) == dict.fromkeys(LINE_STATS_FIELDS, 0)
    # a non-contiguous input (every other line) is copied, values kept
    raw = np.arange(4 * kc.N_ST, dtype=np.int64).reshape(4, kc.N_ST)
    s = line_stats(raw[::2])
    assert np.array_equal(line_stats_array(s), raw[::2])
    assert np.array_equal(line_stats_array(s[::-1]), raw[::2][::-1])
    for bad in (np.zeros((3, kc.N_ST - 1), np.int64), np.zeros((3, kc.N_ST + 1), np.int64),
                np.zeros(kc.N_ST, np.int64), np.zeros((3, kc.N_ST), np.int32),
                np.zeros((3, kc.N_ST))):
        with pytest.raises(ValueError, match="int64"):
            line_stats(bad)


@pytest.mark.parametrize("sigma", [0.0, 0.5])
def test_type_chunk_returns_the_record(sigma):
    rng = np.random.default_rng(4)
    lens = rng.integers(1, 9, 12)
    offsets = np.zeros(13, np.int64)
    np.cumsum(lens, out=offsets[1:])
    codes = rng.integers(0, 4, offsets[-1]).astype(np.uint8)
    r = type_chunk(ChunkTask(0, codes, offsets, 0, 99, 4,
                             LearnSettings(monkeys=4, lr=1.0, max_reviewer_calls=50_000,
                                           reviewer_noise=sigma)))
    assert r.stats.dtype == LINE_STATS_DTYPE and r.stats.shape == (12,)
    assert np.array_equal(r.stats["keystrokes"], r.stats["calls"] * lens)
    assert np.array_equal(r.stats["exact"],
                          [int(np.array_equal(r.typed[a:b], codes[a:b]))
                           for a, b in zip(offsets[:-1], offsets[1:], strict=True)])
    if sigma == 0:
        assert not r.stats["rescores"].any() and not r.stats["resets"].any()


def test_checkpoint_stores_the_kernels_array(tmp_path):
    """The checkpoint payload is unchanged by the record: ``stats`` is int64[n, N_ST]; a
    checkpoint read back gives the record again, one with other columns is refused."""
    codes = np.array([0, 1, 1, 0, 1], np.uint8)
    offsets = np.array([0, 2, 5], np.int64)
    task = ChunkTask(3, codes, offsets, 0, 7, 2, LearnSettings(monkeys=3, lr=1.0))
    res = type_chunk(task)
    (tmp_path / "chunks").mkdir()
    shakespeare.save_chunk(tmp_path, res, "run-x")
    payload, problem = read_checkpoint(shakespeare.chunk_path(tmp_path, 3), "run-x", 3, 3)
    assert problem == ""
    with np.load(io.BytesIO(payload)) as z:
        assert sorted(z.files) == ["bananas", "stats", "typed"]
        assert z["stats"].dtype == np.int64 and z["stats"].shape == (2, kc.N_ST)
        assert np.array_equal(z["stats"], line_stats_array(res.stats))
    back, problem = shakespeare.load_chunk(tmp_path, task, "run-x")
    assert problem == "" and back.stats.dtype == LINE_STATS_DTYPE
    assert np.array_equal(back.stats, res.stats) and np.array_equal(back.typed, res.typed)
    # a payload whose statistics have another number of columns is another run's
    wide = np.zeros((2, kc.N_ST + 1), np.int64)
    buf = io.BytesIO()
    np.savez(buf, typed=res.typed, stats=wide, bananas=res.bananas)
    atomic_write_bytes(shakespeare.chunk_path(tmp_path, 3),
                       checkpoint_bytes(buf.getvalue(), "run-x", 3, 3))
    assert shakespeare.load_chunk(tmp_path, task, "run-x") == (None, "another index")
