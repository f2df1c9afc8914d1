"""Plain-Python reference of the auto troop's per-step rule (monkeysim.learn.auto_troop):
the smoothed noise scale and the choice of N and ε, written out without numpy or numba."""

import math


def ema_ratios(num, den, decay=0.9):
    """Bias-corrected EMA(num)[t] / EMA(den)[t] for every t (NaN where EMA(den) is 0), and
    the EMA of den itself."""
    en = ed = w = 0.0
    out, dens = [], []
    for x, y in zip(num, den, strict=True):
        en = decay * en + (1.0 - decay) * x
        ed = decay * ed + (1.0 - decay) * y
        w = decay * w + (1.0 - decay)
        out.append((en / w) / (ed / w) if ed != 0.0 else math.nan)
        dens.append(ed)
    return out, dens


def noise_for_next_step(grad_sq, trace_sigma, zero_std_last):
    """The B̂ the rule uses before the next step: the largest defined smoothed ratio so far
    (defined: finite, > 0, and the smoothed |G|² of the last step > 0), NaN if none or if the
    last step carried no signal."""
    if zero_std_last:
        return math.nan
    ratios, _ = ema_ratios(trace_sigma, grad_sq)
    ok = [b for b in ratios if math.isfinite(b) and b > 0]
    return max(ok) if ok else math.nan


def first_step(grad_norm, length, b1, b0, jump=2.5):
    """(ε₁, c): the first step moves the logits of a position by ``jump`` in root-mean-square,
    ε₁ = jump · sqrt(L) / |G|, read as the knee's ε(B₁) = ε_max / (1 + B₀/B₁), so c = ε_max / B₀
    = ε₁ · (1/B₁ + 1/B₀); B₀ undefined (NaN, ≤ 0, inf): B₀ = B₁."""
    eps = jump * math.sqrt(length) / grad_norm
    if not (b0 == b0 and 0 < b0 < math.inf):
        b0 = b1
    return eps, eps * (1.0 / b1 + 1.0 / b0)


def step_choice(b, batch, max_monkeys, prev_monkeys, prev_lr, per_doc, share=0.9):
    """(N, ε) of the rule: N = round(share · b / batch), the knee's ε at N · batch documents."""
    if not (b == b and b > 0 and b != math.inf):
        return min(2 * prev_monkeys, max_monkeys), prev_lr
    n = int(share * b / batch + 0.5)
    n = max(1, min(n, max_monkeys))
    if per_doc is None:
        return n, prev_lr
    eps_max = per_doc * b
    return n, eps_max / (1.0 + b / (n * batch))


def trust(lr, grad_norm, length, jump, cap=2.0):
    """The step size applied: the rule's lr, or less so that the root-mean-square logit change
    per position, lr · |G| / sqrt(L), is at most cap · jump."""
    if not grad_norm > 0:
        return lr
    largest = cap * jump * math.sqrt(length) / grad_norm
    return lr if lr <= largest else largest
