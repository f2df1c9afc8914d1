"""The one exception type for bad input.

Library code raises :class:`InvalidInput` (a ``ValueError``) with a one-line message that
names the bad value and what is allowed; the CLI prints it as ``monkeysim: error: ...`` and
exits with status 2.
"""


class InvalidInput(ValueError):
    """Bad user input: the message names the value and what is allowed."""


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
