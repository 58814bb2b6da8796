"""Disentanglement metrics and representation diagnostics.

Modules: :mod:`~rtc.metrics.sampling` (inputs, codes sampled from a dataset),
:mod:`~rtc.metrics.mutual_info` (histogram MI), :mod:`~rtc.metrics.sap`, :mod:`~rtc.metrics.mig`
(reference and Chen et al. conventions), :mod:`~rtc.metrics.dci`, :mod:`~rtc.metrics.beta_vae`,
:mod:`~rtc.metrics.factor_vae`, :mod:`~rtc.metrics.modularity` (and explicitness),
:mod:`~rtc.metrics.diagnostics` (TC mean vs sample, R² / normalized MI matrices, factor
disintegration), :mod:`~rtc.metrics.evaluate` (everything in one call), :mod:`~rtc.metrics.plots`.

Array metrics take ``codes`` (N, L) and ``factors`` (N, F) integer grid indices; dataset metrics take
a dataset with the agreed interface and ``representation_fn(obs (n, C, 64, 64)) -> (n, L)``.
"""
from .beta_vae import BetaVAEResult, beta_vae_score
from .dci import DCIResult, dci, dci_from_importance
from .diagnostics import TCDiagnostics, disintegration, disintegration_index, tc_diagnostics
from .evaluate import ALL_METRICS, Evaluation, evaluate
from .factor_vae import FactorVAEResult, factor_vae_score, majority_vote_accuracy
from .mig import MIGResult, mig, mig_chen, mig_from_mi, normalized_mi_matrix
from .modularity import (
    ModularityResult,
    explicitness,
    explicitness_split,
    modularity,
    modularity_explicitness,
    modularity_from_mi,
)
from .mutual_info import discrete_entropy, discrete_mutual_info, histogram_discretize, mutual_info_matrix
from .sampling import MetricInputError, sample_codes, split_train_test
from .sap import SAPResult, r2_matrix, sap, top_two_gap

__all__ = [
    "ALL_METRICS", "BetaVAEResult", "DCIResult", "Evaluation", "FactorVAEResult", "MIGResult", "MetricInputError",
    "ModularityResult", "SAPResult", "TCDiagnostics", "beta_vae_score", "dci", "dci_from_importance",
    "discrete_entropy", "discrete_mutual_info", "disintegration", "disintegration_index", "evaluate",
    "explicitness", "explicitness_split", "factor_vae_score", "histogram_discretize", "majority_vote_accuracy",
    "mig", "mig_chen", "mig_from_mi", "modularity", "modularity_explicitness", "modularity_from_mi",
    "mutual_info_matrix", "normalized_mi_matrix", "r2_matrix", "sample_codes", "sap", "split_train_test",
    "tc_diagnostics", "top_two_gap",
]
