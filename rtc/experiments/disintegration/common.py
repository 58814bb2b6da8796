"""What every stage of the disintegration analysis shares: value limits, model groups, the claims, and the
integer check of its arguments (``ValueError`` naming the argument, as the stages' other checks raise)."""
from __future__ import annotations

from rtc._validate import check_int
from rtc.claims import claim_specs

__all__ = ["int_arg", "MAX_VALUES", "MODES", "FACTORISED_MODELS", "DIP_MODELS", "MAX_GRID", "BINS",
           "FACTOR_COLUMNS", "NO_RUN", "CLAIMS", "QUANTITIES", "DESCRIPTIVE_RUNS"]

MAX_VALUES = 20  # the reference MIG's bin count: up to this many equispaced values per latent bin losslessly
MODES = ("split", "dependent", "rotation")
FACTORISED_MODELS = ("factor_vae", "rtc_vae", "beta_tcvae")  # models that penalise the total correlation
DIP_MODELS = ("dip_vae_i", "dip_vae_ii")
MAX_GRID = 2_000_000  # the most points a controlled code's full factorial grid may have
BINS = 20  # the reference MIG's histogram bins, as everywhere in this package

# The columns of an analyse_runs table that the claims read.
FACTOR_COLUMNS = ["run", "model", "dataset", "seed", "score", "factor", "factor_index", "captured", "gap",
                  "disintegrated", "control"]

NO_RUN = "inconclusive: no such run in this profile"

# name → (the claim, the quantity whose 90 % interval judges it, the threshold's field of rtc.claims.Thresholds,
# the side of the threshold the claim is on): the claims registry's disintegration entries (rtc/claims/registry.toml),
# in its order — the rows of the verdict table.
CLAIMS = {name: (s.claim, s.quantity, s.threshold, s.side) for name, s in claim_specs("disintegration").items()}
# Where the paper states each claim, and its quantity: the first columns of rtc.claims.verdict_table.
QUANTITIES = {name: (s.place, s.quantity) for name, s in claim_specs("disintegration").items()}
# A rank correlation over fewer runs than this is descriptive (said with its verdict).
DESCRIPTIVE_RUNS = 30


def int_arg(name: str, v, lo: int, hi: int | None = None) -> int:
    """``v`` as an ``int`` in [``lo``, ``hi``] (no upper bound when ``hi`` is None): ``rtc._validate.check_int``
    (Python or NumPy integers, never bools), its ``TypeError`` raised as a ``ValueError``."""
    try:
        v = check_int(v, name, minimum=lo)
    except TypeError as e:
        raise ValueError(str(e)) from None
    if hi is not None and v > hi:
        raise ValueError(f"{name} must be in [{lo}, {hi}], got {v!r}")
    return v
