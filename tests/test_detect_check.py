"""The release check never passes a series it could not judge."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from juno_forecast.cli import main
from juno_forecast.detect import check


def two_zones(weeks: int = 5, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ds = pd.date_range("2015-10-05", periods=weeks * 7 * 24, freq="h")
    shape = 1.0 + 0.8 * np.sin((ds.hour.to_numpy() - 9) / 24 * 2 * np.pi)
    return pd.concat(
        [
            pd.DataFrame({"zone": z, "metric": "trips", "ds": ds, "y": rng.poisson(lam * shape)})
            for z, lam in (("Manhattan", 400), ("Bronx", 120))
        ],
        ignore_index=True,
    ).astype({"y": float})


def test_a_series_dropped_over_one_bad_value_fails_the_check(tmp_path, capsys):
    df = two_zones()
    df.loc[(df["zone"] == "Bronx") & (df["ds"] == "2015-10-12 03:00"), "y"] = np.inf
    path = tmp_path / "trips.csv"
    df.to_csv(path, index=False)
    res = check(str(path), "2015-11-07", by=["zone"], calendar="none")
    verdicts = res.verdicts.set_index("series")["verdict"]
    assert verdicts["metric=trips zone=Manhattan"] == "ok"
    assert verdicts["metric=trips zone=Bronx"] == "NOT CHECKED"
    assert res.exit_code == 1
    argv = ["check", str(path), "--by", "zone", "--since", "2015-11-07", "--calendar", "none"]
    with pytest.raises(SystemExit) as exc:
        main(argv)
    out = capsys.readouterr().out
    assert exc.value.code == 1
    bronx = next(line for line in out.splitlines() if "zone=Bronx" in line)
    assert bronx.startswith("NOT CHECKED") and "column 'y'" in bronx and "inf" in bronx
    with pytest.raises(SystemExit) as exc:
        main([*argv, "--format", "csv"])
    table = pd.read_csv(io.StringIO(capsys.readouterr().out), keep_default_na=False)
    assert exc.value.code == 1
    assert set(table["verdict"]) == {"ok", "NOT CHECKED"}  # the skipped series is in the table


def test_a_clean_release_passes(capsys):
    res = check(two_zones(), "2015-11-07", by=["zone"], calendar="none")
    assert res.exit_code == 0 and set(res.verdicts["verdict"]) == {"ok"}
