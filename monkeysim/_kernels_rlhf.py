"""numba kernel of the RLHF loop (:mod:`monkeysim.rlhf`): serial, one troop policy.

Private module. The loop calls it once per step, so it is serial (no ``prange``): a parallel
launch per step of a single policy would only add thread start-up (and, on a loaded machine,
spinning threads). It reuses the shared sampling and log-probability kernels.
"""

from __future__ import annotations

import numba as nb

from ._kernels import KERNEL_OPTIONS
from ._kernels_policy import document_log_prob, sample_document


@nb.njit(**KERNEL_OPTIONS)
def sample_with_log_probs(state, cdf, logp, logq, kind, rows, base, docs, lp, lq):
    """Type ``docs[K, L]`` from the policy (running sums ``cdf``) with stream ``state``;
    ``lp[k] = log π(doc_k)`` and ``lq[k] = log π_ref(doc_k)``."""
    for k in range(docs.shape[0]):
        sample_document(state, cdf, kind, rows, base, docs[k])
        lp[k] = document_log_prob(logp, kind, rows, base, docs[k])
        lq[k] = document_log_prob(logq, kind, rows, base, docs[k])
