"""The ``--demo`` config: the repository's sample in ``data/`` with sensible batch settings.

The sample (``sample.parquet``: hourly ``trips`` and ``drivers_online`` per
borough, tidy ``ds, borough, metric, y``, plus ``weather.csv``) lives in the repository's
``data/`` folder. When the package is installed elsewhere and ``data/`` is not
beside it, the same sample is generated (seeded, so identical) into a
temporary folder with :mod:`juno_forecast.sample`.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path

from .config import BatchConfig, DetectConfig, EngineConfig, SourceConfig

REPO_DATA = Path(__file__).resolve().parents[2] / "data"
SAMPLE = "sample.parquet"
WEATHER = "weather.csv"
#: the demo keeps the run short: six weeks of history, two days ahead
DEMO_HISTORY = "42D"
DEMO_HORIZON = "48h"


def sample_folder() -> Path:
    """The folder holding the sample: the repository's ``data/``, else a generated copy.

    The generated copy lives in ``<tmp>/juno-sample-<version>/`` (written to a
    fresh folder, then renamed, so a concurrent or killed run never sees half of it)
    and is reused by later runs.
    """
    if (REPO_DATA / SAMPLE).is_file():
        return REPO_DATA
    from .. import __version__
    from ..sample import write_sample

    target = Path(tempfile.gettempdir()) / f"juno-sample-{__version__}"
    if (target / SAMPLE).is_file():
        return target
    staging = Path(tempfile.mkdtemp(prefix="juno-sample-", dir=target.parent))
    write_sample(staging)
    try:
        staging.rename(target)
    except OSError:  # another run generated it first
        shutil.rmtree(staging, ignore_errors=True)
    return target


def demo_config(folder: str | Path | None = None) -> BatchConfig:
    """The batch config ``--demo`` runs: the sample's metrics by borough, shipped calendar."""
    folder = Path(folder) if folder is not None else sample_folder()
    sources = (SourceConfig(path=str(folder / SAMPLE), by=("borough",), freq="h"),)
    weather = folder / WEATHER
    cfg = BatchConfig(
        data=sources,
        horizon=DEMO_HORIZON,
        history=DEMO_HISTORY,
        weather=str(weather) if weather.is_file() else None,
        detect=DetectConfig(lookback="1D", level=0.95),
        engine=EngineConfig(name="local", workers=2),
        source="<demo>",
    )
    settings = json.dumps(cfg.as_dict(), sort_keys=True).encode("utf-8")
    return replace(cfg, digest=hashlib.sha256(settings).hexdigest())
