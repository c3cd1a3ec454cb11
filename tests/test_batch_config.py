"""The nightly config: safe YAML, every mistake reported at once with its line (exit 2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from juno_forecast.batch.config import load_config
from juno_forecast.cli import main
from juno_forecast.errors import ConfigError

BAD = """\
data:
  - path: trips.csv
    by: borough
    freq: hourly
  - path: missing.csv
    colour: red
horizon: two weeks
model: auto
detect: {lookback: 1D, level: 95}
engine:
  name: spark
  workers: 0
bogus: 1
"""


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    (tmp_path / "trips.csv").write_text("ds,borough,metric,y\n")
    return tmp_path


def test_every_mistake_is_reported_with_its_line(folder: Path) -> None:
    cfg = folder / "nightly.yaml"
    cfg.write_text(BAD)
    with pytest.raises(ConfigError) as info:
        load_config(cfg)
    errors = info.value.errors
    expected = [
        (4, "data[0].freq", '"hourly"'),
        (5, "data[1].path", '"missing.csv"'),
        (6, "data[1].colour", 'unknown key "colour"'),
        (7, "horizon", '"two weeks"'),
        (9, "detect.level", "95"),
        (11, "engine.name", '"spark"'),
        (12, "engine.workers", "0"),
        (13, "bogus", 'unknown key "bogus"'),
    ]
    assert len(errors) == len(expected)
    for msg, (line, field, got) in zip(errors, expected, strict=True):
        assert msg.startswith(f"{cfg}:{line}: {field}: expected ")
        assert msg.endswith(f"got {got}")


def test_cli_prints_all_errors_and_exits_2(folder: Path, capsys: pytest.CaptureFixture) -> None:
    cfg = folder / "nightly.yaml"
    cfg.write_text(BAD)
    with pytest.raises(SystemExit) as info:
        main(["nightly", "--config", str(cfg), "--out", str(folder / "runs")])
    assert info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 8 and all(line.startswith(f"error: {cfg}:") for line in err)
    assert "Traceback" not in "".join(err)
    assert not (folder / "runs").exists()


def test_object_tags_are_refused_not_run(folder: Path) -> None:
    marker = folder / "pwned"
    cfg = folder / "evil.yaml"
    cfg.write_text(f'data: !!python/object/apply:os.system ["touch {marker}"]\n')
    with pytest.raises(ConfigError) as info:
        load_config(cfg)
    assert "!!python/object/apply:os.system" in info.value.errors[0]
    assert info.value.errors[0].startswith(f"{cfg}:1: data: expected ")
    assert not marker.exists()


def test_valid_config_resolves_paths_and_defaults(folder: Path) -> None:
    (folder / "sub").mkdir()
    cfg = folder / "sub" / "nightly.yaml"
    cfg.write_text(
        "data:\n  - path: ../trips.csv\n    by: [borough]\n    freq: h\n"
        "horizon: 48h\nengine: {name: dask, scheduler: 'tcp://10.0.0.1:8786'}\n"
        "calendar: none\nprometheus: {hours: 24}\n"
    )
    c = load_config(cfg)
    assert c.data[0].path == str((folder / "trips.csv").resolve())
    assert c.data[0].by == ("borough",) and c.data[0].agg == "sum"
    assert (c.horizon, c.calendar, c.prom_hours) == ("48h", "none", 24)
    assert (c.engine.name, c.engine.scheduler, c.engine.workers) == (
        "dask",
        "tcp://10.0.0.1:8786",
        2,
    )
    assert c.detect.lookback == "1D" and c.detect.level == 0.95
    assert len(c.digest) == 64
    # flags override the config's engine
    assert c.with_engine("local", 3).engine.workers == 3


def test_dask_without_scheduler_is_an_error(folder: Path) -> None:
    cfg = folder / "nightly.yaml"
    cfg.write_text("data:\n  - path: trips.csv\nengine:\n  name: dask\n")
    with pytest.raises(ConfigError) as info:
        load_config(cfg)
    assert info.value.errors == [
        f"{cfg}:4: engine.scheduler: expected an address for engine dask, got nothing"
    ]


def test_yaml_syntax_error_names_the_line(folder: Path) -> None:
    cfg = folder / "nightly.yaml"
    cfg.write_text("data:\n  - path: trips.csv\n  horizon: [14D\n")
    with pytest.raises(ConfigError) as info:
        load_config(cfg)
    assert info.value.errors[0].startswith(f"{cfg}:")
    assert "expected valid YAML" in info.value.errors[0]


def test_alias_bomb_in_config_is_a_config_error(
    folder: Path, capsys: pytest.CaptureFixture
) -> None:
    cfg = folder / "nightly.yaml"
    bomb = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    bomb += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    cfg.write_text("data:\n  - path: trips.csv\n" + "\n".join(bomb) + "\n")
    with pytest.raises(ConfigError) as info:
        load_config(cfg)
    assert info.value.errors == [
        f"{cfg}:7: (file): expected aliases copying at most 100000 values in all, "
        "got 101218 by *a3 (nested aliases multiply)"
    ]
    with pytest.raises(SystemExit) as code:
        main(["nightly", "--config", str(cfg), "--out", str(folder / "runs")])
    assert code.value.code == 2
    assert capsys.readouterr().err.strip().splitlines() == [f"error: {info.value.errors[0]}"]
    assert not (folder / "runs").exists()


def test_self_referencing_alias_in_config_is_one_line(folder: Path) -> None:
    cfg = folder / "nightly.yaml"
    cfg.write_text("data: &d\n  - path: trips.csv\n    by: *d\n")
    with pytest.raises(ConfigError) as info:
        load_config(cfg)
    assert info.value.errors == [
        f"{cfg}:3: (file): expected an alias of a finished anchor, "
        "got the alias *d inside its own anchor &d (a self-reference)"
    ]


def test_config_over_the_size_cap_is_refused(folder: Path) -> None:
    from juno_forecast.calendar.yamlio import MAX_BYTES

    cfg = folder / "nightly.yaml"
    cfg.write_bytes(b"#" * (MAX_BYTES + 10))
    with pytest.raises(ConfigError) as info:
        load_config(cfg)
    assert info.value.errors == [
        f"{cfg}:1: (file): expected at most {MAX_BYTES} bytes of YAML, got {MAX_BYTES + 10}"
    ]


def test_a_horizon_past_400_days_is_refused(folder: Path) -> None:
    cfg = folder / "nightly.yaml"
    cfg.write_text("data:\n  - path: trips.csv\nhorizon: 99999999D\n")
    with pytest.raises(ConfigError) as info:
        load_config(cfg)
    assert info.value.errors == [
        f"{cfg}:3: horizon: expected a positive duration of at most 400D such as 14D or 48h, "
        'got "99999999D"'
    ]
