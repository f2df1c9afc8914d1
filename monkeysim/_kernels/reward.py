"""numba kernels for the text reviewers: score encoded documents against a target.

Private module. Every score is in [0, 1] and equals 1 exactly when the document equals the
target. Documents and the target are ``uint8`` codes of the same length ``L``.

Kinds (:data:`REWARD_KINDS`, in code order):

- ``exact``: 1 for a perfect document, else 0 (sparse bananas).
- ``prefix``: share of correct leading keys (a reviewer who stops at the first mistake).
- ``hamming``: share of correct positions.
- ``levenshtein``: ``1 − d / L`` with ``d`` the edit distance (insert, delete, substitute).
- ``ngram``: character n-gram F1 (multiset overlap of the ``L − n + 1`` n-grams of each;
  ``n`` is capped at ``L``). Two different documents can share every n-gram (``abaca`` and
  ``acaba`` for n = 2), so a document that matches every n-gram but differs from the target
  is paid half an n-gram less: the score stays below 1.
- ``words``: share of the target's words typed in place. The target is cut into words, each
  with the separators that follow it (leading separators join the first word), given as
  spans ``word_start[w] .. word_end[w]`` that cover the whole target; a word counts when
  every key of its span is right.

One record per reviewer: :data:`Review` holds everything a built-in reviewer reads (its kind,
the target and the kind's own parameters), so the learner and search kernels pass one value
and a new reviewer adds its parameters here and in :class:`monkeysim.reward.TextReviewer`
only. Kind :data:`OUTSIDE` is a reviewer that scores outside numba (a user's Python object):
:func:`score_one` gives 0 and the caller adds the scores.
"""

from __future__ import annotations

from collections import namedtuple

import numba as nb
import numpy as np

from .options import KERNEL_OPTIONS, PARALLEL_OPTIONS

REWARD_KINDS = ("exact", "prefix", "hamming", "levenshtein", "ngram", "words")
EXACT, PREFIX, HAMMING, LEVENSHTEIN, NGRAM, WORDS = range(len(REWARD_KINDS))
OUTSIDE = -1  # scored outside numba

Review = namedtuple("Review", "kind target word_start word_end ngram_n")
"""One reviewer's parameters: ``kind`` (int, an index of REWARD_KINDS or OUTSIDE), ``target``
(uint8[L] codes), ``word_start``, ``word_end`` (int64[W] word spans, ``words``) and ``ngram_n``
(int, ``ngram``). Build it with :func:`review` so that its numba type never changes."""


def review(kind: int, target, word_start=None, word_end=None, ngram_n: int = 1) -> Review:
    """A :data:`Review` with the kernels' dtypes (empty word spans by default)."""
    empty = np.zeros(0, dtype=np.int64)
    return Review(int(kind), np.ascontiguousarray(target, dtype=np.uint8),
                  empty if word_start is None else np.ascontiguousarray(word_start, np.int64),
                  empty if word_end is None else np.ascontiguousarray(word_end, np.int64),
                  int(ngram_n))


@nb.njit(**KERNEL_OPTIONS)
def score_exact(doc, target):
    for i in range(target.shape[0]):
        if doc[i] != target[i]:
            return 0.0
    return 1.0


@nb.njit(**KERNEL_OPTIONS)
def score_prefix(doc, target):
    n = target.shape[0]
    i = 0
    while i < n and doc[i] == target[i]:
        i += 1
    return i / n


@nb.njit(**KERNEL_OPTIONS)
def hamming_matches(doc, target):
    """The hamming reviewer's count: positions where ``doc`` has the target's key."""
    same = 0
    for i in range(target.shape[0]):
        if doc[i] == target[i]:
            same += 1
    return same


@nb.njit(**KERNEL_OPTIONS)
def score_hamming(doc, target):
    return hamming_matches(doc, target) / target.shape[0]


@nb.njit(**KERNEL_OPTIONS)
def score_levenshtein(doc, target):
    """``1 − d / L`` with the edit distance ``d`` by the two-row dynamic programme."""
    n = target.shape[0]
    prev = np.arange(n + 1)
    cur = np.empty(n + 1, dtype=np.int64)
    for i in range(1, n + 1):
        cur[0] = i
        a = doc[i - 1]
        for j in range(1, n + 1):
            best = prev[j - 1] + (0 if a == target[j - 1] else 1)
            if prev[j] + 1 < best:
                best = prev[j] + 1
            if cur[j - 1] + 1 < best:
                best = cur[j - 1] + 1
            cur[j] = best
        prev, cur = cur, prev
    return (n - prev[n]) / n


@nb.njit(**KERNEL_OPTIONS)
def score_ngram(doc, target, ngram_n):
    """n-gram F1: matched n-grams (multiset intersection) over ``L − n + 1``."""
    n = target.shape[0]
    g = min(ngram_n, n)
    m = n - g + 1
    used = np.zeros(m, dtype=np.bool_)
    matched = 0
    for t in range(m):
        for d in range(m):
            if used[d]:
                continue
            same = True
            for i in range(g):
                if doc[d + i] != target[t + i]:
                    same = False
                    break
            if same:
                used[d] = True
                matched += 1
                break
    if matched == m and score_exact(doc, target) == 0.0:
        return (m - 0.5) / m
    return matched / m


@nb.njit(**KERNEL_OPTIONS)
def score_words(doc, target, word_start, word_end):
    words = word_start.shape[0]
    right = 0
    for w in range(words):
        ok = True
        for i in range(word_start[w], word_end[w]):
            if doc[i] != target[i]:
                ok = False
                break
        if ok:
            right += 1
    return right / words


@nb.njit(**KERNEL_OPTIONS)
def score_one(rev, doc):
    """Score one document ``doc: uint8[L]`` with the reviewer ``rev`` (a :data:`Review`)."""
    kind = rev.kind
    target = rev.target
    if kind == OUTSIDE:
        return 0.0
    if kind == EXACT:
        return score_exact(doc, target)
    if kind == PREFIX:
        return score_prefix(doc, target)
    if kind == HAMMING:
        return score_hamming(doc, target)
    if kind == LEVENSHTEIN:
        return score_levenshtein(doc, target)
    if kind == NGRAM:
        return score_ngram(doc, target, rev.ngram_n)
    return score_words(doc, target, rev.word_start, rev.word_end)


@nb.njit(**PARALLEL_OPTIONS)
def score_batch(rev, docs, out):
    """Score ``docs: uint8[N, L]`` into ``out: float64[N]``, in parallel over documents."""
    for d in nb.prange(docs.shape[0]):
        out[d] = score_one(rev, docs[d])
