"""A series' calendar events on arrays: what a fold can learn, the priors, the events' uncertainty.

:class:`~juno_forecast.forecast.SeriesForecaster` works on the rows of a
scope's :class:`~juno_forecast.core.FeatureArrays` (a fold is a range of the
history's rows): these functions take those matrices and row positions, never
a per-series frame. Results derived from a scope's shared features are
memoized per scope by the caller (:func:`juno_forecast.core.memo`).
"""

from __future__ import annotations

import numpy as np

from .core import FeatureArrays
from .features import MIN_EFFECT

#: fewest days an event under way at the cutoff, with no earlier occurrence, needs to be learned
MIN_ONGOING_DAYS = 7

#: the lowest multiplier one event puts on a forecast when its uncertainty is combined
MIN_FACTOR = 0.01


def active_columns(X: np.ndarray) -> np.ndarray:
    """Positions of the columns of ``X`` with at least one active (> 0) row."""
    return np.flatnonzero((X > 0).any(axis=0))


def day_any(active: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Per day (rows, in time order) whether each column of ``active`` is on at some step."""
    if len(days) == 0:
        return np.zeros((0, active.shape[1]), bool)
    starts = np.flatnonzero(np.r_[True, days[1:] != days[:-1]])
    return np.logical_or.reduceat(active, starts, axis=0)


def learned_columns(X: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Positions of the columns of ``X`` (the history's active ones) whose effect it can teach.

    An event under way at the end of the history (Fleet Week's first two days)
    with no earlier occurrence is not: a coefficient fitted on a day or two of
    noise would be extrapolated over the rest of the event. Such a column is
    still fitted (its days do not distort the usual weekly profile) but is off
    when predicting, where the curated prior, if any, applies instead.
    """
    if X.shape[1] == 0:
        return np.zeros(0, int)
    day_on = day_any(X > 0, days)
    learned = []
    for j in range(X.shape[1]):
        on = day_on[:, j]
        off = np.flatnonzero(~on)
        run_start = off[-1] + 1 if len(off) else 0  # first day of the run reaching the end
        if (
            not on[-1]
            or run_start > 0
            and on[:run_start].any()
            or len(on) - run_start >= MIN_ONGOING_DAYS
        ):
            learned.append(j)
    return np.asarray(learned, int)


def model_inputs(
    X: np.ndarray,
    columns: tuple[str, ...],
    seen: tuple[str, ...],
    learned: tuple[str, ...],
) -> np.ndarray:
    """The model's design on the rows of ``X``: the columns ``seen`` (0 where ``X`` lacks one),
    those not ``learned`` switched off (their prior applies instead). Read-only (shared)."""
    where = {c: i for i, c in enumerate(columns)}
    out = np.zeros((len(X), len(seen)))
    for j, name in enumerate(seen):
        if name in where and name in learned:
            out[:, j] = X[:, where[name]]
    out.setflags(write=False)
    return out


def with_days_off(A: FeatureArrays, rows: slice, shapes: dict) -> FeatureArrays:
    """Rows ``rows`` of ``A`` as one series sees them: a copy where each day off's measured
    shape (``shapes``: name -> :class:`~juno_forecast.dayoff.DayOff`) replaces its calendar
    effect and spread, and its column is on wherever the shape applies (its evening
    before too, as detection takes it). Names ``A`` lacks are left out."""
    X, E, S = A.X[rows].copy(), A.effects[rows].copy(), A.spreads[rows].copy()
    for name, day in shapes.items():
        if name not in A.columns or name not in A.effect_columns:
            continue
        X[:, A.columns.index(name)] = np.where(day.where, 1.0, X[:, A.columns.index(name)])
        e = A.effect_columns.index(name)
        E[:, e] = np.where(day.where, np.maximum(day.effect, MIN_EFFECT), E[:, e])
        if name in A.spread_columns:
            s = A.spread_columns.index(name)
            S[:, s] = np.where(day.where, day.spread, S[:, s])
    for a in (X, E, S):
        a.setflags(write=False)
    return FeatureArrays(X, A.columns, E, A.effect_columns, S, A.spread_columns, A.events[rows])


def prior_factor(
    X: np.ndarray,
    columns: tuple[str, ...],
    effects: np.ndarray,
    effect_columns: tuple[str, ...],
    fallback: dict[str, float],
    skip: tuple[str, ...] = (),
) -> np.ndarray:
    """The multiplier the curated priors put on a forecast at each row of ``X`` (columns named
    ``columns``): :func:`juno_forecast.features.prior_factor` on arrays, ``effects`` on the same rows.

    Every column not in ``skip`` (the events the model learned from history)
    multiplies by ``1 + effect`` where it is active: its per-timestamp effect,
    or, for a name without one, ``fallback[name]``.
    """
    factor = np.ones(len(X))
    where = {c: i for i, c in enumerate(effect_columns)}
    for j, col in enumerate(columns):
        if col in skip:
            continue
        on = X[:, j] > 0
        if col in where:
            eff = effects[:, where[col]]
        elif fallback and col in fallback:
            eff = np.where(on, fallback[col], 0.0)
        else:
            continue
        factor *= 1.0 + np.where(on, eff, 0.0)
    return factor


def learned_effects(
    y: np.ndarray, X: np.ndarray, names: tuple[str, ...], days: np.ndarray, season: int
) -> dict[str, tuple[float, float]]:
    """``name -> (effect, spread)`` measured on the history for each learned column of ``X``."""
    from .intervals import occurrence_effects

    if not names:
        return {}
    got = occurrence_effects(y, X > 0, days, season)
    return {name: g for name, g in zip(names, got, strict=True) if g is not None}


def event_uncertainty(
    A: FeatureArrays,
    kinds: dict[str, str],
    learned: tuple[str, ...] | list[str],
    measured: dict[str, tuple[float, float]],
) -> tuple[np.ndarray, np.ndarray]:
    """The events' combined relative effect and its spread at each row of ``A``.

    A learned event carries the effect and spread ``measured`` on its past
    occurrences (:func:`~juno_forecast.intervals.occurrence_effect`); any
    other active event its calendar effect and ``spread`` (an event with no
    effect for this metric: 0 +- the default spread). Several events
    multiply: ``1 + e = prod(1 + e_i)``, relative spreads add in quadrature.
    """
    n = len(A.X)
    factor, rel_var = np.ones(n), np.zeros(n)
    for name in kinds:
        on = A.column("X", name) > 0
        if not on.any():
            continue
        if name in learned:
            if name not in measured:
                continue
            e_val, s_val = measured[name]
            e, s = np.full(n, e_val), np.full(n, s_val)
        else:
            e, s = A.column("effects", name), A.column("spreads", name)
        m = np.maximum(1.0 + e, MIN_FACTOR)
        factor = np.where(on, factor * m, factor)
        rel_var = np.where(on, rel_var + (s / m) ** 2, rel_var)
    return factor - 1.0, np.sqrt(rel_var) * factor
