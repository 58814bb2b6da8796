"""Total-correlation estimators (paper section 4 and appendix 1, plus a non-parametric one).

- :mod:`.minibatch` — log q(z_ik | x_j) tensor, MWS (with/without its log(B·N) constants), MSS0, MSS1.
- :mod:`.density_ratio` — post-hoc discriminator estimate with a held-out split.
- :mod:`.asymptotics` — what they converge to for sparse batches (high D): the isolated-point law.
- :mod:`.knn` — KSG / Kozachenko–Leonenko total correlation of samples.
- :mod:`.synthetic` — the paper's Figure 2 and dimension-shutdown latent distributions with exact TC.
  (The estimator chapter's analysis — the paper's observations as tests, the law fits — is
  :mod:`rtc.experiments.estimator_study`.)
"""
from ..discriminator import density_ratio_tc, permute_dims
from .asymptotics import isolated_point_tc, weight_signature
from .density_ratio import DensityRatioResult, density_ratio_estimate
from .knn import knn_entropy, knn_tc
from .minibatch import (
                        ESTIMATORS,
                        MSS_VARIANTS,
                        MWS_VARIANTS,
                        TCEstimate,
                        estimate_all,
                        estimator_log_weights,
                        log_qz_given_x,
                        minibatch_tc,
                        mss,
                        mss_log_weights,
                        mws,
)
from .synthetic import LatentSample, figure2_latents, shutdown_latents

__all__ = ["TCEstimate", "log_qz_given_x", "mss_log_weights", "estimator_log_weights", "minibatch_tc", "mws", "mss",
           "estimate_all", "MSS_VARIANTS", "MWS_VARIANTS", "ESTIMATORS", "isolated_point_tc", "weight_signature",
           "density_ratio_tc", "permute_dims", "DensityRatioResult", "density_ratio_estimate", "knn_tc",
           "knn_entropy", "LatentSample", "figure2_latents", "shutdown_latents"]
