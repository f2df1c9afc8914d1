"""Atomic result files: CSV tables with a JSON sidecar, and output directories.

Every write goes to a temporary file in the same directory (a unique name with the writer's
pid, ``.NAME.PID.RANDOM.tmp``) and is moved into place with ``os.replace``, so a run killed at
any moment leaves either the old file or the new one; temporary files of dead writers are
removed when the next run starts in that directory. Each CSV ``NAME.csv`` gets ``NAME.json``
with the config, seed, versions and git revision.

Output directories: :func:`check_out_dir` / :func:`check_out_file` validate a path without
changing the disk (not a file, not inside a file, writable, no results to replace without
``--overwrite``; a single file's folder is probed with a temporary file, removed at once);
:class:`RunDir` then creates the directory, holds its lock (:class:`RunLock`, an advisory
``flock`` on ``.monkeysim.lock``) for the whole run, and undoes
what the run did if it is refused: old results replaced with ``--overwrite`` come back, a
directory the run created is removed.
"""

from __future__ import annotations

import csv
import io
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from .errors import Diverged, InvalidInput, os_error_message

_UMASK = os.umask(0o022)
os.umask(_UMASK)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temp file in the same directory + os.replace)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp",
                               dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; give the usual file mode
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def csv_text(columns: Sequence[str], rows: Iterable[Sequence]) -> str:
    """Render rows as CSV text with a header line and ``\\n`` line endings."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(row)
    return buf.getvalue()


def git_revision() -> str | None:
    """The current git commit of the source tree, or None outside a repository."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                             cwd=Path(__file__).resolve().parent, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def versions() -> dict[str, str]:
    """Versions of Python, the platform and the main dependencies."""
    import matplotlib
    import numba
    import numpy

    from .version import __version__

    return {"monkeysim": __version__, "python": sys.version.split()[0],
            "numpy": numpy.__version__, "numba": numba.__version__,
            "matplotlib": matplotlib.__version__, "platform": platform.platform()}


def sidecar(config: Mapping, seed: int | None, **extra) -> dict:
    """The JSON sidecar dict: config, seed, versions, git revision and any extra fields."""
    return {"config": dict(config), "seed": seed, "versions": versions(),
            "git_revision": git_revision(), **extra}


def write_table(path: str | os.PathLike, columns: Sequence[str], rows: Iterable[Sequence],
                meta: Mapping) -> Path:
    """Write ``path`` (CSV) and its JSON sidecar (``path`` with ``.json``) atomically."""
    path = Path(path)
    atomic_write_text(path, csv_text(columns, rows))
    atomic_write_text(path.with_suffix(".json"), json.dumps(meta, indent=2, default=str) + "\n")
    return path


def new_run_dir(command: str, root: str | os.PathLike = "runs") -> Path:
    """A fresh ``runs/COMMAND-YYYYmmdd-HHMMSS`` path (suffixed ``-1`` until it is unused)."""
    import time

    out = Path(root) / time.strftime(f"{command}-%Y%m%d-%H%M%S")
    while out.exists():
        out = out.with_name(out.name + "-1")
    return out


def run_out_dir(out: str | os.PathLike | None, command: str, resume: bool) -> Path:
    """The output directory of a resumable command: ``out``, or a fresh ``runs/`` directory
    when none is given (``resume`` then is an error: there is nothing to continue)."""
    if out is not None:
        return Path(out)
    if resume:
        raise InvalidInput("--resume needs --out DIR (the run to continue)")
    return new_run_dir(command)


def prepare_out_dir(out: str | os.PathLike, overwrite: bool, names: Sequence[str] = ()) -> Path:
    """Check an output directory (:func:`check_out_dir`), then create it.

    For writers that run inside a :class:`RunDir` (which did the checks under the lock) or
    library callers that manage the directory themselves."""
    out = check_out_dir(out, overwrite, names)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidInput(os_error_message(exc, "create", out)) from None
    return out


# --- checking paths without touching the disk -----------------------------------------------

def _existing_ancestor(path: Path) -> Path:
    """``path`` or its nearest ancestor that exists (as anything)."""
    p = path
    while not os.path.lexists(p) and p != p.parent:
        p = p.parent
    return p


def _writable(directory: Path, what: str, path: Path) -> None:
    """InvalidInput unless files can be created in the existing ``directory``."""
    if os.access(directory, os.W_OK | os.X_OK):
        return
    try:
        readonly = bool(os.statvfs(directory).f_flag & os.ST_RDONLY)
    except OSError:
        readonly = False
    reason = "read-only file system" if readonly else f"permission denied in {str(directory)!r}"
    raise InvalidInput(f"cannot write {what} {str(path)!r}: {reason}")


def _check_path(path: Path, what: str) -> Path:
    """Common checks of an output path: a valid name whose ancestors are directories."""
    if "\0" in str(path):
        raise InvalidInput(f"{what} {str(path)!r} contains a NUL character")
    path = Path(path)
    try:
        base = _existing_ancestor(path.absolute())
        if base != path.absolute() and not base.is_dir():
            raise InvalidInput(f"cannot create {what} {str(path)!r}: {str(base)!r} is not a "
                               "directory")
    except OSError as exc:
        raise InvalidInput(os_error_message(exc, "access", path)) from None
    return path


def check_out_dir(out: str | os.PathLike, overwrite: bool, names: Sequence[str] = (),
                  resume: bool = False, what: str = "--out") -> Path:
    """Validate an output directory without touching the disk.

    ``out`` may not exist yet; it must not be a file or lie inside one, and it (or its
    nearest existing ancestor) must be writable. If it exists and holds any of ``names`` (or,
    with no names given, anything but a lock file), ``overwrite`` (or ``resume``) must be
    set, else InvalidInput.
    """
    out = _check_path(Path(out), what)
    try:
        exists = out.exists()
        if os.path.lexists(out) and not out.is_dir():
            raise InvalidInput(f"{what} {str(out)!r} exists and is not a directory")
        _writable(out if exists else _existing_ancestor(out.absolute()), what, out)
        if exists and not overwrite and not resume and _clash(out, names):
            raise InvalidInput(
                f"{what} {str(out)!r} already holds results; pass --overwrite to replace them")
    except OSError as exc:
        raise InvalidInput(os_error_message(exc, "access", out)) from None
    return out


def _clash(out: Path, names: Sequence[str]) -> list[str]:
    if names:
        return [n for n in names if os.path.lexists(out / n)]
    return [p.name for p in out.iterdir() if p.name != LOCK_NAME]


def check_out_file(path: str | os.PathLike, what: str = "--save") -> Path:
    """Validate a single output file before the run: not a directory, its parent a writable
    directory (or creatable). A file written only at the end of a run (a bench's ``--save``)
    gets a real probe as well (:func:`_probe`), since permissions cannot tell whether a
    virtual file system (``/proc``, ``/sys``) takes a new file."""
    path = _check_path(Path(path), what)
    try:
        if path.is_dir():
            raise InvalidInput(f"{what} {str(path)!r} is a directory; give a file name")
        parent = path.absolute().parent
        _writable(parent if parent.is_dir() else _existing_ancestor(parent), what, path)
        _probe(parent, what, path)
    except OSError as exc:
        raise InvalidInput(os_error_message(exc, "access", path)) from None
    return path


def _probe(parent: Path, what: str, path: Path) -> None:
    """InvalidInput unless a file can be created in ``parent`` (or, if it does not exist, a
    directory in its nearest existing ancestor): creates and at once removes a hidden
    temporary file (named like :func:`atomic_write_bytes`'s, so a leftover of a killed
    process is cleaned like theirs)."""
    exists = parent.is_dir()
    where = parent if exists else _existing_ancestor(parent)
    try:
        if exists:
            fd, tmp = tempfile.mkstemp(prefix=f".probe.{os.getpid()}.", suffix=".tmp",
                                       dir=where)
            os.close(fd)
            os.unlink(tmp)
        else:
            os.rmdir(tempfile.mkdtemp(prefix=f".probe.{os.getpid()}.", suffix=".tmp",
                                      dir=where))
    except OSError as exc:
        reason = (exc.strerror or type(exc).__name__).lower()
        raise InvalidInput(f"cannot write {what} {str(path)!r}: {str(where)!r} takes no new "
                           f"{'file' if exists else 'directory'} ({reason})") from None


# --- the lock of a run directory ------------------------------------------------------------

LOCK_NAME = ".monkeysim.lock"
"""The lock file of a run directory (removed when its run ends)."""
BACKUP_PREFIX = ".monkeysim-old-"
"""Hidden directory holding results replaced by ``--overwrite`` until the new run stands."""
_TMP = re.compile(r"^\..+\.(\d+)\.[A-Za-z0-9_]+\.tmp$")
_BACKUP = re.compile(r"^" + re.escape(BACKUP_PREFIX) + r"(\d+)-[0-9a-f]+$")


class RunLock:
    """An advisory lock (``fcntl.flock``) on ``DIR/.monkeysim.lock``, which records the
    holder's pid and host. The kernel releases a flock when its process dies, so the lock of a
    killed run is simply taken over. Refused (InvalidInput naming the holder) while another
    process holds it."""

    def __init__(self, directory: str | os.PathLike) -> None:
        self.directory = Path(directory)
        self.path = self.directory / LOCK_NAME
        self.fd: int | None = None

    def acquire(self) -> RunLock:
        import fcntl
        import socket

        for _ in range(100):
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _holder(fd)
                os.close(fd)
                raise InvalidInput(
                    f"--out {str(self.directory)!r} is in use by another run ({holder}); wait "
                    "for it to end or choose another --out") from None
            except BaseException:
                os.close(fd)
                raise
            try:  # a holder that just ended may have unlinked the file we locked: retry
                same = os.path.samestat(os.fstat(fd), os.stat(self.path))
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        else:  # pragma: no cover - needs 100 lost races in a row
            raise InvalidInput(f"cannot lock --out {str(self.directory)!r}")
        info = {"pid": os.getpid(), "host": socket.gethostname(),
                "started": time.strftime("%Y-%m-%d %H:%M:%S"), "argv": sys.argv[1:]}
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, (json.dumps(info) + "\n").encode(), 0)
        except BaseException:
            os.close(fd)
            raise
        self.fd = fd
        return self

    def release(self) -> None:
        """Remove the lock file (while still holding it) and release the lock."""
        if self.fd is None:
            return
        try:
            os.unlink(self.path)
        except OSError:
            pass
        os.close(self.fd)
        self.fd = None

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def _holder(fd: int) -> str:
    """'pid 123 on host h, started ...' from an open lock file (what the holder wrote)."""
    try:
        info = json.loads(os.pread(fd, 4096, 0).decode() or "{}")
        return (f"pid {info['pid']} on host {info['host']}, started {info['started']}")
    except (OSError, ValueError, KeyError, TypeError):
        return "a process that has not written its pid yet"


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


def clean_stale(out: Path, subdirs: Sequence[str] = ()) -> int:
    """Remove temporary files (``.NAME.PID.RANDOM.tmp``) and ``--overwrite`` backups left in
    ``out`` (and ``out/SUB`` for each of ``subdirs``) by writers that are no longer alive.
    Call with the directory's lock held. Returns how many were removed."""
    removed = 0
    for d in (out, *(out / s for s in subdirs)):
        try:
            entries = list(os.scandir(d))
        except (FileNotFoundError, NotADirectoryError):
            continue
        for e in entries:
            m = _TMP.match(e.name) or (_BACKUP.match(e.name) if d == out else None)
            if m is None or _pid_alive(int(m.group(1))):
                continue
            _remove(e)
            removed += 1
    return removed


# --- one run in one directory ---------------------------------------------------------------

class RunDir:
    """The output directory of one run, from validation to the last file.

    ``with RunDir(out, names, overwrite=..., resume=...) as rd:`` checks ``out`` again
    (:func:`check_out_dir`), creates it (and missing parents), takes its :class:`RunLock`
    (refused if another run holds it), removes stale temporary files, and with ``overwrite``
    moves the earlier results ``names`` aside. When the block ends:

    - normally: the moved-aside results are deleted;
    - with :class:`InvalidInput` (a refusal, even a late one) or
      :class:`~monkeysim.errors.Diverged` (nothing worth keeping): what the run wrote among
      ``names`` is removed and the old results come back; a directory the run created is
      removed entirely;
    - with any other exception (a failure, Ctrl-C): if the run wrote none of ``names`` the
      old results come back as well; otherwise its checkpoints stay (``--resume`` continues
      them) and the old results are deleted. With ``resume`` nothing is undone.

    The lock is released in every case; an empty directory the run created is removed.
    ``subdirs``: checkpoint directories also cleaned of stale temporary files.
    """

    def __init__(self, out: str | os.PathLike, names: Sequence[str], *, overwrite: bool = False,
                 resume: bool = False, subdirs: Sequence[str] = ()) -> None:
        self.out = Path(out)
        self.names = list(names)
        self.overwrite = overwrite
        self.resume = resume
        self.subdirs = list(subdirs)
        self.created: Path | None = None
        self.backup: Path | None = None
        self.lock = RunLock(self.out)

    def __enter__(self) -> RunDir:
        check_out_dir(self.out, True, self.names)
        self.created = _make_dirs(self.out)
        try:
            self.lock.acquire()
            clean_stale(self.out, self.subdirs)
            if not self.resume:
                if _clash(self.out, self.names) and not self.overwrite:
                    raise InvalidInput(f"--out {str(self.out)!r} already holds results; pass "
                                       "--overwrite to replace them")
                self._move_aside()
        except OSError as exc:
            self._abandon()
            raise InvalidInput(os_error_message(exc, None, self.out)) from None
        except BaseException:
            self._abandon()
            raise
        return self

    def _move_aside(self) -> None:
        old = [n for n in self.names if os.path.lexists(self.out / n)]
        if not old:
            return
        import secrets

        self.backup = self.out / f"{BACKUP_PREFIX}{os.getpid()}-{secrets.token_hex(4)}"
        self.backup.mkdir()
        for n in old:
            os.replace(self.out / n, self.backup / n)

    def _restore(self) -> None:
        """Remove what the run wrote among ``names``; put the moved-aside results back."""
        for n in self.names:
            p = self.out / n
            if os.path.isdir(p) and not os.path.islink(p):
                shutil.rmtree(p)
            elif os.path.lexists(p):
                os.unlink(p)
        if self.backup is not None:
            for e in os.scandir(self.backup):
                os.replace(e.path, self.out / e.name)
            os.rmdir(self.backup)
            self.backup = None

    def _drop_backup(self) -> None:
        if self.backup is not None:
            shutil.rmtree(self.backup, ignore_errors=True)
            self.backup = None

    def _abandon(self) -> None:
        """Undo :meth:`__enter__` after a refusal there."""
        try:
            if self.backup is not None:
                self._restore()
        finally:
            self._release(clear=self.lock.fd is not None)

    def __exit__(self, etype, exc, tb) -> None:
        try:
            if etype is None or self.resume:
                self._drop_backup()
            elif issubclass(etype, (InvalidInput, Diverged)):
                if self.created is None:
                    self._restore()
            elif any(os.path.lexists(self.out / n) for n in self.names):
                self._drop_backup()
            else:
                self._restore()
        finally:
            refused = etype is not None and issubclass(etype, (InvalidInput, Diverged))
            self._release(clear=refused and not self.resume)

    def _release(self, clear: bool) -> None:
        """Release the lock; remove the directories this run created when they are empty,
        after clearing what the run wrote into ``out`` first with ``clear`` (done while the
        lock is held, so no other run's files are touched)."""
        if clear and self.created is not None and self.lock.fd is not None:
            _clear_dir(self.out)
        self.lock.release()
        _remove_empty(self.out, self.created)


def _make_dirs(out: Path) -> Path | None:
    """Create ``out`` and missing parents; the topmost directory created (None: existed)."""
    missing = []
    p = out.absolute()
    while not os.path.lexists(p):
        missing.append(p)
        p = p.parent
    try:
        for d in reversed(missing):
            try:
                d.mkdir()
            except FileExistsError:
                if not d.is_dir():
                    raise
                missing.remove(d)
    except OSError as exc:
        _remove_empty(out, missing[-1] if missing else None)
        raise InvalidInput(os_error_message(exc, "create", out)) from None
    return missing[-1] if missing else None


def _clear_dir(out: Path) -> None:
    """Remove everything in ``out`` but its lock file."""
    for e in os.scandir(out):
        if e.name != LOCK_NAME:
            _remove(e)


def _remove(e: os.DirEntry) -> None:
    """Remove a directory entry: a directory with everything in it, or a file (gone already
    is fine)."""
    if e.is_dir(follow_symlinks=False):
        shutil.rmtree(e.path, ignore_errors=True)
    else:
        try:
            os.unlink(e.path)
        except FileNotFoundError:
            pass


def _remove_empty(out: Path, created: Path | None) -> None:
    """Remove ``out`` and its parents up to ``created`` (the directories a run made) while
    they are empty."""
    if created is None:
        return
    p = out.absolute()
    while True:
        try:
            p.rmdir()
        except OSError:
            return
        if p == created or p == p.parent:
            return
        p = p.parent


def write_json(path: str | os.PathLike, obj) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, default=str) + "\n")
