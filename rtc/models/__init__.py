"""VAE models of the paper's comparison: Table 2 networks, objectives, η schedule, training, encoding.

- :mod:`rtc.models.networks` — encoder/decoder (Table 2), :class:`VAE`.
- :mod:`rtc.models.objectives` — composable loss terms and the named models.
- :mod:`rtc.models.eta` — RTC-VAE's adaptive η.
- :mod:`rtc.models.config` — :class:`TrainConfig`, everything that determines a run.
- :mod:`rtc.models.runfiles` — a run's folder (one trajectory, whatever its length): its cache key, its files
  (``FINAL``, ``CHECKPOINT``, ``SNAPSHOTS``, ``CONFIG``, :func:`snapshot_path`), their versioned contents
  (``RunState``) and the one reader (:func:`read_run_file`).
- :mod:`rtc.models.train` — the training loop (:func:`rtc.models.train.train`, ``vae_step``, ``discriminator_step``;
  checkpoints, exact resume, results cache safe for concurrent and read-only use).
- :mod:`rtc.models.throughput` — images/s of a training step.
- :mod:`rtc.models.encoding` — µ, σ, z of N images; TC_mean / TC_sample and active dimensions.
"""
from .config import TrainConfig, default_device
from .encoding import Encoding, encode, encode_images, representation_stats
from .eta import EtaSchedule
from .networks import PRECISIONS, VAE, Decoder, Encoder, VAEOutput, native_bf16, reparameterize
from .objectives import MODELS, REVISED_MODELS, TC_ESTIMATORS, ModelSpec, Objective, ObjectiveError
from .runfiles import (
    CHECKPOINT,
    CONFIG,
    FINAL,
    SNAPSHOTS,
    CheckpointError,
    RunState,
    StepNotKept,
    TrainResult,
    code_version,
    load_model,
    read_run_file,
    run_dir_for,
    snapshot_path,
)
from .throughput import training_step_rate

# The training function is rtc.models.train.train: rtc.models.train is its module (not shadowed by the function).
from .train import Trainer, TrainingDiverged, build, discriminator_step, vae_step

__all__ = ["VAE", "Encoder", "Decoder", "VAEOutput", "reparameterize", "PRECISIONS", "native_bf16", "MODELS",
           "REVISED_MODELS", "ModelSpec", "TC_ESTIMATORS", "Objective", "ObjectiveError", "EtaSchedule",
           "TrainConfig", "TrainResult", "TrainingDiverged", "CheckpointError", "Trainer", "build",
           "vae_step", "discriminator_step", "load_model", "run_dir_for", "RunState", "FINAL", "CHECKPOINT",
           "SNAPSHOTS", "CONFIG", "snapshot_path", "training_step_rate", "default_device", "code_version",
           "read_run_file", "StepNotKept", "Encoding", "encode", "encode_images", "representation_stats"]
