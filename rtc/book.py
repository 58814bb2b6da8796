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

The book's sources stay the ``.py`` chapters: this module is also a Sphinx extension (listed in
``_config.yml``) whose notebook reader (:func:`read_chapter`, the ``.py`` entry of
``nb_custom_formats``) hands jupyter-book the executed notebook of the profile named by
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

import argparse
import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from ._io import LockBusy, atomic_write, atomic_write_bytes, file_lock, remove_orphans
from ._source import files_digest
from .params import ParameterError, chapter_defaults, chapter_notebook, load_profile
from .paths import find_root

__all__ = ["Chapter", "chapters", "cache_key", "run_chapter", "plan", "prepare", "run_all", "build", "main",
           "ChapterFailed", "executed_path", "read_chapter", "ensure_mathjax", "setup", "PROFILE_ENV", "BookBusy",
           "book_lock", "failed_dir", "LOCKS_ENV", "REFERENCE_PROFILE"]

PROFILE_ENV = "RTC_BOOK_PROFILE"  # the profile a plain `jupyter-book build book/` renders (default: default)
# The profile every chapter compares its run with (rtc.params.describe_run, rtc.experiments.comparison.describe_grid):
# its parameters and grid are read by every profile's chapters, so they enter every cache key.
REFERENCE_PROFILE = "paper"
# Cells that only carry parameters: hidden from the HTML (the chapter's profile table says what ran).
PARAMETER_TAGS = ("parameters", "injected-parameters")

# MathJax served from the book itself, so equations render offline. The single-file es5 build with
# SVG output needs no font files and lazy-loads no TeX extension.
MATHJAX_VERSION = "3.2.2"
MATHJAX_FILE = "tex-svg-full.js"
MATHJAX_SHA256 = "a4354ff94fd868aea0cc6eaaa79a57fda0588646fc46ee3700a349ee0a11cbe6"


class ChapterFailed(RuntimeError):
    """A chapter's cell raised during execution."""


class BookBusy(RuntimeError):
    """Another builder holds the lock this build needs (``--no-wait``); the message names its pid."""


# Set by `python -m rtc.book` for its `jupyter-book` child: the parent holds the locks, the child must not wait for
# them (it would wait for its own parent).
LOCKS_ENV = "RTC_BOOK_LOCKS_HELD"


def failed_dir(book: Path, profile: str) -> Path:
    """Where a chapter that failed under ``profile`` is kept to inspect: ``<book>/_build/failed/<profile>/``."""
    return book / "_build" / "failed" / profile


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


@dataclass(frozen=True)
class Chapter:
    name: str      # stem, also the parameter-file name
    source: Path   # jupytext percent-format .py
    docname: str   # path in the table of contents, relative to the book folder, without suffix
    book: Path     # the book folder


def _toc_files(entries) -> list[str]:
    out = []
    for e in entries or []:
        if "file" in e:
            out.append(e["file"])
        for key in ("sections", "chapters"):
            out += _toc_files(e.get(key))
        for part in e.get("parts", []) or []:
            out += _toc_files(part.get("chapters"))
    return out


def chapters(root: Path, book_dir: str = "book") -> list[Chapter]:
    """Executable chapters in table-of-contents order (entries with a ``.py`` source)."""
    book = Path(root) / book_dir
    toc = yaml.safe_load((book / "_toc.yml").read_text())
    files = _toc_files(toc.get("chapters")) + _toc_files(toc.get("parts") and [{"parts": toc["parts"]}])
    out = []
    for f in files:
        src = book / f"{f}.py"
        if src.exists():
            out.append(Chapter(name=Path(f).name, source=src, docname=f, book=book))
    return out


def executed_path(chapter: Chapter, profile: str) -> Path:
    """Where the runner keeps ``chapter`` executed under ``profile``:
    ``<book>/_build/executed/<profile>/<file>.ipynb``."""
    return chapter.book / "_build" / "executed" / profile / f"{chapter.docname}.ipynb"


# Seconds the notebook client waits for a cell's outputs after the kernel reports it done (nbclient: 4).
IOPUB_TIMEOUT = 120


def _package_digest() -> str:
    return files_digest(Path(__file__).resolve().parent.rglob("*.py"))


def _profile_inputs(chapter: Chapter, profile: str) -> dict:
    """What ``chapter`` reads of the parameter files besides its own parameters: the resolved training grids
    (:func:`rtc.experiments.grid.grid_key` of the normalised grid, so a comment edit changes nothing) of ``profile``
    and of :data:`REFERENCE_PROFILE`, and the reference profile's parameters of the chapter. Any chapter may read the
    grid through a library call, so every chapter's key holds it: a grid edit re-executes them all, never serves a
    stale one. Raises :class:`ParameterError` for a grid that does not validate."""
    from .experiments.grid import GridError, grid_key, load_grid

    root = chapter.book.parent
    out = {}
    try:
        for p in dict.fromkeys([profile, REFERENCE_PROFILE]):
            if (root / "parameters" / p / "training.yaml").exists():
                out[f"grid {p}"] = grid_key(load_grid(p, root=root))
    except GridError as exc:
        raise ParameterError(str(exc)) from None
    if (root / "parameters" / REFERENCE_PROFILE).is_dir():
        out[f"parameters {REFERENCE_PROFILE}"] = load_profile(REFERENCE_PROFILE, chapter.name, root=root,
                                                               chapter_path=chapter.source)
    return out


def cache_key(chapter: Chapter, params: dict, profile: str | None = None) -> str:
    """Hash of everything the chapter reads: its source, its parameters, the whole ``rtc`` package and, with
    ``profile``, the resolved training grids and reference parameters of :func:`_profile_inputs` — editing what a
    run is made of (``steps:`` in training.yaml) re-executes the chapters, a comment does not."""
    h = hashlib.sha256()
    h.update(chapter.source.read_bytes())
    h.update(json.dumps(params, sort_keys=True).encode())
    h.update(_package_digest().encode())
    if profile is not None:
        h.update(json.dumps(_profile_inputs(chapter, profile), sort_keys=True).encode())
    return h.hexdigest()


def _stored_key(nb_path: Path) -> str | None:
    try:
        meta = json.loads(nb_path.read_text()).get("metadata", {})
    except (OSError, ValueError):
        return None
    return meta.get("rtc", {}).get("cache_key")


def _first_line(src: str) -> str:
    for line in src.splitlines():
        if line.strip():
            return line.strip()[:100]
    return ""


def _kernel_manager_class(socket_dir: Path):
    """A kernel manager on IPC (Unix socket) transport, its sockets in ``socket_dir``: local only, and
    the kernel does not warn "running over TCP without encryption" into the runner's output. (Without
    an explicit ``ip`` the sockets would land in the kernel's working folder, the chapters' sources.)"""
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import CaselessStrEnum, default

    class IPCKernelManager(AsyncKernelManager):
        transport = CaselessStrEnum(["tcp", "ipc"], default_value="ipc", config=True)

        @default("ip")
        def _ip_default(self):
            return str(socket_dir / "kernel-ipc")

    return IPCKernelManager


def hide_parameter_cells(nb) -> int:
    """Tag every ``parameters``/``injected-parameters`` cell of ``nb`` with ``remove-cell``; returns how many."""
    n = 0
    for cell in nb.cells:
        tags = cell.setdefault("metadata", {}).setdefault("tags", [])
        if any(t in tags for t in PARAMETER_TAGS):
            if "remove-cell" not in tags:
                tags.append("remove-cell")
            n += 1
    return n


@contextlib.contextmanager
def _progress_channel(path: Path, on_progress):
    """Point ``$RTC_PROGRESS`` at ``path`` for the ``with`` block and hand every line appended there to
    ``on_progress`` (from a thread polling twice a second, and once more at the end)."""
    import threading

    from .progress import ENV

    if on_progress is None:
        yield
        return
    path.touch()
    old, stop = os.environ.get(ENV), threading.Event()
    os.environ[ENV] = str(path)

    def pump(fh):
        for line in fh.readlines():
            if line.strip():
                on_progress(line.rstrip("\n"))

    with open(path, encoding="utf-8") as fh:
        def loop():
            while not stop.wait(0.5):
                pump(fh)

        t = threading.Thread(target=loop, daemon=True)
        t.start()
        try:
            yield
        finally:
            stop.set()
            t.join()
            pump(fh)
            if old is None:
                os.environ.pop(ENV, None)
            else:
                os.environ[ENV] = old


def run_chapter(chapter: Chapter, params: dict, out: Path, *, force: bool = False, progress: bool = False,
                failed_dir: Path | None = None, profile: str | None = None, on_progress=None) -> str:
    """Execute one chapter into ``out``; returns ``'cached'`` or ``'ran'``. Raises :class:`ChapterFailed` on a
    failing cell. ``profile`` enters the cache key through its training grid (:func:`cache_key`);
    ``on_progress(line)`` receives the lines the chapter's work reports through :mod:`rtc.progress`."""
    import nbformat
    import papermill as pm

    key = cache_key(chapter, params, profile)
    if not force and out.exists() and _stored_key(out) == key:
        return "cached"
    nb = chapter_notebook(chapter.source)
    with tempfile.TemporaryDirectory(prefix=f"rtc-{chapter.name}-") as tmp:
        src_nb = Path(tmp) / f"{chapter.name}.ipynb"
        out_nb = Path(tmp) / f"{chapter.name}.out.ipynb"
        nbformat.write(nb, src_nb)
        try:
            # cwd: the chapter's own folder, so relative paths in a chapter mean the same in every profile.
            # The kernel inherits $RTC_PROGRESS: what the chapter's work reports (rtc.progress) reaches on_progress.
            with _progress_channel(Path(tmp) / "progress.txt", on_progress):
                # iopub_timeout: how long the client waits for a finished cell's last output; nbclient's 4 s
                # failed a chapter on a loaded machine (a low-priority build beside two training workers).
                pm.execute_notebook(str(src_nb), str(out_nb), parameters=params, kernel_name="python3",
                                    cwd=str(chapter.source.parent), progress_bar=progress, log_output=False,
                                    kernel_manager_class=_kernel_manager_class(Path(tmp)),
                                    iopub_timeout=IOPUB_TIMEOUT)
        except pm.PapermillExecutionError as exc:
            executed = nbformat.read(out_nb, as_version=4) if out_nb.exists() else None
            where = f"code cell [{exc.exec_count}]"
            # papermill prepends an error banner cell, so locate the failing cell by its error output.
            src_cells = [c for c in (executed.cells if executed is not None else [])
                         if any(o.get("output_type") == "error" for o in c.get("outputs", []))]
            if src_cells:
                where += f" ({_first_line(src_cells[0].source)!r})"
            if failed_dir is not None and out_nb.exists():
                failed_dir.mkdir(parents=True, exist_ok=True)
                shutil.move(str(out_nb), failed_dir / f"{chapter.name}.ipynb")
            raise ChapterFailed(f"chapter {chapter.name!r} failed in {where}: {exc.ename}: {exc.evalue}") from None
        executed = nbformat.read(out_nb, as_version=4)
        hide_parameter_cells(executed)
        executed.metadata.setdefault("rtc", {})
        executed.metadata["rtc"].update(cache_key=key, parameters=params)
        # A unique temporary name next to the destination, then rename: a reader never sees a half-written notebook.
        out.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(out, lambda tmp: nbformat.write(executed, str(tmp)))
    return "ran"


def plan(root: Path, profile: str, selected: list[Chapter]) -> list[tuple[Chapter, dict]]:
    """Validated parameters of every selected chapter under ``profile`` (``profile`` set to the profile's name), and
    the training grids their cache keys read validated too (raises :class:`ParameterError` first)."""
    out = []
    for c in selected:
        params = load_profile(profile, c.name, root=root, defaults=chapter_defaults(c.source))
        _profile_inputs(c, profile)
        out.append((c, params))
    return out


def prepare(todo: list[tuple[Chapter, dict]], out_dir: Path) -> list[Path]:
    """Write each chapter as ``<out_dir>/<name>.ipynb`` with its parameters injected but not executed.

    For runners that take plain notebooks and inject nothing themselves (``pytest --nbmake``).
    """
    import nbformat
    import papermill as pm

    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for c, params in todo:
        nb = chapter_notebook(c.source)
        src = out_dir / f"{c.name}.src.ipynb"
        nbformat.write(nb, src)
        paths.append(out_dir / f"{c.name}.ipynb")
        pm.execute_notebook(str(src), str(paths[-1]), parameters=params, prepare_only=True, kernel_name="python3",
                            progress_bar=False)
        src.unlink()
    return paths


def run_all(root: Path, profile: str, todo: list[tuple[Chapter, dict]], *, force: bool = False,
            say=print) -> list[str]:
    """Execute ``todo`` in order, reporting progress through ``say``; returns the failure messages."""
    failures = []
    t_all = time.perf_counter()
    progress = sys.stderr.isatty()
    for i, (c, params) in enumerate(todo, 1):
        t0 = time.perf_counter()
        say(f"[{i}/{len(todo)}] {c.name} ({profile}) ...")
        try:
            status = run_chapter(c, params, executed_path(c, profile), force=force, progress=progress,
                                 failed_dir=failed_dir(c.book, profile), profile=profile,
                                 on_progress=lambda line, i=i, c=c: say(f"[{i}/{len(todo)}] {c.name}: {line}"))
        except ChapterFailed as exc:
            failures.append(str(exc))
            say(f"[{i}/{len(todo)}] {c.name} FAILED after {time.perf_counter() - t0:.1f} s: {exc}")
            continue
        say(f"[{i}/{len(todo)}] {c.name} {status} in {time.perf_counter() - t0:.1f} s")
    say(f"chapters done in {time.perf_counter() - t_all:.1f} s")
    return failures


# ------------------------------------------------------------------------------ MathJax, offline
def _mathjax_cache() -> Path:
    from .data.cache import cache_dir

    return cache_dir() / f"mathjax-{MATHJAX_VERSION}"


def ensure_mathjax() -> Path:
    """A folder holding ``mathjax/tex-svg-full.js`` (MathJax 3, pinned by hash), for ``html_static_path``.

    Fetched once with ``npm pack mathjax@<version>`` (npm's own cache serves later fetches offline)
    into the rtc cache folder (``$RTC_CACHE_DIR`` or ``<repo>/.cache/rtc``). Raises ``RuntimeError``
    naming what to do when npm is missing or the file does not match the pinned hash.
    """
    folder = _mathjax_cache()
    target = folder / "mathjax" / MATHJAX_FILE
    if target.exists() and hashlib.sha256(target.read_bytes()).hexdigest() == MATHJAX_SHA256:
        return folder
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError(f"the book serves MathJax {MATHJAX_VERSION} itself and needs npm once to fetch it "
                           f"(apt-get install npm), or put es5/{MATHJAX_FILE} of the mathjax@{MATHJAX_VERSION} "
                           f"npm package at {target}")
    with tempfile.TemporaryDirectory(prefix="rtc-mathjax-") as tmp:
        proc = subprocess.run([npm, "pack", f"mathjax@{MATHJAX_VERSION}", "--prefer-offline", "--silent",
                               "--pack-destination", tmp], capture_output=True, text=True)
        tgz = Path(tmp) / f"mathjax-{MATHJAX_VERSION}.tgz"
        if proc.returncode != 0 or not tgz.exists():
            raise RuntimeError(f"npm pack mathjax@{MATHJAX_VERSION} failed: {proc.stderr.strip()[-500:]}")
        with tarfile.open(tgz) as tar:
            data = tar.extractfile(f"package/es5/{MATHJAX_FILE}").read()
    if hashlib.sha256(data).hexdigest() != MATHJAX_SHA256:
        raise RuntimeError(f"mathjax@{MATHJAX_VERSION} es5/{MATHJAX_FILE} does not match the pinned sha256")
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(target, data)
    return folder


# ------------------------------------------------------------------------- the Sphinx extension
# sha256 of a chapter source's text -> its executed notebook, filled when the builder starts; the
# notebook reader only receives the text of the file it reads.
_EXECUTED: dict[str, Path] = {}
# docname -> cache key of the executed notebook this build serves.
_SERVED: dict[str, str | None] = {}


def _text_key(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def read_chapter(text: str, **_) -> "nbformat.NotebookNode":  # noqa: F821
    """myst-nb reader for ``.py`` chapters: the executed notebook of the current profile."""
    import nbformat

    path = _EXECUTED.get(_text_key(text))
    if path is None:
        raise RuntimeError("rtc.book.read_chapter: this .py chapter was not executed by the rtc.book Sphinx "
                           "extension (list 'rtc.book' in sphinx.extra_extensions); build with "
                           "`python -m rtc.book --profile <profile>` or `jupyter-book build book/`")
    return nbformat.read(path, as_version=4)


def _profile() -> str:
    return os.environ.get(PROFILE_ENV) or "default"


def _on_config_inited(app, config) -> None:
    from sphinx.errors import ExtensionError

    try:
        config.html_static_path = list(config.html_static_path) + [str(ensure_mathjax())]
    except RuntimeError as exc:
        raise ExtensionError(str(exc)) from None


def _book_chapters(app) -> tuple[Path, list[Chapter]]:
    srcdir = Path(app.srcdir).resolve()
    root = find_root(srcdir)
    return root, chapters(root, os.path.relpath(srcdir, root))


def _on_builder_inited(app) -> None:
    """Execute (or find cached) every chapter under the profile before Sphinx reads anything."""
    from sphinx.errors import ExtensionError
    from sphinx.util import logging

    log = logging.getLogger(__name__)
    root, chaps = _book_chapters(app)
    profile = app.config.rtc_profile
    # A notebook next to a .py chapter would be a second source for the same page (Sphinx picks one).
    stray = [str(c.source.with_suffix(".ipynb")) for c in chaps if c.source.with_suffix(".ipynb").exists()]
    if stray:
        raise ExtensionError("notebooks next to the .py chapters would shadow them; executed notebooks now live "
                             "in book/_build/executed/<profile>/. Delete: " + " ".join(stray))
    try:
        todo = plan(root, profile, chaps)
    except ParameterError as exc:
        raise ExtensionError(str(exc)) from None
    if os.environ.get(LOCKS_ENV) != "1":  # a plain `jupyter-book build book/`: hold both locks until build-finished
        book = Path(app.srcdir).resolve()
        _HELD.enter_context(book_lock(book, f"profile-{profile}", say=log.warning))
        _HELD.enter_context(book_lock(book, "html", say=log.warning))
    failures = run_all(root, profile, todo, say=lambda m: log.info("rtc.book: " + m))
    if failures:
        raise ExtensionError(f"{len(failures)} chapter(s) failed under profile {profile!r}:\n  "
                             + "\n  ".join(failures) + f"\nfailed notebooks: {failed_dir(root / 'book', profile)}")
    _EXECUTED.clear()
    _SERVED.clear()
    for c, _params in todo:
        out = executed_path(c, profile)
        _EXECUTED[_text_key(c.source.read_text())] = out
        _SERVED[c.docname] = _stored_key(out)


def _on_env_get_outdated(app, env, added, changed, removed) -> list[str]:
    """Re-read a chapter whose executed notebook changed (new results, another profile) though its source did not."""
    served = getattr(env, "rtc_served", {})
    stale = [d for d, key in _SERVED.items() if served.get(d) != key and d not in added | changed]
    env.rtc_served = dict(_SERVED)
    return stale


# The locks a plain `jupyter-book build book/` takes in builder-inited and gives back when the build finishes.
_HELD = contextlib.ExitStack()


def _on_build_finished(app, exception) -> None:
    _HELD.close()


def setup(app):
    """Sphinx extension: the ``.py`` chapters are read as their executed notebooks (see the module docstring)."""
    app.add_config_value("rtc_profile", _profile(), "env")
    app.connect("config-inited", _on_config_inited)
    app.connect("builder-inited", _on_builder_inited)
    app.connect("env-get-outdated", _on_env_get_outdated)
    app.connect("build-finished", _on_build_finished)
    return {"parallel_read_safe": False, "parallel_write_safe": True}


def build(root: Path, profile: str, book_dir: str = "book") -> int:
    """``jupyter-book build <book> --all -W -n --keep-going`` under ``profile``; returns its exit status."""
    exe = Path(sys.executable).with_name("jupyter-book")
    # --all: rebuild every page, so warnings of unchanged pages are reported again on every run.
    cmd = [str(exe) if exe.exists() else "jupyter-book", "build", book_dir, "--all", "-W", "-n", "--keep-going"]
    print(f"building: {PROFILE_ENV}={profile} jupyter-book " + " ".join(cmd[1:]), flush=True)
    # The caller (main) holds the profile's and the HTML lock; the child must not wait for them.
    return subprocess.call(cmd, cwd=root, env=dict(os.environ, **{PROFILE_ENV: profile, LOCKS_ENV: "1"}))


def main(argv: list[str] | None = None) -> int:
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
    args = ap.parse_args(argv)

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


if __name__ == "__main__":
    sys.exit(main())
