"""Reviewers for the learner core: the built-in ones (scored inside the kernels) or any
object that scores a batch of encoded documents (:class:`ExternalReviewer`)."""

from __future__ import annotations

import numpy as np

from .._kernels import reward as KR
from ..alphabet import Alphabet, resolve
from ..errors import InvalidInput
from .config import TrainConfig


def target_codes(target, alphabet, alphabet_chars) -> tuple[Alphabet, np.ndarray]:
    if not isinstance(target, str) or len(target) == 0:
        raise InvalidInput("target is empty; give at least one character")
    alpha = resolve(target, alphabet, alphabet_chars)
    return alpha, alpha.encode(target)


class ExternalReviewer:
    """A reviewer outside numba, wrapped for :func:`train`: any object with
    ``score_batch(docs) -> scores`` or any callable ``f(docs) -> scores``, where ``docs`` is
    uint8[n, L] (encoded documents) and ``scores`` n finite numbers (bananas). If the object
    has ``score_range = (lo, hi)``, every score must lie in it. Each step the kernels type the
    documents, this reviewer scores them, and the kernels learn from the scores."""

    def __init__(self, reviewer) -> None:
        self.reviewer = reviewer
        self.score = getattr(reviewer, "score_batch", reviewer)
        self.range = getattr(reviewer, "score_range", None)
        self.name = type(reviewer).__name__

    def __call__(self, docs: np.ndarray) -> np.ndarray:
        """float64[n]: the validated scores of ``docs`` (uint8[n, L])."""
        n = docs.shape[0]
        try:
            out = np.asarray(self.score(docs), dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise InvalidInput(f"reviewer {self.name} did not return numbers: {exc}") from None
        if out.shape != (n,):
            raise InvalidInput(f"reviewer {self.name} returned scores of shape {out.shape} "
                               f"for {n} documents; expected ({n},)")
        if not np.isfinite(out).all():
            bad = out[~np.isfinite(out)][0]
            raise InvalidInput(f"reviewer {self.name} returned {bad!r}; scores must be finite")
        if self.range is not None:
            lo, hi = self.range
            if out.min() < lo or out.max() > hi:
                v = out.min() if out.min() < lo else out.max()
                raise InvalidInput(f"reviewer {self.name} returned {v!r}, outside its "
                                   f"score_range [{lo}, {hi}]")
        return out


def review_record(reviewer, codes) -> KR.Review:
    """The kernels' record of ``reviewer`` (from :func:`reviewer_for`): a built-in reviewer's
    own, or kind OUTSIDE (scored between the typing and learning phases) with the target."""
    if isinstance(reviewer, ExternalReviewer):
        return KR.review(KR.OUTSIDE, codes)
    return reviewer.record


def reviewer_for(config: TrainConfig, target: str, alpha: Alphabet, codes, reviewer):
    """The built-in reviewer of ``config.reward``; a given ``TextReviewer`` or any object with
    its ``record`` (the numba fast path); or any other reviewer (:class:`ExternalReviewer`)."""
    from ..reward import make_reviewer

    if reviewer is None:
        return make_reviewer(config.reward, target, alpha, ngram_n=config.ngram_n)
    if isinstance(reviewer, ExternalReviewer):
        return reviewer
    if hasattr(reviewer, "record"):  # a built-in reviewer's parameters (kernels' Review)
        if not np.array_equal(np.asarray(reviewer.record.target), codes):
            raise InvalidInput("the reviewer's target differs from the training target")
        return reviewer
    if not (callable(reviewer) or callable(getattr(reviewer, "score_batch", None))):
        raise InvalidInput(f"reviewer must score a batch of encoded documents (a "
                           f"score_batch(docs) method or a callable), got "
                           f"{type(reviewer).__name__}")
    if config.flip_rate > 0 and config.preferences is None:
        raise InvalidInput("a flip rate of verdicts applies to the built-in exact bananas; "
                           "wrap your reviewer (e.g. reward.NoisyReviewer) instead")
    return ExternalReviewer(reviewer)
