"""Reviewers: reward functions r(query, response) and the bananas they pay.

A *text reviewer* scores a response against one target text (the answer it wants for its
query) with one of :data:`REWARD_KINDS` (see :mod:`monkeysim._kernels.reward` for the exact
definitions); every score is in [0, 1] and is 1 exactly when the response is the target.
``TextReviewer.score_batch`` scores many encoded documents at once in numba (the hot path of
training; one reviewer call per document).

Two wrappers change what a reviewer pays:

- :class:`Bananas` pays whole bananas: the number of thresholds the score reaches
  (``thresholds=(1.0,)`` on ``hamming`` pays one banana for a perfect document only).
- :class:`NoisyReviewer` adds Gaussian noise to each score and/or, with probability
  ``flip``, gives the wrong verdict ``high + low − score`` (for 0/1 rewards: swaps them); its
  noise comes from its own stream, seeded like everything else, and is consumed in call
  order.

The course note's scripted reviewer (a lookup table of the note's own numbers) lives in
:mod:`monkeysim.reward_scripted`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ._kernels import reward as KR
from .alphabet import Alphabet, resolve
from .errors import InvalidInput, positive_int, require
from .rng import STREAMS, check_seed, numpy_generator

REWARD_KINDS = KR.REWARD_KINDS
#: stream id of the noisy reviewer's random numbers (see :mod:`monkeysim.rng`)
NOISE_STREAM = STREAMS["reviewer_noise"]


def check_kind(kind: str) -> str:
    """``kind`` if it is one of REWARD_KINDS, else a clear InvalidInput."""
    if kind not in REWARD_KINDS:
        raise InvalidInput(f"unknown reward {kind!r}; choose one of {', '.join(REWARD_KINDS)}")
    return kind


def word_spans(target: str) -> tuple[np.ndarray, np.ndarray]:
    """(start, end) int64 arrays of the target's words, each with its trailing separators.

    Separators are whitespace; leading separators join the first word. The spans cover the
    whole target, so every word right ⇔ the response is the target.
    """
    starts: list[int] = []
    i, n = 0, len(target)
    while i < n:
        j = i
        if not starts:  # leading separators belong to the first word
            while j < n and target[j].isspace():
                j += 1
        starts.append(i)
        while j < n and not target[j].isspace():
            j += 1
        while j < n and target[j].isspace():
            j += 1
        i = j
    ends = starts[1:] + [n]
    return np.array(starts, dtype=np.int64), np.array(ends, dtype=np.int64)


@dataclass(frozen=True, eq=False)
class TextReviewer:
    """Scores responses against ``target`` with reviewer ``kind``; r(query, response).

    The query is not read: a text reviewer wants one answer. Build with :func:`make_reviewer`.
    """

    kind: str
    target: str
    alphabet: Alphabet
    ngram_n: int = 3
    target_codes: np.ndarray = field(init=False, repr=False)
    word_start: np.ndarray = field(init=False, repr=False)
    word_end: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        check_kind(self.kind)
        positive_int(self.ngram_n, "ngram n")
        require(len(self.target) > 0, "target is empty; give at least one character")
        object.__setattr__(self, "target_codes", self.alphabet.encode(self.target))
        start, end = word_spans(self.target)
        object.__setattr__(self, "word_start", start)
        object.__setattr__(self, "word_end", end)

    @property
    def kind_code(self) -> int:
        """Index of ``kind`` in REWARD_KINDS (what the kernels take)."""
        return REWARD_KINDS.index(self.kind)

    @property
    def record(self) -> KR.Review:
        """Everything the kernels read of this reviewer, as one record."""
        return KR.review(self.kind_code, self.target_codes, self.word_start, self.word_end,
                         self.ngram_n)

    @property
    def length(self) -> int:
        return len(self.target_codes)

    def encode(self, response: str) -> np.ndarray:
        """uint8[L] codes of a response of the target's length (else a clear error)."""
        if len(response) != self.length:
            raise InvalidInput(f"response {response!r} has {len(response)} characters; this "
                               f"reviewer reads documents of exactly {self.length}")
        return self.alphabet.encode(response)

    def score(self, response: str) -> float:
        """Score one response (a str of the target's length) in [0, 1]."""
        return self.score_codes(self.encode(response))

    def __call__(self, query, response: str) -> float:
        return self.score(response)

    def score_codes(self, doc: np.ndarray) -> float:
        """Score one encoded document ``uint8[L]``."""
        doc = np.ascontiguousarray(doc, dtype=np.uint8)
        require(doc.shape == (self.length,), f"document has shape {doc.shape}; expected "
                f"({self.length},)")
        return float(KR.score_one(self.record, doc))

    def score_batch(self, docs: np.ndarray) -> np.ndarray:
        """Scores float64[N] of encoded documents ``uint8[N, L]`` (numba, parallel)."""
        docs = np.ascontiguousarray(docs, dtype=np.uint8)
        require(docs.ndim == 2 and docs.shape[1] == self.length,
                f"documents have shape {docs.shape}; expected (N, {self.length})")
        require(int(docs.max(initial=0)) < self.alphabet.size,
                f"document codes must be below the alphabet size {self.alphabet.size}")
        out = np.empty(docs.shape[0])
        KR.score_batch(self.record, docs, out)
        return out


def make_reviewer(kind: str, target: str, alphabet: Alphabet | str | None = None,
                  ngram_n: int = 3, alphabet_chars: str | None = None) -> TextReviewer:
    """A :class:`TextReviewer` of ``kind`` for ``target`` (alphabet as in :func:`resolve`)."""
    check_kind(kind)
    require(isinstance(target, str) and len(target) > 0,
            "target is empty; give at least one character")
    return TextReviewer(kind, target, resolve(target, alphabet, alphabet_chars), ngram_n)


@dataclass(frozen=True)
class Bananas:
    """Pays whole bananas: how many of ``thresholds`` (ascending, in (0, 1]) a score reaches."""

    reviewer: TextReviewer
    thresholds: Sequence[float] = (1.0,)

    def __post_init__(self) -> None:
        t = tuple(float(x) for x in self.thresholds)
        require(len(t) > 0, "bananas need at least one threshold")
        for x in t:
            require(0.0 < x <= 1.0, f"banana threshold {x} is outside (0, 1]")
        require(all(a < b for a, b in zip(t[:-1], t[1:], strict=True)),
                f"banana thresholds {list(t)} must be strictly increasing")
        object.__setattr__(self, "thresholds", t)

    def pay(self, scores) -> np.ndarray:
        """Bananas int64[...] for scores (array-like)."""
        s = np.asarray(scores, dtype=float)
        return np.searchsorted(np.array(self.thresholds), s, side="right").astype(np.int64)

    def __call__(self, query, response: str) -> int:
        return int(self.pay(self.reviewer.score(response)))

    def score_batch(self, docs: np.ndarray) -> np.ndarray:
        return self.pay(self.reviewer.score_batch(docs)).astype(float)


class NoisyReviewer:
    """A reviewer whose verdicts are noisy: Gaussian noise ``sigma`` and wrong verdicts.

    Args:
        reviewer: the underlying reviewer (anything with ``score_batch`` and ``__call__``).
        sigma: standard deviation of the Gaussian noise added to each score (≥ 0).
        flip: probability of a wrong verdict ``1 − score`` (in [0, 1]).
        seed: root seed of the noise stream.
    """

    def __init__(self, reviewer, sigma: float = 0.0, flip: float = 0.0, seed: int = 0):
        require(math.isfinite(sigma) and sigma >= 0.0,
                f"noise sigma {sigma} must be a finite number ≥ 0")
        require(0.0 <= flip <= 1.0, f"wrong-verdict probability {flip} is outside [0, 1]")
        self.reviewer = reviewer
        self.sigma = float(sigma)
        self.flip = float(flip)
        self._rng = numpy_generator(check_seed(seed), 0, NOISE_STREAM)

    def noisy(self, scores: np.ndarray) -> np.ndarray:
        """Apply the noise to float64[N] scores (consumes 2·N numbers of the stream)."""
        s = np.asarray(scores, dtype=float).copy()
        wrong = self._rng.random(s.shape) < self.flip
        s[wrong] = 1.0 - s[wrong]
        return s + self.sigma * self._rng.standard_normal(s.shape)

    def score_batch(self, docs: np.ndarray) -> np.ndarray:
        return self.noisy(self.reviewer.score_batch(docs))

    def __call__(self, query, response: str) -> float:
        return float(self.noisy(np.array([self.reviewer(query, response)]))[0])
