"""The result of an impact run: :class:`ImpactResult` and the table's columns.

:func:`~juno_forecast.impact.impact` returns the table with the rest of the
result in ``DataFrame.attrs``; :meth:`ImpactResult.from_frame` rebuilds it, so
the debrief and the plots accept either.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from ..errors import InputError

TABLE_COLUMNS = [
    "metric",
    "actual_total",
    "expected_total",
    "lo_95",
    "hi_95",
    "difference",
    "difference_pct",
    "peak_ds",
    "affected",
    "lo_80",
    "hi_80",
    "difference_lo_95",
    "difference_hi_95",
    "difference_lo_80",
    "difference_hi_80",
    "peak_difference",
    "peak_lo_95",
    "peak_hi_95",
    "direction",
    "events",
    "steps",
    "model",
    "range_method",
    "folds",
    "event_folds",
    "level",
    "controls",
    "control_factor",
    "control_weight",
]


@dataclass
class ImpactResult:
    """Everything :func:`run_impact` computed.

    ``table``: one row per series (see :data:`TABLE_COLUMNS`, after the key columns).
    ``paths``: per timestamp and series: ``actual, yhat, lo_80 .. hi_95`` (the
    per-step counterfactual band), ``in_window``, and inside the window the
    cumulative ``cum_actual, cum_expected, cum_difference`` with the range of the
    cumulative difference ``cum_lo_80, cum_hi_80, cum_lo_95, cum_hi_95``.
    ``share_affected``: per metric, the share of series whose total is outside its 95% range.
    ``events``: calendar events in the window per series (``name, category, start, end``).
    ``problems``: series that could not be judged, as ``"<series>: <why>"``.
    """

    table: pd.DataFrame
    paths: pd.DataFrame
    keys: tuple[str, ...]
    start: pd.Timestamp
    end: pd.Timestamp
    freq: str
    post: bool
    model: str
    share_affected: dict[str, float] = field(default_factory=dict)
    events: pd.DataFrame = field(default_factory=pd.DataFrame)
    problems: list[str] = field(default_factory=list)
    level_days: int = 7

    def as_frame(self) -> pd.DataFrame:
        """The table with the rest of the result in ``attrs`` (what :func:`impact` returns)."""
        out = self.table.copy()
        out.attrs.update(
            paths=_frame_to_attr(self.paths),
            keys=self.keys,
            start=self.start,
            end=self.end,
            freq=self.freq,
            post=self.post,
            model=self.model,
            share_affected=dict(self.share_affected),
            events=_frame_to_attr(self.events),
            problems=list(self.problems),
            level_days=self.level_days,
        )
        return out

    @classmethod
    def from_frame(cls, table: pd.DataFrame) -> ImpactResult:
        """Rebuild the result from a table returned by :func:`impact` (its ``attrs``)."""
        a = table.attrs
        if "paths" not in a:
            raise InputError("impact table: no paths in .attrs; pass the result of impact()")
        return cls(
            table=table,
            paths=_frame_from_attr(a["paths"]),
            keys=tuple(a["keys"]),
            start=a["start"],
            end=a["end"],
            freq=a["freq"],
            post=a["post"],
            model=a["model"],
            share_affected=dict(a.get("share_affected", {})),
            events=_frame_from_attr(a.get("events")),
            problems=list(a.get("problems", [])),
            level_days=int(a.get("level_days", 7)),
        )


def _frame_to_attr(frame: pd.DataFrame) -> dict:
    """A frame as plain lists for ``DataFrame.attrs``.

    pandas compares attrs with ``==`` when it combines frames (printing a wide
    table does): a DataFrame there makes that comparison raise.
    """
    return {"split": frame.to_dict(orient="split"), "dtypes": frame.dtypes.astype(str).to_dict()}


def _frame_from_attr(value: dict | None) -> pd.DataFrame:
    """The frame :func:`_frame_to_attr` stored (an empty frame for None)."""
    if not value:
        return pd.DataFrame()
    split = value["split"]
    frame = pd.DataFrame(split["data"], index=split["index"], columns=split["columns"])
    return frame.astype(value["dtypes"])
