"""Built-in targets: short public-domain lines and the course note's answers.

``BUILTIN_TEXTS`` maps a name to its text; :func:`get` looks one up with a clear error.
"""

from __future__ import annotations

from .errors import InvalidInput

BUILTIN_TEXTS: dict[str, str] = {
    # Richard Dawkins, The Blind Watchmaker (1986), quoting Hamlet III.2.
    "weasel": "METHINKS IT IS LIKE A WEASEL",
    # Hamlet III.1.
    "hamlet": "To be, or not to be, that is the question",
    "hamlet-lower": "to be or not to be that is the question",
    # Sonnet 18, lines 1-2.
    "sonnet18": "Shall I compare thee to a summer's day?\nThou art more lovely and more temperate:",
    "sonnet18-line1": "Shall I compare thee to a summer's day?",
    # Macbeth V.5.
    "macbeth": "Tomorrow, and tomorrow, and tomorrow",
    # Richard III I.1.
    "richard3": "Now is the winter of our discontent",
    # The course note's answers (its reviewer's top-scored responses).
    "antarctica": "Antarctica is governed by an international treaty",
    "pacific": "the Pacific Ocean",
    # Short targets that random monkeys can type in seconds.
    "to-be": "TO BE",
    "banana": "BANANA",
}


def get(name: str) -> str:
    """The built-in text called ``name``."""
    if name not in BUILTIN_TEXTS:
        raise InvalidInput(
            f"unknown built-in text {name!r}; choose from {', '.join(BUILTIN_TEXTS)}"
        )
    return BUILTIN_TEXTS[name]
