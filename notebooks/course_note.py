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
# # Infinite monkeys, bananas and RLHF: the course note, step by step
#
# The course note asks: *infinitely many monkeys typing at random will eventually type
# Shakespeare. If a reviewer hands out a banana for good documents, would you need fewer
# monkeys, or less time?* This notebook walks through the note with monkeysim's public API,
# one step at a time, each step with its figure:
#
# 1. monkeys and bananas: random typing, measured against exact theory;
# 2. the reward function r(X, Y), with the note's Antarctica answers and their scores;
# 3. rollouts x ~ D, y ~ D_n and the empirical against the exact expected reward;
# 4. a policy-gradient update of θ from the reviewer;
# 5. a pretrained policy fine-tuned against a learned reward model, and over-optimised;
# 6. the answer to "fewer monkeys or less time?" from `monkeysim compare --quick`.
#
# Everything is seeded: running it again gives the same numbers. It runs in about a minute
# on two cores (the first run in a fresh clone also compiles the numba kernels).

# %%
import io
import shutil
import tempfile
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import numpy as np
from IPython.display import Image, display
from matplotlib.figure import Figure

import monkeysim
from monkeysim import texts, theory
from monkeysim.alphabet import default_for
from monkeysim.errors import InvalidInput


def show(fig: Figure, dpi: int = 80) -> None:
    """Show a matplotlib Figure (monkeysim builds Agg figures, never pyplot ones) inline."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    display(Image(buf.getvalue()))


print("monkeysim", monkeysim.__version__)

# %% [markdown]
# ## 1. Monkeys and bananas
#
# A *monkey* presses one of the A keys of its typewriter uniformly at random, one
# *keystroke* at a time. How long until "BARD" appears? The exact answer (Conway's
# correlation formula) is a whole number of keystrokes; the numba kernels race two thousand
# monkeys and we compare their times with the exact distribution P(T > t).

# %%
target, budget = "BARD", 10**7
race = monkeysim.type_race(target, monkeys=2000, budget=budget, mode="stream", seed=0)
mean_exact = theory.expected_keystrokes(target, 27)
wt = theory.waiting_time(target, 27)
print(f"mean keystrokes, exact:    {mean_exact:,}  (= 27^4 = {27**4:,})")
print(f"mean of min(T, budget), exact: {wt.restricted_mean(budget):,.0f}; measured: "
      f"{race.keystrokes.mean():,.0f} ({(~race.found).sum()} of {len(race.found)} monkeys "
      f"censored at the budget of {budget:,} keystrokes)")
print(f"median, exact: {float(wt.quantile([0.5])[0]):,.0f}; measured: "
      f"{np.median(race.keystrokes):,.0f}")
print(f"first of 2000 monkeys, exact mean wall time: {wt.mean_first(2000):,.0f} keystrokes")

# %%
t = np.sort(race.keystrokes)
fig = Figure(figsize=(6.5, 3.6))
ax = fig.subplots()
ax.step(t, 1 - np.arange(1, len(t) + 1) / len(t), where="post", label="2000 monkeys (measured)")
grid = np.logspace(2, np.log10(t.max()), 200)
ax.plot(grid, wt.sf(grid), "k--", label="exact P(T > t)")
ax.set_xscale("log")
ax.set_xlabel("keystrokes t")
ax.set_ylabel("P(T > t)")
ax.set_title(f"random monkeys typing {target!r} (A = 27 keys)")
ax.legend()
show(fig)

# %% [markdown]
# Random typing does get there, but the time grows as A^L: 27^28 ≈ 1.2·10^40 keystrokes for
# the weasel sentence "METHINKS IT IS LIKE A WEASEL". That is what the bananas are for.

# %%
for name in ("to-be", "banana", "weasel", "antarctica"):
    text = texts.get(name)
    a = default_for(text)
    print(f"{name:<11} L={len(text):>2}  A={a.size:>2}  mean keystrokes 10^"
          f"{theory.log10_expected_keystrokes(text, a):.1f}")

# %% [markdown]
# ## 2. The reward function r(X, Y)
#
# In RLHF the reviewer is a reward function r(query, response). The note scores answers to
# "which country owns Antarctica?" by hand; `monkeysim.reward_scripted` holds its numbers
# (the note's rollout table says 0.09 for "no country owns Antarctica", its first section
# 0.9: we use 0.09). A response the reviewer has no entry for is refused rather than paid
# silently. The note's "pretrained reward model" punishes one answer to "who made this
# course" with −10000.

# %%
from monkeysim import reward_scripted as rs

reviewer = rs.course_note_reviewer()
for d in rs.note_rewards():
    print(f"r({d['query']!r}, {d['response']!r}) = {d['reward']:g}   [{d['reviewer']}]")
print("first-section score of 'no country owns Antarctica':", rs.NO_COUNTRY_FIRST_SECTION)
try:
    reviewer(rs.ANTARCTICA, "Antarctica belongs to the penguins")
except InvalidInput as exc:
    print("unknown response ->", str(exc)[:110], "...")

# %%
answers = [(y, r) for q, y, r in rs.NOTE_EXAMPLES if q == rs.ANTARCTICA]
fig = Figure(figsize=(6.5, 2.8))
ax = fig.subplots()
ax.barh([y for y, _ in answers], [r for _, r in answers], color="goldenrod")
for i, (_, r) in enumerate(answers):
    ax.text(r + 0.01, i, f"{r:g}", va="center")
ax.invert_yaxis()
ax.set_xlim(0, 1.15)
ax.set_xlabel("reward r(x, y), bananas")
ax.set_title(f"x = {rs.ANTARCTICA!r}")
show(fig)

# %% [markdown]
# ## 3. Rollouts: x ~ D, y ~ D_n, and the expected reward
#
# A rollout samples N queries x_n from the query table D and K responses per query from its
# response table D_n, and asks the reviewer for each r(x_n, y_nk). Its mean is the
# *empirical* expected reward; the *exact* one enumerates the tables:
# J = E_{x~D} Σ_y p(y|x) r(x, y). The standard error is taken over the N per-query means
# (the K responses to one query share x_n).

# %%
from monkeysim.experiments.walkthrough import estimator_convergence
from monkeysim.learn import rollout as ro
from monkeysim.rng import numpy_generator

table = ro.NOTE_TABLE
r = ro.reward_matrix(table, reviewer)
rollout = ro.sample_rollout(table, n_queries=6, k=3, rng=numpy_generator(0, 0, 1))
for (q, ys), rewards in zip(rollout.texts(), rollout.rewards(r), strict=True):
    print(f"x = {q!r}")
    for y, rew in zip(ys, rewards, strict=True):
        print(f"    y = {y!r:<55} r = {rew:g}")
est = ro.empirical_expected_reward(rollout, r)
exact = ro.exact_expected_reward(table, r)
print(f"\nempirical (1/NK) Σ r = {est.mean:.4f} ± {est.stderr:.4f} "
      f"(95% interval [{est.low:.4f}, {est.high:.4f}])")
print(f"exact     E_x Σ_y p(y|x) r(x, y) = {exact:.4f}")

# %% [markdown]
# How fast does the estimate converge? For each N (K = 4) we draw 200 independent rollouts:
# the error falls as 1/√(NK), and the 95% intervals cover the exact value about 95% of the
# time.

# %%
cv = estimator_convergence(table, r, ladder=(8, 32, 128, 512), k=4, repetitions=200,
                           rng=numpy_generator(0, 0, 2))
for n_docs, err, cover in zip(cv.documents, cv.rms_error, cv.coverage, strict=True):
    print(f"NK = {n_docs:>5}: rms error {err:.4f}, 95% coverage {cover:.3f}")
print(f"log-log slope {cv.slope():.3f} (theory −0.5)")
fig = Figure(figsize=(6.5, 3.6))
ax = fig.subplots()
ax.loglog(cv.documents, cv.rms_error, "o", label="rms error of the estimate (measured)")
ax.loglog(cv.documents, cv.exact_stderr, "k--", label="exact sd ∝ 1/√(NK)")
ax.set_xlabel("documents per rollout NK (reviewer calls)")
ax.set_ylabel("error, bananas")
ax.legend()
show(fig)

# %% [markdown]
# ## 4. A policy-gradient update of θ from the reviewer
#
# The policy π_θ(y|x) = softmax(θ_x) over each response table starts at θ = log p (the
# "pretrained" probabilities). One REINFORCE step with a leave-one-out baseline:
# θ ← θ + lr · (1/NK) Σ (r_nk − b_nk) ∇_θ log π_θ(y_nk|x_n). The estimate points the same way
# as the exact gradient, computed by enumeration:

# %%
policy = ro.TablePolicy.pretrained(table)
batch = ro.sample_rollout(table, n_queries=256, k=4, rng=numpy_generator(0, 0, 5),
                          policy=policy)
g_hat = ro.score_function_gradient(policy, batch, r, baseline="loo")
g = ro.exact_gradient(policy, r)
cos = float((g_hat * g).sum() / np.linalg.norm(g_hat) / np.linalg.norm(g))
print(f"cosine(estimated gradient, exact gradient) = {cos:.3f}")
step = policy.copy()
step.theta += 5.0 * g_hat
print(f"expected reward: {ro.exact_expected_reward(table, r, policy):.4f} → "
      f"{ro.exact_expected_reward(table, r, step):.4f} after one step (lr 5)")
i = table.queries.index(rs.ANTARCTICA)
for j, y in enumerate(table.responses[i]):
    print(f"  π({y!r}) {policy.probs()[i, j]:.3f} → {step.probs()[i, j]:.3f}")

# %% [markdown]
# Thirty such updates: the expected reward rises towards the best the tables allow, and the
# policy drifts from the pretrained one (KL(π_θ ‖ π_0) in nats grows).

# %%
tr = ro.train(table, r, updates=30, n_queries=16, k=4, lr=5.0, rng=numpy_generator(0, 0, 3))
best = float(table.query_probs @ np.where(table.mask, r, -np.inf).max(axis=1))
print(f"expected reward {tr.expected_reward_exact[0]:.3f} → {tr.expected_reward_exact[-1]:.3f}"
      f" (best possible {best:.3f}); KL 0 → {tr.kl_exact[-1]:.3f} nats")
fig = Figure(figsize=(6.5, 3.6))
ax = fig.subplots()
ax.plot(tr.step, tr.expected_reward_exact, label="expected reward J(π_θ), exact")
ax.errorbar(tr.step, tr.expected_reward_estimate, yerr=1.96 * tr.expected_reward_stderr,
            fmt=".", alpha=0.5, label="rollout estimate ± 95%")
ax.axhline(best, color="gray", ls=":", label="best possible")
ax.set_xlabel("policy-gradient updates")
ax.set_ylabel("bananas per document")
bx = ax.twinx()
bx.plot(tr.step, tr.kl_exact, color="tab:red", label="KL(π_θ ‖ π_0)")
bx.set_ylabel("KL, nats", color="tab:red")
ax.legend(loc="lower right")
show(fig)

# %% [markdown]
# The same update, on keystrokes: one monkey with a positional policy (a categorical over
# the 96 keys of the typewriter at each of the 49 positions) learns to type the note's best
# answer, "Antarctica is governed by an international treaty", from `hamming` bananas (the
# share of correct characters) with RLOO: a couple of thousand reviewer calls, where a random
# monkey needs about 10^97 keystrokes.

# %%
from monkeysim.learn.train import TrainConfig, train
from monkeysim.plots.train import convergence

answer = texts.get("antarctica")
res = train(TrainConfig(algo="rloo", reward="hamming", seed=0), answer)
print(f"solved: {res.solved} after {res.reviewer_calls:,} reviewer calls "
      f"({res.keystrokes:,} keystrokes, {res.alphabet.size} keys); random typing: 10^"
      f"{theory.log10_expected_keystrokes(answer, res.alphabet):.1f} keystrokes on average")
print(f"greedy document: {res.greedy!r}")
show(convergence(res.metrics, len(answer), "one monkey learns the note's answer (RLOO)",
                 greedy_initial=res.greedy_correct_initial, solved_calls=res.reviewer_calls))

# %% [markdown]
# ## 5. A learned reward model, and over-optimisation
#
# Real RLHF has no gold reviewer at training time, only a reward model fitted to
# preferences. `monkeysim overopt`: a 3-gram monkey pretrained on Shakespeare lines is the
# reference policy; the gold reviewer pays character 3-gram F1 against "now is the winter of
# our discontent"; a Bradley–Terry reward model is fitted to noisy preferences (20% of labels
# flipped) between the pretrained monkey's documents. RLOO then optimises the *model*: its
# proxy reward keeps rising while the gold reward peaks and falls, the over-optimisation of
# Gao et al. (2022). Best-of-n sampling is the other optimiser. (A smaller size than the default
# `monkeysim overopt`: two KL coefficients β and fewer evaluation documents, a few seconds.)

# %%
from monkeysim.experiments import overopt
from monkeysim.plots.overopt import overopt_figure

config = overopt.OveroptConfig(betas=(0.0, 0.2), eval_every=50, eval_docs=256,
                               bon_pool=20_000, bon_picks=200)
oo = overopt.run(config, seed=0)
print(overopt.report(oo))
show(overopt_figure(oo))

# %% [markdown]
# ## 6. Fewer monkeys or less time?
#
# `monkeysim compare` races random monkeys (exact theory everywhere, simulation where
# affordable) against learning monkeys with `exact`, `prefix` and `hamming` bananas, for
# prefixes of a Hamlet line and the weasel sentence and for several monkey counts, each
# setting at its own tuned step size. Here its quick version, through the command's own
# entry point; it prints a table and the answer, and writes CSV, JSON and figures.

# %%
from monkeysim.cli.main import main

out = Path(tempfile.mkdtemp(prefix="course-note-")) / "compare"
text = io.StringIO()
with redirect_stdout(text), redirect_stderr(io.StringIO()):
    status = main(["compare", "--quick", "--quiet", "--out", str(out)])
assert status == 0, f"monkeysim compare --quick exited with status {status}"
print(text.getvalue().replace(str(out), "<out>"))

# %% [markdown]
# Two of the figures it wrote: keystrokes until the target is typed against its length
# (`time_to_target.png`: random typing grows as A^L, learning with graded bananas about
# linearly), and wall time against the number of monkeys (`monkey_counts.png`).

# %%
import matplotlib.image as mpimg

pngs = sorted(out.glob("*.png"))
main_figures = [p for p in pngs if p.stem in ("time_to_target", "monkey_counts")] or pngs[:2]
for png in main_figures:
    image = mpimg.imread(png)
    height, width = image.shape[:2]
    fig = Figure(figsize=(9, 9 * height / width))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.imshow(image)
    ax.axis("off")
    show(fig, dpi=72)
print("also written:", ", ".join(p.name for p in pngs if p not in main_figures))
shutil.rmtree(out.parent)

# %% [markdown]
# **The answer.** With graded bananas you need astronomically *less time*: the saving grows
# exponentially with the length of the target, because random time is A^L and learning
# time roughly linear in L. Sparse bananas (only a perfect document is paid) buy nothing
# until the first hit. More monkeys divide the wall time without bananas but not the work;
# with bananas they help as a troop that pools its documents, up to a critical troop size.
# The default run (`monkeysim compare`, about a minute) gives the numbers quoted in the
# README and on the documentation site's *The answer* page.
