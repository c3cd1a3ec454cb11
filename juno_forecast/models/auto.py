"""``auto``: pick the best model per series by a small rolling-origin backtest on its history.

Deterministic (same data and seed, same choice) and cheap: only the fast
candidates are tried, on a few folds at the end of the history. The winning
model's out-of-sample forecasts (``cv_``) are kept, so the caller can
calibrate ranges on them without refitting anything.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from .base import FREQ_DELTA, SEASON, check_freq, check_y

FitPredict = Callable[[object, pd.Series, pd.DataFrame | None, pd.DataFrame], pd.Series]


def plain_fit_predict(
    model: object, y: pd.Series, X: pd.DataFrame | None, X_future: pd.DataFrame
) -> pd.Series:
    """Fit ``model`` on ``(y, X)`` and predict on ``X_future``."""
    return model.fit(y, X).predict(X_future)


def default_folds(freq: str, n: int) -> tuple[int, int]:
    """``(n_folds, fold_len)`` for a history of ``n`` points: a week per fold, as many as fit.

    Hourly: up to 3 folds of 168 h; daily: up to 8 folds of 7 days. Each
    fold's training part keeps at least two seasons.
    """
    season = SEASON[freq]
    fold_len = season
    n_max = 3 if freq == "h" else 8
    n_folds = max(0, min(n_max, (n - 2 * season) // fold_len))
    return n_folds, fold_len


def rolling_origin(
    make: Callable[[], object],
    y: pd.Series,
    X: pd.DataFrame | None,
    n_folds: int,
    fold_len: int,
    fit_predict: FitPredict = plain_fit_predict,
) -> pd.DataFrame:
    """Out-of-sample forecasts at the last ``n_folds`` origins, ``fold_len`` steps apart.

    Returns columns ``fold, ds, step, y, yhat``; fold 0 is the oldest origin.
    Only data before each origin is used to forecast after it.
    """
    rows = []
    n = len(y)
    for k in range(n_folds):
        cut = n - (n_folds - k) * fold_len
        test = slice(cut, cut + fold_len)
        X_tr = None if X is None else X.iloc[:cut]
        X_te = pd.DataFrame(index=y.index[test]) if X is None else X.iloc[test]
        yhat = fit_predict(make(), y.iloc[:cut], X_tr, X_te)
        rows.append(
            pd.DataFrame(
                {
                    "fold": k,
                    "ds": y.index[test],
                    "step": np.arange(1, len(X_te) + 1),
                    "y": y.iloc[test].to_numpy(),
                    "yhat": np.asarray(yhat, dtype=float),
                }
            )
        )
    if not rows:
        return pd.DataFrame(columns=["fold", "ds", "step", "y", "yhat"])
    return pd.concat(rows, ignore_index=True)


class AutoModel:
    """Chooses among ``candidates`` by mean absolute error in a rolling-origin backtest.

    The mean of the non-naive candidates (e.g. ``ols+gbm``) competes too. Ties
    go to the earlier candidate; when the history is too short for any fold,
    the first candidate (seasonal naive) is used.
    """

    def __init__(
        self,
        freq: str = "h",
        seed: int = 0,
        candidates: Sequence[str] | None = None,
        n_folds: int | None = None,
        fold_len: int | None = None,
        fit_predict: FitPredict | None = None,
    ):
        self.freq = freq
        self.seed = seed
        self.candidates = candidates
        self.n_folds = n_folds
        self.fold_len = fold_len
        self.fit_predict = fit_predict

    def _make(self, name: str) -> Callable[[], object]:
        from . import make_model

        return lambda: make_model(name, freq=self.freq, seed=self.seed)

    def fit(self, y: pd.Series, X: pd.DataFrame | None = None) -> AutoModel:
        """Backtest every candidate, keep the best, refit it on the whole history."""
        from . import AUTO_CANDIDATES

        check_freq(self.freq)
        y = check_y(y)
        names = list(self.candidates or AUTO_CANDIDATES[self.freq])
        n_folds, fold_len = default_folds(self.freq, len(y))
        n_folds = self.n_folds if self.n_folds is not None else n_folds
        fold_len = self.fold_len or fold_len
        fit_predict = self.fit_predict or plain_fit_predict
        self.scores_: dict[str, float] = {}
        cvs: dict[str, pd.DataFrame] = {}
        if n_folds > 0:
            for name in names:
                cvs[name] = rolling_origin(self._make(name), y, X, n_folds, fold_len, fit_predict)
            models = [n for n in names if n != "naive"]
            if (
                len(models) > 1
            ):  # the mean of the models: often better than either, at no extra cost
                combo = cvs[models[0]].copy()
                combo["yhat"] = np.mean([cvs[n]["yhat"].to_numpy() for n in models], axis=0)
                cvs["+".join(models)] = combo
            for name, cv in cvs.items():
                self.scores_[name] = float(np.mean(np.abs(cv["y"] - cv["yhat"])))
        order = list(cvs) or names
        self.chosen_ = min(order, key=lambda nm: (self.scores_.get(nm, np.inf), order.index(nm)))
        self.cv_ = cvs.get(self.chosen_)
        self.model_ = MeanForecast([self._make(n)() for n in self.chosen_.split("+")]).fit(y, X)
        self.freq_delta_ = FREQ_DELTA[self.freq]
        return self

    def predict(self, X: pd.DataFrame) -> pd.Series:
        """Point forecasts of the chosen model."""
        return self.model_.predict(X)


class MeanForecast:
    """The mean of the point forecasts of several models (one model: that model)."""

    def __init__(self, models: Sequence[object]):
        self.models = models

    def fit(self, y: pd.Series, X: pd.DataFrame | None = None) -> MeanForecast:
        """Fit every model on the same history."""
        self.models_ = [m.fit(y, X) for m in self.models]
        return self

    def predict(self, X: pd.DataFrame) -> pd.Series:
        """The mean of the models' forecasts."""
        preds = [m.predict(X) for m in self.models_]
        return pd.Series(
            np.mean([p.to_numpy() for p in preds], axis=0), index=preds[0].index, name="yhat"
        )
