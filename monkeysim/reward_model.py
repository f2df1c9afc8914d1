"""A learned reviewer: a Bradley–Terry reward model on hashed character n-grams.

RLHF does not optimise the real reviewer (the *gold* reward) directly; it fits a *reward
model* (the *proxy*) to pairwise preferences and optimises that. Here:

- **features** ``φ(doc)``: every character n-gram of the document for ``n`` in
  ``orders``, hashed into ``buckets`` bins; a bin holds the share of the document's n-grams
  of that order that fall in it (so each order contributes a unit of mass). Hash collisions
  make unrelated n-grams share a weight — one of the ways the proxy disagrees with the gold.
- **model** ``r(doc) = w · φ(doc)`` (linear; no bias, which Bradley–Terry cannot identify);
  ``P(chosen ≻ rejected) = σ(r(chosen) − r(rejected))``.
- **loss** ``mean −log σ(r(chosen) − r(rejected)) + (λ/2)‖w‖²``, minimised by damped Newton
  steps in numpy (convex, so the result depends only on the data; no random initialisation).
- **preferences** (:func:`preference_pairs`): random pairs of documents, the one with the
  higher gold score is *chosen*, and with probability ``noise`` the label is flipped (a
  careless labeller); pairs the gold scores tie are dropped.

The fitted model is standardised on its training documents (mean 0, standard deviation 1),
which changes no preference, so its rewards are on a fixed scale for RL step sizes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .errors import InvalidInput, positive_int, require
from .rng import STREAMS, check_seed, numpy_generator

PAIR_STREAM = STREAMS["preference_pairs"]  # the preference pairs and their label noise
_MULT = np.uint64(0x9E3779B97F4A7C15)  # 64-bit golden-ratio hash multiplier


def check_noise(noise) -> float:
    """A label-noise rate in [0, 1], else InvalidInput."""
    try:
        x = float(noise)
    except (TypeError, ValueError):
        raise InvalidInput(f"label noise rate must be a number in [0, 1], got {noise!r}") from None
    if not (0.0 <= x <= 1.0):
        raise InvalidInput(f"label noise rate {noise!r} is outside [0, 1]")
    return x


def _check_docs(docs, alphabet_size: int | None = None) -> np.ndarray:
    docs = np.ascontiguousarray(docs, dtype=np.uint8)
    require(docs.ndim == 2 and docs.shape[0] >= 1 and docs.shape[1] >= 1,
            f"documents have shape {docs.shape}; expected (N ≥ 1, L ≥ 1)")
    if alphabet_size is not None:
        require(int(docs.max()) < alphabet_size,
                f"document codes must be below the alphabet size {alphabet_size}")
    return docs


def hashed_features(docs, alphabet_size: int, orders=(1, 2, 3), buckets: int = 256) -> np.ndarray:
    """Hashed character n-gram shares ``φ``: float64[N, buckets] of documents uint8[N, L].

    For each ``n`` in ``orders`` (capped at L) the ``L − n + 1`` n-grams are written in base
    ``A + 1``, mixed with ``n``, hashed (multiply-shift) into ``buckets`` bins and counted; each
    order's counts are divided by its number of n-grams.
    """
    a = positive_int(alphabet_size, "alphabet size")
    b = positive_int(buckets, "hash buckets")
    docs = _check_docs(docs, a)
    n_docs, length = docs.shape
    out = np.zeros((n_docs, b))
    shift = np.uint64(64 - max(1, math.ceil(math.log2(b))))
    base = np.uint64(a + 1)
    rows = np.arange(n_docs)[:, None]
    for order in orders:
        g = min(positive_int(order, "n-gram order"), length)
        m = length - g + 1
        code = np.full((n_docs, m), np.uint64(g), dtype=np.uint64)
        for j in range(g):
            code = code * base + docs[:, j:j + m].astype(np.uint64) + np.uint64(1)
        h = ((code * _MULT) >> shift).astype(np.int64) % b
        flat = (rows * b + h).ravel()
        out += np.bincount(flat, minlength=n_docs * b).reshape(n_docs, b) / m
    return out


def text_features(strings, orders=(1, 2, 3), buckets: int = 256) -> np.ndarray:
    """:func:`hashed_features` of Python strings of any lengths (their UTF-8 bytes, A = 256):
    float64[len(strings), buckets]. Used for ``query + response`` texts of different lengths."""
    rows = []
    for s in strings:
        require(isinstance(s, str) and len(s) > 0, f"texts must be non-empty strings, got {s!r}")
        codes = np.frombuffer(s.encode("utf-8"), dtype=np.uint8)[None]
        rows.append(hashed_features(codes, 256, orders, buckets)[0])
    require(len(rows) > 0, "no texts to featurise")
    return np.array(rows)


def bt_loss_grad(w: np.ndarray, diff: np.ndarray, l2: float) -> tuple[float, np.ndarray]:
    """Bradley–Terry loss and gradient at weights ``w`` for feature differences
    ``diff[P, D] = φ(chosen) − φ(rejected)``: ``mean −log σ(diff·w) + (l2/2)‖w‖²``."""
    z = diff @ w
    loss = float(np.mean(np.logaddexp(0.0, -z)) + 0.5 * l2 * (w @ w))
    s = 0.5 * (1.0 + np.tanh(-0.5 * z))  # σ(−z) = 1 − σ(z), stable
    grad = -(diff.T @ s) / diff.shape[0] + l2 * w
    return loss, grad


def fit_bradley_terry(diff: np.ndarray, l2: float = 1e-3, max_iter: int = 50,
                      tol: float = 1e-10) -> tuple[np.ndarray, float, int]:
    """Minimise the Bradley–Terry loss by damped Newton steps (backtracking on the loss).

    Returns ``(w, final loss, iterations)``. Deterministic: starts from ``w = 0``.
    """
    require(l2 > 0 and math.isfinite(l2), f"L2 penalty must be a positive number, got {l2!r}")
    n, d = diff.shape
    w = np.zeros(d)
    loss, grad = bt_loss_grad(w, diff, l2)
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007 - it is returned
        p = 1.0 / (1.0 + np.exp(-(diff @ w)))
        hess = (diff.T * (p * (1.0 - p))) @ diff / n + l2 * np.eye(d)
        step = np.linalg.solve(hess, grad)
        t = 1.0
        while True:
            new_w = w - t * step
            new_loss, new_grad = bt_loss_grad(new_w, diff, l2)
            if new_loss <= loss - 1e-4 * t * (grad @ step) or t < 1e-8:
                break
            t *= 0.5
        done = loss - new_loss < tol
        w, loss, grad = new_w, new_loss, new_grad
        if done:
            break
    return w, loss, it


@dataclass(frozen=True, eq=False)
class RewardModel:
    """A fitted linear Bradley–Terry reward model over hashed n-gram features.

    Attributes:
        weights: float64[buckets], already divided by ``scale``.
        alphabet_size: A of the documents it reads.
        orders: n-gram orders of the features.
        offset: subtracted after ``w · φ`` so training documents have mean reward 0.
    """

    weights: np.ndarray = field(repr=False)
    alphabet_size: int
    orders: tuple[int, ...] = (1, 2, 3)
    offset: float = 0.0

    @property
    def buckets(self) -> int:
        return int(self.weights.shape[0])

    def features(self, docs) -> np.ndarray:
        return hashed_features(docs, self.alphabet_size, self.orders, self.buckets)

    def score_batch(self, docs) -> np.ndarray:
        """Proxy rewards float64[N] of encoded documents uint8[N, L]."""
        return self.features(docs) @ self.weights - self.offset

    def prefer_prob(self, chosen, rejected) -> np.ndarray:
        """``σ(r(chosen) − r(rejected))`` per pair."""
        z = self.score_batch(chosen) - self.score_batch(rejected)
        return 1.0 / (1.0 + np.exp(-z))


def preference_pairs(docs, gold: np.ndarray, pairs: int, noise: float = 0.0,
                     seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random pairs of ``docs`` labelled by the gold scores, with label noise.

    Returns ``(chosen_idx, rejected_idx, clean)``: indices into ``docs`` and a bool array,
    True where the label agrees with the gold (not flipped). Pairs of equal gold score are
    dropped, so fewer than ``pairs`` may come back.
    """
    docs = _check_docs(docs)
    gold = np.asarray(gold, dtype=float)
    require(gold.shape == (docs.shape[0],), f"gold scores have shape {gold.shape}; expected "
            f"({docs.shape[0]},)")
    k = positive_int(pairs, "preference pairs")
    noise = check_noise(noise)
    rng = numpy_generator(check_seed(seed), 0, PAIR_STREAM)
    i = rng.integers(0, docs.shape[0], size=k)
    j = rng.integers(0, docs.shape[0], size=k)
    flip = rng.random(k) < noise
    keep = gold[i] != gold[j]
    i, j, flip = i[keep], j[keep], flip[keep]
    better_i = gold[i] > gold[j]
    chosen_clean = np.where(better_i, i, j)
    rejected_clean = np.where(better_i, j, i)
    chosen = np.where(flip, rejected_clean, chosen_clean)
    rejected = np.where(flip, chosen_clean, rejected_clean)
    return chosen, rejected, ~flip


@dataclass(frozen=True)
class RMReport:
    """How well a reward model agrees with held-out preferences.

    Attributes:
        train_accuracy: share of training pairs (noisy labels) ranked as labelled.
        heldout_accuracy: share of held-out pairs ranked as the gold reviewer ranks them.
        heldout_label_accuracy: the same against the (noisy) held-out labels.
        heldout_loss: mean −log σ on the held-out labels, nats.
        calibration: rows ``(mean predicted P(chosen ≻ rejected), observed share, pairs)`` of
            10 equal-width bins of the prediction, over held-out pairs in both orders.
        ece: expected calibration error (pair-weighted mean |predicted − observed|).
        train_pairs, heldout_pairs: pairs used (after dropping gold ties).
    """

    train_accuracy: float
    heldout_accuracy: float
    heldout_label_accuracy: float
    heldout_loss: float
    calibration: list[tuple[float, float, int]]
    ece: float
    train_pairs: int
    heldout_pairs: int


def calibration_table(prob: np.ndarray, label: np.ndarray, bins: int = 10):
    """Reliability rows and ECE of predictions ``prob`` of binary outcomes ``label``."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.searchsorted(edges, prob, side="right") - 1, 0, bins - 1)
    table = []
    ece = 0.0
    for b in range(bins):
        sel = which == b
        k = int(sel.sum())
        if k == 0:
            continue
        pm, obs = float(prob[sel].mean()), float(label[sel].mean())
        table.append((pm, obs, k))
        ece += k * abs(pm - obs)
    return table, ece / max(1, len(prob))


def train_reward_model(docs, gold, alphabet_size: int, *, pairs: int = 2000,
                       heldout: float = 0.25, noise: float = 0.0, orders=(1, 2, 3),
                       buckets: int = 256, l2: float = 1e-3,
                       seed: int = 0) -> tuple[RewardModel, RMReport]:
    """Fit a Bradley–Terry reward model to gold-labelled preferences between ``docs``.

    ``pairs`` random pairs are labelled (see :func:`preference_pairs`); the last ``heldout``
    share of them is kept out of the fit and used for the report. Deterministic per seed.
    """
    docs = _check_docs(docs, positive_int(alphabet_size, "alphabet size"))
    require(docs.shape[0] >= 2, "the reward model needs at least 2 documents to compare")
    require(0.0 < float(heldout) < 1.0, f"held-out share {heldout!r} must be in (0, 1)")
    noise = check_noise(noise)
    gold = np.asarray(gold, dtype=float)
    chosen, rejected, clean = preference_pairs(docs, gold, pairs, noise, seed)
    n_test = int(round(len(chosen) * float(heldout)))
    n_train = len(chosen) - n_test
    require(n_train >= 1 and n_test >= 1, f"only {len(chosen)} preference pairs with distinct "
            "gold scores; give more pairs or documents")
    phi = hashed_features(docs, alphabet_size, orders, buckets)
    diff = phi[chosen] - phi[rejected]
    w, _, _ = fit_bradley_terry(diff[:n_train], l2=l2)
    raw = phi @ w
    scale = float(raw.std()) or 1.0
    model = RewardModel(w / scale, int(alphabet_size), tuple(int(o) for o in orders),
                        float(raw.mean() / scale))
    z = diff @ w
    zt = z[n_train:]
    test_clean = clean[n_train:]
    agree_gold = np.where(test_clean, zt > 0, zt < 0)
    prob = 1.0 / (1.0 + np.exp(-zt))
    both_p = np.concatenate([prob, 1.0 - prob])  # each pair in both orders: symmetric bins
    both_y = np.concatenate([np.ones(n_test), np.zeros(n_test)])
    table, ece = calibration_table(both_p, both_y)
    report = RMReport(
        train_accuracy=float(np.mean(z[:n_train] > 0)),
        heldout_accuracy=float(np.mean(agree_gold)),
        heldout_label_accuracy=float(np.mean(zt > 0)),
        heldout_loss=float(np.mean(np.logaddexp(0.0, -zt))),
        calibration=table, ece=float(ece), train_pairs=n_train, heldout_pairs=n_test)
    return model, report


def gao_curve(d: np.ndarray, alpha: float, beta: float, form: str) -> np.ndarray:
    """Gao et al.'s gold-reward gain at ``d = √KL``: ``α d − β d²`` (``bon``, best-of-n) or
    ``α d − β d log d`` (``rl``); ``d``: array of √nats."""
    d = np.asarray(d, dtype=float)
    second = d * d if form == "bon" else d * np.log(np.where(d > 0, d, 1.0))
    return alpha * d - beta * second
