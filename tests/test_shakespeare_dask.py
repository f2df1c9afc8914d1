"""`monkeysim shakespeare --backend dask` (optional extra 'distributed') on the built-in excerpt.

Skipped entirely without the extra. Local clusters start worker processes, so the tests
share what they can; the whole file takes well under a minute on two cores.
"""

import os
import signal
from importlib import metadata

import pytest
from conftest import assert_clean_error, run_cli

pytest.importorskip("distributed", reason="optional extra 'distributed' not installed")

from monkeysim import corpus  # noqa: E402
from monkeysim.cli import main as cli
from monkeysim.errors import InvalidInput  # noqa: E402
from monkeysim.experiments import dask_backend as db  # noqa: E402
from monkeysim.experiments import shakespeare  # noqa: E402

RESULT_FILES = ("typed.txt", "summary.json")
CONFIG = shakespeare.ShakespeareConfig(chunk_lines=8, seed=7)  # 80 lines -> 10 chunks


def _bytes(out):
    return {name: (out / name).read_bytes() for name in RESULT_FILES}


@pytest.fixture(scope="module")
def lines():
    return corpus.load(source="excerpt")


@pytest.fixture(scope="module")
def local_run(lines, tmp_path_factory):
    out = tmp_path_factory.mktemp("local")
    shakespeare.run(lines, CONFIG, out, quiet=True)
    return _bytes(out)


def test_local_cluster_is_byte_identical_to_local(lines, local_run, tmp_path):
    backend = db.dask_backend(workers=2, scheduler=None, threads=None)
    d = shakespeare.run(lines, CONFIG, tmp_path, backend=backend, quiet=True)
    assert d["sha256_match"] is True and d["chunks"] == 10
    assert d["backend"] == "dask" and d["workers"] == 2
    assert d["threads"] == max(1, (os.cpu_count() or 1) // 2)
    assert d["scheduler"].startswith("tcp://")
    assert _bytes(tmp_path) == local_run


def test_worker_killed_mid_run_is_survived(lines, local_run, tmp_path):
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        pids = client.run(os.getpid)
        backend = db.dask_backend(workers=None, scheduler=cluster.scheduler_address,
                                  threads=1)
        killed = []

        def kill_busiest_worker(chunk):
            if killed:
                return
            # the worker holding the most chunks (running, queued or finished, not fetched)
            load = {w: len(keys) for w, keys in client.processing().items()}
            for w, keys in client.has_what().items():
                load[w] = load.get(w, 0) + len(keys)
            victim = max(pids, key=lambda w: load.get(w, 0))
            killed.append((victim, load.get(victim, 0)))
            os.kill(pids[victim], signal.SIGKILL)

        d = shakespeare.run(lines, CONFIG, tmp_path, backend=backend, quiet=True,
                            after_chunk=kill_busiest_worker)
        assert killed and killed[0][1] > 0, killed  # the kill lost work that was redone
        assert pids[killed[0][0]] not in client.run(os.getpid).values()
    assert d["sha256_match"] is True and d["backend"] == "dask" and d["threads"] == 1
    assert _bytes(tmp_path) == local_run


def test_interrupted_run_closes_its_cluster_and_resumes_identically(lines, local_run,
                                                                    tmp_path):
    import psutil

    class Stop(Exception):
        pass

    def stop_after_third(chunk):
        nonlocal seen
        seen += 1
        if seen == 3:
            raise Stop

    seen = 0
    before = {c.pid for c in psutil.Process().children(recursive=True)}
    with pytest.raises(Stop):
        shakespeare.run(lines, CONFIG, tmp_path, quiet=True, after_chunk=stop_after_third,
                        backend=db.dask_backend(workers=2, scheduler=None, threads=1))
    assert len(list((tmp_path / "chunks").iterdir())) == 3
    assert not (tmp_path / "summary.json").exists()
    left = [c for c in psutil.Process().children(recursive=True) if c.pid not in before]
    _, alive = psutil.wait_procs(left, timeout=10)
    assert not alive, alive  # the local cluster's processes are gone
    d = shakespeare.run(lines, CONFIG, tmp_path, quiet=True, resume=True,
                        backend=db.dask_backend(workers=2, scheduler=None, threads=1))
    assert d["chunks_resumed"] == 3
    assert _bytes(tmp_path) == local_run


def test_unreachable_scheduler_one_line_exit_2_nothing_written(tmp_path):
    out = tmp_path / "never"
    p = run_cli("shakespeare", "--backend", "dask", "--scheduler", "tcp://127.0.0.1:1",
                "--out", out, timeout=120)
    assert_clean_error(p, "tcp://127.0.0.1:1", "Dask scheduler")
    assert not out.exists()


def test_bad_values_are_invalid_input():
    with pytest.raises(InvalidInput, match="workers"):
        db.dask_backend(workers=0, scheduler=None, threads=None)
    with pytest.raises(InvalidInput, match="threads"):
        db.dask_backend(workers=2, scheduler=None, threads=0)
    with pytest.raises(InvalidInput, match="'foo bar' is not an address like tcp://"):
        db.dask_backend(workers=None, scheduler="foo bar", threads=None)
    with pytest.raises(InvalidInput, match="not both"):
        db.dask_backend(workers=2, scheduler="tcp://127.0.0.1:1", threads=None)


def _no_distributed(real):
    def version(name):
        if name == db.DISTRIBUTION:
            raise metadata.PackageNotFoundError(name)
        return real(name)

    return version


def test_dask_without_extra_is_a_clear_error(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(db.metadata, "version", _no_distributed(metadata.version))
    assert not db.available()
    out = tmp_path / "x"
    assert cli.main(["shakespeare", "--backend", "dask", "--out", str(out)]) == 2
    stdout, err = capsys.readouterr()
    assert stdout == "" and len(err.strip().splitlines()) == 1
    assert err.startswith("monkeysim: error: ")
    assert "optional extra 'distributed'" in err and "pip install -e '.[distributed]'" in err
    assert not out.exists() or not any(out.iterdir())


def test_workers_with_local_backend_is_an_error(tmp_path):
    out = tmp_path / "never"
    assert_clean_error(run_cli("shakespeare", "--backend", "local", "--workers", "2",
                               "--out", out), "--backend dask")
    assert_clean_error(run_cli("shakespeare", "--workers", "2", "--scheduler",
                               "tcp://127.0.0.1:1", "--backend", "dask", "--out", out),
                       "not both")
    assert not out.exists()
