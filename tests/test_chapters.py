"""End to end: every chapter executes under the `ci` profile through nbmake (as `make nbmake` does).

The runner's own execution and `-W` book build of the real chapters run in CI as `make book PROFILE=ci`
followed by the browser check `make check-html`; the runner's failure path is tested on small books in
test_book_runner.py.
"""
import json
import subprocess
import sys

import pytest

from rtc.book import chapters, plan, prepare


@pytest.mark.slow
def test_every_chapter_runs_under_nbmake_with_the_ci_profile(tmp_path, repo_root):
    todo = plan(repo_root, "ci", chapters(repo_root))
    nbs = prepare(todo, tmp_path)
    assert [p.stem for p in nbs] == [c.name for c, _ in todo]
    for p in nbs:  # papermill injected the ci parameters (nbmake injects none)
        cells = json.loads(p.read_text())["cells"]
        assert any("injected-parameters" in c["metadata"].get("tags", []) and "profile = \"ci\"" in "".join(c["source"])
                   for c in cells), p.name
    proc = subprocess.run([sys.executable, "-m", "pytest", "--nbmake", "-p", "no:cacheprovider", "-q",
                           "--rootdir", str(tmp_path), *map(str, nbs)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert f"{len(nbs)} passed" in proc.stdout
