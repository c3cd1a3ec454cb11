"""``auto``: weigh (or pick) models per series by a small rolling-origin backtest on its history.

Deterministic (same data and seed, same result) and cheap: only the fast
candidates are tried, on a few folds at the end of the history, the most
recent first and only as many as the choice needs (:meth:`AutoModel._backtest`:
a candidate far behind leaves, and the backtest stops once the weights are
settled and the ranges have enough residuals). The
combination's out-of-sample forecasts (``cv_``) are kept, so the caller can
calibrate ranges on them without refitting anything.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from .base import (
    FREQ_DELTA,
    SEASON,
    Forecaster,
    HistoryTooShort,
    ModelTags,
    check_freq,
    check_y,
    get_tags,
)

FitPredict = Callable[[object, pd.Series, pd.DataFrame | None, pd.DataFrame], pd.Series]


def plain_fit_predict(
    model: object, y: pd.Series, X: pd.DataFrame | None, X_future: pd.DataFrame
) -> pd.Series:
    """Fit ``model`` on ``(y, X)`` and predict on ``X_future``."""
    return model.fit(y, X).predict(X_future)


def default_folds(freq: str, n: int, fold_len: int | None = None) -> tuple[int, int]:
    """``(n_folds, fold_len)`` for a history of ``n`` points: folds of ``fold_len``, as many as fit.

    ``fold_len`` defaults to a week. Hourly: up to 3 folds; daily: up to 6,
    or, with folds longer than a week (a 14-day horizon), as many as cover 6
    weeks but at least 3: enough residuals to weigh the candidates and
    calibrate the ranges, while the cost grows with the number of folds (a
    14-day horizon with 3 folds instead of 6 backtested as well on the real
    daily boroughs). Each fold's training part keeps at least two seasons.
    """
    season = SEASON[freq]
    fold_len = int(fold_len or season)
    n_max = 3 if freq == "h" else 6
    n_max = min(n_max, max(3, -(-n_max * season // fold_len)))  # ceil(6 weeks / fold_len)
    n_folds = max(0, min(n_max, (n - 2 * season) // fold_len))
    return n_folds, fold_len


def fold_forecast(
    make: Callable[[], object],
    y: pd.Series,
    X: pd.DataFrame | None,
    cut: int,
    fold_len: int,
    fit_predict: FitPredict = plain_fit_predict,
) -> pd.DataFrame:
    """One fold: a model fitted on ``y[:cut]`` forecasts the next ``fold_len`` points.

    Returns columns ``ds, step, y, yhat``; only data before ``cut`` is used.
    """
    test = slice(cut, cut + fold_len)
    X_tr = None if X is None else X.iloc[:cut]
    X_te = pd.DataFrame(index=y.index[test]) if X is None else X.iloc[test]
    yhat = fit_predict(make(), y.iloc[:cut], X_tr, X_te)
    return pd.DataFrame(
        {
            "ds": y.index[test],
            "step": np.arange(1, len(X_te) + 1),
            "y": y.iloc[test].to_numpy(),
            "yhat": np.asarray(yhat, dtype=float),
        }
    )


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
    n = len(y)
    rows = [
        fold_forecast(make, y, X, n - (n_folds - k) * fold_len, fold_len, fit_predict)
        for k in range(n_folds)
    ]
    return _stack_folds(rows)


def _stack_folds(rows: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Fold frames, oldest first, as one backtest with a ``fold`` column (0: the oldest)."""
    if not rows:
        return pd.DataFrame(columns=["fold", "ds", "step", "y", "yhat"])
    out = pd.concat(rows, ignore_index=True)
    out.insert(0, "fold", np.repeat(np.arange(len(rows)), [len(r) for r in rows]))
    return out


#: candidates whose inverse-error weight is below this share are dropped (not refitted)
MIN_WEIGHT = 0.05
#: a candidate whose backtest MAE so far is more than this many times the best one's is out of
#: contention: it gets no further fold and no weight. Past 1 / sqrt(MIN_WEIGHT) (4.5x) its
#: inverse-squared weight is under MIN_WEIGHT times the best one's: the weights of the folds
#: run so far drop it already.
OUT_OF_CONTENTION = MIN_WEIGHT**-0.5
#: residuals before a candidate may leave for being out of contention: a week of hours. A daily
#: backtest (at most 42 residuals, a few milliseconds a fit) keeps every candidate to the end.
PRUNE_AFTER = SEASON["h"]
#: the weights are settled when no candidate's weight moved by more than this with the last
#: fold; the combination's error is flat near its best weights (second order in their error),
#: so a further fold would buy little accuracy for the cost of refitting every candidate
SETTLED = 0.1
#: residuals the ranges need before the backtest may stop early: two weeks of hours (336, 14
#: per hour of the day for the hourly scales). Daily backtests (at most 42 residuals) and
#: short hourly folds always run every fold.
MIN_RESIDUALS = 2 * SEASON["h"]


def inverse_error_weights(cvs: dict[str, pd.DataFrame | dict]) -> dict[str, float]:
    """Weights proportional to 1 / squared mean absolute backtest error, summing to 1.

    Bates and Granger's inverse-variance weights, with the mean absolute error
    standing for the standard deviation: robust, so one blizzard day inside a
    backtest fold does not decide the weights. A candidate with no error at all
    takes all the weight; candidates below :data:`MIN_WEIGHT` are dropped and
    the rest renormalized.
    """
    sq = {n: _mae(cv) ** 2 for n, cv in cvs.items()}
    best = min(sq.values())
    scale = max(float(np.max(np.abs(np.asarray(cv["y"], float)), initial=0)) for cv in cvs.values())
    if best <= 1e-12 * (1.0 + scale):
        exact = min(sq, key=sq.get)
        return {exact: 1.0}
    inv = {n: 1.0 / v for n, v in sq.items()}
    total = sum(inv.values())
    kept = {n: w / total for n, w in inv.items() if w / total >= MIN_WEIGHT}
    total = sum(kept.values())
    return {n: w / total for n, w in sorted(kept.items(), key=lambda kv: -kv[1])}


def mix_label(weights: dict[str, float]) -> str:
    """``ols`` for one model; ``ols 0.62 + ets 0.38`` for a weighted mix."""
    if len(weights) == 1:
        return next(iter(weights))
    return " + ".join(f"{n} {w:.2f}" for n, w in weights.items())


class AutoModel(Forecaster):
    """Combines ``candidates`` by their errors in a rolling-origin backtest on the history.

    ``combine="weighted"`` (default): the forecast is the mean of the
    candidates weighted by 1 / (backtest MAE)^2 (see
    :func:`inverse_error_weights`); one candidate that clearly wins takes
    (nearly) all the weight, close ones are averaged, which is steadier than
    betting on whichever won a few noisy folds. ``combine="best"``: the one
    candidate with the lowest mean absolute error (the mean of the non-naive
    candidates competes too). When the history is too short for any fold, the
    first candidate (seasonal naive) is used. ``chosen_`` names the pick or the
    mix (``ols 0.62 + ets 0.38``), ``weights_`` holds the weights, ``scores_``
    every candidate's backtest MAE, ``folds_`` the folds the backtest ran (up to
    ``n_folds``: it stops when the weights are settled, see :meth:`_backtest`),
    ``cv_`` the backtest of the combination (what the ranges are calibrated on).
    """

    def __init__(
        self,
        freq: str = "h",
        seed: int = 0,
        candidates: Sequence[str] | None = None,
        n_folds: int | None = None,
        fold_len: int | None = None,
        fit_predict: FitPredict | None = None,
        combine: str = "weighted",
    ):
        self.freq = freq
        self.seed = seed
        self.candidates = candidates
        self.n_folds = n_folds
        self.fold_len = fold_len
        self.fit_predict = fit_predict
        self.combine = combine

    def __juno_tags__(self) -> ModelTags:
        """Backtests itself (``cv_``); predicts the past when every candidate does."""
        from . import AUTO_CANDIDATES, make_model

        names = self.candidates or AUTO_CANDIDATES[self.freq]
        past = all(get_tags(make_model(n, freq=self.freq)).predicts_past for n in names)
        return ModelTags(predicts_past=past, self_backtests=True)

    def _make(self, name: str) -> Callable[[], object]:
        from . import make_model

        return lambda: make_model(name, freq=self.freq, seed=self.seed)

    def fit(self, y: pd.Series, X: pd.DataFrame | None = None) -> AutoModel:
        """Backtest every candidate, weigh (or pick) them, refit the kept ones on the whole history."""
        from . import AUTO_CANDIDATES

        check_freq(self.freq)
        if self.combine not in ("weighted", "best"):
            raise ValueError(f"combine: expected 'weighted' or 'best', got {self.combine!r}")
        y = check_y(y)
        names = list(self.candidates or AUTO_CANDIDATES[self.freq])
        n_folds, fold_len = default_folds(self.freq, len(y), self.fold_len)
        n_folds = self.n_folds if self.n_folds is not None else n_folds
        fit_predict = self.fit_predict or plain_fit_predict
        self.folds_, self.scores_ = 0, {}
        cvs = self._backtest(names, y, X, n_folds, fold_len, fit_predict) if n_folds > 0 else {}
        if not cvs:
            self.weights_ = {names[0]: 1.0}
        elif self.combine == "weighted":
            self.weights_ = inverse_error_weights(cvs)
        else:
            self.weights_ = {n: 1.0 / len(p) for p in [self._best(cvs)] for n in p}
        self.chosen_ = mix_label(self.weights_)
        self.cv_ = _combine_cv(cvs, self.weights_) if cvs else None
        models = [self._make(n)() for n in self.weights_]
        self.model_ = MeanForecast(models, list(self.weights_.values())).fit(y, X)
        self.freq_delta_ = FREQ_DELTA[self.freq]
        return self

    def _backtest(
        self,
        names: list[str],
        y: pd.Series,
        X: pd.DataFrame | None,
        n_folds: int,
        fold_len: int,
        fit_predict: FitPredict,
    ) -> dict[str, pd.DataFrame]:
        """Each candidate's forecasts on up to ``n_folds`` folds, the most recent first.

        Successive halving: after each fold (once there are :data:`PRUNE_AFTER`
        residuals), candidates whose MAE so far is over :data:`OUT_OF_CONTENTION`
        times the best one's get no further fold (and no weight). The backtest
        stops early once there are two folds, at least :data:`MIN_RESIDUALS`
        residuals for the ranges, and the weights are settled (:data:`SETTLED`).
        A candidate that cannot fit a fold's history (:class:`HistoryTooShort`)
        leaves the backtest. ``folds_`` is the number of folds run; the returned
        backtests share them, oldest first. ``scores_`` holds every candidate's
        MAE (one out of contention: on its folds).
        """
        n = len(y)
        folds: dict[str, list[tuple]] = {name: [] for name in names}  # (frame, y, yhat) per fold
        weights: dict[str, float] | None = None
        for k in range(n_folds):
            cut = n - (k + 1) * fold_len
            for name in list(folds):
                try:
                    fold = fold_forecast(self._make(name), y, X, cut, fold_len, fit_predict)
                    folds[name].append(
                        (fold, fold["y"].to_numpy(float), fold["yhat"].to_numpy(float))
                    )
                except HistoryTooShort:  # e.g. ets on a fold with less than a week of history
                    del folds[name]
                    self.scores_.pop(name, None)
            self.folds_ = k + 1
            if not folds:
                return {}
            so_far = {name: _arrays(rows) for name, rows in folds.items()}  # no frame per fold
            mae = {name: _mae(cv) for name, cv in so_far.items()}
            self.scores_.update(mae)
            if (k + 1) * fold_len >= PRUNE_AFTER:
                best = min(mae.values())
                folds = {n_: f for n_, f in folds.items() if mae[n_] <= OUT_OF_CONTENTION * best}
            previous, weights = weights, inverse_error_weights({n_: so_far[n_] for n_ in folds})
            if k >= 1 and (k + 1) * fold_len >= MIN_RESIDUALS and _settled(previous, weights):
                break
        return {name: _stack_folds([r[0] for r in rows[::-1]]) for name, rows in folds.items()}

    def _best(self, cvs: dict[str, pd.DataFrame]) -> list[str]:
        """The candidate (or mean of the non-naive ones) with the lowest backtest MAE."""
        options = {n: [n] for n in cvs}
        models = [n for n in cvs if n != "naive"]
        if len(models) > 1:  # the mean of the models: often better than either, at no extra cost
            options["+".join(models)] = models
        score = {
            k: self.scores_[k]
            if len(v) == 1
            else _mae(_combine_cv(cvs, dict.fromkeys(v, 1 / len(v))))
            for k, v in options.items()
        }
        order = list(options)
        return options[min(order, key=lambda k: (score[k], order.index(k)))]

    def predict(self, X: pd.DataFrame) -> pd.Series:
        """Point forecasts of the chosen model or weighted mix."""
        return self.model_.predict(X)


def _arrays(rows: Sequence[tuple]) -> dict[str, np.ndarray]:
    """The ``y`` and ``yhat`` of some folds (``(frame, y, yhat)``), concatenated."""
    return {"y": np.concatenate([r[1] for r in rows]), "yhat": np.concatenate([r[2] for r in rows])}


def _settled(before: dict[str, float] | None, after: dict[str, float]) -> bool:
    """No candidate's weight moved by more than :data:`SETTLED` (a dropped one's went to 0)."""
    if before is None:
        return False
    names = set(before) | set(after)
    return max(abs(before.get(n, 0.0) - after.get(n, 0.0)) for n in names) <= SETTLED


def _mae(cv: pd.DataFrame | dict) -> float:
    """Mean absolute error of a backtest (columns or arrays ``y``, ``yhat``), missing ones skipped."""
    err = np.abs(np.asarray(cv["y"], float) - np.asarray(cv["yhat"], float))
    return float(np.nanmean(err)) if np.isfinite(err).any() else float("nan")


def _combine_cv(cvs: dict[str, pd.DataFrame], weights: dict[str, float]) -> pd.DataFrame:
    """The backtest of a weighted mix: the candidates' fold forecasts, weighted."""
    out = cvs[next(iter(weights))].copy()
    out["yhat"] = sum(w * cvs[n]["yhat"].to_numpy(float) for n, w in weights.items())
    return out


class MeanForecast(Forecaster):
    """The (weighted) mean of the point forecasts of several models (one model: that model)."""

    def __init__(self, models: Sequence[object], weights: Sequence[float] | None = None):
        self.models = models
        self.weights = weights

    def fit(self, y: pd.Series, X: pd.DataFrame | None = None) -> MeanForecast:
        """Fit every model on the same history."""
        self.models_ = [m.fit(y, X) for m in self.models]
        w = np.ones(len(self.models_)) if self.weights is None else np.asarray(self.weights, float)
        self.weights_ = w / w.sum()
        return self

    def predict(self, X: pd.DataFrame) -> pd.Series:
        """The weighted mean of the models' forecasts."""
        preds = [m.predict(X) for m in self.models_]
        values = np.tensordot(self.weights_, [p.to_numpy(float) for p in preds], axes=1)
        return pd.Series(values, index=preds[0].index, name="yhat")
