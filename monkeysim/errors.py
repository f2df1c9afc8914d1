"""The exception types the CLI turns into one line, and the shared value checks.

Library code raises :class:`InvalidInput` (a ``ValueError``) with a one-line message that
names the bad value and what is allowed; the CLI prints it as ``monkeysim: error: ...`` and
exits with status 2 (refused before anything ran). A run that started and cannot finish
(learning diverged, the disk filled up) raises :class:`RunFailed` or an ``OSError``: one line,
exit status 1.

Resource limits: :func:`check_memory` refuses a count whose arrays would need more than
:data:`MEMORY_FRACTION` of the machine's physical memory, naming the limit.
"""

from __future__ import annotations

import errno
import os

MEMORY_FRACTION = 0.5
"""Share of the machine's physical memory one run may plan to allocate."""


class InvalidInput(ValueError):
    """Bad user input: the message names the value and what is allowed."""


class RunFailed(RuntimeError):
    """A run that started could not finish (e.g. learning diverged): one line, exit 1."""


class Diverged(RunFailed):
    """Learning diverged (the step size is far too large): exit 1 like any failed run, but
    nothing of the run is worth keeping, so its output directory is put back as it was (as
    after a refusal, see :class:`monkeysim.results.RunDir`)."""


def require(condition: bool, message: str) -> None:
    """Raise :class:`InvalidInput` with ``message`` unless ``condition`` holds."""
    if not condition:
        raise InvalidInput(message)


def positive_int(value, name: str) -> int:
    """Return ``value`` as a Python int if it is an integer ≥ 1, else raise InvalidInput."""
    if isinstance(value, bool) or not isinstance(value, int | _np_integer()):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise InvalidInput(f"{name} must be a positive integer, got {value!r}")
    value = int(value)
    if value <= 0:
        raise InvalidInput(f"{name} must be a positive integer, got {value}")
    return value


def is_real(x) -> bool:
    """True for an int or float (Python or numpy), but not a bool."""
    import numpy as np

    return isinstance(x, int | float | np.integer | np.floating) and not isinstance(x, bool)


def positive_float(x, name: str) -> float:
    """Return ``x`` as a float if it is a real number > 0 and finite, else InvalidInput."""
    import math

    if not is_real(x) or not (float(x) > 0) or not math.isfinite(float(x)):
        raise InvalidInput(f"{name} must be a positive finite number, got {x!r}")
    return float(x)


def nonneg_float(x, name: str) -> float:
    """Return ``x`` as a float if it is a real number ≥ 0 and finite, else InvalidInput."""
    import math

    if not is_real(x) or not (float(x) >= 0) or not math.isfinite(float(x)):
        raise InvalidInput(f"{name} must be a finite number ≥ 0, got {x!r}")
    return float(x)


def choice(value, allowed, name: str) -> None:
    """InvalidInput unless ``value`` is one of the strings ``allowed``."""
    if not isinstance(value, str) or value not in allowed:
        raise InvalidInput(f"unknown {name} {value!r}; choose from {', '.join(allowed)}")


def _np_integer():
    import numpy as np

    return np.integer


# --- resource limits -------------------------------------------------------------------------

def physical_memory() -> int:
    """Bytes of physical memory of this machine (``MONKEYSIM_MEMORY`` overrides it)."""
    override = os.environ.get("MONKEYSIM_MEMORY")
    if override:
        return int(float(override))
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, OSError, ValueError):  # not POSIX: assume 8 GB
        return 8 << 30


def memory_limit() -> int:
    """Bytes one run may plan to allocate: :data:`MEMORY_FRACTION` of physical memory."""
    return int(physical_memory() * MEMORY_FRACTION)


def format_bytes(n: float) -> str:
    """``n`` bytes as e.g. ``11.7 GB`` (powers of 1024)."""
    for unit in ("bytes", "KB", "MB", "GB", "TB", "PB"):
        if abs(n) < 1024 or unit == "PB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024
    raise AssertionError


def check_memory(count: int, bytes_each: float, what: str, fixed: float = 0) -> None:
    """InvalidInput unless ``count`` items of ``bytes_each`` bytes (plus ``fixed``) fit in
    :func:`memory_limit`; the message names ``what``, the need, the limit and the largest
    count that fits. ``what`` reads like ``"--monkeys"`` or ``"monkeys × batch"``."""
    need = float(count) * bytes_each + fixed
    limit = memory_limit()
    if need > limit:
        most = max(0, int((limit - fixed) // bytes_each))
        raise InvalidInput(
            f"{what} {count:,} needs about {format_bytes(need)} of memory; the limit is "
            f"{format_bytes(limit)} ({MEMORY_FRACTION:.0%} of this machine's "
            f"{format_bytes(physical_memory())}): at most {most:,}")


# --- OS errors as one line -------------------------------------------------------------------

_WRITE_ERRNOS = {errno.EROFS, errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


def os_error_message(exc: OSError, verb: str | None = None, path=None) -> str:
    """One line for an OS error: ``cannot write 'X': read-only file system``.

    ``verb`` defaults to ``write`` for errors only writes have (read-only, disk full) and
    ``access`` otherwise; ``path`` defaults to the error's own file name."""
    name = path if path is not None else exc.filename
    if verb is None:
        verb = "write" if exc.errno in _WRITE_ERRNOS else "access"
    reason = (exc.strerror or str(exc) or type(exc).__name__).lower()
    where = f" {str(name)!r}" if name is not None else ""
    if exc.filename2 is not None and path is None:
        where += f" (or {str(exc.filename2)!r})"
    return f"cannot {verb}{where}: {reason}"
