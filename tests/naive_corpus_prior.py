"""Slow, obviously correct references of the pretrained start (``monkeysim.learn.pretrained``,
``monkeysim._kernels.ngram``, ``monkeysim._kernels.corpus_prior``): plain Python over dicts
and lists, scores recomputed from scratch every round (no cache), recursion instead of the
kernel's stack, the same documents in the same order, so that the kernel agrees bit for bit.
"""

from __future__ import annotations

import math

CLIP = 1e-6


# --- the n-gram model --------------------------------------------------------------------------

def naive_counts(texts, alphabet, order):
    """``{(context tuple, key): count}`` of every context length 0..order-1 (BOL = ``A``
    before the line; a character outside ``alphabet`` restarts the context)."""
    a = len(alphabet)
    out = {}
    for text in texts:
        hist = []
        for ch in text:
            if ch not in alphabet:
                hist = []
                continue
            c = alphabet.index(ch)
            full = [a] * (order - 1 - len(hist)) + hist[-(order - 1):] if order > 1 else []
            full = full[len(full) - (order - 1):] if order > 1 else []
            for j in range(order):
                ctx = tuple(full[len(full) - j:]) if j else ()
                out[(ctx, c)] = out.get((ctx, c), 0) + 1
            hist.append(c)
    return out


def naive_conditional(counts, a, order, context, k):
    """P(c | context) for every key: the longest suffix of ``context`` (BOL-padded to
    ``order - 1``) that was seen, add-``k``."""
    context = list(context)[-(order - 1):] if order > 1 else []
    full = [a] * (order - 1 - len(context)) + context if order > 1 else []
    for j in range(order - 1, -1, -1):
        ctx = tuple(full[len(full) - j:]) if j else ()
        tot = sum(counts.get((ctx, c), 0) for c in range(a))
        if tot > 0 or j == 0:
            return [(counts.get((ctx, c), 0) + k) / (tot + k * a) for c in range(a)]
    raise AssertionError


# --- count-split from a pretrained start -------------------------------------------------------

class _OutOfBudget(Exception):
    pass


def _row_of(seen, base, j, r):
    """The longest seen suffix context's row (as :func:`back_off`)."""
    while j > 0 and not seen[sum(base ** t for t in range(j)) + r]:
        j -= 1
        r %= base ** j
    return sum(base ** t for t in range(j)) + r


def _context(known, t, order, a, skip=None, c=None):
    """(length, row) of the context of position ``t``: the known characters right before it
    (``skip`` typed as ``c``), at most ``order - 1``, BOL before the line."""
    base = a + 1
    r, p, j = 0, 1, 0
    while j < order - 1:
        u = t - 1 - j
        if u == skip:
            s = c
        elif u < 0:
            s = a
        elif known[u] is None:
            break
        else:
            s = known[u]
        r += s * p
        p *= base
        j += 1
    return j, r


def naive_scores(probs, seen, a, order, known, i):
    base = a + 1
    j, r = _context(known, i, order, a)
    row = _row_of(seen, base, j, r)
    out = [probs[row * a + c] for c in range(a)]
    for d in range(1, order):
        t = i + d
        if t >= len(known) or known[t] is None:
            break
        for c in range(a):
            jj, rr = _context(known, t, order, a, skip=i, c=c)
            out[c] *= probs[_row_of(seen, base, jj, rr) * a + known[t]]
    return out


def _esp(w, m):
    """Rows of the elementary symmetric polynomials e_0..e_m of the prefixes of ``w``, each
    row scaled to a maximum of 1 (as the kernel scales them)."""
    rows = [[1.0] + [0.0] * m]
    for x in w:
        prev = rows[-1]
        row = [prev[e] + (x * prev[e - 1] if e > 0 else 0.0) for e in range(m + 1)]
        top = max(row)
        rows.append([v / top for v in row])
    return rows


def naive_best_split(w, m):
    n = len(w)
    pre = _esp(w, m)
    suf = _esp(w[::-1], m)[::-1]  # suf[s]: over w[s:]
    best, top = n // 2, 0.0
    for s in range(1, n):
        xs = range(max(0, m - (n - s)), min(s, m) + 1)
        z = 0.0
        for x in xs:
            z += pre[s][x] * suf[s][m - x]
        if not z > 0.0:
            continue
        h = 0.0
        for x in xs:
            q = pre[s][x] * suf[s][m - x] / z
            if q > 0.0:
                h -= q * math.log(q)
        if h > top + 1e-12:
            top, best = h, s
    return best


def _odds(q):
    q = min(max(q, CLIP), 1.0 - CLIP)
    return q / (1.0 - q)


def naive_count_split_prior_line(target, a, probs, seen, order, sure, max_calls):
    """``(doc, stats, bananas, seen_scores)`` as :func:`count_split_prior_line` gives them,
    with the list of ``(document, score)`` pairs the reviewer saw."""
    target = [int(c) for c in target]
    n = len(target)
    known = [None] * n
    counts = [-1] * a
    resolved = [False] * a
    excluded = set()
    seen_docs = []
    st = {"calls": 0, "bananas": 0.0, "dropped": 0}

    def score(doc):
        if st["calls"] + 1 > max_calls:
            raise _OutOfBudget
        h = sum(1 for d, t in zip(doc, target, strict=True) if d == t)
        st["calls"] += 1
        st["bananas"] += h / n
        seen_docs.append((list(doc), h))
        return h

    def n_known():
        return sum(k is not None for k in known)

    def measure(pairs, filler):
        doc = [k if k is not None else filler for k in known]
        for i, c in pairs:
            doc[i] = c
        return score(doc) - n_known()

    def scores(i):
        s = naive_scores(probs, seen, a, order, known, i)
        return [0.0 if (i, c) in excluded else s[c] for c in range(a)]

    def settle(i, c):
        known[i] = c
        if counts[c] > 0:
            counts[c] -= 1
            resolved[c] = resolved[c] or counts[c] == 0

    def split(pairs, odds, m, filler):
        if m == 0:
            excluded.update(pairs)
            st["dropped"] += len(pairs)
            return
        if m == len(pairs):
            for i, c in pairs:
                settle(i, c)
            return
        s = naive_best_split(odds, m)
        x = measure(pairs[:s], filler)
        split(pairs[:s], odds[:s], x, filler)
        split(pairs[s:], odds[s:], m - x, filler)

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
            if score(doc) - n_known() - k2 == 1:
                known[i] = c
                found += 1
            else:
                st["dropped"] += 1

    filler = None
    guess = True
    try:
        while n_known() < n:
            unknown = [i for i in range(n) if known[i] is None]
            rows = {i: scores(i) for i in unknown}
            z = {i: sum(0.0 if resolved[c] else rows[i][c] for c in range(a)) for i in unknown}
            expect = [0.0] * a
            for i in unknown:
                for c in range(a):
                    expect[c] += 0.0 if resolved[c] else rows[i][c] / z[i]
            if guess and filler is not None:
                guess = False
                cands = []
                for i in unknown:
                    best = max((c for c in range(a) if not resolved[c]),
                               key=lambda c, i=i: (rows[i][c], -c))
                    q = rows[i][best] / z[i]
                    if q >= sure:
                        cands.append((-q, i, best))
                cands.sort(key=lambda x: (x[0], unknown.index(x[1])))
                if len(cands) >= 2:
                    pairs = [(i, c) for _, i, c in cands]
                    m = measure(pairs, filler)
                    split(pairs, [_odds(-q) for q, _, _ in cands], m, filler)
                    guess = True
                    continue
            live = [c for c in range(a) if not resolved[c]]
            c = max(live, key=lambda c: (expect[c], -c))
            if counts[c] < 0:
                counts[c] = measure([(i, c) for i in unknown], c)
                st["dropped"] += len(unknown) if counts[c] == 0 else 0
            k = counts[c]
            if k == 0:
                resolved[c] = True
                filler = c if filler is None else filler
                guess = True
                continue
            if k == len(unknown):
                for i in unknown:
                    known[i] = c
                break
            while filler is None:
                cands = [f for f in range(a) if not resolved[f] and counts[f] < 0]
                if not cands:
                    break
                f = min(cands, key=lambda f: (expect[f], f))
                counts[f] = measure([(i, f) for i in unknown], f)
                if counts[f] == 0:
                    st["dropped"] += len(unknown)
                    resolved[f] = True
                    filler = f
            if filler is None:
                c2 = [f for f in range(a) if not resolved[f] and f != c and counts[f] > 0][0]
                one_by_one(c, k, c2, counts[c2], unknown)  # raises when out of budget
                resolved[c] = True
                filler = c
            else:
                order_ = sorted(unknown, key=lambda i: (-rows[i][c] / z[i], unknown.index(i)))
                split([(i, c) for i in order_], [_odds(rows[i][c] / z[i]) for i in order_], k,
                      filler)
                resolved[c] = True
            guess = True
    except _OutOfBudget:
        pass
    solved = n_known() == n
    doc = []
    for i in range(n):
        if known[i] is not None:
            doc.append(known[i])
        else:
            s = scores(i)
            doc.append(max(range(a), key=lambda c: (s[c], -c)))
    calls = st["calls"]
    stats = [int(solved), calls, calls * n, calls, n_known(), st["dropped"],
             int(doc == target), 0, 0]
    return doc, stats, st["bananas"], seen_docs
