import json

import pytest
from conftest import assert_clean_error, run_cli


def test_type_json_keys():
    p = run_cli("type", "HI", "--monkeys", "500", "--budget", "100000", "--json")
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    for key in ("monkeys", "censored", "mean_keystrokes", "theory_mean_keystrokes",
                "keystrokes_per_second"):
        assert key in d
    assert d["monkeys"] == 500 and d["theory_mean_keystrokes"] == 27**2


def test_type_table_and_out(tmp_path):
    out = tmp_path / "run"
    p = run_cli("type", "--builtin", "to-be", "--monkeys", "3", "--budget", "1000",
                "--out", out)
    assert p.returncode == 0, p.stderr
    assert "exact theory" in p.stdout and "keystrokes/s" in p.stdout
    lines = (out / "race.csv").read_text().splitlines()
    assert lines[0] == "monkey,keystrokes,found" and len(lines) == 4
    meta = json.loads((out / "race.json").read_text())
    assert meta["seed"] == 0 and "versions" in meta and meta["summary"]["monkeys"] == 3
    before = (out / "race.csv").read_bytes()
    p = run_cli("type", "--builtin", "to-be", "--monkeys", "5", "--budget", "1000",
                "--out", out)
    assert_clean_error(p, "--overwrite")
    assert (out / "race.csv").read_bytes() == before
    p = run_cli("type", "--builtin", "to-be", "--monkeys", "5", "--budget", "1000",
                "--out", out, "--overwrite")
    assert p.returncode == 0 and len((out / "race.csv").read_text().splitlines()) == 6


@pytest.mark.parametrize("args, fragment", [
    (["type", ""], "empty"),
    (["type", "hello", "--alphabet", "upper27"], "lower27"),
    (["type", "HI", "--alphabet-chars", "HIH"], "duplicate"),
    (["type", "HI", "--alphabet-chars", ""], "empty"),
    (["type", "HI", "--alphabet-chars", "".join(chr(c) for c in range(40, 340))], "255"),
    (["type", "HI", "--monkeys", "0"], "monkeys"),
    (["type", "HI", "--monkeys", "ten"], "integer"),
    (["type", "HI", "--budget", "-5"], "budget"),
    (["type", "HI", "--budget", "1.5"], "integer"),
    (["type", "HI", "--monkeys", "4", "--budget", str(2**62)], "overflows"),
    (["type", "--builtin", "othello"], "othello"),
    (["type"], "TEXT"),
    (["type", "HI", "--mode", "poem"], "mode"),
    (["type", "HI", "--threads", "0"], "threads"),
    (["frobnicate"], "frobnicate"),
])
def test_bad_input_clean_error(args, fragment):
    assert_clean_error(run_cli(*args), fragment)


def test_texts_lists_builtins():
    p = run_cli("texts")
    assert p.returncode == 0 and "weasel" in p.stdout and "METHINKS" in p.stdout
    rows = json.loads(run_cli("texts", "--json").stdout)
    assert {r["name"] for r in rows} >= {"weasel", "hamlet", "sonnet18", "antarctica"}


def test_help_explains():
    p = run_cli("type", "--help")
    assert p.returncode == 0 and "--budget" in p.stdout and "document" in p.stdout
