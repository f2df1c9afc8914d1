"""Rollouts and expected reward: the course note's query table D and response tables D_n.

A rollout samples N queries x_n ~ D and K responses per query y_nk ~ π(·|x_n) and asks the
reviewer for r(x_n, y_nk). The expected reward of a policy π is

    exact:      J(π) = E_{x~D} Σ_y π(y|x) r(x, y)          (enumeration of the tables)
    empirical:  Ĵ    = (1/NK) Σ_n Σ_k r(x_n, y_nk)

**Standard error.** The K responses to one query share x_n, so the NK rewards are not
independent. The N per-query means m_n = (1/K) Σ_k r(x_n, y_nk) are iid, and Ĵ is their
mean, so ``stderr = sd(m_1..m_N) / √N`` (this needs N ≥ 2). Its square estimates
Var(Ĵ) = [K·Var_x μ(x) + E_x σ²(x)] / (NK) with μ, σ² the mean and variance of r given x:
Ĵ converges at rate 1/√(NK) when N grows at fixed K; growing K alone only shrinks the
within-query part (:func:`exact_stderr` gives the exact value).

**Tables.** :data:`NOTE_TABLE` holds the note's five queries. The query texts, the ocean
responses "the Pacific Ocean" and "the Atlantic Ocean" and the six Antarctica responses
are the note's (``from_note=True``); the other responses fill in the note's "and so on"
(``from_note=False``). All probabilities are illustrative values chosen here. The Brad Pitt
response is scored by the note's reward model only (see :mod:`monkeysim.reward_scripted`)
and is not in the response tables.

**Table policy.** π_θ(y|x) = softmax(θ_x)_y over the response table of x, with θ a
(Q, M) array of logits (M = the longest response table; shorter rows are padded and ignored)
starting at θ = log p (the table's "pretrained" probabilities). Everything here is exact by
enumeration except the rollout estimates. The policy-gradient updates (:func:`train`) take
the learner core's leave-one-out advantages and SGD step (:mod:`monkeysim._kernels.policy`),
the same code as RLOO in :func:`monkeysim.learn.train.train`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from .._kernels import policy as KP
from ..errors import InvalidInput, positive_float, positive_int
from ..rng import numpy_generator
from ..stats import MeanCI, mean_ci

PROB_TOL = 1e-9
BASELINES = ("none", "loo")

Reviewer = Callable[[str, str], float]


# --- tables -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class ResponseRow:
    """One row k of a response table D_n: a response y and its probability p(y|x)."""

    response: str
    p: float
    from_note: bool = False
    """True when the response is the course note's own, False when filled in here."""


@dataclass(frozen=True)
class QueryRow:
    """One row n of the query table D: a query x, its probability D(x), its responses D_n."""

    query: str
    p: float
    responses: tuple[ResponseRow, ...]
    from_note: bool = False
    """True when the query is the course note's own."""


def _check_probs(probs: Sequence[float], names: Sequence[str], what: str) -> np.ndarray:
    """Validate one probability vector: finite, ≥ 0, summing to 1 within PROB_TOL."""
    for p, name in zip(probs, names, strict=True):
        if isinstance(p, bool) or not isinstance(p, int | float | np.integer | np.floating):
            raise InvalidInput(f"probability of {name} must be a number, got {p!r}")
        if not math.isfinite(p) or p < 0:
            raise InvalidInput(f"probability of {name} must be a finite number ≥ 0, got {p!r}")
    total = math.fsum(float(p) for p in probs)
    if abs(total - 1.0) > PROB_TOL:
        raise InvalidInput(f"{what} sum to {total!r}, not 1 (tolerance {PROB_TOL:g})")
    return np.asarray(probs, dtype=np.float64)


class RolloutTable:
    """The query table D with one response table D_n per query, validated.

    Arrays (Q queries, M = longest response table):
    ``query_probs`` (Q,) D(x); ``probs`` (Q, M) p(y|x), 0 in padding; ``mask`` (Q, M) bool,
    True where a response exists; ``sizes`` (Q,) response-table lengths.
    """

    def __init__(self, rows: Sequence[QueryRow]) -> None:
        rows = tuple(rows)
        if not rows:
            raise InvalidInput("the query table is empty; give at least one query")
        queries = [r.query for r in rows]
        if len(set(queries)) != len(queries):
            dup = next(q for q in queries if queries.count(q) > 1)
            raise InvalidInput(f"query {dup!r} appears twice in the query table")
        self.query_probs = _check_probs([r.p for r in rows], [f"query {q!r}" for q in queries],
                                        "query probabilities D(x)")
        sizes = []
        for r in rows:
            if len(r.responses) == 0:
                raise InvalidInput(f"the response table of query {r.query!r} is empty; give at "
                                   "least one response")
            texts = [y.response for y in r.responses]
            if len(set(texts)) != len(texts):
                dup = next(y for y in texts if texts.count(y) > 1)
                raise InvalidInput(f"response {dup!r} appears twice for query {r.query!r}")
            _check_probs([y.p for y in r.responses],
                         [f"response {y!r} to query {r.query!r}" for y in texts],
                         f"response probabilities p(y|x) for query {r.query!r}")
            sizes.append(len(texts))
        self.rows = rows
        self.queries: tuple[str, ...] = tuple(queries)
        self.responses: tuple[tuple[str, ...], ...] = tuple(
            tuple(y.response for y in r.responses) for r in rows)
        self.sizes = np.asarray(sizes, dtype=np.int64)
        q, m = len(rows), int(self.sizes.max())
        self.probs = np.zeros((q, m))
        self.mask = np.zeros((q, m), dtype=bool)
        for i, r in enumerate(rows):
            self.probs[i, :sizes[i]] = [y.p for y in r.responses]
            self.mask[i, :sizes[i]] = True
        for a in (self.query_probs, self.probs, self.mask, self.sizes):
            a.flags.writeable = False

    @property
    def shape(self) -> tuple[int, int]:
        """(Q, M): number of queries and length of the longest response table."""
        return self.probs.shape

    def __len__(self) -> int:
        return len(self.rows)

    def __repr__(self) -> str:
        return f"RolloutTable({len(self)} queries, {int(self.sizes.sum())} responses)"


def make_table(spec: Mapping[str, tuple[float, Mapping[str, float]]]) -> RolloutTable:
    """A table from ``{query: (D(x), {response: p(y|x)})}`` (rows marked not from the note)."""
    return RolloutTable([QueryRow(q, p, tuple(ResponseRow(y, py) for y, py in resp.items()))
                         for q, (p, resp) in spec.items()])


def _note(query, p, responses):
    return QueryRow(query, p, tuple(ResponseRow(*r) for r in responses), from_note=True)


NOTE_TABLE = RolloutTable([
    _note("The largest ocean is ?", 0.25, [
        ("the Pacific Ocean", 0.55, True), ("the Atlantic Ocean", 0.25, True),
        ("the Indian Ocean", 0.10, False), ("the Southern Ocean", 0.05, False),
        ("water", 0.05, False)]),
    _note("Can you give me some python code", 0.20, [
        ("print('hello, world')", 0.40, False), ("def add(a, b): return a + b", 0.30, False),
        ("Sure! What should the code do?", 0.20, False), ("no", 0.10, False)]),
    _note("is it a kids book", 0.15, [
        ("yes", 0.40, False), ("no", 0.30, False), ("which book do you mean?", 0.20, False),
        ("banana", 0.10, False)]),
    _note("which country owns Antarctica?", 0.25, [
        ("?9dfsa", 0.10, True), ("Antarctica is", 0.25, True),
        ("Penguin overlords", 0.15, True), ("Antarctica is a country", 0.20, True),
        ("no country owns Antarctica", 0.20, True),
        ("Antarctica is governed by an international treaty", 0.10, True)]),
    _note("who made this course", 0.15, [
        ("a teacher", 0.40, False), ("I don't know", 0.40, False),
        ("the authors of the course", 0.20, False)]),
])
"""The course note's query table D and response tables D_n (see the module docstring)."""


def reward_matrix(table: RolloutTable, reviewer: Reviewer | np.ndarray) -> np.ndarray:
    """Rewards r(x, y) of every table entry, shape (Q, M), 0 in padding.

    ``reviewer`` is called once per (query, response) of the table; a non-finite reward
    (NaN, ±inf) raises InvalidInput naming the pair. An array of shape (Q, M) is checked
    and returned as is (so callers can score once and reuse the matrix).
    """
    if isinstance(reviewer, np.ndarray):
        if reviewer.shape != table.shape:
            raise InvalidInput(f"reward matrix has shape {reviewer.shape}, the table needs "
                               f"{table.shape}")
        bad = table.mask & ~np.isfinite(reviewer)
        if bad.any():
            i, j = np.argwhere(bad)[0]
            raise InvalidInput(f"reward for query {table.queries[i]!r}, response "
                               f"{table.responses[i][j]!r} is {float(reviewer[i, j])!r}; rewards "
                               "must be finite numbers")
        return np.where(table.mask, reviewer, 0.0)
    out = np.zeros(table.shape)
    for i, q in enumerate(table.queries):
        for j, y in enumerate(table.responses[i]):
            r = reviewer(q, y)
            try:
                rf = float(r)
            except (TypeError, ValueError):
                raise InvalidInput(f"reviewer returned {r!r} for query {q!r}, response {y!r}; "
                                   "rewards must be finite numbers") from None
            if not math.isfinite(rf):
                raise InvalidInput(f"reviewer returned {rf!r} for query {q!r}, response {y!r}; "
                                   "rewards must be finite numbers")
            out[i, j] = rf
    return out


# --- table policy ----------------------------------------------------------------------------

@dataclass
class TablePolicy:
    """π_θ(y|x) = softmax over the response table of x of the logits ``theta[x]``.

    ``theta`` is (Q, M); padding and responses with pretrained probability 0 are outside the
    support and ignored (π = 0 there, forever).
    """

    table: RolloutTable
    theta: np.ndarray

    @classmethod
    def pretrained(cls, table: RolloutTable) -> TablePolicy:
        """The starting policy π_0: θ = log p, so π_0 = the table's probabilities."""
        with np.errstate(divide="ignore"):
            theta = np.where(table.probs > 0, np.log(table.probs), 0.0)
        return cls(table, theta)

    @property
    def support(self) -> np.ndarray:
        """(Q, M) bool: responses π can ever produce (in the table with p > 0)."""
        return self.table.mask & (self.table.probs > 0)

    def log_probs(self) -> np.ndarray:
        """(Q, M) log π_θ(y|x); 0 outside the support (π = 0 there)."""
        s = self.support
        z = np.where(s, self.theta, -np.inf)
        z = z - z.max(axis=1, keepdims=True)
        lse = np.log(np.exp(z).sum(axis=1, keepdims=True))
        return np.where(s, z - lse, 0.0)

    def probs(self) -> np.ndarray:
        """(Q, M) π_θ(y|x), rows sum to 1; 0 outside the support."""
        return np.where(self.support, np.exp(self.log_probs()), 0.0)

    def copy(self) -> TablePolicy:
        return TablePolicy(self.table, self.theta.copy())


def _policy_probs(table: RolloutTable, policy: TablePolicy | None) -> np.ndarray:
    if policy is None:
        return np.asarray(table.probs)
    if policy.table is not table:
        raise InvalidInput("the policy belongs to a different table")
    return policy.probs()


def exact_expected_reward(table: RolloutTable, reviewer: Reviewer | np.ndarray,
                          policy: TablePolicy | None = None) -> float:
    """J = E_{x~D} Σ_y π(y|x) r(x, y) by enumeration (π = the table's p(y|x) by default).

    In reward units (bananas) per document.
    """
    r = reward_matrix(table, reviewer)
    return float(table.query_probs @ (_policy_probs(table, policy) * r).sum(axis=1))


def exact_stderr(table: RolloutTable, reviewer: Reviewer | np.ndarray, n_queries: int, k: int,
                 policy: TablePolicy | None = None) -> float:
    """The exact standard deviation of Ĵ for N queries × K responses:
    √([K·Var_x μ(x) + E_x σ²(x)] / (NK)), μ and σ² the mean and variance of r given x."""
    n_queries, k = positive_int(n_queries, "N (queries)"), positive_int(k, "K (responses)")
    r = reward_matrix(table, reviewer)
    pi = _policy_probs(table, policy)
    mu = (pi * r).sum(axis=1)
    var_within = (pi * (r - mu[:, None]) ** 2).sum(axis=1)
    d = table.query_probs
    var_between = float(d @ (mu - d @ mu) ** 2)
    return math.sqrt((k * var_between + float(d @ var_within)) / (n_queries * k))


def exact_gradient(policy: TablePolicy, reviewer: Reviewer | np.ndarray) -> np.ndarray:
    """∇_θ J(π_θ), shape (Q, M): D(x) π(y|x) [r(x, y) − Σ_y' π(y'|x) r(x, y')]."""
    r = reward_matrix(policy.table, reviewer)
    pi = policy.probs()
    mu = (pi * r).sum(axis=1, keepdims=True)
    return policy.table.query_probs[:, None] * pi * (r - mu)


def exact_kl(policy: TablePolicy, reference: TablePolicy | None = None) -> float:
    """KL(π_θ ‖ π_ref) = E_{x~D} Σ_y π(y|x) log[π(y|x)/π_ref(y|x)] (nats; π_ref = π_0)."""
    ref = TablePolicy.pretrained(policy.table) if reference is None else reference
    pi, lp, lq = policy.probs(), policy.log_probs(), ref.log_probs()
    per_query = np.where(pi > 0, pi * (lp - lq), 0.0).sum(axis=1)
    return float(policy.table.query_probs @ per_query)


# --- rollouts --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Rollout:
    """N sampled queries and K sampled responses per query (indices into the table)."""

    table: RolloutTable
    query_idx: np.ndarray
    """(N,) int64: n-th query x_n as a row of the query table."""
    response_idx: np.ndarray
    """(N, K) int64: k-th response to x_n as a row of its response table."""

    @property
    def n_queries(self) -> int:
        return int(self.query_idx.shape[0])

    @property
    def k(self) -> int:
        return int(self.response_idx.shape[1])

    def rewards(self, reviewer: Reviewer | np.ndarray) -> np.ndarray:
        """(N, K) rewards r(x_n, y_nk)."""
        r = reward_matrix(self.table, reviewer)
        return r[self.query_idx[:, None], self.response_idx]

    def texts(self) -> list[tuple[str, list[str]]]:
        """[(x_n, [y_n1 .. y_nK])] as text."""
        t = self.table
        return [(t.queries[i], [t.responses[i][j] for j in row])
                for i, row in zip(self.query_idx, self.response_idx, strict=True)]


def _generator(rng) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    return numpy_generator(rng)


def sample_rollout(table: RolloutTable, n_queries: int, k: int,
                   rng: int | np.random.Generator = 0,
                   policy: TablePolicy | None = None) -> Rollout:
    """Sample x_n ~ D (n = 1..N) and y_nk ~ π(·|x_n) (k = 1..K).

    ``rng`` is a root seed (a Generator from :func:`monkeysim.rng.numpy_generator`) or a
    Generator; ``policy`` defaults to the table's probabilities. Deterministic for a seed.
    The N rows are iid, so a rollout of N·R queries cut into R blocks is R independent ones.
    """
    n_queries = positive_int(n_queries, "N (queries per rollout)")
    k = positive_int(k, "K (responses per query)")
    gen = _generator(rng)
    pi = _policy_probs(table, policy)
    qcdf = np.cumsum(table.query_probs)
    x = np.minimum(np.searchsorted(qcdf, gen.random(n_queries), side="right"), len(table) - 1)
    u = gen.random((n_queries, k))
    y = np.empty((n_queries, k), dtype=np.int64)
    for i in range(len(table)):  # inverse CDF per query; clip guards cdf[-1] < 1 by roundoff
        rows = x == i
        if rows.any():
            cdf = np.cumsum(pi[i, :table.sizes[i]])
            last = int(np.flatnonzero(pi[i, :table.sizes[i]] > 0)[-1])
            y[rows] = np.minimum(np.searchsorted(cdf, u[rows], side="right"), last)
    return Rollout(table, x.astype(np.int64), y)


def empirical_expected_reward(rollout: Rollout, reviewer: Reviewer | np.ndarray) -> MeanCI:
    """Ĵ = (1/NK) Σ_n Σ_k r(x_n, y_nk) with its standard error and 95% interval.

    The iid units are the N per-query means (see the module docstring); ``stderr`` is nan
    for N = 1. ``.n`` is N.
    """
    return mean_ci(rollout.rewards(reviewer).mean(axis=1))


def loo_advantages(rewards: np.ndarray) -> np.ndarray:
    """RLOO advantages of each query's K responses, (N, K) → (N, K): ``r_nk`` minus the mean
    of the other K − 1 rewards to the same query, by the learner core's kernel
    (:func:`monkeysim._kernels.policy.group_advantages`)."""
    out = np.empty_like(rewards, dtype=np.float64)
    unused = np.zeros(KP.N_BASE)
    for row, adv in zip(np.ascontiguousarray(rewards, dtype=np.float64), out, strict=True):
        KP.group_advantages(row, KP.ADV_LOO, unused, 0.0, adv)
    return out


def score_function_gradient(policy: TablePolicy, rollout: Rollout,
                            reviewer: Reviewer | np.ndarray, baseline: str = "none"
                            ) -> np.ndarray:
    """REINFORCE estimate of ∇_θ J, shape (Q, M), from a rollout sampled from ``policy``:

        ĝ = (1/NK) Σ_n Σ_k (r_nk − b_nk) ∇_θ log π_θ(y_nk|x_n),
        ∇_θ[x', y'] log π(y|x) = 1[x' = x] (1[y' = y] − π(y'|x)).

    ``baseline``: ``"none"`` (b = 0) or ``"loo"`` (b_nk = mean of the other K − 1 rewards to
    the same query; needs K ≥ 2). Both are unbiased: b_nk does not depend on y_nk given x_n.
    """
    if baseline not in BASELINES:
        raise InvalidInput(f"baseline must be one of {', '.join(BASELINES)}, got {baseline!r}")
    r = rollout.rewards(reviewer)
    n, k = r.shape
    if baseline == "loo":
        if k < 2:
            raise InvalidInput(f"baseline 'loo' needs K ≥ 2 responses per query, got K = {k}")
        r = loo_advantages(r)
    pi = policy.probs()
    g = np.zeros_like(pi)
    np.add.at(g, (np.repeat(rollout.query_idx, k), rollout.response_idx.ravel()), r.ravel())
    np.add.at(g, rollout.query_idx, -r.sum(axis=1)[:, None] * pi[rollout.query_idx])
    return g / (n * k)


def kl_estimates(policy: TablePolicy, rollout: Rollout,
                 reference: TablePolicy | None = None) -> tuple[float, float]:
    """(k1, k3) estimates of KL(π_θ ‖ π_ref) from a rollout sampled from π_θ (nats).

    With ρ = π_ref(y|x)/π_θ(y|x) at the sampled pairs: k1 = mean(−log ρ) (unbiased, can be
    negative), k3 = mean(ρ − 1 − log ρ) (unbiased, ≥ 0, lower variance near π_ref).
    """
    ref = TablePolicy.pretrained(policy.table) if reference is None else reference
    idx = (rollout.query_idx[:, None], rollout.response_idx)
    log_rho = ref.log_probs()[idx] - policy.log_probs()[idx]
    return float(np.mean(-log_rho)), float(np.mean(np.expm1(log_rho) - log_rho))


# --- policy-gradient updates -----------------------------------------------------------------

@dataclass(frozen=True)
class Training:
    """Policy-gradient updates of a table policy; arrays have length updates + 1 (row t =
    the policy after t updates, estimated from the rollout sampled at step t)."""

    step: np.ndarray
    expected_reward_exact: np.ndarray
    """J(π_t), bananas per document, by enumeration."""
    expected_reward_estimate: np.ndarray
    """Ĵ from the step's rollout (N·K documents)."""
    expected_reward_stderr: np.ndarray
    kl_exact: np.ndarray
    """KL(π_t ‖ π_0), nats, by enumeration."""
    kl_k1: np.ndarray
    kl_k3: np.ndarray
    policy: TablePolicy
    """The final policy."""
    n_queries: int
    k: int
    lr: float
    baseline: str
    reviewer_calls: int = field(default=0)
    """Documents scored by the reviewer over all rollouts (N·K per step)."""


def train(table: RolloutTable, reviewer: Reviewer | np.ndarray, *, updates: int,
          n_queries: int, k: int, lr: float, rng: int | np.random.Generator = 0,
          baseline: str = "loo") -> Training:
    """``updates`` steps of θ ← θ + lr·ĝ (ĝ from :func:`score_function_gradient` on a fresh
    rollout of N queries × K responses each step), starting from π_0 = the table's
    probabilities. Reports exact and estimated expected reward and KL(π_t ‖ π_0) per step."""
    updates = positive_int(updates, "updates")
    n_queries = positive_int(n_queries, "N (queries per rollout)")
    k = positive_int(k, "K (responses per query)")
    positive_float(lr, "learning rate lr")
    if baseline not in BASELINES:
        raise InvalidInput(f"baseline must be one of {', '.join(BASELINES)}, got {baseline!r}")
    if baseline == "loo" and k < 2:
        raise InvalidInput(f"baseline 'loo' needs K ≥ 2 responses per query, got K = {k}")
    r = reward_matrix(table, reviewer)
    gen = _generator(rng)
    ref = TablePolicy.pretrained(table)
    policy = ref.copy()
    cols: dict[str, list[float]] = {c: [] for c in (
        "er", "er_hat", "er_se", "kl", "k1", "k3")}
    for t in range(updates + 1):
        ro = sample_rollout(table, n_queries, k, gen, policy)
        est = empirical_expected_reward(ro, r)
        k1, k3 = kl_estimates(policy, ro, ref)
        for c, v in zip(cols, (exact_expected_reward(table, r, policy), est.mean, est.stderr,
                                exact_kl(policy, ref), k1, k3), strict=True):
            cols[c].append(v)
        if t < updates:
            KP.sgd_update(policy.theta, score_function_gradient(policy, ro, r, baseline), lr)
    a = {c: np.asarray(v) for c, v in cols.items()}
    return Training(np.arange(updates + 1), a["er"], a["er_hat"], a["er_se"], a["kl"], a["k1"],
                    a["k3"], policy, n_queries, k, float(lr), baseline,
                    (updates + 1) * n_queries * k)
