"""rtc.inspect: known answers on a tiny trained run (traversal order = KL order, histogram counts, the metrics' own
matrices, one GIF frame per traversal value), the report and the CLI, and every bad input as a one-line error that
writes nothing to the results cache."""
import io
import json
import shutil

import numpy as np
import pytest

from rtc import inspect as ri
from rtc.experiments import run
from rtc.experiments.grid import grid_runs
from rtc.inspect.images import _decode
from rtc.models import encode
from rtc.models.runfiles import CONFIG, FINAL

# A tiny RTC-VAE (a discriminator, η and the variance term: every panel of the report) and the ci evaluation.
GRID = """\
defaults: {batch_size: 8, steps: 6, checkpoint_every: 3, disc_hidden: 16, disc_layers: 2, eta_every: 2,
           snapshot_steps: [3]}
eval: {preset: ci, metrics: [sap_r2, mig, disintegration]}
grids:
  - {name: tiny, models: [rtc_vae], strengths: [10], datasets: [dsprites], seeds: [0]}
  - {name: untrained, models: [beta_vae], strengths: [3], datasets: [dsprites], seeds: [0]}
"""
N = 200


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """(repository-like root with parameters/tiny/training.yaml, results dir, RunSpec, RunResult, Inspection)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("repo")
    (root / "book").mkdir()
    (root / "parameters" / "tiny").mkdir(parents=True)
    (root / "parameters" / "tiny" / "training.yaml").write_text(GRID)
    results = root / "results"
    spec = grid_runs("tiny", "tiny", root=root)[0]
    res = run(spec.config, spec.dataset, evaluation=spec.evaluation, results_dir=results)
    insp = ri.load_run(res.run_dir, n=N, seed=0, evaluation=spec.evaluation)
    yield root, results, spec, res, insp
    torch.set_num_threads(threads)


def snapshot(folder):
    return {str(p): (p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(folder.rglob("*")) if p.is_file()}


def test_kl_and_traversal_order_are_the_known_answers(trained):
    _, _, spec, res, insp = trained
    enc = encode(res.load_model(), spec.dataset.load(), n=N, seed=0)
    kl = (0.5 * (enc.mu ** 2 + enc.sigma ** 2 - 1 - 2 * np.log(enc.sigma))).mean(0)
    np.testing.assert_allclose(insp.kl, kl, rtol=1e-12)
    order = np.argsort(-kl, kind="stable")
    np.testing.assert_array_equal(insp.order, order)
    assert np.all(np.diff(insp.kl[insp.order]) <= 0)
    # the figure's rows are that order, with each row's KL printed
    fig = ri.traversal_figure(insp.model, insp.encoding.mu[0], kl=insp.kl, active=insp.active, values=[-1, 0, 1])
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels[:len(order)] == [f"z{k}  KL {kl[k]:.2f}" + ("" if insp.active[k] else " (off)") for k in order]
    # row j of the images varies latent order[j] and only it
    imgs = ri.traversal_images(insp.model, insp.encoding.mu[0], [-1.0, 1.0], order)
    z = np.repeat(insp.encoding.mu[:1], 2, 0).astype(np.float32)
    z[:, order[0]] = [-1.0, 1.0]
    np.testing.assert_allclose(imgs[0], _decode(insp.model, z), atol=1e-6)


def test_histogram_counts_sum_to_n_and_cover_the_prior_range(trained):
    insp = trained[4]
    h = ri.latent_histograms(insp.encoding.mu, insp.encoding.z, bins=30)
    assert h["mu"].shape == h["z"].shape == (insp.config.latent_dim, 30)
    assert (h["mu"].sum(1) == N).all() and (h["z"].sum(1) == N).all()
    assert (h["edges"][:, 0] <= -4).all() and (h["edges"][:, -1] >= 4).all()


def test_heatmaps_are_the_metrics_own_matrices(trained):
    _, _, _, res, insp = trained
    mats = ri.heatmap_matrices(insp.evaluation)
    np.testing.assert_array_equal(mats["nmi"], res.matrices["nmi"])
    np.testing.assert_array_equal(mats["r2"], res.matrices["r2"])
    assert insp.eval_source.startswith("cached evaluation")
    fig = ri.heatmap_figure(insp.evaluation)
    for ax, key in zip(fig.axes[:2], ("nmi", "r2"), strict=True):  # then the two colour bars
        np.testing.assert_allclose(np.asarray(ax.collections[0].get_array()).reshape(mats[key].shape), mats[key])
        # each factor's label names the top two latents of its column and their gap
        for k, t in enumerate(ax.get_xticklabels()):
            a, b = np.argsort(-mats[key][:, k], kind="stable")[:2]
            assert f"z{a}−z{b}: {mats[key][a, k] - mats[key][b, k]:.2f}" in t.get_text()


def test_gif_has_one_frame_per_traversal_value_and_loops(trained):
    from PIL import Image

    insp = trained[4]
    for points in (4, 7):
        data = ri.traversal_gif(insp.model, insp.encoding.mu[0], kl=insp.kl, active=insp.active,
                                values=ri.traversal_values(points))
        with Image.open(io.BytesIO(data)) as im:
            assert im.format == "GIF" and im.n_frames == points and im.info.get("loop") == 0
            assert im.info.get("duration", 0) > 0


def test_report_writes_every_file_and_nothing_to_the_cache(trained, tmp_path):
    from PIL import Image

    _, results, _, _, insp = trained
    before = snapshot(results)
    page = ri.write_report(insp, tmp_path / "out", images=2, points=5, progress=False)
    names = {p.name for p in (tmp_path / "out").iterdir()}
    assert {"index.html", "reconstructions.png", "histograms.png", "heatmaps.png", "curves.png", "prior.png",
            "traversal_0.png", "traversal_1.png", "traversal_0.gif", "traversal_1.gif"} <= names
    text = page.read_text()
    for name in names - {"index.html"}:
        assert f'src="{name}"' in text
        with Image.open(tmp_path / "out" / name) as im:
            im.load()
    assert insp.run_dir.name in text and "tc_mean" in text and "tc_sample" in text
    assert snapshot(results) == before
    ri.write_report(insp, tmp_path / "png", fmt="png", images=1, progress=False)
    assert not list((tmp_path / "png").glob("*.gif"))
    ri.write_report(insp, tmp_path / "gif", fmt="gif", images=1, progress=False)
    assert {p.suffix for p in (tmp_path / "gif").iterdir()} == {".gif", ".html"}
    # the number of traced images is an integer in [1, n]: a flag is no count, and nothing is written
    for images, error in ((True, TypeError), (1.0, TypeError), (0, ValueError), (insp.n + 1, ValueError)):
        with pytest.raises(error, match="images"):
            ri.write_report(insp, tmp_path / "bad", images=images, progress=False)
    assert not (tmp_path / "bad").exists()


def test_gallery_images_and_facts(trained):
    insp = trained[4]
    imgs = ri.gallery_images(insp, points=5, images=1, recon_images=3)
    assert [m for m, _ in imgs.values()].count("image/gif") == 1
    assert all(data[:4] in (b"\x89PNG", b"GIF8") for _, data in imgs.values())
    f = ri.image_facts(insp)
    assert f["top_latent"] == insp.order[0] and f["latents"] == insp.config.latent_dim
    assert f["factor"] in insp.evaluation["factor_names"] and f["factor_gap"] >= 0


def test_cli_resolves_through_the_profile_grid(trained, tmp_path, monkeypatch, capsys):
    root, results, _, _, _ = trained
    monkeypatch.chdir(root)
    before = snapshot(results)
    rc = ri.main(["--profile", "tiny", "--model", "rtc_vae", "--strength", "10", "--seed", "0", "--dataset",
                  "dsprites", "--results-dir", str(results), "--out", str(tmp_path / "o"), "--images", "1",
                  "-n", "100", "--points", "4"])
    assert rc == 0 and (tmp_path / "o" / "index.html").exists()
    assert snapshot(results) == before
    # a grid run that is not cached: the error names the command that trains it, and nothing is trained
    rc = ri.main(["--profile", "tiny", "--model", "beta_vae", "--strength", "3", "--results-dir", str(results),
                  "--out", str(tmp_path / "o2")])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 1 and "python -m rtc.sweep --profile tiny" in err[-1] and FINAL in err[-1]
    assert snapshot(results) == before and not (tmp_path / "o2").exists()
    with pytest.raises(ri.InspectError, match="has no run"):
        ri.resolve_run("tiny", model="rtc_vae", strength=99, seed=0, dataset="dsprites", results_dir=results,
                       root=root)


def copy_run(res, dest):
    shutil.copytree(res.run_dir, dest, ignore=shutil.ignore_patterns("lock", "eval"))
    return dest


def one_line(exc_info):
    msg = str(exc_info.value)
    assert "\n" not in msg
    return msg


def test_bad_inputs_are_one_line_errors(trained, tmp_path):
    _, _, _, res, _ = trained
    with pytest.raises(ri.InspectError) as e:
        ri.load_run(tmp_path, n=50)
    assert "is not a run" in one_line(e) and str(tmp_path) in one_line(e)
    with pytest.raises(ri.InspectError) as e:
        ri.load_run(tmp_path / "nowhere", n=50)
    assert "not a directory" in one_line(e)

    missing = copy_run(res, tmp_path / "runs" / "missing")
    (missing / FINAL).unlink()
    with pytest.raises(ri.InspectError) as e:
        ri.load_run(missing, n=50)
    assert f"{FINAL} is missing" in one_line(e)

    truncated = copy_run(res, tmp_path / "runs" / "truncated")
    data = (truncated / FINAL).read_bytes()
    (truncated / FINAL).write_bytes(data[:len(data) // 3])
    with pytest.raises(ri.InspectError) as e:
        ri.load_run(truncated, n=50)
    assert FINAL in one_line(e) and "truncated or corrupt" in one_line(e)

    nodata = copy_run(res, tmp_path / "runs" / "nodata")
    doc = json.loads((nodata / CONFIG).read_text())
    doc["data"]["source"] = str(tmp_path / "no-such-dsprites.npz")
    (nodata / CONFIG).write_text(json.dumps(doc))
    with pytest.raises(ri.InspectError) as e:
        ri.load_run(nodata, n=50)
    assert CONFIG in one_line(e) and "cannot be loaded" in one_line(e) and "RTC_DSPRITES" in one_line(e)


def test_a_run_of_other_code_is_shown_and_marked(trained, tmp_path, capsys):
    _, _, _, res, _ = trained
    other = copy_run(res, tmp_path / "runs" / "rtc_vae-0123456789abcdef")
    insp = ri.load_run(other, n=60)
    assert not insp.key_ok and insp.expected_key == res.run_dir.name
    assert any("cache key mismatch" in n for n in insp.notes)
    assert insp.eval_source.startswith("no cached evaluation")  # the copy has no eval/: computed, not written
    assert not (other / "eval").exists()
    assert ri.main([str(other), "--out", str(tmp_path / "o"), "--images", "1", "-n", "60", "--points", "3"]) == 0
    assert "cache key mismatch" in capsys.readouterr().err
    assert "cache key mismatch" in (tmp_path / "o" / "index.html").read_text()
    assert not (other / "eval").exists()


def test_active_latents_known_variances():
    from rtc.models.encoding import active_latents

    mu = np.zeros((4, 3))
    mu[:, 0] = [0, 0, 0, 0.4]   # sample variance (ddof 1) 0.04: active
    mu[:, 1] = [0, 0, 0, 0.1]   # 0.0025: below the threshold
    mu[:, 2] = [1, -1, 1, -1]   # 4/3
    assert active_latents(mu).tolist() == [True, False, True]
    with pytest.raises(ValueError, match="N ≥ 2"):
        active_latents(np.zeros(3))
