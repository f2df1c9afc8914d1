"""numba kernel of the ``count-split`` credit level: every hamming score used exactly.

A line (codes ``target[L]`` over ``A`` keys) is typed by documents chosen from all the scores
seen so far, not by a policy: a hamming score is a count of matches, and a document built
from keys whose matches are known except on a chosen set of positions measures exactly how
many of those positions hold a chosen key.

- **count**: key ``c`` typed on every unknown position (the known positions carry their right
  keys) scores ``known + (number of c among the unknown positions)``;
- **split**: to find the ``k`` positions of ``c`` among a segment of unknown positions, type
  ``c`` on its first half and a *filler* elsewhere (a key known to match no unknown position:
  one counted zero, or one whose positions are all located); the score minus ``known`` is the
  count in the first half, and the second half's is the rest. A segment whose count is 0 or
  its length is settled at once; the others are split again (binary splitting with counts).

Keys are counted in ``order`` (the caller's ranking, most frequent first); counting stops
when every position is located, and a key whose count equals the unknown positions left
fills them without a split. A filler is needed before the first key is located: the keys
are probed from the end of ``order`` (the rarest) until one counts zero (each count is kept
and not asked again). Every inference is an exact consequence of the scores, so the line is
proven right when every position is located (no guess, no final check by the reviewer).

No randomness: the line's stream is not drawn from (same result on any seed). One document
per reviewer call, ``L`` keystrokes each; a step is one document.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from .corpus import line_stats
from .options import KERNEL_OPTIONS, PARALLEL_OPTIONS
from .reward import hamming_matches


@nb.njit(**KERNEL_OPTIONS)
def _measure(doc, target, known, key, filler, pos, lo, hi):
    """The document that types ``key`` on ``pos[lo:hi]``, the right key on known positions
    (``known[i] >= 0``) and ``filler`` elsewhere, into ``doc``; returns its hamming score."""
    for i in range(doc.shape[0]):
        doc[i] = known[i] if known[i] >= 0 else filler
    for t in range(lo, hi):
        doc[pos[t]] = key
    return hamming_matches(doc, target)  # the hamming reviewer's kernel


@nb.njit(**KERNEL_OPTIONS)
def _one_by_one(doc, target, known, c, k, c2, k2, pos, n_unknown, n_known, calls, bananas,
                dropped, max_calls):
    """Locate the ``k`` positions of key ``c`` among ``pos[:n_unknown]`` without a filler
    (every key is in the line): type ``c`` on one position and key ``c2`` (``k2`` of it among
    the unknown positions) on the others; the score minus ``known + k2`` is +1 where the
    position holds ``c`` (−1 for ``c2``, 0 otherwise). Stops as soon as the count decides the
    rest. Returns ``(calls, bananas, n_known, dropped, done)``."""
    n = doc.shape[0]
    found = 0
    for t in range(n_unknown):
        left = n_unknown - t
        if found == k:
            dropped += left
            return calls, bananas, n_known, dropped, True
        if left == k - found:
            for u in range(t, n_unknown):
                known[pos[u]] = c
            n_known += left
            return calls, bananas, n_known, dropped, True
        if calls + 1 > max_calls:
            return calls, bananas, n_known, dropped, False
        for i in range(n):
            doc[i] = known[i] if known[i] >= 0 else c2
        doc[pos[t]] = c
        h = hamming_matches(doc, target)
        calls += 1
        bananas += h / n
        if h - n_known - k2 == 1:
            known[pos[t]] = c
            n_known += 1
            found += 1
        else:
            dropped += 1
    return calls, bananas, n_known, dropped, True


@nb.njit(**KERNEL_OPTIONS)
def count_split_line(target, order, max_calls, doc, stats):
    """Type one line by counting keys and splitting their positions (see the module).

    ``target`` uint8[L]; ``order`` uint8[A] (every key once, the order keys are counted in);
    ``max_calls``: budget of reviewer calls. Out: ``doc`` uint8[L] (the located keys; key
    ``order[0]`` where the budget ran out first), ``stats`` int64[N_ST] (``dropped``: the
    position-key pairs refuted by a count of zero). Returns the bananas (Σ score / L).
    """
    n = target.shape[0]
    a_size = order.shape[0]
    known = np.full(n, -1, np.int64)
    counts = np.full(a_size, -1, np.int64)  # counts of keys asked already
    pos = np.empty(n, np.int64)  # the unknown positions, in order
    stack = np.empty((n + 2, 3), np.int64)  # segments pos[lo:hi] holding m of the key
    calls = 0
    dropped = 0
    bananas = 0.0
    n_known = 0
    filler = -1
    probe = a_size - 1  # next key to probe for a filler (from the rarest)
    solved = n == 0
    for r in range(a_size):
        if n_known == n:
            solved = True
            break
        c = order[r]
        n_unknown = 0
        for i in range(n):
            if known[i] < 0:
                pos[n_unknown] = i
                n_unknown += 1
        fresh = counts[c] < 0  # else c was counted as a filler candidate
        if fresh:  # count c on the unknown positions
            if calls + 1 > max_calls:
                break
            h = _measure(doc, target, known, c, c, pos, 0, 0)
            calls += 1
            bananas += h / n
            counts[c] = h - n_known
        k = counts[c]
        if k == 0:
            dropped += n_unknown if fresh else 0
            filler = c if filler < 0 else filler
            continue
        if k == n_unknown:  # the rest is all c
            for t in range(n_unknown):
                known[pos[t]] = c
            n_known = n
            continue
        while filler < 0 and probe >= 0 and calls + 1 <= max_calls:  # a key matching
            f = order[probe]  # no unknown position: probe from the rarest
            probe -= 1
            if counts[f] < 0:
                h = _measure(doc, target, known, f, f, pos, 0, 0)
                calls += 1
                bananas += h / n
                counts[f] = h - n_known
                if counts[f] == 0:
                    dropped += n_unknown
            if counts[f] == 0:
                filler = f
        if filler < 0 and probe >= 0:
            break  # out of budget
        if filler < 0:  # every key is in the line (A <= L): locate c one position at a time
            calls, bananas, n_known, dropped, done = _one_by_one(
                doc, target, known, c, k, order[r + 1], counts[order[r + 1]], pos, n_unknown,
                n_known, calls, bananas, dropped, max_calls)
            if not done:
                break
            filler = c
            continue
        stack[0, 0], stack[0, 1], stack[0, 2] = 0, n_unknown, k
        top = 1
        out_of_budget = False
        while top > 0:
            top -= 1
            lo, hi, m = stack[top, 0], stack[top, 1], stack[top, 2]
            if m == 0:
                dropped += hi - lo
                continue
            if m == hi - lo:
                for t in range(lo, hi):
                    known[pos[t]] = c
                n_known += m
                continue
            if calls + 1 > max_calls:
                out_of_budget = True
                break
            mid = lo + (hi - lo) // 2
            h = _measure(doc, target, known, c, filler, pos, lo, mid)
            calls += 1
            bananas += h / n
            x = h - n_known
            stack[top, 0], stack[top, 1], stack[top, 2] = mid, hi, m - x
            stack[top + 1, 0], stack[top + 1, 1], stack[top + 1, 2] = lo, mid, x
            top += 2
        if out_of_budget:
            break
    solved = solved or n_known == n
    for i in range(n):
        doc[i] = known[i] if known[i] >= 0 else order[0]
    line_stats(stats, solved, calls, calls * n, calls, known >= 0, dropped, doc, target, 0, 0)
    return bananas


@nb.njit(**PARALLEL_OPTIONS)
def count_split_lines(codes, offsets, order, max_calls, docs_out, stats_out, bananas_out):
    """:func:`count_split_line` for lines ``0..n-1`` (``codes[offsets[j]:offsets[j+1]]``) in
    parallel. Outputs: ``docs_out`` (uint8, like ``codes``), ``stats_out`` int64[n, N_ST],
    ``bananas_out`` float64[n]."""
    n_lines = offsets.shape[0] - 1
    for j in nb.prange(n_lines):
        a, b = offsets[j], offsets[j + 1]
        doc = np.zeros(b - a, np.uint8)
        st = np.zeros(stats_out.shape[1], np.int64)
        bananas_out[j] = count_split_line(codes[a:b], order, max_calls, doc, st)
        docs_out[a:b] = doc
        stats_out[j, :] = st
