"""MathJax served from the book itself, so equations render offline (:func:`ensure_mathjax`)."""
from __future__ import annotations

import hashlib
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from rtc._io import atomic_write_bytes
from rtc.data.cache import cache_dir

__all__ = ["ensure_mathjax", "MATHJAX_VERSION", "MATHJAX_FILE", "MATHJAX_SHA256"]

# MathJax served from the book itself, so equations render offline. The single-file es5 build with
# SVG output needs no font files and lazy-loads no TeX extension.
MATHJAX_VERSION = "3.2.2"
MATHJAX_FILE = "tex-svg-full.js"
MATHJAX_SHA256 = "a4354ff94fd868aea0cc6eaaa79a57fda0588646fc46ee3700a349ee0a11cbe6"


def _mathjax_cache() -> Path:
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
