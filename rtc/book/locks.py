"""Locks between concurrent builders of the book: one per profile while its chapters execute, one while Sphinx
writes the HTML (:func:`book_lock`)."""
from __future__ import annotations

import contextlib
from pathlib import Path

from rtc._io import LockBusy, file_lock, remove_orphans

__all__ = ["BookBusy", "book_lock", "LOCKS_ENV"]


class BookBusy(RuntimeError):
    """Another builder holds the lock this build needs (``--no-wait``); the message names its pid."""


# Set by `python -m rtc.book` for its `jupyter-book` child: the parent holds the locks, the child must not wait for
# them (it would wait for its own parent).
LOCKS_ENV = "RTC_BOOK_LOCKS_HELD"


@contextlib.contextmanager
def book_lock(book: Path, name: str, *, wait: bool = True, say=print):
    """Hold ``<book>/_build/locks/<name>.lock`` for the ``with`` block.

    Two locks serialise builders: ``profile-<profile>`` while a profile's chapters execute (its executed
    notebooks, its failed notebooks), ``html`` while Sphinx writes ``_build/html`` (one tree for every
    profile). Held by another process: ``wait=False`` raises :class:`BookBusy`; else one line through ``say``
    names the holder's pid and the call waits. Taking a profile's lock also removes the temporary files that
    killed builders left among its executed notebooks.
    """
    folder = book / "_build" / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.lock"
    what = f"the {name.removeprefix('profile-')} chapters" if name.startswith("profile-") else "the HTML"

    def on_wait(holder):
        say(f"rtc.book: process {holder or '?'} is building {what} ({path}); waiting for it …")

    try:
        held = file_lock(path, wait=wait, on_wait=on_wait)
        held.__enter__()
    except LockBusy as exc:
        raise BookBusy(f"process {exc.holder or '?'} is building {what} ({path}); wait for it, or run again "
                       "without --no-wait to queue behind it") from None
    try:
        if name.startswith("profile-"):
            executed = book / "_build" / "executed" / name.removeprefix("profile-")
            for d in [executed, *(p for p in executed.rglob("*") if p.is_dir())] if executed.is_dir() else []:
                remove_orphans(d, fixed_names=True)
        yield
    finally:
        held.__exit__(None, None, None)
