"""Slow, obviously correct reference of the ``count-split`` kernel
(``monkeysim._kernels.corpus_count``): plain Python, recursion instead of the kernel's stack,
the same documents in the same order, so that stats and bananas agree bit for bit.

Also :func:`consistent_keys`: by brute force over all ``A^L`` lines, the keys each position
can still hold given a list of (document, score) pairs (for the property tests).
"""

from __future__ import annotations

import itertools


class _OutOfBudget(Exception):
    pass


def naive_count_split_line(target, order, max_calls):
    """``(doc, stats, bananas)`` as :func:`count_split_line` returns them (nine stats:
    solved, calls, keystrokes, steps = calls, settled, dropped, exact, 0, 0); also the list
    of ``(document, score)`` pairs the reviewer saw, as a fourth item."""
    target = [int(c) for c in target]
    order = [int(c) for c in order]
    n = len(target)
    known = [None] * n
    counts = {}
    seen = []
    st = {"calls": 0, "bananas": 0.0, "dropped": 0}

    def score(doc):
        if st["calls"] + 1 > max_calls:
            raise _OutOfBudget
        h = sum(1 for d, t in zip(doc, target, strict=True) if d == t)
        st["calls"] += 1
        st["bananas"] += h / n
        seen.append((list(doc), h))
        return h

    def n_known():
        return sum(1 for k in known if k is not None)

    def measure(key, filler, on):
        """Score of: ``key`` on positions ``on``, right keys where known, ``filler``
        elsewhere; minus the known positions (all typed right)."""
        doc = [k if k is not None else filler for k in known]
        for i in on:
            doc[i] = key
        return score(doc) - n_known()

    def locate(c, filler, seg, m):
        if m == 0:
            st["dropped"] += len(seg)
            return
        if m == len(seg):
            for i in seg:
                known[i] = c
            return
        half = seg[:len(seg) // 2]
        x = measure(c, filler, half)
        locate(c, filler, half, x)
        locate(c, filler, seg[len(seg) // 2:], m - x)

    def one_by_one(c, k, c2, k2, unknown):
        found = 0
        for t, i in enumerate(unknown):
            left = len(unknown) - t
            if found == k:
                st["dropped"] += left
                return
            if left == k - found:
                for u in unknown[t:]:
                    known[u] = c
                return
            doc = [kn if kn is not None else c2 for kn in known]
            doc[i] = c
            h = score(doc)
            if h - n_known() - k2 == 1:
                known[i] = c
                found += 1
            else:
                st["dropped"] += 1

    filler = None
    probes = list(reversed(order))  # filler candidates, the rarest first
    try:
        for r, c in enumerate(order):
            if n_known() == n:
                break
            unknown = [i for i in range(n) if known[i] is None]
            fresh = c not in counts
            if fresh:
                counts[c] = measure(c, c, [])
            k = counts[c]
            if k == 0:
                st["dropped"] += len(unknown) if fresh else 0  # else counted when probed
                filler = c if filler is None else filler
                continue
            if k == len(unknown):
                for i in unknown:
                    known[i] = c
                continue
            while filler is None and probes:
                f = probes.pop(0)
                if f not in counts:
                    counts[f] = measure(f, f, [])
                    if counts[f] == 0:
                        st["dropped"] += len(unknown)
                if counts[f] == 0:
                    filler = f
            if filler is None:  # every key is in the line
                one_by_one(c, k, order[r + 1], counts[order[r + 1]], unknown)
                filler = c
                continue
            locate(c, filler, unknown, k)
    except _OutOfBudget:
        pass
    solved = n_known() == n
    doc = [k if k is not None else order[0] for k in known]
    calls = st["calls"]
    stats = [int(solved), calls, calls * n, calls, n_known(), st["dropped"],
             int(doc == target), 0, 0]
    return doc, stats, st["bananas"], seen


def consistent_keys(seen, n, a_size):
    """Per position, the set of keys some line of length ``n`` over ``a_size`` keys can hold
    while agreeing with every ``(document, score)`` in ``seen`` (brute force over A^n)."""
    keys = [set() for _ in range(n)]
    for line in itertools.product(range(a_size), repeat=n):
        if all(sum(d == t for d, t in zip(doc, line, strict=True)) == h for doc, h in seen):
            for i, c in enumerate(line):
                keys[i].add(c)
    return keys
