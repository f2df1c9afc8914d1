"""Exact waiting-time theory for random typing.

Stream mode: the number of keystrokes T until the target first appears as a substring. Its
mean is Conway's correlation formula, ``E[T] = Σ_{k ∈ borders} A**k`` (an exact int), where
the borders are the lengths k with ``target[:k] == target[-k:]`` (k = L always counts). Its
distribution comes from the KMP automaton's Markov chain on the transient states 0..L−1.

Document mode: each document of L keys equals the target with probability ``A**-L``; the
number of documents is geometric, so ``E[T] = L · A**L`` keystrokes.

For N independent monkeys the wall time is the first success ``min(T_1..T_N)`` with survival
``S(t)**N``; the total work is ``N ×`` wall time keystrokes.

All times are in keystrokes. Survival functions are float64; means are exact Python ints for
one monkey and float for N monkeys.

Learning: :func:`noise_scale_uniform` gives the gradient noise scale ``B_simple`` of a
positional policy at uniform initialisation under hamming bananas (in documents).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from .alphabet import Alphabet
from .automaton import borders, kmp_automaton
from .errors import InvalidInput, choice, positive_int

MODES = ("stream", "document")


def _alphabet_size(alphabet) -> int:
    if isinstance(alphabet, Alphabet):
        return alphabet.size
    return positive_int(alphabet, "alphabet size")


def _codes(target, alphabet) -> tuple[int, ...]:
    """Target as a tuple of codes: encoded with ``alphabet`` if it is an Alphabet and the
    target a string; a string with an int alphabet uses its distinct characters' order."""
    if isinstance(target, str):
        if len(target) == 0:
            raise InvalidInput("target is empty; give at least one character")
        if isinstance(alphabet, Alphabet):
            return tuple(int(c) for c in alphabet.encode(target))
        size = _alphabet_size(alphabet)
        order = {c: i for i, c in enumerate(dict.fromkeys(target))}
        if len(order) > size:
            raise InvalidInput(
                f"target has {len(order)} distinct characters but the alphabet only {size}"
            )
        return tuple(order[c] for c in target)
    codes = tuple(int(c) for c in np.asarray(target).ravel())
    if not codes:
        raise InvalidInput("target is empty; give at least one character")
    size = _alphabet_size(alphabet)
    if max(codes) >= size or min(codes) < 0:
        raise InvalidInput(f"target codes must lie in 0..{size - 1}")
    return codes


def expected_keystrokes(target, alphabet, mode: str = "stream") -> int:
    """Exact mean keystrokes for one monkey to type ``target`` (a Python int).

    Args:
        target: text (str) or codes.
        alphabet: an :class:`Alphabet` or its size A.
        mode: ``stream`` (Conway: Σ_{borders k} A**k) or ``document`` (L · A**L).
    """
    size = _alphabet_size(alphabet)
    codes = _codes(target, alphabet)
    if mode == "stream":
        return sum(size**k for k in borders(codes))
    if mode == "document":
        return len(codes) * size ** len(codes)
    raise InvalidInput(f"mode must be one of {', '.join(MODES)}, got {mode!r}")


def log10_expected_keystrokes(target, alphabet, mode: str = "stream") -> float:
    """log10 of :func:`expected_keystrokes` (exact int, so fine for 10**40 and beyond)."""
    value = expected_keystrokes(target, alphabet, mode)
    digits = len(str(value))
    lead = int(str(value)[:17])
    return math.log10(lead) + digits - 17 if digits > 17 else math.log10(value)


@dataclass(frozen=True)
class WaitingTime:
    """Exact distribution of the keystrokes T until one monkey types the target.

    Built by :func:`waiting_time`. ``head[t] = P(T > t)`` for ``t = 0..len(head)-1`` is
    computed by stepping the automaton's chain; beyond the head the chain is in its
    quasi-stationary regime and ``P(T > t) = head[-1] · (1 − hazard)**(t − t_head)``, exact to
    float64 precision (the head is extended until the per-step hazard has converged).

    Attributes:
        length: target length L.
        alphabet_size: A.
        mode: ``stream`` or ``document``.
        mean: exact mean keystrokes (int).
        hazard: the per-keystroke (stream) or per-document (document) success probability in
            the tail.
        head: float64 survival values at t = 0, 1, ... (stream) or at t = 0, L, 2L, ...
            (document: one entry per document).
    """

    length: int
    alphabet_size: int
    mode: str
    mean: int
    hazard: float
    head: np.ndarray = field(repr=False)

    @property
    def step(self) -> int:
        """Keystrokes per step of ``head``: 1 in stream mode, L in document mode."""
        return 1 if self.mode == "stream" else self.length

    def _log_sf_steps(self, n: np.ndarray) -> np.ndarray:
        """log P(T > n steps) for integer step counts n ≥ 0 (float64 array)."""
        n = np.asarray(n, dtype=np.float64)
        last = len(self.head) - 1
        out = np.empty_like(n)
        inside = n <= last
        with np.errstate(divide="ignore"):
            out[inside] = np.log(self.head[n[inside].astype(np.int64)])
        log_tail = math.log(self.head[last]) if self.head[last] > 0 else -math.inf
        out[~inside] = log_tail + (n[~inside] - last) * math.log1p(-self.hazard)
        return out

    def sf(self, t) -> np.ndarray:
        """Survival P(T > t) for keystroke counts ``t`` (array-like of non-negative numbers)."""
        return np.exp(self.log_sf(t))

    def log_sf(self, t) -> np.ndarray:
        """Natural log of P(T > t), accurate far into the tail."""
        t = np.asarray(t, dtype=np.float64)
        if np.any(t < 0):
            raise InvalidInput("keystroke counts t must be non-negative")
        return self._log_sf_steps(np.floor(t / self.step))

    def cdf(self, t) -> np.ndarray:
        """P(T ≤ t)."""
        return -np.expm1(self.log_sf(t))

    def quantile(self, q) -> np.ndarray:
        """Smallest keystroke count t with P(T ≤ t) ≥ q, for q in [0, 1) (float64 array)."""
        q = np.atleast_1d(np.asarray(q, dtype=np.float64))
        if np.any((q < 0) | (q >= 1)):
            raise InvalidInput("quantile levels q must lie in [0, 1)")
        out = np.empty_like(q)
        last = len(self.head) - 1
        for i, qi in enumerate(q):
            target_sf = 1.0 - qi
            idx = np.nonzero(self.head <= target_sf)[0]
            if idx.size:
                steps = float(idx[0])
            else:
                # head[last] * (1-h)**(n-last) <= 1-q
                need = (math.log(target_sf) - math.log(self.head[last])) / math.log1p(-self.hazard)
                steps = last + math.ceil(need - 1e-9)
            out[i] = steps * self.step
        return out

    def restricted_mean(self, budget: int) -> float:
        """E[min(T, budget)]: the mean keystrokes of a monkey censored at ``budget``.

        ``Σ_{n < budget/step} S(n) · step``: the exact mean of what a budgeted simulation
        measures (censored monkeys count their whole budget).
        """
        steps = positive_int(budget, "budget") // self.step
        last = len(self.head) - 1
        if steps <= last:
            return float(math.fsum(self.head[:steps]) * self.step)
        head = math.fsum(self.head[:last])
        rho = -self.hazard
        # Σ_{n=last}^{steps-1} head[last] (1-h)^(n-last) = head[last] (1 - (1-h)^k) / h
        k = steps - last
        tail = self.head[last] * -math.expm1(k * math.log1p(rho)) / self.hazard
        return float((head + tail) * self.step)

    def log_sf_first(self, t, monkeys: int) -> np.ndarray:
        """log P(min of N monkeys' T > t) = N · log P(T > t)."""
        return positive_int(monkeys, "monkeys") * self.log_sf(t)

    def mean_first(self, monkeys: int) -> float:
        """Mean keystrokes per monkey until the first of N independent monkeys succeeds.

        ``Σ_{n ≥ 0} S(n)**N`` over steps, the head summed exactly and the geometric tail in
        closed form; multiplied by the step (1 keystroke, or L per document).
        """
        n = positive_int(monkeys, "monkeys")
        if n == 1:
            return float(self.mean)
        last = len(self.head) - 1
        head_n = self.head[:last] ** n
        tail_start = self.head[last] ** n
        log_rho_n = n * math.log1p(-self.hazard)
        tail = tail_start / -math.expm1(log_rho_n) if tail_start > 0 else 0.0
        return float((math.fsum(head_n) + tail) * self.step)

    def mean_total_work(self, monkeys: int) -> float:
        """Mean total keystrokes of N monkeys typing until the first success: N × wall time."""
        return positive_int(monkeys, "monkeys") * self.mean_first(monkeys)


@lru_cache(maxsize=256)
def _stream_head(codes: tuple[int, ...], size: int, tol: float, max_steps: int):
    """Step the transient chain until the per-step hazard converges; (head, hazard).

    Stops when the hazard is constant to ``tol`` (relative) for L + 2 steps, or when the
    survival falls below 1e-300 (chains with repeated eigenvalues, like HT on two keys,
    converge only like 1/t but their survival vanishes fast).
    """
    length = len(codes)
    delta = kmp_automaton(np.array(codes), size)[:length]  # rows of transient states
    # Q[s, s'] = P(s -> s') among transient states; absorb[s] = P(s -> L)
    q = np.zeros((length, length))
    for s in range(length):
        for key in range(size):
            nxt = delta[s, key]
            if nxt < length:
                q[s, nxt] += 1.0 / size
    absorb = np.zeros(length)
    absorb[length - 1] = 1.0 / size  # only the last state can complete the target
    # cond = conditional distribution over transient states given survival
    cond = np.zeros(length)
    cond[0] = 1.0
    log_s = 0.0
    head = [1.0]
    prev_h = -1.0
    stable = 0
    for step in range(max_steps):
        h = float(cond @ absorb)
        nxt = cond @ q
        total = nxt.sum()
        if total <= 0:
            head.append(0.0)
            return np.array(head), 1.0
        cond = nxt / total
        log_s += math.log1p(-h) if h < 1 else -math.inf
        head.append(math.exp(log_s))
        if log_s < _LOG_TINY:  # survival below 1e-300: the rest of the tail is zero in float64
            return np.array(head), h
        if step >= length and prev_h > 0 and abs(h - prev_h) <= tol * h:
            stable += 1
            if stable >= length + 2:
                return np.array(head), h
        else:
            stable = 0
        prev_h = h
    raise RuntimeError(f"hazard did not converge within {max_steps} steps")


_LOG_TINY = math.log(1e-300)
MAX_STREAM_LENGTH = 500
"""Longest target of the exact stream-mode distribution (its cost grows like L³)."""
MAX_LOG10_KEYS = 299
"""Largest log10(A^L) of the exact stream-mode distribution: beyond it the per-keystroke
hazard A^-L underflows float64 and the chain's tail cannot converge."""


def check_exact(length: int, size: int) -> None:
    """InvalidInput unless the exact stream-mode distribution of a target of ``length`` keys
    over ``size`` keys is computable in float64 within about a second."""
    log10_keys = length * math.log10(size) if size > 1 else 0.0
    if length > MAX_STREAM_LENGTH or log10_keys > MAX_LOG10_KEYS:
        raise InvalidInput(
            f"the exact waiting-time distribution (stream mode) needs L ≤ {MAX_STREAM_LENGTH} "
            f"and A^L ≤ 10^{MAX_LOG10_KEYS}; this target has L = {length} over A = {size} "
            f"keys (A^L = 10^{log10_keys:.1f}); use a shorter target or document mode")


def waiting_time(target, alphabet, mode: str = "stream", tol: float = 1e-15,
                 max_steps: int = 2_000_000) -> WaitingTime:
    """The exact distribution of keystrokes until one monkey types ``target``.

    Args:
        target: text (str) or codes.
        alphabet: an :class:`Alphabet` or its size A.
        mode: ``stream`` or ``document``.
    """
    size = _alphabet_size(alphabet)
    codes = _codes(target, alphabet)
    mean = expected_keystrokes(codes, size, mode)
    length = len(codes)
    if mode == "stream":
        check_exact(length, size)
        head, hazard = _stream_head(codes, size, tol, max_steps)
    else:
        hazard = math.exp(-length * math.log(size))  # A**-L, may underflow to 0 for huge L
        if hazard == 0.0:
            hazard = 5e-324
        head = np.array([1.0])
    return WaitingTime(length, size, mode, mean, hazard, head)


def survival(target, alphabet, t, mode: str = "stream") -> np.ndarray:
    """P(T > t) for one monkey, for an array of keystroke counts t."""
    return waiting_time(target, alphabet, mode).sf(t)


def expected_first(target, alphabet, monkeys: int, mode: str = "stream") -> float:
    """Mean wall time (keystrokes per monkey) until the first of N monkeys types the target."""
    return waiting_time(target, alphabet, mode).mean_first(monkeys)


def expected_total_work(target, alphabet, monkeys: int, mode: str = "stream") -> float:
    """Mean total keystrokes summed over N monkeys until the first success."""
    return waiting_time(target, alphabet, mode).mean_total_work(monkeys)


def brute_force_survival(target, alphabet_size: int, t_max: int) -> np.ndarray:
    """P(T > t) for t = 0..t_max by plain matrix-vector stepping of the full chain.

    A direct reference for small cases (used by the tests), not for the tail.
    """
    codes = _codes(target, alphabet_size)
    length = len(codes)
    delta = kmp_automaton(np.array(codes), alphabet_size)
    p = np.zeros(length + 1)
    p[0] = 1.0
    out = [1.0]
    for _ in range(t_max):
        nxt = np.zeros(length + 1)
        for s in range(length):
            for key in range(alphabet_size):
                nxt[delta[s, key]] += p[s] / alphabet_size
        nxt[length] += p[length]
        p = nxt
        out.append(1.0 - p[length])
    return np.array(out)


# --- gradient noise scale of a learning monkey ------------------------------------------------

NOISE_BASELINES = ("zero", "loo", "group")
# the baseline each algorithm's first step uses is its table entry's ``noise_baseline``
# (monkeysim.learn.algorithms; REINFORCE's running baseline starts at 0)


@dataclass(frozen=True)
class NoiseScaleTheory:
    """Expected per-group noise-scale estimates (see :func:`noise_scale_uniform`)."""

    grad_sq: float
    """E of the |G|² estimate (|G|² itself for the zero baseline)."""
    trace_sigma: float
    """E of the tr Σ estimate."""
    b_simple: float
    """trace_sigma / grad_sq, documents."""
    exact: bool
    """False for the group-normalised baseline (leading-order approximation)."""


def noise_scale_uniform(length: int, alphabet_size: int, baseline: str = "zero",
                        group: int = 16) -> NoiseScaleTheory:
    """Gradient noise scale of a positional policy at θ = 0 under hamming bananas.

    Reward ``r = K/L`` with ``K ~ Binomial(L, 1/A)`` correct keys; score ``s = ∇ log π(x)``
    with rows ``e_{x_l} − p``, ``p = 1/A``, so ``|s|² = L (1 − 1/A)`` for every document. The
    true gradient ``∂E[r]/∂θ_la = (1[a = t_l] − 1/A)/(L A)`` has
    ``|G|² = (A − 1)/(L A³)``; ``Var r = (A − 1)/(L A²)``. The kernels estimate from a group
    of n documents with ``g_j = A_j s_j``:

    - ``zero`` (REINFORCE's first step, running baseline 0): the g_j are independent and the
      estimators unbiased; ``E|g|² = |s|² E[r²] = (A − 1)(A − 1 + L)/A³``,
      ``tr Σ = E|g|² − |G|²``, ``B_simple = L (A − 1 + L) − 1`` (any n).
    - ``loo`` (RLOO, PPO): ``A_j = r_j − mean of the other n − 1``, ``E[A_j²] = Var r · n/(n−1)``,
      so ``E|g_j|² = (A − 1)²/A³ · n/(n − 1)``. The g_j share rewards: with ``c = 1/(n − 1)``
      only the ``r_i r_j`` and ``c² r_j r_i`` terms of ``A_i A_j s_i·s_j`` survive
      (``E[s] = 0``), ``E[g_i·g_j] = (1 + c²)|G|²``. Hence ``E[|G|² est] = (1 + c²)|G|²``,
      ``E[tr Σ est] = E|g|² − (1 + c²)|G|²`` and the measured ratio's target is
      ``B = L (A − 1) n / ((n − 1)(1 + c²)) − 1``.
    - ``group`` (GRPO, approximate): ``r_j − mean = ((n−1)/n)(r_j − mean of others)``, and the
      std normalisation scales G and Σ alike, so to leading order B is the leave-one-out value
      and both estimates are scaled by ``((n − 1)/n)² / Var r``. The normalisation correlates
      with the rewards, so this is only a guide (at weasel sizes, n = 16, the measured GRPO
      value is ≈ 15 % larger).
    """
    length = positive_int(length, "length L")
    a = positive_int(alphabet_size, "alphabet size A")
    if a < 2:
        raise InvalidInput(f"alphabet size A must be at least 2, got {a}")
    choice(baseline, NOISE_BASELINES, "baseline")
    n = positive_int(group, "group size n")
    g2 = (a - 1) / (length * a**3)
    if baseline == "zero":
        eg = (a - 1) * (a - 1 + length) / a**3
        return NoiseScaleTheory(g2, eg - g2, (eg - g2) / g2, True)
    if n < 2:
        raise InvalidInput(f"a {baseline} baseline needs a group of at least 2 documents, "
                           f"got {n}")
    c = 1.0 / (n - 1)
    eg = (a - 1) ** 2 / a**3 * n / (n - 1)
    gs = (1 + c * c) * g2
    ts = eg - gs
    if baseline == "group":
        k2 = ((n - 1) / n) ** 2 / ((a - 1) / (length * a * a))
        return NoiseScaleTheory(k2 * gs, k2 * ts, ts / gs, False)
    return NoiseScaleTheory(gs, ts, ts / gs, True)


def effective_batch(monkeys, batch, share: float, reference_batch: int) -> np.ndarray:
    """Documents per step of N monkeys × k documents, counted as N (k − c) k₀ / (k₀ − c).

    A group's baseline is the mean of the group's other k − 1 rewards (RLOO's leave-one-out;
    GRPO and PPO likewise): its own noise adds a share 1/(k − 1) to each document's, so a
    group of k documents carries the gradient information of k − 1 documents with an exact
    baseline (c = 1); c = 0 when the baseline's noise costs nothing (it is then uncorrelated
    with the update's direction). The factor k₀/(k₀ − c) counts B in documents at the
    reference batch k₀ (B = N k₀ on the troop ladder), so B_crit and E_min keep their units."""
    k = np.asarray(batch, dtype=float)
    return np.asarray(monkeys, dtype=float) * (k - share) * reference_batch / (
        reference_batch - share)
