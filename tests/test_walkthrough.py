"""`monkeysim walkthrough`: the library run, its outputs, and the CLI (text, --json, errors)."""

import csv
import json
import math

import numpy as np
import pytest
from conftest import assert_clean_error, run_cli

from monkeysim.experiments import walkthrough as wt
from monkeysim.learn import rollout as ro
from monkeysim.reward_scripted import SCRIPTED_REWARDS, ScriptedReviewer, course_note_reviewer

QUICK = wt.WalkthroughConfig(ladder=(8, 64, 512), repetitions=100, updates=5)
JSON_KEYS = {"rewards", "expected_reward_exact", "expected_reward_empirical",
             "expected_reward_stderr", "expected_reward_before", "expected_reward_after",
             "kl_after"}


@pytest.fixture(scope="module")
def result():
    return wt.run(QUICK, seed=3)


def test_convergence_slope_and_exact_sd():
    """RMS error vs NK on log-log axes has slope −1/2: with R repetitions the RMS error's
    relative sd is ≈ 1/√(2R) ≈ 0.035, so each point is within 4 of those of the exact sd and
    the fitted slope within 0.05 of −0.5 (≫ its sd ≈ 0.01 over three decades)."""
    reps = 400
    r = ro.reward_matrix(ro.NOTE_TABLE, course_note_reviewer())
    cv = wt.estimator_convergence(ro.NOTE_TABLE, r, (4, 32, 256, 2048), 4, reps, 17)
    assert abs(cv.slope() + 0.5) < 0.05, cv.slope()
    np.testing.assert_allclose(cv.rms_error / cv.exact_stderr, 1, atol=4 / math.sqrt(2 * reps))
    np.testing.assert_allclose(cv.exact_stderr * np.sqrt(cv.documents),
                               cv.exact_stderr[0] * math.sqrt(cv.documents[0]), rtol=1e-12)
    tol = 4 * math.sqrt(0.95 * 0.05 / reps)
    assert np.all(np.abs(cv.coverage[1:] - 0.95) <= tol), cv.coverage  # N ≥ 32: normal regime


def test_run_is_deterministic(result):
    again = wt.run(QUICK, seed=3).as_json()
    first = result.as_json()
    for d in (first, again):
        d.pop("seconds")
    assert json.dumps(first, default=str) == json.dumps(again, default=str)
    other = wt.run(QUICK, seed=4).as_json()
    assert other["expected_reward_empirical"] != first["expected_reward_empirical"]


def test_result_contents(result):
    j = result.as_json()
    assert JSON_KEYS <= set(j)
    assert {"query": "who made this course", "response": "he looks like Brad Pitt",
            "reward": -10000.0} in [{k: d[k] for k in ("query", "response", "reward")}
                                    for d in j["rewards"]]
    assert j["expected_reward_exact"] == pytest.approx(
        ro.exact_expected_reward(ro.NOTE_TABLE, course_note_reviewer()))
    assert j["expected_reward_empirical"] == pytest.approx(result.rollout_rewards.mean())
    assert j["expected_reward_after"] > j["expected_reward_before"]
    assert j["kl_after"] > 0
    assert len(j["rollout"]) == QUICK.queries
    assert all(len(r["responses"]) == QUICK.responses for r in j["rollout"])


def test_unknown_response_is_visible(result):
    u = result.unknown_response
    assert u["error"].startswith("course-note reviewer has no entry for response "
                                 "'Antarctica belongs to the penguins'")
    assert u["unknown_calls"] == [["which country owns Antarctica?",
                                   "Antarctica belongs to the penguins"]]
    assert len(result.warnings) == 1 and result.warnings[0].startswith("warning: ")
    text = wt.report(result)
    assert "unknown='error'" in text and "known responses" in text


def test_unknown_default_reviewer_in_run_warns():
    # a reviewer that pays defaults for part of the table: every such pair gets a warning
    rev = ScriptedReviewer({(e.query, e.response): e.reward for e in SCRIPTED_REWARDS
                            if e.response != "banana"}, unknown="default")
    res = wt.run(QUICK, seed=0, reviewer=rev)
    assert any("'banana'" in w for w in res.warnings)


def test_bad_config():
    for kwargs, frag in [({"updates": 0}, "updates must be a positive integer, got 0"),
                         ({"queries": 1}, "queries must be ≥ 2"),
                         ({"responses": 0}, "responses must be a positive integer, got 0"),
                         ({"lr": -1.0}, "lr must be a positive finite number, got -1.0"),
                         ({"ladder": ()}, "ladder is empty"),
                         ({"baseline": "mean"}, "baseline must be one of none, loo")]:
        with pytest.raises(ValueError) as exc:
            wt.WalkthroughConfig(**kwargs)
        assert frag in str(exc.value)


def test_outputs(result, tmp_path):
    out = tmp_path / "w"
    path = wt.write_outputs(result, out)
    assert sorted(p.name for p in out.iterdir()) == sorted(wt.FILES)
    rows = list(csv.DictReader(path.open()))
    assert list(rows[0]) == wt.COLUMNS
    assert [r["section"] for r in rows].count("convergence") == len(QUICK.ladder)
    upd = [r for r in rows if r["section"] == "updates"]
    assert len(upd) == QUICK.updates + 1
    assert float(upd[0]["kl_exact_nats"]) == 0.0
    meta = json.loads((out / "walkthrough.json").read_text())
    assert meta["seed"] == 3 and meta["config"]["updates"] == QUICK.updates
    assert JSON_KEYS <= set(meta["summary"])
    summary = json.loads((out / "summary.json").read_text())
    assert summary["convergence"]["documents"] == [n * QUICK.ladder_k for n in QUICK.ladder]
    assert (out / "walkthrough.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="pass --overwrite"):
        wt.write_outputs(result, out)


# --- CLI -------------------------------------------------------------------------------------

FAST = ["--repetitions", "50", "--updates", "5"]


def test_cli_json(tmp_path):
    proc = run_cli("walkthrough", "--seed", "1", "--json", "--out", tmp_path / "o", *FAST)
    assert proc.returncode == 0, proc.stderr
    j = json.loads(proc.stdout)
    assert JSON_KEYS <= set(j)
    assert [d["reward"] for d in j["rewards"]] == [0, 0.0021, 0.09, 0.02, 0.09, 1, -10000]
    assert j["expected_reward_after"] > j["expected_reward_before"] and j["kl_after"] > 0
    assert j["expected_reward_stderr"] > 0
    assert "warning:" in proc.stderr  # the unknown-response demo, on stderr
    assert (tmp_path / "o" / "walkthrough.png").exists()


def test_cli_text_and_default_out(tmp_path):
    proc = run_cli("walkthrough", *FAST, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    for step in range(1, 7):
        assert f"Step {step} —" in proc.stdout
    assert "-10000" in proc.stdout and "0.0021" in proc.stdout
    runs = list((tmp_path / "runs").iterdir())
    assert len(runs) == 1 and runs[0].name.startswith("walkthrough-")
    assert f"runs/{runs[0].name}/walkthrough.csv" in proc.stdout
    assert (runs[0] / "walkthrough.json").exists()


@pytest.mark.parametrize("args, fragment", [
    (["--updates", "0"], "updates must be a positive integer, got 0"),
    (["--responses", "0"], "responses must be a positive integer, got 0"),
    (["--queries", "1"], "queries must be ≥ 2"),
    (["--lr", "nan"], "learning rate lr must be a positive finite number, got nan"),
    (["--lr", "x"], "argument --lr: invalid float value: 'x'"),
    (["--seed", "-1"], "seed must be a non-negative integer, got -1"),
    (["--baseline", "mean"], "argument --baseline: invalid choice: 'mean'"),
])
def test_cli_bad_values(tmp_path, args, fragment):
    proc = run_cli("walkthrough", "--out", tmp_path / "o", *args)
    assert_clean_error(proc, fragment)
    assert not (tmp_path / "o").exists()


def test_cli_refuses_to_overwrite(tmp_path):
    out = tmp_path / "o"
    out.mkdir()
    (out / "walkthrough.csv").write_text("keep me\n")
    proc = run_cli("walkthrough", "--out", out, *FAST)
    assert_clean_error(proc, "already holds results; pass --overwrite")
    assert (out / "walkthrough.csv").read_text() == "keep me\n"
    proc = run_cli("walkthrough", "--out", out, "--overwrite", *FAST)
    assert proc.returncode == 0, proc.stderr
    assert (out / "walkthrough.csv").read_text().startswith("section,step")
