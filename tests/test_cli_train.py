"""`monkeysim train`'s options are built from TrainConfig: every field an option with the
field's docstring and default, and every count taken from the config."""

import dataclasses
import json
import re

import pytest
from conftest import assert_clean_error, run_cli

from monkeysim.cli import config_args as CA
from monkeysim.cli import train as cli_train
from monkeysim.cli.main import build_parser
from monkeysim.learn import train as T
from monkeysim.learn.algorithms import ALGOS
from monkeysim.learn.config import TrainConfig

FIELDS = [f.name for f in dataclasses.fields(TrainConfig)]


def _help() -> str:
    p = build_parser()
    sub = next(a for a in p._actions if a.dest == "command")
    return " ".join(sub.choices["train"].format_help().split())


def test_help_lists_every_field_with_its_docstring():
    text = _help()
    docs = CA.field_docs(TrainConfig)
    assert set(docs) == set(FIELDS)  # every field has a docstring
    for name in FIELDS:
        assert CA.option(name) in text, name
        if name != "seed":  # --seed is the shared option of every command
            assert docs[name][:40] in text, name
    for algo in ALGOS:
        assert algo in text


def test_help_of_a_subprocess_names_every_field():
    p = run_cli("train", "--help")
    assert p.returncode == 0, p.stderr
    for name in FIELDS:
        assert CA.option(name) in p.stdout, name


def test_defaults_are_the_config_defaults():
    args = build_parser().parse_args(["train", "HELLO"])
    assert CA.config_from_args(TrainConfig, args) == TrainConfig()


def test_every_field_can_be_set():
    args = build_parser().parse_args([
        "train", "HELLO", "--algo", "dr-grpo", "--reward", "prefix", "--policy", "context",
        "--order", "2", "--monkeys", "3", "--max-monkeys", "8", "--troop", "--batch", "4",
        "--lr", "0.5",
        "--optimizer", "adam", "--adam-betas", "0.8", "0.99", "--adam-eps", "1e-6",
        "--kl-coef", "0.1", "--kl-estimator", "k3", "--entropy-coef", "0.01", "--epochs", "2",
        "--clip", "0.3", "--baseline-decay", "0.5", "--group-eps", "0.001", "--ngram-n", "2",
        "--max-reviewer-calls", "1e4", "--stop", "both", "--seed", "7", "--threads", "1",
        "--reviewer-noise", "0.5", "--flip-rate", "0", "--no-track-kl"])
    cfg = CA.config_from_args(TrainConfig, args)
    want = TrainConfig(algo="dr-grpo", reward="prefix", policy="context", order=2, monkeys=3,
                       max_monkeys=8, troop=True, batch=4, lr=0.5, optimizer="adam",
                       adam_betas=(0.8, 0.99),
                       adam_eps=1e-6, kl_coef=0.1, kl_estimator="k3", entropy_coef=0.01,
                       epochs=2, clip=0.3, baseline_decay=0.5, group_eps=0.001, ngram_n=2,
                       max_reviewer_calls=10_000, stop="both", seed=7, threads=1,
                       reviewer_noise=0.5, flip_rate=0.0, track_kl=False)
    assert cfg == want
    changed = {f for f in FIELDS if getattr(cfg, f) != getattr(TrainConfig(), f)}
    assert changed == set(FIELDS) - {"flip_rate", "preferences"}
    for given, want in ((["--preferences"], "debiased"), (["--preferences", "naive"], "naive"),
                        (["--preferences", "estimated", "--flip-rate", "0.1"], "estimated")):
        args = build_parser().parse_args(["train", "HELLO", *given])
        assert CA.config_from_args(TrainConfig, args).preferences == want
    args = build_parser().parse_args(["train", "HELLO", "--troop", "--monkeys", "auto",
                                      "--lr", "auto"])
    cfg = CA.config_from_args(TrainConfig, args)
    assert (cfg.monkeys, cfg.lr, cfg.max_steps) == ("auto", "auto",
                                                   cfg.max_reviewer_calls // cfg.batch)


def test_plain_unwraps_rest_markup():
    assert CA.plain("the table :data:`~monkeysim.learn.algorithms.ALGORITHMS`, ``x``\n  y") \
        == "the table ALGORITHMS, x y"
    assert CA.plain(":class:`TrainConfig`") == "TrainConfig"


@pytest.mark.parametrize("prefs, steps", [(None, 62), ("naive", 125), ("estimated", 111)])
def test_steps_are_the_steps_train_runs(prefs, steps, monkeypatch):
    """With preferences a step costs one reviewer call per pair: 1,000 calls at batch 16 are
    125 steps (not 1,000 ÷ 16 = 62); the progress bar and the memory check count the steps
    train runs."""
    cfg = TrainConfig(batch=16, max_reviewer_calls=1000, stop="budget", preferences=prefs,
                      seed=1)
    assert cfg.max_steps == steps
    import monkeysim.experiments.runner as R

    totals, original = [], R.progress_bar

    def bar(total, *a, **k):
        totals.append(total)
        return original(total, True, "train")

    monkeypatch.setattr(R, "progress_bar", bar)
    res = cli_train._train(cfg, "HELLO", "upper27", quiet=True)
    assert totals == [steps] and res.steps == steps
    assert res.metrics["reviewer_calls"][-1] == steps * cfg.calls_per_step <= 1000


def test_cli_writes_the_new_options_into_the_sidecar(tmp_path):
    out = tmp_path / "run"
    p = run_cli("train", "HI", "--algo", "reinforce-pp", "--group-eps", "0.01",
                "--adam-betas", "0.5", "0.9", "--no-track-kl", "--max-reviewer-calls", "320",
                "--stop", "budget", "--out", out, "--json")
    assert p.returncode == 0, p.stderr
    meta = json.loads((out / "train.json").read_text())
    tc = meta["train_config"]
    assert tc["algo"] == "reinforce-pp" and tc["group_eps"] == 0.01
    assert tc["adam_betas"] == [0.5, 0.9] and tc["track_kl"] is False
    lib = T.train(TrainConfig(algo="reinforce-pp", group_eps=0.01, adam_betas=(0.5, 0.9),
                              track_kl=False, max_reviewer_calls=320, stop="budget"),
                  "HI", "upper27")
    assert json.loads(p.stdout)["reviewer_calls"] == lib.reviewer_calls


@pytest.mark.parametrize("args, fragment", [
    (["--algo", "dr-grpo", "--batch", "1"], "dr-grpo needs at least 2 documents"),
    (["--algo", "reinforce-pp", "--batch", "1"], "reinforce-pp needs at least 2 documents"),
    (["--adam-betas", "0.9"], "expected 2 arguments"),
    (["--adam-betas", "0.9", "1.5"], "adam_betas must be two numbers in [0, 1)"),
    (["--group-eps", "x"], "'x' is not a number"),
    (["--no-track-kl", "--algo", "rloo", "--epochs", "2"], "epochs > 1 needs a clipped"),
])
def test_bad_options_are_one_line(tmp_path, args, fragment):
    out = tmp_path / "run"
    p = run_cli("train", "HI", *args, "--out", out)
    assert_clean_error(p, fragment)
    assert not out.exists()


def test_help_text_has_no_unformatted_markup():
    text = _help()
    assert not re.search(r":\w+:`|``", text)
