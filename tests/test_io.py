"""rtc._io: the one atomic writer (unique temporary names, orphans of dead writers removed) and the one lock."""
import os
import subprocess
import sys
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rtc._io import (
    LockBusy,
    _host,
    atomic_write,
    atomic_write_bytes,
    file_lock,
    find_temp_files,
    lock_holder,
    parse_temp,
    remove_orphans,
    temp_name,
    try_lock,
    writer_alive,
)


def dead_pid() -> int:
    """The pid of a process that has exited and been reaped."""
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def orphan(folder, target_name: str, pid: int):
    """The temporary file a writer with ``pid`` on this host leaves for ``target_name`` when it is killed."""
    p = folder / f".{target_name}.{_host()}-{pid}.0123456789ab.tmp"
    p.write_bytes(b"partial")
    return p


def test_temp_names_are_unique_and_parse_back(tmp_path):
    target = tmp_path / "final.pt"
    names = {temp_name(target) for _ in range(200)}
    assert len(names) == 200
    t = parse_temp(next(iter(names)))
    assert t.target == target and t.pid == os.getpid() and writer_alive(t)


@given(st.text(alphabet=st.characters(blacklist_characters="/\0", blacklist_categories=("Cs",)), min_size=1,
               max_size=40).filter(lambda s: s not in (".", "..")))
@settings(max_examples=200, deadline=None)
def test_any_target_name_round_trips(name):
    """Property: whatever the target's name (dots, dashes, digits, '.tmp' inside), its temporary name parses back
    to it and this process."""
    from pathlib import Path
    target = Path("/nowhere") / name
    t = parse_temp(temp_name(target))
    assert t is not None and t.target == target and t.pid == os.getpid()


def test_write_replaces_atomically_and_leaves_nothing(tmp_path):
    target = tmp_path / "x.bin"
    atomic_write_bytes(target, b"old")
    atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"new" and sorted(os.listdir(tmp_path)) == ["x.bin"]


def test_failed_write_keeps_the_old_file_and_removes_its_temporary(tmp_path):
    target = tmp_path / "x.bin"
    atomic_write_bytes(target, b"old")

    def boom(tmp):
        tmp.write_bytes(b"half")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space"):
        atomic_write(target, boom)
    assert target.read_bytes() == b"old" and sorted(os.listdir(tmp_path)) == ["x.bin"]


def test_orphans_of_dead_writers_go_live_ones_and_other_targets_stay(tmp_path):
    target = tmp_path / "checkpoint.pt"
    pid = dead_pid()
    dead = orphan(tmp_path, "checkpoint.pt", pid)
    legacy = tmp_path / f".checkpoint.pt.{pid}.abcdef01.tmp"          # the format before rtc._io
    legacy.write_bytes(b"partial")
    live = temp_name(target)                                           # this process: alive
    live.write_bytes(b"in progress")
    other_host = tmp_path / f".checkpoint.pt.otherhost-{pid}.abcdef012345.tmp"
    other_host.write_bytes(b"maybe in progress")
    other_target = orphan(tmp_path, "final.pt", pid)
    assert {t.path for t in find_temp_files(tmp_path)} == {dead, legacy, live, other_host, other_target}
    atomic_write_bytes(target, b"ckpt")                                # the next writer of the target cleans up
    left = set(os.listdir(tmp_path))
    assert dead.name not in left and legacy.name not in left
    assert {live.name, other_host.name, other_target.name, "checkpoint.pt"} == left
    assert remove_orphans(tmp_path) == [other_target]                  # a sweep of the folder takes the rest


def test_pidless_old_names_only_under_the_lock(tmp_path):
    old = tmp_path / "chapter.ipynb.tmp"                               # the book runner's old fixed name
    old.write_text("{}")
    assert remove_orphans(tmp_path) == [] and old.exists()
    assert remove_orphans(tmp_path, fixed_names=True) == [old]


def test_zombie_writer_counts_as_dead(tmp_path):
    """A writer killed but not yet reaped by its parent (a zombie) writes nothing any more."""
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    import time
    for _ in range(200):                                               # exited, not waited for: a zombie
        with open(f"/proc/{p.pid}/stat") as f:
            if f.read().rsplit(")", 1)[-1].split()[0] == "Z":
                break
        time.sleep(0.01)
    left = orphan(tmp_path, "x", p.pid)
    assert remove_orphans(tmp_path) == [left]
    p.wait()


def test_lock_is_exclusive_names_its_holder_and_dies_with_it(tmp_path):
    path = tmp_path / "lock"
    with file_lock(path):
        assert lock_holder(path) == os.getpid() and not try_lock(path)
        with pytest.raises(LockBusy, match=str(os.getpid())):
            with file_lock(path, wait=False):
                pass
    assert try_lock(path)
    # a holder killed by SIGKILL releases it
    code = ("import sys, time; sys.path.insert(0, %r); from rtc._io import file_lock\n"
            "with file_lock(%r):\n    print('held', flush=True); time.sleep(60)" % (str(tmp_path), str(path)))
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "held"
    assert not try_lock(path) and lock_holder(path) == p.pid
    p.kill()
    p.wait()
    assert try_lock(path)


def test_waiter_is_told_the_holder_then_gets_the_lock(tmp_path):
    path = tmp_path / "lock"
    told, order = [], []
    release = threading.Event()

    def holder():
        with file_lock(path):
            order.append("held")
            release.wait(10)
        order.append("released")

    t = threading.Thread(target=holder)
    t.start()
    while not order:
        pass
    threading.Timer(0.2, release.set).start()
    with file_lock(path, on_wait=told.append):
        order.append("waiter")
    t.join()
    assert told == [os.getpid()] and order == ["held", "released", "waiter"]
