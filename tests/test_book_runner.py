"""The book runner: failing cells and build warnings fail loudly; the cache skips unchanged chapters."""
import shutil
import subprocess
import sys
from pathlib import Path


from rtc.book import main

HEADER = "# ---\n# jupyter:\n#   kernelspec:\n#     display_name: Python 3\n#     language: python\n#     name: python3\n# ---\n\n"


def make_book(root: Path, chapters: dict, repo_root: Path, toc_extra: str = "", intro: str = "# Intro\n"):
    (root / "book" / "chapters").mkdir(parents=True)
    for p in ("ci", "default", "paper"):
        (root / "parameters" / p).mkdir(parents=True)
    shutil.copy(repo_root / "_config.yml", root / "_config.yml")
    (root / "book" / "_config.yml").symlink_to("../_config.yml")
    (root / "book" / "references.bib").write_text((repo_root / "book" / "references.bib").read_text())
    (root / "book" / "intro.md").write_text(intro)
    toc = "format: jb-book\nroot: intro\nchapters:\n" + "".join(f"  - file: chapters/{n}\n" for n in chapters)
    (root / "book" / "_toc.yml").write_text(toc + toc_extra)
    for name, body in chapters.items():
        (root / "book" / "chapters" / f"{name}.py").write_text(HEADER + body)


GOOD = '# %% [markdown]\n# # Good\n\n# %% tags=["parameters"]\nprofile = "default"\nn = 3\n\n# %%\nprint(n * 2)\n'
BAD = ('# %% [markdown]\n# # Bad\n\n# %% tags=["parameters"]\nprofile = "default"\n\n# %%\nx = 1\n\n'
       '# %%\nraise RuntimeError("boom in the second code cell")\n')


def test_failing_cell_fails_the_run_and_names_chapter_and_cell(tmp_path, repo_root, capsys):
    make_book(tmp_path, {"good": GOOD, "bad": BAD}, repo_root)
    rc = main(["--profile", "ci", "--root", str(tmp_path), "--no-build"])
    err = capsys.readouterr().err
    assert rc == 1
    assert "chapter 'bad' failed" in err and "raise RuntimeError" in err and "boom in the second code cell" in err
    assert (tmp_path / "book" / "chapters" / "good.ipynb").exists()  # other chapters still ran
    assert not (tmp_path / "book" / "chapters" / "bad.ipynb").exists()  # no half-made notebook for the book
    assert (tmp_path / "book" / "_build" / "failed" / "bad.ipynb").exists()  # the failed one is kept to inspect


def test_cache_skips_unchanged_and_reruns_on_parameter_change(tmp_path, repo_root, capsys):
    make_book(tmp_path, {"good": GOOD}, repo_root)
    assert main(["--profile", "ci", "--root", str(tmp_path), "--no-build"]) == 0
    assert "good ran" in capsys.readouterr().out
    assert main(["--profile", "ci", "--root", str(tmp_path), "--no-build"]) == 0
    assert "good cached" in capsys.readouterr().out
    (tmp_path / "parameters" / "ci" / "good.yaml").write_text("profile: ci\nn: 5\n")
    assert main(["--profile", "ci", "--root", str(tmp_path), "--no-build"]) == 0
    assert "good ran" in capsys.readouterr().out
    nb = (tmp_path / "book" / "chapters" / "good.ipynb").read_text()
    assert '"10' in nb  # n = 5 was injected: the cell printed 10
    assert main(["--profile", "ci", "--root", str(tmp_path), "--no-build", "--force"]) == 0
    assert "good ran" in capsys.readouterr().out


def test_bad_parameters_fail_before_anything_runs(tmp_path, repo_root, capsys):
    make_book(tmp_path, {"good": GOOD}, repo_root)
    (tmp_path / "parameters" / "ci" / "good.yaml").write_text("profile: ci\nm: 5\n")
    assert main(["--profile", "ci", "--root", str(tmp_path), "--no-build"]) == 2
    assert "unknown parameter 'm'" in capsys.readouterr().err
    assert not (tmp_path / "book" / "chapters" / "good.ipynb").exists()
    assert main(["--profile", "ci", "--root", str(tmp_path), "--chapter", "nope", "--no-build"]) == 2


def test_build_warning_fails_the_build(tmp_path, repo_root):
    make_book(tmp_path, {"good": GOOD}, repo_root, intro="# Intro\n\nSee {ref}`a-label-that-does-not-exist`.\n")
    proc = subprocess.run([sys.executable, "-m", "rtc.book", "--profile", "ci", "--root", str(tmp_path)],
                          capture_output=True, text=True)
    assert proc.returncode == 1, proc.stdout[-2000:]
    assert "jupyter-book build failed" in proc.stderr
