"""Slow, obviously-correct reviewers on Python strings (references for the reward kernels)."""

from __future__ import annotations

from collections import Counter


def exact(doc: str, target: str) -> float:
    return 1.0 if doc == target else 0.0


def prefix(doc: str, target: str) -> float:
    n = 0
    while n < len(target) and doc[n] == target[n]:
        n += 1
    return n / len(target)


def hamming(doc: str, target: str) -> float:
    return sum(a == b for a, b in zip(doc, target, strict=True)) / len(target)


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance by the full (len(a)+1) × (len(b)+1) table."""
    d = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) + 1):
        d[i][0] = i
    for j in range(len(b) + 1):
        d[0][j] = j
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1,
                          d[i - 1][j - 1] + (a[i - 1] != b[j - 1]))
    return d[len(a)][len(b)]


def levenshtein(doc: str, target: str) -> float:
    m = max(len(doc), len(target))
    return (m - edit_distance(doc, target)) / m


def ngram(doc: str, target: str, n: int) -> float:
    """n-gram F1 by Counter intersection; half an n-gram off for a reordered perfect match."""
    g = min(n, len(target))
    grams = lambda s: Counter(s[i:i + g] for i in range(len(s) - g + 1))  # noqa: E731
    a, b = grams(doc), grams(target)
    m = sum(b.values())
    matched = sum((a & b).values())
    if matched == m and doc != target:
        return (m - 0.5) / m
    return 2 * matched / (sum(a.values()) + m)


def words(doc: str, target: str) -> float:
    """Share of the target's words (each with its following whitespace) typed in place."""
    spans, i = [], 0
    while i < len(target):
        j = i
        if not spans:
            while j < len(target) and target[j].isspace():
                j += 1
        while j < len(target) and not target[j].isspace():
            j += 1
        while j < len(target) and target[j].isspace():
            j += 1
        spans.append((i, j))
        i = j
    return sum(doc[s:e] == target[s:e] for s, e in spans) / len(spans)


def score(kind: str, doc: str, target: str, ngram_n: int = 3) -> float:
    if kind == "ngram":
        return ngram(doc, target, ngram_n)
    return {"exact": exact, "prefix": prefix, "hamming": hamming,
            "levenshtein": levenshtein, "words": words}[kind](doc, target)
