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


def _np_integer():
    import numpy as np

    return np.integer
