"""Slow, obviously-correct reference implementations (pure Python).

Kernels must agree with these exactly when fed the same random stream.
"""

from __future__ import annotations

MASK = (1 << 64) - 1


class Xoshiro256:
    """Pure-Python xoshiro256** with the same state layout as the numba kernel."""

    def __init__(self, state):
        self.s = [int(x) for x in state]

    def next(self) -> int:
        s = self.s
        rotl = lambda x, k: ((x << k) | (x >> (64 - k))) & MASK  # noqa: E731
        result = (rotl((s[1] * 5) & MASK, 7) * 9) & MASK
        t = (s[1] << 17) & MASK
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 45)
        return result


def keys_per_draw(a: int) -> tuple[int, int]:
    """Largest k with a**k <= 2**64 and the rejection limit a**k * floor(2**64 / a**k)."""
    if a == 1:
        return 64, MASK
    k = 0
    while a ** (k + 1) <= 2**64:
        k += 1
    limit = a**k * (2**64 // a**k)
    return k, min(limit, MASK)


class NaiveTypist:
    """Draws keys one at a time: low base-A digits of accepted 64-bit draws."""

    def __init__(self, state, a: int):
        self.rng = Xoshiro256(state)
        self.a = a
        self.k, self.limit = keys_per_draw(a)
        self.digits: list[int] = []

    def fresh(self) -> None:
        """Discard leftover keys of the current draw (each monkey starts on a fresh draw)."""
        self.digits = []

    def key(self) -> int:
        if not self.digits:
            u = self.rng.next()
            while u >= self.limit:
                u = self.rng.next()
            for _ in range(self.k):
                self.digits.append(u % self.a)
                u //= self.a
        return self.digits.pop(0)


def naive_stream_monkey(typist: NaiveTypist, target: list[int], budget: int):
    """Type until ``target`` is a suffix of the typed keys; (keystrokes, found)."""
    typist.fresh()
    typed: list[int] = []
    n = len(target)
    for t in range(1, budget + 1):
        typed.append(typist.key())
        if typed[-n:] == target:
            return t, True
    return budget, False


def naive_document_monkey(typist: NaiveTypist, target: list[int], budget: int):
    """Type whole documents until one equals ``target``; (keystrokes, found)."""
    typist.fresh()
    n = len(target)
    t = 0
    for _ in range(budget // n):
        doc = [typist.key() for _ in range(n)]
        t += n
        if doc == target:
            return t, True
    return t, False


def naive_race(states, chunk_size, monkeys, target, a, budget, mode):
    """Whole race: chunk c's monkeys type one after another from states[c]."""
    out = []
    for c, state in enumerate(states):
        typist = NaiveTypist(state, a)
        for _m in range(c * chunk_size, min((c + 1) * chunk_size, monkeys)):
            if mode == "stream":
                out.append(naive_stream_monkey(typist, target, budget))
            else:
                out.append(naive_document_monkey(typist, target, budget))
    return out


# --- policies and policy gradients (issue 5) ------------------------------------------------
# Brute force over all A**L documents of a tiny policy: exact expected reward, its gradient,
# exact KL / entropy, and the exact expectation of GRPO's update over all groups.

import itertools  # noqa: E402
import math  # noqa: E402


def policy_rows(kind: str, order: int, a: int, doc) -> list[int]:
    """The logit row used for each key of ``doc`` (positional: i; context: last n−1 keys in
    base A+1, the start symbol being the digit A)."""
    rows = []
    base = a + 1
    n_rows = base ** (order - 1)
    ctx = [a] * (order - 1)
    for i, key in enumerate(doc):
        if kind == "positional":
            rows.append(i)
        else:
            r = 0
            for d in ctx:
                r = r * base + d
            rows.append(r % n_rows if n_rows > 1 else 0)
        if order > 1:
            ctx = ctx[1:] + [key]
    return rows


def log_softmax_rows(theta) -> list[list[float]]:
    out = []
    for row in theta:
        mx = max(row)
        lse = mx + math.log(sum(math.exp(x - mx) for x in row))
        out.append([x - lse for x in row])
    return out


def all_documents(length: int, a: int):
    return list(itertools.product(range(a), repeat=length))


def doc_log_prob(logp, kind, order, a, doc) -> float:
    return sum(logp[r][k] for r, k in zip(policy_rows(kind, order, a, doc), doc, strict=True))


def doc_score(logp, kind, order, a, doc) -> list[list[float]]:
    """∇_θ log π(doc) as a nested list [R][A]: Σ_tokens (e_key − p[row]) in the token's row."""
    g = [[0.0] * a for _ in logp]
    for r, k in zip(policy_rows(kind, order, a, doc), doc, strict=True):
        for b in range(a):
            g[r][b] -= math.exp(logp[r][b])
        g[r][k] += 1.0
    return g


def exact_objective_gradient(theta, kind, order, a, length, reward, theta_ref=None,
                             beta=0.0, alpha=0.0):
    """(J, ∇(J − β KL(π‖π_ref) + α H(π))) by enumeration; ``reward`` maps doc tuple → float."""
    logp = log_softmax_rows(theta)
    logq = log_softmax_rows(theta_ref) if theta_ref is not None else logp
    grad = [[0.0] * a for _ in theta]
    value = 0.0
    for doc in all_documents(length, a):
        lp = doc_log_prob(logp, kind, order, a, doc)
        lq = doc_log_prob(logq, kind, order, a, doc)
        p = math.exp(lp)
        value += p * reward[doc]
        w = p * (reward[doc] - beta * (lp - lq) - alpha * lp)
        s = doc_score(logp, kind, order, a, doc)
        for r in range(len(theta)):
            for b in range(a):
                grad[r][b] += w * s[r][b]
    return value, grad


def exact_kl_entropy(theta, theta_ref, kind, order, a, length):
    """Exact KL(π‖π_ref) and H(π) of whole documents by enumeration (nats)."""
    logp = log_softmax_rows(theta)
    logq = log_softmax_rows(theta_ref)
    kl = 0.0
    h = 0.0
    for doc in all_documents(length, a):
        lp = doc_log_prob(logp, kind, order, a, doc)
        lq = doc_log_prob(logq, kind, order, a, doc)
        kl += math.exp(lp) * (lp - lq)
        h -= math.exp(lp) * lp
    return kl, h


def expected_k3_direction(theta, theta_ref, kind, order, a, length):
    """E_x[Σ_tokens −(1 − π_ref/π)(token) ∇ log π(token)]: the ascent direction of the k3
    penalty per unit β (GRPO style), by enumeration."""
    logp = log_softmax_rows(theta)
    logq = log_softmax_rows(theta_ref)
    grad = [[0.0] * a for _ in theta]
    for doc in all_documents(length, a):
        p = math.exp(doc_log_prob(logp, kind, order, a, doc))
        for r, k in zip(policy_rows(kind, order, a, doc), doc, strict=True):
            c = -(1.0 - math.exp(logq[r][k] - logp[r][k]))
            for b in range(a):
                grad[r][b] += p * c * ((1.0 if b == k else 0.0) - math.exp(logp[r][b]))
    return grad


def expected_grpo_direction(theta, kind, order, a, length, reward, group: int, eps: float):
    """Exact E[(1/n) Σ_j adv_j ∇ log π(x_j)] with GRPO advantages (r − mean)/(std + eps)
    (sample std), enumerating all groups of ``group`` documents."""
    logp = log_softmax_rows(theta)
    docs = all_documents(length, a)
    probs = {d: math.exp(doc_log_prob(logp, kind, order, a, d)) for d in docs}
    scores = {d: doc_score(logp, kind, order, a, d) for d in docs}
    grad = [[0.0] * a for _ in theta]
    for tup in itertools.product(docs, repeat=group):
        w = 1.0
        for d in tup:
            w *= probs[d]
        rs = [reward[d] for d in tup]
        mean = sum(rs) / group
        std = math.sqrt(sum((x - mean) ** 2 for x in rs) / (group - 1))
        for d, x in zip(tup, rs, strict=True):
            adv = (x - mean) / (std + eps)
            s = scores[d]
            for r in range(len(theta)):
                for b in range(a):
                    grad[r][b] += w * adv * s[r][b] / group
    return grad
