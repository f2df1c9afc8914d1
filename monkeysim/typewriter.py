"""Random typing races: many monkeys type until the target appears or the budget runs out.

Two modes:

- ``stream``: a monkey types keys one after another; it succeeds when the target appears as a
  substring (overlaps handled by the KMP automaton).
- ``document``: a monkey types documents of ``len(target)`` keys; the reviewer accepts only a
  document that equals the target exactly.

Memory is O(monkeys): per monkey only its keystroke count (int64) and found flag are kept;
the kernel's lane state is kept for at most :data:`WAVE_CHUNKS` chunks at a time. Keys and
lanes: :mod:`monkeysim._kernels.typing`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field

import numba
import numpy as np

from ._kernels import typing as K
from ._kernels.options import call_specialized
from ._kernels.random import digits_per_half
from .alphabet import Alphabet, resolve
from .automaton import document_automaton, kmp_automaton
from .errors import InvalidInput, check_memory, positive_int
from .rng import check_seed, chunk_states, n_chunks

MODES = ("stream", "document")
CHUNK_MONKEYS = 256  # monkeys per RNG chunk: fixed, independent of the thread count
BLOCK_KEYSTROKES = 1 << 28
"""Keystrokes per kernel call of a race (about 0.3 s); between calls Ctrl-C and progress."""
WAVE_CHUNKS = 256
"""Chunks in flight at once (:class:`Wave`): their lane state is about 100 KB."""
BYTES_PER_MONKEY = 9
"""Memory of a race per monkey: an int64 keystroke count and a found flag."""
INT64_MAX = np.iinfo(np.int64).max


@dataclass(frozen=True)
class RaceResult:
    """Outcome of one race.

    Attributes:
        target: the target text.
        alphabet: the alphabet the monkeys typed on.
        mode: ``stream`` or ``document``.
        budget: keystroke budget per monkey.
        seed: root seed.
        keystrokes: int64[monkeys], keystrokes typed until success (or the budget if censored).
        found: bool[monkeys], whether the monkey typed the target within its budget.
        seconds: wall-clock seconds the kernel ran.
        threads: numba threads used.
    """

    target: str
    alphabet: Alphabet
    mode: str
    budget: int
    seed: int
    keystrokes: np.ndarray = field(repr=False)
    found: np.ndarray = field(repr=False)
    seconds: float
    threads: int

    @property
    def monkeys(self) -> int:
        return int(self.keystrokes.shape[0])

    @property
    def censored(self) -> int:
        """Monkeys that ran out of budget before typing the target."""
        return int(self.monkeys - np.count_nonzero(self.found))

    @property
    def total_keystrokes(self) -> int:
        """Keystrokes typed by all monkeys together (exact Python int)."""
        return int(self.keystrokes.sum(dtype=np.uint64))

    @property
    def keystrokes_per_second(self) -> float:
        return self.total_keystrokes / self.seconds if self.seconds > 0 else float("inf")

    @property
    def wall_time(self) -> int | None:
        """Keystrokes until the first monkey succeeded (None if every monkey was censored)."""
        if not self.found.any():
            return None
        return int(self.keystrokes[self.found].min())


def check_threads(threads: int | None) -> int | None:
    """``threads`` if it is None or between 1 and numba's thread count, else InvalidInput."""
    if threads is None:
        return None
    threads = positive_int(threads, "threads")
    if threads > numba.config.NUMBA_NUM_THREADS:
        raise InvalidInput(
            f"threads must be between 1 and {numba.config.NUMBA_NUM_THREADS}, got {threads}"
        )
    return threads


@contextmanager
def numba_threads(threads: int | None):
    """Run a block with ``threads`` numba threads (None: leave numba's setting alone)."""
    if threads is None:
        yield numba.get_num_threads()
        return
    threads = check_threads(threads)
    old = numba.get_num_threads()
    numba.set_num_threads(threads)
    try:
        yield threads
    finally:
        numba.set_num_threads(old)


def check_budget(budget, monkeys: int, target_len: int, mode: str) -> int:
    """Validate a per-monkey keystroke budget: positive, whole documents, no int64 overflow."""
    budget = positive_int(budget, "budget")
    if budget > INT64_MAX // monkeys:
        raise InvalidInput(
            f"budget {budget} × monkeys {monkeys} overflows int64 total keystrokes; "
            f"keep budget × monkeys ≤ {INT64_MAX}"
        )
    if mode == "document" and budget < target_len:
        raise InvalidInput(
            f"budget {budget} is shorter than one document ({target_len} keystrokes)"
        )
    return budget


def type_race(target: str, alphabet: Alphabet | str | None = None, monkeys: int = 1000,
              budget: int = 10_000_000, mode: str = "stream", seed: int = 0,
              threads: int | None = None, alphabet_chars: str | None = None,
              progress: Callable[[int, int], None] | None = None) -> RaceResult:
    """Race ``monkeys`` random typists to ``target``.

    Args:
        target: the text to type (non-empty).
        alphabet: an :class:`Alphabet`, a named alphabet, or None for the smallest named one
            containing the target.
        monkeys: number of monkeys (≥ 1; their arrays must fit in memory).
        budget: keystrokes per monkey before it is censored (≥ 1; whole documents in
            document mode).
        mode: ``stream`` or ``document``.
        seed: root seed; the same seed gives identical results on any thread count.
        threads: numba threads (None: numba's default).
        alphabet_chars: custom alphabet symbols (instead of ``alphabet``).
        progress: called after each block of about :data:`BLOCK_KEYSTROKES` keystrokes as
            ``progress(monkeys_done, keystrokes_typed)``. The race runs in such blocks, so
            Ctrl-C stops it within a block whatever the budget; the blocks do not change the
            result.
    """
    if not isinstance(target, str) or len(target) == 0:
        raise InvalidInput("target is empty; give at least one character")
    if mode not in MODES:
        raise InvalidInput(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    alpha = resolve(target, alphabet, alphabet_chars)
    monkeys = positive_int(monkeys, "monkeys")
    check_memory(monkeys, BYTES_PER_MONKEY, "monkeys")
    budget = check_budget(budget, monkeys, len(target), mode)
    seed = check_seed(seed)
    check_threads(threads)
    codes = alpha.encode(target)
    table, found, dead = race_table(codes, alpha.size, mode)
    stop = budget if mode == "stream" else budget // len(target) * len(target)
    k, p, thr = digits_per_half(alpha.size)
    n_chunk = n_chunks(monkeys, CHUNK_MONKEYS)
    wave = Wave(min(n_chunk, WAVE_CHUNKS))
    keystrokes = np.zeros(monkeys, dtype=np.int64)
    found_out = np.zeros(monkeys, dtype=np.bool_)
    spent = np.zeros(wave.slots, dtype=np.int64)
    typed = 0
    with numba_threads(threads) as used:
        start = time.perf_counter()
        while True:
            wave.refill(seed, n_chunk, monkeys, dead)
            active = int(np.count_nonzero(wave.busy()))
            if active == 0:
                break
            work = max(k * K.LANES, BLOCK_KEYSTROKES // active)
            call_specialized(K.race_block, (6, 7, 8, 9), wave.rs, wave.lanes, wave.nxt, table,
                             found, dead, alpha.size, k, p, thr, stop, keystrokes, found_out,
                             work, spent)
            typed += int(spent.sum())
            if progress is not None:
                progress(wave.monkeys_done(), typed)
        seconds = time.perf_counter() - start
    return RaceResult(target, alpha, mode, budget, seed, keystrokes, found_out, seconds, used)


def race_table(codes: np.ndarray, alphabet_size: int, mode: str) -> tuple[np.ndarray, int, int]:
    """The race kernel's automaton: (flat uint32 table, found, dead), entries next-state × A.

    Stream mode: the KMP automaton (:func:`kmp_automaton`); document mode:
    :func:`document_automaton`. The found state (L × A) is made absorbing and a ``dead``
    absorbing row is appended for idle lanes; a step is ``s = table[s + key]``.
    """
    a = int(alphabet_size)
    delta = kmp_automaton(codes, a) if mode == "stream" else document_automaton(codes, a)
    length = len(codes)
    rows = np.empty((delta.shape[0] + 1, a), dtype=np.uint32)
    rows[:-1] = delta.astype(np.uint64) * a
    rows[length] = length * a
    rows[-1] = delta.shape[0] * a
    return rows.ravel(), length * a, delta.shape[0] * a


def lane_setup(states: np.ndarray, first: int, monkeys: int, dead: int):
    """Lane streams and positions of chunks ``first, first + 1, ...`` (``states``: their
    uint64[chunks, 4] states; :func:`monkeysim._kernels.typing.setup_lanes`)."""
    n_chunk = states.shape[0]
    lo = (first + np.arange(n_chunk, dtype=np.int64)) * CHUNK_MONKEYS
    hi = np.minimum(lo + CHUNK_MONKEYS, monkeys)
    rs = np.zeros((n_chunk, K.LANES, K.LANE_WORDS), dtype=np.uint64)
    lanes = np.zeros((n_chunk, K.LANES, 3), dtype=np.int64)
    nxt = np.zeros((n_chunk, 2), dtype=np.int64)
    K.setup_lanes(states, lo, hi, dead, rs, lanes, nxt)
    return rs, lanes, nxt


def cache_aligned(shape: tuple[int, ...]) -> np.ndarray:
    """A zeroed uint64 array of ``shape`` starting on a 64-byte boundary."""
    n = int(np.prod(shape))
    buf = np.zeros(n + 8, dtype=np.uint64)
    skip = (-buf.ctypes.data % 64) // 8
    return buf[skip:skip + n].reshape(shape)


class Wave:
    """The chunks in flight: ``slots`` chunks type at once (in parallel), and a slot whose
    chunk is done takes the next chunk, in order. Chunks are independent, so the result does
    not depend on the slots; the lane state is O(slots), not O(monkeys)."""

    def __init__(self, slots: int):
        self.slots = slots
        self.rs = cache_aligned((slots, K.LANES, K.LANE_WORDS))
        self.lanes = np.full((slots, K.LANES, 3), K.M_IDLE, dtype=np.int64)
        self.nxt = np.zeros((slots, 2), dtype=np.int64)  # empty slot: nothing assigned
        self.lo = np.zeros(slots, dtype=np.int64)
        self.loaded = 0  # chunks set up so far
        self.finished = 0  # monkeys of chunks that left their slot

    def busy(self) -> np.ndarray:
        """bool[slots]: the slot's chunk still has a monkey typing."""
        return (self.lanes[:, :, 0] >= 0).any(axis=1)

    def refill(self, seed: int, n_chunk: int, monkeys: int, dead: int) -> None:
        """Give the next chunks to the slots whose chunk is done (or that are empty)."""
        free = np.flatnonzero(~self.busy())[: n_chunk - self.loaded]
        if free.size == 0:
            return
        self.finished += int((self.nxt[free, 0] - self.lo[free]).sum())
        rs, lanes, nxt = lane_setup(chunk_states(seed, self.loaded, free.size), self.loaded,
                                    monkeys, dead)
        self.rs[free], self.lanes[free], self.nxt[free] = rs, lanes, nxt
        self.lo[free] = (self.loaded + np.arange(free.size)) * CHUNK_MONKEYS
        self.loaded += free.size

    def monkeys_done(self) -> int:
        """Monkeys with a result so far."""
        assigned = int((self.nxt[:, 0] - self.lo).sum())
        return self.finished + assigned - int((self.lanes[:, :, 0] >= 0).sum())
