"""rtc.experiments.comparison.plots: the Fig. 3 panel draws what the run table holds."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from rtc.experiments.comparison import MODELS  # noqa: E402
from rtc.experiments.comparison.plots import COLORS, tc_panel  # noqa: E402


def test_every_model_has_a_colour():
    assert list(COLORS) == list(MODELS) and len(set(COLORS.values())) == len(MODELS)


def test_tc_panel_draws_seed_means_and_circles_unlearned_runs():
    rows = [dict(model="beta_vae", dataset="dsprites", strength=s, seed=sd, tc_mean=tm, tc_sample=ts, learned=ok)
            for s, sd, tm, ts, ok in ((1.0, 0, 2.0, 0.1, True), (1.0, 1, 4.0, 0.3, True), (4.0, 0, 1.0, 0.2, False))]
    rows.append(dict(model="factor_vae", dataset="shapes3d", strength=1.0, seed=0, tc_mean=9.0, tc_sample=9.0,
                     learned=True))                                     # another dataset: not drawn
    fig, ax = plt.subplots()
    tc_panel(ax, pd.DataFrame(rows), ["beta_vae", "factor_vae", "rtc_vae"], "vanilla")
    lines = {ln.get_label(): ln for ln in ax.get_lines()}
    assert set(lines) == {"β-VAE TC_sample", "β-VAE TC_mean"}
    np.testing.assert_allclose(lines["β-VAE TC_mean"].get_ydata(), [3.0, 1.0])     # seed mean at strength 1
    np.testing.assert_allclose(lines["β-VAE TC_sample"].get_ydata(), [0.2, 0.2])
    circled = ax.collections[-1]
    np.testing.assert_allclose(circled.get_offsets(), [[4.0, 1.0]])              # the unlearned run
    assert ax.get_title() == "vanilla" and ax.get_xscale() == "log"
    plt.close(fig)
