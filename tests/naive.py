"""Slow, obviously-correct reference implementations (pure Python).

Kernels must agree with these exactly when fed the same random stream. :func:`naive_train` is
the readable one-file version of every learning algorithm (with preferences, reviewer noise
and external reviewers); the learner kernels are tested against it.
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

    def jump(self) -> None:
        """Advance by 2**128 draws (xoshiro256**'s published jump polynomial)."""
        poly = (0x180EC6D33CFD0ABA, 0xD5A61266F0C9392C, 0xA9582618E03FC9AA, 0x39ABDC4529B1661C)
        acc = [0, 0, 0, 0]
        for word in poly:
            for b in range(64):
                if word >> b & 1:
                    acc = [x ^ y for x, y in zip(acc, self.s, strict=True)]
                self.next()
        self.s = acc


def digits_per_half(a: int) -> tuple[int, int, int]:
    """(k, P, thr): largest k with P = a**k <= 2**32, and Lemire's threshold 2**32 mod P."""
    if a == 1:
        return 32, 1, 0
    k = 0
    while a ** (k + 1) <= 2**32:
        k += 1
    return k, a**k, 2**32 % a**k


class NaiveLane:
    """One lane's keys: 32-bit halves of xoshiro256** draws (low half first); a half h is
    accepted when (h·P) mod 2**32 >= 2**32 mod P, and then gives the k base-a digits of
    v = floor(h·P / 2**32), most significant first."""

    def __init__(self, state, a: int):
        self.rng = Xoshiro256(state)
        self.a = a
        self.k, self.p, self.thr = digits_per_half(a)
        self.halves: list[int] = []

    def half(self) -> int:
        if not self.halves:
            u = self.rng.next()
            self.halves = [u & 0xFFFFFFFF, u >> 32]
        return self.halves.pop(0)

    def keys(self) -> list[int]:
        """The k keys of the next accepted half."""
        h = self.half()
        while (h * self.p) % 2**32 < self.thr:
            h = self.half()
        v = h * self.p // 2**32
        return [v // self.a ** (self.k - 1 - i) % self.a for i in range(self.k)]


def lane_states(state, lanes: int = 4) -> list[list[int]]:
    """Lane j of a chunk types from the chunk's state jumped j times."""
    out = [[int(x) for x in state]]
    for _ in range(lanes - 1):
        g = Xoshiro256(out[-1])
        g.jump()
        out.append(g.s)
    return out


def naive_race(states, chunk_size, monkeys, target, a, budget, mode, lanes=4):
    """Whole race, (keystrokes, found) per monkey: chunk c's monkeys type on ``lanes`` lanes.

    In each round every lane draws two accepted halves; its monkey types their keys one by one
    until the target appears (stream: as a suffix; document: as a whole document of
    len(target) keys) or it reaches its budget (document mode: whole documents only). The
    rest of the round is discarded; then, in lane order, every lane whose monkey finished
    records it and takes the chunk's next monkey.
    """
    n = len(target)
    stop = budget if mode == "stream" else budget // n * n
    out: list = [None] * monkeys
    for c, state in enumerate(states):
        typists = [NaiveLane(s, a) for s in lane_states(state, lanes)]
        queue = list(range(c * chunk_size, min((c + 1) * chunk_size, monkeys)))
        cur = [queue.pop(0) if queue else None for _ in range(lanes)]
        typed: list[list[int]] = [[] for _ in range(lanes)]
        done = [False] * lanes
        while any(m is not None for m in cur):
            for j in range(lanes):
                keys = typists[j].keys() + typists[j].keys()
                for key in keys:
                    if cur[j] is None or done[j] or len(typed[j]) == stop:
                        break
                    typed[j].append(key)
                    hit = typed[j][-n:] == target
                    if mode == "document":
                        hit = hit and len(typed[j]) % n == 0
                    done[j] = hit
            for j in range(lanes):
                if cur[j] is not None and (done[j] or len(typed[j]) == stop):
                    out[cur[j]] = (len(typed[j]), done[j])
                    cur[j] = queue.pop(0) if queue else None
                    typed[j], done[j] = [], False
    return out


# --- policies and policy gradients (issue 5) ------------------------------------------------
# Brute force over all A**L documents of a tiny policy: exact expected reward, its gradient,
# exact KL / entropy, and the exact expectation of GRPO's update over all groups.

import itertools  # noqa: E402
import math  # noqa: E402


def policy_rows(kind: str, order: int, a: int, doc) -> list[int]:
    """The logit row used for each key of ``doc`` (positional: i; context: last n−1 keys in
    base A+1, the start symbol being the digit A)."""
    rows = []
    base = a + 1
    n_rows = base ** (order - 1)
    ctx = [a] * (order - 1)
    for i, key in enumerate(doc):
        if kind == "positional":
            rows.append(i)
        else:
            r = 0
            for d in ctx:
                r = r * base + d
            rows.append(r % n_rows if n_rows > 1 else 0)
        if order > 1:
            ctx = ctx[1:] + [key]
    return rows


def log_softmax_rows(theta) -> list[list[float]]:
    out = []
    for row in theta:
        mx = max(row)
        lse = mx + math.log(sum(math.exp(x - mx) for x in row))
        out.append([x - lse for x in row])
    return out


def all_documents(length: int, a: int):
    return list(itertools.product(range(a), repeat=length))


def doc_log_prob(logp, kind, order, a, doc) -> float:
    return sum(logp[r][k] for r, k in zip(policy_rows(kind, order, a, doc), doc, strict=True))


def doc_score(logp, kind, order, a, doc) -> list[list[float]]:
    """∇_θ log π(doc) as a nested list [R][A]: Σ_tokens (e_key − p[row]) in the token's row."""
    g = [[0.0] * a for _ in logp]
    for r, k in zip(policy_rows(kind, order, a, doc), doc, strict=True):
        for b in range(a):
            g[r][b] -= math.exp(logp[r][b])
        g[r][k] += 1.0
    return g


def exact_objective_gradient(theta, kind, order, a, length, reward, theta_ref=None,
                             beta=0.0, alpha=0.0):
    """(J, ∇(J − β KL(π‖π_ref) + α H(π))) by enumeration; ``reward`` maps doc tuple → float."""
    logp = log_softmax_rows(theta)
    logq = log_softmax_rows(theta_ref) if theta_ref is not None else logp
    grad = [[0.0] * a for _ in theta]
    value = 0.0
    for doc in all_documents(length, a):
        lp = doc_log_prob(logp, kind, order, a, doc)
        lq = doc_log_prob(logq, kind, order, a, doc)
        p = math.exp(lp)
        value += p * reward[doc]
        w = p * (reward[doc] - beta * (lp - lq) - alpha * lp)
        s = doc_score(logp, kind, order, a, doc)
        for r in range(len(theta)):
            for b in range(a):
                grad[r][b] += w * s[r][b]
    return value, grad


def exact_kl_entropy(theta, theta_ref, kind, order, a, length):
    """Exact KL(π‖π_ref) and H(π) of whole documents by enumeration (nats)."""
    logp = log_softmax_rows(theta)
    logq = log_softmax_rows(theta_ref)
    kl = 0.0
    h = 0.0
    for doc in all_documents(length, a):
        lp = doc_log_prob(logp, kind, order, a, doc)
        lq = doc_log_prob(logq, kind, order, a, doc)
        kl += math.exp(lp) * (lp - lq)
        h -= math.exp(lp) * lp
    return kl, h


def expected_k3_direction(theta, theta_ref, kind, order, a, length):
    """E_x[Σ_tokens −(1 − π_ref/π)(token) ∇ log π(token)]: the ascent direction of the k3
    penalty per unit β (GRPO style), by enumeration."""
    logp = log_softmax_rows(theta)
    logq = log_softmax_rows(theta_ref)
    grad = [[0.0] * a for _ in theta]
    for doc in all_documents(length, a):
        p = math.exp(doc_log_prob(logp, kind, order, a, doc))
        for r, k in zip(policy_rows(kind, order, a, doc), doc, strict=True):
            c = -(1.0 - math.exp(logq[r][k] - logp[r][k]))
            for b in range(a):
                grad[r][b] += p * c * ((1.0 if b == k else 0.0) - math.exp(logp[r][b]))
    return grad


def expected_grpo_direction(theta, kind, order, a, length, reward, group: int, eps: float,
                            ddof: int = 1):
    """Exact E[(1/n) Σ_j adv_j ∇ log π(x_j)] with GRPO advantages (r − mean)/(std + eps)
    (sample std; ``ddof=0``: the population std of REINFORCE++), enumerating all groups of
    ``group`` documents."""
    logp = log_softmax_rows(theta)
    docs = all_documents(length, a)
    probs = {d: math.exp(doc_log_prob(logp, kind, order, a, d)) for d in docs}
    scores = {d: doc_score(logp, kind, order, a, d) for d in docs}
    grad = [[0.0] * a for _ in theta]
    for tup in itertools.product(docs, repeat=group):
        w = 1.0
        for d in tup:
            w *= probs[d]
        rs = [reward[d] for d in tup]
        mean = sum(rs) / group
        std = math.sqrt(sum((x - mean) ** 2 for x in rs) / (group - ddof))
        for d, x in zip(tup, rs, strict=True):
            adv = (x - mean) / (std + eps)
            s = scores[d]
            for r in range(len(theta)):
                for b in range(a):
                    grad[r][b] += w * adv * s[r][b] / group
    return grad


def group_advantages(rs, kind: str, baseline: float = 0.0, eps: float = 1e-4) -> list[float]:
    """Advantages of one group's rewards: ``r − b`` (baseline), leave-one-out (loo),
    ``(r − mean)/(std + eps)`` with the sample std (group, GRPO), ``r − mean`` (mean,
    Dr. GRPO) or ``(r − mean)/(std + eps)`` with the population std (batch, REINFORCE++)."""
    n = len(rs)
    if kind == "baseline":
        return [x - baseline for x in rs]
    if kind == "loo":
        return [x - (sum(rs) - x) / (n - 1) for x in rs]
    mean = sum(rs) / n
    if kind == "mean":
        return [x - mean for x in rs]
    ddof = 0 if kind == "batch" else 1
    std = math.sqrt(sum((x - mean) ** 2 for x in rs) / (n - ddof))
    return [(x - mean) / (std + eps) for x in rs]


# every algorithm of the reference trainer: its advantage kind and whether it clips
ADVANTAGE = {"reinforce": "baseline", "rloo": "loo", "grpo": "group", "ppo": "loo",
             "dr-grpo": "mean", "reinforce-pp": "batch"}
CLIPPED = ("grpo", "ppo", "dr-grpo", "reinforce-pp")


def noise_estimates(per_doc_grads) -> tuple[float, float]:
    """McCandlish's (|G|², tr Σ) estimates from the n per-document gradients of one group
    (nested lists [R][A]): S1 = Σ_j |g_j|², S2 = |mean_j g_j|²."""
    n = len(per_doc_grads)
    rows, a = len(per_doc_grads[0]), len(per_doc_grads[0][0])
    s1 = sum(g[r][b] ** 2 for g in per_doc_grads for r in range(rows) for b in range(a))
    s2 = sum((sum(g[r][b] for g in per_doc_grads) / n) ** 2
             for r in range(rows) for b in range(a))
    return (n * s2 - s1 / n) / (n - 1), (s1 / n - s2) / (1 - 1 / n)


def expected_noise_estimates(theta, kind, order, a, length, reward, group: int, advantage: str,
                             baseline: float = 0.0, eps: float = 1e-4) -> tuple[float, float]:
    """Exact E[(|G|² estimate, tr Σ estimate)] of one group of ``group`` documents with
    ``g_j = A_j ∇ log π(x_j)``, enumerating every group of documents."""
    logp = log_softmax_rows(theta)
    docs = all_documents(length, a)
    probs = {d: math.exp(doc_log_prob(logp, kind, order, a, d)) for d in docs}
    scores = {d: doc_score(logp, kind, order, a, d) for d in docs}
    e_g = e_t = 0.0
    for tup in itertools.product(docs, repeat=group):
        w = 1.0
        for d in tup:
            w *= probs[d]
        adv = group_advantages([reward[d] for d in tup], advantage, baseline, eps)
        grads = [[[c * x for x in row] for row in scores[d]] for d, c in zip(tup, adv,
                                                                              strict=True)]
        g, t = noise_estimates(grads)
        e_g += w * g
        e_t += w * t
    return e_g, e_t


# --- a whole training run, one token at a time (reference for the trainer kernels) ---------
# naive_train is the readable one-file version of every algorithm of monkeysim.learn.train
# (REINFORCE, RLOO, GRPO, PPO, Dr. GRPO, REINFORCE++; SGD and Adam; independent monkeys and
# troops; the KL leash and the entropy bonus; reviewer noise and flipped verdicts; pairwise
# preferences, naive, de-biased or with an estimated flip rate; built-in and external
# reviewers). Plain Python, one token at a time, fed the monkeys' own xoshiro streams: the
# kernels (monkeysim/_kernels/policy*.py) must reach the same logits to 1e-8
# (tests/test_train.py, tests/test_train_reference.py). Its docstring is the specification.

MAX_FLIP_ESTIMATE = 0.45  # the estimated flip rate ε̂ is capped here (de-biasing scale ≤ 10)


def naive_tables(theta):
    """(logp, prob, cdf) rows exactly as the kernel computes them (one exp per logit)."""
    logp, prob, cdf = [], [], []
    for row in theta:
        mx = max(row)
        e = [math.exp(x - mx) for x in row]
        s = 0.0
        for x in e:
            s += x
        inv = 1.0 / s
        lse = mx + math.log(s)
        p = [x * inv for x in e]
        c, run = [], 0.0
        for x in p:
            run += x
            c.append(run)
        logp.append([x - lse for x in row])
        prob.append(p)
        cdf.append(c)
    return logp, prob, cdf


def naive_draw_key(rng: Xoshiro256, cdf_row) -> int:
    """Inverse CDF with one uniform double (top 53 bits of one draw)."""
    u = (rng.next() >> 11) * (1.0 / 9007199254740992.0)
    a = 0
    while a < len(cdf_row) - 1 and u >= cdf_row[a]:
        a += 1
    return a


def naive_type_document(rng: Xoshiro256, cdf, kind, order, a, length) -> tuple:
    """One document, key by key, each key drawn from the row its position (positional) or
    its last n − 1 keys (context) select."""
    doc = []
    for i in range(length):
        r = policy_rows(kind, order, a, doc + [0])[i]  # the row of position i
        doc.append(naive_draw_key(rng, cdf[r]))
    return tuple(doc)


def naive_normal(rng: Xoshiro256) -> float:
    """A standard normal draw: Box–Muller on two uniforms (1 − u, so that log never sees 0)."""
    u = 1.0 - naive_double(rng)
    v = naive_double(rng)
    return math.sqrt(-2.0 * math.log(u)) * math.cos(2.0 * math.pi * v)


def naive_reviewer_error(rng: Xoshiro256, flip: float, sd: float) -> tuple[bool, float]:
    """A noisy reviewer's errors on one document, drawn from the typing monkey's stream right
    after the document: whether its binary verdict is flipped (probability ``flip``: one
    uniform) and its Gaussian noise of standard deviation ``sd`` (two uniforms). Draws
    nothing when both are 0, so a noiseless stream is the plain typing stream."""
    flipped = flip > 0 and naive_double(rng) < flip
    noise = sd * naive_normal(rng) if sd > 0 else 0.0
    return flipped, noise


def naive_verdict(rng: Xoshiro256, ra: float, rb: float, flip: float) -> float:
    """The preference reviewer compares documents a and b with true scores ``ra``, ``rb``:
    +1 (a is better) or −1 (b is), wrong with probability ``flip`` (one uniform); 0 for a tie
    (equal scores: reported as a tie, nothing drawn)."""
    if ra == rb:
        return 0.0
    s = 1.0 if ra > rb else -1.0
    if flip > 0 and naive_double(rng) < flip:
        s = -s
    return s


def naive_flip_estimate(repeats: list[int]) -> float:
    """ε̂ from ``repeats = [repeated comparisons, disagreements]``: two verdicts on one pair
    disagree with probability d = 2ε(1 − ε), so ε̂ = (1 − √(1 − 2d))/2, capped at
    MAX_FLIP_ESTIMATE (0 before any repeat)."""
    if repeats[0] == 0:
        return 0.0
    d = repeats[1] / repeats[0]
    return min(0.5 * (1.0 - math.sqrt(max(1.0 - 2.0 * d, 0.0))), MAX_FLIP_ESTIMATE)


def naive_preference_advantages(rng: Xoshiro256, scores, mode: str, flip: float,
                                repeats: list[int]) -> list[float]:
    """A group's advantages from pairwise preferences on its documents' true (hidden)
    ``scores``: documents 2i and 2i+1 are compared once (one reviewer call), the winner gets
    +1 and the loser −1 (a tie 0 each). ``mode``: ``naive`` uses the verdicts as they are;
    ``debiased`` divides them by 1 − 2·flip; ``estimated`` compares the first pair a second
    time (one more call; a tied pair's repeat is not counted), adds the repeat to the policy's
    running ``repeats`` (updated in place) and divides by 1 − 2ε̂ (:func:`naive_flip_estimate`,
    this repeat included)."""
    adv = []
    for i in range(0, len(scores) - 1, 2):
        s = naive_verdict(rng, scores[i], scores[i + 1], flip)
        adv += [s, -s]
    scale = 1.0
    if mode == "debiased":
        scale = 1.0 / (1.0 - 2.0 * flip)
    elif mode == "estimated":
        again = naive_verdict(rng, scores[0], scores[1], flip)
        if adv[0] != 0.0:
            repeats[0] += 1
            repeats[1] += int(again != adv[0])
        scale = 1.0 / (1.0 - 2.0 * naive_flip_estimate(repeats))
    return [x * scale for x in adv]


def naive_train(theta0, kind, order, a, length, reward, states, steps, batch, *, algo, lr,
                optimizer="sgd", troop=False, beta=0.0, alpha=0.0, kl="exact", theta_ref=None,
                epochs=1, clip=0.2, decay=0.9, group_eps=1e-4, betas=(0.9, 0.999),
                adam_eps=1e-8, noise_sd=0.0, flip=0.0, preferences=None):
    """``steps`` training steps, token by token, of M monkeys (``states``: their xoshiro
    states, ``chunk_states(seed, 0, M, TRAIN_STREAM)``) that each own a copy of ``theta0``
    (or share it as a troop). Returns the final logits, a list (one per policy) of nested
    lists [R][A]. The arguments are those of a ``TrainConfig``: ``beta`` its kl_coef, ``alpha``
    its entropy_coef, ``kl`` its kl_mode, ``decay`` its baseline_decay, ``noise_sd`` its
    reviewer_noise / L (reward units), ``flip`` its flip_rate, ``preferences`` its preferences.

    One step:

    1. **Typing.** Monkey by monkey, each types ``batch`` documents from its policy (a troop's
       shared one) with its own stream. Without preferences a noisy reviewer's errors
       (:func:`naive_reviewer_error`) are drawn from the same stream right after each
       document.
    2. **Reviewing.** ``reward`` scores the step's documents: a table (document tuple →
       bananas, a built-in reviewer), or a reviewer outside the kernels: a callable on the
       list of all the step's documents in the kernels' order (monkey-major, then document),
       called once per step, returning one score each (it may keep state between calls).
       Without preferences the reported score is the score, or 1 − score for a flipped binary
       verdict (``flip``: exact bananas only), plus the noise.
    3. **Shaping.** In k1 mode ``−β·log(π/π_ref)`` of the document is folded into its
       reported score, and for a context policy the entropy estimate ``−α·log π``.
    4. **Advantages,** per group (a monkey's documents, or the whole troop's). From scores
       (:func:`group_advantages`): REINFORCE r − running mean of earlier batches; RLOO
       leave-one-out; GRPO (r − mean)/(std + eps); Dr. GRPO r − mean; REINFORCE++
       (r − mean)/(population std + eps); PPO leave-one-out (the running mean for a group of
       one). From preferences (:func:`naive_preference_advantages` on the true scores; the
       verdicts draw from the policy's stream after its typing, a troop's from monkey 0's):
       naive, de-biased by the known flip rate, or by the estimated one (a running count of
       repeats and disagreements per policy).
    5. **Gradient and update,** ``epochs`` times: Σ_tokens c·(e_key − p[row]) / n with c the
       advantage, clipped per token in later epochs (ratio to the step's sampling policy) for
       GRPO, PPO, Dr. GRPO and REINFORCE++; plus the k3 term per token; plus the exact KL and
       entropy gradients of a positional policy; then an SGD or Adam ascent step.
    6. The running mean of the shaped scores (REINFORCE's baseline) takes in this batch.

    Preferences learn from verdicts alone: nothing folded into a score (step 3) reaches
    them, so they are refused with k1 and with a context policy's entropy bonus.
    """
    if preferences is not None and (kl == "k1" or (kind == "context" and alpha != 0)):
        raise ValueError("preferences learn from verdicts alone: no k1 term or entropy "
                         "estimate folded into the scores")
    review = reward if callable(reward) else (lambda docs: [reward[d] for d in docs])
    rngs = [Xoshiro256(s) for s in states]
    n_mon = len(states)
    n_pol = 1 if troop else n_mon
    thetas = [[list(r) for r in theta0] for _ in range(n_pol)]
    logq = log_softmax_rows(theta_ref if theta_ref is not None else theta0)
    ms = [[[0.0] * a for _ in theta0] for _ in range(n_pol)]
    vs = [[[0.0] * a for _ in theta0] for _ in range(n_pol)]
    ts = [0] * n_pol
    base = [[0.0, 0.0] for _ in range(n_pol)]  # REINFORCE's EMA and its weight
    repeats = [[0, 0] for _ in range(n_pol)]  # repeated comparisons, disagreements
    group = n_mon * batch if troop else batch
    adv_kind = ADVANTAGE[algo] if group >= 2 else "baseline"
    clip = clip if algo in CLIPPED else 0.0
    for _ in range(steps):
        tabs = [naive_tables(t) for t in thetas]
        # 1. typing, monkey-major; a noisy reviewer's errors right after each document
        docs, log_probs, errors = [], [], []
        for m in range(n_mon):
            logp, _, cdf = tabs[0 if troop else m]
            for _k in range(batch):
                doc = naive_type_document(rngs[m], cdf, kind, order, a, length)
                rows = policy_rows(kind, order, a, doc)
                lp = sum(logp[r][k] for r, k in zip(rows, doc, strict=True))
                lq = sum(logq[r][k] for r, k in zip(rows, doc, strict=True))
                docs.append(doc)
                log_probs.append((lp, lq))
                if preferences is None:
                    errors.append(naive_reviewer_error(rngs[m], flip, noise_sd))
        # 2. reviewing: one call for the step's documents
        scores = [float(x) for x in review(docs)]
        assert len(scores) == len(docs)
        reported = scores
        if preferences is None:
            reported = [(1.0 - s if flipped else s) + noise
                        for s, (flipped, noise) in zip(scores, errors, strict=True)]
        # 3. shaping
        shaped = []
        for r0, (lp, lq) in zip(reported, log_probs, strict=True):
            sh = r0
            if kl == "k1":
                sh -= beta * (lp - lq)
            if kind == "context":
                sh -= alpha * lp
            shaped.append(sh)
        for p in range(n_pol):
            part = slice(0, n_mon * batch) if troop else slice(p * batch, (p + 1) * batch)
            rs = shaped[part]
            n = len(rs)
            # 4. advantages
            if preferences is None:
                b = base[p][0] / base[p][1] if base[p][1] > 0 else 0.0
                adv = group_advantages(rs, adv_kind, b, group_eps)
            else:
                adv = naive_preference_advantages(rngs[0 if troop else p], scores[part],
                                                  preferences, flip, repeats[p])
            # 5. gradient and update, epoch by epoch
            old_logp = tabs[p][0]
            for e in range(epochs):
                logp, prob, _ = naive_tables(thetas[p])
                grad = [[0.0] * a for _ in theta0]
                for doc, ad in zip(docs[part], adv, strict=True):
                    for r, key in zip(policy_rows(kind, order, a, doc), doc, strict=True):
                        c = ad
                        if clip > 0 and e > 0:
                            ratio = math.exp(logp[r][key] - old_logp[r][key])
                            if (ad > 0 and ratio > 1 + clip) or (ad < 0 and ratio < 1 - clip):
                                c = 0.0
                            else:
                                c = ad * ratio
                        if kl == "k3":
                            c += beta * math.expm1(logq[r][key] - logp[r][key])
                        c /= n
                        for b2 in range(a):
                            grad[r][b2] -= c * prob[r][b2]
                        grad[r][key] += c
                if kind == "positional":
                    for r in range(len(theta0)):
                        klr = sum(prob[r][x] * (logp[r][x] - logq[r][x]) for x in range(a))
                        h = -sum(prob[r][x] * logp[r][x] for x in range(a))
                        for x in range(a):
                            if kl == "exact":
                                grad[r][x] -= beta * prob[r][x] * (logp[r][x] - logq[r][x] - klr)
                            grad[r][x] -= alpha * prob[r][x] * (logp[r][x] + h)
                ts[p] += 1
                for r in range(len(theta0)):
                    for x in range(a):
                        g = grad[r][x]
                        if optimizer == "adam":
                            ms[p][r][x] = betas[0] * ms[p][r][x] + (1 - betas[0]) * g
                            vs[p][r][x] = betas[1] * vs[p][r][x] + (1 - betas[1]) * g * g
                            mhat = ms[p][r][x] / (1 - betas[0] ** ts[p])
                            vhat = vs[p][r][x] / (1 - betas[1] ** ts[p])
                            thetas[p][r][x] += lr * mhat / (math.sqrt(vhat) + adam_eps)
                        else:
                            thetas[p][r][x] += lr * g
            # 6. the running mean of the shaped scores
            base[p][0] = decay * base[p][0] + (1 - decay) * sum(rs) / n
            base[p][1] = decay * base[p][1] + (1 - decay)
    return thetas


# --- learning baselines (reference for _kernels_baselines) ----------------------------------

def naive_uniform_below(rng: Xoshiro256, n: int) -> int:
    """Exactly uniform integer in [0, n): reject draws in the top partial block of 2**64."""
    limit = (MASK // n) * n
    u = rng.next()
    while u >= limit:
        u = rng.next()
    return u % n


def naive_double(rng: Xoshiro256) -> float:
    return (rng.next() >> 11) * (1.0 / 9007199254740992.0)


def naive_weasel(state, target, a, offspring, mu, latching, max_calls, score):
    """Dawkins' weasel as in the kernel: (calls, generations, solved, final parent)."""
    rng = Xoshiro256(state)
    target = list(target)
    parent = [naive_uniform_below(rng, a) for _ in target]
    if parent == target:
        return 0, 0, True, parent
    calls = gens = 0
    while calls + offspring <= max_calls:
        best_score, best = -1.0, None
        for _ in range(offspring):
            child = list(parent)
            for i in range(len(target)):
                if latching and parent[i] == target[i]:
                    continue
                if naive_double(rng) < mu:
                    child[i] = naive_uniform_below(rng, a)
            sc = score(child)
            calls += 1
            if sc > best_score:
                best_score, best = sc, child
        parent = best
        gens += 1
        if parent == target:
            return calls, gens, True, parent
    return calls, gens, False, parent


def naive_coordinate(state, target, a, early_stop, max_calls, score):
    """Coordinate search as in the kernel: (calls, positions visited, solved, final doc)."""
    rng = Xoshiro256(state)
    target = list(target)
    doc = [naive_uniform_below(rng, a) for _ in target]
    cur = score(doc)
    calls = 1
    if doc == target:
        return calls, 0, True, doc
    for i in range(len(target)):
        order = list(range(a))
        for k in range(a - 1, 0, -1):
            j = naive_uniform_below(rng, k + 1)
            order[k], order[j] = order[j], order[k]
        orig = doc[i]
        best_key, best = orig, cur
        for key in order:
            if key == orig:
                continue
            if calls >= max_calls:
                doc[i] = best_key
                return calls, i + 1, doc == target, doc
            doc[i] = key
            sc = score(doc)
            calls += 1
            if sc > best:
                best, best_key = sc, key
                if early_stop:
                    break
        doc[i] = best_key
        cur = best
        if doc == target:
            return calls, i + 1, True, doc
    return calls, len(target), False, doc
