"""numba kernels of the character n-gram model that pretrained corpus monkeys start from.

Symbols are the ``A`` keys ``0..A-1`` and ``BOL = A`` (before the line's first character), so
contexts are words over ``B = A + 1`` symbols. A model of order ``n`` holds one table per
context length ``j = 0..n-1``; the context ``(s_1, .., s_j)`` (``s_j`` the character right
before the predicted one) is row ``r = Σ_t s_t·B^(j-t)`` of table ``j``, so dropping its
oldest symbol is ``r mod B^(j-1)``. Table ``j`` starts at row ``row_offset(j)`` of the model's
flat arrays (``probs[rows, A]`` flattened, ``seen[rows]``).

- :func:`count_ngrams`: the order-``n`` counts ``int64[B^(n-1)·A]`` of encoded lines, each line
  read from the all-``BOL`` context (lines are independent targets);
- :func:`model_tables`: add-``k`` probabilities ``(count(h, c) + k) / (count(h) + k·A)`` of every
  context length (the shorter contexts' counts are sums of the longer ones) and whether each
  context was seen;
- :func:`lookup_row`: the row that predicts a position from the known characters before it:
  the longest context of known characters (``BOL`` before the line), backed off while that
  context was never seen;
- :func:`position_marginals`: the chance of each key at each position of a line whose
  characters are all unknown (the chain of contexts run forward from the all-``BOL`` state).
"""

from __future__ import annotations

import numba as nb
import numpy as np

from .options import KERNEL_OPTIONS


@nb.njit(**KERNEL_OPTIONS)
def row_offset(base, j):
    """First row of the table of contexts of length ``j`` (``Σ_{t<j} base^t``)."""
    r = 0
    p = 1
    for _ in range(j):
        r += p
        p *= base
    return r


@nb.njit(**KERNEL_OPTIONS)
def context_rows(a_size, order):
    """(rows, start): the number of contexts of ``order - 1`` symbols over ``a_size`` keys and
    ``BOL`` (= ``a_size``), and the row of the all-``BOL`` context a line starts from."""
    base = a_size + 1
    span = 1
    for _ in range(order - 1):
        span *= base
    start = 0
    for _ in range(order - 1):
        start = (start * base + a_size) % span
    return span, start


@nb.njit(**KERNEL_OPTIONS)
def count_ngrams(codes, offsets, a_size, order, out):
    """Add the order-``order`` counts of lines ``codes[offsets[k]:offsets[k+1]]`` into ``out``
    (int64[B^(order-1)·A], row = context of the ``order - 1`` symbols before each
    character)."""
    base = a_size + 1
    span, start = context_rows(a_size, order)
    for k in range(offsets.shape[0] - 1):
        r = start
        for t in range(offsets[k], offsets[k + 1]):
            c = np.int64(codes[t])
            out[r * a_size + c] += 1
            r = (r * base + c) % span


@nb.njit(**KERNEL_OPTIONS)
def model_tables(counts, a_size, order, k, probs, seen):
    """Fill ``probs`` float64[rows·A] and ``seen`` bool[rows] (``rows = row_offset(B, order)``)
    from the order-``order`` ``counts``: table ``j`` of contexts of length ``j``, add-``k``."""
    base = a_size + 1
    span = row_offset(base, order) - row_offset(base, order - 1)  # B^(order-1)
    acc = counts.astype(np.float64)  # counts of the current context length, summed down
    for j in range(order - 1, -1, -1):
        off = row_offset(base, j)
        for r in range(span):
            tot = 0.0
            for c in range(a_size):
                tot += acc[r * a_size + c]
            seen[off + r] = tot > 0
            z = tot + k * a_size
            for c in range(a_size):
                probs[(off + r) * a_size + c] = (acc[r * a_size + c] + k) / z
        if j > 0:  # sum out the oldest symbol: row r -> r mod B^(j-1)
            short = span // base
            nxt = np.zeros(short * a_size)
            for r in range(span):
                rr = r % short
                for c in range(a_size):
                    nxt[rr * a_size + c] += acc[r * a_size + c]
            acc = nxt
            span = short


@nb.njit(**KERNEL_OPTIONS)
def back_off(seen, base, j, r):
    """The longest suffix context of ``(j, r)`` that was seen: ``(j, r)`` with the oldest
    symbols dropped while the context was never seen (the empty context always counts)."""
    while j > 0 and not seen[row_offset(base, j) + r]:
        j -= 1
        p = 1
        for _ in range(j):
            p *= base
        r = r % p
    return row_offset(base, j) + r


@nb.njit(**KERNEL_OPTIONS)
def lookup_row(seen, a_size, order, known, i):
    """The model's row predicting position ``i`` of a line whose known characters are
    ``known[t] >= 0``: the context of the known characters right before ``i`` (``BOL`` before
    the line), at most ``order - 1`` long, backed off to its longest seen suffix."""
    base = a_size + 1
    r = 0
    p = 1
    j = 0
    while j < order - 1:
        t = i - 1 - j
        if t >= 0 and known[t] < 0:
            break
        s = a_size if t < 0 else known[t]
        r += s * p
        p *= base
        j += 1
    return back_off(seen, base, j, r)


@nb.njit(**KERNEL_OPTIONS)
def position_marginals(probs, seen, a_size, order, out):
    """``out[i, c]``: the chance that position ``i`` of a line holds key ``c`` before anything
    about the line is known (the order-``order`` chain run from the all-``BOL`` context; rows
    past the chain's convergence repeat the last)."""
    base = a_size + 1
    span, start = context_rows(a_size, order)
    full = order - 1
    pi = np.zeros(span)
    pi[start] = 1.0
    nxt = np.zeros(span)
    rows = np.empty(span, np.int64)
    for r in range(span):
        rows[r] = back_off(seen, base, full, r) * a_size
    for i in range(out.shape[0]):
        for c in range(a_size):
            out[i, c] = 0.0
        nxt[:] = 0.0
        for r in range(span):
            q = pi[r]
            if q == 0.0:
                continue
            row = rows[r]
            for c in range(a_size):
                x = q * probs[row + c]
                out[i, c] += x
                nxt[(r * base + c) % span] += x
        change = 0.0
        for r in range(span):
            change += abs(nxt[r] - pi[r])
        pi, nxt = nxt, pi
        if change == 0.0 or (i > order and change < 1e-15):
            for t in range(i + 1, out.shape[0]):
                out[t, :] = out[i, :]
            break


@nb.njit(**KERNEL_OPTIONS)
def line_bits(probs, seen, a_size, order, codes, offsets, out):
    """``out[k]``: −log2 of the model's chance of line ``k`` (``codes[offsets[k]:
    offsets[k+1]]``), each character predicted from the ones before it (:func:`lookup_row`)."""
    for k in range(offsets.shape[0] - 1):
        t = codes[offsets[k]:offsets[k + 1]]
        known = np.full(t.shape[0], -1, np.int64)
        bits = 0.0
        for i in range(t.shape[0]):
            bits -= np.log2(probs[lookup_row(seen, a_size, order, known, i) * a_size + t[i]])
            known[i] = t[i]
        out[k] = bits
