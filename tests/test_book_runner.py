"""The book runner: failing cells and build warnings fail loudly; the cache skips unchanged chapters;
a plain `jupyter-book build book/` builds the default book and never shows another profile's results."""
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from rtc._io import find_temp_files, lock_holder
from rtc.book import cache_key, chapters, main, plan, run_all
from rtc.progress import report

JB = str(Path(sys.executable).with_name("jupyter-book"))


def executed(root: Path, profile: str, name: str) -> Path:
    return root / "book" / "_build" / "executed" / profile / "chapters" / f"{name}.ipynb"


HEADER = ("# ---\n# jupyter:\n#   kernelspec:\n#     display_name: Python 3\n#     language: python\n"
          "#     name: python3\n# ---\n\n")


def make_book(root: Path, chapters: dict, repo_root: Path, toc_extra: str = "", intro: str = "# Intro\n"):
    (root / "book" / "chapters").mkdir(parents=True)
    for p in ("ci", "default", "paper"):
        (root / "parameters" / p).mkdir(parents=True)
    shutil.copy(repo_root / "_config.yml", root / "_config.yml")
    (root / "book" / "_config.yml").symlink_to("../_config.yml")
    (root / "book" / "references.bib").write_text((repo_root / "book" / "references.bib").read_text())
    (root / "book" / "intro.md").write_text(intro)
    # The repository's table of contents up to its chapter list (format, root, numbering), then ours.
    head = (repo_root / "book" / "_toc.yml").read_text().split("\nchapters:")[0]
    toc = head + "\nchapters:\n" + "".join(f"  - file: chapters/{n}\n" for n in chapters)
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
    assert executed(tmp_path, "ci", "good").exists()  # other chapters still ran
    assert not executed(tmp_path, "ci", "bad").exists()  # no half-made notebook for the book
    assert (tmp_path / "book" / "_build" / "failed" / "ci" / "bad.ipynb").exists()  # the failed one is kept to inspect


def test_cache_skips_unchanged_and_reruns_on_parameter_change(tmp_path, repo_root, capsys):
    make_book(tmp_path, {"good": GOOD}, repo_root)
    assert main(["--profile", "ci", "--root", str(tmp_path), "--no-build"]) == 0
    assert "good ran" in capsys.readouterr().out
    assert main(["--profile", "ci", "--root", str(tmp_path), "--no-build"]) == 0
    assert "good cached" in capsys.readouterr().out
    (tmp_path / "parameters" / "ci" / "good.yaml").write_text("n: 5\n")
    assert main(["--profile", "ci", "--root", str(tmp_path), "--no-build"]) == 0
    assert "good ran" in capsys.readouterr().out
    nb = executed(tmp_path, "ci", "good").read_text()
    assert '"10' in nb  # n = 5 was injected: the cell printed 10
    assert main(["--profile", "ci", "--root", str(tmp_path), "--no-build", "--force"]) == 0
    assert "good ran" in capsys.readouterr().out


def test_bad_parameters_fail_before_anything_runs(tmp_path, repo_root, capsys):
    make_book(tmp_path, {"good": GOOD}, repo_root)
    (tmp_path / "parameters" / "ci" / "good.yaml").write_text("m: 5\n")
    assert main(["--profile", "ci", "--root", str(tmp_path), "--no-build"]) == 2
    assert "unknown parameter 'm'" in capsys.readouterr().err
    assert not executed(tmp_path, "ci", "good").exists()
    assert main(["--profile", "ci", "--root", str(tmp_path), "--chapter", "nope", "--no-build"]) == 2


def test_build_warning_fails_the_build(tmp_path, repo_root):
    make_book(tmp_path, {"good": GOOD}, repo_root, intro="# Intro\n\nSee {ref}`a-label-that-does-not-exist`.\n")
    proc = subprocess.run([sys.executable, "-m", "rtc.book", "--profile", "ci", "--root", str(tmp_path)],
                          capture_output=True, text=True)
    assert proc.returncode == 1, proc.stdout[-2000:]
    assert "jupyter-book build failed" in proc.stderr


# A chapter as the real ones are written: a parameters cell, a library call whose Markdown output is a
# table, a plotting cell folded behind the theme's toggle (tags=["hide-input"]), and math.
SHOWCASE = ('# %% [markdown]\n# # Showcase\n#\n# Math: $a^2 + b^2$.\n\n'
            '# %% tags=["parameters"]\nprofile = "default"\nn = 3\n\n'
            '# %%\nfrom IPython.display import Markdown\n'
            'Markdown(f"| parameter | this run |\\n|---|---|\\n| n | {n} |")\n\n'
            '# %% tags=["hide-input"]\nprint("folded-plot-output", n * 100)\n')


def _chapter_html(root: Path) -> str:
    return (root / "book" / "_build" / "html" / "chapters" / "showcase.html").read_text()


def test_plain_jupyter_book_build_renders_the_default_book_and_runner_profiles_do_not_leak(tmp_path, repo_root):
    """`jupyter-book build book/` on the .py sources executes them under the default profile (item 0);
    parameter cells are removed, the Markdown table is a table, hide-input folds the code but keeps the
    output, MathJax is served locally; a ci build in between never shows up in a later default build."""
    make_book(tmp_path, {"showcase": SHOWCASE}, repo_root)
    (tmp_path / "parameters" / "ci" / "showcase.yaml").write_text("n: 5\n")
    env = {k: v for k, v in os.environ.items() if k != "RTC_BOOK_PROFILE"}
    proc = subprocess.run([JB, "build", "book/"], cwd=tmp_path, capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "toctree contains reference to nonexisting document" not in proc.stdout + proc.stderr
    html = _chapter_html(tmp_path)
    assert "folded-plot-output 300" in html  # default parameters (n = 3) ran
    assert "n = 3" not in html and "# Parameters" not in html and "tag_parameters" not in html
    assert re.search(r"<table[^>]*>.*?parameter.*?</table>", html, re.S), "the Markdown output is not a table"
    # hide-input: the cell is folded behind the toggle (a <details> above its input), its output shown
    assert re.search(r'class="cell tag_hide-input[^"]*"\s*>\s*<details class="[^"]*hide above-input', html)
    assert 'src="../_static/mathjax/tex-svg-full.js' in html and "cdn" not in html
    assert (tmp_path / "book" / "_build" / "html" / "_static" / "mathjax" / "tex-svg-full.js").is_file()
    assert re.search(r'<span class="section-number">1\. </span>Showcase', html)  # chapters are numbered

    # The runner under ci: its own executed notebook, its values in the HTML.
    assert main(["--profile", "ci", "--root", str(tmp_path)]) == 0
    assert "folded-plot-output 500" in _chapter_html(tmp_path)
    assert executed(tmp_path, "default", "showcase").exists() and executed(tmp_path, "ci", "showcase").exists()
    assert not list((tmp_path / "book" / "chapters").glob("*.ipynb"))  # nothing written next to the sources

    # A plain build again: the default results, not the ci ones left in the Sphinx environment.
    proc = subprocess.run([JB, "build", "book/"], cwd=tmp_path, capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "folded-plot-output 300" in _chapter_html(tmp_path)
    assert "showcase cached" in proc.stdout  # the runner's cache is shared, nothing re-executed


def test_plain_build_fails_loudly_when_a_chapter_fails(tmp_path, repo_root):
    make_book(tmp_path, {"bad": BAD}, repo_root)
    proc = subprocess.run([JB, "build", "book/"], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode != 0
    assert "chapter 'bad' failed" in proc.stdout + proc.stderr


LIST_CWD = ('# %% tags=["parameters"]\nprofile = "default"\n\n'
            '# %%\nimport os\nprint("files in cwd:", sorted(os.listdir(".")))\n')


def test_runner_output_has_no_kernel_warnings(tmp_path, repo_root, capfd):
    """The kernel runs on IPC transport: no "[IPKernelApp] WARNING | ... TCP without encryption" noise,
    and its sockets are not created in the chapter's folder (the kernel's working folder)."""
    make_book(tmp_path, {"cwd": LIST_CWD}, repo_root)
    assert main(["--profile", "ci", "--root", str(tmp_path), "--no-build"]) == 0
    out, err = capfd.readouterr()
    assert "cwd ran" in out
    assert "IPKernelApp" not in out + err and "without encryption" not in out + err
    nb = executed(tmp_path, "ci", "cwd").read_text()
    assert "files in cwd: ['cwd.py']" in nb, nb


def test_a_notebook_next_to_a_chapter_source_fails_the_build(tmp_path, repo_root):
    """An executed notebook left next to the .py (the old runner's layout) would be a second source of
    the page, which Sphinx may pick silently: the build refuses and names it."""
    make_book(tmp_path, {"good": GOOD}, repo_root)
    (tmp_path / "book" / "chapters" / "good.ipynb").write_text("{}")
    proc = subprocess.run([JB, "build", "book/"], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode != 0
    assert "good.ipynb" in proc.stdout + proc.stderr and "shadow" in proc.stdout + proc.stderr


def test_incremental_build_rereads_a_chapter_whose_results_changed(tmp_path, repo_root):
    """Sphinx re-reads only changed sources; new results for an unchanged .py (here new parameters; in
    practice a changed rtc package) must still reach the page."""
    make_book(tmp_path, {"good": GOOD}, repo_root)
    page = tmp_path / "book" / "_build" / "html" / "chapters" / "good.html"
    assert subprocess.run([JB, "build", "book/"], cwd=tmp_path, capture_output=True).returncode == 0
    assert ">6\n<" in page.read_text()  # print(n * 2) with n = 3
    (tmp_path / "parameters" / "default" / "good.yaml").write_text("n: 4\n")
    proc = subprocess.run([JB, "build", "book/"], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0 and "good ran" in proc.stdout
    assert ">8\n<" in page.read_text()


GRID = """# a training grid
description: tiny
defaults:
  steps: 10
  batch_size: 8
  snapshot_steps: [5, 10, 15, 20]
grids:
  - name: a
    models: [beta_vae]
    strengths: [1]
    datasets: [dsprites]
    seeds: [0]
"""


def test_the_cache_key_follows_the_resolved_training_grid(tmp_path, repo_root, capsys):
    """The training chapters read the profile's resolved grid (and the paper profile's, which they describe
    themselves against): an edit of what a run is made of (steps: …) changes every chapter's key, a comment or a
    layout change does not, nor does another profile's grid; an invalid grid stops the runner before anything
    runs."""
    make_book(tmp_path, {"good": GOOD}, repo_root)
    grid = tmp_path / "parameters" / "ci" / "training.yaml"

    def key():
        ((chapter, params),) = plan(tmp_path, "ci", chapters(tmp_path))
        return cache_key(chapter, params, "ci")

    grid.write_text(GRID)
    first = key()
    grid.write_text(GRID.replace("# a training grid", "# the same grid, commented\n# twice")
                    .replace("  steps: 10\n  batch_size: 8\n", "  batch_size: 8   # reordered\n  steps: 10\n"))
    assert key() == first
    (tmp_path / "parameters" / "default" / "training.yaml").write_text(GRID.replace("steps: 10", "steps: 30"))
    assert key() == first  # another profile's grid: not read under ci
    grid.write_text(GRID.replace("steps: 10", "steps: 20"))
    assert key() != first
    grid.write_text(GRID)
    assert key() == first
    (tmp_path / "parameters" / "paper" / "training.yaml").write_text(GRID.replace("steps: 10", "steps: 40"))
    assert key() != first  # the reference profile's grid: the chapters print how this one differs from it

    grid.write_text(GRID.replace("steps: 10", "stepz: 10"))
    assert main(["--profile", "ci", "--root", str(tmp_path), "--no-build"]) == 2
    err = capsys.readouterr().err
    assert "ci/training.yaml: defaults: unknown key 'stepz'" in err
    assert not executed(tmp_path, "ci", "good").exists()


def test_the_cache_key_follows_the_reference_profiles_parameters(tmp_path, repo_root):
    """Each chapter's first output compares its parameters with the paper profile's: editing those changes the key."""
    make_book(tmp_path, {"good": GOOD}, repo_root)

    def key():
        ((chapter, params),) = plan(tmp_path, "ci", chapters(tmp_path))
        return cache_key(chapter, params, "ci")

    first = key()
    (tmp_path / "parameters" / "paper" / "good.yaml").write_text("n: 7\n")
    assert key() != first
    (tmp_path / "parameters" / "default" / "good.yaml").write_text("n: 9\n")
    second = key()
    (tmp_path / "parameters" / "default" / "good.yaml").write_text("n: 8\n")
    assert key() == second


def slow_chapter(go: Path) -> str:
    """A chapter that runs until the test creates ``go`` (at most 5 minutes): the test, not a sleep of a guessed
    length, decides when the first builder finishes, so a loaded machine cannot reorder the builders."""
    return ('# %% tags=["parameters"]\nprofile = "default"\n\n'
            f'# %%\nimport pathlib, time\ngo = pathlib.Path({str(go)!r})\n'
            'for _ in range(3000):\n    if go.exists():\n        break\n    time.sleep(0.1)\nprint("slept")\n')


def test_two_builders_of_one_profile_take_turns(tmp_path, repo_root):
    """Two real `python -m rtc.book` processes on one profile: a second one with --no-wait fails at once naming the
    first's pid; a second one without it says whom it waits for, waits, and then finds the chapter cached. Nothing
    is left behind."""
    go = tmp_path / "go"
    make_book(tmp_path, {"slow": slow_chapter(go)}, repo_root)
    cmd = [sys.executable, "-m", "rtc.book", "--profile", "ci", "--root", str(tmp_path), "--no-build"]
    first = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lock = tmp_path / "book" / "_build" / "locks" / "profile-ci.lock"
    for _ in range(600):
        if lock.exists() and lock_holder(lock) == first.pid:
            break
        time.sleep(0.05)
    busy = subprocess.run(cmd + ["--no-wait"], capture_output=True, text=True)
    assert busy.returncode == 3, busy.stdout + busy.stderr
    assert f"process {first.pid} is building the ci chapters" in busy.stderr
    second = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    waiting = second.stdout.readline()  # blocks until the second builder says whom it waits for
    go.touch()  # only now may the first one finish
    out1, err1 = first.communicate(timeout=300)
    out2, err2 = second.communicate(timeout=300)
    out2 = waiting + out2
    assert first.returncode == 0 and second.returncode == 0, err1 + err2
    assert "slow ran" in out1
    assert f"process {first.pid} is building the ci chapters" in out2 and "waiting" in out2
    assert "slow cached" in out2
    assert find_temp_files(tmp_path / "book", recursive=True) == []


REPORTS = ('# %% tags=["parameters"]\nprofile = "default"\n\n'
           '# %%\nimport time\nfrom rtc.progress import report\n'
           'for k in range(3):\n    report(f"step {k + 1}/3 of the long work")\n    time.sleep(0.7)\n'
           'print("quiet in the notebook")\n')


def test_the_runner_prints_what_a_chapter_reports_as_it_happens(tmp_path, repo_root, capsys):
    """A chapter's long work (the training grid) reports through rtc.progress; the runner prints each line,
    prefixed with the chapter, while the chapter still runs — and the kernel's own output stays in the notebook."""
    make_book(tmp_path, {"reports": REPORTS}, repo_root)
    lines = []
    todo = plan(tmp_path, "ci", chapters(tmp_path))
    stamps = []

    def say(m):
        lines.append(m)
        stamps.append(time.monotonic())

    assert run_all(tmp_path, "ci", todo, say=say) == []
    got = [m for m in lines if "of the long work" in m]
    assert got == [f"[1/1] reports: step {k}/3 of the long work" for k in (1, 2, 3)]
    first, last = (stamps[lines.index(got[0])], stamps[lines.index(got[-1])])
    assert last - first > 0.5  # printed as they came, not all at the end
    assert not any("quiet in the notebook" in m for m in lines)
    assert "RTC_PROGRESS" not in os.environ
    report("no runner listening: nothing happens")  # outside a runner: a no-op, no error
