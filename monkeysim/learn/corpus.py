"""Learning monkeys type lines of the corpus: the unit of work of ``monkeysim shakespeare``.

A chunk of lines is a :class:`ChunkTask` (codes, offsets, the index of its first line, the
run's key and the learning settings); :func:`type_chunk` is a pure function of it, so a chunk
gives the same :class:`ChunkResult` on any thread count, process or machine (the local and
Dask backends both call it). See :mod:`monkeysim._kernels.corpus` for the learning rule.

Credit levels (each adds to the one before; ``plain`` is the reference):

- ``plain``: group REINFORCE with the mean baseline, sparse exact update;
- ``greedy-pairs``: the greedy document is scored whenever it changes; comparing two scores
  settles the positions that changed when the score moved by their number, and drops both
  keys of a single changed position when it did not move;
- ``group-pairs``: the same exact credit from each typed document against the greedy one;
- ``zero-hits``: a document that matches nowhere off its settled positions refutes every key
  it typed elsewhere (dropped);
- ``count-split`` (the default): no policy; documents are chosen so that every score is an
  exact count — a key typed on every unknown position counts it, binary splitting with
  counts finds its positions (keys counted in ``ChunkTask.key_order``); see
  :mod:`monkeysim._kernels.corpus_count`. ``monkeys`` and ``lr`` do not apply to it.

With a noisy reviewer (``reviewer_noise`` σ > 0 characters) the same rules apply to scores
decided by a sequential test at error ``delta`` per inference, and a line ends only when its
greedy document's scores show it right (the chance of a wrong claim, over the whole line, at
most ``delta``); see :mod:`monkeysim._kernels.corpus_noise`. With σ = 0 the noiseless kernel
runs, unchanged. ``count-split`` needs exact scores: with noise the default credit is
``zero-hits`` and asking for ``count-split`` is refused (:data:`NOISY_CREDITS`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ..errors import InvalidInput, choice, is_real, nonneg_float, positive_float, positive_int

CREDITS = ("plain", "greedy-pairs", "group-pairs", "zero-hits", "count-split")
"""Credit levels: the first four in the order of :mod:`monkeysim._kernels.corpus` (PLAIN ..
ZERO_HITS, the learners), then ``count-split`` (:mod:`monkeysim._kernels.corpus_count`)."""

NOISY_CREDITS = CREDITS[:4]
"""The levels that work with a noisy reviewer (sequential tests on the scores)."""

DEFAULT_CREDIT, DEFAULT_NOISY_CREDIT = "count-split", "zero-hits"


@dataclass(frozen=True)
class LearnSettings:
    """How each line is learned (validated on construction)."""

    monkeys: int = 8
    """Monkeys in the troop of a line; each types one document per step (the group, G)."""
    lr: float = 0.5
    """Step size on the logits (the reward is the fraction of matching positions)."""
    credit: str | None = None
    """One of :data:`CREDITS`; None: ``count-split``, or ``zero-hits`` with reviewer noise."""
    max_reviewer_calls: int = 1_000_000
    """Budget per line; a line not proven within it is reported as a miss."""
    reviewer_noise: float = 0.0
    """σ of Gaussian noise on every score the reviewer reports, in characters (one character
    = 1/L of a hamming score); 0: a reviewer who never errs (the noiseless kernel)."""
    delta: float = 1e-3
    """With noise: the error chance allowed to each inference (settle, drop) and to the
    claim that a line is typed; in (0, 1)."""
    pretrained: int | None = None
    """None: the uniform start; else the order of the character n-gram model fitted on the
    other plays that each line starts from (see :mod:`monkeysim.learn.pretrained`)."""

    def __post_init__(self) -> None:
        if positive_int(self.monkeys, "monkeys") < 2:
            raise InvalidInput(f"monkeys must be at least 2 (the group baseline compares "
                               f"documents), got {self.monkeys}")
        positive_int(self.max_reviewer_calls, "max_reviewer_calls")
        positive_float(self.lr, "learning rate lr")
        nonneg_float(self.reviewer_noise, "reviewer noise σ (characters)")
        if self.credit is None:
            object.__setattr__(self, "credit", DEFAULT_NOISY_CREDIT if self.reviewer_noise > 0
                               else DEFAULT_CREDIT)
        choice(self.credit, CREDITS, "credit")
        if self.reviewer_noise > 0 and self.credit not in NOISY_CREDITS:
            raise InvalidInput(f"credit {self.credit} needs exact scores; with reviewer noise "
                               f"use one of: {', '.join(NOISY_CREDITS)}")
        if self.pretrained is not None:
            object.__setattr__(self, "pretrained",
                               positive_int(self.pretrained, "pretrained ORDER"))
            if self.noisy:
                raise InvalidInput("--pretrained does not go with reviewer noise (the noisy "
                                   "learners start from the uniform policy)")
        if not (is_real(self.delta) and 0 < self.delta < 1):
            raise InvalidInput(f"delta (the error chance of each inference) must be in (0, 1), "
                               f"got {self.delta!r}")

    @property
    def noisy(self) -> bool:
        """True when the reviewer's scores carry noise."""
        return self.reviewer_noise > 0

    def to_dict(self) -> dict:
        """The fields as a dict; without noise the noise fields are left out, so a noiseless
        run's records are the same as before they existed."""
        d = asdict(self)
        if not self.noisy:
            del d["reviewer_noise"], d["delta"]
        if self.pretrained is None:
            del d["pretrained"]
        return d


@dataclass(frozen=True)
class ChunkTask:
    """One chunk of lines: ``codes`` uint8 (all lines, concatenated), ``offsets`` int64[n+1];
    its first line is line ``first_line`` of the run; ``key`` is the run's 64-bit key;
    ``key_order`` uint8[A]: the order ``count-split`` counts keys in (None: code order);
    ``models``: the pretrained start of its lines (None: uniform)."""

    chunk: int
    codes: np.ndarray
    offsets: np.ndarray
    first_line: int
    key: int
    alphabet_size: int
    settings: LearnSettings
    key_order: np.ndarray | None = None
    models: object | None = None
    """A :class:`monkeysim.learn.pretrained.ChunkModels` (its ``tables()``, ``marginals()``,
    ``sure``), or None."""


LINE_STATS_FIELDS = ("solved", "calls", "keystrokes", "steps", "settled", "dropped", "exact",
                     "rescores", "resets")
"""The per-line statistics, in the kernels' column order: field ``name`` is column
``ST_<NAME>`` of :mod:`monkeysim._kernels.corpus` (checked by :func:`line_stats`)."""

LINE_STATS_DTYPE = np.dtype([(name, np.int64) for name in LINE_STATS_FIELDS])
"""One line's statistics, a structured dtype read by field name (``stats["calls"]``):

- ``solved``: 1 when the line ended typed (noiseless: proven by the reviewer's scores; noisy:
  the run's own claim, its end test passed), 0 when the budget ran out;
- ``calls``: reviewer calls (documents scored); ``keystrokes``: keys typed;
- ``steps``: learning steps (the troop typed a group of documents; ``count-split``: documents);
- ``settled``: positions settled at the end; ``dropped``: keys dropped (refuted;
  ``count-split``: position-key pairs refuted by a count of zero);
- ``exact``: 1 when the final document equals the line (checked after the line ended, for
  reporting only);
- ``rescores``: reviewer calls that scored a document again; ``resets``: facts discarded or
  keys restored (both 0 without noise)."""


def line_stats(raw: np.ndarray) -> np.ndarray:
    """The kernels' per-line statistics ``raw`` int64[n, N_ST] as a record array of
    :data:`LINE_STATS_DTYPE` (shape ``(n,)``, the same bytes; a view when ``raw`` is
    C-contiguous). The one place that knows the kernels' column indices; ValueError for an
    array of another shape or dtype."""
    _check_columns()
    raw = np.asarray(raw)
    if raw.dtype != np.int64 or raw.ndim != 2 or raw.shape[1] != len(LINE_STATS_FIELDS):
        raise ValueError(f"line statistics must be int64[n, {len(LINE_STATS_FIELDS)}], got "
                         f"{raw.dtype}{list(raw.shape)}")
    return np.ascontiguousarray(raw).view(LINE_STATS_DTYPE)[:, 0]


def line_stats_array(stats: np.ndarray) -> np.ndarray:
    """The inverse of :func:`line_stats`: the record array ``stats`` as the kernels'
    int64[n, N_ST] (the checkpoints store this, unchanged)."""
    _check_columns()
    stats = np.ascontiguousarray(stats, LINE_STATS_DTYPE)
    return stats.view(np.int64).reshape(stats.shape[0], len(LINE_STATS_FIELDS))


def _check_columns() -> None:
    """The fields are the kernels' columns, one to one and in order (a new kernel column
    without a field, or a moved one, fails here rather than mislabelling a count)."""
    from .._kernels import corpus as kc

    cols = [getattr(kc, "ST_" + name.upper(), None) for name in LINE_STATS_FIELDS]
    if cols != list(range(kc.N_ST)):  # pragma: no cover - guarded by the tests
        raise RuntimeError(f"LINE_STATS_FIELDS {LINE_STATS_FIELDS} do not match the "
                           f"kernels' columns ST_* (N_ST = {kc.N_ST})")


def stats_totals(stats: np.ndarray) -> dict[str, int]:
    """Each field of the record array ``stats`` summed over its lines, by name."""
    return {name: int(stats[name].sum()) for name in LINE_STATS_FIELDS}


@dataclass(frozen=True)
class ChunkResult:
    """What a chunk produced: the typed codes (like the task's), per-line ``stats`` (a record
    array of :data:`LINE_STATS_DTYPE`, one per line) and ``bananas`` float64[n]."""

    chunk: int
    typed: np.ndarray
    stats: np.ndarray
    bananas: np.ndarray


def type_chunk(task: ChunkTask) -> ChunkResult:
    """Learn every line of ``task`` (in parallel over numba threads); pure and seeded."""
    from .._kernels import corpus as kc

    n = task.offsets.shape[0] - 1
    typed = np.empty_like(task.codes)
    stats = np.zeros((n, kc.N_ST), np.int64)
    bananas = np.zeros(n)
    s = task.settings
    if s.credit == "count-split" and task.models is not None:
        from .._kernels import corpus_prior as kp

        probs, seen = task.models.tables()
        kp.count_split_prior_lines(task.codes, task.offsets, task.alphabet_size, probs, seen,
                                   task.models.line_model, task.models.order, task.models.sure,
                                   s.max_reviewer_calls, typed, stats, bananas)
        return ChunkResult(task.chunk, typed, line_stats(stats), bananas)
    if s.credit == "count-split":
        from .._kernels import corpus_count as kcc

        order = (np.arange(task.alphabet_size, dtype=np.uint8) if task.key_order is None
                 else np.ascontiguousarray(task.key_order, np.uint8))
        kcc.count_split_lines(task.codes, task.offsets, order, s.max_reviewer_calls, typed,
                              stats, bananas)
        return ChunkResult(task.chunk, typed, line_stats(stats), bananas)
    args = (task.codes, task.offsets, task.first_line, np.uint64(task.key), task.alphabet_size,
            s.monkeys, float(s.lr), CREDITS.index(s.credit), s.max_reviewer_calls)
    if s.noisy:
        from .._kernels import corpus_noise as kn

        kn.learn_lines_noisy(*args, float(s.reviewer_noise), float(s.delta), typed, stats,
                             bananas)
    elif task.models is not None:
        longest = int(np.diff(task.offsets).max(initial=0))
        _, priors = task.models.marginals(longest, s.credit)
        kc.learn_lines_from(*args, priors, task.models.line_model, typed, stats, bananas)
    else:
        kc.learn_lines(*args, typed, stats, bananas)
    return ChunkResult(task.chunk, typed, line_stats(stats), bananas)


def check_converged(task: ChunkTask, result: ChunkResult) -> None:
    """Raise :class:`~monkeysim.errors.Diverged` (the one-line message of ``train``) if a line
    of ``result`` diverged: the kernels return NaN bananas for a line whose weights exp(θ)
    left float64's range."""
    bad = np.flatnonzero(np.isnan(result.bananas))
    if bad.size:
        from ..errors import Diverged

        j = int(bad[0])
        raise Diverged(f"learning diverged: logits reached beyond ±709 (the limit of the "
                       f"weights exp(θ) in float64) after step {int(result.stats['steps'][j])} "
                       f"of line {task.first_line + j} with learning rate "
                       f"lr={task.settings.lr:g}; use a smaller --lr")


def noise_counts(stats: np.ndarray) -> dict[str, int]:
    """What a noisy run reports of per-line ``stats`` (a record array of
    :data:`LINE_STATS_DTYPE`): the lines it claims typed (its end test passed) beside the
    lines whose typed text equals the corpus line (compared after the line ended, never used
    while learning), the lines typed wrong (claimed or not), the wrongly claimed ones, and the
    reviewer calls that re-scored a document and the times facts were discarded or keys
    restored."""
    claimed = stats["solved"] == 1
    exact = stats["exact"] == 1
    return {"lines_claimed_exact": int(claimed.sum()), "lines_exact_checked": int(exact.sum()),
            "lines_wrong": int((~exact).sum()),
            "lines_wrong_claimed": int((claimed & ~exact).sum()),
            "reviewer_rescores": int(stats["rescores"].sum()),
            "credit_resets": int(stats["resets"].sum())}


def frequency_order(counts: np.ndarray) -> np.ndarray:
    """The keys (uint8[A]) by ``counts`` int64[A] (how often each key occurs), most frequent
    first; ties in code order."""
    counts = np.asarray(counts, np.int64)
    return np.lexsort((np.arange(counts.shape[0]), -counts)).astype(np.uint8)


def encode(texts, alphabet: str) -> tuple[np.ndarray, np.ndarray]:
    """``(codes uint8, offsets int64[n+1])`` of ``texts`` over ``alphabet`` (≤ 255 keys)."""
    if len(alphabet) > 255:
        raise InvalidInput(f"the alphabet has {len(alphabet)} keys; at most 255 are allowed")
    index = {c: i for i, c in enumerate(alphabet)}
    lengths = np.fromiter((len(t) for t in texts), np.int64, len(texts))
    offsets = np.zeros(len(texts) + 1, np.int64)
    np.cumsum(lengths, out=offsets[1:])
    codes = np.fromiter((index[c] for t in texts for c in t), np.uint8, int(offsets[-1]))
    return codes, offsets


def decode(codes: np.ndarray, offsets: np.ndarray, alphabet: str) -> list[str]:
    """The lines of ``codes``/``offsets`` as strings over ``alphabet``."""
    keys = np.array(list(alphabet))
    return ["".join(keys[codes[a:b]]) for a, b in zip(offsets[:-1], offsets[1:], strict=True)]
