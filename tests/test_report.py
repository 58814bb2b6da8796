"""rtc.report: the chapters' glue, figure and table helpers."""
import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import rtc.report as report


@pytest.fixture
def glued(monkeypatch):
    seen = {}
    monkeypatch.setattr(report, "_glue", lambda name, value: seen.__setitem__(name, value))
    return seen


def test_glue_values_literal_keys_and_numpy_scalars(glued):
    report.glue_values({"a-b": np.float64(1.5), "runs_total": np.int64(3)})
    assert glued == {"a-b": 1.5, "runs_total": 3}  # keys glued as written: no "_" → "-"
    assert type(glued["a-b"]) is float and type(glued["runs_total"]) is int


@pytest.mark.parametrize("bad", [{"": 1}, {3: 1}, {"ok": 1, None: 2}])
def test_glue_values_rejects_bad_keys(glued, bad):
    with pytest.raises(ValueError, match="non-empty"):
        report.glue_values(bad)
    assert glued == {}  # checked before anything is glued


def test_glue_values_takes_one_mapping_only(glued):
    with pytest.raises(TypeError, match="mapping"):
        report.glue_values([("a", 1)])
    with pytest.raises(TypeError, match="mapping"):
        report.glue_values(None)
    with pytest.raises(TypeError):
        report.glue_values(runs_total=3)  # no keyword form: a key is written out as the prose cites it
    with pytest.raises(TypeError):
        report.glue_values({"a": 1}, b=2)
    assert glued == {}


def test_glue_figure_closes_the_figure(glued):
    fig, ax = plt.subplots()
    ax.plot([0, 1])
    report.glue_figure("fig-x", fig)
    assert glued["fig-x"] is fig and not plt.fignum_exists(fig.number)


def test_markdown_table_known_answer():
    df = pd.DataFrame({"a|b": [1.23456, math.nan], "ok": [True, False], "s": ["x|y", "z"]})
    assert report.markdown_table(df, digits=2).splitlines() == [
        r"| a\|b | ok | s |", "|---|---|---|", r"| 1.2 | yes | x\|y |", "|  | no | z |"]
    with pytest.raises(TypeError):
        report.markdown_table([1, 2])


def _executed(path, glued: dict):
    """An executed notebook whose one cell glued ``glued`` (name → Python value) as papermill records them."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("glue_values(...)")
    cell.outputs = [nbformat.v4.new_output(
        "display_data", data={"application/papermill.record/text/plain": repr(v)},
        metadata={"scrapbook": {"mime_prefix": "application/papermill.record/", "name": k}})
        for k, v in glued.items()]
    cell.outputs.append(nbformat.v4.new_output("display_data", data={"text/plain": "'not glued'"}))
    nb.cells.append(cell)
    nbformat.write(nb, str(path))


def test_read_glued_and_built_verdicts(tmp_path):
    _executed(tmp_path / "comparison.ipynb", {
        "claim-a-verdict": "refuted (over the active latents: inconclusive)", "claim-a-result": "refuted",
        "claim-a-interval": "1.5 [1.2, 1.8] (90 % interval, paired seeds, n = 3)", "runs-total": 20,
        "claim-a-end": "refuted", "claim-a-half": "not computed",
        "claim-b-result": "confirmed"})
    _executed(tmp_path / "theorem1.ipynb", {"obs1-verdict": "confirmed"})
    glued = report.read_glued(tmp_path / "comparison.ipynb")
    assert glued["runs-total"] == "20" and glued["claim-a-result"] == "'refuted'" and len(glued) == 7
    # b: glued before the end and half verdicts were (an older build): None, not guessed from its verdict
    assert report.built_verdicts(tmp_path) == {"comparison": {
        "a": ("refuted", "1.5 [1.2, 1.8] (90 % interval, paired seeds, n = 3)", "refuted", "not computed"),
        "b": ("confirmed", "none", None, None)}}
    with pytest.raises(FileNotFoundError, match="no executed chapters"):
        report.built_verdicts(tmp_path / "missing")


def _compare_builds():
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location(
        "compare_builds", Path(__file__).resolve().parents[1] / "scripts" / "compare_builds.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    return script


def test_compare_builds_script_flags_a_contradiction(tmp_path, capsys):
    script = _compare_builds()
    for name, verdicts in (("a", ("confirmed", "refuted")), ("b", ("inconclusive", "refuted")),
                           ("c", ("refuted", "refuted"))):
        (tmp_path / name).mkdir()
        _executed(tmp_path / name / "comparison.ipynb",
                  {"claim-x-result": verdicts[0], "claim-y-result": verdicts[1]})
    assert script.main([str(tmp_path / "a"), str(tmp_path / "b"), "--labels", "s0-2", "s3-5"]) == 0
    out = capsys.readouterr().out
    assert "## comparison" in out and "verdict s3-5" in out and "1 same, 1 one undecided, 0 contradiction" in out
    # builds older than the end and half verdicts: those are missing, said so, and contradict nothing
    assert "| not glued | not glued | missing |" in out
    assert "end of training: 0 same, 0 one undecided, 0 contradiction, 2 missing, 0 not computed" in out
    assert script.main([str(tmp_path / "a"), str(tmp_path / "c")]) == 1  # x: confirmed vs refuted
    assert "1 contradiction" in capsys.readouterr().out
    assert script.main([str(tmp_path / "a"), str(tmp_path / "missing")]) == 2


def _build(folder, claims: dict):
    """A build whose comparison chapter glued, per claim, (result, end, half)."""
    folder.mkdir()
    _executed(folder / "comparison.ipynb", {f"claim-{n}-{part}": v for n, values in claims.items()
                                            for part, v in zip(("result", "end", "half"), values, strict=True)})


def test_compare_builds_flags_end_contradictions_behind_not_converged(tmp_path, capsys):
    """Both builds say "not converged" (the combined words agree), yet the end-of-training verdicts contradict:
    an end contradiction, exit status 1. The old script saw only the combined words and passed this."""
    script = _compare_builds()
    _build(tmp_path / "a", {"fig9a": ("not converged", "confirmed", "refuted")})
    _build(tmp_path / "b", {"fig9a": ("not converged", "refuted", "confirmed")})
    assert script.main([str(tmp_path / "a"), str(tmp_path / "b")]) == 1
    out = capsys.readouterr().out
    assert "| fig9a | not converged | none | not converged | none | same | confirmed | refuted | contradiction |" in out
    assert "claims: 1 same, 0 one undecided, 0 contradiction, 0 missing" in out
    assert "end of training: 0 same, 0 one undecided, 1 contradiction" in out
    assert "half training: 0 same, 0 one undecided, 1 contradiction" in out


def test_compare_builds_flags_a_half_contradiction_alone(tmp_path, capsys):
    """The same verdict at the end of training in both builds, confirmed at half training in one and refuted in
    the other: a half contradiction only (the combined verdicts differ by a "not converged" only), exit status 1;
    a half verdict not computed in a build decides nothing."""
    script = _compare_builds()
    _build(tmp_path / "a", {"x": ("not converged", "refuted", "confirmed"), "y": ("refuted", "refuted", "refuted")})
    _build(tmp_path / "b", {"x": ("refuted", "refuted", "refuted"), "y": ("refuted", "refuted", "not computed")})
    assert script.main([str(tmp_path / "a"), str(tmp_path / "b")]) == 1
    out = capsys.readouterr().out
    assert "claims: 1 same, 1 one undecided, 0 contradiction, 0 missing" in out
    assert "end of training: 2 same, 0 one undecided, 0 contradiction" in out
    assert "half training: 0 same, 1 one undecided, 1 contradiction" in out
    _build(tmp_path / "c", {"x": ("not converged", "refuted", "confirmed"), "y": ("refuted", "refuted", "refuted")})
    assert script.main([str(tmp_path / "a"), str(tmp_path / "c")]) == 0


def test_one_run_label_for_rows_and_runs():
    """rtc.report.run_label: the cell's label, `` s<seed>`` for a seed other than 0, the dataset unless dSprites; the
    same for a table row and a run object."""
    from types import SimpleNamespace

    from rtc.report import cell_label, run_label

    assert run_label({"model": "beta_vae", "strength": 4.0, "seed": 0, "dataset": "dsprites"}) == "β-VAE 4"
    assert run_label({"model": "rtc_vae", "strength": 10, "seed": 1, "dataset": "shapes3d"}) == \
        "RTC-VAE 10 s1 (shapes3d)"
    run = SimpleNamespace(config=SimpleNamespace(model="dip_vae_i", strength=2.5, seed=3),
                          dataset=SimpleNamespace(name="cars3d"))
    assert run_label(run) == "DIP-VAE-I 2.5 s3 (cars3d)"
    assert run_label(SimpleNamespace(config=run.config, dataset="dsprites")) == "DIP-VAE-I 2.5 s3"
    assert run_label({"model": "new_model", "strength": 1, "seed": 0, "dataset": "dsprites"}) == "new_model 1"
    assert cell_label("factor_vae", 10.0, "shapes3d") == "FactorVAE 10 (shapes3d)"
