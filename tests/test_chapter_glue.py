"""Any valid profile builds: every glue key a chapter's prose references is glued whatever the parameter values.

A key such as ``law-slope-mws-fixed-10`` glued as ``f"law-slope-…-{max(law_dims)}"`` exists only for profiles
whose largest law dimension is 10, and the book build fails on every other valid profile ("No key … found in
glue data"). Statically, every key a chapter's Markdown references ({glue:}`k`, {glue:text}`k:fmt`,
```{glue:figure} k```) must be one its glue calls (``glue``, ``glue_figure``, ``glue_values``) can produce. One
chapter — the estimators, whose keys depend on its lists — is executed under a generated profile (valid, small,
every list different from the committed profiles') and checked to glue them all with finite values; the ci book's
executed chapters are checked the same way in test_chapters.py, so no chapter is executed twice for this.

Every key a chapter cites is also written out where it is glued — a string literal in the chapter's code or in
``rtc/`` — so that a search for a cited key finds its value (``glue_values`` takes literal keys only).
"""
from __future__ import annotations

import ast
import functools
import json
import re
from pathlib import Path

import pytest
from chapter_notebooks import error_outputs, glued_value, missing_or_bad, referenced_keys

from rtc.params import chapter_defaults, chapter_notebook, load_profile, profiles, validate

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
    "comparison": dict(baseline_images=150, trace_images=80, pair_images=250,
                       bootstrap_repeats=50, traversal_points=4),
    "disintegration": dict(ks=[1, 3], noises=[0.0, 0.4], alphas_deg=[0.0, 30.0], other_sizes=[3, 2],
                           chen_samples=50, score_batch=8, score_train=60, score_eval=30, score_variance=300,
                           encode_n=300, knn_max_points=300, bootstrap_repeats=50, walk_steps=4),
    "gallery": dict(encode_n=150, traversal_points=4, traced_images=2, recon_images=3),
    "datasets": dict(traversal_steps=3, rate_batch=16, rate_batch_cars3d=4, rate_repeats=1, train_batch=8,
                     train_steps=1, cache_probe_images=10, cache_probe_images_cars3d=2),
}


def _key_pattern(node) -> str | None:
    """A glue key expression as a regex source: a literal matches itself, an f-string's fields match anything.
    None when the key is not written out."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return re.escape(node.value)
    if isinstance(node, ast.JoinedStr):
        return "".join(re.escape(v.value) if isinstance(v, ast.Constant) else ".*" for v in node.values)
    return None


def _mapping_patterns(node) -> list[str | None]:
    """The keys of a mapping handed to ``glue_values``: a dict display (``**`` spreads included), a dict
    comprehension or an ``observation_texts(...)`` call; [None] for anything else (keys the test cannot see)."""
    if isinstance(node, ast.Dict):
        return [p for k, v in zip(node.keys, node.values, strict=True)
                for p in (_mapping_patterns(v) if k is None else [_key_pattern(k)])]
    if isinstance(node, ast.DictComp):
        return [_key_pattern(node.key)]
    if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "observation_texts":
        # rtc.claims.observation_texts: <prefix>-<claim name>-<part> for each claim
        prefix = next((k.value.value for k in node.keywords if k.arg == "prefix"
                       and isinstance(k.value, ast.Constant)), "claim")
        # -end and -half: the end- and half-training verdicts that -result combines, glued so that
        # scripts/compare_builds.py can compare builds at each (a "not converged" in both may hide a contradiction)
        return [re.escape(prefix) + r"-.*-(verdict|evidence|result|interval|active|end|half)"]
    return [None]


def glue_patterns(source: Path) -> list[re.Pattern]:
    """The keys of the chapter's glue calls as regexes: ``glue(key, …)``, ``glue_figure(key, fig)`` and
    ``glue_values(mapping)`` (one mapping: a keyword argument glues nothing and matches nothing)."""
    nb = chapter_notebook(source)
    found = []
    for c in nb.cells:
        if c.cell_type != "code":
            continue
        for node in ast.walk(ast.parse(c.source)):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None)
            if name in ("glue", "glue_figure") and node.args:
                found.append(_key_pattern(node.args[0]))
            elif name == "glue_values" and len(node.args) == 1 and not node.keywords:
                found += _mapping_patterns(node.args[0])
    # A key held in a variable matches nothing here: a referenced key only such a call glues shows up as an orphan.
    return [re.compile(p) for p in found if p is not None]


def _string_literals(code: str) -> set[str]:
    """Every whole string literal of ``code`` (an f-string's fixed parts are not whole keys: left out)."""
    tree = ast.parse(code)
    parts = {id(v) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr) for v in n.values}
    return {n.value for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in parts}


@functools.lru_cache(maxsize=None)
def library_literals(root: Path = ROOT) -> frozenset[str]:
    """The whole string literals of the library, ``rtc/**/*.py``, and the claim names of its claims registry
    (``rtc/claims/registry.toml``: each written out there as ``[claims.<chapter>.<name>]``)."""
    import tomllib

    registry = tomllib.loads((root / "rtc" / "claims" / "registry.toml").read_text(encoding="utf-8"))
    names = {name for claims in registry["claims"].values() for name in claims}
    return frozenset(names).union(*(_string_literals(p.read_text()) for p in sorted((root / "rtc").rglob("*.py"))))


def chapter_literals(source: Path) -> set[str]:
    """The whole string literals of a chapter's code cells."""
    return set().union(*(_string_literals(c.source) for c in chapter_notebook(source).cells
                         if c.cell_type == "code"))


# Keys that cannot be written out where they are glued, made by an f-string from a name. A cited key matching one
# of these ("{}" the name) is found only when the name itself is a string literal in rtc/ or the chapter. Keep this
# short: a key the prose cites is written out by the chapter or by the library function that makes it.
MADE_KEYS = {
    # rtc.claims.observation_texts: "<prefix>-<claim name>-<part>" for every claim of a chapter, the claim names
    # being the keys of the claim tables in rtc/experiments/
    "claim-{}-verdict": "rtc.claims.observation_texts",
    "claim-{}-evidence": "rtc.claims.observation_texts",
}


def unfound_keys(source: Path, library: frozenset[str] | None = None) -> list[str]:
    """The keys the chapter's prose cites that are written out neither in ``rtc/`` nor in the chapter's code (as
    a whole string literal), nor made by a :data:`MADE_KEYS` pattern from a literal name."""
    literals = (library_literals() if library is None else library) | chapter_literals(source)
    made = [re.compile(re.escape(f).replace(r"\{\}", "(.+)")) for f in MADE_KEYS]

    def found(key: str) -> bool:
        return key in literals or any((m := p.fullmatch(key)) and m.group(1) in literals for p in made)

    return sorted(k for k in referenced_keys(source) if not found(k))


def execute(source: Path, parameters: dict, out_dir: Path) -> Path:
    """Run a jupytext chapter with papermill (cwd: the chapters folder, as the runner does)."""
    import nbformat
    import papermill

    src = out_dir / f"{source.stem}.src.ipynb"
    nbformat.write(chapter_notebook(source), src)
    out = out_dir / f"{source.stem}.ipynb"
    papermill.execute_notebook(str(src), str(out), parameters=parameters, cwd=str(source.parent),
                               kernel_name="python3", progress_bar=False, log_output=False)
    return out


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


def test_reference_parser(tmp_path):
    src = ("# %% [markdown]\n# a {glue:text}`x-1:.2f` b {glue:}`y` c {glue}`z`\n#\n"
           "# ```{glue:figure} fig-a\n# :name: fig-a\n# ```\n")
    p = tmp_path / "c.py"
    p.write_text(src)
    assert referenced_keys(p) == {"x-1", "y", "z", "fig-a"}


def test_glue_call_parser(tmp_path):
    """Every form the chapters glue with yields its keys; a key the test cannot read matches nothing."""
    p = tmp_path / "c.py"
    p.write_text('# %%\nglue("a", 1)\nglue_figure(f"fig-{n}", fig)\n'
                 'glue_values({"b": 1, f"c-{i}": 2, **{f"d-{k}": 3 for k in ks}})\n'
                 'glue_values({f"h{i}-{k}": v for k, v in o.items()})\n')
    patterns = glue_patterns(p)
    for key in ("a", "fig-1", "b", "c-x", "d-x", "h1-under"):
        assert any(q.fullmatch(key) for q in patterns), key
    p.write_text("# %%\nglue_values(values)\nglue(key, 1)\nglue_values(e_f=4)\nglue_values({}, g=1)\n")
    assert glue_patterns(p) == []


@pytest.mark.parametrize("chapter", sorted(GENERATED))
def test_every_cited_key_is_written_out(chapter):
    """A search for a key the prose cites finds where it is glued: the chapter's code or rtc/ holds it literally."""
    unfound = unfound_keys(CHAPTERS / f"{chapter}.py")
    assert not unfound, (f"{chapter}: the prose cites keys written out neither in the chapter nor in rtc/ "
                         f"(write them as literal strings, e.g. glue_values({{\"key\": value}})): {unfound}")


def test_written_out_check_fails_on_a_planted_key(tmp_path):
    """The check above can fail: a key cited but only made by an f-string, or not glued at all, is reported."""
    src = (CHAPTERS / "theorem1.py").read_text()
    p = tmp_path / "theorem1.py"
    p.write_text(src)
    assert unfound_keys(p) == []
    p.write_text(src + '\n# %% [markdown]\n# {glue:text}`planted-nowhere:.2f` and {glue:}`planted-made-x`\n'
                 '# and {glue:text}`claim-not_a_claim_name-verdict`\n\n'
                 '# %%\nglue_values({f"planted-made-{name}": 1 for name in ("x",)})\n')
    assert unfound_keys(p) == ["claim-not_a_claim_name-verdict", "planted-made-x", "planted-nowhere"]
    assert unfound_keys(p, frozenset({"not_a_claim_name"})) == ["planted-made-x", "planted-nowhere"]


def _glued_notebook(path: Path, key: str, text: str) -> Path:
    """An executed notebook whose one output glued ``key`` with ``text`` as its text/plain (as myst_nb records it)."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("glue_values(...)")
    cell.outputs = [nbformat.v4.new_output(
        "display_data", data={"application/papermill.record/text/plain": text},
        metadata={"scrapbook": {"mime_prefix": "application/papermill.record/", "name": key}})]
    nb.cells.append(cell)
    nbformat.write(nb, str(path))
    return path


@pytest.mark.parametrize("text", ["nan", "inf", "-inf", "np.float64(nan)", "np.float64(-inf)", "numpy.float32(nan)",
                                  "(1.0, nan)", "[0.5, inf]", "'mean nan nats'"])
def test_a_glued_nan_is_reported(tmp_path, text):
    source = tmp_path / "c.py"
    source.write_text("# %% [markdown]\n# the value is {glue:text}`x-value:.2f`\n")
    notebook = _glued_notebook(tmp_path / "c.ipynb", "x-value", text)
    assert missing_or_bad(source, notebook) == [
        f"x-value: glued text contains nan: {glued_value(text)!r}" if text.startswith("'") else
        f"x-value: glued as {text}"]


@pytest.mark.parametrize("text", ["1.5", "np.float64(2.0)", "np.int64(3)", "-0.25", "(1.0, 2.0)", "'banana'",
                                  "<figure>"])
def test_a_finite_glued_value_passes(tmp_path, text):
    source = tmp_path / "c.py"
    source.write_text("# %% [markdown]\n# the value is {glue:text}`x-value:.2f`, {glue:}`y-missing`\n")
    notebook = _glued_notebook(tmp_path / "c.ipynb", "x-value", text)
    assert missing_or_bad(source, notebook) == ["y-missing: not glued"]


# The generated-profile property, executed for one chapter: the estimators chapter glues keys built from its lists
# (the largest law dimension, the observations' values), the historical way a valid profile broke the build.
GENERATED_RUN = "estimators"


@pytest.mark.slow
def test_a_chapter_builds_under_a_generated_profile(tmp_path):
    source = CHAPTERS / f"{GENERATED_RUN}.py"
    params = {"profile": "generated", **GENERATED[GENERATED_RUN]}
    notebook = execute(source, json.loads(json.dumps(params)), tmp_path)
    assert not error_outputs(notebook)
    bad = missing_or_bad(source, notebook)
    assert not bad, f"{GENERATED_RUN} under {GENERATED[GENERATED_RUN]}: " + "; ".join(bad)
