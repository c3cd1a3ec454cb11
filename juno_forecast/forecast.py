"""Forecasts with calibrated ranges: one series (:class:`SeriesForecaster`) and many (:func:`forecast`).

``SeriesForecaster`` is the unit every other part of the package builds on
(detect, impact, the nightly batch): calendar features for one series, a
model from :mod:`juno_forecast.models`, curated priors for events the history
has never seen, and conformal 80/95% ranges from a rolling-origin backtest on
the end of the history.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .errors import InputError, SeriesError
from .features import CalendarFeatures, calendar_features
from .intervals import ConformalIntervals
from .models import MODEL_NAMES, make_model
from .models.auto import AutoModel, default_folds, rolling_origin
from .models.base import FREQ_DELTA, SEASON, check_y, log_target

OUTPUT_COLUMNS = ["yhat", "lo_80", "hi_80", "lo_95", "hi_95", "events"]


def _label(metric: str | None, keys: dict[str, str] | None) -> str:
    """``metric=trips borough=Bronx`` (the data module's ``series_label`` when available)."""
    try:
        from .data import series_label

        return series_label(metric, keys or {})
    except ImportError:  # data.py not there yet: same spelling
        parts = [f"metric={metric}"] + [f"{k}={v}" for k, v in (keys or {}).items()]
        return " ".join(parts)


def _active(X: pd.DataFrame) -> list[str]:
    """Columns with at least one active row."""
    return [c for c in X.columns if (X[c].to_numpy() > 0).any()]


class SeriesForecaster:
    """Forecast one series: calendar features + model + priors + calibrated ranges.

    ``model`` is a name in ``MODEL_NAMES``; ``calendar`` a Calendar or None (no
    events); ``metric`` and ``keys`` scope the calendar (an event limited to
    ``zones: [Manhattan]`` applies when a key value is ``Manhattan``).
    ``horizon`` (steps) sets the length of each calibration fold; default one
    week. ``fit(y)`` uses only ``y`` (the history up to the cutoff).
    """

    def __init__(
        self,
        model: str = "auto",
        calendar: Any = None,
        metric: str | None = None,
        keys: dict[str, str] | None = None,
        freq: str = "h",
        seed: int = 0,
        horizon: int | None = None,
    ):
        self.model = model
        self.calendar = calendar
        self.metric = metric
        self.keys = keys
        self.freq = freq
        self.seed = seed
        self.horizon = horizon

    # -- fitting ---------------------------------------------------------------------------
    def _features(
        self, index: pd.DatetimeIndex, since: pd.Timestamp | None = None
    ) -> CalendarFeatures:
        return calendar_features(
            self.calendar,
            index,
            freq=self.freq,
            metric=self.metric,
            keys=self.keys or {},
            since=since,
        )

    def _fit_predict(
        self, model: Any, y: pd.Series, X: pd.DataFrame | None, X_future: pd.DataFrame
    ) -> pd.Series:
        """Fit on columns active in ``X``; predict, applying priors for events unseen in ``y``."""
        seen = _active(X) if X is not None else []
        model.fit(y, X[seen] if X is not None else None)
        return self._predict_with_priors(model, seen, X_future)

    def _predict_with_priors(
        self, model: Any, seen: list[str], X_future: pd.DataFrame
    ) -> pd.Series:
        yhat = model.predict(X_future.reindex(columns=seen, fill_value=0.0)).astype(float)
        factor = np.ones(len(X_future))
        for col in X_future.columns:
            if col in seen or col not in self.priors_:
                continue
            active = X_future[col].to_numpy() > 0
            factor = np.where(active, factor * (1.0 + self.priors_[col]), factor)
        return pd.Series(yhat.to_numpy() * factor, index=X_future.index, name="yhat")

    def fit(self, y: pd.Series) -> SeriesForecaster:
        """Learn from the history ``y`` (regular DatetimeIndex, up to the cutoff)."""
        if self.freq not in FREQ_DELTA:
            raise InputError(f"freq: expected 'h' or 'D', got {self.freq!r}")
        if self.model not in MODEL_NAMES:
            raise InputError(
                f"--model: unknown model {self.model!r}; expected one of {', '.join(MODEL_NAMES)}"
            )
        self.label_ = _label(self.metric, self.keys)
        y = check_y(y.dropna()) if len(y.dropna()) else y
        need = 2 * SEASON[self.freq] + 2
        if len(y) < need:
            raise SeriesError(
                self.label_,
                f"too short to forecast: {len(y)} points, need at least {need}"
                f" ({'two weeks' if need > 0 else ''} of history)",
            )
        self.start_, self.last_ = y.index.min(), y.index.max()
        feats = self._features(y.index)
        self.priors_ = feats.priors
        X = feats.X
        n_folds, fold_len = default_folds(self.freq, len(y))
        fold_len = int(self.horizon or fold_len)
        n_folds = max(1, min(n_folds, (len(y) - 2 * SEASON[self.freq]) // fold_len))
        self.seen_ = _active(X)
        Xs = X[self.seen_]
        if self.model == "auto":
            est = AutoModel(
                freq=self.freq,
                seed=self.seed,
                n_folds=n_folds,
                fold_len=fold_len,
                fit_predict=self._fit_predict,
            ).fit(y, Xs)
            cv = est.cv_
        else:
            cv = rolling_origin(
                lambda: make_model(self.model, freq=self.freq, seed=self.seed),
                y,
                Xs,
                n_folds,
                fold_len,
                self._fit_predict,
            )
            est = make_model(self.model, freq=self.freq, seed=self.seed).fit(y, Xs)
        self.model_ = est
        self.cv_ = cv
        self.intervals_ = ConformalIntervals(log=log_target(y), by_hour=self.freq == "h").fit(cv)
        return self

    # -- predicting ------------------------------------------------------------------------
    def predict(self, index: pd.DatetimeIndex) -> pd.DataFrame:
        """Expected values and ranges on ``index`` (future timestamps), with the events active there."""
        index = pd.DatetimeIndex(index)
        feats = self._features(index, since=self.start_)
        yhat = self._predict_with_priors(self.model_, self.seen_, feats.X)
        if self.intervals_.log:
            yhat = yhat.clip(lower=0.0)
        steps = np.maximum(1, np.rint((index - self.last_) / FREQ_DELTA[self.freq]).astype(int))
        out = self.intervals_.predict(yhat, steps)
        out.insert(0, "yhat", yhat.to_numpy())
        out["events"] = feats.events.to_numpy() if feats.events is not None else ""
        return out[OUTPUT_COLUMNS]
