"""Atomic result files: CSV tables with a JSON sidecar, and output directories.

Every write goes to a temporary file in the same directory and is moved into place with
``os.replace``, so a run killed at any moment leaves either the old file or the new one.
Each CSV ``NAME.csv`` gets ``NAME.json`` with the config, seed, versions and git revision.
"""

from __future__ import annotations

import csv
import io
import json
import os
import platform
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from .errors import InvalidInput

_UMASK = os.umask(0o022)
os.umask(_UMASK)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temp file in the same directory + os.replace)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; give the usual file mode
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def csv_text(columns: Sequence[str], rows: Iterable[Sequence]) -> str:
    """Render rows as CSV text with a header line and ``\\n`` line endings."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(row)
    return buf.getvalue()


def git_revision() -> str | None:
    """The current git commit of the source tree, or None outside a repository."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                             cwd=Path(__file__).resolve().parent, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def versions() -> dict[str, str]:
    """Versions of Python, the platform and the main dependencies."""
    import matplotlib
    import numba
    import numpy

    from . import __version__

    return {"monkeysim": __version__, "python": sys.version.split()[0],
            "numpy": numpy.__version__, "numba": numba.__version__,
            "matplotlib": matplotlib.__version__, "platform": platform.platform()}


def sidecar(config: Mapping, seed: int | None, **extra) -> dict:
    """The JSON sidecar dict: config, seed, versions, git revision and any extra fields."""
    return {"config": dict(config), "seed": seed, "versions": versions(),
            "git_revision": git_revision(), **extra}


def write_table(path: str | os.PathLike, columns: Sequence[str], rows: Iterable[Sequence],
                meta: Mapping) -> Path:
    """Write ``path`` (CSV) and its JSON sidecar (``path`` with ``.json``) atomically."""
    path = Path(path)
    atomic_write_text(path, csv_text(columns, rows))
    atomic_write_text(path.with_suffix(".json"), json.dumps(meta, indent=2, default=str) + "\n")
    return path


def new_run_dir(command: str, root: str | os.PathLike = "runs") -> Path:
    """A fresh ``runs/COMMAND-YYYYmmdd-HHMMSS`` path (suffixed ``-1`` until it is unused)."""
    import time

    out = Path(root) / time.strftime(f"{command}-%Y%m%d-%H%M%S")
    while out.exists():
        out = out.with_name(out.name + "-1")
    return out


def run_out_dir(out: str | os.PathLike | None, command: str, resume: bool) -> Path:
    """The output directory of a resumable command: ``out``, or a fresh ``runs/`` directory
    when none is given (``resume`` then is an error: there is nothing to continue)."""
    if out is not None:
        return Path(out)
    if resume:
        raise InvalidInput("--resume needs --out DIR (the run to continue)")
    return new_run_dir(command)


def prepare_out_dir(out: str | os.PathLike, overwrite: bool, names: Sequence[str] = ()) -> Path:
    """Check an output directory before anything is computed.

    ``out`` may not exist yet (it is created). If it exists and holds any of ``names`` (or,
    with no names given, anything at all), ``overwrite`` must be set, else InvalidInput.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InvalidInput(f"--out {str(out)!r} exists and is not a directory")
    if out.exists() and not overwrite:
        clash = [n for n in names if (out / n).exists()] if names else list(out.iterdir())
        if clash:
            raise InvalidInput(
                f"--out {str(out)!r} already holds results; pass --overwrite to replace them"
            )
    out.mkdir(parents=True, exist_ok=True)
    return out


def write_json(path: str | os.PathLike, obj) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, default=str) + "\n")
