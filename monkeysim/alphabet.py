"""Alphabets: the ordered keys of a typewriter, and text encoding to uint8 codes.

An :class:`Alphabet` maps each symbol to its index (its *code*); documents and targets are
``uint8`` arrays of codes. Named alphabets:

- ``upper27``: A–Z and space (Dawkins' weasel keyboard)
- ``lower27``: a–z and space
- ``typewriter``: printable ASCII (space to ``~``) and newline, 96 keys
"""

from __future__ import annotations

import string
from dataclasses import dataclass

import numpy as np

from .errors import InvalidInput

MAX_SYMBOLS = 255

NAMED_ALPHABETS: dict[str, str] = {
    "upper27": string.ascii_uppercase + " ",
    "lower27": string.ascii_lowercase + " ",
    "typewriter": "".join(chr(c) for c in range(32, 127)) + "\n",
}


@dataclass(frozen=True)
class Alphabet:
    """An ordered set of unique symbols (1 to 255 of them).

    Attributes:
        symbols: the keys, in code order (code ``i`` types ``symbols[i]``).
        name: a label (a named alphabet's name, or ``"custom"``).
    """

    symbols: str
    name: str = "custom"

    def __post_init__(self) -> None:
        if not isinstance(self.symbols, str):
            raise InvalidInput(f"alphabet symbols must be a string, got {self.symbols!r}")
        if len(self.symbols) == 0:
            raise InvalidInput("alphabet is empty; give at least one symbol")
        if len(self.symbols) > MAX_SYMBOLS:
            raise InvalidInput(
                f"alphabet has {len(self.symbols)} symbols; at most {MAX_SYMBOLS} are allowed"
            )
        seen: set[str] = set()
        dupes = [c for c in self.symbols if c in seen or seen.add(c)]
        if dupes:
            raise InvalidInput(
                f"alphabet has duplicate symbols {''.join(sorted(set(dupes)))!r}; "
                "every symbol must appear once"
            )

    @property
    def size(self) -> int:
        """Number of keys A."""
        return len(self.symbols)

    def __len__(self) -> int:
        return len(self.symbols)

    def __contains__(self, char: str) -> bool:
        return char in self.symbols

    def missing(self, text: str) -> str:
        """Characters of ``text`` that are not keys of this alphabet, sorted and unique."""
        keys = set(self.symbols)
        return "".join(sorted({c for c in text if c not in keys}))

    def encode(self, text: str) -> np.ndarray:
        """Encode ``text`` as a uint8 array of codes, shape (len(text),)."""
        bad = self.missing(text)
        if bad:
            hint = suggest_alphabet_name(text)
            where = f"; try --alphabet {hint}" if hint else "; give --alphabet-chars"
            raise InvalidInput(
                f"characters {bad!r} are not in alphabet {self.name!r}{where}"
            )
        index = {c: i for i, c in enumerate(self.symbols)}
        return np.fromiter((index[c] for c in text), dtype=np.uint8, count=len(text))

    def decode(self, codes) -> str:
        """Decode an array of codes back to text."""
        codes = np.asarray(codes)
        if codes.size and int(codes.max()) >= self.size:
            raise InvalidInput(f"code {int(codes.max())} is outside alphabet of size {self.size}")
        return "".join(self.symbols[int(c)] for c in codes.ravel())


def named(name: str) -> Alphabet:
    """The named alphabet ``name`` (one of :data:`NAMED_ALPHABETS`)."""
    if name not in NAMED_ALPHABETS:
        raise InvalidInput(
            f"unknown alphabet {name!r}; choose from {', '.join(NAMED_ALPHABETS)}"
        )
    return Alphabet(NAMED_ALPHABETS[name], name)


def suggest_alphabet_name(text: str) -> str | None:
    """The smallest named alphabet containing every character of ``text``, or None."""
    fits = [n for n, s in NAMED_ALPHABETS.items() if not set(text) - set(s)]
    return min(fits, key=lambda n: len(NAMED_ALPHABETS[n])) if fits else None


def default_for(text: str) -> Alphabet:
    """The smallest named alphabet that contains every character of ``text``.

    Raises InvalidInput naming the characters no named alphabet has.
    """
    name = suggest_alphabet_name(text)
    if name is None:
        bad = named("typewriter").missing(text)
        raise InvalidInput(
            f"characters {bad!r} are in no named alphabet; give them with --alphabet-chars"
        )
    return named(name)


def resolve(text: str, alphabet: Alphabet | str | None = None,
            chars: str | None = None) -> Alphabet:
    """Pick the alphabet for ``text``: explicit chars, a name, an Alphabet, or the default."""
    if chars is not None and alphabet is not None:
        raise InvalidInput("give either an alphabet name or alphabet characters, not both")
    if chars is not None:
        alpha = Alphabet(chars, "custom")
    elif isinstance(alphabet, Alphabet):
        alpha = alphabet
    elif isinstance(alphabet, str):
        alpha = named(alphabet)
    elif alphabet is None:
        return default_for(text)
    else:
        raise InvalidInput(f"alphabet must be a name or an Alphabet, got {alphabet!r}")
    alpha.encode(text)  # raises naming the missing characters
    return alpha
