"""Cell runner for long experiments: checkpoint per finished cell, resume, atomic results.

An experiment is an ordered list of *cells* (independent units of work, each with its own
seed derived from the root seed and the cell's index). Each finished cell's rows are written
atomically to ``DIR/cells/NNNNN.json``; ``resume=True`` skips cells already there. The final
tables are assembled from all cells in cell order, so a resumed run gives byte-identical
output to an uninterrupted one. A ``manifest.json`` records the config, so a resume with a
different config is refused.

Checkpoints check themselves (:func:`checkpoint_bytes` / :func:`read_checkpoint`, also used
by `monkeysim shakespeare`): a header line records the run (:func:`run_id`, the sha256 of the
manifest), the cell's index and key, the payload's size and a sha256 over all of them and the
payload that follows. A resume recomputes every cell whose file is missing, torn, corrupted,
or belongs to another run or another index, and says how many on stderr.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import InvalidInput
from ..results import atomic_write_bytes, atomic_write_text


@dataclass(frozen=True)
class Cell:
    """One unit of work: ``key`` names it (JSON-able), ``cost`` weighs it for the progress bar."""

    key: tuple
    cost: float = 1.0


def run_cells(cells: Sequence[Cell], work: Callable[[int, Cell], list], out: Path,
              manifest: dict, resume: bool, quiet: bool = False,
              after_cell: Callable[[int], None] | None = None, desc: str = "cells",
              subdir: str = "cells", backend=None) -> list:
    """Run ``work(index, cell) -> rows`` for every cell not yet checkpointed in ``out/subdir``.

    Returns the list of per-cell row lists in cell order. ``after_cell(i)`` is called after
    each cell is checkpointed (tests use it to simulate an interruption). ``backend``: None
    runs the cells here, in order; else a callable ``backend(work, [(i, cell), ...],
    on_result)`` that computes them elsewhere (a Dask cluster, :mod:`.dask_backend`) and calls
    ``on_result(i, rows)`` for each as it finishes; ``work`` must then be picklable. The
    result does not depend on the backend: each cell's seed comes from its index.
    """
    cell_dir = out / subdir
    man_path = out / "manifest.json"
    manifest = json.loads(json.dumps(manifest, default=str))
    run = run_id(manifest)
    if resume and man_path.exists():
        verify_manifest(out, manifest)
    cell_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(man_path, json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    done: dict[int, list] = {}
    if resume:
        damaged: Counter = Counter()
        for i, cell in enumerate(cells):
            rows, problem = load_cell(cell_dir, i, cell, run)
            if rows is not None:
                done[i] = rows
            else:
                damaged[problem] += 1
        report_resume(len(cells), damaged, subdir)
    bar = progress_bar(sum(c.cost for c in cells), quiet, desc,
                       bar_format="{desc}: {percentage:3.0f}%|{bar}| [{elapsed}<{remaining}]")
    bar.update(sum(cells[i].cost for i in done))

    def finished(i: int, rows: list) -> None:
        write_cell(cell_dir, i, cells[i], rows, run)
        done[i] = json.loads(json.dumps(rows))  # same types as a resumed cell
        bar.update(cells[i].cost)
        if after_cell is not None:
            after_cell(i)

    pending = [(i, cell) for i, cell in enumerate(cells) if i not in done]
    try:
        if backend is None:
            for i, cell in pending:
                finished(i, work(i, cell))
        elif pending:
            backend(work, pending, finished)
    finally:
        bar.close()
    return [done[i] for i in range(len(cells))]


# --- self-checking checkpoints ----------------------------------------------------------------

CHECKPOINT_FORMAT = "monkeysim-checkpoint/1"
MISSING = "missing"


def run_id(manifest: dict) -> str:
    """The identity of a run: sha256 of its manifest as canonical JSON."""
    text = json.dumps(manifest, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _digest(header: dict, payload: bytes) -> str:
    """sha256 over the header's fields (all but the digest itself) and the payload, so a
    flipped byte anywhere in the file is caught."""
    fields = {k: v for k, v in header.items() if k != "sha256"}
    head = json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(head + b"\n" + payload).hexdigest()


def checkpoint_bytes(payload: bytes, run: str, index: int, key) -> bytes:
    """A checkpoint file: one JSON header line (format, run, index, key, payload size and the
    sha256 of all of them and the payload), then the payload."""
    header = {"format": CHECKPOINT_FORMAT, "run": run, "index": index,
              "key": json.loads(json.dumps(key)), "bytes": len(payload)}
    header["sha256"] = _digest(header, payload)
    return json.dumps(header, sort_keys=True).encode() + b"\n" + payload


def read_checkpoint(path: Path, run: str, index: int, key) -> tuple[bytes | None, str]:
    """``(payload, "")`` if ``path`` is a whole checkpoint of cell ``index`` (with ``key``)
    of run ``run``; else ``(None, why)``: missing, torn, corrupted, another run, another
    index."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        return None, MISSING
    except IsADirectoryError:
        return None, "corrupted"
    head, sep, payload = data.partition(b"\n")
    try:
        header = json.loads(head) if sep else None
    except (UnicodeDecodeError, ValueError):
        header = None
    if not isinstance(header, dict) or header.get("format") != CHECKPOINT_FORMAT:
        return None, "torn" if not sep else "corrupted"
    size = header.get("bytes")
    if isinstance(size, int) and size > len(payload):
        return None, "torn"
    if size != len(payload) or _digest(header, payload) != header.get("sha256"):
        return None, "corrupted"
    if header.get("run") != run:
        return None, "another run"
    if header.get("index") != index or header.get("key") != json.loads(json.dumps(key)):
        return None, "another index"
    return payload, ""


def cell_path(cell_dir: Path, index: int) -> Path:
    return cell_dir / f"{index:05d}.json"


def write_cell(cell_dir: Path, index: int, cell: Cell, rows: list, run: str) -> None:
    """Checkpoint one finished cell atomically (its rows as JSON after the header line)."""
    payload = (json.dumps(rows) + "\n").encode()
    atomic_write_bytes(cell_path(cell_dir, index),
                       checkpoint_bytes(payload, run, index, list(cell.key)))


def load_cell(cell_dir: Path, index: int, cell: Cell, run: str) -> tuple[list | None, str]:
    """``(rows, "")`` of a verified checkpoint of this cell, else ``(None, why)``."""
    payload, problem = read_checkpoint(cell_path(cell_dir, index), run, index, list(cell.key))
    if payload is None:
        return None, problem
    try:
        return json.loads(payload), ""
    except ValueError:  # pragma: no cover - the checksum matched what was written
        return None, "corrupted"


def report_resume(total: int, problems: Counter, where: str) -> None:
    """One stderr line: how many checkpoints in ``where/`` a resume keeps and why it
    recomputes the rest."""
    redo = sum(problems.values())
    why = ", ".join(f"{n} {p}" for p, n in sorted(problems.items()))
    print(f"resume: {total - redo} of {total} checkpoints in {where}/ verified; recomputing "
          f"{redo}" + (f" ({why})" if why else ""), file=sys.stderr)


def verify_manifest(out: Path, manifest: dict) -> None:
    """For ``--resume``: ``out`` must hold a run with exactly this (JSON-able) manifest."""
    path = out / "manifest.json"
    if not path.exists():
        raise InvalidInput(f"--resume: {str(out)!r} holds no run to continue")
    try:
        found = json.loads(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"--resume: the manifest of {str(out)!r} is unreadable "
                           f"({type(exc).__name__}); start a new run with --overwrite") from None
    command = found.get("command") if isinstance(found, dict) else None
    if command != manifest.get("command"):
        raise InvalidInput(f"--resume: {str(out)!r} holds a {command or 'foreign'} run, not a "
                           f"{manifest.get('command')} run; use a new --out")
    if found != json.loads(json.dumps(manifest, default=str)):
        raise InvalidInput(f"--resume: {str(out)!r} holds a run with other options or "
                           "inputs; use the same options or a new --out")


def progress_bar(total: float, quiet: bool, desc: str, unit: str = "work", **kwargs):
    """A tqdm bar on stderr, off when ``quiet``, when stderr is not a terminal or when
    MONKEYSIM_QUIET=1."""
    from tqdm import tqdm

    disable = quiet or not sys.stderr.isatty() or os.environ.get("MONKEYSIM_QUIET") == "1"
    return tqdm(total=total, disable=disable, desc=desc, unit=unit, file=sys.stderr, **kwargs)
