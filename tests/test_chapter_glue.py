"""Any valid profile builds: every glue key a chapter's prose references is glued whatever the parameter values.

A key such as ``law-slope-mws-fixed-10`` glued as ``f"law-slope-…-{max(law_dims)}"`` exists only for profiles
whose largest law dimension is 10, and the book build fails on every other valid profile ("No key … found in
glue data"). The test executes each chapter under a generated profile — valid, small, and with every list
different from the committed profiles' — and checks that the keys its Markdown references
({glue:}`k`, {glue:text}`k:fmt`, ```{glue:figure} k``) are all glued, with finite values.
"""
from __future__ import annotations

import ast
import json
import math
import re
from pathlib import Path

import jupytext
import nbformat
import pytest

from rtc.params import chapter_defaults, load_profile, profiles, validate

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = ROOT / "book" / "chapters"

# Small (ci-sized or smaller) values; every list differs from every committed profile's (checked below).
GENERATED = {
    "theorem1": dict(rhos=[0.0, 0.95], variance_bounds=[[0.1, 0.3]], quadrature_resolution=0.4,
                     noise_scales=[0.5, 0.05], mc_dim=4, mc_log_dets=[0.0, -3.0], mc_bounds=[0.1, 0.4],
                     mc_outer=200, mc_inner=64),
    "proposition1": dict(dims=[3, 7], draws_per_dim=2, mc_samples=5000, invariance_draws=20, example_samples=10000),
    "estimators": dict(dims=[3, 7], dets=[0.2, 1.0], repeats=1, batch_size=128, knn_samples=400, dr_samples=400,
                       dr_steps=20, dr_hidden=16, dr_layers=2, dr_batch=64, law_dims=[5, 8],
                       law_batch_sizes=[48, 96], law_repeats=1),
    "comparison": dict(training_grid="ci", baseline_images=150, trace_images=80, pair_images=250,
                       bootstrap_repeats=50, traversal_points=4),
    "disintegration": dict(training_grid="ci", ks=[1, 3], noises=[0.0, 0.4], alphas_deg=[0.0, 30.0], other_sizes=[3, 2],
                           chen_samples=50, score_batch=8, score_train=60, score_eval=30, score_variance=300,
                           encode_n=300, knn_max_points=300, bootstrap_repeats=50, walk_steps=4),
    "gallery": dict(training_grid="ci", encode_n=150, traversal_points=4, traced_images=2, recon_images=3),
    "datasets": dict(traversal_steps=3, rate_batch=16, rate_batch_cars3d=4, rate_repeats=1, train_batch=8,
                     train_steps=1, cache_probe_images=10, cache_probe_images_cars3d=2),
}

_ROLE = re.compile(r"\{glue(?::(?:text|any|md)?)?\}`([^`:]+)(?::[^`]*)?`")
_FIGURE = re.compile(r"^\s*```\{glue(?::figure|:math)?\}\s+(\S+)", re.M)


def referenced_keys(source: Path) -> set[str]:
    """Glue keys referenced by the Markdown cells of a jupytext chapter."""
    nb = jupytext.read(source)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    return set(_ROLE.findall(text)) | set(_FIGURE.findall(text))


def glue_patterns(source: Path) -> list[re.Pattern]:
    """The keys of the chapter's glue(...) calls as regexes (an f-string's fields match anything)."""
    nb = jupytext.read(source)
    out = []
    for c in nb.cells:
        if c.cell_type != "code":
            continue
        for node in ast.walk(ast.parse(c.source)):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "glue" and node.args:
                key = node.args[0]
                if isinstance(key, ast.Constant):
                    out.append(re.compile(re.escape(key.value)))
                elif isinstance(key, ast.JoinedStr):
                    out.append(re.compile("".join(re.escape(v.value) if isinstance(v, ast.Constant) else ".+"
                                                  for v in key.values)))
    return out


def glued_values(notebook: Path) -> dict[str, str]:
    """key → text/plain (or '<figure>') of every glue output of an executed notebook."""
    nb = nbformat.read(notebook, as_version=4)
    out = {}
    for c in nb.cells:
        for o in c.get("outputs", []):
            name = o.get("metadata", {}).get("scrapbook", {}).get("name")
            if name:
                data = o.get("data", {})
                out[name] = ("<figure>" if any(k.endswith("image/png") for k in data) else
                             data.get("application/papermill.record/text/plain", data.get("text/plain", "")))
    return out


def execute(source: Path, parameters: dict, out_dir: Path) -> Path:
    """Run a jupytext chapter with papermill (cwd: the chapters folder, as the runner does)."""
    import papermill

    src = out_dir / f"{source.stem}.src.ipynb"
    jupytext.write(jupytext.read(source), src, fmt="ipynb")
    out = out_dir / f"{source.stem}.ipynb"
    papermill.execute_notebook(str(src), str(out), parameters=parameters, cwd=str(source.parent),
                               kernel_name="python3", progress_bar=False, log_output=False)
    return out


def missing_or_bad(source: Path, notebook: Path) -> list[str]:
    """Referenced keys that were not glued, or were glued as a non-finite number."""
    glued = glued_values(notebook)
    bad = []
    for key in sorted(referenced_keys(source)):
        if key not in glued:
            bad.append(f"{key}: not glued")
            continue
        try:
            value = ast.literal_eval(glued[key])
        except (ValueError, SyntaxError):
            continue
        if isinstance(value, float) and not math.isfinite(value):
            bad.append(f"{key}: glued as {value}")
        elif isinstance(value, str) and re.search(r"\bnan\b", value, re.I):
            bad.append(f"{key}: glued text contains nan: {value!r}")
    return bad


def test_generated_profiles_are_valid_and_new():
    committed = profiles(ROOT)
    assert set(GENERATED) == {p.stem for p in CHAPTERS.glob("*.py")}, "a chapter has no generated profile"
    for chapter, values in GENERATED.items():
        defaults = chapter_defaults(CHAPTERS / f"{chapter}.py")
        validate(defaults, values, source=f"generated/{chapter}")  # raises ParameterError if invalid
        for name in committed:
            given = {**defaults, **load_profile(name, chapter, root=ROOT)}
            for key, v in values.items():
                if isinstance(v, list):
                    assert v != given[key], f"{chapter}.{key} equals the committed {name!r} profile's"


@pytest.mark.parametrize("chapter", sorted(GENERATED))
def test_every_referenced_key_has_a_glue_call(chapter):
    """Fast and static: a referenced key no glue(...) call can produce is a typo (or a removed result)."""
    source = CHAPTERS / f"{chapter}.py"
    patterns = glue_patterns(source)
    keys = referenced_keys(source)
    assert keys, f"{chapter}: no glue reference found (is the regex still right?)"
    orphans = [k for k in sorted(keys) if not any(p.fullmatch(k) for p in patterns)]
    assert not orphans, f"{chapter}: prose references keys no glue call produces: {orphans}"


def test_reference_parser():
    src = ("# %% [markdown]\n# a {glue:text}`x-1:.2f` b {glue:}`y` c {glue}`z`\n#\n"
           "# ```{glue:figure} fig-a\n# :name: fig-a\n# ```\n")
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "c.py"
        p.write_text(src)
        assert referenced_keys(p) == {"x-1", "y", "z", "fig-a"}


@pytest.mark.slow
@pytest.mark.parametrize("chapter", sorted(GENERATED))
def test_chapter_builds_under_a_generated_profile(chapter, tmp_path):
    source = CHAPTERS / f"{chapter}.py"
    params = {"profile": "generated", **GENERATED[chapter]}
    notebook = execute(source, json.loads(json.dumps(params)), tmp_path)
    bad = missing_or_bad(source, notebook)
    assert not bad, f"{chapter} under {GENERATED[chapter]}: " + "; ".join(bad)
