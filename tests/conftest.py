import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Tests are CPU-bound and the machines have 2 cores; keep torch from oversubscribing them.
os.environ.setdefault("OMP_NUM_THREADS", "2")


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT
