"""Parameter profiles: chapter defaults equal the default profile; bad files fail before anything runs."""
import json

import pytest
import yaml

from rtc.book import chapters
from rtc.params import ParameterError, _short, chapter_defaults, describe_run, load_profile, validate
from rtc.paths import find_root

PROFILES = ("ci", "default", "paper")


def _chapters(root):
    return chapters(root)


def test_every_chapter_has_all_three_profiles(repo_root):
    for c in _chapters(repo_root):
        for p in PROFILES:
            assert (repo_root / "parameters" / p / f"{c.name}.yaml").exists(), f"missing parameters/{p}/{c.name}.yaml"


def test_default_profile_equals_parameters_cell(repo_root):
    for c in _chapters(repo_root):
        defaults = chapter_defaults(c.source)
        profile = yaml.safe_load((repo_root / "parameters" / "default" / f"{c.name}.yaml").read_text())
        assert defaults["profile"] == "default", f"{c.name}: the parameters cell must name the default profile"
        assert profile == {k: v for k, v in defaults.items() if k != "profile"}, \
            f"{c.name}: parameters cell and parameters/default/{c.name}.yaml differ"


@pytest.mark.parametrize("profile", PROFILES)
def test_profiles_validate_and_take_their_folders_name(repo_root, profile):
    for c in _chapters(repo_root):
        assert "profile" not in (yaml.safe_load((repo_root / "parameters" / profile / f"{c.name}.yaml").read_text())
                                 or {}), f"parameters/{profile}/{c.name}.yaml sets profile:"
        values = load_profile(profile, c.name, root=repo_root, chapter_path=c.source)
        assert values["profile"] == profile


def _tiny_root(tmp_path, profile="mine"):
    root = tmp_path / "r"
    (root / "book" / "chapters").mkdir(parents=True)
    (root / "parameters" / profile).mkdir(parents=True)
    (root / "book" / "chapters" / "c.py").write_text('# %% tags=["parameters"]\nprofile = "default"\nn = 1\n')
    return root


def test_the_profile_is_the_folders_name(tmp_path):
    root = _tiny_root(tmp_path)
    assert load_profile("mine", "c", root=root) == {"profile": "mine"}  # no file: only the name
    (root / "parameters" / "mine" / "c.yaml").write_text("n: 2\n")
    assert load_profile("mine", "c", root=root) == {"profile": "mine", "n": 2}
    (root / "parameters" / "mine" / "c.yaml").write_text("profile: mine\nn: 2\n")
    with pytest.raises(ParameterError, match=r"mine/c\.yaml: remove the 'profile' key: the profile is the folder's"):
        load_profile("mine", "c", root=root)
    # a chapter without a profile parameter gets none
    (root / "book" / "chapters" / "c.py").write_text('# %% tags=["parameters"]\nn = 1\n')
    (root / "parameters" / "mine" / "c.yaml").write_text("n: 2\n")
    assert load_profile("mine", "c", root=root) == {"n": 2}


DEFAULTS = {"profile": "default", "n": 10, "x": 0.5, "flag": True, "xs": [1.0, 2.0], "names": ["a"], "anything": None,
            "bands": [[0.05, 0.5]], "empty": []}


def test_validate_accepts_and_promotes():
    out = validate(DEFAULTS, {"x": 2, "xs": [1, 2.5], "n": 3, "flag": False, "anything": [1, "a"],
                              "bands": [[1, 2], [0.5, 3]], "empty": [1, "a"]}, source="t")
    assert out["x"] == 2.0 and isinstance(out["x"], float)
    assert out["xs"] == [1.0, 2.5] and all(isinstance(v, float) for v in out["xs"])
    assert out["bands"] == [[1.0, 2.0], [0.5, 3.0]] and all(isinstance(v, float) for b in out["bands"] for v in b)
    assert out["n"] == 3 and isinstance(out["n"], int)


@pytest.mark.parametrize("values, match", [
    ({"bogus": 1}, "unknown parameter 'bogus'"),
    ({"n": 1.5}, "'n' must be int"),
    ({"n": True}, "'n' must be int"),
    ({"flag": 1}, "'flag' must be bool"),
    ({"x": "0.5"}, "'x' must be float"),
    ({"xs": [1.0, "a"]}, "'xs' must be list of float"),
    ({"xs": 1.0}, "'xs' must be list"),
    ({"names": [1]}, "'names' must be list of str"),
    ({"bands": [[0.1, "a"]]}, "'bands' must be list of list"),
    ({"bands": [0.1, 0.2]}, "'bands' must be list of list"),
    ({"empty": 1}, "'empty' must be list"),
])
def test_validate_rejects(values, match):
    with pytest.raises(ParameterError, match=match):
        validate(DEFAULTS, values, source="file.yaml")


def test_load_profile_errors(repo_root, tmp_path):
    with pytest.raises(ParameterError, match="unknown profile 'nope'"):
        load_profile("nope", "theorem1", root=repo_root)
    root = tmp_path / "r"
    (root / "book" / "chapters").mkdir(parents=True)
    (root / "parameters" / "ci").mkdir(parents=True)
    (root / "book" / "chapters" / "c.py").write_text('# %% tags=["parameters"]\nprofile = "default"\nn = 1\n')
    (root / "parameters" / "ci" / "c.yaml").write_text("n: [1, 2\n")
    with pytest.raises(ParameterError, match="not valid YAML"):
        load_profile("ci", "c", root=root)
    (root / "parameters" / "ci" / "c.yaml").write_text("- 1\n- 2\n")
    with pytest.raises(ParameterError, match="expected a mapping"):
        load_profile("ci", "c", root=root)
    (root / "book" / "chapters" / "c.py").write_text('# %% tags=["parameters"]\nn = 1 + 1\n')
    with pytest.raises(ParameterError, match="not a literal"):
        chapter_defaults(root / "book" / "chapters" / "c.py")


def test_describe_run_names_the_profile_and_what_is_reduced(repo_root):
    ns = dict(chapter_defaults(repo_root / "book" / "chapters" / "theorem1.py"))
    ns.update(load_profile("ci", "theorem1", root=repo_root), unrelated_global=object())
    text = describe_run("theorem1", ns, root=repo_root)
    assert "`ci` profile" in text and "reduced relative to the `paper` profile" in text
    assert "`mc_outer`" in text and "unrelated_global" not in text
    assert "|---|---|---|" in text  # a Markdown table (rendered as MyST, so a real table in the HTML)
    ns.update(load_profile("paper", "theorem1", root=repo_root))
    assert "full settings" in describe_run("theorem1", ns, root=repo_root)


def test_describe_run_shortens_long_lists():
    assert _short([1, 2, 3]) == "[1, 2, 3]"
    assert _short(list(range(14))) == "[0, 1, 2, …, 13] (14 values)"
    assert _short([0.5] * 6) == json.dumps([0.5] * 6)


def test_find_root_from_another_folder_is_the_installed_checkout(tmp_path, monkeypatch):
    """nbmake executes chapters where the notebooks are (outside the repository): the training grids and the results
    cache must still be found (before: FileNotFoundError from the chapters' grid_runs)."""
    from pathlib import Path

    monkeypatch.chdir(tmp_path)
    root = Path(__file__).resolve().parents[1]
    assert find_root() == root
    (tmp_path / "parameters").mkdir()
    (tmp_path / "book").mkdir()
    assert find_root() == tmp_path  # the working directory's repository comes first
    with pytest.raises(FileNotFoundError, match="no repository root"):
        find_root(tmp_path.parent)
