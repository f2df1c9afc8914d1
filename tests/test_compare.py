"""`monkeysim compare`: end to end (--quick), resume, kill safety and bad input."""

import csv
import json
import math
import signal
import subprocess
import sys
import time

import pytest
from conftest import assert_clean_error, run_cli

from monkeysim.experiments import compare
from monkeysim.experiments.compare_config import make_config


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("cmp") / "quick"
    p = run_cli("compare", "--quick", "--out", out, "--json")
    assert p.returncode == 0, p.stderr
    return out, json.loads(p.stdout)


def test_quick_schema_and_files(quick_run):
    out, summary = quick_run
    with open(out / "compare.csv", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == compare.COLUMNS
    body = rows[1:]
    methods = {r[3] for r in body}
    assert {"theory_stream", "theory_document", "random_stream", "random_document",
            "learn_independent", "learn_troop"} <= methods
    assert {r[4] for r in body if r[3].startswith("learn")} == {"exact", "prefix", "hamming"}
    for r in body:
        assert float(r[7]) > 0 and float(r[8]) >= float(r[7])  # total ≥ wall
        assert r[10] in ("0", "1")
        if r[3].startswith("learn") or r[3].startswith("random"):
            assert r[6] != "" and int(r[15]) > 0
    meta = json.loads((out / "compare.json").read_text())
    assert meta["config"]["seeds"] == 3 and "versions" in meta and "git_revision" in meta
    for name in ("time_to_target.png", "monkey_counts.png", "convergence.png",
                 "reward_shaping.png", "convergence.csv", "summary.json", "tuning.csv",
                 "tuning.png"):
        assert (out / name).stat().st_size > 0
    assert summary["answer"] and summary["lengths"]


def test_hamming_bananas_beat_random_typing(quick_run):
    _, summary = quick_run
    checked = 0
    for e in summary["lengths"]:
        if e["target"] == "line" and e["length"] >= 6:
            bananas = e["bananas_hamming"]
            assert bananas["censored"] == 0
            # worst seed of the bananas vs the exact mean of random documents
            assert bananas["max"] < e["random_document_theory"]
            assert bananas["max"] < e["random_stream_theory"]
            checked += 1
    assert checked >= 1


def test_resume_after_interrupt_is_byte_identical(tmp_path):
    cfg = make_config("quick", weasel=False, lengths=[2, 6], monkeys=[1, 4],
                      convergence_algos=["rloo"])
    whole = tmp_path / "whole"
    compare.run(cfg, whole, seed=3, quiet=True)

    class Stop(Exception):
        pass

    def stop_after_3(i):
        if i == 2:
            raise Stop

    part = tmp_path / "part"
    with pytest.raises(Stop):
        compare.run(cfg, part, seed=3, quiet=True, after_cell=stop_after_3)
    assert not (part / "compare.csv").exists()
    # the interruption came in phase 1 (the step-size search), checkpointed in tuning/
    assert len(list((part / "tuning").glob("0*.json"))) == 3
    compare.run(cfg, part, seed=3, resume=True, quiet=True)
    assert (part / "compare.csv").read_bytes() == (whole / "compare.csv").read_bytes()
    assert (part / "convergence.csv").read_bytes() == (whole / "convergence.csv").read_bytes()


def test_killed_run_leaves_no_partial_csv_and_resumes(tmp_path):
    out = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-m", "monkeysim", "compare", "--quick", "--out",
                             str(out), "--quiet"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        cells = out / "cells"
        if cells.exists() and len(list(cells.glob("*.json"))) >= 2:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    if (out / "compare.csv").exists():  # the run finished before the kill: it is whole
        pytest.skip("run finished before it could be killed")
    assert not list(out.glob("*.csv"))
    p = run_cli("compare", "--quick", "--out", out, "--resume", "--json")
    assert p.returncode == 0, p.stderr
    fresh = tmp_path / "fresh"
    assert run_cli("compare", "--quick", "--out", fresh, "--json").returncode == 0
    assert (out / "compare.csv").read_bytes() == (fresh / "compare.csv").read_bytes()


def test_existing_out_needs_overwrite(quick_run):
    out, _ = quick_run
    before = (out / "compare.csv").read_bytes()
    assert_clean_error(run_cli("compare", "--quick", "--out", out), "--overwrite")
    assert (out / "compare.csv").read_bytes() == before


@pytest.mark.parametrize("toml, fragment", [
    ("monkeys = [1, 4]\nbananas = 3\n", "bananas"),
    ("monkeys = []\n", "monkeys is empty"),
    ("lengths = [2, 500]\n", "exceed"),
    ("rewards = ['cake']\n", "cake"),
    ("seeds = 0\n", "seeds"),
    ("monkeys = [4, 1]\n", "increasing"),
    ("this is not toml", "TOML"),
])
def test_bad_config_clean_error(tmp_path, toml, fragment):
    path = tmp_path / "c.toml"
    path.write_text(toml)
    out = tmp_path / "o"
    assert_clean_error(run_cli("compare", "--quick", "--config", path, "--out", out), fragment)
    assert not (out / "compare.csv").exists()


def test_resume_without_run_and_missing_config(tmp_path):
    assert_clean_error(run_cli("compare", "--quick", "--out", tmp_path / "none", "--resume"),
                       "no run")
    assert_clean_error(run_cli("compare", "--config", tmp_path / "missing.toml"),
                       "does not exist")


def test_theory_rows_cover_unreachable_lengths():
    cfg = make_config("quick")
    rows = compare.theory_rows(cfg)
    longest = max((r for r in rows if r.method == "theory_stream" and r.monkeys == 1),
                  key=lambda r: r.length)
    assert math.isclose(longest.number("wall_time_keystrokes"), 96.0 ** 8, rel_tol=1e-5)


def test_same_bytes_on_one_and_two_threads(tmp_path, quick_run):
    out2, _ = quick_run  # default thread count (2 on the CI machine)
    out1 = tmp_path / "t1"
    p = run_cli("compare", "--quick", "--threads", "1", "--out", out1,
                env={"NUMBA_NUM_THREADS": "2"})
    assert p.returncode == 0, p.stderr
    for name in ("compare.csv", "convergence.csv"):
        assert (out1 / name).read_bytes() == (out2 / name).read_bytes(), name


def test_total_work_of_a_big_troop_is_capped_at_256_monkeys_budgets():
    from monkeysim.experiments import compare_learn as cl

    cfg = make_config("full")
    for n in (1, 64, 256, 512, 4096):
        tc = cl._train_config(cfg, "hamming", True, n, 16, 4, 1.0, 0, cfg.budget, "both")
        per_monkey = tc.max_reviewer_calls // n * 4  # keystrokes per monkey
        assert per_monkey == (cfg.budget if n <= 256 else cfg.budget * 256 // n)
        assert tc.max_reviewer_calls * 4 <= cl.MAX_WORK_MONKEYS * cfg.budget


def test_the_work_cap_leaves_smaller_tuning_budgets_alone():
    """The cap is 256 monkeys' share of the run's budget: a tuning run's own smaller cap (a
    probe, 8x the best median) is not scaled down again."""
    from monkeysim.experiments import compare_learn as cl

    cfg = make_config("full")
    probe = cfg.budget // 256
    tc = cl._train_config(cfg, "hamming", True, 4096, 16, 4, 1.0, 0, probe, "typed")
    assert tc.max_reviewer_calls == 4096 * (probe // 4)


def test_full_adds_the_weasels_prefix_ladder_as_tuned_troops_only():
    """--full tunes and reports the weasel with prefix bananas for every troop size, but races
    no independent monkeys and runs no troop at one monkey's step size there (both cost about
    N times one monkey's 10^6 keystrokes); the hamming ladder keeps both."""
    from monkeysim.experiments.compare import plan, settings

    cfg = make_config("full")
    cells = {c.key[4:6] for c in plan(cfg) if c.key[0] == "learn" and c.key[1:4] == (
        "weasel", 28, "prefix")}  # (regime, N); one independent monkey: the length sweep
    assert {r for r, _ in cells} == {"troop", "independent"}
    assert {n for r, n in cells if r == "independent"} == {cfg.length_sweep_monkeys}
    tuned = [s for s in settings(cfg) if (s.target, s.reward) == ("weasel", "prefix")]
    assert sorted({s.regime for s in tuned if s.monkeys > 1}) == ["troop"]
    assert len([s for s in tuned if s.regime == "troop"]) == (len(cfg.monkeys)
                                                            + len(cfg.frontier_batches))
    hamming = {c.key[4] for c in plan(cfg) if c.key[0] == "learn" and c.key[1:4] == (
        "weasel", 28, "hamming")}
    assert hamming == {"independent", "troop", "troop_fixed"}
    assert ("auto", "weasel", 28, "prefix", 0) in {c.key for c in plan(cfg)}
