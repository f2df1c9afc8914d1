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

STREAMS: dict[str, int] = {
    "train": 5,                    # training monkeys: monkey m types from chunk_state(seed, m, ·)
    "reviewer_noise": 41,          # reward.NoisyReviewer's noise
    "policy_sample": 51,           # CharPolicy.sample
    "weasel": 61,                  # Dawkins' (and the latching) weasel
    "coordinate": 62,              # coordinate search
    "preference_pairs": 63,        # reward_model.preference_pairs: pairs and label noise
    "rlhf": 71,                    # the RLHF segments (train seeds)
    "rlhf_eval": 72,               # the RLHF evaluation documents
    "compare_tuning": 7_001,       # compare's tuning seeds: derived_seed(seed, ·, j)
    "compare_noise_scale": 7_002,  # compare's B_simple cells: derived_seed(seed, ·, i)
    "noise_leash": 7_003,          # monkeysim noise's KL-leash runs: derived_seed(seed, ·, j)
    "tuning_check": 7_004,         # replays of tuned step sizes on unseen seeds (·, j)
    "overopt_tuning": 7_005,       # overopt's RL step-size tuning seeds (·, j, s)
    "shakespeare_lines": 0x5348414B,     # "SHAK": spawn key of the corpus run's line key
    "shakespeare_noise": 0x4E4F495345,   # "NOISE": XOR of the corpus run's noise key
}
"""Every derived random stream, named once: the ``stream`` of :func:`chunk_state` /
:func:`numpy_generator`, the first spawn key of :func:`derived_seed`, or the XOR constant of a
kernel's splitmix64 derivation. No two share a value (tested), so no two uses of one root seed
ever draw the same numbers. Modules take their constant from here."""


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
