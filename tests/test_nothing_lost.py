"""Nothing lost, whatever the input (issue 15).

Bad input of every class is refused with one line ``monkeysim: error: ...``, exit status 2,
no traceback, and nothing created or changed on disk; OS errors are one line; a run
directory is locked while a run writes it; checkpoints check themselves, so a resume
recomputes torn, corrupted and foreign ones and ends with the bytes of an uninterrupted run.
"""

import fcntl
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import assert_clean_error, run_cli

from monkeysim.cli import main as cli
from monkeysim.errors import InvalidInput, RunFailed
from monkeysim.experiments.runner import Cell, run_cells
from monkeysim.results import LOCK_NAME, RunDir, atomic_write_text

LONG = "ab" * 200  # 400 keys: beyond the exact theory's length limit

# Every case: (argv, fragment of the one-line message). ``{D}`` is a directory, ``{F}`` a
# regular file, ``{OLD}`` a directory holding earlier results of the command, ``{T:name}``
# the TOML file ``name`` of TOMLS, ``{BIN}`` a binary file; ``{O}`` an --out that must not
# appear. Each runs with the working directory in a scratch dir that must stay unchanged.
BAD_INPUTS = [
    # type
    (["type", "HI", "--monkeys", "1e10", "--budget", "100"], "memory"),
    (["type", "HI", "--monkeys", "4", "--budget", str(2**62)], "overflows"),
    (["type", LONG, "--budget", "10"], "exact waiting-time"),
    (["type", "HI", "--threads", "99"], "threads"),
    (["type", "HI", "--monkeys", "0"], "monkeys"),
    (["type", "HI", "--out", "{F}"], "not a directory"),
    (["type", "HI", "--out", "{F}/sub"], "is not a directory"),
    (["type", "HI", "--out", "{OLD}"], "--overwrite"),
    (["type", "HI", "--out", "{OLD}", "--overwrite", "--threads", "99"], "threads"),
    (["type", "HI", "--out", "{OLD}", "--overwrite", "--monkeys", "1e10", "--budget", "9"],
     "memory"),
    # train
    (["train", "HI", "--max-reviewer-calls", "1e15", "--out", "{O}"], "memory"),
    (["train", "HI", "--lr", "0", "--out", "{O}"], "lr"),
    (["train", "HI", "--threads", "99", "--out", "{O}"], "threads"),
    (["train", "HI", "--monkeys", "100000", "--batch", "1000", "--max-reviewer-calls",
      "1e9", "--out", "{O}"], "allowed"),
    (["train", "HI", "--out", "{F}/x"], "is not a directory"),
    # walkthrough, overopt
    (["walkthrough", "--responses", "1e12", "--out", "{O}"], "memory"),
    (["walkthrough", "--repetitions", "1e9", "--out", "{O}"], "memory"),
    (["walkthrough", "--queries", "1", "--out", "{O}"], "queries"),
    (["overopt", "--n-max", "1e12", "--out", "{O}"], "memory"),
    (["overopt", "--n-max", "0", "--out", "{O}"], "n ≥ 1"),
    (["overopt", "--noise", "2", "--out", "{O}"], "noise"),
    # shakespeare
    (["shakespeare", "--monkeys", "1e9", "--out", "{O}"], "memory"),
    (["shakespeare", "--threads", "99", "--out", "{O}"], "threads"),
    (["shakespeare", "--fraction", "0", "--out", "{O}"], "--fraction"),
    (["shakespeare", "--resume", "--overwrite", "--out", "{OLD}"], "--resume"),
    (["shakespeare", "--out", "{OLD}", "--overwrite", "--threads", "99"], "threads"),
    (["shakespeare", "--out", "{OLD}", "--overwrite", "--monkeys", "1"], "at least 2"),
    (["shakespeare", "--resume", "--out", "{D}"], "no run to continue"),
    # compare
    (["compare", "--seeds", "1e9", "--out", "{O}"], "memory"),
    (["compare", "--seeds", "0", "--out", "{O}"], "seeds"),
    (["compare", "--quick", "--threads", "99", "--out", "{O}"], "threads"),
    (["compare", "--quick", "--resume", "--overwrite", "--out", "{OLD}"], "--resume"),
    (["compare", "--quick", "--out", "{OLD}", "--overwrite", "--threads", "99"], "threads"),
    (["compare", "--quick", "--config", "{T:weasel}", "--out", "{O}"], "true or false"),
    (["compare", "--quick", "--config", "{T:float_length}", "--out", "{O}"], "integer"),
    (["compare", "--quick", "--config", "{T:string_seeds}", "--out", "{O}"], "integer"),
    (["compare", "--quick", "--config", "{T:huge_troop}", "--out", "{O}"], "at most"),
    (["compare", "--quick", "--config", "{T:long_line}", "--out", "{O}"], "exact waiting-time"),
    (["compare", "--quick", "--config", "{D}", "--out", "{O}"], "is a directory"),
    (["compare", "--quick", "--config", "{BIN}", "--out", "{O}"], "not a text file"),
    (["compare", "--quick", "--config", "{F}/x.toml", "--out", "{O}"], "cannot read"),
    (["compare", "--quick", "--out", "{F}"], "not a directory"),
    # bench
    (["bench", "monkeys", "--max-monkeys", "0"], "--max-monkeys"),
    (["bench", "monkeys", "--max-monkeys", "1e12"], "memory"),
    (["bench", "monkeys", "--target", ""], "empty"),
    (["bench", "keystrokes", "--repeats", "0"], "--repeats"),
    (["bench", "keystrokes", "--monkeys", "0"], "--monkeys"),
    (["bench", "keystrokes", "--save", "{D}"], "is a directory"),
    (["bench", "learning", "--seeds", "0"], "seeds"),
    (["bench", "learning", "--save", "{D}"], "is a directory"),
    (["bench", "learning", "--out", "{OLD}"], "--overwrite"),
    (["bench", "corpus", "--figure", "{D}"], "is a directory"),
]

TOMLS = {
    "weasel": 'weasel = "no"\n',
    "float_length": "lengths = [2, 2.5]\n",
    "string_seeds": 'seeds = "5"\n',
    "huge_troop": "monkeys = [1, 10000000]\n",
    "long_line": f'line = "{"ab" * 200}"\nlengths = [2, 300]\n',
}

OLD_FILES = ["race.csv", "race.json", "compare.csv", "manifest.json", "typed.txt",
             "summary.json", "bench_learning.json"]


def _tree(root: Path) -> dict:
    """Every path under ``root`` with its bytes (None for directories)."""
    out = {}
    for p in sorted(root.rglob("*")):
        out[str(p.relative_to(root))] = None if p.is_dir() else p.read_bytes()
    return out


def _scratch(root: Path) -> dict[str, str]:
    """The fixtures the table refers to, created under ``root``."""
    (root / "adir").mkdir()
    (root / "plain.txt").write_text("a regular file\n")
    (root / "binary.toml").write_bytes(bytes(range(256)) * 4)
    old = root / "old"
    old.mkdir()
    for name in OLD_FILES:
        (old / name).write_text(f"earlier results in {name}\n")
    (old / "cells").mkdir()
    (old / "cells" / "00000.json").write_text("an earlier cell\n")
    subs = {"{D}": str(root / "adir"), "{F}": str(root / "plain.txt"),
            "{BIN}": str(root / "binary.toml"), "{OLD}": str(old), "{O}": str(root / "o")}
    for name, text in TOMLS.items():
        (root / f"{name}.toml").write_text(text)
        subs[f"{{T:{name}}}"] = str(root / f"{name}.toml")
    return subs


@pytest.mark.parametrize("argv, fragment", BAD_INPUTS,
                         ids=[" ".join(a)[:60] for a, _ in BAD_INPUTS])
def test_bad_input_refused_and_nothing_created(tmp_path, monkeypatch, capsys, argv,
                                               fragment):
    subs = _scratch(tmp_path)
    argv = [_fill(a, subs) for a in argv]
    monkeypatch.chdir(tmp_path)
    before = _tree(tmp_path)
    status = cli.main(argv)
    out, err = capsys.readouterr()
    assert status == 2, (status, out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("monkeysim: error: "), err
    assert fragment in lines[0], (fragment, lines[0])
    assert "Traceback" not in err and out == ""
    assert _tree(tmp_path) == before  # nothing created, nothing changed


def _fill(arg: str, subs: dict[str, str]) -> str:
    for key, value in subs.items():
        arg = arg.replace(key, value)
    return arg


def test_table_in_a_subprocess_has_no_traceback(tmp_path):
    """A few rows of the table through the console entry point."""
    subs = _scratch(tmp_path)
    before = _tree(tmp_path)
    for argv, fragment in (BAD_INPUTS[0], BAD_INPUTS[32], BAD_INPUTS[38]):
        p = run_cli(*[_fill(a, subs) for a in argv], cwd=tmp_path)
        assert_clean_error(p, fragment)
    assert _tree(tmp_path) == before


# --- usage and help -------------------------------------------------------------------------

def test_no_command_prints_usage_and_commands():
    p = run_cli()
    assert p.returncode == 2 and "usage: monkeysim" in p.stderr
    for command in ("compare", "train", "type", "shakespeare", "walkthrough", "bench"):
        assert command in p.stderr


def test_help_shows_defaults():
    text = run_cli("type", "--help").stdout
    assert "(default: stream)" in text.replace("\n", " ").replace("  ", " ") or (
        "default stream" in text)
    text = " ".join(run_cli("bench", "keystrokes", "--help").stdout.split())
    assert "(default: MONKEY)" in text or "default MONKEY" in text
    assert "default 3" in text or "(default: 3)" in text


# --- OS errors ------------------------------------------------------------------------------

def test_out_under_a_file_and_save_into_a_directory(tmp_path):
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    assert_clean_error(run_cli("type", "HI", "--out", plain / "sub"), "not a directory")
    assert_clean_error(run_cli("bench", "keystrokes", "--save", tmp_path), "is a directory")
    assert sorted(os.listdir(tmp_path)) == ["plain.txt"]


def test_config_directory_and_binary_file(tmp_path):
    assert_clean_error(run_cli("compare", "--config", tmp_path), "is a directory")
    (tmp_path / "b.toml").write_bytes(b"\xff\xfe\x00binary")
    assert_clean_error(run_cli("compare", "--config", tmp_path / "b.toml"), "not a text file")


def test_read_only_out_directory(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        if os.access(ro, os.W_OK):  # root ignores the mode: try a read-only mount instead
            pytest.skip("running as root: a chmod 0500 directory stays writable")
        p = run_cli("type", "HI", "--out", ro / "run")
        assert_clean_error(p, "cannot write", "permission denied")
        assert os.listdir(ro) == []
    finally:
        ro.chmod(0o700)


@pytest.fixture
def tmpfs(tmp_path):
    """A small tmpfs under tmp_path (root only, where mounting is allowed), else skip."""
    mounts = []

    def mount(name: str, options: str) -> Path:
        path = tmp_path / name
        path.mkdir()
        if os.geteuid() != 0 or shutil.which("mount") is None:
            pytest.skip("mounting a small filesystem needs root")
        p = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
                           capture_output=True)
        if p.returncode != 0:
            pytest.skip("cannot mount a tmpfs here")
        mounts.append(path)
        return path

    yield mount
    for path in mounts:
        subprocess.run(["umount", str(path)], capture_output=True)


def test_read_only_file_system(tmpfs):
    ro = tmpfs("ro", "ro,size=64k")
    assert_clean_error(run_cli("type", "HI", "--out", ro / "run"), "cannot write",
                       "read-only file system")
    assert_clean_error(run_cli("bench", "keystrokes", "--save", ro / "b.json"),
                       "read-only file system")


def test_full_disk_fails_in_one_line_and_leaves_nothing(tmpfs):
    full = tmpfs("full", "size=64k")
    p = run_cli("type", "HI", "--monkeys", "100000", "--budget", "1000", "--out",
                full / "run")
    assert p.returncode == 1, p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and "no space left on device" in lines[0], p.stderr
    assert "Traceback" not in p.stderr
    assert os.listdir(full) == []  # the directory as it was: no run dir, no temp files


# --- the lock -------------------------------------------------------------------------------

def _hold_lock(directory: Path):
    fd = os.open(directory / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    os.write(fd, json.dumps({"pid": os.getpid(), "host": "testhost",
                             "started": "now"}).encode())
    return fd


def test_second_run_on_a_locked_directory_is_refused_naming_the_holder(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    fd = _hold_lock(out)
    try:
        for args in (("type", "HI", "--monkeys", "3"), ("shakespeare", "--plays", "hamlet")):
            p = run_cli(*args, "--out", out, "--overwrite")
            assert_clean_error(p, "in use by another run", f"pid {os.getpid()}", "testhost")
        assert sorted(os.listdir(out)) == [LOCK_NAME]
    finally:
        os.close(fd)  # the holder "dies": its flock is released, the file stays (stale)
    p = run_cli("type", "HI", "--monkeys", "3", "--out", out)
    assert p.returncode == 0, p.stderr  # a stale lock is taken over
    assert sorted(os.listdir(out)) == ["race.csv", "race.json"]  # lock file removed


def test_stale_temp_files_are_cleaned_at_the_next_start(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    orphan = out / f".race.csv.{dead}.abcdefgh.tmp"
    orphan.write_text("half a file")
    mine = out / "notes.tmp"  # not a monkeysim temp file: kept
    mine.write_text("keep me")
    p = run_cli("type", "HI", "--monkeys", "3", "--out", out)
    assert p.returncode == 0, p.stderr
    assert not orphan.exists() and mine.read_text() == "keep me"


# --- --overwrite and late refusals ----------------------------------------------------------

def test_overwrite_refused_late_leaves_old_results_byte_identical(tmp_path):
    out = tmp_path / "run"
    p = run_cli("shakespeare", "--plays", "hamlet", "--out", out, "--json")
    assert p.returncode == 0, p.stderr
    before = _tree(out)
    for args in (("--threads", "99"), ("--monkeys", "1"), ("--monkeys", "1e9"),
                 ("--resume",)):
        p = run_cli("shakespeare", "--plays", "hamlet", "--out", out, "--overwrite", *args)
        assert_clean_error(p)
        assert _tree(out) == before
    p = run_cli("shakespeare", "--plays", "macbeth", "--out", out, "--resume")
    assert_clean_error(p, "other options")
    assert _tree(out) == before


def test_rundir_undoes_a_refusal_raised_during_the_run(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "a.csv").write_text("old a")
    (out / "cells").mkdir()
    (out / "cells" / "0.json").write_text("old cell")
    (out / "other.txt").write_text("not ours")
    before = _tree(out)
    with pytest.raises(InvalidInput), RunDir(out, ["a.csv", "b.csv", "cells"], overwrite=True):
        atomic_write_text(out / "a.csv", "new a")
        atomic_write_text(out / "b.csv", "new b")
        (out / "cells").mkdir()
        raise InvalidInput("refused late")
    assert _tree(out) == before
    fresh = tmp_path / "fresh" / "deeper"
    with pytest.raises(InvalidInput), RunDir(fresh, ["a.csv"]):
        atomic_write_text(fresh / "a.csv", "new")
        raise InvalidInput("refused late")
    assert not (tmp_path / "fresh").exists()
    with pytest.raises(RunFailed), RunDir(out, ["a.csv", "b.csv", "cells"], overwrite=True):
        raise RunFailed("failed before writing anything")
    assert _tree(out) == before
    with pytest.raises(KeyboardInterrupt), RunDir(out, ["a.csv", "b.csv", "cells"],
                                                  overwrite=True):
        raise KeyboardInterrupt  # Ctrl-C before any result was written: the old ones stay
    assert _tree(out) == before
    with RunDir(out, ["a.csv", "b.csv", "cells"], overwrite=True):
        atomic_write_text(out / "a.csv", "new a")
    assert sorted(os.listdir(out)) == ["a.csv", "other.txt"]


def test_resume_and_overwrite_together_are_refused(tmp_path):
    assert_clean_error(run_cli("compare", "--quick", "--resume", "--overwrite", "--out",
                               tmp_path / "x"), "--resume", "--overwrite")
    assert not (tmp_path / "x").exists()


# --- divergence, Ctrl-C -------------------------------------------------------------------

def test_diverging_learning_stops_with_a_clear_error(tmp_path):
    p = run_cli("train", "HELLO", "--lr", "1e300", "--out", tmp_path / "t")
    assert p.returncode == 1, (p.stdout, p.stderr)
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("monkeysim: error: learning diverged")
    assert "lr=1e+300" in lines[0] and "Traceback" not in p.stderr
    assert not (tmp_path / "t").exists()


def test_huge_budget_race_stops_on_ctrl_c(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "monkeysim", "type", "HELLO WORLD",
                             "--monkeys", "1", "--budget", str(2**63 - 1)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(3)
    start = time.time()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130 and "interrupted" in err
    assert time.time() - start < 10


# --- self-checking checkpoints ----------------------------------------------------------------

def _toy_cells(n=8):
    return [Cell(("toy", i), cost=1.0) for i in range(n)]


def _toy_work(i, cell):
    return [[i, i * 0.5, f"row {i}"]]


def test_cell_checkpoints_torn_flipped_foreign_and_missing_are_recomputed(tmp_path, capsys):
    cells = _toy_cells()
    whole = run_cells(cells, _toy_work, tmp_path / "a", {"run": "a"}, False, quiet=True)
    run_cells(cells, _toy_work, tmp_path / "b", {"run": "b"}, False, quiet=True)
    d = tmp_path / "a" / "cells"
    (d / "00000.json").unlink()                                            # missing
    (d / "00001.json").write_bytes((d / "00001.json").read_bytes()[:-7])   # torn
    data = bytearray((d / "00002.json").read_bytes())
    data[len(data) // 2] ^= 0x01                                           # one byte flipped
    (d / "00002.json").write_bytes(bytes(data))
    shutil.copy(d / "00005.json", d / "00003.json")                        # another cell
    shutil.copy(tmp_path / "b" / "cells" / "00004.json", d / "00004.json")  # another run
    (d / "00006.json").write_bytes(b"")                                    # empty
    capsys.readouterr()
    redone = []

    def work(i, cell):
        redone.append(i)
        return _toy_work(i, cell)

    again = run_cells(cells, work, tmp_path / "a", {"run": "a"}, True, quiet=True)
    assert again == whole and redone == [0, 1, 2, 3, 4, 6]
    err = capsys.readouterr().err
    assert "2 of 8 checkpoints in cells/ verified; recomputing 6" in err
    for why in ("missing", "torn", "corrupted", "another index", "another run"):
        assert why in err


@pytest.fixture(scope="module")
def excerpt_run(tmp_path_factory):
    """An uninterrupted shakespeare run (excerpt, 8-line chunks) and a second run's chunks."""
    root = tmp_path_factory.mktemp("shak")
    for name, seed in (("whole", "0"), ("other", "1")):
        p = run_cli("shakespeare", "--chunk-lines", "8", "--seed", seed, "--out",
                    root / name, "--json")
        assert p.returncode == 0, p.stderr
    return root


def test_shakespeare_resume_recomputes_damaged_chunks_byte_identical(excerpt_run, tmp_path):
    whole = excerpt_run / "whole"
    cut = tmp_path / "cut"
    shutil.copytree(whole, cut)
    for name in ("typed.txt", "summary.json", "run.json"):
        (cut / name).unlink()
    chunks = cut / "chunks"
    (chunks / "00000.ckpt").write_bytes((chunks / "00000.ckpt").read_bytes()[:100])  # torn
    data = bytearray((chunks / "00001.ckpt").read_bytes())
    data[-50] ^= 0x40                                                        # flipped
    (chunks / "00001.ckpt").write_bytes(bytes(data))
    shutil.copy(chunks / "00003.ckpt", chunks / "00002.ckpt")               # another chunk
    shutil.copy(excerpt_run / "other" / "chunks" / "00004.ckpt", chunks / "00004.ckpt")
    (chunks / "00005.ckpt").unlink()                                         # missing
    (chunks / ".00006.ckpt.999999.abcdefgh.tmp").write_bytes(b"orphan")      # stale temp
    p = run_cli("shakespeare", "--chunk-lines", "8", "--out", cut, "--resume", "--json")
    assert p.returncode == 0, p.stderr
    assert "recomputing 5" in p.stderr
    for why in ("torn", "corrupted", "another index", "another run", "missing"):
        assert why in p.stderr
    for name in ("typed.txt", "summary.json"):
        assert (cut / name).read_bytes() == (whole / name).read_bytes(), name
    assert not list(chunks.glob("*.tmp"))
    summary = json.loads((cut / "summary.json").read_text())
    typed = hashlib.sha256((cut / "typed.txt").read_bytes()).hexdigest()
    assert summary["sha256_match"] and summary["sha256_typed"] == typed


def test_sha256_match_is_read_back_from_disk(excerpt_run, tmp_path, monkeypatch):
    """A typed.txt that differs on disk from what was written is reported as a mismatch."""
    from monkeysim import corpus
    from monkeysim.experiments import shakespeare

    out = tmp_path / "r"
    shutil.copytree(excerpt_run / "whole", out)
    real = shakespeare.os.replace

    def corrupt_then_replace(src, dst):
        real(src, dst)
        if str(dst).endswith("typed.txt"):
            with open(dst, "r+b") as f:
                f.write(b"\0")

    monkeypatch.setattr(shakespeare.os, "replace", corrupt_then_replace)
    lines = corpus.load(source="excerpt")
    res = shakespeare.run(lines, shakespeare.ShakespeareConfig(chunk_lines=8), out,
                          resume=True, quiet=True)
    assert res["sha256_match"] is False


@pytest.mark.slow
def test_random_kills_damage_and_concurrent_runs_end_byte_identical():
    """A short version of experiments/make_kill_resume.py (the full one: 22 kill trials and 10
    concurrent trials, results/kill_resume.json)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "experiments"))
    import make_kill_resume as kill_resume

    res = kill_resume.main(["--shakespeare", "6", "--compare", "1", "--concurrent", "4",
                            "--compare-concurrent", "1", "--seed", "7", "--save", "-"])
    s = res["summary"]
    assert s["trials"] == 12 and s["identical"] == s["trials"]
    assert s["stray_tmp_files"] == 0
