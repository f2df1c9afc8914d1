"""Seeded random streams, one per chunk of work.

Work is cut into chunks of a fixed size that does not depend on the thread or worker count.
Chunk ``i`` of a run with root seed ``seed`` gets the xoshiro256** state derived from
``SeedSequence(seed, spawn_key=(i,))``; so the same seed gives the same bytes on any number
of threads or machines. States are ``uint64[chunks, 4]`` arrays that kernels advance in place.
"""

from __future__ import annotations

import numpy as np

from .errors import InvalidInput

STATE_WORDS = 4  # xoshiro256** keeps 4 × 64 bits


def check_seed(seed) -> int:
    """Validate a root seed: a non-negative integer."""
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or int(seed) < 0:
        raise InvalidInput(f"seed must be a non-negative integer, got {seed!r}")
    return int(seed)


def chunk_state(seed: int, chunk: int, stream: int = 0) -> np.ndarray:
    """xoshiro256** state (uint64[4]) for chunk ``chunk`` of root seed ``seed``.

    ``stream`` separates independent uses of the same chunk index (for example the
    sampling and the noise of one run); the spawn key is ``(chunk,)`` for stream 0 and
    ``(chunk, stream)`` otherwise.
    """
    key = (int(chunk),) if stream == 0 else (int(chunk), int(stream))
    state = np.random.SeedSequence(check_seed(seed), spawn_key=key).generate_state(
        STATE_WORDS, np.uint64
    )
    if not state.any():  # xoshiro's all-zero state is a fixed point; astronomically unlikely
        state[0] = 1
    return state


def chunk_states(seed: int, first: int, count: int, stream: int = 0) -> np.ndarray:
    """States for chunks ``first .. first+count-1``, shape (count, 4), uint64."""
    out = np.empty((count, STATE_WORDS), dtype=np.uint64)
    for j in range(count):
        out[j] = chunk_state(seed, first + j, stream)
    return out


def numpy_generator(seed: int, chunk: int = 0, stream: int = 0) -> np.random.Generator:
    """A numpy Generator for Python-level code, derived like the chunk states."""
    key = (int(chunk),) if stream == 0 else (int(chunk), int(stream))
    return np.random.default_rng(np.random.SeedSequence(check_seed(seed), spawn_key=key))


def derived_seed(seed: int, *key: int) -> int:
    """A 63-bit integer seed for a sub-run (e.g. one cell of an experiment), derived from the
    root ``seed`` and an integer ``key`` via ``SeedSequence(seed, spawn_key=key)``; the same
    for the same key whatever order sub-runs are computed in."""
    words = np.random.SeedSequence(check_seed(seed), spawn_key=tuple(int(k) for k in key)
                                   ).generate_state(2, np.uint32)
    return int((int(words[0]) << 31) ^ int(words[1])) & ((1 << 63) - 1)


def n_chunks(total: int, chunk_size: int) -> int:
    """Number of chunks of ``chunk_size`` needed to cover ``total`` items."""
    if chunk_size <= 0:
        raise InvalidInput(f"chunk size must be positive, got {chunk_size}")
    return (total + chunk_size - 1) // chunk_size
