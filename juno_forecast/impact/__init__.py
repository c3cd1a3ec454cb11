"""Incident impact: what an incident cost, per series, as a counterfactual with ranges.

For every series, :func:`impact` compares the actuals of a window with a
counterfactual: the forecaster of ``forecast`` (same model, calendar and
priors) fitted on the history before the window, scaled by a local level, and
optionally by control series. The ranges of the cumulative difference come
from the same procedure's errors on earlier copies of the window, not a fixed
percentage. The method, its options and its measured accuracy are in
docs/impact.md.

One concern per module:

* :mod:`.api`: :func:`impact` (a DataFrame) and :func:`run_impact` (typed);
* :mod:`.window`: the window from what the user wrote, and whether the data can judge it;
* :mod:`.counterfactual`: fit, local level and the pseudo-windows of one series;
* :mod:`.ranges`: range maths on the pseudo-windows' errors;
* :mod:`.controls`: control series, chosen and applied;
* :mod:`.series`: one series judged (table row and per-timestamp path);
* :mod:`.events`: the calendar without the investigated event, and event days;
* :mod:`.result`: :class:`ImpactResult`;
* :mod:`.summary` and :mod:`.plot`: the Markdown debrief and the figures.
"""

from __future__ import annotations

from .api import impact, run_impact
from .counterfactual import ImpactSettings
from .events import ExcludingCalendar
from .plot import plot_impact, save_impact_plots
from .result import TABLE_COLUMNS, ImpactResult
from .summary import impact_summary_markdown

__all__ = [
    "TABLE_COLUMNS",
    "ExcludingCalendar",
    "ImpactResult",
    "ImpactSettings",
    "impact",
    "impact_summary_markdown",
    "plot_impact",
    "run_impact",
    "save_impact_plots",
]
