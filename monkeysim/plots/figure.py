"""Writing a figure: every figure of the package is saved here (PNG, atomically, no
timestamps in the metadata, so the same figure gives the same bytes)."""

from __future__ import annotations

import io
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ..results import atomic_write_bytes


def save(fig: Figure, path: Path) -> None:
    """Render ``fig`` to PNG and write it atomically."""
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, metadata={"Software": None})
    atomic_write_bytes(path, buf.getvalue())
