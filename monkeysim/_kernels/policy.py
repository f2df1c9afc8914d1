"""numba kernels for character policies and policy-gradient training.

Private module. Kernels take encoded arrays, caller-allocated outputs and explicit RNG state
arrays (one xoshiro256** ``uint64[4]`` state per monkey, advanced in place across steps).

Policies. A policy is a table of logits ``theta[R, A]``; the row used for the key at
position ``i`` is

- positional policy: row ``i`` (``R = L``);
- context (n-gram) policy: the last ``n - 1`` keys written in base ``A + 1`` with the digit
  ``A`` meaning "before the start of the document" (``R = (A + 1) ** (n - 1)``; the first row
  is the all-start context ``R - 1``; ``n = 1`` has the single row 0).

Each step keeps three derived tables per policy, rebuilt after every update: ``logp``
(log-softmax of every row), ``prob`` (its probabilities) and ``cdf`` (running sums of
``prob``, for sampling).

Training step (one implementation of each shared piece, used by every algorithm):

1. :func:`type_documents` — each monkey samples ``K`` documents from its policy with its own
   stream, the reviewer scores them (``score_one`` from the shared reward kernels, one
   reviewer call per document), and the per-token log-probabilities are kept for the
   importance ratios of later epochs and the KL estimates.
2. :func:`group_advantages` — per group (the documents of one policy in one step):
   ``r - b`` with a running-mean baseline (REINFORCE), leave-one-out (RLOO),
   group-normalised ``(r - mean) / (std + eps)`` (GRPO), ``r - mean`` (Dr. GRPO) or
   batch-normalised with the population std (REINFORCE++).
3. :func:`accumulate_gradient` + :func:`finish_gradient` — the (clipped) score-function
   gradient ``Σ_tokens c · ∇ log π(a | row)`` with ``∇_θ[row] log π(a | row) = e_a − p[row]``,
   plus the per-token k3 KL term when asked for; :func:`exact_regulariser` adds the exact
   KL / entropy gradients of a positional policy.
4. :func:`apply_gradient` — gradient *ascent* on θ (SGD or Adam) fused row by row with the new
   tables and, for a positional policy, the greedy keys and exact KL / entropy
   (:func:`update_tables`).

Gradient noise scale (McCandlish et al. 2018, App. A). In the first epoch of every step each
group of ``n`` documents of a positional policy also yields ``S1 = Σ_j |g_j|²``, the squared
norms of the per-document gradients ``g_j = Σ_tokens c_j,t (e_a − p[row])`` (the same
coefficients ``c`` as the step: the advantage, plus the k3 term in k3 mode; without the exact
KL / entropy regulariser), and ``S2 = |mean_j g_j|²``, the squared norm of the group's
direction before the regulariser. :func:`noise_estimates` turns them into the unbiased
estimates of ``|G|²`` and ``tr Σ`` (``B_small = 1``, ``B_big = n``) in ``pm``. A positional
document's tokens sit in distinct rows, so ``|g_j|² = Σ_t c_t² (1 − 2 p_t[a_t] + Σ_b p_t[b]²)``
with the per-row ``Σ_b p²`` (:func:`row_sq_sums`, k3 mode only); without k3 the
coefficient is the document's advantage and ``|g_j|² = A_j² (L + Σ_rows Σ_b p² − 2 Σ_t
p_t[a_t])``, O(1) per document given ``Σ_t p_t[a_t]``, which :func:`type_documents` sums while
typing, and ``Σ_rows Σ_b p²``, which :func:`policy_tables` returns. Context policies (rows
may repeat within a document) and groups of one document get NaN.

Two drivers run blocks of steps: :func:`train_independent` (each monkey owns its policy; one
parallel loop over monkeys runs all their steps) and :func:`train_troop` (one shared policy;
monkeys type in parallel, gradients are summed per fixed chunk of monkeys and the chunks are
reduced in order, so the result does not depend on the thread count).
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from .options import KERNEL_OPTIONS, PARALLEL_OPTIONS
from .random import next_double
from .reward import EXACT, score_one

# policy kinds
POSITIONAL = 0
CONTEXT = 1
# advantage kinds
ADV_BASELINE = 0  # r − running-mean baseline of earlier batches (REINFORCE)
ADV_LOO = 1  # leave-one-out (RLOO)
ADV_GROUP = 2  # group-normalised (GRPO)
ADV_MEAN = 3  # r − group mean, no std (Dr. GRPO)
ADV_BATCH = 4  # batch-normalised with the population std (REINFORCE++)
# KL gradient modes
KL_EXACT = 0  # exact gradient of the factorised KL (positional policies)
KL_K1 = 1  # k1 = log π/π_ref folded into the reward (score function; unbiased)
KL_K3 = 2  # k3 per token in the loss (GRPO style)
# optimisers
OPT_SGD = 0
OPT_ADAM = 1

# integer parameters (ip)
I_KIND, I_ROWS, I_BASE, I_REWARD, I_NGRAM, I_ADV, I_EPOCHS, I_KL, I_OPT, I_DRY, I_STEP0, \
    I_CHUNK, I_PREF, I_PHASE, I_TRACK_KL = range(15)
N_INT = 15
# what one call of a driver does (ip[I_PHASE]): whole steps with a built-in reviewer, or, for
# a reviewer outside numba (a Python object), one step split in two calls: type the documents
# (rewards left 0 for the caller to fill), then learn from the rewards the caller filled in
PHASE_ALL, PHASE_TYPE, PHASE_LEARN = range(3)
# float parameters (hp)
F_LR, F_CLIP, F_GROUP_EPS, F_BETA, F_ENTROPY, F_B1, F_B2, F_ADAM_EPS, F_DECAY, F_NOISE, \
    F_FLIP = range(11)
N_FLOAT = 11
# learning signal (ip[I_PREF]): scores, or pairwise preferences with a naive advantage, the
# advantage de-biased by a known flip rate, or by a flip rate estimated from repeats
PREF_NONE, PREF_NAIVE, PREF_DEBIASED, PREF_ESTIMATED = range(4)
# running state per policy (baseline[P, N_BASE]): REINFORCE's EMA and its weight, and the
# repeated comparisons and their disagreements of PREF_ESTIMATED
B_EMA, B_WEIGHT, B_REPEATS, B_DISAGREE = range(4)
N_BASE = 4
MAX_FLIP_ESTIMATE = 0.45  # the estimated flip rate is capped here (de-biasing scale ≤ 10)
# per monkey and step metrics (mm[step, monkey, :])
MM_REWARD, MM_REWARD_SQ, MM_HITS, MM_K1, MM_K3, MM_CLIPPED = range(6)
N_MM = 6
# per policy and step metrics (pm[step, policy, :])
PM_GREEDY, PM_KL, PM_ENTROPY, PM_ZERO_STD, PM_GRAD_NORM, PM_GRAD_SQ, PM_TRACE_SIGMA = range(7)
N_PM = 7


# --- policy tables, rows, sampling ------------------------------------------------------

@nb.njit(**KERNEL_OPTIONS)
def row_tables(theta, logp, prob, cdf, r):
    """Row ``r`` of the tables of ``theta[R, A]``: ``logp`` (log-softmax), ``prob``
    (softmax) and ``cdf`` (running sums of ``prob``); one ``exp`` per logit. Returns
    ``Σ_a p²``."""
    a_size = theta.shape[1]
    mx = theta[r, 0]
    for a in range(1, a_size):
        x = theta[r, a]
        mx = x if x > mx else mx
    s = 0.0
    for a in range(a_size):
        e = math.exp(theta[r, a] - mx)
        prob[r, a] = e
        s += e
    inv = 1.0 / s
    lse = mx + math.log(s)
    c = 0.0
    sq = 0.0
    for a in range(a_size):
        pa = prob[r, a] * inv
        prob[r, a] = pa
        logp[r, a] = theta[r, a] - lse
        c += pa
        cdf[r, a] = c
        sq += pa * pa
    return sq


@nb.njit(**KERNEL_OPTIONS)
def policy_tables(theta, logp, prob, cdf):
    """Fill the tables of every row of ``theta[R, A]`` (:func:`row_tables`). Returns
    ``Σ_rows Σ_a p²`` (summed as :func:`row_sq_sums` does, for the noise scale; free beside
    the running sum)."""
    total = 0.0
    for r in range(theta.shape[0]):
        total += row_tables(theta, logp, prob, cdf, r)
    return total


@nb.njit(**KERNEL_OPTIONS)
def first_row(kind, rows):
    """Row of the first key: 0 (positional) or the all-start context ``R - 1``."""
    if kind == POSITIONAL:
        return 0
    return rows - 1


@nb.njit(**KERNEL_OPTIONS)
def next_row(kind, row, key, base, rows):
    """Row of the next key after typing ``key`` in row ``row``."""
    if kind == POSITIONAL:
        return row + 1
    return (row * base + np.int64(key)) % rows


@nb.njit(**KERNEL_OPTIONS)
def draw_key(state, cdf_row):
    """One key from the categorical with running sums ``cdf_row`` (inverse CDF, one draw).

    The key is the first ``a`` with ``u < cdf[a]`` (the last key if none): since ``cdf`` is
    non-decreasing that is the number of ``cdf[a] <= u`` among the first ``A − 1``, counted
    without branches (so the loop vectorises).
    """
    u = next_double(state)
    a = 0
    for j in range(cdf_row.shape[0] - 1):
        a += 1 if u >= cdf_row[j] else 0
    return a


@nb.njit(**KERNEL_OPTIONS)
def sample_document(state, cdf, kind, rows, base, doc):
    """Type one document ``doc`` (uint8[L]) from the policy whose running sums are ``cdf``."""
    row = first_row(kind, rows)
    for i in range(doc.shape[0]):
        a = draw_key(state, cdf[row])
        doc[i] = a
        row = next_row(kind, row, a, base, rows)


@nb.njit(**KERNEL_OPTIONS)
def document_log_prob(logp, kind, rows, base, doc):
    """log π(doc): the sum of the per-token log-probabilities."""
    row = first_row(kind, rows)
    total = 0.0
    for i in range(doc.shape[0]):
        a = doc[i]
        total += logp[row, a]
        row = next_row(kind, row, a, base, rows)
    return total


# --- typing and scoring -----------------------------------------------------------------

@nb.njit(**KERNEL_OPTIONS)
def type_documents(state, logp, prob, cdf, logq, qprob, ip, hp, target, word_start, word_end,
                   docs, rewards, shaped, oldlp, mm, docs_before, first_typed, psum):
    """One monkey types ``K`` documents, the reviewer scores each; returns ``first_typed``.

    Writes ``docs[K, L]``, ``rewards[K]`` (the reviewer's bananas), ``shaped[K]`` (bananas
    minus ``β · k1`` in k1 mode, plus ``α · (−log π)`` as the entropy-bonus estimate of a
    context policy), ``oldlp[K, L]`` (per-token log-probabilities under the sampling policy)
    and adds the monkey's reward, hit and KL-estimate sums to ``mm`` (per token
    ``k1 = log π/π_ref`` and ``k3 = π_ref/π − 1 − log(π_ref/π)``, the ratio taken from the
    probability tables ``qprob`` / ``prob``). ``first_typed`` is the
    monkey's 1-based document count when it first typed the target exactly (−1: not yet).
    ``psum[K]`` gets ``Σ_tokens π(a | row)`` of each document (for the noise scale).
    A noisy reviewer (:func:`noisy_score`) draws its noise from the monkey's stream after the
    document (no draws when noiseless, so the noiseless stream is unchanged); with
    preferences ``rewards`` holds the hidden true scores and the verdicts come later
    (:func:`preference_advantages`).
    """
    kind = ip[I_KIND]
    rows = ip[I_ROWS]
    base = ip[I_BASE]
    beta_k1 = hp[F_BETA] if ip[I_KL] == KL_K1 else 0.0
    ent_est = hp[F_ENTROPY] if kind == CONTEXT else 0.0
    n_docs, length = docs.shape
    for k in range(n_docs):
        doc = docs[k]
        sample_document(state, cdf, kind, rows, base, doc)
        row = first_row(kind, rows)
        lp_sum = 0.0
        k1 = 0.0
        k3 = 0.0
        p_sum = 0.0
        same = True
        for i in range(length):
            a = doc[i]
            lp = logp[row, a]
            oldlp[k, i] = lp
            d = logq[row, a] - lp
            lp_sum += lp
            k1 -= d
            pa = prob[row, a]
            p_sum += pa
            k3 += qprob[row, a] / pa - 1.0 - d
            if a != target[i]:
                same = False
            row = next_row(kind, row, a, base, rows)
        r = 0.0
        if ip[I_PHASE] == PHASE_ALL:
            r = score_one(ip[I_REWARD], doc, target, word_start, word_end, ip[I_NGRAM])
        if ip[I_PREF] == PREF_NONE:
            r = noisy_score(state, r, ip[I_REWARD] == EXACT, hp[F_FLIP], hp[F_NOISE])
        rewards[k] = r
        shaped[k] = r - beta_k1 * k1 - ent_est * lp_sum
        psum[k] = p_sum
        mm[MM_REWARD] += r
        mm[MM_REWARD_SQ] += r * r
        mm[MM_K1] += k1
        mm[MM_K3] += k3
        if same:
            mm[MM_HITS] += 1.0
            if first_typed < 0:
                first_typed = docs_before + k + 1
    return first_typed


@nb.njit(**KERNEL_OPTIONS)
def document_prob_sums(prob, ip, docs, psum):
    """``psum[k] = Σ_tokens π(a | row)`` of each document ``docs[k]`` (what
    :func:`type_documents` sums while typing; for a learn-only call)."""
    kind = ip[I_KIND]
    rows = ip[I_ROWS]
    base = ip[I_BASE]
    for k in range(docs.shape[0]):
        row = first_row(kind, rows)
        total = 0.0
        for i in range(docs.shape[1]):
            a = docs[k, i]
            total += prob[row, a]
            row = next_row(kind, row, a, base, rows)
        psum[k] = total


# --- noisy reviewers ----------------------------------------------------------------------

@nb.njit(**KERNEL_OPTIONS)
def normal(state):
    """A standard normal draw (Box–Muller on two uniforms; 1 − u avoids log 0)."""
    u = 1.0 - next_double(state)
    v = next_double(state)
    return math.sqrt(-2.0 * math.log(u)) * math.cos(2.0 * math.pi * v)


@nb.njit(**KERNEL_OPTIONS)
def noisy_score(state, r, binary, flip, sd):
    """The reviewer's reported score of a document whose true score is ``r``: a binary
    (exact-bananas) verdict is wrong (``1 − r``) with probability ``flip``; then Gaussian
    noise of standard deviation ``sd`` (reward units) is added. Draws nothing when both are 0."""
    if binary and flip > 0.0:
        if next_double(state) < flip:
            r = 1.0 - r
    if sd > 0.0:
        r += sd * normal(state)
    return r


@nb.njit(**KERNEL_OPTIONS)
def preference_verdict(state, ra, rb, flip):
    """One comparison by the preference reviewer: +1 if it names document a better, −1 if b;
    0 for a tie (equal true scores: reported as a tie, never flipped). A strict preference is
    wrong with probability ``flip``."""
    if ra == rb:
        return 0.0
    s = 1.0 if ra > rb else -1.0
    if flip > 0.0 and next_double(state) < flip:
        s = -s
    return s


@nb.njit(**KERNEL_OPTIONS)
def flip_estimate(base):
    """Flip rate ε̂ from repeated comparisons: two verdicts on one pair disagree with
    probability d = 2ε(1 − ε), so ε̂ = (1 − √(1 − 2d))/2 (0 before any repeat; capped at
    :data:`MAX_FLIP_ESTIMATE`)."""
    if base[B_REPEATS] <= 0.0:
        return 0.0
    d = base[B_DISAGREE] / base[B_REPEATS]
    eps = 0.5 * (1.0 - math.sqrt(max(1.0 - 2.0 * d, 0.0)))
    return min(eps, MAX_FLIP_ESTIMATE)


@nb.njit(**KERNEL_OPTIONS)
def preference_advantages(state, rewards, mode, flip, base, out):
    """Advantages of one group from pairwise preferences (``rewards[n]``, n even, the hidden
    true scores): documents ``2i`` and ``2i+1`` are compared once (one reviewer call), the
    winner gets +1 and the loser −1 (ties 0). Documents are exchangeable, so adjacent pairs
    are a random pairing. ``mode``: PREF_NAIVE uses the verdicts as they are (expected
    advantage (1 − 2ε)·sign); PREF_DEBIASED divides by (1 − 2ε) with the known ε (unbiased,
    Chowdhury, Kini & Natarajan 2024); PREF_ESTIMATED compares the first pair a second time
    (one more call), accumulates the disagreements in ``base`` and divides by (1 − 2ε̂)."""
    n = rewards.shape[0]
    first = 0.0
    for i in range(0, n - 1, 2):
        s = preference_verdict(state, rewards[i], rewards[i + 1], flip)
        if i == 0:
            first = s
        out[i] = s
        out[i + 1] = -s
    scale = 1.0
    if mode == PREF_DEBIASED:
        scale = 1.0 / (1.0 - 2.0 * flip)
    elif mode == PREF_ESTIMATED:
        again = preference_verdict(state, rewards[0], rewards[1], flip)
        if first != 0.0:  # a tie's repeat says nothing about ε
            base[B_REPEATS] += 1.0
            if again != first:
                base[B_DISAGREE] += 1.0
        scale = 1.0 / (1.0 - 2.0 * flip_estimate(base))
    if scale != 1.0:
        for j in range(n):
            out[j] *= scale


@nb.njit(**KERNEL_OPTIONS)
def advantages(state, rewards, shaped, ip, hp, base, out):
    """The group's advantages: from preferences when ``ip[I_PREF]`` asks for them, else from
    the (shaped) scores by the algorithm's baseline (:func:`group_advantages`)."""
    if ip[I_PREF] != PREF_NONE:
        preference_advantages(state, rewards, ip[I_PREF], hp[F_FLIP], base, out)
    else:
        group_advantages(shaped, ip[I_ADV], base, hp[F_GROUP_EPS], out)


# --- advantages ---------------------------------------------------------------------------

@nb.njit(**KERNEL_OPTIONS)
def baseline_value(baseline):
    """The running-mean baseline: bias-corrected EMA ``ema / weight`` (0 before any batch)."""
    if baseline[1] > 0.0:
        return baseline[0] / baseline[1]
    return 0.0


@nb.njit(**KERNEL_OPTIONS)
def baseline_update(baseline, shaped, decay):
    """Fold the mean of this batch's (shaped) rewards into the running baseline."""
    mean = 0.0
    for j in range(shaped.shape[0]):
        mean += shaped[j]
    mean /= shaped.shape[0]
    baseline[0] = decay * baseline[0] + (1.0 - decay) * mean
    baseline[1] = decay * baseline[1] + (1.0 - decay)


@nb.njit(**KERNEL_OPTIONS)
def group_advantages(shaped, adv_kind, baseline, eps, out):
    """Advantages of one group of documents (``shaped[n]`` → ``out[n]``), summed in order.

    ``ADV_BASELINE``: ``r − b`` with ``b`` from earlier batches (unbiased for any n);
    ``ADV_LOO``: ``r_j − mean of the others`` (unbiased, needs n ≥ 2);
    ``ADV_GROUP``: ``(r − mean) / (std + eps)`` with the sample std (as TRL's GRPO);
    ``ADV_MEAN``: ``r − mean`` (:func:`mean_advantages`, Dr. GRPO);
    ``ADV_BATCH``: :func:`batch_normalised_advantages` (REINFORCE++).
    """
    n = shaped.shape[0]
    if adv_kind == ADV_BASELINE:
        b = baseline_value(baseline)
        for j in range(n):
            out[j] = shaped[j] - b
        return
    if adv_kind == ADV_MEAN:
        mean_advantages(shaped, out)
        return
    if adv_kind == ADV_BATCH:
        batch_normalised_advantages(shaped, eps, out)
        return
    total = 0.0
    for j in range(n):
        total += shaped[j]
    if adv_kind == ADV_LOO:
        for j in range(n):
            out[j] = shaped[j] - (total - shaped[j]) / (n - 1)
        return
    mean = total / n
    ss = 0.0
    for j in range(n):
        ss += (shaped[j] - mean) ** 2
    std = math.sqrt(ss / (n - 1)) if n > 1 else 0.0
    for j in range(n):
        out[j] = (shaped[j] - mean) / (std + eps)


@nb.njit(**KERNEL_OPTIONS)
def mean_advantages(shaped, out):
    """Dr. GRPO (Liu et al. 2025): GRPO's group advantage ``r − mean`` without the division
    by the std (which weights groups of low reward spread up)."""
    n = shaped.shape[0]
    total = 0.0
    for j in range(n):
        total += shaped[j]
    mean = total / n
    for j in range(n):
        out[j] = shaped[j] - mean


@nb.njit(**KERNEL_OPTIONS)
def batch_normalised_advantages(shaped, eps, out):
    """REINFORCE++ (Hu 2025): ``(r − mean) / (std + eps)`` with the mean and the population
    std over the whole batch a policy learns from in one step (every token of equal-length
    documents weighs the same, so the token-level statistics are the document-level ones)."""
    n = shaped.shape[0]
    total = 0.0
    for j in range(n):
        total += shaped[j]
    mean = total / n
    ss = 0.0
    for j in range(n):
        ss += (shaped[j] - mean) ** 2
    std = math.sqrt(ss / n)
    for j in range(n):
        out[j] = (shaped[j] - mean) / (std + eps)


@nb.njit(**KERNEL_OPTIONS)
def zero_std(rewards):
    """1.0 if every reward of the group is the same (no learning signal), else 0.0."""
    for j in range(1, rewards.shape[0]):
        if rewards[j] != rewards[0]:
            return 0.0
    return 1.0


# --- gradients ----------------------------------------------------------------------------

@nb.njit(**KERNEL_OPTIONS)
def accumulate_gradient(logp, logq, ip, hp, docs, oldlp, adv, scale, first_epoch, grad, rowsum):
    """Add one monkey's documents to the ascent direction ``grad[R, A]``; returns clipped tokens.

    Per token ``a`` in row ``row`` the coefficient ``c`` of ``∇ log π(a | row)`` is the
    advantage (REINFORCE, RLOO), or ``A · ρ`` with ``ρ = π(a|row) / π_old(a|row)`` and zero
    where the PPO clip is active (GRPO, PPO); in k3 mode ``−β (1 − π_ref / π)`` is added.
    ``grad[row, a] += c · scale`` here and ``rowsum[row] += c · scale``;
    :func:`finish_gradient` subtracts ``rowsum[row] · p[row]`` once per row. In the
    ``first_epoch`` the policy is the sampling policy, so ρ = 1 exactly and is not computed.
    """
    kind = ip[I_KIND]
    rows = ip[I_ROWS]
    base = ip[I_BASE]
    clip = hp[F_CLIP] if not first_epoch else 0.0
    beta_k3 = hp[F_BETA] if ip[I_KL] == KL_K3 else 0.0
    n_docs, length = docs.shape
    clipped = 0
    for k in range(n_docs):
        a_k = adv[k]
        row = first_row(kind, rows)
        for i in range(length):
            a = docs[k, i]
            lp = logp[row, a]
            c = a_k
            if clip > 0.0:
                ratio = math.exp(lp - oldlp[k, i])
                if (a_k > 0.0 and ratio > 1.0 + clip) or (a_k < 0.0 and ratio < 1.0 - clip):
                    c = 0.0
                    clipped += 1
                else:
                    c = a_k * ratio
            if beta_k3 != 0.0:
                c += beta_k3 * math.expm1(logq[row, a] - lp)
            c *= scale
            grad[row, a] += c
            rowsum[row] += c
            row = next_row(kind, row, a, base, rows)
    return clipped


@nb.njit(**KERNEL_OPTIONS)
def finish_gradient(prob, grad, rowsum):
    """``grad[row] −= rowsum[row] · p[row]``: the ``−p`` part of ``∇ log π = e_a − p``."""
    rows, a_size = grad.shape
    for r in range(rows):
        s = rowsum[r]
        if s != 0.0:
            for a in range(a_size):
                grad[r, a] -= s * prob[r, a]


@nb.njit(**KERNEL_OPTIONS)
def row_kl_entropy(logp, prob, logq, r):
    """``(KL(π_r‖π_ref,r), H(π_r))`` of logit row ``r``, in nats."""
    kl = 0.0
    h = 0.0
    for a in range(logp.shape[1]):
        p = prob[r, a]
        kl += p * (logp[r, a] - logq[r, a])
        h -= p * logp[r, a]
    return kl, h


@nb.njit(**KERNEL_OPTIONS)
def exact_regulariser(logp, prob, logq, beta, alpha, grad):
    """Add the exact gradient of ``−β KL(π‖π_ref) + α H(π)`` of a positional policy.

    The KL and entropy factorise over positions: ``∂KL_i/∂θ_ia = p_a (log p_a − log q_a −
    KL_i)`` and ``∂H_i/∂θ_ia = −p_a (log p_a + H_i)``.
    """
    rows, a_size = grad.shape
    for r in range(rows):
        kl, h = row_kl_entropy(logp, prob, logq, r)
        for a in range(a_size):
            p = prob[r, a]
            grad[r, a] -= beta * p * (logp[r, a] - logq[r, a] - kl)
            grad[r, a] -= alpha * p * (logp[r, a] + h)


@nb.njit(**KERNEL_OPTIONS)
def grad_sq_norm(grad):
    """Squared Euclidean norm of ``grad[R, A]``, summed in order."""
    ss = 0.0
    for r in range(grad.shape[0]):
        for a in range(grad.shape[1]):
            ss += grad[r, a] * grad[r, a]
    return ss


# --- gradient noise scale -----------------------------------------------------------------

@nb.njit(**KERNEL_OPTIONS)
def row_sq_sums(prob, out):
    """``out[r] = Σ_a p[r, a]²`` for every row (once per step and policy); returns their sum."""
    total = 0.0
    for r in range(prob.shape[0]):
        s = 0.0
        for a in range(prob.shape[1]):
            s += prob[r, a] * prob[r, a]
        out[r] = s
        total += s
    return total


@nb.njit(**KERNEL_OPTIONS)
def score_sq_sum(logp, prob, psq, q_total, logq, ip, hp, docs, adv, psum):
    """``Σ_j |g_j|²`` over one monkey's documents of a *positional* policy (first epoch).

    ``g_j = Σ_i c_j,i (e_{x_j,i} − p_i)`` with the coefficient of :func:`accumulate_gradient`
    at ratio 1 (``adv_j``, plus ``β expm1(log π_ref − log π)`` in k3 mode), unscaled. Token
    ``i`` lives in row ``i`` alone, so ``|g_j|² = Σ_i c_j,i² (1 − 2 p_i[x_j,i] + psq[i])``
    with ``psq`` and ``q_total = Σ_i psq[i]`` from :func:`row_sq_sums`; without k3
    ``c_j,i = adv_j`` and this is ``adv_j² (L + q_total − 2 psum[j])`` with ``psum`` from
    :func:`type_documents`.
    """
    beta_k3 = hp[F_BETA] if ip[I_KL] == KL_K3 else 0.0
    n_docs, length = docs.shape
    total = 0.0
    if beta_k3 != 0.0:
        for k in range(n_docs):
            a_k = adv[k]
            for i in range(length):
                a = docs[k, i]
                c = a_k + beta_k3 * math.expm1(logq[i, a] - logp[i, a])
                total += c * c * (1.0 - 2.0 * prob[i, a] + psq[i])
        return total
    base = length + q_total
    for k in range(n_docs):
        total += adv[k] * adv[k] * (base - 2.0 * psum[k])
    return total


@nb.njit(**KERNEL_OPTIONS)
def noise_estimates(s1, s2, n, pm):
    """McCandlish's unbiased ``|G|²`` and ``tr Σ`` from one group of ``n`` documents.

    ``s1 = Σ_j |g_j|²`` (batches of one), ``s2 = |mean_j g_j|²`` (the batch of n):
    ``|G|² ≈ (n s2 − s1/n)/(n − 1)``, ``tr Σ ≈ (s1/n − s2)/(1 − 1/n)``; NaN if ``n < 2``.
    """
    if n < 2:
        pm[PM_GRAD_SQ] = np.nan
        pm[PM_TRACE_SIGMA] = np.nan
        return
    small = s1 / n
    pm[PM_GRAD_SQ] = (n * s2 - small) / (n - 1)
    pm[PM_TRACE_SIGMA] = (small - s2) / (1.0 - 1.0 / n)


@nb.njit(**KERNEL_OPTIONS)
def sgd_row(theta, grad, r, lr):
    """Gradient ascent on row ``r``: ``θ[r] += lr · g[r]``."""
    for a in range(theta.shape[1]):
        theta[r, a] += lr * grad[r, a]


@nb.njit(**KERNEL_OPTIONS)
def sgd_update(theta, grad, lr):
    """Gradient ascent: ``θ += lr · g`` (row by row, :func:`sgd_row`)."""
    for r in range(theta.shape[0]):
        sgd_row(theta, grad, r, lr)


@nb.njit(**KERNEL_OPTIONS)
def adam_row(theta, grad, m, v, r, lr, b1, b2, eps, bc1, bc2):
    """Adam ascent on row ``r`` with moments ``m``, ``v`` and bias corrections ``bc1 = 1 −
    b1**t``, ``bc2 = 1 − b2**t`` of step number ``t`` (≥ 1)."""
    for a in range(theta.shape[1]):
        g = grad[r, a]
        m[r, a] = b1 * m[r, a] + (1.0 - b1) * g
        v[r, a] = b2 * v[r, a] + (1.0 - b2) * g * g
        theta[r, a] += lr * (m[r, a] / bc1) / (math.sqrt(v[r, a] / bc2) + eps)


@nb.njit(**KERNEL_OPTIONS)
def update_tables(theta, grad, opt_m, opt_v, t, ip, hp, logp, prob, cdf, logq, greedy):
    """The optimiser's ascent step number ``t`` on ``grad[R, A]`` (SGD ``θ += lr · g`` or
    Adam), fused row by row with the new tables (:func:`row_tables`) and, for a positional
    policy, each row's greedy key into ``greedy[L]`` (:func:`row_argmax`) and its exact KL /
    entropy (:func:`row_kl_entropy`). Returns ``(Σ g², Σ p², KL, H)``, each summed over rows
    in order as :func:`grad_sq_norm`, :func:`policy_tables` and :func:`exact_kl_entropy` do
    (KL and H 0 for a context policy, whose statistics follow the chain of rows)."""
    positional = ip[I_KIND] == POSITIONAL
    adam = ip[I_OPT] == OPT_ADAM
    lr = hp[F_LR]
    b1 = hp[F_B1]
    b2 = hp[F_B2]
    bc1 = 1.0 - b1 ** t
    bc2 = 1.0 - b2 ** t
    g2 = 0.0
    q = 0.0
    kl = 0.0
    h = 0.0
    for r in range(theta.shape[0]):
        for a in range(theta.shape[1]):
            g2 += grad[r, a] * grad[r, a]
        if adam:
            adam_row(theta, grad, opt_m, opt_v, r, lr, b1, b2, hp[F_ADAM_EPS], bc1, bc2)
        else:
            sgd_row(theta, grad, r, lr)
        q += row_tables(theta, logp, prob, cdf, r)
        if positional:
            greedy[r] = row_argmax(logp, r)
            row_kl, row_h = row_kl_entropy(logp, prob, logq, r)
            kl += row_kl
            h += row_h
    return g2, q, kl, h


@nb.njit(**KERNEL_OPTIONS)
def apply_gradient(theta, grad, opt_m, opt_v, t, ip, hp, logp, prob, cdf, logq, greedy, dry,
                   first, s1, n, pm):
    """Ascend on one epoch's direction ``grad[R, A]`` (gradient of the documents, finished):
    add the exact regulariser of a positional policy, then (unless ``dry``) the optimiser's
    step ``t`` with the new tables (:func:`update_tables`). In the ``first`` epoch also the
    noise estimates of the group of ``n`` documents (``s1``; ``n = 0``: NaN) and the gradient
    norm into ``pm``. Returns ``(Σ p², KL, H)`` of :func:`update_tables` (zeros if dry)."""
    regularise = ip[I_KIND] == POSITIONAL and (
        (ip[I_KL] == KL_EXACT and hp[F_BETA] != 0.0) or hp[F_ENTROPY] != 0.0)
    s2 = 0.0
    if regularise:
        if first:
            s2 = grad_sq_norm(grad)
        beta = hp[F_BETA] if ip[I_KL] == KL_EXACT else 0.0
        exact_regulariser(logp, prob, logq, beta, hp[F_ENTROPY], grad)
    q = kl = h = 0.0
    if dry:
        g2 = grad_sq_norm(grad)
    else:
        g2, q, kl, h = update_tables(theta, grad, opt_m, opt_v, t, ip, hp, logp, prob, cdf,
                                     logq, greedy)
    if first:
        noise_estimates(s1, s2 if regularise else g2, n, pm)
        pm[PM_GRAD_NORM] = math.sqrt(g2)
    return q, kl, h


# --- exact policy statistics --------------------------------------------------------------

@nb.njit(**KERNEL_OPTIONS)
def row_argmax(logp, r):
    """The greedy key of row ``r``: the first of the largest ``logp[r]`` (branch-free)."""
    best = 0
    top = logp[r, 0]
    for a in range(1, logp.shape[1]):
        x = logp[r, a]
        better = x > top
        best = a if better else best
        top = x if better else top
    return best


@nb.njit(**KERNEL_OPTIONS)
def greedy_document(logp, kind, rows, base, out):
    """The greedy (argmax, lowest key on ties) document of a policy into ``out`` (uint8[L])."""
    row = first_row(kind, rows)
    for i in range(out.shape[0]):
        best = row_argmax(logp, row)
        out[i] = best
        row = next_row(kind, row, best, base, rows)


@nb.njit(**KERNEL_OPTIONS)
def exact_kl_entropy(logp, prob, logq, kind, rows, base, length):
    """Exact sequence ``KL(π‖π_ref)`` and entropy ``H(π)`` in nats, as a tuple.

    Positional: sums over positions. Context: the distribution over context rows is carried
    forward position by position, ``Σ_i Σ_row P(row at i) · KL_row`` (chain rule).
    """
    a_size = logp.shape[1]
    if kind == POSITIONAL:
        kl = 0.0
        h = 0.0
        for r in range(length):
            row_kl, row_h = row_kl_entropy(logp, prob, logq, r)
            kl += row_kl
            h += row_h
        return kl, h
    row_kl = np.empty(rows)
    row_h = np.empty(rows)
    for r in range(rows):
        row_kl[r], row_h[r] = row_kl_entropy(logp, prob, logq, r)
    dist = np.zeros(rows)
    new = np.zeros(rows)
    dist[rows - 1] = 1.0
    kl = 0.0
    h = 0.0
    shift = rows % base == 0  # n ≥ 2: row r's successors are the a_size rows from (r·base) % rows
    for _ in range(length):
        new[:] = 0.0
        for r in range(rows):
            w = dist[r]
            if w == 0.0:
                continue
            kl += w * row_kl[r]
            h += w * row_h[r]
            if shift:
                nxt = (r * base) % rows
                for a in range(a_size):
                    new[nxt + a] += w * prob[r, a]
            else:
                for a in range(a_size):
                    new[(r * base + a) % rows] += w * prob[r, a]
        dist, new = new, dist
    return kl, h


@nb.njit(**KERNEL_OPTIONS)
def policy_metrics(logp, prob, logq, ip, target, greedy, kl, h, pm):
    """Greedy document, its correct keys, exact KL and entropy into ``pm``; True if solved.

    A positional policy's greedy document and ``kl``, ``h`` are given (from
    :func:`update_tables`); a context policy's are computed here (KL and entropy only with
    ``ip[I_TRACK_KL]``, else NaN).
    """
    kind = ip[I_KIND]
    length = target.shape[0]
    if kind != POSITIONAL:
        greedy_document(logp, kind, ip[I_ROWS], ip[I_BASE], greedy)
        if ip[I_TRACK_KL] != 0:
            kl, h = exact_kl_entropy(logp, prob, logq, kind, ip[I_ROWS], ip[I_BASE], length)
        else:
            kl = h = np.nan
    correct = 0
    for i in range(length):
        if greedy[i] == target[i]:
            correct += 1
    pm[PM_GREEDY] = correct
    pm[PM_KL] = kl
    pm[PM_ENTROPY] = h
    return correct == length


@nb.njit(**KERNEL_OPTIONS)
def ema_ratio(num, den, decay, out):
    """``out[t] = EMA(num)[t] / EMA(den)[t]`` over steps ``0..t``, both EMAs (decay ``decay``)
    bias-corrected by ``1 − decay**(t+1)``; NaN where the smoothed ``den`` is 0."""
    en = 0.0
    ed = 0.0
    w = 0.0
    for t in range(num.shape[0]):
        en = decay * en + (1.0 - decay) * num[t]
        ed = decay * ed + (1.0 - decay) * den[t]
        w = decay * w + (1.0 - decay)
        out[t] = (en / w) / (ed / w) if ed != 0.0 else np.nan


# --- drivers ------------------------------------------------------------------------------

@nb.njit(**PARALLEL_OPTIONS)
def train_independent(ip, hp, steps, theta, opt_m, opt_v, opt_t, logp, prob, cdf, logq, qprob,
                      states, target, word_start, word_end, baseline, docs, rewards, shaped, adv,
                      oldlp, grad, rowsum, greedy, mm, pm, first_typed, first_solved):
    """``steps`` training steps of ``M`` independent monkeys, monkey ``m`` owning policy ``m``.

    Shapes: ``theta, opt_m, opt_v, logp, prob, cdf, grad: [M, R, A]``, ``rowsum: [M, R]``,
    ``opt_t: int64[M]``, ``states: uint64[M, 4]``, ``baseline: [M, N_BASE]``,
    ``docs: uint8[M, K, L]``, ``rewards, shaped, adv: [M, K]``, ``oldlp: [M, K, L]``,
    ``greedy: uint8[M, L]``, ``mm: [steps, M, N_MM]``, ``pm: [steps, M, N_PM]``,
    ``first_typed: int64[M]`` (1-based document count, −1 none), ``first_solved: int64[M]``
    (1-based step, −1 none). ``logp``/``prob``/``cdf`` must hold the tables of ``theta`` on
    entry and hold them on exit. With ``ip[I_DRY]`` set, one step computes ``grad`` (the first-epoch
    ascent direction) without updating anything.
    """
    n_monkeys = states.shape[0]
    n_docs = docs.shape[1]
    epochs = ip[I_EPOCHS]
    dry = ip[I_DRY] != 0
    exact_reg = ip[I_KIND] == POSITIONAL
    k3_mode = ip[I_KL] == KL_K3 and hp[F_BETA] != 0.0
    scale = 1.0 / n_docs
    for m in nb.prange(n_monkeys):
        psq = np.empty(theta.shape[1] if exact_reg else 0)
        psum = np.empty(n_docs)
        # Σ p² of the tables on entry; update_tables renews it
        q = row_sq_sums(prob[m], psq) if exact_reg else 0.0
        kl = h = 0.0
        for s in range(steps):
            step = ip[I_STEP0] + s
            if ip[I_PHASE] == PHASE_LEARN:
                document_prob_sums(prob[m], ip, docs[m], psum)
            else:
                first_typed[m] = type_documents(
                    states[m], logp[m], prob[m], cdf[m], logq, qprob, ip, hp, target,
                    word_start, word_end, docs[m], rewards[m], shaped[m], oldlp[m], mm[s, m],
                    step * n_docs, first_typed[m], psum)
                if ip[I_PHASE] == PHASE_TYPE:
                    break
            pm[s, m, PM_ZERO_STD] = zero_std(rewards[m])
            advantages(states[m], rewards[m], shaped[m], ip, hp, baseline[m], adv[m])
            for e in range(epochs):
                grad[m, :, :] = 0.0
                rowsum[m, :] = 0.0
                mm[s, m, MM_CLIPPED] += accumulate_gradient(
                    logp[m], logq, ip, hp, docs[m], oldlp[m], adv[m], scale, e == 0, grad[m],
                    rowsum[m])
                finish_gradient(prob[m], grad[m], rowsum[m])
                s1 = 0.0
                if e == 0 and exact_reg:
                    if k3_mode:
                        row_sq_sums(prob[m], psq)
                    s1 = score_sq_sum(logp[m], prob[m], psq, q, logq, ip, hp, docs[m], adv[m],
                                      psum)
                if not dry:
                    opt_t[m] += 1
                q, kl, h = apply_gradient(
                    theta[m], grad[m], opt_m[m], opt_v[m], opt_t[m], ip, hp, logp[m], prob[m],
                    cdf[m], logq, greedy[m], dry, e == 0, s1, n_docs if exact_reg else 0,
                    pm[s, m])
                if dry:
                    break
            if dry:
                break
            baseline_update(baseline[m], shaped[m], hp[F_DECAY])
            if policy_metrics(logp[m], prob[m], logq, ip, target, greedy[m], kl, h, pm[s, m]):
                if first_solved[m] < 0:
                    first_solved[m] = step + 1


@nb.njit(**PARALLEL_OPTIONS)
def train_troop(ip, hp, steps, theta, opt_m, opt_v, opt_t, logp, prob, cdf, logq, qprob,
                states, target, word_start, word_end, baseline, docs, rewards, shaped, adv,
                oldlp, grad, rowsum, greedy, mm, pm, first_typed, first_solved):
    """``steps`` training steps of a troop: ``M`` monkeys sharing one policy (index 0).

    Same arrays as :func:`train_independent` but with one policy (``theta[1, R, A]`` …,
    ``pm[steps, 1, N_PM]``) and gradient buffers for ``S = ceil(M / chunk)`` fixed chunks of
    monkeys (``grad[S, R, A]``, ``rowsum[S, R]``). The group is the whole troop's ``M · K``
    documents; each chunk sums its monkeys' gradients in order, the chunks are summed in
    order into ``grad[0]``.
    """
    n_monkeys = states.shape[0]
    n_docs = docs.shape[1]
    n_slots = grad.shape[0]
    chunk = ip[I_CHUNK]
    rows = theta.shape[1]
    epochs = ip[I_EPOCHS]
    dry = ip[I_DRY] != 0
    exact_reg = ip[I_KIND] == POSITIONAL
    total_docs = n_monkeys * n_docs
    scale = 1.0 / total_docs
    flat_shaped = shaped.reshape(total_docs)
    flat_rewards = rewards.reshape(total_docs)
    flat_adv = adv.reshape(total_docs)
    k3_mode = ip[I_KL] == KL_K3 and hp[F_BETA] != 0.0
    psq = np.empty(rows if exact_reg else 0)
    psum = np.empty((n_monkeys, n_docs))
    slot_s1 = np.zeros(n_slots)
    # Σ p² of the tables on entry; update_tables renews it
    q = row_sq_sums(prob[0], psq) if exact_reg else 0.0
    kl = h = 0.0
    for s in range(steps):
        step = ip[I_STEP0] + s
        for m in nb.prange(n_monkeys):
            if ip[I_PHASE] == PHASE_LEARN:
                document_prob_sums(prob[0], ip, docs[m], psum[m])
                continue
            first_typed[m] = type_documents(
                states[m], logp[0], prob[0], cdf[0], logq, qprob, ip, hp, target, word_start,
                word_end, docs[m], rewards[m], shaped[m], oldlp[m], mm[s, m], step * n_docs,
                first_typed[m], psum[m])
        if ip[I_PHASE] == PHASE_TYPE:
            break
        pm[s, 0, PM_ZERO_STD] = zero_std(flat_rewards)
        advantages(states[0], flat_rewards, flat_shaped, ip, hp, baseline[0], flat_adv)
        for e in range(epochs):
            noise = e == 0 and exact_reg
            if noise and k3_mode:
                row_sq_sums(prob[0], psq)
            for sl in nb.prange(n_slots):
                grad[sl, :, :] = 0.0
                rowsum[sl, :] = 0.0
                slot_s1[sl] = 0.0
                for m in range(sl * chunk, min((sl + 1) * chunk, n_monkeys)):
                    mm[s, m, MM_CLIPPED] += accumulate_gradient(
                        logp[0], logq, ip, hp, docs[m], oldlp[m], adv[m], scale, e == 0,
                        grad[sl], rowsum[sl])
                    if noise:
                        slot_s1[sl] += score_sq_sum(logp[0], prob[0], psq, q, logq, ip, hp,
                                                    docs[m], adv[m], psum[m])
                finish_gradient(prob[0], grad[sl], rowsum[sl])
            for r in nb.prange(rows):
                for sl in range(1, n_slots):
                    for a in range(grad.shape[2]):
                        grad[0, r, a] += grad[sl, r, a]
            s1 = 0.0
            if noise:
                for sl in range(n_slots):
                    s1 += slot_s1[sl]
            if not dry:
                opt_t[0] += 1
            q, kl, h = apply_gradient(
                theta[0], grad[0], opt_m[0], opt_v[0], opt_t[0], ip, hp, logp[0], prob[0], cdf[0],
                logq, greedy[0], dry, e == 0, s1, total_docs if exact_reg else 0, pm[s, 0])
            if dry:
                break
        if dry:
            break
        baseline_update(baseline[0], flat_shaped, hp[F_DECAY])
        if policy_metrics(logp[0], prob[0], logq, ip, target, greedy[0], kl, h, pm[s, 0]):
            if first_solved[0] < 0:
                first_solved[0] = step + 1


# --- helpers for the public policy API ----------------------------------------------------

@nb.njit(**PARALLEL_OPTIONS)
def all_tables(theta, logp, prob, cdf):
    """Tables of every policy of ``theta[P, R, A]``."""
    for p in nb.prange(theta.shape[0]):
        policy_tables(theta[p], logp[p], prob[p], cdf[p])


@nb.njit(**PARALLEL_OPTIONS)
def sample_batch(states, cdf, kind, rows, base, docs):
    """Policy ``p`` types ``docs[p, K, L]`` from stream ``states[p]`` (parallel over p)."""
    for p in nb.prange(docs.shape[0]):
        for k in range(docs.shape[1]):
            sample_document(states[p], cdf[p], kind, rows, base, docs[p, k])


@nb.njit(**PARALLEL_OPTIONS)
def log_prob_batch(logp, kind, rows, base, docs, out):
    """``out[p, k] = log π_p(docs[p, k])``."""
    for p in nb.prange(docs.shape[0]):
        for k in range(docs.shape[1]):
            out[p, k] = document_log_prob(logp[p], kind, rows, base, docs[p, k])


@nb.njit(**PARALLEL_OPTIONS)
def greedy_batch(logp, kind, rows, base, out):
    """Greedy document of every policy into ``out[P, L]``."""
    for p in nb.prange(logp.shape[0]):
        greedy_document(logp[p], kind, rows, base, out[p])


@nb.njit(**PARALLEL_OPTIONS)
def kl_entropy_batch(logp, prob, logq, kind, rows, base, length, kl_out, h_out):
    """Exact KL(π_p‖π_ref) and H(π_p) of every policy."""
    for p in nb.prange(logp.shape[0]):
        kl, h = exact_kl_entropy(logp[p], prob[p], logq, kind, rows, base, length)
        kl_out[p] = kl
        h_out[p] = h
