# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Your own reviewer drives train()
#
# `monkeysim.learn.train.train` learns from its built-in reviewers inside numba (the fast
# path), or from any object that scores a batch of encoded documents: a learned reward
# model, a noisy wrapper, or a few lines of your own Python. Each step the kernels type the
# documents, your reviewer scores them, the kernels learn.
#
# A reviewer is an object with `score_batch(docs)`: `docs` is a `uint8[n, L]` array of key
# codes (one row per document), and it returns `n` finite scores. An optional
# `score_range = (low, high)` makes a score outside it an error. A plain function of `docs`
# works too.

# %%
import io

import numpy as np
from IPython.display import Image, display

from monkeysim.alphabet import named
from monkeysim.learn.train import TrainConfig, train
from monkeysim.plots.train import convergence

TEXT = "METHINKS IT IS LIKE A WEASEL"
alphabet = named("upper27")
target = alphabet.encode(TEXT)
print(alphabet, target[:8], "...")


class Vowels:
    """Pays for correct characters, double for correct vowels."""

    score_range = (0.0, 2.0)

    def __init__(self):
        self.calls = 0

    def score_batch(self, docs):
        self.calls += len(docs)
        right = docs == target
        vowel = np.isin(target, alphabet.encode("AEIOU"))
        return (right * (1 + vowel)).mean(axis=1)


vowels = Vowels()
res = train(TrainConfig(algo="rloo", lr=4.0, seed=0), TEXT, alphabet, reviewer=vowels)
print(f"solved: {res.solved}, reviewer calls until solved: {res.reviewer_calls:,} "
      f"(the reviewer was called on {vowels.calls:,} documents in {res.steps} steps)")
print("greedy document:", repr(res.greedy))

# %%
buf = io.BytesIO()
fig = convergence(res.metrics, len(TEXT), "RLOO against your own reviewer (vowels pay double)",
                  greedy_initial=res.greedy_correct_initial, solved_calls=res.reviewer_calls)
fig.savefig(buf, format="png", dpi=80, bbox_inches="tight")
display(Image(buf.getvalue()))

# %% [markdown]
# **The same scores, the same bytes.** A Python reviewer that computes exactly what a
# built-in one computes gives a byte-identical run: here `hamming` bananas (the share of
# correct characters), written in numpy, against the built-in reviewer inside numba.

# %%
def hamming(docs):
    return (docs == target).mean(axis=1)


cfg = TrainConfig(algo="rloo", reward="hamming", seed=3, max_reviewer_calls=6_000)
builtin = train(cfg, TEXT, alphabet)
mine = train(cfg, TEXT, alphabet, reviewer=hamming)
same = all(np.array_equal(builtin.metrics[k], mine.metrics[k]) for k in builtin.metrics)
print(f"built-in: {builtin.reviewer_calls} calls; yours: {mine.reviewer_calls} calls; "
      f"identical metrics: {same}; identical policy: "
      f"{np.array_equal(builtin.policy.theta, mine.policy.theta)}")
assert same

# %% [markdown]
# **A reviewer that misbehaves stops the run with one clear error** (wrong shape, NaN, or a
# score outside its `score_range`):

# %%
from monkeysim.errors import InvalidInput

try:
    train(cfg, TEXT, alphabet, reviewer=lambda docs: np.full(len(docs), np.nan))
except InvalidInput as exc:
    print("error:", exc)
