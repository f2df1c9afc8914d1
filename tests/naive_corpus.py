"""Slow, obviously correct reference of the corpus kernel (``monkeysim._kernels_corpus``).

Plain Python (lists and ``math.exp``), one step at a time, in the kernel's order of floating
point operations, so that fed the same xoshiro256** state it gives the same document, stats
and bananas bit for bit.

Per position ``i`` the live keys sit in slots, exactly like the kernel's slot arrays:
``keys[i][s]`` and weights ``w[i][s] = exp(θ[i][s])`` (updated multiplicatively); a dropped
key is swapped with the last live slot and removed (the slot order matters for sampling).
``cdf[i]`` / ``z[i]`` are the running sums / total of the weights as of the last scan at the
top of a step; when credit on the greedy document drops keys, the step starts over with a
new scan, so the group always samples from the policy's current distribution.
"""

from __future__ import annotations

import math

from naive import MASK, Xoshiro256, naive_double

# columns of the stats and the credit levels, as in the kernel
(ST_SOLVED, ST_CALLS, ST_KEYSTROKES, ST_STEPS, ST_SETTLED, ST_DROPPED, ST_EXACT, ST_RESCORES,
 ST_RESETS) = range(9)
PLAIN, GREEDY_PAIRS, GROUP_PAIRS, ZERO_HITS = range(4)


def naive_line_state(key: int, index: int) -> list[int]:
    """xoshiro256** state of line ``index`` of the run with ``key``: four splitmix64 outputs
    seeded with ``key ^ (index * 0xD1B54A32D192ED03)`` (all mod 2**64)."""
    x = (key ^ (index * 0xD1B54A32D192ED03)) & MASK
    state = []
    for _ in range(4):
        x = (x + 0x9E3779B97F4A7C15) & MASK
        z = x
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        state.append(z ^ (z >> 31))
    return state


class _Policy:
    """Live-key slots of every position of one line."""

    def __init__(self, n: int, a_size: int):
        self.keys = [list(range(a_size)) for _ in range(n)]
        self.w = [[1.0] * a_size for _ in range(n)]
        self.cdf = [[] for _ in range(n)]
        self.z = [0.0] * n

    def scan(self, i: int) -> int:
        """Running sums and total of the live weights of position ``i``; the first argmax."""
        s, best, cdf = 0.0, 0, []
        w = self.w[i]
        for a in range(len(w)):
            s += w[a]
            cdf.append(s)
            if w[a] > w[best]:
                best = a
        self.cdf[i], self.z[i] = cdf, s
        return self.keys[i][best]

    def draw(self, rng: Xoshiro256, i: int) -> int:
        """A slot of position ``i`` by the inverse CDF: the number of running sums ≤ u among
        the first m − 1 (m = live keys now)."""
        u = naive_double(rng) * self.z[i]
        m = len(self.keys[i])
        return sum(1 for j in range(m - 1) if u >= self.cdf[i][j])

    def drop(self, i: int, c: int) -> int:
        """Remove key ``c`` of position ``i`` (swap with the last live slot); 1 if it was live."""
        keys = self.keys[i]
        if c not in keys:
            return 0
        s = keys.index(c)
        for arr in (self.keys[i], self.w[i]):
            arr[s] = arr[-1]
            arr.pop()
        return 1


def _pair_credit(doc, hits, base, base_hits, out, settled, pol):
    """Compare ``doc`` with ``base`` (two exact scores) on the positions S where they differ:
    score up by |S| → doc's keys there are right; down by |S| → base's keys are right (settle
    S, ``out`` takes the right keys); |S| = 1 and no change → both keys wrong (drop).
    Returns (newly settled with doc's key, dropped, verdict)."""
    diff = [i for i in range(len(doc)) if doc[i] != base[i]]
    d = hits - base_hits
    if not diff:
        return 0, 0, 0
    if abs(d) == len(diff):
        gained = 0
        for i in diff:
            if not settled[i]:
                settled[i] = True
                if d > 0:
                    out[i] = doc[i]
                    gained += 1
                else:
                    out[i] = base[i]
        return gained, 0, 1 if d > 0 else -1
    dropped = 0
    if len(diff) == 1 and d == 0:
        i = diff[0]
        c_doc, c_base = doc[i], base[i]  # read both before touching ``out`` (may alias)
        dropped += pol.drop(i, c_doc)
        dropped += pol.drop(i, c_base)
    return 0, dropped, 0


def _zero_hit_credit(doc, hits, right, settled, pol):
    """A document whose only matches are its right keys on settled positions refutes every
    key it typed on the unsettled positions."""
    known = sum(1 for i in range(len(doc)) if settled[i] and doc[i] == right[i])
    dropped = 0
    if hits == known:
        for i in range(len(doc)):
            if not settled[i]:
                dropped += pol.drop(i, doc[i])
    return dropped


def naive_learn_line(target, a_size, group, lr, credit, max_calls, state_words):
    """Learn one line as :func:`monkeysim._kernels_corpus.learn_line` does.

    Returns ``(doc, stats, bananas)``: the final greedy document, the nine stats
    (solved, calls, keystrokes, steps, settled, dropped, exact — the document equals the
    target, checked after the line ended — and no re-scores or resets without noise) and the
    summed rewards.
    """
    target = [int(c) for c in target]
    n = len(target)
    rng = Xoshiro256(state_words)
    pol = _Policy(n, a_size)
    settled = [False] * n
    doc = [0] * n  # the greedy document
    shown, shown_hits = None, -1  # the greedy document the reviewer last scored
    calls = keystrokes = steps = dropped = 0
    bananas = 0.0
    solved = False

    def score(d):
        return sum(1 for i in range(n) if d[i] == target[i])

    while True:
        # scan the unsettled positions: tables and the greedy document
        active = [i for i in range(n) if not settled[i]]
        changed = shown is None
        for i in active:
            best = pol.scan(i)
            if best != doc[i]:
                doc[i] = best
                changed = True
        if changed:  # the reviewer scores the new greedy document
            if calls + 1 > max_calls:
                break
            h = score(doc)
            calls += 1
            keystrokes += n
            bananas += h / n
            dr = 0
            if credit >= GREEDY_PAIRS:
                if shown is not None:
                    _, dr, verdict = _pair_credit(doc, h, shown, shown_hits, doc, settled, pol)
                    if verdict < 0:  # doc is back to the shown document
                        h = shown_hits
                if credit >= ZERO_HITS:
                    dr += _zero_hit_credit(doc, h, doc, settled, pol)
                dropped += dr
            shown, shown_hits = list(doc), h
            if dr > 0:  # live keys changed: scan again before the group types
                continue
        if shown_hits == n:
            solved = True
            break
        if calls + group > max_calls:
            break
        if credit >= GREEDY_PAIRS:
            active = [i for i in active if not settled[i]]
        # the group: each monkey types a document, the reviewer scores it
        docs, slots, hits = [], [], []
        total = 0.0
        for _k in range(group):
            d = list(doc)
            sl = {}
            for i in active:
                s = pol.draw(rng, i)
                sl[i] = s
                d[i] = pol.keys[i][s]
            h = sum(1 for i in range(n) if settled[i]) + sum(
                1 for i in active if d[i] == target[i])
            docs.append(d)
            slots.append(sl)
            hits.append(h)
            total += h
        calls += group
        keystrokes += group * n
        steps += 1
        bananas += total / n
        mean = total / group
        # REINFORCE with the mean baseline: Σ_k A_k (e_{x_k} − p) = Σ_k A_k e_{x_k};
        # θ += lr·A_k on each typed key, i.e. its weight exp(θ) times exp(lr·A_k)
        factor = [math.exp(lr * (h - mean) / n) for h in hits]
        for i in active:
            for k in range(group):
                pol.w[i][slots[k][i]] *= factor[k]
        if credit >= GROUP_PAIRS:  # exact credit of each document against the shown one
            gained = 0
            for k in range(group):
                if credit >= ZERO_HITS:
                    dropped += _zero_hit_credit(docs[k], hits[k], doc, settled, pol)
                g, dr, _ = _pair_credit(docs[k], hits[k], shown, shown_hits, doc, settled, pol)
                gained += g
                dropped += dr
            shown_hits += gained
            shown = list(doc)
    stats = [1 if solved else 0, calls, keystrokes, steps, sum(settled), dropped,
             1 if doc == target else 0, 0, 0]
    return doc, stats, bananas
