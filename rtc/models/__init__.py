"""VAE models of the paper's comparison: Table 2 networks, objectives, η schedule, training, encoding.

- :mod:`rtc.models.networks` — encoder/decoder (Table 2), :class:`VAE`.
- :mod:`rtc.models.objectives` — composable loss terms and the named models.
- :mod:`rtc.models.eta` — RTC-VAE's adaptive η.
- :mod:`rtc.models.train` — the training loop (checkpoints, exact resume, results cache).
- :mod:`rtc.models.encode` — µ, σ, z of N images; TC_mean / TC_sample and active dimensions.
"""
from .encode import Encoding, encode, encode_images, representation_stats
from .eta import EtaSchedule
from .networks import VAE, Decoder, Encoder, VAEOutput, reparameterize
from .objectives import MODELS, TC_ESTIMATORS, Objective, ObjectiveError
from .train import TrainConfig, TrainingDiverged, TrainResult, load_model, train

__all__ = ["VAE", "Encoder", "Decoder", "VAEOutput", "reparameterize", "MODELS", "TC_ESTIMATORS", "Objective",
           "ObjectiveError", "EtaSchedule", "TrainConfig", "TrainResult", "TrainingDiverged", "train", "load_model",
           "Encoding", "encode", "encode_images", "representation_stats"]
