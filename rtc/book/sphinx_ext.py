"""The Sphinx extension (listed as ``rtc.book`` in ``_config.yml``, whose :func:`setup` is this module's): the
``.py`` chapters are read as their executed notebooks of the profile named by ``$RTC_BOOK_PROFILE``
(:func:`read_chapter`, the ``.py`` entry of ``nb_custom_formats``), executed first when missing or stale."""
from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path

import nbformat
from sphinx.errors import ExtensionError
from sphinx.util import logging

from rtc.params import ParameterError
from rtc.paths import find_root

from .locks import LOCKS_ENV, book_lock
from .mathjax import ensure_mathjax
from .runner import Chapter, chapters, executed_path, failed_dir, plan, run_all, stored_key

__all__ = ["read_chapter", "setup", "PROFILE_ENV"]

PROFILE_ENV = "RTC_BOOK_PROFILE"  # the profile a plain `jupyter-book build book/` renders (default: default)

# sha256 of a chapter source's text -> its executed notebook, filled when the builder starts; the
# notebook reader only receives the text of the file it reads.
_EXECUTED: dict[str, Path] = {}
# docname -> cache key of the executed notebook this build serves.
_SERVED: dict[str, str | None] = {}


def _text_key(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def read_chapter(text: str, **_) -> "nbformat.NotebookNode":  # noqa: F821
    """myst-nb reader for ``.py`` chapters: the executed notebook of the current profile."""

    path = _EXECUTED.get(_text_key(text))
    if path is None:
        raise RuntimeError("rtc.book.read_chapter: this .py chapter was not executed by the rtc.book Sphinx "
                           "extension (list 'rtc.book' in sphinx.extra_extensions); build with "
                           "`python -m rtc.book --profile <profile>` or `jupyter-book build book/`")
    return nbformat.read(path, as_version=4)


def _profile() -> str:
    return os.environ.get(PROFILE_ENV) or "default"


def _on_config_inited(app, config) -> None:
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

    log = logging.getLogger("rtc.book")  # the extension's name in _config.yml
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
        _SERVED[c.docname] = stored_key(out)


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
