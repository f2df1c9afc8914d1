"""numba kernel of ``count-split`` from a pretrained start: the n-gram model chooses the
documents, the scores alone decide.

The rules of :mod:`monkeysim._kernels.corpus_count` (count a key on every unknown position,
then find its positions by splitting with exact counts, a filler on the positions not asked
about) with three choices made by a character n-gram model (:mod:`monkeysim._kernels.ngram`)
instead of a fixed key order and halving:

- **guess rounds** (once a filler is known): every unknown position's likeliest unresolved key
  whose chance is at least ``sure`` (0 in the runs: all of them) is typed in one document; the
  count of right guesses is split like a key's count (below), a group whose guesses are all
  right settles them, a group with none right refutes each guess at its position (kept as an
  exclusion: its chance is 0 from then on). Rounds repeat while they leave at least two
  guesses; a settled position lowers the count of its key if that key was counted;

- **which key next** (per line, adaptively): each unknown position gets the model's chance of
  every key not yet resolved (a key is resolved when counted zero or located), from the
  known characters before it (the longest seen context) times the chance of the known
  characters after it given the key; normalised over the unresolved keys, their sum over
  the unknown positions is each key's expected count. The key with the largest expected
  count is counted next (ties: the lowest code); the filler probe asks the key with the
  smallest one;
- **where to split**: the unknown positions are sorted by the chance of the key being
  located, or the guesses by their chance (highest first, ties by position), and a segment
  holding ``m`` of it (``m`` right guesses) is asked on
  the prefix of ``s`` positions whose answer is most uncertain: the entropy of the count in
  the prefix under independent positions conditioned on ``m`` in the segment (elementary
  symmetric polynomials of the odds; with equal chances this is about the half).

The model only picks the questions: every conclusion is the exact consequence of counts, as
in ``count-split``, so the line ends exactly when the scores prove it (the right key is never
excluded, whatever the model says). No randomness; one document per reviewer call.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from .corpus import line_stats
from .corpus_count import _measure, _one_by_one
from .ngram import back_off, lookup_row
from .options import KERNEL_OPTIONS, PARALLEL_OPTIONS
from .reward import hamming_matches

CLIP = 1e-6
"""Chances used by the split rule are clipped to ``[CLIP, 1 - CLIP]`` (finite odds)."""


@nb.njit(**KERNEL_OPTIONS)
def position_scores(probs, seen, a_size, order, known, i, out):
    """``out[c]``: the model's (unnormalised) chance of key ``c`` at unknown position ``i``:
    P(c | known characters before ``i``) × Π P(known character at ``i + d`` | its known
    context, with ``c`` at ``i``) over the run of known positions right after ``i``
    (``d < order``)."""
    base = a_size + 1
    row = lookup_row(seen, a_size, order, known, i) * a_size
    for c in range(a_size):
        out[c] = probs[row + c]
    n = known.shape[0]
    for d in range(1, order):
        t = i + d
        if t >= n or known[t] < 0:
            break
        r = 0
        p = 1
        j = 0
        mult = 0
        while j < order - 1:
            u = t - 1 - j
            if u == i:
                s = 0
                mult = p
            elif u < 0:
                s = a_size
            elif known[u] < 0:
                break
            else:
                s = known[u]
            r += s * p
            p *= base
            j += 1
        x = known[t]
        for c in range(a_size):
            out[c] *= probs[back_off(seen, base, j, r + c * mult) * a_size + x]


@nb.njit(**KERNEL_OPTIONS)
def _esp_rows(w, lo, hi, m, step, out):
    """Elementary symmetric polynomials ``e_0..e_m`` of the odds ``w`` over the prefixes
    (``step = 1``: ``out[s]`` over ``w[lo:lo+s]``) or suffixes (``step = -1``: ``out[s]`` over
    ``w[lo+s:hi]``) of the segment, each row scaled to a maximum of 1."""
    n = hi - lo
    out[:, :] = 0.0
    first = 0 if step == 1 else n
    out[first, 0] = 1.0
    for t in range(n):
        s = t + 1 if step == 1 else n - 1 - t
        prev = s - 1 if step == 1 else s + 1
        x = w[lo + t] if step == 1 else w[lo + s]
        top = 0.0
        for e in range(m + 1):
            v = out[prev, e] + (x * out[prev, e - 1] if e > 0 else 0.0)
            out[s, e] = v
            top = max(top, v)
        for e in range(m + 1):
            out[s, e] /= top


@nb.njit(**KERNEL_OPTIONS)
def best_split(w, lo, hi, m):
    """The prefix length ``s`` (``1 <= s < hi - lo``) of segment ``w[lo:hi]`` (odds, sorted
    most likely first) holding ``m`` of the key whose count has the largest entropy (the first
    of equal ones; the half when every entropy is 0)."""
    n = hi - lo
    pre = np.empty((n + 1, m + 1))
    suf = np.empty((n + 1, m + 1))
    _esp_rows(w, lo, hi, m, 1, pre)
    _esp_rows(w, lo, hi, m, -1, suf)
    best = n // 2
    top = 0.0
    for s in range(1, n):
        z = 0.0
        for x in range(max(0, m - (n - s)), min(s, m) + 1):
            z += pre[s, x] * suf[s, m - x]
        if not z > 0.0:
            continue
        h = 0.0
        for x in range(max(0, m - (n - s)), min(s, m) + 1):
            q = pre[s, x] * suf[s, m - x] / z
            if q > 0.0:
                h -= q * math.log(q)
        if h > top + 1e-12:
            top = h
            best = s
    return best


@nb.njit(**KERNEL_OPTIONS)
def _refresh(probs, seen, a_size, order, known, score, stale, pos, excluded):
    """List the unknown positions into ``pos`` (returns their count), recomputing the scores
    of those marked ``stale`` (a key refuted at a position keeps a score of 0 there)."""
    n_unknown = 0
    for i in range(known.shape[0]):
        if known[i] < 0:
            if stale[i]:
                position_scores(probs, seen, a_size, order, known, i, score[i])
                for c in range(a_size):
                    score[i, c] = 0.0 if excluded[i, c] else score[i, c]
                stale[i] = False
            pos[n_unknown] = i
            n_unknown += 1
    return n_unknown


@nb.njit(**KERNEL_OPTIONS)
def _mark_near(known, was, stale, order):
    """Mark stale the positions within ``order - 1`` of one that became known (``was`` holds
    the previous ``known``)."""
    n = known.shape[0]
    for i in range(n):
        if known[i] >= 0 and was[i] < 0:
            for t in range(max(0, i - order + 1), min(n, i + order)):
                stale[t] = True


@nb.njit(**KERNEL_OPTIONS)
def _chances(score, pos, n_unknown, resolved, expect, z):
    """Each unresolved key's expected count over the unknown positions into ``expect`` (the
    scores normalised over the unresolved keys; the totals into ``z``)."""
    a_size = expect.shape[0]
    expect[:] = 0.0
    for t in range(n_unknown):
        row = score[pos[t]]
        s = 0.0
        for c in range(a_size):
            s += 0.0 if resolved[c] else row[c]
        z[t] = s
        for c in range(a_size):
            expect[c] += 0.0 if resolved[c] else row[c] / s


@nb.njit(**KERNEL_OPTIONS)
def _measure_keys(doc, target, known, keyat, filler, where, lo, hi):
    """The document that types ``keyat[t]`` on position ``where[t]`` for ``lo <= t < hi``,
    the right key on known positions and ``filler`` elsewhere; returns its hamming score."""
    for i in range(doc.shape[0]):
        doc[i] = known[i] if known[i] >= 0 else filler
    for t in range(lo, hi):
        doc[where[t]] = keyat[t]
    return hamming_matches(doc, target)  # the hamming reviewer's kernel


@nb.njit(**KERNEL_OPTIONS)
def _settle(known, i, c, counts, resolved):
    """Position ``i`` holds key ``c``: one fewer ``c`` among the unknown positions if it was
    counted (a count that reaches 0 resolves the key)."""
    known[i] = c
    if counts[c] > 0:
        counts[c] -= 1
        resolved[c] = resolved[c] or counts[c] == 0


@nb.njit(**KERNEL_OPTIONS)
def _split(doc, target, known, keyat, where, odds, k, filler, counts, resolved, excluded,
           score, stack, n_known, calls, bananas, dropped, max_calls):
    """Resolve the ``k`` right guesses among ``keyat[t]`` at ``where[t]`` (``t < len``; sorted
    likeliest first, ``odds`` their odds) by splitting with counts: a segment with no right
    guess refutes each (excluded), one with all right settles them; others are asked on
    their most uncertain prefix (:func:`best_split`). Returns ``(n_known, calls, bananas,
    dropped, done)``."""
    n = doc.shape[0]
    stack[0, 0], stack[0, 1], stack[0, 2] = 0, stack[0, 1], k
    top = 1
    while top > 0:
        top -= 1
        lo, hi, m = stack[top, 0], stack[top, 1], stack[top, 2]
        if m == 0:
            for t in range(lo, hi):
                excluded[where[t], keyat[t]] = True
                score[where[t], keyat[t]] = 0.0
            dropped += hi - lo
            continue
        if m == hi - lo:
            for t in range(lo, hi):
                _settle(known, where[t], keyat[t], counts, resolved)
            n_known += m
            continue
        if calls + 1 > max_calls:
            return n_known, calls, bananas, dropped, False
        mid = lo + best_split(odds, lo, hi, m)
        h = _measure_keys(doc, target, known, keyat, filler, where, lo, mid)
        calls += 1
        bananas += h / n
        x = h - n_known
        stack[top, 0], stack[top, 1], stack[top, 2] = mid, hi, m - x
        stack[top + 1, 0], stack[top + 1, 1], stack[top + 1, 2] = lo, mid, x
        top += 2
    return n_known, calls, bananas, dropped, True


@nb.njit(**KERNEL_OPTIONS)
def _confident(score, pos, n_unknown, resolved, z, sure, where, keyat, odds, chance):
    """The guesses whose chance is at least ``sure``: each unknown position's likeliest
    unresolved key, sorted by chance (highest first, ties by position) into ``where``,
    ``keyat`` and ``odds``; returns their number."""
    m = 0
    for t in range(n_unknown):
        i = pos[t]
        best = -1
        for c in range(score.shape[1]):
            if not resolved[c] and (best < 0 or score[i, c] > score[i, best]):
                best = c
        q = score[i, best] / z[t]
        if q >= sure:
            where[m] = i
            keyat[m] = best
            chance[m] = -q
            m += 1
    idx = np.argsort(chance[:m], kind="mergesort")
    tmp_w = where[:m].copy()
    tmp_k = keyat[:m].copy()
    for t in range(m):
        where[t] = tmp_w[idx[t]]
        keyat[t] = tmp_k[idx[t]]
        q = min(max(-chance[idx[t]], CLIP), 1.0 - CLIP)
        odds[t] = q / (1.0 - q)
    return m


@nb.njit(**KERNEL_OPTIONS)
def count_split_prior_line(target, a_size, probs, seen, order, sure, max_calls, doc, stats):
    """Type one line like :func:`~monkeysim._kernels.corpus_count.count_split_line`, with the
    key order and the splits chosen by the order-``order`` model ``probs``/``seen``, and the
    model's guesses of chance ``>= sure`` asked together first (see the module). Out: ``doc``
    uint8[L] (the located keys; elsewhere the model's likeliest key when the budget ran out
    first) and ``stats`` int64[N_ST]; returns the bananas."""
    n = target.shape[0]
    known = np.full(n, -1, np.int64)
    was = np.empty(n, np.int64)
    counts = np.full(a_size, -1, np.int64)
    resolved = np.zeros(a_size, np.bool_)
    excluded = np.zeros((n, a_size), np.bool_)
    score = np.empty((n, a_size))
    stale = np.ones(n, np.bool_)
    pos = np.empty(n, np.int64)
    where = np.empty(n, np.int64)
    keyat = np.empty(n, np.int64)
    odds = np.empty(n)
    chance = np.empty(n)
    z = np.empty(n)
    expect = np.empty(a_size)
    stack = np.empty((n + 2, 3), np.int64)
    calls = 0
    dropped = 0
    bananas = 0.0
    n_known = 0
    filler = -1
    guess = True  # the guesses may have changed since the last ones were asked
    ok = True
    while n_known < n and ok:
        n_unknown = _refresh(probs, seen, a_size, order, known, score, stale, pos, excluded)
        _chances(score, pos, n_unknown, resolved, expect, z)
        was[:] = known
        if guess and filler >= 0:
            m = _confident(score, pos, n_unknown, resolved, z, sure, where, keyat, odds,
                           chance)
            guess = False
            if m >= 2:  # ask the confident guesses together, then split them
                if calls + 1 > max_calls:
                    break
                h = _measure_keys(doc, target, known, keyat, filler, where, 0, m)
                calls += 1
                bananas += h / n
                stack[0, 1] = m
                n_known, calls, bananas, dropped, ok = _split(
                    doc, target, known, keyat, where, odds, h - n_known, filler, counts,
                    resolved, excluded, score, stack, n_known, calls, bananas, dropped,
                    max_calls)
                _mark_near(known, was, stale, order)
                guess = True
                continue
        c = -1
        for a in range(a_size):  # the likeliest unresolved key (first of equals)
            if not resolved[a] and (c < 0 or expect[a] > expect[c]):
                c = a
        if c < 0:  # pragma: no cover - exact counts always leave a key for each position
            break
        if counts[c] < 0:  # count c on the unknown positions
            if calls + 1 > max_calls:
                break
            h = _measure(doc, target, known, c, c, pos, 0, 0)
            calls += 1
            bananas += h / n
            counts[c] = h - n_known
            dropped += n_unknown if counts[c] == 0 else 0
        k = counts[c]
        if k == 0:
            resolved[c] = True
            filler = c if filler < 0 else filler
            guess = True
            continue
        if k == n_unknown:  # the rest is all c
            for t in range(n_unknown):
                known[pos[t]] = c
            n_known = n
            break
        while filler < 0 and calls + 1 <= max_calls:  # probe the least expected key
            f = -1
            for a in range(a_size):
                if not resolved[a] and counts[a] < 0 and (f < 0 or expect[a] < expect[f]):
                    f = a
            if f < 0:
                break
            h = _measure(doc, target, known, f, f, pos, 0, 0)
            calls += 1
            bananas += h / n
            counts[f] = h - n_known
            if counts[f] == 0:
                dropped += n_unknown
                resolved[f] = True
                filler = f
        if filler < 0:
            c2 = -1  # every unresolved key is counted and in the line: one by one
            for a in range(a_size):
                if not resolved[a] and a != c and counts[a] > 0 and c2 < 0:
                    c2 = a
            if c2 < 0:
                break  # out of budget before a filler was found
            calls, bananas, n_known, dropped, ok = _one_by_one(
                doc, target, known, c, k, c2, counts[c2], pos, n_unknown, n_known, calls,
                bananas, dropped, max_calls)
            resolved[c] = ok
            filler = c if ok else filler
        else:  # the unknown positions by the chance of c, highest first (ties: position)
            for t in range(n_unknown):
                chance[t] = -score[pos[t], c] / z[t]
            idx = np.argsort(chance[:n_unknown], kind="mergesort")
            for t in range(n_unknown):
                where[t] = pos[idx[t]]
                keyat[t] = c
                q = min(max(-chance[idx[t]], CLIP), 1.0 - CLIP)
                odds[t] = q / (1.0 - q)
            stack[0, 1] = n_unknown
            n_known, calls, bananas, dropped, ok = _split(
                doc, target, known, keyat, where, odds, k, filler, counts, resolved,
                excluded, score, stack, n_known, calls, bananas, dropped, max_calls)
            resolved[c] = resolved[c] or ok
        _mark_near(known, was, stale, order)
        guess = True
    solved = n_known == n
    if not solved:
        _refresh(probs, seen, a_size, order, known, score, stale, pos, excluded)
    for i in range(n):
        if known[i] >= 0:
            doc[i] = known[i]
        else:
            doc[i] = np.argmax(score[i])
    line_stats(stats, solved, calls, calls * n, calls, known >= 0, dropped, doc, target, 0, 0)
    return bananas


@nb.njit(**PARALLEL_OPTIONS)
def count_split_prior_lines(codes, offsets, a_size, probs, seen, line_model, order, sure,
                            max_calls, docs_out, stats_out, bananas_out):
    """:func:`count_split_prior_line` for lines ``0..n-1`` in parallel; line ``j`` uses model
    ``line_model[j]`` (a row of ``probs``/``seen``). Outputs as
    :func:`~monkeysim._kernels.corpus_count.count_split_lines`."""
    n_lines = offsets.shape[0] - 1
    for j in nb.prange(n_lines):
        a, b = offsets[j], offsets[j + 1]
        doc = np.zeros(b - a, np.uint8)
        st = np.zeros(stats_out.shape[1], np.int64)
        g = line_model[j]
        bananas_out[j] = count_split_prior_line(codes[a:b], a_size, probs[g], seen[g], order,
                                                sure, max_calls, doc, st)
        docs_out[a:b] = doc
        stats_out[j, :] = st
