"""End to end: every chapter, executed once under the `ci` profile, glues what its prose references.

The one execution is the runner's (`python -m rtc.book --profile ci`, which `make test` runs before pytest and whose
`-W` HTML build and browser check `make check-html` read the same notebooks): the fixture below asks the runner for
the ci book and gets its cached notebooks back, or — pytest alone — executes the chapters that are missing or stale,
into the same place, so the next book build finds them cached. Each chapter's notebook is then checked: no error
output, every referenced glue key glued with a finite value, every claim's verdict a word of rtc.claims.VERDICTS.
The runner's failure paths are tested on small books in test_book_runner.py.
"""
import json
from pathlib import Path

import pytest
from chapter_notebooks import error_outputs, missing_or_bad, verdict_keys

from rtc.book import book_lock, chapters, executed_path, plan, prepare, run_all

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = chapters(ROOT)


@pytest.fixture(scope="session")
def ci_book():
    """{chapter name: its executed notebook under ci}, executing only what the runner's cache does not hold."""
    todo = plan(ROOT, "ci", CHAPTERS)
    with book_lock(ROOT / "book", "profile-ci"):
        failures = run_all(ROOT, "ci", todo, say=print)
    if failures:
        pytest.fail("chapters failed under ci:\n  " + "\n  ".join(failures), pytrace=False)
    return {c.name: executed_path(c, "ci") for c in CHAPTERS}


@pytest.mark.slow
@pytest.mark.parametrize("chapter", [c.name for c in CHAPTERS])
def test_chapter_glues_every_referenced_key_under_ci(ci_book, chapter):
    source = next(c.source for c in CHAPTERS if c.name == chapter)
    notebook = ci_book[chapter]
    assert json.loads(notebook.read_text())["metadata"]["rtc"]["parameters"]["profile"] == "ci"
    assert not error_outputs(notebook)
    bad = missing_or_bad(source, notebook)
    assert not bad, f"{chapter} under ci: " + "; ".join(bad)


@pytest.mark.slow
def test_the_book_states_verdicts(ci_book):
    """The chapters that check the paper's claims glue verdicts (each a word of VERDICTS, checked above)."""
    assert {name for name, nb in ci_book.items() if verdict_keys(nb)} >= {"estimators", "comparison", "disintegration"}


def test_prepare_injects_the_profile_without_executing(tmp_path):
    """`make nbmake`'s notebooks: papermill injects the ci parameters (nbmake injects none) and runs nothing."""
    todo = plan(ROOT, "ci", [c for c in CHAPTERS if c.name == "theorem1"])
    (nb,) = prepare(todo, tmp_path)
    cells = json.loads(nb.read_text())["cells"]
    injected = [c for c in cells if "injected-parameters" in c["metadata"].get("tags", [])]
    assert len(injected) == 1 and 'profile = "ci"' in "".join(injected[0]["source"])
    assert not any(c.get("outputs") for c in cells if c["cell_type"] == "code")
