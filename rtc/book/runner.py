"""Executing the chapters: the table of contents (:func:`chapters`), the chapter cache key (:func:`cache_key`), one
chapter executed by papermill (:func:`run_chapter`), a profile's chapters validated (:func:`plan`), prepared for
``pytest --nbmake`` (:func:`prepare`) and executed in order (:func:`run_all`)."""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
import papermill as pm
import yaml
from jupyter_client.manager import AsyncKernelManager
from traitlets import CaselessStrEnum, default

from rtc._io import atomic_write
from rtc._source import files_digest
from rtc.experiments.grid import GridError, grid_key, load_grid
from rtc.params import ParameterError, chapter_defaults, chapter_notebook, load_profile
from rtc.progress import ENV

__all__ = ["Chapter", "chapters", "executed_path", "failed_dir", "cache_key", "run_chapter", "plan", "prepare",
           "run_all", "ChapterFailed", "hide_parameter_cells", "stored_key", "REFERENCE_PROFILE", "PARAMETER_TAGS",
           "IOPUB_TIMEOUT"]

# The profile every chapter compares its run with (rtc.params.describe_run, rtc.experiments.comparison.describe_grid):
# its parameters and grid are read by every profile's chapters, so they enter every cache key.
REFERENCE_PROFILE = "paper"
# Cells that only carry parameters: hidden from the HTML (the chapter's profile table says what ran).
PARAMETER_TAGS = ("parameters", "injected-parameters")


class ChapterFailed(RuntimeError):
    """A chapter's cell raised during execution."""


def failed_dir(book: Path, profile: str) -> Path:
    """Where a chapter that failed under ``profile`` is kept to inspect: ``<book>/_build/failed/<profile>/``."""
    return book / "_build" / "failed" / profile


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
    """:func:`rtc._source.files_digest` of every ``.py`` file of the whole ``rtc`` package (this file's grandparent
    folder: rtc/book/runner.py -> rtc/)."""
    return files_digest(Path(__file__).resolve().parents[1].rglob("*.py"))


def _profile_inputs(chapter: Chapter, profile: str) -> dict:
    """What ``chapter`` reads of the parameter files besides its own parameters: the resolved training grids
    (:func:`rtc.experiments.grid.grid_key` of the normalised grid, so a comment edit changes nothing) of ``profile``
    and of :data:`REFERENCE_PROFILE`, and the reference profile's parameters of the chapter. Any chapter may read the
    grid through a library call, so every chapter's key holds it: a grid edit re-executes them all, never serves a
    stale one. Raises :class:`ParameterError` for a grid that does not validate."""
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


def stored_key(nb_path: Path) -> str | None:
    """The cache key an executed notebook carries (:func:`cache_key`; None when unreadable or without one)."""
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

    key = cache_key(chapter, params, profile)
    if not force and out.exists() and stored_key(out) == key:
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
