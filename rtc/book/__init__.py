"""Run the book: execute every chapter under a parameter profile, then build the HTML.

Usage (from the repository root)::

    python -m rtc.book --profile ci                 # all chapters + jupyter-book build
    python -m rtc.book --profile default --chapter theorem1 --force
    python -m rtc.book --profile paper --no-build
    python -m rtc.book --profile ci --prepare nbmake-run   # notebooks for pytest --nbmake
    jupyter-book build book/                        # the same book under the default profile

For each chapter listed in ``book/_toc.yml`` that has a jupytext source ``book/<file>.py``:
convert it to a notebook, execute it with papermill using ``parameters/<profile>/<name>.yaml``,
and write the executed notebook atomically (:func:`rtc._io.atomic_write`: a unique temporary name, then a
rename) to ``book/_build/executed/<profile>/<file>.ipynb`` (one folder per profile: a profile's results
never stand in for another's). Then
``jupyter-book build book/ --all -W -n --keep-going`` with ``RTC_BOOK_PROFILE=<profile>``, so a
warning fails the build too (``--all``: warnings of unchanged pages are not hidden by Sphinx's
incremental build).

The book's sources stay the ``.py`` chapters: this package is also a Sphinx extension (listed in
``_config.yml`` as ``rtc.book``; :mod:`rtc.book.sphinx_ext`) whose notebook reader (:func:`read_chapter`, the
``.py`` entry of ``nb_custom_formats``) hands jupyter-book the executed notebook of the profile named by
``RTC_BOOK_PROFILE`` (default: ``default``), executing it first when it is missing or stale. So
a plain ``jupyter-book build book/`` builds the whole ``default`` book, sharing this cache.

A chapter is skipped when its executed notebook carries the same cache key (:func:`cache_key`): a
hash of everything it reads — its source, the parameters it was run with (``profile`` is the
folder's name), every file of the ``rtc`` package, the *resolved* training grids of its profile and
of the ``paper`` profile it describes itself against, and the paper profile's parameters of the
chapter (``--force`` reruns). All profiles are validated before any chapter runs. A failing cell
stops that chapter, names the chapter and the cell, leaves the previous executed notebook in place
and the failed one in ``book/_build/failed/<profile>/``, and makes the whole run exit with status 1
without building.

Concurrent builders: a per-profile lock (``book/_build/locks/profile-<profile>.lock``) is held while a
profile's chapters execute and an ``html`` lock while Sphinx writes ``book/_build/html`` (one tree for
all profiles). A second builder prints one line naming the holder's pid and waits, or with
``--no-wait`` exits with status 3 at once; a holder that dies releases its locks with its process, and
the next one removes the temporary files it left.

In the executed notebook the parameter cells (the chapter's and papermill's injected one) are
tagged ``remove-cell``: the profile table each chapter prints says what ran.
"""
from __future__ import annotations

from .cli import build, main
from .locks import LOCKS_ENV, BookBusy, book_lock
from .mathjax import ensure_mathjax
from .runner import (
    REFERENCE_PROFILE,
    Chapter,
    ChapterFailed,
    cache_key,
    chapters,
    executed_path,
    failed_dir,
    plan,
    prepare,
    run_all,
    run_chapter,
)
from .sphinx_ext import PROFILE_ENV, read_chapter, setup

__all__ = ["Chapter", "chapters", "cache_key", "run_chapter", "plan", "prepare", "run_all", "build", "main",
           "ChapterFailed", "executed_path", "read_chapter", "ensure_mathjax", "setup", "PROFILE_ENV", "BookBusy",
           "book_lock", "failed_dir", "LOCKS_ENV", "REFERENCE_PROFILE"]
