"""Fixtures for the ticket-router example: the real BANKING77 data and the trained model."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ticket_router.data import Banking77, load_banking77
from ticket_router.evals import hold_out
from ticket_router.model import IntentClassifier

ROOT = Path(__file__).resolve().parents[3]
SHARED = Path(os.environ.get("WARDEN_SHARED_DIR") or ROOT.parent / "shared")
"""The shared material: beside the repository, or where ``WARDEN_SHARED_DIR`` says
(``.ci/run`` sets it when the checkout is elsewhere)."""
DATA = SHARED / "data" / "banking77"
MODELS = ROOT / ".warden" / "models"


@pytest.fixture(scope="session")
def banking77() -> Banking77:
    """The dataset (these tests skip, saying why, when it is not on the machine)."""
    if not (DATA / "test.csv").is_file():
        pytest.skip(f"BANKING77 not found at {DATA} (set WARDEN_SHARED_DIR)")
    return load_banking77(DATA)


@pytest.fixture(scope="session")
def model(banking77: Banking77) -> IntentClassifier:
    """The demo's classifier (trained once, cached under .warden/models like the demo's)."""
    texts, labels, _ = hold_out(banking77.train_texts, banking77.train_labels)
    return IntentClassifier.trained(
        texts, labels, data_sha256=banking77.train_sha256, cache_dir=MODELS
    )
