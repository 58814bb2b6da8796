"""End to end: every chapter executes under the `ci` profile and the book builds with -W (no warnings).

Runs in a copy of book/ and parameters/, so the working tree's executed notebooks are untouched.
"""
import re
import shutil
import subprocess
import sys

import pytest

from rtc.book import chapters


@pytest.mark.slow
def test_whole_book_builds_under_ci_profile(tmp_path, repo_root):
    root = tmp_path / "repo"
    root.mkdir()
    shutil.copy(repo_root / "_config.yml", root / "_config.yml")
    shutil.copytree(repo_root / "parameters", root / "parameters")
    shutil.copytree(repo_root / "book", root / "book", symlinks=True,
                    ignore=shutil.ignore_patterns("_build", "*.ipynb", "*.ipynb.tmp", ".ipynb_checkpoints"))
    proc = subprocess.run([sys.executable, "-m", "rtc.book", "--profile", "ci", "--root", str(root)],
                          capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    html = root / "book" / "_build" / "html"
    assert (html / "intro.html").exists()
    for c in chapters(root):
        page = html / c.source.relative_to(root / "book").with_suffix(".html")
        text = page.read_text()
        assert len(re.findall(r"<img ", text)) >= 1, f"{c.name}: no figure rendered"
        assert "This run used the" in text and "<code class=\"docutils literal notranslate\"><span class=\"pre\">ci</span></code>" in text, \
            f"{c.name}: the page does not say which profile ran"
        assert "Traceback (most recent call last)" not in text, f"{c.name}: an error output was rendered"
