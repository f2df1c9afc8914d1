"""Slow, obviously correct reference of the corpus kernel (``monkeysim._kernels.corpus``).

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

    def __init__(self, n: int, a_size: int, prior=None):
        self.keys = [list(range(a_size)) for _ in range(n)]
        self.w = [[1.0] * a_size for _ in range(n)]
        if prior is not None and len(prior):  # the pretrained start: row i (or the last)
            self.w = [[float(x) for x in prior[min(i, len(prior) - 1)]] for i in range(n)]
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


def naive_learn_line(target, a_size, group, lr, credit, max_calls, state_words, prior=None):
    """Learn one line as :func:`monkeysim._kernels.corpus.learn_line` does (from the initial
    policy ``prior[R][A]`` as :func:`~monkeysim._kernels.corpus.learn_line_from` does).

    Returns ``(doc, stats, bananas)``: the final greedy document, the nine stats
    (solved, calls, keystrokes, steps, settled, dropped, exact — the document equals the
    target, checked after the line ended — and no re-scores or resets without noise) and the
    summed rewards.
    """
    target = [int(c) for c in target]
    n = len(target)
    rng = Xoshiro256(state_words)
    pol = _Policy(n, a_size, prior)
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


# --- the noisy reviewer (monkeysim._kernels.corpus_noise) ----------------------------------

NOISE_STREAM = 0x4E4F495345
GREEDY_EVERY, SMALL_CHANGE, SCREEN, FUTILE, MAX_SCORES, STALL_STEPS = 16, 3, 0.0, 3.0, 30, 100


def naive_noise_key(key: int) -> int:
    """splitmix64 output of ``(key ^ NOISE_STREAM) + golden gamma`` (mod 2**64)."""
    x = ((key ^ NOISE_STREAM) + 0x9E3779B97F4A7C15) & MASK
    z = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def naive_normal(rng: Xoshiro256) -> float:
    """Box–Muller on 1 − u and v (two uniform doubles), the cosine branch."""
    u = 1.0 - naive_double(rng)
    v = naive_double(rng)
    return math.sqrt(-2.0 * math.log(u)) * math.cos(2.0 * math.pi * v)


class _Slots(_Policy):
    """Live-key slots that keep the dropped keys behind the live ones (``m[i]`` live), as the
    kernel does, so that keys can be restored: a drop moves the last live key (and its weight)
    into the freed slot and writes the dropped key into the last live slot, whose weight stays
    (the kernel's ``_drop``)."""

    def __init__(self, n: int, a_size: int):
        super().__init__(n, a_size)
        self.m = [a_size] * n

    def scan(self, i: int) -> int:
        s, best, cdf = 0.0, 0, []
        w = self.w[i]
        for a in range(self.m[i]):
            s += w[a]
            cdf.append(s)
            if w[a] > w[best]:
                best = a
        self.cdf[i], self.z[i] = cdf, s
        return self.keys[i][best]

    def draw(self, rng: Xoshiro256, i: int) -> int:
        u = naive_double(rng) * self.z[i]
        return sum(1 for j in range(self.m[i] - 1) if u >= self.cdf[i][j])

    def drop(self, i: int, c: int) -> int:
        keys, w = self.keys[i], self.w[i]
        for s in range(self.m[i]):
            if keys[s] == c:
                last = self.m[i] - 1
                keys[s], w[s] = keys[last], w[last]
                keys[last] = c
                self.m[i] = last
                return 1
        return 0


def _llr(s, c, h, lo, hi, s2):
    """min(λ⁻, λ⁺) of the value h; a side whose neighbour is outside [lo, hi] is +inf."""
    below = math.inf if h <= lo else (s - c * (h - 0.5)) / s2
    above = math.inf if h >= hi else (c * (h + 0.5) - s) / s2
    return min(below, above)


def naive_decide(s, c, lo, hi, n, s2, thr, thr_end):
    """(value, outside) as in the kernel's ``decide``."""
    k = min(max(int(math.floor(s / c + 0.5)), 0), n)
    if lo <= k <= hi:
        if k == n:
            return (n, False) if (s - c * (n - 0.5)) / s2 >= thr_end else (-1, False)
        return (k, False) if _llr(s, c, k, lo, hi, s2) >= thr else (-1, False)
    return (k, True) if _llr(s, c, k, 0, n, s2) >= thr else (-1, False)


def naive_score_test(h, s, c, lo, hi, n, sigma, thr, thr_end, cands, screen, futile,
                     max_scores, budget, noise):
    """The kernel's ``score_test``: (value, outside, s, c, calls, sum of the new scores)."""
    s2 = sigma * sigma
    calls, got = 0, 0.0
    while True:
        if c > 0:
            v, outside = naive_decide(s, c, lo, hi, n, s2, thr, thr_end)
            if v >= 0:
                return v, outside, s, c, calls, got
            if cands:
                b = max((_llr(s, c, x, lo, hi, s2) for x in cands if lo <= x <= hi),
                        default=-math.inf)
                if (c == 1 and b < -screen) or b < -futile or c >= max_scores:
                    return -1, False, s, c, calls, got
        if calls >= budget:
            return -1, False, s, c, calls, got
        y = h + sigma * naive_normal(noise)
        calls += 1
        got += y
        s += y
        c += 1


def naive_learn_line_noisy(target, a_size, group, lr, credit, max_calls, sigma, delta,
                           state_words, noise_words):
    """Learn one line from a noisy reviewer as :func:`monkeysim._kernels.corpus_noise.
    learn_line_noisy` does (same streams, same order of draws and floating point operations).

    Returns ``(doc, stats, bananas)`` with the nine stats of :func:`naive_learn_line`.
    """
    target = [int(c) for c in target]
    n = len(target)
    rng, noise = Xoshiro256(state_words), Xoshiro256(noise_words)
    pol = _Slots(n, a_size)
    thr = math.log(2.0 / delta)
    settled = [False] * n
    doc = [0] * n
    shown, shown_hits = [0] * n, -1  # the reference and its score (a fact)
    gs, gc, gdone = 0.0, 0, False  # scores of the greedy document since it changed
    calls = keystrokes = steps = dropped = rescores = resets = n_end = 0
    last_test, last_event = -GREEDY_EVERY, 0
    bananas, solved, first = 0.0, False, True

    def forget():
        for i in range(n):
            settled[i] = False
            pol.m[i] = a_size

    def restore_empty():
        r = 0
        for i in range(n):
            if pol.m[i] == 0:
                pol.m[i] = a_size
                r += 1
        return r

    while True:
        active = [i for i in range(n) if not settled[i]]
        changed = first
        for i in active:
            best = pol.scan(i)
            if best != doc[i] or first:
                doc[i] = best
                changed = True
        free = sum(1 for i in active if pol.m[i] >= 2)
        first = False
        if changed:
            gs, gc, gdone, last_event = 0.0, 0, False, steps
        n_set = n - len(active)
        n_diff = sum(1 for i in range(n) if doc[i] != shown[i])
        h_true = sum(1 for i in range(n) if doc[i] == target[i])
        if credit == PLAIN or shown_hits < 0:
            lo, hi = n_set, n
        else:
            lo, hi = max(n_set, shown_hits - n_diff), min(n, shown_hits + n_diff)
        if lo > hi:
            forget()
            shown_hits = -1
            resets += 1
            continue
        stalled = steps - last_event >= STALL_STEPS and (hi < n or credit == PLAIN)
        if (free == 0 and hi < n) or stalled:
            for i in active:
                pol.m[i] = a_size
                if stalled:
                    pol.w[i] = [1.0] * a_size
            resets += 1
            last_event = steps
            continue
        if credit == PLAIN:
            due = not gdone or steps - last_test >= GREEDY_EVERY
        else:
            due = hi == n or (not gdone and n_diff > 0)
        gate = (steps - last_test >= GREEDY_EVERY or free == 0 or (
            credit != PLAIN and (n_diff <= SMALL_CHANGE or shown_hits < 0)))
        if due and gate:
            thr_end = thr
            if hi == n:
                n_end += 1
                thr_end = math.log(math.pi * math.pi * n_end * n_end / (6.0 * delta))
            c0 = gc
            kg, outside, gs, gc, used, got = naive_score_test(
                h_true, gs, gc, lo, hi, n, sigma, thr, thr_end,
                [n] if credit == PLAIN else [], math.inf, FUTILE, 1 << 30, max_calls - calls,
                noise)
            calls += used
            keystrokes += used * n
            bananas += got / n
            rescores += max(0, gc - max(c0, 1))
            gdone, last_test = True, steps
            if kg < 0 and calls >= max_calls:
                break
            if kg == n and not outside:
                solved = True
                break
            if kg >= 0 and credit != PLAIN:
                if outside:
                    forget()
                    resets += 1
                    shown, shown_hits, gdone = list(doc), kg, False
                    continue
                h, dr, verdict = kg, 0, 0
                if shown_hits >= 0:
                    _, dr, verdict = _pair_credit(doc, h, shown, shown_hits, doc, settled, pol)
                    if verdict < 0:
                        h, gs, gc = shown_hits, 0.0, 0
                if credit >= ZERO_HITS:
                    dr += _zero_hit_credit(doc, h, doc, settled, pol)
                dropped += dr
                resets += restore_empty()
                if dr > 0 or verdict != 0:
                    last_event = steps
                shown, shown_hits = list(doc), h
                if dr > 0:
                    continue
        if calls + group > max_calls:
            break
        if credit >= GREEDY_PAIRS:
            active = [i for i in active if not settled[i]]
        n_right = sum(1 for i in range(n) if settled[i] and doc[i] == target[i])
        docs, slots, hits, ys = [], [], [], []
        total = 0.0
        for _k in range(group):
            d, sl = list(doc), {}
            for i in active:
                s = pol.draw(rng, i)
                sl[i] = s
                d[i] = pol.keys[i][s]
            h = n_right + sum(1 for i in active if d[i] == target[i])
            y = h + sigma * naive_normal(noise)
            docs.append(d)
            slots.append(sl)
            hits.append(h)
            ys.append(y)
            total += y
        calls += group
        keystrokes += group * n
        steps += 1
        bananas += total / n
        mean = total / group
        factor = [math.exp(lr * (y - mean) / n) for y in ys]
        for i in active:
            for k in range(group):
                pol.w[i][slots[k][i]] *= factor[k]
        if credit < GROUP_PAIRS or shown_hits < 0:
            continue
        for k in range(group):
            known = sum(1 for i in range(n) if settled[i] and docs[k][i] == shown[i])
            n_changed = sum(1 for i in range(n) if docs[k][i] != shown[i])
            if n_changed == 0:
                continue
            none = -(1 << 30)
            cands = [shown_hits + n_changed, shown_hits - n_changed,
                     shown_hits if n_changed == 1 else none,
                     known if credit >= ZERO_HITS else none]
            lo, hi = max(known, shown_hits - n_changed), min(n, shown_hits + n_changed)
            v, outside, _, _, used, got = naive_score_test(
                hits[k], ys[k], 1, lo, hi, n, sigma, thr, thr, cands, SCREEN, FUTILE,
                MAX_SCORES, max_calls - calls, noise)
            calls += used
            keystrokes += used * n
            bananas += got / n
            rescores += used
            if v < 0:
                continue
            if outside:
                forget()
                resets += 1
                shown_hits = -1
                break
            if v == cands[3]:
                dropped += _zero_hit_credit(docs[k], v, shown, settled, pol)
                last_event = steps
            if v in cands[:3]:
                g, dr, _ = _pair_credit(docs[k], v, shown, shown_hits, shown, settled, pol)
                shown_hits += g
                dropped += dr
                last_event = steps
            resets += restore_empty()
        synced = False
        for i in range(n):
            if settled[i] and doc[i] != shown[i]:
                doc[i] = shown[i]
                synced = True
        if synced:
            gs, gc, gdone = 0.0, 0, False
    stats = [1 if solved else 0, calls, keystrokes, steps, sum(settled), dropped,
             1 if doc == target else 0, rescores, resets]
    return doc, stats, bananas
