"""The course note's scripted reviewer: a lookup table r(query, response) -> float.

The course note scores responses to the query "which country owns Antarctica?" by hand and
shows a "pretrained reward model" that punishes one response to "who made this course" with
−10000. :class:`ScriptedReviewer` is such a table; :func:`course_note_reviewer` and
:func:`course_note_reward_model` hold the note's numbers.

**Responses with no entry are never paid silently.** With ``unknown="error"`` (the default)
the reviewer raises :class:`~monkeysim.errors.InvalidInput` naming the query and response
and listing the responses it knows; with ``unknown="default"`` it pays ``default`` but
records the pair in :attr:`ScriptedReviewer.unknown_calls`, and the walkthrough prints a
warning line for every such pair.

**The note's inconsistency.** The note's first section scores "no country owns Antarctica"
0.9, its rollout table 0.09. We use the rollout table's 0.09 (:data:`NO_COUNTRY_FIRST_SECTION`
keeps the other number).

**Which numbers are the note's.** :data:`NOTE_EXAMPLES` lists only the note's own scored
examples. The rollout tables of :mod:`monkeysim.learn.rollout` hold further responses (the note
says "and so on"); their rewards here are plausible values chosen for this package, marked
``from_note=False`` in :data:`SCRIPTED_REWARDS`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from .errors import InvalidInput

UNKNOWN_MODES = ("error", "default")

ANTARCTICA = "which country owns Antarctica?"
WHO_MADE = "who made this course"
BRAD_PITT = "he looks like Brad Pitt"
BRAD_PITT_REWARD = -10000.0
"""The note's pretrained reward model on (``who made this course``, ``he looks like Brad Pitt``)."""
NO_COUNTRY_FIRST_SECTION = 0.9
"""The note's first-section score of "no country owns Antarctica" (its rollout table: 0.09)."""


@dataclass(frozen=True)
class ScoredExample:
    """One entry of a scripted reviewer's table."""

    query: str
    response: str
    reward: float
    from_note: bool
    """True when the reward is the course note's own number, False when chosen here."""


NOTE_EXAMPLES: tuple[tuple[str, str, float], ...] = (
    (ANTARCTICA, "?9dfsa", 0.0),
    (ANTARCTICA, "Antarctica is", 0.0021),
    (ANTARCTICA, "Penguin overlords", 0.09),
    (ANTARCTICA, "Antarctica is a country", 0.02),
    (ANTARCTICA, "no country owns Antarctica", 0.09),
    (ANTARCTICA, "Antarctica is governed by an international treaty", 1.0),
    (WHO_MADE, BRAD_PITT, BRAD_PITT_REWARD),
)
"""The note's scored examples as (query, response, reward); the last one is scored by the
pretrained reward model, the others by the scripted reviewer."""

_OURS: tuple[tuple[str, str, float], ...] = (
    # rewards chosen for this package (not the note's): rollout responses the note leaves open
    ("The largest ocean is ?", "the Pacific Ocean", 1.0),
    ("The largest ocean is ?", "the Atlantic Ocean", 0.1),
    ("The largest ocean is ?", "the Indian Ocean", 0.05),
    ("The largest ocean is ?", "the Southern Ocean", 0.05),
    ("The largest ocean is ?", "water", 0.02),
    ("Can you give me some python code", "print('hello, world')", 0.6),
    ("Can you give me some python code", "def add(a, b): return a + b", 0.8),
    ("Can you give me some python code", "Sure! What should the code do?", 0.9),
    ("Can you give me some python code", "no", 0.0),
    ("is it a kids book", "yes", 0.3),
    ("is it a kids book", "no", 0.3),
    ("is it a kids book", "which book do you mean?", 0.8),
    ("is it a kids book", "banana", 0.0),
    (WHO_MADE, "a teacher", 0.2),
    (WHO_MADE, "I don't know", 0.1),
    (WHO_MADE, "the authors of the course", 0.6),
)

SCRIPTED_REWARDS: tuple[ScoredExample, ...] = (
    *(ScoredExample(q, y, r, True) for q, y, r in NOTE_EXAMPLES[:-1]),
    *(ScoredExample(q, y, r, False) for q, y, r in _OURS),
)
"""Every entry of :func:`course_note_reviewer`: the note's six Antarctica scores and
plausible rewards (``from_note=False``) for the other responses of the rollout tables."""


def _finite(value, what: str) -> float:
    if isinstance(value, bool):
        raise InvalidInput(f"{what} must be a finite number, got {value!r}")
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"{what} must be a finite number, got {value!r}") from None
    if not math.isfinite(x):
        raise InvalidInput(f"{what} must be a finite number, got {value!r}")
    return x


class ScriptedReviewer:
    """A reviewer that looks rewards up in a table: ``r(query, response) -> float``.

    ``table`` maps ``(query, response)`` to a finite reward. ``unknown`` says what a
    response with no entry gets: ``"error"`` (default) raises InvalidInput naming it and the
    known responses; ``"default"`` pays ``default`` and appends ``(query, response)`` to
    :attr:`unknown_calls` so callers can warn.
    """

    def __init__(self, table: Mapping[tuple[str, str], float], *, unknown: str = "error",
                 default: float = 0.0, name: str = "scripted reviewer") -> None:
        if unknown not in UNKNOWN_MODES:
            raise InvalidInput(f"unknown must be one of {', '.join(UNKNOWN_MODES)}, "
                               f"got {unknown!r}")
        if not isinstance(table, Mapping) or len(table) == 0:
            raise InvalidInput("scripted reviewer table is empty; give at least one "
                               "(query, response) -> reward entry")
        entries: dict[tuple[str, str], float] = {}
        for key, value in table.items():
            if not (isinstance(key, tuple) and len(key) == 2
                    and all(isinstance(s, str) for s in key)):
                raise InvalidInput(f"scripted reviewer keys must be (query, response) string "
                                   f"pairs, got {key!r}")
            entries[key] = _finite(value, f"reward for query {key[0]!r}, response {key[1]!r}")
        self._table = entries
        self.unknown = unknown
        self.default = _finite(default, "default reward")
        self.name = name
        self.unknown_calls: list[tuple[str, str]] = []
        """(query, response) pairs paid the default because they had no entry, in call
        order (only with ``unknown="default"``)."""

    def __call__(self, query: str, response: str) -> float:
        try:
            return self._table[(query, response)]
        except KeyError:
            pass
        if self.unknown == "default":
            self.unknown_calls.append((query, response))
            return self.default
        known = self.known_responses(query)
        if not known:
            raise InvalidInput(f"{self.name} has no entry for query {query!r}; known queries: "
                               + ", ".join(repr(q) for q in self.queries()))
        raise InvalidInput(f"{self.name} has no entry for response {response!r} to query "
                           f"{query!r}; known responses: " + ", ".join(map(repr, known)))

    def __contains__(self, pair) -> bool:
        return pair in self._table

    def __len__(self) -> int:
        return len(self._table)

    def queries(self) -> list[str]:
        """The queries with at least one entry, in table order."""
        return list(dict.fromkeys(q for q, _ in self._table))

    def known_responses(self, query: str) -> list[str]:
        """The responses to ``query`` that have an entry, in table order."""
        return [y for q, y in self._table if q == query]

    def items(self):
        """``((query, response), reward)`` pairs of the table."""
        return self._table.items()

    def __repr__(self) -> str:
        return f"ScriptedReviewer({self.name!r}, {len(self)} entries, unknown={self.unknown!r})"


def course_note_reviewer(unknown: str = "error", default: float = 0.0) -> ScriptedReviewer:
    """The note's scripted reviewer (:data:`SCRIPTED_REWARDS`): its exact Antarctica scores
    plus our rewards for the other responses of the rollout tables. Rewards lie in [0, 1]."""
    return ScriptedReviewer({(e.query, e.response): e.reward for e in SCRIPTED_REWARDS},
                            unknown=unknown, default=default, name="course-note reviewer")


def course_note_reward_model(unknown: str = "error", default: float = 0.0) -> ScriptedReviewer:
    """The note's "pretrained reward model": the scripted reviewer's table plus
    (``who made this course``, ``he looks like Brad Pitt``) → −10000."""
    table = {(e.query, e.response): e.reward for e in SCRIPTED_REWARDS}
    table[(WHO_MADE, BRAD_PITT)] = BRAD_PITT_REWARD
    return ScriptedReviewer(table, unknown=unknown, default=default,
                            name="pretrained reward model")


def note_rewards() -> list[dict]:
    """The note's scored examples as ``{"query", "response", "reward", "reviewer"}`` dicts,
    each scored by calling the reviewer that the note uses for it (for ``--json``)."""
    reviewer, model = course_note_reviewer(), course_note_reward_model()
    out = []
    for q, y, _ in NOTE_EXAMPLES:
        r = model if (q, y) == (WHO_MADE, BRAD_PITT) else reviewer
        out.append({"query": q, "response": y, "reward": r(q, y), "reviewer": r.name})
    return out
