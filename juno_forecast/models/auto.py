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
from typing import NamedTuple

import numpy as np
import pandas as pd

from .base import (
    FREQ_DELTA,
    SEASON,
    Forecaster,
    HistoryTooShort,
    ModelTags,
    check_freq,
    get_tags,
)


class Design(NamedTuple):
    """A history as the backtest sees it: values ``y``, design ``X`` (rows x ``columns``, or
    None), timestamps ``t`` (int64 ns). A fold is a range of its rows (views, no copies)."""

    y: np.ndarray
    X: np.ndarray | None
    t: np.ndarray
    columns: tuple[str, ...] = ()

    def rows(self, a: int, b: int) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
        """``(y, X, t)`` of rows ``a:b``."""
        return self.y[a:b], None if self.X is None else self.X[a:b], self.t[a:b]


#: how a fold is fitted and predicted: ``(model, design, cut, stop) -> forecasts of rows
#: cut:stop`` by ``model`` fitted on rows ``:cut`` only
FitPredict = Callable[[object, Design, int, int], np.ndarray]


def fit_arrays(
    model: object, y: np.ndarray, X: np.ndarray | None, t: np.ndarray, columns: tuple[str, ...]
) -> object:
    """``model.fit_arrays(y, X, t, columns)``; an object with only ``fit``/``predict`` (not a
    :class:`Forecaster`) is served by the base class's pandas fallback."""
    method = getattr(model, "fit_arrays", None)
    if method is None:
        return Forecaster._fit_arrays_via_pandas(model, y, X, t, columns)
    return method(y, X, t, columns)


def predict_arrays(
    model: object, X: np.ndarray | None, t: np.ndarray, columns: tuple[str, ...]
) -> np.ndarray:
    """``model.predict_arrays(X, t, columns)`` as float64 (the pandas fallback as in :func:`fit_arrays`)."""
    method = getattr(model, "predict_arrays", None)
    if method is None:
        return Forecaster._predict_arrays_via_pandas(model, X, t, columns)
    return np.asarray(method(X, t, columns), dtype=float)


def plain_fit_predict(model: object, design: Design, cut: int, stop: int) -> np.ndarray:
    """Fit ``model`` on rows ``:cut`` of ``design`` and predict rows ``cut:stop``."""
    fit_arrays(model, *design.rows(0, cut), design.columns)
    _, X, t = design.rows(cut, stop)
    return predict_arrays(model, X, t, design.columns)


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


#: the columns of a backtest (``cv_``): fold 0 is the oldest origin, step 1 the first forecast
CV_COLUMNS = ("fold", "ds", "step", "y", "yhat")


def fold_forecast(
    make: Callable[[], object],
    design: Design,
    cut: int,
    fold_len: int,
    fit_predict: FitPredict = plain_fit_predict,
) -> dict[str, np.ndarray]:
    """One fold: a model fitted on rows ``:cut`` forecasts the next ``fold_len`` rows.

    Returns arrays ``ds`` (int64 ns), ``step``, ``y``, ``yhat``; only data before
    ``cut`` is used.
    """
    stop = min(cut + fold_len, len(design.y))
    yhat = np.asarray(fit_predict(make(), design, cut, stop), dtype=float)
    return {
        "ds": design.t[cut:stop],
        "step": np.arange(1, stop - cut + 1),
        "y": design.y[cut:stop],
        "yhat": yhat,
    }


def rolling_origin(
    make: Callable[[], object],
    design: Design,
    n_folds: int,
    fold_len: int,
    fit_predict: FitPredict = plain_fit_predict,
) -> dict[str, np.ndarray]:
    """Out-of-sample forecasts at the last ``n_folds`` origins, ``fold_len`` steps apart.

    Returns the arrays of :data:`CV_COLUMNS` (``ds`` in int64 ns); fold 0 is the
    oldest origin. Only data before each origin is used to forecast after it.
    """
    n = len(design.y)
    rows = [
        fold_forecast(make, design, n - (n_folds - k) * fold_len, fold_len, fit_predict)
        for k in range(n_folds)
    ]
    return stack_folds(rows)


def stack_folds(rows: Sequence[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Fold arrays, oldest first, as one backtest with a ``fold`` array (0: the oldest)."""
    if not rows:
        empty = {c: np.zeros(0) for c in CV_COLUMNS}
        return {**empty, "ds": np.zeros(0, np.int64), "fold": np.zeros(0, int)}
    out = {c: np.concatenate([r[c] for r in rows]) for c in CV_COLUMNS[1:]}
    return {"fold": np.repeat(np.arange(len(rows)), [len(r["y"]) for r in rows]), **out}


def cv_frame(cv: dict[str, np.ndarray] | None) -> pd.DataFrame | None:
    """A backtest's arrays as the ``cv_`` frame (columns :data:`CV_COLUMNS`), built once per fit."""
    if cv is None:
        return None
    frame = pd.DataFrame({c: cv[c] for c in CV_COLUMNS})
    frame["ds"] = pd.DatetimeIndex(np.asarray(cv["ds"], np.int64).view("datetime64[ns]"))
    return frame


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

    def fit_arrays(
        self,
        y: np.ndarray,
        X: np.ndarray | None,
        t: np.ndarray,
        columns: tuple[str, ...] = (),
    ) -> AutoModel:
        """Backtest every candidate, weigh (or pick) them, refit the kept ones on the whole history."""
        from . import AUTO_CANDIDATES

        check_freq(self.freq)
        if self.combine not in ("weighted", "best"):
            raise ValueError(f"combine: expected 'weighted' or 'best', got {self.combine!r}")
        y, X = self._check_fit_arrays(y, X, t, columns)
        design = Design(y, X, np.asarray(t, dtype=np.int64), tuple(columns))
        names = list(self.candidates or AUTO_CANDIDATES[self.freq])
        n_folds, fold_len = default_folds(self.freq, len(y), self.fold_len)
        n_folds = self.n_folds if self.n_folds is not None else n_folds
        fit_predict = self.fit_predict or plain_fit_predict
        self.folds_, self.scores_ = 0, {}
        cvs = self._backtest(names, design, n_folds, fold_len, fit_predict) if n_folds > 0 else {}
        if not cvs:
            self.weights_ = {names[0]: 1.0}
        elif self.combine == "weighted":
            self.weights_ = inverse_error_weights(cvs)
        else:
            self.weights_ = {n: 1.0 / len(p) for p in [self._best(cvs)] for n in p}
        self.chosen_ = mix_label(self.weights_)
        self.cv_arrays_ = _combine_cv(cvs, self.weights_) if cvs else None
        self._cv_frame = None
        models = [self._make(n)() for n in self.weights_]
        mean = MeanForecast(models, list(self.weights_.values()))
        self.model_ = mean.fit_arrays(y, X, design.t, design.columns)
        self.freq_delta_ = FREQ_DELTA[self.freq]
        return self

    @property
    def cv_(self) -> pd.DataFrame | None:
        """The combination's backtest (columns ``fold, ds, step, y, yhat``), built once when read."""
        if getattr(self, "_cv_frame", None) is None:
            self._cv_frame = cv_frame(self.cv_arrays_)
        return self._cv_frame

    def _backtest(
        self,
        names: list[str],
        design: Design,
        n_folds: int,
        fold_len: int,
        fit_predict: FitPredict,
    ) -> dict[str, dict[str, np.ndarray]]:
        """Each candidate's forecasts on up to ``n_folds`` folds, the most recent first.

        Successive halving: after each fold (once there are :data:`PRUNE_AFTER`
        residuals), candidates whose MAE so far is over :data:`OUT_OF_CONTENTION`
        times the best one's get no further fold (and no weight). The backtest
        stops early once there are two folds, at least :data:`MIN_RESIDUALS`
        residuals for the ranges, and the weights are settled (:data:`SETTLED`).
        A candidate that cannot fit a fold's history (:class:`HistoryTooShort`)
        leaves the backtest. ``folds_`` is the number of folds run; the returned
        backtests (arrays of :data:`CV_COLUMNS`) share them, oldest first.
        ``scores_`` holds every candidate's MAE (one out of contention: on its folds).
        """
        n = len(design.y)
        folds: dict[str, list[dict[str, np.ndarray]]] = {name: [] for name in names}
        weights: dict[str, float] | None = None
        for k in range(n_folds):
            cut = n - (k + 1) * fold_len
            for name in list(folds):
                try:
                    folds[name].append(
                        fold_forecast(self._make(name), design, cut, fold_len, fit_predict)
                    )
                except HistoryTooShort:  # e.g. ets on a fold with less than a week of history
                    del folds[name]
                    self.scores_.pop(name, None)
            self.folds_ = k + 1
            if not folds:
                return {}
            so_far = {name: _arrays(rows) for name, rows in folds.items()}
            mae = {name: _mae(cv) for name, cv in so_far.items()}
            self.scores_.update(mae)
            if (k + 1) * fold_len >= PRUNE_AFTER:
                best = min(mae.values())
                folds = {n_: f for n_, f in folds.items() if mae[n_] <= OUT_OF_CONTENTION * best}
            previous, weights = weights, inverse_error_weights({n_: so_far[n_] for n_ in folds})
            if k >= 1 and (k + 1) * fold_len >= MIN_RESIDUALS and _settled(previous, weights):
                break
        return {name: stack_folds(rows[::-1]) for name, rows in folds.items()}

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

    def predict_arrays(
        self, X: np.ndarray | None, t: np.ndarray, columns: tuple[str, ...] = ()
    ) -> np.ndarray:
        """Point forecasts of the chosen model or weighted mix."""
        return self.model_.predict_arrays(X, t, columns)


def _arrays(rows: Sequence[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """The ``y`` and ``yhat`` of some folds, concatenated."""
    return {
        "y": np.concatenate([r["y"] for r in rows]),
        "yhat": np.concatenate([r["yhat"] for r in rows]),
    }


def _settled(before: dict[str, float] | None, after: dict[str, float]) -> bool:
    """No candidate's weight moved by more than :data:`SETTLED` (a dropped one's went to 0)."""
    if before is None:
        return False
    names = set(before) | set(after)
    return max(abs(before.get(n, 0.0) - after.get(n, 0.0)) for n in names) <= SETTLED


def _mae(cv: pd.DataFrame | dict) -> float:
    """Mean absolute error of a backtest (columns or arrays ``y``, ``yhat``), missing ones skipped."""
    err = np.abs(np.asarray(cv["y"], float) - np.asarray(cv["yhat"], float))
    finite = np.isfinite(err)
    if finite.all():  # np.nanmean's own sum and count, without its copies
        return float(err.mean()) if len(err) else float("nan")
    return float(np.nanmean(err)) if finite.any() else float("nan")


def _combine_cv(
    cvs: dict[str, dict[str, np.ndarray]], weights: dict[str, float]
) -> dict[str, np.ndarray]:
    """The backtest of a weighted mix: the candidates' fold forecasts, weighted."""
    out = dict(cvs[next(iter(weights))])
    out["yhat"] = sum(w * np.asarray(cvs[n]["yhat"], float) for n, w in weights.items())
    return out


class MeanForecast(Forecaster):
    """The (weighted) mean of the point forecasts of several models (one model: that model)."""

    def __init__(self, models: Sequence[object], weights: Sequence[float] | None = None):
        self.models = models
        self.weights = weights

    def fit_arrays(
        self,
        y: np.ndarray,
        X: np.ndarray | None,
        t: np.ndarray,
        columns: tuple[str, ...] = (),
    ) -> MeanForecast:
        """Fit every model on the same history."""
        self.models_ = [fit_arrays(m, y, X, t, columns) for m in self.models]
        w = np.ones(len(self.models_)) if self.weights is None else np.asarray(self.weights, float)
        self.weights_ = w / w.sum()
        return self

    def predict_arrays(
        self, X: np.ndarray | None, t: np.ndarray, columns: tuple[str, ...] = ()
    ) -> np.ndarray:
        """The weighted mean of the models' forecasts."""
        preds = [predict_arrays(m, X, t, columns) for m in self.models_]
        return np.tensordot(self.weights_, preds, axes=1)
