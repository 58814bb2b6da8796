"""Files that survive killed processes: one atomic writer, one lock, and the orphans of dead writers.

Every file the library writes (checkpoints, ``final.pt``, snapshots, evaluations, rendered datasets,
executed notebooks, the book's MathJax copy) goes through :func:`atomic_write`:

1. the data is written to a temporary file **beside** the target, named
   ``.<target name>.<host>-<pid>.<random hex>.tmp`` (:func:`temp_name`) — unique per writer, so two
   processes or threads writing one target never share a temporary file;
2. the file is flushed and ``fsync``-ed, then renamed over the target (``os.replace``, atomic on
   POSIX), and the folder is ``fsync``-ed: a reader sees the old file or the new one, never half of one;
3. on any error the temporary file is removed and the error re-raised unchanged.

A process killed between 1 and 2 (SIGKILL, out of memory, power) cannot remove its temporary file. The
name records the writer's host and pid, so the next writer of the same target — or anyone holding the
folder's lock (:func:`remove_orphans`) — recognises it as an **orphan** when that process no longer
exists on this host, and deletes it. A temporary file of a live process, or of another host (a shared
results folder on a cluster), is never touched. After any sequence of kills and one successful write,
no temporary file of that target remains. The names older versions of rtc used
(``.<name>.<pid>.<hex>.tmp``, ``<name>.tmp<pid>``, ``<name>.ipynb.tmp``, ``<name>.tmp``) are recognised
too (:func:`parse_temp`), so their litter is removed as well.

:func:`file_lock` is the one exclusive lock (``fcntl.flock`` on a lock file that is never removed; the
kernel releases it when its holder dies, even by SIGKILL). The holder's pid is written into the lock
file, so a waiter can say whom it waits for.
"""
from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import socket
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

__all__ = ["atomic_write", "atomic_write_bytes", "atomic_write_text", "temp_name", "parse_temp", "TempFile",
           "writer_alive", "remove_orphans", "find_temp_files", "file_lock", "try_lock", "LockBusy", "lock_holder"]


def _host() -> str:
    # One token without dots or dashes-ambiguity problems: the host part of a temp name.
    return re.sub(r"[^A-Za-z0-9_]", "_", socket.gethostname() or "host")[:40] or "host"


def temp_name(target: Path) -> Path:
    """A fresh temporary path beside ``target``: ``.<name>.<host>-<pid>.<hex>.tmp``."""
    target = Path(target)
    return target.with_name(f".{target.name}.{_host()}-{os.getpid()}.{uuid.uuid4().hex[:12]}.tmp")


@dataclass(frozen=True)
class TempFile:
    """A temporary file parsed from its name: the target it was for, the writer's host (None: this host, in the
    old formats) and pid."""
    path: Path
    target: Path
    host: str | None
    pid: int


# Current format first; then the formats of earlier rtc versions (their writers were on this host).
_CURRENT = re.compile(r"^\.(?P<name>.+)\.(?P<host>[A-Za-z0-9_]+)-(?P<pid>\d+)\.[0-9a-f]{8,32}\.tmp$", re.S)
_LEGACY = (re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.[0-9a-f]{8,32}\.tmp$", re.S),   # train / evaluation cache
           re.compile(r"^(?P<name>.+)\.tmp(?P<pid>\d+)$", re.S))                      # dataset cache
# Fixed names without a pid (the book's executed notebooks, MathJax): an orphan whenever no one holds the lock.
_FIXED = (re.compile(r"^(?P<name>.+)\.tmp$", re.S),)


def parse_temp(path: Path) -> TempFile | None:
    """The :class:`TempFile` ``path`` is, or None when its name is not one of rtc's temporary names.

    Fixed legacy names that carry no pid get ``pid = -1`` (see :func:`writer_alive`)."""
    path = Path(path)
    m = _CURRENT.match(path.name)
    if m:
        return TempFile(path, path.with_name(m["name"]), m["host"], int(m["pid"]))
    for rx in _LEGACY:
        m = rx.match(path.name)
        if m:
            return TempFile(path, path.with_name(m["name"]), None, int(m["pid"]))
    for rx in _FIXED:
        m = rx.match(path.name)
        if m:
            return TempFile(path, path.with_name(m["name"]), None, -1)
    return None


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    try:  # a zombie (killed, not yet reaped by its parent) writes nothing any more
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[-1].split()[0] != b"Z"
    except (OSError, IndexError):
        return True


def writer_alive(tmp: TempFile) -> bool:
    """Might the process that wrote ``tmp`` still be writing it? True for another host's files (we cannot know);
    False for a dead pid on this host and for the old fixed names without a pid (callers remove those only under
    the lock that serialises their writers)."""
    if tmp.host is not None and tmp.host != _host():
        return True
    return _pid_alive(tmp.pid)


def find_temp_files(folder: Path, *, recursive: bool = False) -> list[TempFile]:
    """rtc's temporary files in ``folder`` (and below it when ``recursive``), live or orphaned."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    it = folder.rglob("*") if recursive else folder.iterdir()
    out = []
    for p in it:
        t = parse_temp(p)
        if t is not None and p.is_file():
            out.append(t)
    return sorted(out, key=lambda t: str(t.path))


def remove_orphans(folder: Path, *, target: Path | None = None, fixed_names: bool = False) -> list[Path]:
    """Delete the temporary files in ``folder`` whose writer is dead (only those of ``target`` if given); returns
    what was removed. ``fixed_names``: also remove the old pid-less names (safe only under the lock that
    serialises every writer of the folder). Files of live writers and of other hosts stay."""
    removed = []
    for t in find_temp_files(folder):
        if target is not None and t.target.name != Path(target).name:
            continue
        if t.pid < 0 and not fixed_names:
            continue
        if writer_alive(t):
            continue
        try:
            t.path.unlink()
            removed.append(t.path)
        except FileNotFoundError:  # another cleaner was faster
            pass
    return removed


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some file systems cannot fsync a folder; the rename itself is still atomic
        pass
    finally:
        os.close(fd)


def atomic_write(path: str | os.PathLike, write: Callable[[Path], object]) -> Path:
    """Write ``path`` atomically: ``write(tmp)`` fills a fresh temporary file beside it (:func:`temp_name`), which
    is fsync-ed and renamed over ``path``. Orphans of ``path`` left by dead writers are removed first. On any
    error the temporary file is removed and the error re-raised. Returns ``path``."""
    path = Path(path)
    remove_orphans(path.parent, target=path)
    tmp = temp_name(path)
    try:
        write(tmp)
        if not tmp.exists():
            raise FileNotFoundError(errno.ENOENT, f"the writer of {path} created no file", str(tmp))
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_dir(path.parent)
    return path


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """:func:`atomic_write` of ``data``."""
    return atomic_write(path, lambda tmp: Path(tmp).write_bytes(data))


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """:func:`atomic_write` of ``text`` (UTF-8)."""
    return atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


# ------------------------------------------------------------------------------------------------- the lock
class LockBusy(RuntimeError):
    """:func:`file_lock` with ``wait=False`` found the lock held; ``holder`` is its pid when known."""

    def __init__(self, path: Path, holder: int | None):
        self.path, self.holder = path, holder
        who = f"process {holder}" if holder else "another process"
        super().__init__(f"{path} is held by {who}")


def lock_holder(path: str | os.PathLike) -> int | None:
    """The pid written into lock file ``path`` by its last holder (None when unknown). Informational only: the
    flock, not this number, is the lock."""
    try:
        text = Path(path).read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


@contextlib.contextmanager
def file_lock(path: str | os.PathLike, *, wait: bool = True,
              on_wait: Callable[[int | None], None] | None = None) -> Iterator[int]:
    """Hold an exclusive ``flock`` on ``path`` (created if missing, never removed) for the ``with`` block.

    Held already: ``wait=False`` raises :class:`LockBusy`; else ``on_wait(holder pid or None)`` is called once
    and the call blocks until the holder releases it (or dies). The holder's pid is written into the file.
    Yields the open descriptor."""
    path = Path(path)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if not wait:
                raise LockBusy(path, lock_holder(path)) from None
            if on_wait is not None:
                on_wait(lock_holder(path))
            fcntl.flock(fd, fcntl.LOCK_EX)
        with contextlib.suppress(OSError):  # the pid is a courtesy for waiters; a read-only lock file still locks
            os.ftruncate(fd, 0)
            os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield fd
    finally:
        os.close(fd)  # releases the lock


def try_lock(path: str | os.PathLike) -> bool:
    """Is lock file ``path`` free right now? (Takes and releases the lock at once; creates nothing: a missing file
    is a free lock.)"""
    try:
        fd = os.open(path, os.O_RDONLY)  # flock works on a read-only descriptor: a read-only cache can be checked
    except FileNotFoundError:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)
