"""`monkeysim walkthrough`: the course note's RLHF steps, each made real and checked.

1. the reviewer r(query, response): the note's scores, incl. the reward model's −10000, and
   what happens to a response the scripted reviewer has no entry for;
2. the query table D and response tables D_n;
3. a sampled rollout (N queries × K responses);
4. its empirical expected reward with standard error vs the exact value;
5. estimator convergence vs NK (rate 1/√(NK)) and 95% interval coverage over repetitions;
6. policy-gradient updates of the table policy: expected reward up, KL(π_θ ‖ π_0) growing;
7. the note's last picture: a *pretrained reward model* (Bradley–Terry on hashed n-grams of
   ``query + response``, fitted to the reviewer's preferences between responses to the same
   query) scores the table, and θ is updated from its scores instead of the reviewer's.

Random streams: one root seed; the rollout, the convergence study and the updates use
streams 1, 2 and 3 of chunk 0 (:func:`monkeysim.rng.numpy_generator`); step 7's updates
use stream 4.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InvalidInput, positive_float, positive_int
from ..learn import rollout as ro
from ..results import prepare_out_dir, sidecar, write_json, write_table
from ..reward_model import fit_bradley_terry, text_features
from ..reward_scripted import (
    ANTARCTICA,
    NO_COUNTRY_FIRST_SECTION,
    course_note_reviewer,
    note_rewards,
)
from ..rng import check_seed, numpy_generator
from ..stats import Z95, MeanCI

FILES = ["walkthrough.csv", "walkthrough.json", "walkthrough.png", "summary.json"]
UNSEEN_RESPONSE = "Antarctica belongs to the penguins"

COLUMNS = ["section", "step", "n_queries", "k", "documents", "repetitions",
           "expected_reward_exact", "expected_reward_estimate", "expected_reward_stderr",
           "mean_abs_error", "rms_error", "exact_stderr", "coverage95",
           "kl_exact_nats", "kl_k1_nats", "kl_k3_nats"]
UNITS = {
    "section": "'convergence' (one row per NK) or 'updates' (one row per policy step)",
    "step": "policy updates done (updates rows)", "n_queries": "N, queries per rollout",
    "k": "K, responses per query", "documents": "N·K reviewer calls per estimate",
    "repetitions": "independent rollouts per NK (convergence rows)",
    "expected_reward_*": "bananas per document", "mean_abs_error": "bananas, mean |Ĵ − J|",
    "rms_error": "bananas", "exact_stderr": "bananas, exact sd of Ĵ",
    "coverage95": "fraction of repetitions whose 95% interval covers J",
    "kl_*_nats": "KL(π_θ ‖ π_0), nats; k1, k3 are rollout estimates",
}


@dataclass(frozen=True)
class WalkthroughConfig:
    """Sizes of the walkthrough; all counts are documents (reviewer calls) or rollouts."""

    queries: int = 6
    """N, queries in the shown rollout (≥ 2: the standard error needs two per-query means)."""
    responses: int = 3
    """K, responses per query in the shown rollout."""
    ladder: tuple[int, ...] = (8, 32, 128, 512, 2048)
    """N values of the convergence study (K = ``ladder_k``)."""
    ladder_k: int = 4
    """K of the convergence study."""
    repetitions: int = 400
    """Independent rollouts per ladder point (error, stderr and coverage are averaged)."""
    updates: int = 30
    """Policy-gradient updates."""
    lr: float = 5.0
    """Learning rate of θ ← θ + lr·ĝ (plain gradient ascent)."""
    train_queries: int = 16
    """N per update rollout."""
    train_responses: int = 4
    """K per update rollout."""
    baseline: str = "loo"
    """Baseline of the score-function gradient: 'none' or 'loo' (leave-one-out mean)."""

    def __post_init__(self) -> None:
        if isinstance(self.ladder, list):
            object.__setattr__(self, "ladder", tuple(self.ladder))
        for name in ("queries", "responses", "ladder_k", "repetitions", "updates",
                     "train_queries", "train_responses"):
            positive_int(getattr(self, name), name)
        if self.queries < 2:
            raise InvalidInput(f"queries must be ≥ 2 (the standard error needs two per-query "
                               f"means), got {self.queries}")
        if not self.ladder:
            raise InvalidInput("ladder is empty; give at least one N")
        for n in self.ladder:
            positive_int(n, "ladder entry")
            if n < 2:
                raise InvalidInput(f"ladder entries must be ≥ 2, got {n}")
        positive_float(self.lr, "learning rate lr")
        if self.baseline not in ro.BASELINES:
            raise InvalidInput(f"baseline must be one of {', '.join(ro.BASELINES)}, "
                               f"got {self.baseline!r}")
        if self.baseline == "loo" and self.train_responses < 2:
            raise InvalidInput(f"train_responses must be ≥ 2 for the 'loo' baseline, got "
                               f"{self.train_responses}")


@dataclass(frozen=True)
class Convergence:
    """Ĵ over ``repetitions`` independent rollouts per N (K fixed); arrays are (L,)."""

    n_queries: np.ndarray
    k: int
    repetitions: int
    mean_abs_error: np.ndarray
    """mean |Ĵ − J| over repetitions, bananas."""
    rms_error: np.ndarray
    mean_stderr: np.ndarray
    """mean estimated standard error, bananas."""
    exact_stderr: np.ndarray
    """exact sd of Ĵ, ∝ 1/√(NK) (:func:`monkeysim.learn.rollout.exact_stderr`)."""
    coverage: np.ndarray
    """fraction of repetitions whose 95% normal interval covers J."""

    @property
    def documents(self) -> np.ndarray:
        return self.n_queries * self.k

    def slope(self) -> float:
        """Least-squares slope of log RMS error vs log NK (theory: −1/2)."""
        return float(np.polyfit(np.log(self.documents), np.log(self.rms_error), 1)[0])


def estimator_convergence(table: ro.RolloutTable, reviewer, ladder, k: int, repetitions: int,
                          rng) -> Convergence:
    """For each N in ``ladder``: ``repetitions`` rollouts of N × K, their Ĵ, stderr, error
    against the exact J and 95% interval coverage. Deterministic for a seed/Generator."""
    r = ro.reward_matrix(table, reviewer)
    exact = ro.exact_expected_reward(table, r)
    gen = rng if isinstance(rng, np.random.Generator) else numpy_generator(rng)
    rows = []
    for n in ladder:
        big = ro.sample_rollout(table, n * repetitions, k, gen)
        means = big.rewards(r).mean(axis=1).reshape(repetitions, n)  # per-query means
        est = means.mean(axis=1)
        se = means.std(axis=1, ddof=1) / math.sqrt(n)
        err = est - exact
        rows.append((np.mean(np.abs(err)), math.sqrt(np.mean(err ** 2)), np.mean(se),
                     ro.exact_stderr(table, r, n, k), np.mean(np.abs(err) <= Z95 * se)))
    a = np.asarray(rows, dtype=np.float64)
    return Convergence(np.asarray(ladder, dtype=np.int64), int(k), int(repetitions),
                       a[:, 0], a[:, 1], a[:, 2], a[:, 3], a[:, 4])


def unknown_response_demo(query: str = ANTARCTICA, response: str = UNSEEN_RESPONSE) -> dict:
    """What the scripted reviewer does with a response it has no entry for: the error of
    ``unknown="error"`` (the default) and the recorded default of ``unknown="default"``."""
    try:
        course_note_reviewer()(query, response)
        error = None
    except InvalidInput as exc:
        error = str(exc)
    lenient = course_note_reviewer(unknown="default")
    paid = lenient(query, response)
    return {"query": query, "response": response, "error": error, "default_reward": paid,
            "unknown_calls": [list(p) for p in lenient.unknown_calls]}


@dataclass(frozen=True)
class WalkthroughResult:
    """Everything the walkthrough computed (rewards in bananas per document)."""

    config: WalkthroughConfig
    seed: int
    rewards: list[dict]
    """The note's scored examples {query, response, reward, reviewer}."""
    unknown_response: dict
    table: ro.RolloutTable
    reward_matrix: np.ndarray
    rollout: ro.Rollout
    rollout_rewards: np.ndarray
    expected_reward_exact: float
    estimate: MeanCI
    exact_stderr: float
    convergence: Convergence
    training: ro.Training
    seconds: float
    warnings: list[str] = field(default_factory=list)
    """Lines to show the user: responses paid a default instead of a scripted reward."""
    reward_model: dict = field(default_factory=dict)
    """Step 7: θ updated from a pretrained reward model (:func:`reward_model_step`)."""

    def as_json(self) -> dict:
        tr, cv = self.training, self.convergence
        return {
            "seed": self.seed, "config": asdict(self.config),
            "rewards": [{k: d[k] for k in ("query", "response", "reward", "reviewer")}
                        for d in self.rewards],
            "no_country_owns_antarctica_first_section": NO_COUNTRY_FIRST_SECTION,
            "unknown_response": self.unknown_response,
            "rollout": [{"query": q, "responses": ys, "rewards": rs}
                        for (q, ys), rs in zip(self.rollout.texts(),
                                               self.rollout_rewards.tolist(), strict=True)],
            "expected_reward_exact": self.expected_reward_exact,
            "expected_reward_empirical": self.estimate.mean,
            "expected_reward_stderr": self.estimate.stderr,
            "expected_reward_ci95": [self.estimate.low, self.estimate.high],
            "expected_reward_exact_stderr": self.exact_stderr,
            "convergence": {"documents": cv.documents.tolist(),
                            "mean_abs_error": cv.mean_abs_error.tolist(),
                            "mean_stderr": cv.mean_stderr.tolist(),
                            "exact_stderr": cv.exact_stderr.tolist(),
                            "coverage95": cv.coverage.tolist(), "repetitions": cv.repetitions,
                            "slope": cv.slope()},
            "expected_reward_before": float(tr.expected_reward_exact[0]),
            "expected_reward_after": float(tr.expected_reward_exact[-1]),
            "kl_after": float(tr.kl_exact[-1]),
            "kl_after_k1": float(tr.kl_k1[-1]), "kl_after_k3": float(tr.kl_k3[-1]),
            "expected_reward_max": float(
                self.table.query_probs @ np.where(self.table.mask, self.reward_matrix,
                                                  -np.inf).max(axis=1)),
            "updates": int(tr.step[-1]), "reviewer_calls_updates": tr.reviewer_calls,
            "warnings": list(self.warnings), "reward_model_step": self.reward_model,
            "seconds": self.seconds,
        }


def reward_model_step(table: ro.RolloutTable, r: np.ndarray, config: WalkthroughConfig,
                      rng) -> dict:
    """Step 7: fit a Bradley–Terry reward model r_φ(x, y) = w · φ(x + " " + y) to the
    reviewer's preferences between every two responses to the same query, then run the same
    policy-gradient updates with r_φ's scores in place of the reviewer's. Returns the model's
    agreement with the reviewer and the reviewer's (true) expected reward before and after."""
    q, m = table.shape
    texts = [f"{x} {y}" for x, ys in zip(table.queries, table.responses, strict=True)
             for y in ys]
    phi = text_features(texts, buckets=256)
    where = {(i, j): n for n, (i, j) in enumerate(
        (i, j) for i in range(q) for j in range(int(table.sizes[i])))}
    pairs = [(where[i, a], where[i, b]) if r[i, a] > r[i, b] else (where[i, b], where[i, a])
             for i in range(q) for a in range(int(table.sizes[i]))
             for b in range(a + 1, int(table.sizes[i])) if r[i, a] != r[i, b]]
    chosen, rejected = (np.array(c) for c in zip(*pairs, strict=True))
    w, _, _ = fit_bradley_terry(phi[chosen] - phi[rejected], l2=1e-3)
    scores = phi @ w
    rm = np.zeros((q, m))
    for (i, j), n in where.items():
        rm[i, j] = scores[n]
    tr = ro.train(table, rm, updates=config.updates, n_queries=config.train_queries,
                  k=config.train_responses, lr=config.lr, rng=rng, baseline=config.baseline)
    before = ro.exact_expected_reward(table, r)
    return {"pairs": len(pairs), "pair_accuracy": float(np.mean(scores[chosen] > scores[rejected])),
            "updates": int(tr.step[-1]),
            "reward_model_expected_before": float(tr.expected_reward_exact[0]),
            "reward_model_expected_after": float(tr.expected_reward_exact[-1]),
            "reviewer_expected_before": float(before),
            "reviewer_expected_after": float(ro.exact_expected_reward(table, r, tr.policy)),
            "kl_after": float(tr.kl_exact[-1])}


def _unknown_warning(name: str, query: str, response: str, paid: float) -> str:
    return (f"warning: {name} has no entry for response {response!r} to query {query!r}; "
            f"paid the default {paid:g} (unknown='default')")


def run(config: WalkthroughConfig | None = None, seed: int = 0,
        table: ro.RolloutTable = ro.NOTE_TABLE, reviewer=None) -> WalkthroughResult:
    """Run every step (a few seconds with the default config)."""
    t0 = time.perf_counter()
    config = WalkthroughConfig() if config is None else config
    seed = check_seed(seed)
    reviewer = course_note_reviewer() if reviewer is None else reviewer
    r = ro.reward_matrix(table, reviewer)
    rollout = ro.sample_rollout(table, config.queries, config.responses,
                                numpy_generator(seed, 0, 1))
    conv = estimator_convergence(table, r, config.ladder, config.ladder_k, config.repetitions,
                                 numpy_generator(seed, 0, 2))
    training = ro.train(table, r, updates=config.updates, n_queries=config.train_queries,
                        k=config.train_responses, lr=config.lr,
                        rng=numpy_generator(seed, 0, 3), baseline=config.baseline)
    demo = unknown_response_demo()
    warnings = [_unknown_warning("course-note reviewer", q, y, demo["default_reward"])
                for q, y in demo["unknown_calls"]]
    warnings += [_unknown_warning(getattr(reviewer, "name", "reviewer"), q, y,
                                  getattr(reviewer, "default", math.nan))
                 for q, y in getattr(reviewer, "unknown_calls", [])]
    return WalkthroughResult(
        config=config, seed=seed, rewards=note_rewards(), unknown_response=demo, table=table,
        reward_matrix=r, rollout=rollout, rollout_rewards=rollout.rewards(r),
        expected_reward_exact=ro.exact_expected_reward(table, r),
        estimate=ro.empirical_expected_reward(rollout, r),
        exact_stderr=ro.exact_stderr(table, r, config.queries, config.responses),
        convergence=conv, training=training, seconds=time.perf_counter() - t0,
        warnings=warnings,
        reward_model=reward_model_step(table, r, config, numpy_generator(seed, 0, 4)))


def rows(res: WalkthroughResult) -> list[list]:
    """CSV rows (:data:`COLUMNS`): one per convergence point, one per policy step."""
    cv, tr = res.convergence, res.training
    out = []
    for i, n in enumerate(cv.n_queries):
        out.append(["convergence", "", int(n), cv.k, int(n) * cv.k, cv.repetitions,
                    res.expected_reward_exact, "", cv.mean_stderr[i], cv.mean_abs_error[i],
                    cv.rms_error[i], cv.exact_stderr[i], cv.coverage[i], "", "", ""])
    for t in tr.step:
        out.append(["updates", int(t), tr.n_queries, tr.k, tr.n_queries * tr.k, "",
                    tr.expected_reward_exact[t], tr.expected_reward_estimate[t],
                    tr.expected_reward_stderr[t], "", "", "", "", tr.kl_exact[t], tr.kl_k1[t],
                    tr.kl_k3[t]])
    return [[_fmt(v) for v in row] for row in out]


def _fmt(v):
    if isinstance(v, float | np.floating):
        return repr(float(v))
    if isinstance(v, np.integer):
        return int(v)
    return v


def write_outputs(res: WalkthroughResult, out: Path, overwrite: bool = False) -> Path:
    """walkthrough.csv (+ .json sidecar with the summary), walkthrough.png, summary.json."""
    from ..plots.figure import save
    from ..plots.walkthrough import walkthrough_figure

    out = prepare_out_dir(out, overwrite, FILES)
    summary = res.as_json()
    path = write_table(out / "walkthrough.csv", COLUMNS, rows(res),
                       sidecar(asdict(res.config), res.seed, units=UNITS, summary=summary))
    save(walkthrough_figure(res), out / "walkthrough.png")
    write_json(out / "summary.json", summary)
    return path


def _short(s: str, n: int) -> str:
    return s if len(s) <= n else s[:n - 1] + "…"


def report(res: WalkthroughResult) -> str:
    """The walkthrough as readable text, step by step."""
    t, tr, cv = res.table, res.training, res.convergence
    L = []
    L.append("Step 1 — the reviewer r(query, response) hands out bananas (the note's scores)")
    L.append(f"  {'query':<32} {'response':<50} {'reward':>9}")
    for d in res.rewards:
        tag = "  (pretrained reward model)" if d["reviewer"] == "pretrained reward model" else ""
        L.append(f"  {d['query']:<32} {d['response']:<50} {d['reward']:>9g}{tag}")
    L.append(f"  The note's first section scores \"no country owns Antarctica\" "
             f"{NO_COUNTRY_FIRST_SECTION:g}; its rollout table 0.09, used here.")
    u = res.unknown_response
    L.append(f"  A response with no entry, {u['response']!r}, is never paid silently: by "
             "default (unknown='error') the scripted reviewer refuses:")
    L.append(f"    error: {u['error']}")
    L.append(f"  with unknown='default' it pays {u['default_reward']:g} and records the pair "
             f"(unknown_calls = {len(u['unknown_calls'])}; a warning is printed).")
    L.append("")
    L.append("Step 2 — the query table D and the response tables D_n "
             "(* = the note's own text; probabilities are illustrative)")
    for i, row in enumerate(t.rows):
        L.append(f"  x_{i + 1}  D(x) = {row.p:<5g} {'*' if row.from_note else ' '} "
                 f"{row.query!r}")
        for j, y in enumerate(row.responses):
            L.append(f"       k={j + 1}  p(y|x) = {y.p:<5g} r = {res.reward_matrix[i, j]:<7g}"
                     f"{'*' if y.from_note else ' '} {y.response!r}")
    L.append("")
    n, k = res.rollout.n_queries, res.rollout.k
    L.append(f"Step 3 — a rollout: N = {n} queries x ~ D, K = {k} responses each y ~ D_n "
             f"(seed {res.seed})")
    for idx, ((q, ys), rs) in enumerate(zip(res.rollout.texts(), res.rollout_rewards,
                                             strict=True)):
        shown = "; ".join(f"{_short(y, 24)!r} → {r:g}" for y, r in zip(ys, rs, strict=True))
        L.append(f"  x_{idx + 1} = {_short(q, 32)!r}: {shown}")
    L.append("")
    e = res.estimate
    L.append("Step 4 — expected reward")
    L.append(f"  empirical (1/NK) Σ_n Σ_k r(x_n, y_nk) = {e.mean:.4f} ± {e.stderr:.4f} "
             f"(stderr over the {n} per-query means; 95% interval "
             f"[{e.low:.4f}, {e.high:.4f}])")
    L.append(f"  exact     E_x~D Σ_y p(y|x) r(x, y)     = {res.expected_reward_exact:.4f}   "
             f"(exact sd of the estimate at N={n}, K={k}: {res.exact_stderr:.4f})")
    L.append("")
    L.append(f"Step 5 — the estimate converges at rate 1/√(NK) (K = {cv.k}, "
             f"{cv.repetitions} rollouts per row)")
    L.append(f"  {'NK docs':>8} {'mean |err|':>11} {'mean stderr':>12} {'exact sd':>9} "
             f"{'95% coverage':>13}")
    for i, d in enumerate(cv.documents):
        L.append(f"  {int(d):>8} {cv.mean_abs_error[i]:>11.5f} {cv.mean_stderr[i]:>12.5f} "
                 f"{cv.exact_stderr[i]:>9.5f} {cv.coverage[i]:>13.3f}")
    L.append(f"  log-log slope of the RMS error vs NK: {cv.slope():.3f} (theory −0.5)")
    L.append("")
    L.append(f"Step 6 — policy gradient on the table policy π_θ (θ = log p at the start): "
             f"{tr.step[-1]} updates, N = {tr.n_queries} × K = {tr.k} documents each, "
             f"lr {tr.lr:g}, baseline {tr.baseline}")
    L.append(f"  {'step':>5} {'E[r] exact':>11} {'E[r] est.':>10} {'KL exact':>9} "
             f"{'KL k1':>8} {'KL k3':>8}")
    stride = max(1, len(tr.step) // 10)
    shown_steps = sorted(set(range(0, len(tr.step), stride)) | {len(tr.step) - 1})
    for s in shown_steps:
        L.append(f"  {s:>5} {tr.expected_reward_exact[s]:>11.4f} "
                 f"{tr.expected_reward_estimate[s]:>10.4f} {tr.kl_exact[s]:>9.4f} "
                 f"{tr.kl_k1[s]:>8.4f} {tr.kl_k3[s]:>8.4f}")
    best = res.as_json()["expected_reward_max"]
    L.append(f"  expected reward {tr.expected_reward_exact[0]:.4f} → "
             f"{tr.expected_reward_exact[-1]:.4f} (best possible {best:.4f}); KL to the "
             f"pretrained policy 0 → {tr.kl_exact[-1]:.4f} nats")
    rm = res.reward_model
    if rm:
        L.append("")
        L.append("Step 7 — a pretrained reward model r_φ(query + response) replaces the "
                 "reviewer; θ is updated from its scores")
        L.append(f"  Bradley–Terry on hashed character n-grams of 'query response', fitted to "
                 f"the reviewer's {rm['pairs']} preferences between responses to one query: "
                 f"it ranks {rm['pair_accuracy']:.0%} of them as the reviewer does")
        L.append(f"  after {rm['updates']} updates from r_φ: reviewer's expected reward "
                 f"{rm['reviewer_expected_before']:.4f} → {rm['reviewer_expected_after']:.4f} "
                 f"(r_φ's own: {rm['reward_model_expected_before']:.3f} → "
                 f"{rm['reward_model_expected_after']:.3f}); KL {rm['kl_after']:.4f} nats")
    L.append(f"\n{res.seconds:.1f} s")
    return "\n".join(L)
