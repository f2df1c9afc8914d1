"""Character policies: positional and context (n-gram), one per monkey or one per troop.

A policy types documents of ``L`` keys from an alphabet of ``A`` keys. Its parameters are
logits ``θ[R, A]``; the key at position ``i`` is drawn from ``softmax(θ[row])`` where

- **positional** policy: ``row = i`` (``R = L``): one categorical per position of the
  document. θ = 0 is the uniform random monkey.
- **context** (n-gram) policy: ``row`` = the last ``n − 1`` keys (positions before the
  start of the document count as a start symbol), ``R = (A + 1) ** (n − 1)``. ``n = 1`` is a
  single categorical for every key; a larger ``n`` can be pretrained by counting a text
  (:meth:`CharPolicy.pretrained`) and used as the "pretrained model" and KL reference.

A :class:`CharPolicy` holds ``P`` policies of the same shape (``theta[P, R, A]``): one per
independent monkey, or ``P = 1`` for a troop. Sampling, log-probabilities, greedy documents,
exact KL and entropy run in numba kernels (:mod:`monkeysim._kernels.policy`), parallel over
policies and deterministic per seed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._kernels import policy as KP
from .alphabet import Alphabet
from .errors import InvalidInput, positive_int
from .rng import STREAMS, check_seed, chunk_states

POLICY_KINDS = ("positional", "context")
MAX_TABLE = 1 << 24  # rows × keys of one policy table (128 MiB of float64)
SAMPLE_STREAM = STREAMS["policy_sample"]  # CharPolicy.sample (training has its own)


@dataclass(frozen=True)
class PolicySpec:
    """The shape of a character policy.

    Attributes:
        kind: ``positional`` or ``context``.
        length: document length L (keys per document).
        alphabet_size: number of keys A.
        order: n of a context (n-gram) policy: the key depends on the last n − 1 keys
            (1 for a positional policy).
    """

    kind: str
    length: int
    alphabet_size: int
    order: int = 1

    def __post_init__(self) -> None:
        if self.kind not in POLICY_KINDS:
            raise InvalidInput(
                f"policy must be one of {', '.join(POLICY_KINDS)}, got {self.kind!r}")
        positive_int(self.length, "document length")
        a = positive_int(self.alphabet_size, "alphabet size")
        if a > 255:
            raise InvalidInput(f"alphabet size must be at most 255, got {a}")
        n = positive_int(self.order, "context order n")
        if self.kind == "positional" and n != 1:
            raise InvalidInput(f"context order n={n} needs --policy context (positional "
                               "policies have no context)")
        if self.rows * a > MAX_TABLE:
            raise InvalidInput(
                f"a {self.kind} policy with n={n} and A={a} has {self.rows:,} rows × {a} keys; "
                f"at most {MAX_TABLE:,} logits per policy are allowed (lower the order n)")

    @property
    def rows(self) -> int:
        """Rows R of the logit table: L (positional) or (A + 1) ** (n − 1) (context)."""
        if self.kind == "positional":
            return self.length
        return (self.alphabet_size + 1) ** (self.order - 1)

    @property
    def base(self) -> int:
        """A + 1: the base in which a context row spells its keys (A = start symbol)."""
        return self.alphabet_size + 1

    @property
    def kind_code(self) -> int:
        return KP.POSITIONAL if self.kind == "positional" else KP.CONTEXT

    @property
    def shape(self) -> tuple[int, int]:
        return (self.rows, self.alphabet_size)


@dataclass(frozen=True, eq=False)
class CharPolicy:
    """``P`` character policies of one :class:`PolicySpec`.

    Attributes:
        spec: the shape (kind, L, A, n).
        theta: float64[P, R, A] logits (C-contiguous; copied on construction).
    """

    spec: PolicySpec
    theta: np.ndarray = field(repr=False)

    def __post_init__(self) -> None:
        theta = np.array(self.theta, dtype=np.float64, order="C", copy=True)
        if theta.ndim == 2:
            theta = theta[None]
        if theta.ndim != 3 or theta.shape[1:] != self.spec.shape or theta.shape[0] < 1:
            raise InvalidInput(
                f"policy logits have shape {tuple(np.shape(self.theta))}; a {self.spec.kind} "
                f"policy with L={self.spec.length}, A={self.spec.alphabet_size}, "
                f"n={self.spec.order} needs (P, {self.spec.rows}, {self.spec.alphabet_size})")
        if not np.isfinite(theta).all():
            raise InvalidInput("policy logits must be finite (no NaN or inf)")
        object.__setattr__(self, "theta", theta)

    # --- construction -------------------------------------------------------------------

    @classmethod
    def uniform(cls, spec: PolicySpec, policies: int = 1) -> CharPolicy:
        """``policies`` uniform policies (θ = 0): the random monkey."""
        p = positive_int(policies, "policies")
        return cls(spec, np.zeros((p, *spec.shape)))

    @classmethod
    def positional(cls, length: int, alphabet_size: int, policies: int = 1) -> CharPolicy:
        """Uniform positional policies for documents of ``length`` keys."""
        return cls.uniform(PolicySpec("positional", length, alphabet_size), policies)

    @classmethod
    def context(cls, length: int, alphabet_size: int, order: int = 1,
                policies: int = 1) -> CharPolicy:
        """Uniform context (n-gram, ``n = order``) policies."""
        return cls.uniform(PolicySpec("context", length, alphabet_size, order), policies)

    @classmethod
    def pretrained(cls, text: str, alphabet: Alphabet, order: int, length: int,
                   smoothing: float = 1.0) -> CharPolicy:
        """A context policy fitted by counting ``text``: ``θ[row, a] = log(count + smoothing)``.

        Every position of ``text`` counts once, with the start symbol before its first key
        (so the first keys of a document follow the start of ``text``). ``smoothing > 0``
        keeps every key possible (add-``smoothing`` / Laplace estimate).
        """
        spec = PolicySpec("context", length, alphabet.size, order)
        if not isinstance(text, str) or not text:
            raise InvalidInput("pretraining text is empty; give at least one character")
        smoothing = float(smoothing)
        if not (smoothing > 0 and np.isfinite(smoothing)):
            raise InvalidInput(f"smoothing must be a positive number, got {smoothing!r}")
        codes = alphabet.encode(text)
        counts = np.zeros(spec.shape)
        row = spec.rows - 1
        for a in codes.tolist():
            counts[row, a] += 1
            row = (row * spec.base + a) % spec.rows
        return cls(spec, np.log(counts + smoothing))

    def copy(self, policies: int | None = None) -> CharPolicy:
        """A copy; with ``policies`` given, a single policy repeated that many times."""
        if policies is None:
            return CharPolicy(self.spec, self.theta)
        p = positive_int(policies, "policies")
        if self.policies not in (1, p):
            raise InvalidInput(f"cannot spread {self.policies} policies over {p} monkeys; "
                               "give 1 policy or one per monkey")
        return CharPolicy(self.spec, np.broadcast_to(self.theta, (p, *self.spec.shape)))

    # --- properties ---------------------------------------------------------------------

    @property
    def policies(self) -> int:
        """Number of policies P."""
        return int(self.theta.shape[0])

    def tables(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(logp, prob, cdf): log-softmax of every row, its probabilities and their running
        sums, each float64[P, R, A]."""
        logp = np.empty_like(self.theta)
        prob = np.empty_like(self.theta)
        cdf = np.empty_like(self.theta)
        KP.all_tables(self.theta, logp, prob, cdf)
        return logp, prob, cdf

    def log_probs(self) -> np.ndarray:
        """Per-row log-probabilities, float64[P, R, A]."""
        return self.tables()[0]

    def probs(self) -> np.ndarray:
        """Per-row probabilities, float64[P, R, A]."""
        return self.tables()[1]

    def sample(self, docs: int, seed: int = 0, stream: int = SAMPLE_STREAM) -> np.ndarray:
        """Each policy types ``docs`` documents: uint8[P, docs, L].

        Policy ``p`` draws from ``chunk_state(seed, p, stream)``, so the result does not
        depend on the thread count.
        """
        k = positive_int(docs, "docs")
        cdf = self.tables()[2]
        states = chunk_states(check_seed(seed), 0, self.policies, stream)
        out = np.empty((self.policies, k, self.spec.length), dtype=np.uint8)
        KP.sample_batch(states, cdf, self.spec.kind_code, self.spec.rows, self.spec.base, out)
        return out

    def log_prob(self, docs) -> np.ndarray:
        """log π_p(doc) of documents ``docs[P, K, L]`` (or ``[K, L]`` for every policy)."""
        docs = np.asarray(docs)
        if docs.ndim == 2:
            docs = np.broadcast_to(docs, (self.policies, *docs.shape))
        if docs.ndim != 3 or docs.shape[0] != self.policies or docs.shape[2] != self.spec.length:
            raise InvalidInput(f"documents have shape {docs.shape}; need (P={self.policies}, K, "
                               f"L={self.spec.length}) or (K, L)")
        if docs.size and int(docs.max()) >= self.spec.alphabet_size:
            raise InvalidInput(f"document key {int(docs.max())} is outside the alphabet of "
                               f"size {self.spec.alphabet_size}")
        docs = np.ascontiguousarray(docs, dtype=np.uint8)
        out = np.empty(docs.shape[:2])
        KP.log_prob_batch(self.log_probs(), self.spec.kind_code, self.spec.rows,
                          self.spec.base, docs, out)
        return out

    def greedy(self) -> np.ndarray:
        """Greedy (argmax, lowest key on ties) document of every policy: uint8[P, L]."""
        out = np.empty((self.policies, self.spec.length), dtype=np.uint8)
        KP.greedy_batch(self.log_probs(), self.spec.kind_code, self.spec.rows, self.spec.base,
                        out)
        return out

    def check_reference(self, reference: CharPolicy) -> CharPolicy:
        """Validate ``reference`` as a KL reference for this policy (same shape, one policy)."""
        if not isinstance(reference, CharPolicy):
            raise InvalidInput(f"reference policy must be a CharPolicy, got "
                               f"{type(reference).__name__}")
        if reference.spec != self.spec:
            r, s = reference.spec, self.spec
            raise InvalidInput(
                f"reference policy has the wrong shape: {r.kind} n={r.order} L={r.length} "
                f"A={r.alphabet_size} ({r.rows}×{r.alphabet_size} logits), the policy is "
                f"{s.kind} n={s.order} L={s.length} A={s.alphabet_size} "
                f"({s.rows}×{s.alphabet_size})")
        if reference.policies != 1:
            raise InvalidInput(f"reference must be a single policy, got {reference.policies}")
        return reference

    def kl_entropy(self, reference: CharPolicy | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Exact ``KL(π_p‖π_ref)`` and ``H(π_p)`` of whole documents in nats, each float64[P].

        Without a reference the KL is to the uniform policy.
        """
        ref = (CharPolicy.uniform(self.spec) if reference is None
               else self.check_reference(reference))
        kl = np.empty(self.policies)
        h = np.empty(self.policies)
        logp, prob, _ = self.tables()
        KP.kl_entropy_batch(logp, prob, ref.log_probs()[0], self.spec.kind_code,
                            self.spec.rows, self.spec.base, self.spec.length, kl, h)
        return kl, h

    def kl(self, reference: CharPolicy | None = None) -> np.ndarray:
        """Exact ``KL(π_p‖π_ref)`` per policy (nats)."""
        return self.kl_entropy(reference)[0]

    def entropy(self) -> np.ndarray:
        """Exact document entropy ``H(π_p)`` per policy (nats)."""
        return self.kl_entropy()[1]
