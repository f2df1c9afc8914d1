"""The reviewer who errs: noisy scores, flipped verdicts and pairwise preferences.

Private module, part of the learner kernels: see
:mod:`monkeysim._kernels.policy` (which re-exports every name) for the whole step."""

from __future__ import annotations

import math

import numba as nb

from .options import KERNEL_OPTIONS
from .policy_codes import B_DISAGREE, B_REPEATS, MAX_FLIP_ESTIMATE, PREF_DEBIASED, PREF_ESTIMATED
from .random import next_double


@nb.njit(**KERNEL_OPTIONS)
def normal(state):
    """A standard normal draw (Box–Muller on two uniforms; 1 − u avoids log 0)."""
    u = 1.0 - next_double(state)
    v = next_double(state)
    return math.sqrt(-2.0 * math.log(u)) * math.cos(2.0 * math.pi * v)


@nb.njit(**KERNEL_OPTIONS)
def noisy_score(state, r, binary, flip, sd):
    """The reviewer's reported score of a document whose true score is ``r``: a binary
    (exact-bananas) verdict is wrong (``1 − r``) with probability ``flip``; then Gaussian
    noise of standard deviation ``sd`` (reward units) is added. Draws nothing when both are 0."""
    if binary and flip > 0.0:
        if next_double(state) < flip:
            r = 1.0 - r
    if sd > 0.0:
        r += sd * normal(state)
    return r


@nb.njit(**KERNEL_OPTIONS)
def preference_verdict(state, ra, rb, flip):
    """One comparison by the preference reviewer: +1 if it names document a better, −1 if b;
    0 for a tie (equal true scores: reported as a tie, never flipped). A strict preference is
    wrong with probability ``flip``."""
    if ra == rb:
        return 0.0
    s = 1.0 if ra > rb else -1.0
    if flip > 0.0 and next_double(state) < flip:
        s = -s
    return s


@nb.njit(**KERNEL_OPTIONS)
def flip_estimate(base):
    """Flip rate ε̂ from repeated comparisons: two verdicts on one pair disagree with
    probability d = 2ε(1 − ε), so ε̂ = (1 − √(1 − 2d))/2 (0 before any repeat; capped at
    :data:`MAX_FLIP_ESTIMATE`)."""
    if base[B_REPEATS] <= 0.0:
        return 0.0
    d = base[B_DISAGREE] / base[B_REPEATS]
    eps = 0.5 * (1.0 - math.sqrt(max(1.0 - 2.0 * d, 0.0)))
    return min(eps, MAX_FLIP_ESTIMATE)


@nb.njit(**KERNEL_OPTIONS)
def preference_advantages(state, rewards, mode, flip, base, out):
    """Advantages of one group from pairwise preferences (``rewards[n]``, n even, the hidden
    true scores): documents ``2i`` and ``2i+1`` are compared once (one reviewer call), the
    winner gets +1 and the loser −1 (ties 0). Documents are exchangeable, so adjacent pairs
    are a random pairing. ``mode``: PREF_NAIVE uses the verdicts as they are (expected
    advantage (1 − 2ε)·sign); PREF_DEBIASED divides by (1 − 2ε) with the known ε (unbiased,
    Chowdhury, Kini & Natarajan 2024); PREF_ESTIMATED compares the first pair a second time
    (one more call), accumulates the disagreements in ``base`` and divides by (1 − 2ε̂)."""
    n = rewards.shape[0]
    first = 0.0
    for i in range(0, n - 1, 2):
        s = preference_verdict(state, rewards[i], rewards[i + 1], flip)
        if i == 0:
            first = s
        out[i] = s
        out[i + 1] = -s
    scale = 1.0
    if mode == PREF_DEBIASED:
        scale = 1.0 / (1.0 - 2.0 * flip)
    elif mode == PREF_ESTIMATED:
        again = preference_verdict(state, rewards[0], rewards[1], flip)
        if first != 0.0:  # a tie's repeat says nothing about ε
            base[B_REPEATS] += 1.0
            if again != first:
                base[B_DISAGREE] += 1.0
        scale = 1.0 / (1.0 - 2.0 * flip_estimate(base))
    if scale != 1.0:
        for j in range(n):
            out[j] *= scale
