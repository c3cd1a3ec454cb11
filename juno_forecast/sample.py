"""Seeded generator of realistic NYC-like ride-hailing history (the sample in ``data/``).

``generate_sample()`` returns three tables:

* ``sample``: hourly ``trips`` and ``drivers_online`` per borough, tidy columns
  ``ds, borough, metric, y`` (``ds`` naive New York wall-clock, 24 hours a day,
  the grid :func:`juno_forecast.data.load_data` works on);
* ``weather``: daily observed weather, NOAA GHCN-Daily style
  ``DATE, PRCP, SNOW, SNWD, TMAX, TMIN`` (inches, degrees F) over the whole period;
* ``incidents``: the ground truth of the unexplained incidents hidden in ``sample``.

What shapes the mean of every hour (all multiplicative):

* daily and weekly cycles: weekday rush hours, Friday/Saturday late nights,
  slow Sunday mornings; an airport-like profile for EWR;
* a growth trend (trips +6 %/year, drivers +4 %/year) and a mild yearly cycle;
* US federal holidays: the day takes a Sunday-like profile (no commuting);
  minor holidays (MLK, Presidents', Juneteenth, Columbus, Veterans) only half so;
* Ramadan (dates from the Hijri calendar via ``hijridate``): drivers online dip
  by 20 % around iftar, from the hour holding sunset-1 to the one holding sunset+2
  (sunset from ``astral``, as the shipped calendar places the evening: 16-19 in
  February, 18-21 after the clocks change);
* snowstorms (the days of ``weather`` with SNOW >= 4 in): trips drop 30-50 %,
  drivers online a bit less, the next day recovers partly; light snow -5 %;
  heavy rain (PRCP >= 1 in) -8 % trips;
* congestion pricing from 2025-01-05: a lasting -8 % step in Manhattan trips;
* incidents (an app outage, a driver log-in failure, a payment outage), known to
  no calendar: the anomalies a detector should flag as unexplained.

Counts are negative-binomial around the mean with a shared day-level factor,
all drawn from one ``numpy.random.Generator(seed)``: the same seed gives the
same tables. Regenerate the repo's sample with
``python -m juno_forecast.sample --out data/``.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

BOROUGHS = ("Manhattan", "Brooklyn", "Queens", "Bronx", "Staten Island", "EWR")
#: mean trips per day and mean drivers online per hour at the start, per borough
DAILY_TRIPS = {
    "Manhattan": 200_000,
    "Brooklyn": 110_000,
    "Queens": 85_000,
    "Bronx": 55_000,
    "Staten Island": 5_000,
    "EWR": 1_500,
}
DRIVERS = {
    "Manhattan": 6_000,
    "Brooklyn": 3_600,
    "Queens": 2_900,
    "Bronx": 1_900,
    "Staten Island": 220,
    "EWR": 90,
}
START, END = "2024-07-01", "2026-06-30"
CONGESTION_PRICING = pd.Timestamp("2025-01-05")
TOLL_EFFECT = -0.08
#: iftar and the evening prayers, per day (the shipped calendar's Ramadan ``hours``)
RAMADAN_HOURS = ("sunset-1", "sunset+2")
RAMADAN_EFFECT = -0.20
TRIPS_GROWTH, DRIVERS_GROWTH = 0.06, 0.04
#: negative-binomial n per metric (variance = mu + mu^2 / n): drivers online are smoother
DISPERSION = {"trips": 300.0, "drivers_online": 3000.0}

# Relative demand by hour of day (Mon-Thu, Fri, Sat, Sun, airport); normalised later.
_WEEKDAY = [0.35, 0.22, 0.15, 0.11, 0.12, 0.25, 0.55, 0.95, 1.20, 1.05, 0.90, 0.90,
            0.95, 0.95, 1.00, 1.10, 1.20, 1.35, 1.45, 1.35, 1.20, 1.10, 0.95, 0.65]  # fmt: skip
_FRIDAY = _WEEKDAY[:18] + [1.50, 1.50, 1.45, 1.40, 1.40, 1.30]
_SATURDAY = [1.05, 0.95, 0.80, 0.55, 0.30, 0.20, 0.22, 0.30, 0.45, 0.65, 0.85, 1.00,
             1.10, 1.15, 1.15, 1.15, 1.15, 1.20, 1.30, 1.35, 1.35, 1.40, 1.40, 1.30]  # fmt: skip
_SUNDAY = [1.15, 1.00, 0.85, 0.60, 0.35, 0.22, 0.20, 0.25, 0.38, 0.55, 0.75, 0.90,
           1.00, 1.05, 1.05, 1.05, 1.05, 1.05, 1.05, 1.00, 0.90, 0.80, 0.65, 0.45]  # fmt: skip
_AIRPORT = [0.30, 0.15, 0.10, 0.10, 0.35, 0.90, 1.30, 1.40, 1.20, 1.00, 1.00, 1.05,
            1.10, 1.15, 1.25, 1.35, 1.40, 1.40, 1.35, 1.30, 1.25, 1.10, 0.90, 0.60]  # fmt: skip
MAJOR_HOLIDAYS = {"New Year's Day": 0.85, "Memorial Day": 0.85, "Independence Day": 0.8,
                  "Labor Day": 0.85, "Thanksgiving Day": 0.65, "Christmas Day": 0.6}  # fmt: skip

# Unexplained incidents: (name, borough, metric, start, end inclusive hour, relative effect)
INCIDENTS = (
    ("app outage", "Brooklyn", "trips", "2025-08-14 17:00", "2025-08-14 20:00", -0.60),
    (
        "driver log-in failure",
        "Queens",
        "drivers_online",
        "2025-10-07 06:00",
        "2025-10-07 11:00",
        -0.40,
    ),
    ("payment outage", "Manhattan", "trips", "2026-06-30 15:00", "2026-06-30 18:00", -0.45),
)
# Snowstorms: (date, snowfall inches); trips drop 30-50 % with the amount.
SNOWSTORMS = (("2025-01-21", 5.0), ("2025-02-08", 7.5), ("2026-01-25", 11.0), ("2026-02-22", 6.0))


def generate_sample(
    start: str = START,
    end: str = END,
    seed: int = 0,
    boroughs: Sequence[str] = BOROUGHS,
) -> dict[str, pd.DataFrame]:
    """Generate ``{"sample", "weather", "incidents"}`` tables (see the module docstring).

    ``start``/``end`` are inclusive days; ``boroughs`` any of :data:`BOROUGHS`.
    Deterministic for a given ``seed``.
    """
    boroughs = (boroughs,) if isinstance(boroughs, str) else tuple(boroughs)
    unknown = [b for b in boroughs if b not in DAILY_TRIPS]
    if unknown:
        raise ValueError(f"unknown borough {unknown[0]!r}; choose from {', '.join(BOROUGHS)}")
    rng = np.random.default_rng(seed)
    days = pd.date_range(start, end, freq="D")
    if len(days) == 0:
        raise ValueError(f"empty period {start} to {end}")
    hours = pd.date_range(days[0], days[-1] + pd.Timedelta(hours=23), freq="h")
    weather = _weather(days, rng)
    day_effects = _day_effects(days, weather)
    shared_noise = np.exp(rng.normal(0.0, 0.025, len(days)))
    parts = []
    for borough in boroughs:
        trips_mu, drivers_mu = _means(borough, hours, days, day_effects, shared_noise, rng)
        for metric, mu in (("trips", trips_mu), ("drivers_online", drivers_mu)):
            mu = _apply_incidents(mu, hours, borough, metric)
            parts.append(_tidy(hours, borough, metric, _draw(mu, DISPERSION[metric], rng)))
    sample = pd.concat(parts, ignore_index=True)
    return {"sample": sample, "weather": weather, "incidents": _incidents_table(days)}


def iftar_hours(hours: pd.DatetimeIndex) -> np.ndarray:
    """True at the hours of ``hours`` in a Ramadan evening (``RAMADAN_HOURS`` on that day)."""
    from .calendar.sun import HourMark, SunHours

    span = SunHours(*(HourMark.read(mark) for mark in RAMADAN_HOURS))
    day_of = hours.normalize()
    on = np.zeros(len(hours), dtype=bool)
    for day in ramadan_days(hours[0], hours[-1]):
        on |= np.asarray(day_of == day) & np.isin(hours.hour, span.on(day.date()))
    return on


def ramadan_days(start: str | pd.Timestamp, end: str | pd.Timestamp) -> pd.DatetimeIndex:
    """Days of Ramadan (Hijri month 9) between ``start`` and ``end``, from ``hijridate``."""
    from hijridate import Gregorian, Hijri

    first, last = pd.Timestamp(start), pd.Timestamp(end)
    out: list[pd.Timestamp] = []
    for year in range(
        Gregorian.fromdate(first.date()).to_hijri().year - 1,
        Gregorian.fromdate(last.date()).to_hijri().year + 1,
    ):
        begin = pd.Timestamp(Hijri(year, 9, 1).to_gregorian())
        stop = pd.Timestamp(Hijri(year, 10, 1).to_gregorian()) - pd.Timedelta(days=1)
        out += list(pd.date_range(max(begin, first), min(stop, last), freq="D"))
    return pd.DatetimeIndex(sorted(set(out)))


def holiday_factors(days: pd.DatetimeIndex) -> pd.DataFrame:
    """Per day: ``commuting`` (share of the weekday profile kept: 1 ordinary, 0.5 minor
    holiday, 0 major holiday) and ``level`` (overall demand factor on major holidays)."""
    import holidays

    out = pd.DataFrame({"commuting": 1.0, "level": 1.0}, index=days)
    for day, name in holidays.country_holidays("US", years=sorted(set(days.year))).items():
        ts = pd.Timestamp(day)
        if ts not in out.index:
            continue
        major = [factor for h, factor in MAJOR_HOLIDAYS.items() if name.startswith(h)]
        out.loc[ts, "commuting"] = 0.0 if major else 0.5
        out.loc[ts, "level"] = major[0] if major else 1.0
    return out


# ---------------------------------------------------------------- weather


def _weather(days: pd.DatetimeIndex, rng: np.random.Generator) -> pd.DataFrame:
    """Daily NOAA GHCN-Daily style weather with the snowstorms at fixed dates."""
    doy = days.day_of_year.to_numpy()
    seasonal = -np.cos(2 * np.pi * (doy - 20) / 365.25)  # -1 around Jan 20, +1 in July
    tmax = np.round(62 + 22 * seasonal + rng.normal(0, 5, len(days)))
    tmin = np.round(tmax - 11 - np.abs(rng.normal(0, 3, len(days))))
    wet = rng.random(len(days)) < 0.30
    prcp = np.where(wet, np.round(rng.exponential(0.35, len(days)), 2), 0.0)
    snow = np.zeros(len(days))
    light = wet & (tmax <= 36) & (prcp > 0.02)
    snow[light] = np.round(np.minimum(prcp[light] * 10, 3.5), 1)
    for day, inches in SNOWSTORMS:
        i = days.get_indexer([pd.Timestamp(day)])[0]
        if i >= 0:
            snow[i], prcp[i] = inches, round(inches / 10, 2)
            tmax[i], tmin[i] = min(tmax[i], 31.0), min(tmin[i], 22.0)
    snwd = _snow_depth(snow, tmax)
    return pd.DataFrame({
        "DATE": days.strftime("%Y-%m-%d"),
        "PRCP": prcp, "SNOW": snow, "SNWD": snwd, "TMAX": tmax.astype(int), "TMIN": tmin.astype(int),
    })  # fmt: skip


def _snow_depth(snow: np.ndarray, tmax: np.ndarray) -> np.ndarray:
    """Snow on the ground: new snow accumulates, melts faster when warm."""
    depth = np.zeros(len(snow))
    level = 0.0
    for i, (new, warm) in enumerate(zip(snow, tmax, strict=True)):
        melt = 0.15 + max(warm - 32.0, 0.0) * 0.04
        level = max(level * (1 - min(melt, 1.0)) + new, 0.0)
        depth[i] = round(level) if level >= 0.5 else 0.0
    return depth


# ---------------------------------------------------------------- means


def _day_effects(days: pd.DatetimeIndex, weather: pd.DataFrame) -> pd.DataFrame:
    """Per-day multipliers: snow on trips and drivers, and commuting left on holidays."""
    snow = weather["SNOW"].to_numpy()
    storm = snow >= 4
    drop = np.where(storm, np.clip(0.30 + 0.025 * (snow - 4), 0.30, 0.50), 0.0)
    after = np.concatenate([[0.0], drop[:-1]]) / 3  # partial recovery the next day
    light = (snow > 0) & ~storm
    heavy_rain = (weather["PRCP"].to_numpy() >= 1.0) & (snow == 0)
    trips = (1 - drop) * (1 - after) * np.where(light, 0.95, 1.0) * np.where(heavy_rain, 0.92, 1.0)
    drivers = (1 - 0.8 * drop) * (1 - 0.8 * after) * np.where(light | heavy_rain, 0.97, 1.0)
    hol = holiday_factors(days)
    return pd.DataFrame(
        {
            "trips": trips,
            "drivers": drivers,
            "commuting": hol["commuting"].to_numpy(),
            "level": hol["level"].to_numpy(),
        },
        index=days,
    )


def _profiles(borough: str) -> np.ndarray:
    """(7, 24) relative demand by weekday (Mon=0) and hour, mean 1 over the week."""
    if borough == "EWR":
        prof = np.tile(_AIRPORT, (7, 1)).astype(float)
        prof[5:] *= 0.9
    else:
        prof = np.array([_WEEKDAY] * 4 + [_FRIDAY, _SATURDAY, _SUNDAY], dtype=float)
        prof[4, :5] *= 1.1  # Thursday night out
        prof[0, :5] *= 0.8  # Sunday night is quiet
    return prof / prof.mean()


def _means(
    borough: str,
    hours: pd.DatetimeIndex,
    days: pd.DatetimeIndex,
    effects: pd.DataFrame,
    shared_noise: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Expected trips and drivers online per hour for one borough."""
    prof = _profiles(borough)
    day_idx = (hours.normalize() - days[0]).days.to_numpy()
    hour, dow = hours.hour.to_numpy(), hours.day_of_week.to_numpy()
    commuting = effects["commuting"].to_numpy()[day_idx]
    shape = commuting * prof[dow, hour] + (1 - commuting) * prof[6, hour]
    years = (hours - hours[0]).total_seconds().to_numpy() / (365.25 * 86400)
    yearly = 1 + 0.05 * np.cos(2 * np.pi * (hours.day_of_year.to_numpy() - 305) / 365.25)
    noise = shared_noise * np.exp(rng.normal(0.0, 0.015, len(days)))
    day_level = (effects["level"].to_numpy() * noise)[day_idx]
    trips = DAILY_TRIPS[borough] / 24 * shape * yearly * (1 + TRIPS_GROWTH) ** years * day_level
    trips = trips * effects["trips"].to_numpy()[day_idx]
    if borough == "Manhattan":
        trips = trips * np.where(hours >= CONGESTION_PRICING, 1 + TOLL_EFFECT, 1.0)
    drivers_shape = 0.45 + 0.55 * shape
    drivers = DRIVERS[borough] * drivers_shape * (1 + DRIVERS_GROWTH) ** years * day_level
    drivers = drivers * effects["drivers"].to_numpy()[day_idx]
    drivers = drivers * np.where(iftar_hours(hours), 1 + RAMADAN_EFFECT, 1.0)
    return trips, drivers


def _apply_incidents(
    mu: np.ndarray, hours: pd.DatetimeIndex, borough: str, metric: str
) -> np.ndarray:
    """Lower the mean during the hidden incidents of this series."""
    mu = mu.copy()
    for _name, b, m, start, end, effect in INCIDENTS:
        if b == borough and m == metric:
            mu[(hours >= pd.Timestamp(start)) & (hours <= pd.Timestamp(end))] *= 1 + effect
    return mu


def _draw(mu: np.ndarray, n: float, rng: np.random.Generator) -> np.ndarray:
    """Negative-binomial counts with mean ``mu`` and dispersion ``n``."""
    mu = np.maximum(mu, 1e-9)
    return rng.negative_binomial(n, n / (n + mu)).astype(np.int64)


def _tidy(hours: pd.DatetimeIndex, borough: str, metric: str, y: np.ndarray) -> pd.DataFrame:
    # nanoseconds on every pandas (3 would write microseconds): the same file as the shipped one
    ds = hours.as_unit("ns")
    return pd.DataFrame({"ds": ds, "borough": borough, "metric": metric, "y": y})


def _incidents_table(days: pd.DatetimeIndex) -> pd.DataFrame:
    """The incidents inside the period, as ground truth."""
    rows = [
        {"name": n, "borough": b, "metric": m, "start": s, "end": e, "effect": eff}
        for n, b, m, s, e, eff in INCIDENTS
        if days[0] <= pd.Timestamp(s) <= days[-1] + pd.Timedelta(hours=23)
    ]
    return pd.DataFrame(rows, columns=["name", "borough", "metric", "start", "end", "effect"])


# ---------------------------------------------------------------- writing


def write_sample(out: str | Path, seed: int = 0, start: str = START, end: str = END) -> list[Path]:
    """Write ``sample.parquet``, ``weather.csv`` and ``incidents.csv`` under ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    tables = generate_sample(start=start, end=end, seed=seed)
    paths = [out / "sample.parquet", out / "weather.csv", out / "incidents.csv"]
    tables["sample"].to_parquet(paths[0], index=False, compression="zstd")
    tables["weather"].to_csv(paths[1], index=False)
    tables["incidents"].to_csv(paths[2], index=False)
    return paths


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m juno_forecast.sample --out data/ [--seed 0]``."""
    parser = argparse.ArgumentParser(description="Write the generated NYC-like sample.")
    parser.add_argument("--out", default="data", help="folder to write into (default: data)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--start", default=START)
    parser.add_argument("--end", default=END)
    args = parser.parse_args(argv)
    for path in write_sample(args.out, seed=args.seed, start=args.start, end=args.end):
        print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


__all__ = ["generate_sample", "holiday_factors", "iftar_hours", "ramadan_days", "write_sample"]
