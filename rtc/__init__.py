"""rtc — total correlation of mean and sampled VAE representations (RTC-VAE), as a tested library.

Modules (one concept each):

- :mod:`rtc.gaussian` — Gaussian total correlation (Proposition 1), covariance validation.
- :mod:`rtc.mixture_tc` — TC of z = µ + heteroscedastic noise (Theorem 1's setting), numerically.
- :mod:`rtc.known_tc` — distributions with exactly known TC; Monte Carlo TC from exact densities.
- :mod:`rtc.discriminator` — FactorVAE discriminator and the density-ratio TC estimate.
- :mod:`rtc.estimators` — minibatch (MWS, MSS0, MSS1), kNN and density-ratio TC estimators.
- :mod:`rtc.data` — ground-truth datasets (procedural renderers, real-file loaders).
- :mod:`rtc.metrics` — disentanglement metrics and representation diagnostics.
- :mod:`rtc.models` — Table 2 networks, objectives (β-VAE … RTC-VAE), η schedule, training, encoding.
- :mod:`rtc.params` — parameter profiles for the book's chapters.
- :mod:`rtc.book` — the book runner (``python -m rtc.book``).
"""
__version__ = "0.1.0"
