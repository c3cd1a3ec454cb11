"""Build the three tutorial notebooks in this folder from the cells below (stored without outputs).

Why a script: notebooks are JSON, awkward to review and to edit by hand. The text and
code live here; ``python notebooks/build_notebooks.py`` rewrites the ``.ipynb`` files
with no outputs and no execution counts, the way they are committed. CI executes them
(``tests/test_notebooks.py``) so they cannot silently rot.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent

# Every notebook starts by finding the repository (its working directory is notebooks/).
FIND_REPO = """\
from pathlib import Path

# The notebook runs from notebooks/; the repository root is the first parent holding data/sample.parquet.
REPO = next(p for p in [Path.cwd(), *Path.cwd().parents] if (p / "data" / "sample.parquet").exists())
SAMPLE = REPO / "data" / "sample.parquet"
WEATHER = REPO / "data" / "weather.csv"
print("repository:", REPO)"""


# fmt: off
# --------------------------------------------------------------------------- 01 quickstart
QUICKSTART: list[tuple[str, str]] = [
    ("md", """\
# Quickstart: expected ranges, events and flagged deviations

This notebook walks through what `juno_forecast` does, on the **synthetic sample** that ships
with the repository (`data/sample.parquet`: hourly `trips` and `drivers_online` per NYC borough,
July 2024 to June 2026, with holidays, snowstorms, a new toll and three hidden incidents).

You will:

1. load the **events calendar** and list the events of the coming month;
2. **forecast** the next two weeks with 80% and 95% ranges;
3. **plot** the forecast with the events shaded;
4. **detect** deviations over the last days and see which ones the calendar explains;
5. write and read the **report** an operator gets every morning.

Nothing here needs the command line; every step returns a pandas object."""),
    ("code", FIND_REPO),
    ("md", """\
## 1. The events calendar

`Calendar.load()` reads the calendar curated by the operations team (the one shipped inside the
package, unless you pass a path). It is validated strictly: a typo is reported with its file and
line. `with_weather(...)` adds *observed* weather: days over the thresholds declared in the
calendar (e.g. 4 inches of snow) become weather events too."""),
    ("code", """\
import pandas as pd

from juno_forecast import Calendar

calendar = Calendar.load().with_weather(WEATHER)
calendar"""),
    ("md", """\
The sample ends on 30 June 2026, so "the coming month" is July 2026. `occurrences(start, end)`
lists every concrete occurrence in that range, one row each, with its scope (`metrics`, `zones`:
empty means all) and its curated `effect` (the relative change the team expects, e.g.
`{'trips': -0.2}` = 20% fewer trips).

Lasting changes (`shape == "step"`, such as a toll introduced years ago) are listed in every range
after they start; we keep them aside to see what actually *happens* in July."""),
    ("code", """\
july = calendar.occurrences("2026-07-01", "2026-07-31")
happening = july[july["shape"] == "pulse"]
happening[["name", "category", "start", "end", "zones", "effect"]]"""),
    ("md", """\
## 2. Load the history and forecast

`load_data` reads a tidy table (one row per timestamp per series) and checks it: gaps, duplicates,
negative counts, daylight-saving days. `by=("borough",)` says which column names the segment. Each
combination of metric and borough is one **series**."""),
    ("code", """\
from juno_forecast import load_data

data = load_data(SAMPLE, by=("borough",))
print(data)
data.frame.head()"""),
    ("md", """\
To keep this notebook quick we forecast two series (trips in Manhattan and Brooklyn) from the last
three months of history, with the `naive` model (the same hour one week earlier: the baseline every
other model is measured against). The default `model="auto"` backtests several models per series
and weighs them by their backtest errors; it is more accurate but takes minutes on a laptop.

The calendar still matters with `naive`: for an event the history has never seen, the curated
`effect` is applied as prior knowledge. The ranges are *calibrated*: the forecaster replays its own
past errors (a rolling-origin backtest on the end of the history) to size the 80% and 95% bands."""),
    ("code", """\
from juno_forecast.forecast import forecast

recent = data.frame[
    (data.frame["metric"] == "trips")
    & data.frame["borough"].isin(["Manhattan", "Brooklyn"])
    & (data.frame["ds"] >= "2026-04-01")
]
fc = forecast(recent, horizon="14D", model="naive", calendar=calendar, by=["borough"])
fc.head()"""),
    ("md", """\
One row per hour and series: `yhat` is the expected value, `lo_80`/`hi_80` and `lo_95`/`hi_95`
the ranges, `events` the calendar events active at that hour. Summed per day it reads more easily:"""),
    ("code", """\
manhattan = fc[fc["borough"] == "Manhattan"].set_index("ds")
per_day = manhattan[["yhat", "lo_95", "hi_95"]].resample("D").sum().round(-2)
per_day["events"] = manhattan["events"].resample("D").agg(lambda e: ";".join(sorted(set(";".join(e).split(";")) - {""})))
per_day"""),
    ("md", """\
Look at 2 to 4 July. Independence Day falls on a Saturday and is observed on Friday the 3rd; the
calendar gives each a one-day window before it (people leave town). Three months of history hold
no Independence Day to learn from, so the curated priors apply: `effect: {'trips': -0.2}` on the
day itself and `window_effect: {'trips': -0.1}` on its eve. That makes the 2nd 10% lower (the eve of
the observed day), the 4th 20% lower, and the 3rd 0.8 x 0.9 = 0.72, where the observed day and the
eve of the 4th overlap. Every other day is the plain naive forecast. With `naive`, the same weekday a week later
has the same base, so the ratio shows the calendar's part exactly:"""),
    ("code", """\
daily_yhat = manhattan["yhat"].resample("D").sum()
holiday_effect = (daily_yhat / daily_yhat.shift(-7)).dropna().round(2)
assert list(holiday_effect.loc["2026-07-01":"2026-07-05"]) == [1.0, 0.9, 0.72, 0.8, 1.0]
holiday_effect"""),
    ("md", """\
## 3. Plot with the events shaded

`plot_forecast(actual, forecast, events=...)` draws the expected value (dashed), the 80% and 95%
ranges (shaded blue) and the calendar events (labelled bands). Here there are no actuals yet: it is
the future."""),
    ("code", """\
%matplotlib inline
import matplotlib.pyplot as plt

from juno_forecast import plot_forecast

events = calendar.occurrences("2026-07-01", "2026-07-14", metric="trips", keys={"borough": "Manhattan"})
# shade the short events; a months-long one (the school summer vacation) would cover the whole plot
short = events[(events["shape"] == "pulse") & (events["end"] - events["start"] < pd.Timedelta(days=7))]
fig = plot_forecast(
    None,
    manhattan,
    events=short,
    title="trips, borough=Manhattan: expected range, next 14 days",
    ylabel="trips per hour",
)
display(fig)  # plot_forecast returns a matplotlib Figure: show it, or fig.savefig("forecast.png")
plt.close(fig)"""),
    ("md", """\
## 4. Detect deviations over the last days

`detect(data, start, end)` asks, for every hour of the range: did the metric leave its normal range?
Each hour's expectation is fitted only on data **before its day** (no look-ahead), so what happens
later cannot change it. Runs of flagged hours become **incidents**. Each incident is then compared
with the calendar, and an explanation has to be earned: `explanation` is `explained` only when an
in-scope event's expected effect, with its uncertainty, holds the actual; `partly` when the event
moves the metric the right way but the actual goes beyond it; else `unexplained`: someone should
look into it. `explained_by` names the events considered and `note` says what each expected.

We check trips in every borough over the last week of the sample."""),
    ("code", """\
from juno_forecast.detect import detect

trips = data.frame[data.frame["metric"] == "trips"]
incidents = detect(trips, "2026-06-24", "2026-06-30", calendar=calendar, by=["borough"])
incidents[["borough", "metric", "start", "end", "direction", "deviation_pct", "severity", "explanation"]]"""),
    ("md", """\
The sample hides a payment outage on its last afternoon (Manhattan trips -45%, 15:00-18:59; see
`data/incidents.csv`). The detector should find it, and no calendar event explains it:"""),
    ("code", """\
truth = pd.read_csv(REPO / "data" / "incidents.csv", parse_dates=["start", "end"])
outage = truth[truth["start"] >= "2026-06-24"].iloc[0]
print(outage.to_dict())

found = incidents[
    (incidents["borough"] == outage["borough"])
    & (incidents["start"] <= outage["end"])
    & (incidents["end"] >= outage["start"])
]
assert len(found) == 1 and found["explanation"].iloc[0] == "unexplained", "the outage should be one unexplained incident"
found[["borough", "start", "end", "deviation_pct", "explanation", "explained_by"]]"""),
    ("md", """\
What does an *explained* incident look like? The sample also has a snowstorm on 22 February 2026
(6 inches in `data/weather.csv`). Detecting over that week flags the drop in every borough. The
observed snowfall makes a "Snowstorm (observed)" event, whose effect is learned from the earlier
snow days in the history; the drop lies within its range, so the incidents come out `explained`,
and `note` says by how much each event expected the metric to move:"""),
    ("code", """\
snow = detect(trips, "2026-02-19", "2026-02-25", calendar=calendar, by=["borough"])
assert (snow["explained_by"].str.contains("Snowstorm")).all()
assert (snow["explanation"] == "explained").all()
snow[["borough", "start", "end", "deviation_pct", "explanation", "note"]]"""),
    ("md", """\
## 5. The report

`report(incidents, figures, out_dir)` writes `report.html` (self-contained: figures embedded, it
can be mailed) and `report.md`. Unexplained incidents come first. We write it into a temporary
folder (never into the repository) and read the Markdown back.

The figure for a series comes from the detection detail: `run_detection` returns, per series, the
points with their band, so `plot_detection` can draw actual against expected with the incident
marked."""),
    ("code", """\
import tempfile

from IPython.display import Markdown, display

from juno_forecast.detect import run_detection
from juno_forecast.plot import plot_detection
from juno_forecast.report import report

run = run_detection(trips, "2026-06-24", "2026-06-30", calendar=calendar, by=["borough"])
figures = {label: plot_detection(sd) for label, sd in run.series.items() if len(sd.incidents)}

workdir = tempfile.TemporaryDirectory(prefix="juno-quickstart-")
html_path, md_path = report(run.incidents, figures, workdir.name, title="Trips, last week of June 2026")
plt.close("all")  # the figures are in the report now (closing stops a second display)
print(html_path.name, f"{html_path.stat().st_size:,} bytes")
# the Markdown links its figures as files next to it; here we show the text, then the figures
display(Markdown("\\n".join(line for line in md_path.read_text().splitlines() if not line.startswith("!["))))
for fig in figures.values():
    display(fig)"""),
    ("md", """\
Open `report.html` in a browser to see the same with the plots inline. Clean up the temporary folder
when done:"""),
    ("code", """\
workdir.cleanup()"""),
    ("md", """\
## Where next

* `02_real_nyc_data.ipynb`: the same on real 2015 NYC Uber pickups, the January blizzard, and how
  much the calendar improves the forecast.
* `03_add_an_event.ipynb`: for operations, add your own event to the calendar and see what it does.
* From a terminal: `juno-forecast forecast data/sample.parquet --by borough --horizon 14D` and
  `juno-forecast nightly --demo --out /tmp/juno`."""),
]


# --------------------------------------------------------------------------- 02 real NYC data
GUARD = """\
SHARED = Path(os.environ.get("JUNO_SHARED_DATA", REPO.parent / "shared" / "data"))
CSV = SHARED / "uber_nyc_enriched.csv"
HAVE_DATA = CSV.exists()
if not HAVE_DATA:
    print(f"The real NYC data is not here ({CSV}); set JUNO_SHARED_DATA to its folder. Nothing else to show.")"""

NYC: list[tuple[str, str]] = [
    ("md", """\
# Real NYC data: pickups per borough, the blizzard, the holidays

This walkthrough uses **real** data: Uber pickups in New York City per borough and hour, January
to June 2015 (`uber_nyc_enriched.csv`, from the FiveThirtyEight TLC FOIL release, joined with
hourly weather). The file lives *outside* the repository, in `../shared/data/` next to the
checkout (or wherever `JUNO_SHARED_DATA` points). Without it this notebook prints one message
and does nothing else.

You will see:

1. hourly pickups per borough, and the daily totals;
2. the blizzard of 26-27 January 2015 and the public holidays, as the calendar knows them;
3. how much the calendar improves the forecast (a small backtest with and without it);
4. incidents the calendar explains, and those it does not.

Every cell below starts with `if HAVE_DATA:` so that it does nothing when the data is absent."""),
    ("code", "%matplotlib inline\nimport os\n" + FIND_REPO + "\n\n" + GUARD),
    ("md", """\
## 1. Hourly pickups per borough

The file has its own column names, so we tell `load_data` which is which: the time is
`pickup_dt`, the value `pickups`; the file holds a single metric, which we call `trips` (the name
the calendar's curated effects use: `effect: {trips: -0.5}`); the segment is `borough`. The loader copes with what real files contain: a missing first hour, the
spring daylight-saving hour that does not exist in New York (02:00 on 8 March), and a sparse
`NA` borough (hours without pickups are absent and counted as 0: `notes` says so)."""),
    ("code", """\
if HAVE_DATA:
    import pandas as pd

    from juno_forecast import load_data

    hourly = load_data(CSV, time_col="pickup_dt", value_col="pickups", metric="trips", by="borough")
    print(hourly)
    for note in hourly.notes:
        print("note:", note)"""),
    ("code", """\
if HAVE_DATA:
    daily = hourly.frame.pivot_table(index=pd.Grouper(key="ds", freq="D"), columns="borough", values="y", aggfunc="sum")
    share = (daily.sum() / daily.sum().sum() * 100).round(1).sort_values(ascending=False)
    print("share of pickups per borough, %:")
    print(share.to_string())
    display(daily.resample("MS").sum().astype(int))"""),
    ("md", """\
Manhattan carries about three quarters of the pickups. The daily cycle is strong (night lows,
evening peaks) and so is the weekly one (Friday and Saturday nights):"""),
    ("code", """\
if HAVE_DATA:
    import matplotlib.pyplot as plt

    week = hourly.frame[(hourly.frame["ds"] >= "2015-03-02") & (hourly.frame["ds"] < "2015-03-16")]
    wide = week.pivot_table(index="ds", columns="borough", values="y")
    ax = wide[["Manhattan", "Brooklyn", "Queens", "Bronx"]].plot(figsize=(11, 3.5), lw=1)
    ax.set_ylabel("pickups per hour")
    ax.set_title("Two weeks of March 2015 (the snowstorm of 5 March is visible)", loc="left")
    display(ax.figure)
    plt.close(ax.figure)"""),
    ("md", """\
## 2. The blizzard and the holidays

The shipped calendar knows the **Blizzard of January 2015** (a state travel ban from 23:00 on
26 January) with a curated effect of -50% trips. `with_weather` reads the hourly weather columns
of the same file (the calendar's `weather.hourly` section says which column is which) and turns
days over the thresholds into *observed* weather events."""),
    ("code", """\
if HAVE_DATA:
    from juno_forecast import Calendar

    calendar = Calendar.load().with_weather(CSV)
    weather = calendar.occurrences("2015-01-01", "2015-06-30", category="weather")
    display(weather[["name", "start", "end", "effect"]])"""),
    ("code", """\
if HAVE_DATA:
    around = daily.loc["2015-01-19":"2015-02-01", ["Manhattan", "Brooklyn", "Queens", "Bronx"]]
    usual = daily.loc["2015-01-05":"2015-01-18", around.columns].groupby(lambda d: d.day_of_week).mean()
    change = around / usual.loc[around.index.day_of_week].to_numpy() - 1
    print("daily pickups vs the same weekday of the two weeks before, %:")
    display((100 * change).round(0).astype(int))"""),
    ("md", """\
On 27 January pickups fell by about half in every borough (-45% to -62%), in line with the curated
-50%; the evening of the 26th, when the travel ban started, already shows it.

Would the forecast have known? Here is the hourly forecast for Manhattan made with the data up to
Saturday 24 January, against what happened. The history holds no earlier blizzard, so the forecaster
applies the calendar's curated effects on the storm days (the band drops), instead of expecting an
ordinary Monday and Tuesday. (`model="naive"` keeps it fast; curated effects apply to any model.)"""),
    ("code", """\
if HAVE_DATA:
    from juno_forecast import plot_forecast
    from juno_forecast.forecast import forecast

    manhattan = hourly.frame[hourly.frame["borough"] == "Manhattan"]
    storm_fc = forecast(manhattan, horizon="4D", cutoff="2015-01-24 23:00", model="naive", calendar=calendar, by=["borough"])
    storm_fc = storm_fc.set_index("ds")
    fig = plot_forecast(
        manhattan.set_index("ds")["y"],
        storm_fc,
        events=calendar.occurrences("2015-01-25", "2015-01-28", category="weather"),
        title="trips, borough=Manhattan: forecast made on 24 January 2015 vs what happened",
        ylabel="pickups per hour",
    )
    display(fig)
    plt.close(fig)
    print(storm_fc["events"].loc["2015-01-27 12:00"])"""),
    ("md", """\
Two events cover these days: the curated *Blizzard of January 2015* (-50%) and *Snowstorm
(observed)* (-30%), which the weather thresholds found in the hourly observations. Their effects
multiply (0.5 x 0.7 = 35% of a normal day), and they span whole days, while the ban only started at
23:00 on the 26th: the forecast is too low on Monday's daytime and close on Tuesday. An operator who
knows better can say so in the calendar: `hours` on the curated event, or an effect closer to what
the history showed.

Public holidays come from the `holidays` package (US, New York State, with observed days); the
calendar does not retype them. How did pickups on each holiday compare with the same weekday one
and two weeks around it?"""),
    ("code", """\
if HAVE_DATA:
    city = daily.drop(columns="NA").sum(axis=1)
    rows = []
    for _, h in calendar.occurrences("2015-01-01", "2015-06-30", category="holiday").iterrows():
        same_weekday = [h["start"] + pd.Timedelta(weeks=k) for k in (-2, -1, 1, 2)]
        usual_day = city.reindex(same_weekday).median()
        rows.append({
            "holiday": h["name"],
            "day": h["start"].date(),
            "weekday": h["start"].day_name(),
            "pickups": int(city[h["start"]]),
            "usual": int(usual_day),
            "change_%": round(100 * (city[h["start"]] / usual_day - 1)),
            "curated effect": h["effect"],
        })
    display(pd.DataFrame(rows))"""),
    ("md", """\
New Year's Day and Memorial Day lose about a fifth of the usual pickups; Lincoln's Birthday
(a New York State holiday) changes nothing, and Presidents' Day (Washington's Birthday) even gains:
a long weekend in the city. This is why the library *learns* each event's effect from history
when it has seen it before, and falls back on the curated `effect` only when it has not.

## 3. How much does the calendar improve the forecast?

A **backtest** replays the past: at each cutoff it forecasts the next 7 days from the data before
the cutoff only, and compares with what happened. We run it twice on daily pickups for Manhattan
and Brooklyn, once with the calendar and once with `calendar="none"` (no knowledge at all, holidays
included), with the `ols` model (a regression on trend, weekday and calendar events). Cutoffs every
week from the blizzard (26 January) to the end of June: 22 folds per borough.

* **MASE**: mean absolute error divided by that of the naive "same day last week" forecast
  (below 1 beats the baseline);
* **sMAPE**: symmetric mean absolute percentage error;
* **coverage_80/95**: the share of actual days inside the 80%/95% ranges (should be near 0.8/0.95)."""),
    ("code", """\
if HAVE_DATA:
    from juno_forecast.forecast import backtest_predictions, summarize

    days = load_data(CSV, time_col="pickup_dt", value_col="pickups", metric="trips", by="borough", freq="D")
    two = days.frame[days.frame["borough"].isin(["Manhattan", "Brooklyn"])]
    runs = {}
    for label, cal in [("with calendar", calendar), ("without calendar", "none")]:
        runs[label] = backtest_predictions(two, "2015-01-26", "2015-06-22", horizon="7D", step="7D", model="ols", calendar=cal, by=["borough"])
    summary = pd.concat({label: summarize(pred, ("borough",)).summary.set_index("model") for label, pred in runs.items()})
    display(summary.round(3))"""),
    ("md", """\
Averages hide where the calendar matters: most days have no event. Look at the days that *do*
(the days the calendar-aware forecast had an event on), and at 27 January in particular, forecast
from the data up to 25 January. The blizzard is in the calendar with a curated effect of -50%; the
history holds no earlier blizzard to learn from, so the forecaster uses that prior:"""),
    ("code", """\
if HAVE_DATA:
    with_cal = runs["with calendar"].set_index(["borough", "cutoff", "ds"])
    without = runs["without calendar"].set_index(["borough", "cutoff", "ds"])
    compare = with_cal[["y", "events"]].assign(
        error_with=(with_cal["yhat"] - with_cal["y"]).abs() / with_cal["y"],
        error_without=(without["yhat"] - without["y"]).abs() / without["y"],
    )
    on_event = compare[compare["events"] != ""]
    print("mean absolute % error on event days:",
          f"with calendar {100 * on_event['error_with'].mean():.1f}%,",
          f"without {100 * on_event['error_without'].mean():.1f}%")
    blizzard = pd.DataFrame({
        "actual": with_cal["y"],
        "expected with calendar": with_cal["yhat"],
        "expected without": without["yhat"],
        "events": with_cal["events"],
    }).xs(pd.Timestamp("2015-01-27"), level="ds")
    display(blizzard.round(0))
    assert (blizzard["expected with calendar"] < blizzard["expected without"]).all(), "the blizzard's effect is missing"
"""),
    ("md", """\
## 4. Explained and unexplained incidents

`detect` flags the hours where pickups left their normal range, with each hour's expectation fitted
only on the data before its day. The calendar then *explains* incidents: an event in scope (its
days, window, hours, metrics and zones) explains one only when its expected effect, with its
uncertainty, holds the actual (`explanation`: explained, partly, unexplained). An incident that is
not fully explained is one somebody should
look at: a data problem, an outage, a competitor's promotion... We scan the four big boroughs from
16 January (the expectation needs two weeks of history) to the end of June."""),
    ("code", """\
if HAVE_DATA:
    from juno_forecast.detect import detect

    big = hourly.frame[hourly.frame["borough"].isin(["Manhattan", "Brooklyn", "Queens", "Bronx"])]
    incidents = detect(big, "2015-01-16", "2015-06-30", calendar=calendar, by=["borough"])
    print(incidents.groupby("explanation").size().to_string())
    cols = ["borough", "start", "end", "direction", "deviation_pct", "severity", "explanation", "note"]
    display(incidents[cols].head(12).round(1))"""),
    ("md", """\
Unexplained incidents come first, then partly and explained ones, each by severity (how many ordinary hours
of volume were missing or extra beyond the range). Many unexplained ones here are surges (`above`)
in the Bronx and Queens in spring 2015: the monthly table above shows pickups in the Bronx more
than doubling between January and May (Queens: +70%), faster than the four-week baseline follows, and the calendar
knows nothing that explains them. That is what this list is for: someone should ask why (a
promotion? a competitor's trouble? a data problem?).

The blizzard should be among the explained ones:"""),
    ("code", """\
if HAVE_DATA:
    storm = incidents[(incidents["start"] <= "2015-01-27 23:00") & (incidents["end"] >= "2015-01-26")]
    assert len(storm) and (storm["explanation"] == "explained").all(), "the blizzard should be flagged and explained"
    display(storm[cols].round(1))"""),
    ("md", """\
Where to go from here: `juno-forecast impact --start ... --end ...` measures what an incident cost
(a counterfactual with ranges), and `juno-forecast nightly` runs all of this every night over every
series."""),
]


# --------------------------------------------------------------------------- 03 add an event
ADD_EVENT: list[tuple[str, str]] = [
    ("md", """\
# For operations: add an event to the calendar

The forecasts know what the calendar tells them. When you learn of something that will move the
numbers (a street closure, a parade, a new airport rule), add it to the calendar, check it, and
the expected ranges follow.

In this notebook we work on a **copy** of the shipped calendar in a temporary folder, add:

1. a **one-off** street closure (a start and an end date, evening hours only, in Manhattan);
2. a **recurring** one (a rule: the first Saturday of August, every year);

then validate the file, and compare the forecast with the original and the edited calendar on the
sample data. You can do the same in a text editor and a terminal: the commands are shown too."""),
    ("code", FIND_REPO),
    ("code", """\
import shutil
import tempfile

from juno_forecast.calendar import default_calendar_path

workdir = Path(tempfile.mkdtemp(prefix="juno-calendar-"))
original = default_calendar_path()
edited = workdir / "events_calendar.yaml"
shutil.copy(original, edited)
print("editing a copy:", edited)"""),
    ("md", """\
## 1. Write the two events

Events are entries in the list under `events:`. Each needs a `name`, a `category` and exactly one
way of saying *when* (`date`, `start`+`end`, `dates` or `rule`). The rest is optional:

* `hours`: when in the day it matters (`{from: 16, to: 23}`: 16:00 to 23:59);
* `zones` and `metrics`: who it affects (default: everyone, every metric);
* `effect`: your best estimate of the relative change, `-0.25` = 25% fewer. The forecaster uses it
  when the history holds no earlier occurrence to learn from, which is the case for a new event;
* `window`: days before or after that the effect spills into; `shape: step` for a lasting change;
* `source` and `notes`: where the facts come from, for your colleagues.

Other sections (`holidays`, `weather`) may follow the event list in the file, so rather than
appending at the very end we insert our block right after the `events:` line. In a text editor you
do the same: paste the block under `events:`, indented like the other entries."""),
    ("code", """\
NEW_EVENTS = '''\\
  - name: Fifth Avenue street fair (closure)
    category: event
    start: 2026-07-11
    end: 2026-07-12
    hours: {from: 10, to: 19}
    zones: [Manhattan]
    effect: {trips: -0.25}
    source: https://www.nyc.gov/site/cecm/index.page
    notes: one-off; Fifth Avenue closed to cars from 42nd to 57th Street
  - name: Summer Streets (Park Avenue closed to cars)
    category: event
    rule: {month: 8, weekday: saturday, nth: 1}
    years: {from: 2026}
    hours: {from: 7, to: 13}
    zones: [Manhattan]
    effect: {trips: -0.15}
    source: https://www.nyc.gov/html/dot/summerstreets/
    notes: recurring; every first Saturday of August, 07:00-13:59
'''

lines = edited.read_text().splitlines(keepends=True)
at = next(i for i, line in enumerate(lines) if line.rstrip() == "events:") + 1
edited.write_text("".join(lines[:at]) + NEW_EVENTS + "".join(lines[at:]))
print("".join(edited.read_text().splitlines(keepends=True)[at - 1 : at + 20]))"""),
    ("md", """\
## 2. Validate

From a terminal: `juno-forecast calendar validate path/to/events_calendar.yaml`. It prints `OK`
and a count per category, or one line per mistake, and exits with 2. Here we run exactly that
command (with this notebook's Python):"""),
    ("code", """\
import subprocess
import sys


def validate(path):
    \"\"\"Run `juno-forecast calendar validate PATH` and show what it prints; return its exit code.\"\"\"
    done = subprocess.run(
        [sys.executable, "-m", "juno_forecast", "calendar", "validate", str(path)],
        capture_output=True, text=True,
    )
    print(f"exit code {done.returncode}")
    print((done.stdout + done.stderr).strip())
    return done.returncode


assert validate(edited) == 0"""),
    ("md", """\
What does a mistake look like? Let us break a copy on purpose: a day that does not exist, an hour
out of range, and an effect typed as words. **All** the errors are reported at once, each with the
file, the line, the field and what was expected:"""),
    ("code", """\
bad_events = (
    NEW_EVENTS.replace("end: 2026-07-12", "end: 2026-06-31")
    .replace("hours: {from: 7, to: 13}", "hours: {from: 7, to: 31}")
    .replace("effect: {trips: -0.15}", "effect: {trips: a lot}")
)
broken = workdir / "broken.yaml"
broken.write_text("".join(lines[:at]) + bad_events + "".join(lines[at:]))
assert validate(broken) == 2"""),
    ("md", """\
In Python, `Calendar.load(path)` does the same check (it raises `CalendarError` listing every
error) and gives the calendar to use. The new events show up in `occurrences`, the recurring one
every year from 2026:"""),
    ("code", """\
from juno_forecast import Calendar
from juno_forecast.errors import CalendarError

try:
    Calendar.load(broken)
except CalendarError as err:
    print(f"{len(err.errors)} errors, e.g.:", err.errors[0])

before = Calendar.load(original)
after = Calendar.load(edited)
mine = after.occurrences("2026-07-01", "2028-12-31", category="event")
mine = mine[mine["name"].isin(["Fifth Avenue street fair (closure)", "Summer Streets (Park Avenue closed to cars)"])]
mine[["name", "start", "end", "hours", "zones", "effect"]]"""),
    ("md", """\
## 3. See the expected range change

Now forecast Manhattan trips from the sample for the coming five weeks (1 July to 4 August 2026),
once with the original calendar and once with the edited one. The history has never seen these
events, so the forecaster applies the curated `effect` during their days and hours: the expected
value drops by 25% (the street fair) and 15% (Summer Streets) there, and nowhere else; the 80% and
95% ranges move with it (they are sized on a log scale, so they shrink by almost exactly the same
factor). (`model="naive"` keeps this quick; every model applies unseen events' effects the same way.)"""),
    ("code", """\
from juno_forecast import load_data
from juno_forecast.forecast import forecast

data = load_data(SAMPLE, by=("borough",))
manhattan = data.frame[
    (data.frame["borough"] == "Manhattan") & (data.frame["metric"] == "trips") & (data.frame["ds"] >= "2026-04-01")
]
runs = {
    label: forecast(manhattan, horizon="35D", model="naive", calendar=cal, by=["borough"]).set_index("ds")
    for label, cal in [("original", before), ("edited", after)]
}
ratio = runs["edited"]["yhat"] / runs["original"]["yhat"]
changed = ratio[(ratio - 1).abs() > 1e-9]
print("hours whose expectation changed:", len(changed))
display((changed - 1).groupby(changed.index.date).agg(["min", "max", "size"]).round(3))"""),
    ("md", """\
Exactly the event hours changed: 10:00-19:59 on 11 and 12 July (-25%) and 07:00-13:59 on
1 August (-15%). Let us check that, so this notebook fails loudly if the calendar or the
forecaster ever stop doing it:"""),
    ("code", """\
import numpy as np
import pandas as pd

fair = pd.date_range("2026-07-11 10:00", "2026-07-11 19:00", freq="h").append(
    pd.date_range("2026-07-12 10:00", "2026-07-12 19:00", freq="h"))
streets = pd.date_range("2026-08-01 07:00", "2026-08-01 13:00", freq="h")
assert set(changed.index) == set(fair) | set(streets)
assert np.allclose(ratio[fair], 0.75) and np.allclose(ratio[streets], 0.85)
for col in ["lo_80", "hi_80", "lo_95", "hi_95"]:
    assert np.allclose(runs["edited"].loc[fair, col], 0.75 * runs["original"].loc[fair, col], rtol=1e-3)
print("the ranges follow the curated effects")"""),
    ("md", """\
The same on a plot of the street-fair weekend: the original expected range (light) and the edited
one, with the new event shaded."""),
    ("code", """\
%matplotlib inline
import matplotlib.pyplot as plt

from juno_forecast import plot_forecast

weekend = slice("2026-07-10", "2026-07-13")
events = after.occurrences("2026-07-10", "2026-07-13", metric="trips", keys={"borough": "Manhattan"})
fig = plot_forecast(
    None,
    runs["edited"].loc[weekend],
    events=events[events["name"].str.startswith("Fifth Avenue")],
    title="trips, borough=Manhattan: with the street fair (band) vs without (dotted)",
    ylabel="trips per hour",
)
ax = fig.axes[0]
ax.plot(runs["original"].loc[weekend].index, runs["original"].loc[weekend, "yhat"], color="grey", ls=":", lw=1.2)
display(fig)
plt.close(fig)"""),
    ("md", """\
## 4. Put it in use

When the event looks right, copy your block into the calendar your team uses and pass it to every
command with `--calendar`, e.g.

```sh
juno-forecast calendar validate my_calendar.yaml
juno-forecast calendar show --start 2026-07-01 --end 2026-08-31 --calendar my_calendar.yaml --category event
juno-forecast forecast data/sample.parquet --by borough --horizon 35D --calendar my_calendar.yaml
```

(or `calendar:` in the nightly batch configuration). Once the event has happened and is in the
history, the models learn its real effect from the data; your `effect` is only the first guess.

Clean up the temporary folder:"""),
    ("code", """\
plt.close("all")
shutil.rmtree(workdir)"""),
]

# fmt: on


def build(cells: list[tuple[str, str]]) -> nbformat.NotebookNode:
    """A notebook of markdown/code cells, with no outputs and a python3 kernel."""
    nb = new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.metadata["language_info"] = {"name": "python"}
    for kind, source in cells:
        nb.cells.append(new_markdown_cell(source) if kind == "md" else new_code_cell(source))
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i:02d}"
    return nb


NOTEBOOKS = {
    "01_quickstart.ipynb": QUICKSTART,
    "02_real_nyc_data.ipynb": NYC,
    "03_add_an_event.ipynb": ADD_EVENT,
}


def main() -> None:
    """Write every notebook next to this script."""
    for name, cells in NOTEBOOKS.items():
        nb = build(cells)
        nbformat.validate(nb)
        nbformat.write(nb, HERE / name)
        print("wrote", HERE / name)


if __name__ == "__main__":
    main()
