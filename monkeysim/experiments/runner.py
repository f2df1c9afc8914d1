"""Cell runner for long experiments: checkpoint per finished cell, resume, atomic results.

An experiment is an ordered list of *cells* (independent units of work, each with its own
seed derived from the root seed and the cell's index). Each finished cell's rows are written
atomically to ``DIR/cells/NNNNN.json``; ``resume=True`` skips cells already there. The final
tables are assembled from all cells in cell order, so a resumed run gives byte-identical
output to an uninterrupted one. A ``manifest.json`` records the config, so a resume with a
different config is refused.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import InvalidInput
from ..results import atomic_write_text


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
    if resume and man_path.exists():
        verify_manifest(out, manifest)
    cell_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(man_path, json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    done: dict[int, list] = {}
    if resume:
        for i in range(len(cells)):
            path = cell_dir / f"{i:05d}.json"
            if path.exists():
                done[i] = json.loads(path.read_text())["rows"]
    bar = progress_bar(sum(c.cost for c in cells), quiet, desc,
                       bar_format="{desc}: {percentage:3.0f}%|{bar}| [{elapsed}<{remaining}]")
    bar.update(sum(cells[i].cost for i in done))

    def finished(i: int, rows: list) -> None:
        atomic_write_text(cell_dir / f"{i:05d}.json",
                          json.dumps({"key": list(cells[i].key), "rows": rows}) + "\n")
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


def verify_manifest(out: Path, manifest: dict) -> None:
    """For ``--resume``: ``out`` must hold a run with exactly this (JSON-able) manifest."""
    path = out / "manifest.json"
    if not path.exists():
        raise InvalidInput(f"--resume: {str(out)!r} holds no run to continue")
    if json.loads(path.read_text()) != json.loads(json.dumps(manifest, default=str)):
        raise InvalidInput(f"--resume: {str(out)!r} holds a run with other options or "
                           "inputs; use the same options or a new --out")


def progress_bar(total: float, quiet: bool, desc: str, unit: str = "work", **kwargs):
    """A tqdm bar on stderr, off when ``quiet``, when stderr is not a terminal or when
    MONKEYSIM_QUIET=1."""
    from tqdm import tqdm

    disable = quiet or not sys.stderr.isatty() or os.environ.get("MONKEYSIM_QUIET") == "1"
    return tqdm(total=total, disable=disable, desc=desc, unit=unit, file=sys.stderr, **kwargs)
