"""monkeysim: infinite monkeys, bananas and RLHF, measured.

Public API highlights:

- :func:`type_race` — many random monkeys race to type a target (numba kernels).
- :mod:`monkeysim.theory` — exact waiting-time theory (Conway, Markov chain).
- :class:`Alphabet`, :mod:`monkeysim.texts` — keys and built-in targets.
"""

from .alphabet import Alphabet  # noqa: E402
from .typewriter import RaceResult, type_race  # noqa: E402
from .version import __version__  # noqa: E402

__all__ = ["Alphabet", "RaceResult", "type_race", "__version__"]
