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
