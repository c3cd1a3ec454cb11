"""Control series: other zones, unaffected by a local incident, that also scale the counterfactual.

:func:`select_controls` decides which series are judged against which
controls; :func:`controlled_windows` applies the controls' deviation inside
the window, and the same to every pseudo-window so the ranges stay honest.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InputError
from .counterfactual import FittedSeries, ImpactSettings, Plan, levelled, masked_actuals


def parse_controls(controls: Any) -> str | dict[str, tuple[str, ...]] | None:
    """``controls`` as None (off), ``"auto"`` or ``{key: allowed values}``.

    Accepts ``None``/``""``, ``"auto"``, a string ``KEY=VALUE,KEY=VALUE`` (the
    CLI's ``--controls``) or a mapping ``{key: value or values}``. ``metric``
    is a key too. A series is a control when, for every key named, its value is
    one of those listed (``borough=Brooklyn,borough=Queens``: either borough).
    """
    if controls is None or (isinstance(controls, str) and not controls.strip()):
        return None
    if isinstance(controls, str) and controls.strip().lower() == "auto":
        return "auto"
    if isinstance(controls, str):
        spec: dict[str, list[str]] = {}
        for item in (i.strip() for i in controls.split(",") if i.strip()):
            key, sep, value = item.partition("=")
            if not sep or not key.strip() or not value.strip():
                raise InputError(
                    f"--controls: expected 'auto' or KEY=VALUE[,KEY=VALUE...], got {item!r}"
                )
            spec.setdefault(key.strip(), []).append(value.strip())
        return {k: tuple(v) for k, v in spec.items()}
    if isinstance(controls, dict):
        return {
            str(k): tuple(str(x) for x in ([v] if isinstance(v, str) else v))
            for k, v in controls.items()
        }
    raise InputError(
        f"controls: expected 'auto', 'KEY=VALUE,...' or a mapping, got {type(controls).__name__}"
    )


def _is_control(metric: str, keys: dict[str, str], spec: dict[str, tuple[str, ...]]) -> bool:
    values = {**{k: str(v) for k, v in keys.items()}, "metric": str(metric)}
    return all(values[k] in allowed for k, allowed in spec.items())


def select_controls(
    series: list[tuple[str, dict[str, str]]],
    ds_keys: tuple[str, ...],
    controls: Any,
) -> tuple[list[int], dict[int, list[int]]]:
    """Which series are judged and, for each, the positions of its control series.

    Without controls every series is judged alone. ``"auto"``: every series is
    judged, its controls are the other series of the same metric. A key/value
    spec: the matching series are the controls (never judged), the others are
    judged, each against the controls of its own metric. Raises
    :class:`InputError` for an unknown key, a spec matching no series, no series
    left to judge, or a judged series without a control of its metric.
    """
    from ..data import series_label

    spec = parse_controls(controls)
    everyone = list(range(len(series)))
    if spec is None:
        return everyone, {i: [] for i in everyone}
    if spec == "auto":
        judged, pool = everyone, everyone
    else:
        unknown = [k for k in spec if k not in (*ds_keys, "metric")]
        if unknown:
            raise InputError(
                f"--controls: unknown key {unknown[0]!r}; the series keys are "
                f"{', '.join([*ds_keys, 'metric'])}"
            )
        pool = [i for i, (m, k) in enumerate(series) if _is_control(m, k, spec)]
        if not pool:
            wanted = ",".join(f"{k}={v}" for k, vs in spec.items() for v in vs)
            raise InputError(f"--controls {wanted}: no series matches")
        judged = [i for i in everyone if i not in pool]
        if not judged:
            raise InputError(
                "--controls: every series is a control, none is left to judge "
                "(a control is never the series judged)"
            )
    out = {}
    for i in judged:
        metric = series[i][0]
        out[i] = [j for j in pool if j != i and series[j][0] == metric]
        if not out[i]:
            raise InputError(
                f"--controls: {series_label(*series[i])} has no control series of "
                f"the same metric {metric!r} (controls must be other series of "
                f"its metric)"
            )
    return judged, out


def control_name(metric: str, keys: dict[str, str], ds_keys: tuple[str, ...]) -> str:
    """A control as the table's ``controls`` column names it: its key values (``Queens``)."""
    return "/".join(str(keys[k]) for k in ds_keys) if ds_keys else str(metric)


@dataclass
class ControlArrays:
    """A control series on the judged series' span: actuals (window kept / masked) and forecast."""

    actual: np.ndarray
    masked: np.ndarray
    yhat: np.ndarray

    @classmethod
    def on(cls, control: FittedSeries, plan: Plan) -> ControlArrays:
        """The control's arrays on ``plan.span`` (the judged series' grid)."""
        actual = control.y.reindex(plan.span).to_numpy(float)
        return cls(actual, masked_actuals(control.y, plan), control.yhat_on(plan.span))


def control_ratio(
    controls: list[ControlArrays], p: int, steps: int, plan: Plan, cfg: ImpactSettings
) -> float:
    """Pooled controls' ``sum actual / sum levelled forecast`` over ``[p, p + steps)``.

    Each control's forecast is levelled like the judged series' (its own same
    hours of the days around, the incident window masked); its actuals inside
    ``[p, p + steps)`` are kept: how the controls moved there is the evidence.
    NaN when no control has data there.
    """
    num = den = 0.0
    for c in controls:
        expected, _ = levelled(c.masked, c.yhat, p, steps, plan, cfg)
        a = c.actual[p : p + steps]
        ok = np.isfinite(a) & np.isfinite(expected)
        num, den = num + float(a[ok].sum()), den + float(expected[ok].sum())
    return num / den if num > 0 and den > 0 else float("nan")


def tracking_weights(x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """How much of the controls' log-ratio ``x`` the series' log-ratio ``y`` followed.

    The least-squares slope through the origin over the pseudo-windows,
    clipped to ``[0, 1]``: 0 (the controls did not track the series: the local
    level alone) to 1 (the series moved as the controls did). Returns the slope
    on all windows and, per window, the slope without it (leave-one-out), so the
    pseudo-window errors judge a weight that did not see them.
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    ok = np.isfinite(x) & np.isfinite(y)
    xy, xx = np.where(ok, x * y, 0.0), np.where(ok, x * x, 0.0)
    sxy, sxx = float(xy.sum()), float(xx.sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        full = sxy / sxx if sxx > 0 else 0.0
        loo = np.where(sxx - xx > 0, (sxy - xy) / (sxx - xx), 0.0)
    return float(np.clip(full, 0.0, 1.0)), np.clip(loo, 0.0, 1.0)


def controlled_windows(
    masked: np.ndarray,
    windows: list[tuple[int, np.ndarray]],
    controls: list[ControlArrays],
    pos: int,
    steps: int,
    plan: Plan,
    cfg: ImpactSettings,
) -> tuple[float, float, list[tuple[int, np.ndarray]]]:
    """The control factor of the window, its weight, and the pseudo-windows judged the same way.

    The counterfactual of the window is the levelled forecast times
    ``R ** w``: ``R`` the pooled controls' actual / levelled forecast inside the
    window (:func:`control_ratio`; a day-specific shock, Easter or a DST
    Sunday, moves the controls too), ``w`` how well that ratio tracked the
    series' own ratio on the pseudo-windows (:func:`tracking_weights`). Every
    pseudo-window gets the same treatment with its own ``R`` and a weight
    fitted without it, so the ranges measure the procedure with controls.
    """
    x = np.array([_log(control_ratio(controls, p, steps, plan, cfg)) for p, _ in windows])
    y = np.array([_log(_total_ratio(masked[p : p + steps], e)) for p, e in windows])
    weight, loo = tracking_weights(x, y)
    judged = [
        (p, e * math.exp(w * xi) if np.isfinite(xi) else e)
        for (p, e), xi, w in zip(windows, x, loo, strict=True)
    ]
    return control_factor(controls, pos, steps, plan, cfg, weight), weight, judged


def control_factor(
    controls: list[ControlArrays],
    p: int,
    steps: int,
    plan: Plan,
    cfg: ImpactSettings,
    weight: float,
) -> float:
    """``R ** weight`` over ``[p, p + steps)`` (:func:`control_ratio`); 1 without an ``R``."""
    x = _log(control_ratio(controls, p, steps, plan, cfg))
    return math.exp(weight * x) if np.isfinite(x) else 1.0


def _total_ratio(actual: np.ndarray, expected: np.ndarray) -> float:
    ok = np.isfinite(actual) & np.isfinite(expected)
    num, den = float(actual[ok].sum()), float(expected[ok].sum())
    return num / den if num > 0 and den > 0 else float("nan")


def _log(x: float) -> float:
    return math.log(x) if np.isfinite(x) and x > 0 else float("nan")
