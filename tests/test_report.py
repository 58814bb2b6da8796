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


def test_glue_values_names_and_numpy_scalars(glued):
    report.glue_values({"a-b": np.float64(1.5)}, runs_total=np.int64(3))
    assert glued == {"a-b": 1.5, "runs-total": 3}
    assert type(glued["a-b"]) is float and type(glued["runs-total"]) is int
    with pytest.raises(ValueError, match="non-empty"):
        report.glue_values({"": 1})


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
