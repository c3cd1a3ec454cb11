"""Flagged deviations (``detect``) and the release check (``check``).

How detection works, and why:

* **Expectation without look-ahead.** For every day of the range, a forecaster is fitted
  on the series' history *before that day* and predicts that day (``refit="1D"``; a
  longer ``refit`` reuses one fit for several days, still never seeing the days it
  predicts). Changing data after a day cannot change that day's expectation.
* **A normal-day baseline.** Detection asks "did the metric leave its normal range?",
  so the expectation is fitted *without* calendar events (the default model is the
  robust ``baseline``: a level-adjusted median of the same hour of the same weekday
  over the last 8 weeks, robust to a holiday or storm in them, with ranges calibrated
  per hour of the day because nights vary more than middays). The calendar is then
  used to *explain* what left the range: an incident is explained by the events whose
  days or window, hours and scope (metric, zone) overlap it. When the deviation is
  larger than the event's curated effect, ``note`` says so. ``expect`` on the other
  hand forecasts *with* the calendar: it is what a developer should see next week.
* **Incidents.** Points outside the band of the chosen ``level`` form runs per series
  (gaps of ``max_gap`` points inside the band are bridged); runs shorter than
  ``min_points`` are dropped unless extreme. Hourly, a *window test* also flags 3, 4 or
  6 hours in a row that are each inside their band but together clearly off (their
  summed standardised residuals beyond what the series' own calibration weeks show):
  a 35% drop for a few hours in a small zone, where counting noise hides any single
  hour. ``severity`` is the excess beyond the band (for an hour flagged only by its
  window: beyond the window's per-hour limit)
  summed over the run, in hours of the series' average volume ("4.5" = as much as 4.5
  ordinary hours missing or extra beyond the range), so it grows with size and duration
  and compares across series of different sizes.
* **The release check is finer inside its one range.** ``detect`` scans months, so its
  3-hour runs and window threshold (4.0) keep false alarms rare over thousands of
  windows. ``check`` asks about the one range since a release: there its window test
  also sums 2 hours (and 2 hours it flags are an incident), with a threshold that holds
  the chance of any false window in the range at ``1 - level`` (at 95%: 2.6 for 4 hours,
  3.0 for 8, 3.4 for a day, the scan's from 8 days on). ``check.release_sensitivity``
  says what differs, ``flagging.window_threshold`` computes the threshold.
* **Daylight saving.** Hours that do not exist or occur twice in New York wall-clock time
  are never flagged (the loader fills them), nor any hour from 1 to 8 am of those two
  days (the night's tail arrives an hour early or late); daily values of 23- and 25-hour days are
  compared with a band widened by the gained or lost hour when values are sums.

Modules: ``expectation`` (the rolling, look-ahead-free expectation), ``flagging`` (points
outside their band, the window test), ``incidents`` (runs of flagged points),
``explain`` (which events account for an incident), ``series`` (one series end to end),
``api`` (``detect``/``run_detection``) and ``check`` (the release check). The baseline
model itself is ``juno_forecast.models.baseline.RobustBaseline``.
"""

from __future__ import annotations

from ..models.baseline import RobustBaseline
from .api import detect, run_detection
from .check import (
    VERDICT_EXPLAINED,
    VERDICT_NOT_CHECKED,
    VERDICT_OK,
    VERDICT_PARTLY,
    VERDICT_UNEXPLAINED,
    CheckResult,
    check,
)
from .expectation import BAND_COLUMNS, make_expectation, rolling_expectation
from .explain import explain, in_scope, overlaps
from .flagging import flag_points, window_test
from .incidents import (
    EXPLANATION_ORDER,
    INCIDENT_COLUMNS,
    build_incidents,
    find_runs,
    not_explained,
    sort_incidents,
)
from .series import DetectionResult, SeriesDetection, detect_series

__all__ = [
    "BAND_COLUMNS",
    "EXPLANATION_ORDER",
    "INCIDENT_COLUMNS",
    "VERDICT_EXPLAINED",
    "VERDICT_NOT_CHECKED",
    "VERDICT_OK",
    "VERDICT_PARTLY",
    "VERDICT_UNEXPLAINED",
    "CheckResult",
    "DetectionResult",
    "RobustBaseline",
    "SeriesDetection",
    "build_incidents",
    "check",
    "detect",
    "detect_series",
    "explain",
    "find_runs",
    "flag_points",
    "in_scope",
    "make_expectation",
    "not_explained",
    "overlaps",
    "rolling_expectation",
    "run_detection",
    "sort_incidents",
    "window_test",
]
