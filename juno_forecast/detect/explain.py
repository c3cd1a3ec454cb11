"""Which calendar events account for an incident, measured against what each expects.

An event overlapping an incident explains it only when both hold:

* it is *in scope*: its metrics (after aliases) and zones include the series
  (``Calendar.occurrences(metric=..., keys=...)`` already keeps only those);
* its expected effect, *with its uncertainty*, holds the actual. The effect is the
  calendar's curated **prior** with its ``spread``, **updated by the event's earlier
  occurrences** in the series' history where there are some (each earlier day's actual
  against the same slot of the weeks before it; :func:`learned_effect`). An event
  with neither (no effect for the metric and no history) has no known direction and
  explains nothing. At hourly grain a day off (``hours_like: sunday``) has its hours'
  shape measured on the series' recent Sundays (:mod:`juno_forecast.dayoff`) instead of ``by_hours``.

The expected effects of the events on at the incident's points multiply; their
spreads add in quadrature, and so does the normal-day baseline's own uncertainty.
The outcome (column ``explanation``) is:

* ``explained``: the actual lies in that range;
* ``partly``: the events move the metric the right way, but the actual lies beyond
  (or short of) what they account for; ``note`` gives the excess in points and units;
* ``unexplained``: no event with a known effect, or the opposite direction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from ..calendar.records import default_spread
from ..core import index_key, memo, scope_occurrences
from ..dayoff import busy_days, day_profiles, days_off
from ..features import active_at, build_features
from ..grain import season

EXPLAINED, PARTLY, UNEXPLAINED = "explained", "partly", "unexplained"
#: weeks before an earlier event day searched for normal days of the same slot
LEARN_WEEKS = 8
#: normal days (same slot, event off) a learned day is compared with
LEARN_REFERENCES = 4
#: the spread of the effect of an event the calendar gives none for, before its history
#: is learned: no direction is known, changes of +-50% are plausible
UNKNOWN_SPREAD = 0.5
#: a calendar *step* (a new toll, a rule) explains the days from its start to this many
#: days after it; by then the normal-day baseline has absorbed the new level
STEP_EXPLAINS_DAYS = 7
#: the baseline's errors over a few consecutive hours move together: the error of their
#: sum shrinks slower than 1/sqrt(n) (the window scale seen on the real NYC series)
BASELINE_WINDOW_SCALE = 1.5


@dataclass(frozen=True)
class EventExpectation:
    """What one event expects at an incident's points: relative effect and spread per point.

    ``learned_days`` counts the earlier days of the event its effect was learned from
    (0: the calendar's prior). ``known`` is False when it has no effect for the metric
    and nothing to learn from: it then explains nothing.
    """

    name: str
    effect: np.ndarray
    spread: np.ndarray
    learned_days: int
    known: bool


def _as_tuple(v: Any) -> tuple:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return ()
    if isinstance(v, str):
        return tuple(s for s in v.split(";") if s) if v else ()
    return tuple(v)


def in_scope(occ: pd.Series, metric: str, keys: dict[str, str]) -> bool:
    """Whether an occurrence applies to the series (metric, and zone = any key value).

    The calendar's rule: a series without keys (the whole city) gets every zone's events.
    """
    metrics = _as_tuple(occ.get("metrics"))
    zones = _as_tuple(occ.get("zones"))
    if metrics and metric not in metrics:
        return False
    return not zones or not keys or bool(set(zones) & {str(v) for v in keys.values()})


def overlaps(occ: pd.Series, stamps: Iterable[pd.Timestamp], freq: str) -> bool:
    """Whether the occurrence is active at any of ``stamps`` (its days/window and hours)."""
    index = pd.DatetimeIndex(list(stamps))
    return bool(len(index)) and bool(active_at(occ, index, freq).any())


# ------------------------------------------------------------------ learning


def past_day_ratios(
    history: pd.Series, active: np.ndarray, freq: str, hours: Iterable[int] | None = None
) -> np.ndarray:
    """One log ratio per earlier day an event was active on in ``history``.

    The day's actual total over its active points (at hourly grain only those in
    ``hours``, the incident's hours of the day: rain moves the rush hours more than the
    night) against the median of the same points on up to ``LEARN_REFERENCES`` of the
    ``LEARN_WEEKS`` weeks before it when the event was off (so a month-long event is
    not compared with itself).
    """
    y = history.to_numpy(dtype=float)
    s = season(freq)
    if hours is not None and freq == "h":
        active = active & np.isin(history.index.hour, list(hours))
    pos = np.flatnonzero(active)
    days = history.index[pos].normalize()
    ratios = []
    for day in days.unique():
        at = pos[days == day]
        refs = []
        for k in range(1, LEARN_WEEKS + 1):
            back = at - k * s
            if back.min() < 0 or active[back].any() or np.isnan(y[back]).any():
                continue
            refs.append(y[back].sum())
            if len(refs) == LEARN_REFERENCES:
                break
        actual = y[at].sum()
        if len(refs) >= 2 and np.isfinite(actual) and np.median(refs) > 0:
            ratios.append(np.log((actual + 1.0) / (np.median(refs) + 1.0)))
    return np.asarray(ratios, dtype=float)


def learned_effect(ratios: np.ndarray, prior: float, prior_spread: float) -> tuple[float, float]:
    """(effect, spread) for a new day, from the prior and the log ratios of earlier days.

    A normal update on the log scale: the prior (the curated effect with its spread,
    or, for an event with no known effect, 0 with ``UNKNOWN_SPREAD``) is combined with
    the days' mean, weighted by their number and their day-to-day spread (the sample
    standard deviation from 3 days on; before that, the prior's own spread or the
    days' distance from the prior, whichever is larger). The
    spread returned is that of a new day: the effect's uncertainty plus the
    day-to-day spread.
    """
    m0 = np.log1p(prior)
    s0 = prior_spread / (1.0 + prior)
    n = len(ratios)
    # from 3 days on their own spread; before, at least how far they are from the prior
    sd_day = float(np.std(ratios, ddof=1)) if n >= 3 else max(s0, abs(np.mean(ratios) - m0))
    sd_day = max(sd_day, default_spread(0.0))
    precision = 1.0 / s0**2 + n / sd_day**2
    mean = (m0 / s0**2 + float(np.sum(ratios)) / sd_day**2) / precision
    effect = float(np.expm1(mean))
    return effect, float(np.hypot(1.0 / np.sqrt(precision), sd_day) * (1.0 + effect))


@dataclass(frozen=True)
class SeriesPast:
    """A series' history as the calendar saw it, built once per series (:func:`series_past`).

    ``spans``: per occurrence over the history, its name, its last window day and where
    it was active; ``busy``: the days on which an event with an effect on the metric
    was on; ``days``: the complete days of an hourly series (a day off's shape is
    measured on those not busy, :mod:`juno_forecast.dayoff`).
    """

    y: pd.Series
    freq: str
    spans: tuple[tuple[str, pd.Timestamp, np.ndarray], ...]
    busy: frozenset[pd.Timestamp]
    days: dict[pd.Timestamp, np.ndarray]


def series_past(
    history: pd.Series | None, calendar: Any, metric: str, keys: dict[str, str], freq: str
) -> SeriesPast | None:
    """When each calendar event was on in ``history`` (None without history or calendar).

    Where the events were on depends only on the scope's occurrences and the
    timestamps: series of one scope with the same timestamps share it (:func:`.core.memo`).
    """
    if history is None or calendar is None or not len(history):
        return None
    index = history.index
    occ = scope_occurrences(calendar, index[0], index[-1], metric, keys)
    key = ("past", freq, metric, *index_key(index))
    spans, busy = memo(occ, key, lambda: _past_spans(occ, index, metric, freq))
    days = day_profiles(history) if freq == "h" else {}
    return SeriesPast(history, freq, spans, busy, days)


def _past_spans(
    occ: pd.DataFrame, index: pd.DatetimeIndex, metric: str, freq: str
) -> tuple[tuple[tuple[str, pd.Timestamp, np.ndarray], ...], frozenset[pd.Timestamp]]:
    """:class:`SeriesPast`'s ``spans`` and ``busy`` of ``occ`` on ``index``."""
    spans = [
        (str(o["name"]), o["window_end"], active_at(o, index, freq)) for _, o in occ.iterrows()
    ]
    return tuple(spans), busy_days(occ, metric)


class EventTable(NamedTuple):
    """Per event name, on some timestamps: where it is active (a step only within
    ``STEP_EXPLAINS_DAYS`` of a start), its curated effect and spread; ``steps``: the
    names of step events."""

    active: dict[str, np.ndarray]
    effects: dict[str, np.ndarray]
    spreads: dict[str, np.ndarray]
    steps: frozenset[str]

    def at(self, pos: np.ndarray) -> EventTable:
        """The table at positions ``pos`` of its timestamps (every value is per timestamp)."""
        cut = lambda d: {n: a[pos] for n, a in d.items()}  # noqa: E731
        return EventTable(cut(self.active), cut(self.effects), cut(self.spreads), self.steps)


def event_table(
    occurrences: pd.DataFrame, index: pd.DatetimeIndex, freq: str, metric: str
) -> EventTable:
    """The :class:`EventTable` of ``occurrences`` on ``index`` (:func:`build_features`' rule)."""
    feats = build_features(occurrences, index, freq, metric)
    recent = _recent_steps(occurrences, index)
    active = {n: feats.X[n].to_numpy() > 0 for n in feats.X.columns}
    active.update({n: active[n] & recent[n] for n in recent if n in active})
    effects = {n: feats.effects[n].to_numpy() for n in feats.effects.columns}
    spreads = {n: feats.spreads[n].to_numpy() for n in feats.spreads.columns}
    return EventTable(active, effects, spreads, frozenset(recent))


def event_expectations(
    points: pd.DatetimeIndex,
    occurrences: pd.DataFrame,
    metric: str,
    freq: str,
    past: SeriesPast | None = None,
    weights: np.ndarray | None = None,
    table: EventTable | None = None,
) -> list[EventExpectation]:
    """What each event active at ``points`` expects there: its prior, updated by history.

    At hourly grain a day off (``hours_like``) gets its hours' shape from the series
    (:mod:`juno_forecast.dayoff`) in place of its ``by_hours`` prior. ``weights`` (the normal-day
    expectation at ``points``) weigh a prior that varies by hour when it is updated by
    earlier occurrences, whose ratios are of totals. ``table``: the
    :func:`event_table` of ``occurrences`` at ``points``, when already known.
    """
    if occurrences is None or occurrences.empty or not len(points):
        return []
    if table is None:
        table = event_table(occurrences, points, freq, metric)
    active, effects, spreads = dict(table.active), dict(table.effects), dict(table.spreads)
    if freq == "h":
        _days_off(points, occurrences, metric, past, active, effects, spreads)
    names = [n for n in active if active[n].any()]
    hist = _history_features(past, points, names)
    zeros = np.zeros(len(points))
    w = np.ones(len(points)) if weights is None else np.maximum(weights, 0.0) + 1e-9
    out = []
    for name in names:
        on = active[name]
        eff, sd = effects.get(name, zeros), spreads.get(name, zeros)
        known = bool(np.abs(eff[on]).max(initial=0.0) > 1e-9)
        ratios = np.zeros(0)
        if name not in table.steps and hist is not None and name in hist[1]:
            hours = set(points[on].hour)
            ratios = past_day_ratios(hist[0], hist[1][name], freq, hours)
        if not len(ratios):
            out.append(EventExpectation(name, eff, np.where(on, sd, 0.0), 0, known))
            continue
        prior = float(np.average(eff[on], weights=w[on])) if known else 0.0
        prior_sd = float(np.average(sd[on], weights=w[on])) if known else UNKNOWN_SPREAD
        e, s = learned_effect(ratios, prior, prior_sd)
        out.append(
            EventExpectation(name, np.where(on, e, 0.0), np.where(on, s, 0.0), len(ratios), True)
        )
    return out


def _days_off(
    points: pd.DatetimeIndex,
    occurrences: pd.DataFrame,
    metric: str,
    past: SeriesPast | None,
    active: dict[str, np.ndarray],
    effects: dict[str, np.ndarray],
    spreads: dict[str, np.ndarray],
) -> None:
    """Each ``hours_like`` day off's measured shape (:mod:`juno_forecast.dayoff`) in place of its priors."""
    if past is None:
        return
    zeros = np.zeros(len(points))
    for name, day_off in days_off(past.days, past.busy, points, occurrences, metric).items():
        where = day_off.where
        active[name] = active.get(name, zeros > 0) | where
        effects[name] = np.where(where, day_off.effect, effects.get(name, zeros))
        spreads[name] = np.where(where, day_off.spread, spreads.get(name, zeros))


def _recent_steps(occurrences: pd.DataFrame, points: pd.DatetimeIndex) -> dict[str, np.ndarray]:
    """Per step event name: the points within ``STEP_EXPLAINS_DAYS`` of one of its starts."""
    days = points.normalize()
    out: dict[str, np.ndarray] = {}
    for row in occurrences[occurrences["shape"] == "step"].itertuples(index=False):
        start = pd.Timestamp(row.start).normalize()
        near = (days >= start) & (days <= start + pd.Timedelta(days=STEP_EXPLAINS_DAYS))
        out[row.name] = out.get(row.name, np.zeros(len(points), dtype=bool)) | np.asarray(near)
    return out


def _history_features(
    past: SeriesPast | None, points: pd.DatetimeIndex, names: list[str]
) -> tuple[pd.Series, dict[str, np.ndarray]] | None:
    """The history before the incident's first day, and when each of ``names`` was active.

    Earlier occurrences only: not the one going on (a storm's evening before its ban).
    """
    if past is None or not names:
        return None
    cut = points.min().normalize()
    n = int(past.y.index.searchsorted(cut))
    if n < season(past.freq) * 2:
        return None
    active: dict[str, np.ndarray] = {}
    for name, last, mask in past.spans:
        if name in names and last < cut - pd.Timedelta(days=1):
            active[name] = active.get(name, np.zeros(n, dtype=bool)) | mask[:n]
    return (past.y.iloc[:n], active) if active else None


# ------------------------------------------------------------------ judging


@dataclass(frozen=True)
class Judgement:
    """The outcome for one incident, and the words that say why."""

    explanation: str
    explained_by: str
    note: str


def _pct(x: float) -> str:
    return f"{100.0 * x:+.0f}%"


def judge(
    pts: Mapping[str, Any], events: list[EventExpectation], metric: str, level: float = 0.95
) -> Judgement:
    """Explained, partly or unexplained: the incident's points against the events' range.

    ``pts``: the incident's points (``actual``, ``expected``, ``lo``, ``hi`` at ``level``),
    a frame or a dict of arrays.
    All is on the log scale of the incident's total against the normal-day baseline's.
    """
    z = NormalDist().inv_cdf(0.5 + level / 2)
    base = np.maximum(np.asarray(pts["expected"], dtype=float), 0.0)
    B, A = float(base.sum()), float(np.nansum(np.asarray(pts["actual"], dtype=float)))
    actual_rel = A / B - 1.0 if B > 0 else np.nan
    names = ";".join(e.name for e in events)
    known = [e for e in events if e.known]
    notes = [f"{e.name}: no expected effect on {metric}" for e in events if not e.known]
    if not known or B <= 0:
        tail = f"actual {_pct(actual_rel)}" if np.isfinite(actual_rel) else "actual unknown"
        return Judgement(UNEXPLAINED, names, "; ".join([*notes, tail]) if notes else "")
    weights = base / B
    mult = np.prod([1.0 + np.maximum(e.effect, -0.99) for e in known], axis=0)
    expected = float((weights * mult).sum()) - 1.0
    ev_sd = float(np.sqrt(sum(float((weights * e.spread).sum()) ** 2 for e in known)))
    lo, hi = _range(expected, ev_sd, z, _baseline_sd(pts, z))
    r = float(np.log1p(max(actual_rel, -0.999)))
    directed = expected + z * ev_sd < 0 or expected - z * ev_sd > 0
    outcome, extra = _outcome(r, np.log1p(expected), lo, hi, directed)
    if outcome == PARTLY:
        edge = hi if r > hi else lo
        side = "beyond" if abs(r) > abs(edge) else "short of"
        points = abs(100.0 * (np.expm1(r) - np.expm1(edge)))
        extra = f", {points:.0f} points {side} what the calendar accounts for "
        extra += f"({int(round(A - B * np.exp(edge))):+,d} {metric})"
    notes += [_event_note(e, weights, z) for e in known]
    if len(known) > 1:
        notes.append(f"together {_pct(expected)} ({_pct(np.expm1(lo))} to {_pct(np.expm1(hi))})")
    notes.append(f"actual {_pct(actual_rel)}: {outcome}{extra}")
    return Judgement(outcome, names, "; ".join(notes))


def _range(expected: float, spread: float, z: float, baseline_sd: float) -> tuple[float, float]:
    """The log-ratio range of the actual under the events: their range, widened by the baseline's.

    The events' range is ``expected +- z * spread`` as relative changes (the calendar's
    meaning of ``spread``), floored at -99%; each side is then combined with the
    normal-day baseline's own uncertainty.
    """
    center = np.log1p(max(expected, -0.99))
    up = np.log1p(expected + z * spread) - center
    down = center - np.log1p(max(expected - z * spread, -0.99))
    b = z * baseline_sd
    return float(center - np.hypot(down, b)), float(center + np.hypot(up, b))


def _outcome(r: float, center: float, lo: float, hi: float, directed: bool) -> tuple[str, str]:
    """The outcome of a log ratio ``r`` against the range ``[lo, hi]`` around ``center``.

    ``directed``: the events' own range excludes zero, so a deviation the same way but
    outside the range is partly theirs; otherwise there is no direction to share and
    only the range itself explains.
    """
    if lo <= r <= hi:
        return EXPLAINED, ""
    if not directed:
        return UNEXPLAINED, ", outside the range the calendar expects"
    if np.sign(r) == np.sign(center):
        return PARTLY, ""
    return UNEXPLAINED, ", the opposite of what the calendar expects"


def _baseline_sd(pts: Mapping[str, Any], z: float) -> float:
    """The normal-day expectation's own log-scale sd for the incident's total."""
    exp = np.log1p(np.maximum(np.asarray(pts["expected"], dtype=float), 0.0))
    hi = np.log1p(np.maximum(np.asarray(pts["hi"], dtype=float), 0.0))
    lo = np.log1p(np.maximum(np.asarray(pts["lo"], dtype=float), 0.0))
    per_point = float(np.median(np.maximum(hi - exp, exp - lo))) / z
    return per_point * min(1.0, BASELINE_WINDOW_SCALE / np.sqrt(len(exp)))


def _event_note(e: EventExpectation, weights: np.ndarray, z: float) -> str:
    """``Christmas Day: expected -35% (-50% to -20%)``, saying where the number comes from."""
    eff = float((weights * e.effect).sum())
    sd = float((weights * e.spread).sum())
    rng = f"{_pct(max(eff - z * sd, -1.0))} to {_pct(eff + z * sd)}"
    source = f", learned from {e.learned_days} earlier day(s)" if e.learned_days else ""
    return f"{e.name}: expected {_pct(eff)} ({rng}{source})"


def explain(
    incidents: pd.DataFrame,
    occurrences: pd.DataFrame,
    keys: dict[str, str],
    freq: str,
    points: pd.DataFrame,
    *,
    history: pd.Series | None = None,
    calendar: Any = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """Fill ``explanation``, ``explained_by`` and ``note`` for the incidents of one series.

    ``points``: the series' flagged points (:func:`~.flagging.flag_points`), for the
    actual and the band at each incident's timestamps; ``history`` and ``calendar``
    let an event's effect be learned from its earlier days.
    """
    out = incidents.copy()
    out["explanation"] = UNEXPLAINED
    if out.empty:
        return out
    rows = [{"metric": m} for m in out["metric"]]
    at = [points.index.get_indexer(pd.DatetimeIndex(f)) for f in out["_flagged"]]
    cols = {c: points[c].to_numpy(dtype=float) for c in _JUDGED}
    explain_rows(
        rows,
        at,
        occurrences,
        keys,
        freq,
        points.index,
        cols,
        history=history,
        calendar=calendar,
        level=level,
    )
    for c in ("explanation", "explained_by", "note"):
        out[c] = [r[c] for r in rows]
    return out


#: the flagged points' columns an incident is judged on
_JUDGED = ("actual", "expected", "lo", "hi")


def explain_rows(
    rows: list[dict],
    positions: list[np.ndarray],
    occurrences: pd.DataFrame,
    keys: dict[str, str],
    freq: str,
    index: pd.DatetimeIndex,
    points: dict[str, np.ndarray],
    *,
    history: pd.Series | Callable[[], pd.Series] | None = None,
    calendar: Any = None,
    level: float = 0.95,
) -> None:
    """:func:`explain` on arrays: fill ``explanation``, ``explained_by`` and ``note`` of
    incident ``rows`` (dicts with ``metric``) of one series in place. ``positions``: each
    incident's flagged positions in ``index`` (the flagged points' timestamps) and
    ``points`` (their ``actual``, ``expected``, ``lo``, ``hi`` arrays); ``history`` (or
    a callable giving it, called only when there is an incident) as for :func:`explain`.
    """
    if not rows:
        return
    metric = str(rows[0]["metric"])
    table = None
    if occurrences is not None and len(occurrences):
        scoped, occurrences, table = _scoped(occurrences, metric, keys, index, freq)
    if callable(history):
        history = history()
    past = series_past(history, calendar, metric, keys, freq)
    for row, pos in zip(rows, positions, strict=True):
        stamps = index[pos]
        pts = {c: points[c][pos] for c in _JUDGED}
        at = table.at(pos) if table is not None else None
        events = event_expectations(stamps, occurrences, metric, freq, past, pts["expected"], at)
        j = judge(pts, events, row["metric"], level)
        row.update(explanation=j.explanation, explained_by=j.explained_by, note=j.note)


def _scoped(
    shared: pd.DataFrame, metric: str, keys: dict[str, str], index: pd.DatetimeIndex, freq: str
) -> tuple[np.ndarray, pd.DataFrame, EventTable | None]:
    """The scope's occurrences (``shared``) that apply to the series (:func:`in_scope`),
    once per scope and series keys, and their :func:`_shared_table` on ``index``."""
    key = ("scoped", metric, *((str(k), str(v)) for k, v in keys.items()))
    scoped, occurrences = memo(shared, key, lambda: _in_scope_rows(shared, metric, keys))
    return scoped, occurrences, _shared_table(shared, scoped, occurrences, index, freq, metric)


def _in_scope_rows(
    shared: pd.DataFrame, metric: str, keys: dict[str, str]
) -> tuple[np.ndarray, pd.DataFrame]:
    """Which rows of ``shared`` are :func:`in_scope` for the series, and those rows."""
    scoped = np.array([in_scope(occ, metric, keys) for _, occ in shared.iterrows()])
    return scoped, shared[scoped]


def _shared_table(
    shared: pd.DataFrame,
    scoped: np.ndarray,
    occurrences: pd.DataFrame,
    index: pd.DatetimeIndex,
    freq: str,
    metric: str,
) -> EventTable | None:
    """The :func:`event_table` of a series' flagged timestamps, computed once per scope.

    ``shared`` is the scope's occurrences table (:func:`.core.scope_occurrences`),
    ``occurrences`` its rows ``scoped`` in the series' scope. Each incident then
    takes its timestamps' rows instead of building features of its own.
    """
    if occurrences.empty or not len(index):
        return None
    key = ("events", freq, metric, scoped.tobytes(), *index_key(index))
    return memo(shared, key, lambda: event_table(occurrences, index, freq, metric))
