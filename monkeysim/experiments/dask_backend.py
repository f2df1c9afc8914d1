"""The Dask backend of `monkeysim shakespeare` (chunks) and `monkeysim compare` (cells): tasks
on a Dask cluster.

Optional extra ``distributed`` (``pip install -e '.[distributed]'``); Dask is imported only
when a backend is made, never at module import. Two ways to get workers:

- ``workers=W``: a :class:`distributed.LocalCluster` of W worker processes (one Dask thread
  each) on this machine, started when the run begins and closed when it ends;
- ``scheduler=ADDRESS``: join a running cluster (``dask scheduler`` / ``dask worker``); the
  scheduler is contacted at once, so an unreachable address fails before anything is written.

Each task is :func:`_run_task`: it sets the worker's numba threads and calls the pure
:func:`~monkeysim.learn.corpus.type_chunk`, so results are byte-identical to the local
backend. Results come back to the main process in completion order (``as_completed``); a
lost worker's tasks (running, or finished but not yet fetched) are recomputed by Dask.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Callable
from importlib import metadata, util

from ..errors import InvalidInput, positive_int
from ..learn.corpus import ChunkResult, ChunkTask, type_chunk

DISTRIBUTION = "distributed"
"""The PyPI distribution the backend needs (optional extra ``distributed``)."""
CONNECT_TIMEOUT = 10
"""Seconds to wait for a remote scheduler in :func:`dask_backend`."""
PROBE_TIMEOUT = 3
"""Seconds a remote address that accepts the connection has to answer as a Dask scheduler
(the handshake and an ``identity`` request) before it is refused as something else."""
DEFAULT_WORKERS = 2
MISSING = ("the dask backend needs the optional extra 'distributed': "
           "pip install -e '.[distributed]'")

_LOCK = threading.Lock()  # one numba parallel region at a time per worker process


def available() -> bool:
    """True if the optional extra (``dask[distributed]``) is installed; imports nothing."""
    try:
        metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return False
    return util.find_spec("distributed") is not None and util.find_spec("dask") is not None


def _run_task(task: ChunkTask, threads: int | None,
              per_host: dict[str, int] | None = None) -> tuple[ChunkResult, int]:
    """Run one chunk inside a worker with ``threads`` numba threads (None: this host's cores
    divided among the workers on it, per ``per_host``); returns ``(result, threads used)``."""
    return _with_threads(type_chunk, (task,), threads, per_host)


def _run_cell(work: Callable, index: int, cell, threads: int | None,
              per_host: dict[str, int] | None = None) -> tuple[int, object, int]:
    """Run one experiment cell ``work(index, cell)`` inside a worker (threads as
    :func:`_run_task`); returns ``(index, rows, threads used)``."""
    rows, used = _with_threads(work, (index, cell), threads, per_host)
    return index, rows, used


def _with_threads(fn: Callable, args: tuple, threads: int | None,
                  per_host: dict[str, int] | None) -> tuple[object, int]:
    """``(fn(*args), threads)`` with this worker's numba threads set for the call."""
    import numba

    if threads is None:
        workers_here = 1
        if per_host:
            from distributed import get_worker

            workers_here = per_host.get(_host(get_worker().address), 1)
        threads = max(1, (os.cpu_count() or 1) // workers_here)
    threads = max(1, min(threads, numba.config.NUMBA_NUM_THREADS))
    with _LOCK:  # numba's workqueue layer refuses concurrent parallel regions
        old = numba.get_num_threads()
        numba.set_num_threads(threads)
        try:
            return fn(*args), threads
        finally:
            numba.set_num_threads(old)


def _host(address: str) -> str:
    from distributed.comm import get_address_host

    return get_address_host(address)


def _peak_rss_mb() -> float:
    from .shakespeare import peak_rss_mb

    return peak_rss_mb()


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:200]


def dask_backend(workers: int | None = None, scheduler: str | None = None,
                 threads: int | None = None):
    """A :data:`~monkeysim.experiments.shakespeare.Backend` running chunks on Dask.

    ``workers``: start a local cluster of that many processes (default 2 when ``scheduler``
    is not given); ``scheduler``: the address of a running cluster's scheduler (connected to
    now; InvalidInput if it cannot be reached). ``threads``: numba threads per worker
    (default: the cores of its machine divided among the workers on it).
    """
    if not available():
        raise InvalidInput(MISSING)
    if workers is not None and scheduler is not None:
        raise InvalidInput("give either workers (a local cluster) or scheduler ADDRESS, "
                           "not both")
    if threads is not None:
        threads = positive_int(threads, "threads")
    if scheduler is None:
        workers = positive_int(DEFAULT_WORKERS if workers is None else workers, "workers")
        if threads is None:
            threads = max(1, (os.cpu_count() or 1) // workers)
        import numba

        if threads > numba.config.NUMBA_NUM_THREADS:
            raise InvalidInput(f"threads must be between 1 and "
                               f"{numba.config.NUMBA_NUM_THREADS}, got {threads}")
        return _Compute(workers=workers, client=None, threads=threads)
    if not isinstance(scheduler, str) or not scheduler.strip():
        raise InvalidInput(f"scheduler must be an address like tcp://HOST:8786, "
                           f"got {scheduler!r}")
    return _Compute(workers=None, client=_connect(scheduler.strip()), threads=threads)


def _connect(address: str):
    """A Client of the scheduler at ``address``, or InvalidInput naming it."""
    import logging

    from distributed import Client
    from distributed.comm.addressing import get_address_host_port

    try:
        get_address_host_port(address)
    except ValueError as exc:  # checked first: a Client of a bad address hangs at exit
        raise InvalidInput(f"scheduler {address!r} is not an address like tcp://HOST:8786 "
                           f"({_one_line(exc)})") from None
    log = logging.getLogger("distributed")
    level = log.level
    log.setLevel(logging.CRITICAL)  # the failure is reported once, as InvalidInput
    try:
        _probe(address)
        return Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except InvalidInput:
        raise
    except Exception as exc:  # OSError, TimeoutError, ValueError for a malformed address
        raise InvalidInput(f"cannot reach the Dask scheduler at {address!r} within "
                           f"{CONNECT_TIMEOUT} s ({_one_line(exc)}); give the address of a "
                           f"running 'dask scheduler', e.g. tcp://HOST:8786") from None
    finally:
        log.setLevel(level)


def _probe(address: str) -> None:
    """InvalidInput unless a Dask scheduler answers at ``address``: the port must accept a
    connection within :data:`CONNECT_TIMEOUT` s (retried while refused), and what listens
    there must complete Dask's handshake and answer ``identity`` as a ``Scheduler`` within
    :data:`PROBE_TIMEOUT` s. (A Client of a web server waits forever for the handshake, or
    reads its HTTP reply as a frame length and fails on an absurd allocation.)"""
    import asyncio
    import socket

    from distributed.comm import connect
    from distributed.comm.addressing import get_address_host_port

    host, port = get_address_host_port(address)
    deadline = time.monotonic() + CONNECT_TIMEOUT
    while True:
        try:
            socket.create_connection((host, port), timeout=CONNECT_TIMEOUT).close()
            break
        except OSError as exc:
            if time.monotonic() + 0.5 > deadline:
                raise InvalidInput(f"cannot reach the Dask scheduler at {address!r} within "
                                   f"{CONNECT_TIMEOUT} s ({_one_line(exc)}); give the address "
                                   "of a running 'dask scheduler', e.g. tcp://HOST:8786") from None
            time.sleep(0.5)

    async def identity():
        comm = await connect(address, timeout=PROBE_TIMEOUT)
        try:
            await comm.write({"op": "identity", "reply": True})
            return await comm.read()
        finally:
            comm.abort()

    try:
        reply = asyncio.run(asyncio.wait_for(identity(), PROBE_TIMEOUT))
    except Exception:  # a timeout, a closed connection, bytes that are no Dask message
        reply = None
    kind = reply.get("type") if isinstance(reply, dict) else None
    if kind != "Scheduler":
        what = f"a Dask {kind.lower()}" if isinstance(kind, str) else "something else"
        raise InvalidInput(f"{address!r} is not a Dask scheduler: it accepts connections but "
                           f"{'is ' + what if kind else 'does not answer as one'} (waited "
                           f"{PROBE_TIMEOUT} s); give the address of a running 'dask "
                           "scheduler', e.g. tcp://HOST:8786")


class _Compute:
    """``compute(tasks, on_result) -> facts``; owns its cluster (or the client of a remote
    one) and closes it when the run ends, also on errors and KeyboardInterrupt."""

    def __init__(self, *, workers: int | None, client, threads: int | None) -> None:
        self.workers = workers
        self.client = client
        self.cluster = None
        self.threads = threads

    def close(self) -> None:
        """Close the client (and a local cluster this backend started)."""
        self.shutdown()

    def __call__(self, tasks: list[ChunkTask],
                 on_result: Callable[[ChunkResult], None]) -> dict:
        """Shakespeare: type every chunk of ``tasks``, ``on_result(result)`` as each ends."""
        if not tasks:  # e.g. a resumed run with every chunk done: no cluster needed
            client, self.client = self.client, None
            try:
                return self._facts(client, set(), {})
            finally:
                if client is not None:
                    client.close()
        used: set[int] = set()
        start = time.perf_counter()

        def submit(client, per_host, token):
            return [client.submit(_run_task, task, self.threads, per_host, pure=False,
                                  key=f"shakespeare-chunk-{task.chunk}-{token}")
                    for task in tasks]

        def done(got) -> None:
            result, n = got
            used.add(n)
            on_result(result)

        facts = self._session(submit, done, lambda client: self._facts(
            client, used, client.run(_peak_rss_mb)))
        return {**facts, "typing_seconds": time.perf_counter() - start}

    def cells(self, work: Callable, pending: list, finished: Callable) -> None:
        """Compare (``runner.run_cells``'s backend): compute ``work(i, cell)`` for every
        ``(i, cell)`` of ``pending`` on the cluster, ``finished(i, rows)`` as each ends. The
        cluster stays up for the next call (a run has two phases); :meth:`close` ends it."""

        def submit(client, per_host, token):
            return [client.submit(_run_cell, work, i, cell, self.threads, per_host,
                                  pure=False, key=f"compare-cell-{i}-{token}")
                    for i, cell in pending]

        self._session(submit, lambda got: finished(got[0], got[1]), None, keep=True)

    def _session(self, submit: Callable, done: Callable, facts: Callable | None,
                 keep: bool = False):
        """Run the futures ``submit(client, per_host, token)`` and hand each result to
        ``done`` in completion order; returns ``facts(client)`` if given. The client (and a
        local cluster) is closed at the end unless ``keep``; always on errors."""
        from distributed import as_completed

        ok = False
        try:
            client = self._client()
            per_host: dict[str, int] = {}
            for address in client.scheduler_info(n_workers=-1)["workers"]:
                per_host[_host(address)] = per_host.get(_host(address), 0) + 1
            pending = set(submit(client, per_host, uuid.uuid4().hex[:12]))
            try:
                for future in as_completed(list(pending), loop=client.loop):
                    got = future.result()
                    pending.discard(future)  # no reference left: the worker drops the result
                    del future
                    done(got)
            finally:
                if pending:
                    client.cancel(list(pending))
            result = facts(client) if facts is not None else None
            ok = True
            return result
        finally:
            if not (ok and keep):
                self.shutdown()

    def _client(self):
        """The client: of the remote scheduler, or of a local cluster started now."""
        if self.client is None:
            from distributed import Client, LocalCluster

            self.cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1,
                                        processes=True, dashboard_address=None)
            self.client = Client(self.cluster, set_as_default=False)
        return self.client

    def shutdown(self) -> None:
        """Close the client and the local cluster, if any."""
        if self.client is not None:
            self.client.close()
            self.client = None
        if getattr(self, "cluster", None) is not None:
            self.cluster.close()
            self.cluster = None

    def _facts(self, client, used: set[int], peaks: dict) -> dict:
        threads = sorted(used) or [self.threads]
        workers = self.workers
        if client is not None:
            workers = len(client.scheduler_info(n_workers=-1)["workers"])
        return {"backend": "dask", "workers": workers,
                "threads": threads[0] if len(threads) == 1 else threads,
                "scheduler": None if client is None else client.scheduler.address,
                "worker_peak_rss_mb": max(peaks.values(), default=None)}
