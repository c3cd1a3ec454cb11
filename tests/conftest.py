"""Shared fixtures: where the real NYC data lives, and a skip when it is absent."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("JUNO_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The folder of real NYC ride data (../shared/data); skips the test where it is absent."""
    if not (SHARED_DATA / "uber_nyc_enriched.csv").exists():
        pytest.skip(f"real NYC data not found at {SHARED_DATA} (set JUNO_SHARED_DATA)")
    return SHARED_DATA
