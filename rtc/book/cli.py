"""Run the book: execute every chapter under a parameter profile, then build the HTML.

``python -m rtc.book`` (:func:`main`; the usage is :mod:`rtc.book`'s docstring): the chapters executed under the
profile's and the HTML's locks, then ``jupyter-book build`` (:func:`build`).
"""
from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path

from rtc.params import ParameterError
from rtc.paths import find_root

from .locks import LOCKS_ENV, BookBusy, book_lock
from .runner import chapters, failed_dir, plan, prepare, run_all
from .sphinx_ext import PROFILE_ENV

__all__ = ["build", "main"]


def build(root: Path, profile: str, book_dir: str = "book") -> int:
    """``jupyter-book build <book> --all -W -n --keep-going`` under ``profile``; returns its exit status."""
    exe = Path(sys.executable).with_name("jupyter-book")
    # --all: rebuild every page, so warnings of unchanged pages are reported again on every run.
    cmd = [str(exe) if exe.exists() else "jupyter-book", "build", book_dir, "--all", "-W", "-n", "--keep-going"]
    print(f"building: {PROFILE_ENV}={profile} jupyter-book " + " ".join(cmd[1:]), flush=True)
    # The caller (main) holds the profile's and the HTML lock; the child must not wait for them.
    return subprocess.call(cmd, cwd=root, env=dict(os.environ, **{PROFILE_ENV: profile, LOCKS_ENV: "1"}))


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m rtc.book", description=__doc__.split("\n\n")[0])
    ap.add_argument("--profile", default="default", help="parameters/<profile>/ to use (ci, default, paper, ...)")
    ap.add_argument("--chapter", action="append", default=[], help="run only this chapter (repeatable)")
    ap.add_argument("--force", action="store_true", help="rerun chapters even when cached")
    ap.add_argument("--no-build", action="store_true", help="execute chapters but do not build the HTML")
    ap.add_argument("--root", default=None, help="repository root (default: found from the current folder)")
    ap.add_argument("--list", action="store_true", help="list the chapters and exit")
    ap.add_argument("--no-wait", action="store_true",
                    help="fail at once (exit 3) when another builder holds this profile or the HTML, instead of "
                         "waiting for it")
    ap.add_argument("--prepare", metavar="DIR", default=None,
                    help="only write the chapters with the profile's parameters injected to DIR/<name>.ipynb "
                         "(unexecuted, for pytest --nbmake) and exit")
    return ap


def _execute_and_build(root: Path, args: argparse.Namespace, todo: list) -> int:
    """Execute ``todo`` under the profile's lock, then build the HTML under the HTML lock (unless ``--no-build``);
    returns the exit status."""
    say = lambda m: print(m, flush=True)  # noqa: E731
    try:
        with contextlib.ExitStack() as locks:
            locks.enter_context(book_lock(root / "book", f"profile-{args.profile}", wait=not args.no_wait, say=say))
            failures = run_all(root, args.profile, todo, force=args.force, say=say)
            if failures:
                print("error: " + str(len(failures)) + " chapter(s) failed:\n  " + "\n  ".join(failures),
                      file=sys.stderr)
                print(f"failed notebooks: {failed_dir(root / 'book', args.profile)}", file=sys.stderr)
                return 1
            if args.no_build:
                return 0
            locks.enter_context(book_lock(root / "book", "html", wait=not args.no_wait, say=say))
            t0 = time.perf_counter()
            rc = build(root, args.profile)
    except BookBusy as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    if rc != 0:
        print(f"error: jupyter-book build failed (exit {rc}); see the warnings above", file=sys.stderr)
        return 1
    index = root / "book" / "_build" / "html" / "index.html"
    print(f"book built in {time.perf_counter() - t0:.1f} s: {index}", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)

    root = find_root(args.root)
    chaps = chapters(root)
    if args.list:
        for c in chaps:
            print(c.name, c.source.relative_to(root))
        return 0
    names = {c.name for c in chaps}
    for n in args.chapter:
        if n not in names:
            print(f"error: unknown chapter {n!r}; chapters: {', '.join(sorted(names))}", file=sys.stderr)
            return 2
    selected = [c for c in chaps if not args.chapter or c.name in args.chapter]
    # Validate every chapter's parameters before running anything (the build needs all of them).
    try:
        plan(root, args.profile, chaps)
        todo = plan(root, args.profile, selected)
    except ParameterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.prepare:
        for p in prepare(todo, Path(args.prepare)):
            print(p)
        return 0
    return _execute_and_build(root, args, todo)
