"""Run the book: execute every chapter under a parameter profile, then build the HTML.

Usage (from the repository root)::

    python -m rtc.book --profile ci                 # all chapters + jupyter-book build
    python -m rtc.book --profile default --chapter theorem1 --force
    python -m rtc.book --profile paper --no-build

For each chapter listed in ``book/_toc.yml`` that has a jupytext source ``book/<file>.py``:
convert it to a notebook, execute it with papermill using ``parameters/<profile>/<name>.yaml``,
and write the executed notebook atomically to ``book/<file>.ipynb``, where jupyter-book (with
execution off) reads it. Then ``jupyter-book build book/ --all -W -n --keep-going``, so a
warning fails the build too (``--all``: warnings of unchanged pages are not hidden by Sphinx's
incremental build).

A chapter is skipped when its executed notebook carries the same cache key: a hash of its
source, the parameters it was run with and every file of the ``rtc`` package (``--force``
reruns). All profiles are validated before any chapter runs. A failing cell stops that
chapter, names the chapter and the cell, leaves the previous executed notebook in place and
the failed one in ``book/_build/failed/``, and makes the whole run exit with status 1 without
building.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from .params import ParameterError, chapter_defaults, find_root, load_profile

__all__ = ["Chapter", "chapters", "cache_key", "run_chapter", "build", "main", "ChapterFailed"]


class ChapterFailed(RuntimeError):
    """A chapter's cell raised during execution."""


@dataclass(frozen=True)
class Chapter:
    name: str      # stem, also the parameter-file name
    source: Path   # jupytext percent-format .py
    notebook: Path  # executed notebook the book renders


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
    book = root / book_dir
    toc = yaml.safe_load((book / "_toc.yml").read_text())
    files = _toc_files(toc.get("chapters")) + _toc_files(toc.get("parts") and [{"parts": toc["parts"]}])
    out = []
    for f in files:
        src = book / f"{f}.py"
        if src.exists():
            out.append(Chapter(name=Path(f).name, source=src, notebook=book / f"{f}.ipynb"))
    return out


def _package_digest() -> str:
    h = hashlib.sha256()
    pkg = Path(__file__).resolve().parent
    for p in sorted(pkg.rglob("*.py")):
        h.update(str(p.relative_to(pkg)).encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def cache_key(chapter: Chapter, params: dict) -> str:
    """Hash of the chapter source, its parameters and the whole ``rtc`` package."""
    h = hashlib.sha256()
    h.update(chapter.source.read_bytes())
    h.update(json.dumps(params, sort_keys=True).encode())
    h.update(_package_digest().encode())
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


def run_chapter(chapter: Chapter, params: dict, *, force: bool = False, progress: bool = False,
                failed_dir: Path | None = None) -> str:
    """Execute one chapter; returns ``'cached'`` or ``'ran'``. Raises :class:`ChapterFailed` on a failing cell."""
    import jupytext
    import nbformat
    import papermill as pm

    key = cache_key(chapter, params)
    if not force and chapter.notebook.exists() and _stored_key(chapter.notebook) == key:
        return "cached"
    nb = jupytext.read(chapter.source)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata.pop("jupytext", None)
    out_dir = chapter.notebook.parent
    with tempfile.TemporaryDirectory(prefix=f"rtc-{chapter.name}-") as tmp:
        src_nb = Path(tmp) / f"{chapter.name}.ipynb"
        out_nb = Path(tmp) / f"{chapter.name}.out.ipynb"
        nbformat.write(nb, src_nb)
        try:
            pm.execute_notebook(str(src_nb), str(out_nb), parameters=params, kernel_name="python3",
                                cwd=str(out_dir), progress_bar=progress, log_output=False)
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
                os.replace(out_nb, failed_dir / f"{chapter.name}.ipynb")
            raise ChapterFailed(f"chapter {chapter.name!r} failed in {where}: {exc.ename}: {exc.evalue}") from None
        executed = nbformat.read(out_nb, as_version=4)
        executed.metadata.setdefault("rtc", {})
        executed.metadata["rtc"].update(cache_key=key, parameters=params)
        # Write next to the destination, then rename: a reader never sees a half-written notebook.
        tmp_final = chapter.notebook.with_suffix(".ipynb.tmp")
        nbformat.write(executed, tmp_final)
        os.replace(tmp_final, chapter.notebook)
    return "ran"


def build(root: Path, book_dir: str = "book") -> int:
    """``jupyter-book build <book> --all -W -n --keep-going``; returns its exit status."""
    exe = Path(sys.executable).with_name("jupyter-book")
    # --all: rebuild every page, so warnings of unchanged pages are reported again on every run.
    cmd = [str(exe) if exe.exists() else "jupyter-book", "build", book_dir, "--all", "-W", "-n", "--keep-going"]
    print("building: jupyter-book " + " ".join(cmd[1:]), flush=True)
    return subprocess.call(cmd, cwd=root)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m rtc.book", description=__doc__.split("\n\n")[0])
    ap.add_argument("--profile", default="default", help="parameters/<profile>/ to use (ci, default, paper, ...)")
    ap.add_argument("--chapter", action="append", default=[], help="run only this chapter (repeatable)")
    ap.add_argument("--force", action="store_true", help="rerun chapters even when cached")
    ap.add_argument("--no-build", action="store_true", help="execute chapters but do not build the HTML")
    ap.add_argument("--root", default=None, help="repository root (default: found from the current folder)")
    ap.add_argument("--list", action="store_true", help="list the chapters and exit")
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
    # Validate every selected chapter's parameters before running anything.
    plan = []
    try:
        for c in selected:
            defaults = chapter_defaults(c.source)
            params = load_profile(args.profile, c.name, root=root, defaults=defaults)
            if "profile" in defaults:
                params.setdefault("profile", args.profile)
            plan.append((c, params))
    except ParameterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    failures = []
    t_all = time.perf_counter()
    progress = sys.stderr.isatty()
    for i, (c, params) in enumerate(plan, 1):
        t0 = time.perf_counter()
        print(f"[{i}/{len(plan)}] {c.name} ({args.profile}) ...", flush=True)
        try:
            status = run_chapter(c, params, force=args.force, progress=progress,
                                 failed_dir=root / "book" / "_build" / "failed")
        except ChapterFailed as exc:
            failures.append(str(exc))
            print(f"[{i}/{len(plan)}] {c.name} FAILED after {time.perf_counter() - t0:.1f} s: {exc}", flush=True)
            continue
        print(f"[{i}/{len(plan)}] {c.name} {status} in {time.perf_counter() - t0:.1f} s", flush=True)
    print(f"chapters done in {time.perf_counter() - t_all:.1f} s", flush=True)
    if failures:
        print("error: " + str(len(failures)) + " chapter(s) failed:\n  " + "\n  ".join(failures), file=sys.stderr)
        print(f"failed notebooks: {root / 'book' / '_build' / 'failed'}", file=sys.stderr)
        return 1
    if args.no_build:
        return 0
    t0 = time.perf_counter()
    rc = build(root)
    if rc != 0:
        print(f"error: jupyter-book build failed (exit {rc}); see the warnings above", file=sys.stderr)
        return 1
    index = root / "book" / "_build" / "html" / "index.html"
    print(f"book built in {time.perf_counter() - t0:.1f} s: {index}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
