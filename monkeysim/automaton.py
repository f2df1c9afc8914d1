"""The string-matching automaton (KMP) that tracks how much of the target has been typed.

State ``s`` (0..L) is the length of the longest prefix of the target that is a suffix of the
keys typed so far; ``delta[s, key]`` is the next state. Reaching state L means the target has
just appeared. Overlaps (e.g. ``ABRACADABRA``) are handled exactly.
"""

from __future__ import annotations

import numpy as np


def failure_function(target: np.ndarray) -> np.ndarray:
    """KMP failure function: ``fail[i]`` = length of the longest proper border of target[:i+1]."""
    length = len(target)
    fail = np.zeros(length, dtype=np.int64)
    k = 0
    for i in range(1, length):
        while k > 0 and target[i] != target[k]:
            k = fail[k - 1]
        if target[i] == target[k]:
            k += 1
        fail[i] = k
    return fail


def kmp_automaton(target: np.ndarray, alphabet_size: int) -> np.ndarray:
    """Transition table int32[L + 1, A] of the matching automaton for ``target`` (codes).

    Row L (target found) continues as if matching went on, so the table is total.
    """
    target = np.asarray(target, dtype=np.int64)
    length = len(target)
    fail = failure_function(target)
    delta = np.zeros((length + 1, alphabet_size), dtype=np.int32)
    for s in range(length + 1):
        for key in range(alphabet_size):
            if s < length and target[s] == key:
                delta[s, key] = s + 1
            elif s == 0:
                delta[s, key] = 0
            else:
                border = fail[s - 1]
                delta[s, key] = delta[border, key]
    return delta


def document_automaton(target: np.ndarray, alphabet_size: int) -> np.ndarray:
    """Transition table int32[2L, A] for typing whole documents of L keys against ``target``.

    State ``i`` (0..L-1): ``i`` keys of the current document typed, all right; state L: a
    document equal to the target was just finished; state ``L + i`` (1..L-1): ``i`` keys
    typed, at least one wrong. After the L-th key of a document a wrong one restarts at 0.
    Row L (found) starts a new document, so the table is total.
    """
    target = np.asarray(target, dtype=np.int64)
    length = len(target)
    delta = np.zeros((2 * length, alphabet_size), dtype=np.int32)
    for i in range(length):
        nxt_bad = 0 if i + 1 == length else length + i + 1
        delta[i, :] = nxt_bad
        delta[i, target[i]] = length if i + 1 == length else i + 1
        if i > 0:
            delta[length + i, :] = nxt_bad
    delta[length] = delta[0]
    return delta


def borders(target) -> list[int]:
    """Lengths k (1..L) with target[:k] == target[-k:], i.e. Conway's correlation bits."""
    seq = list(target)
    length = len(seq)
    return [k for k in range(1, length + 1) if seq[:k] == seq[length - k:]]
