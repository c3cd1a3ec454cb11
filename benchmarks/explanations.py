"""Are explanations earned? Three measures on the real NYC data (part of detection.py).

Run alone:  python benchmarks/explanations.py [--outages 40] [--seed 7]
(``python benchmarks/detection.py`` runs it too and adds it to its report.)

* **Outages during small-effect events.** ``--outages`` outages (30-60% drops lasting
  2-6 hours, seeded) are injected into the real hourly pickups of a busy borough at
  times when some event of the shipped calendar with a small or no effect on trips is
  on (|prior| <= 10%: school breaks, Ramadan evenings, parades, religious holidays).
  For each, ``check`` runs from the outage's start: does it exit 1, with the incident
  over the outage not fully explained? Target: at least 90%.
* **Quiet windows** (``--quiet``, the false-alarm study): spans of the same lengths with
  nothing injected, half while a small-effect event is on, half at random hours; check
  over each as over an outage. The share where it exits 1 is its false-alarm rate (the
  real data have odd hours of their own: what it flags is listed). Both measures are
  also given at detect's own sensitivity over the same ranges (``*_at_detect_sensitivity``:
  3-hour runs, the scan's window threshold), which is how check judged before it was
  made finer inside its range. **Quiet days** (``--quiet`` / 2): the same over whole
  days, as a check the day after a release would run.
* **Real incidents of the calendar's big events** (a prior of 15% or more: the
  blizzard, the Monday holidays, Memorial Day...): the incidents ``detect`` finds on
  their days with the shipped calendar, hourly and daily. Target: at least 90% still
  ``explained``.
* **Fast-growing bases** (``Uber-Jan-Feb-FOIL.csv``, daily trips per base): the
  longest run of consecutive days flagged above. Target: at most 2.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from juno_forecast.calendar import Calendar  # noqa: E402
from juno_forecast.data import Dataset, load_data  # noqa: E402
from juno_forecast.detect import check, not_explained, run_detection  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
BUSY = ("Manhattan", "Brooklyn", "Queens", "Bronx")
PERIOD = ("2015-02-01", "2015-06-30")
SMALL, BIG = 0.10, 0.15


def all_pickups(path: Path | str, freq: str = "h") -> pd.DataFrame:
    """The tidy pickups of every borough at ``freq`` (detection.py uses it too)."""
    return load_data(
        path, time_col="pickup_dt", value_col="pickups", metric="trips", by=["borough"], freq=freq
    ).frame


def pickups(path: Path | str, freq: str = "h") -> pd.DataFrame:
    """The tidy pickups of the four busy boroughs at ``freq``."""
    frame = all_pickups(path, freq)
    return frame[frame["borough"].isin(BUSY)].reset_index(drop=True)


def small_effect_slots(cal: Calendar) -> list[tuple[str, str, pd.Timestamp, list[int]]]:
    """(borough, event, day, hours) where an in-scope pulse event with a small trips prior is on."""
    out = []
    for borough in BUSY:
        occ = cal.occurrences(*PERIOD, metric="trips", keys={"borough": borough})
        for _, o in occ.iterrows():
            effect = o["effect"] if isinstance(o["effect"], dict) else {}
            if o["shape"] == "step" or o["category"] == "weather":
                continue
            if abs(float(effect.get("trips", 0.0))) > SMALL:
                continue
            hours = [int(h) for h in o["hours"]] or list(range(7, 22))
            for day in pd.date_range(o["start"], o["end"], freq="D"):
                if pd.Timestamp(PERIOD[0]) <= day <= pd.Timestamp(PERIOD[1]):
                    out.append((borough, str(o["name"]), day, hours))
    return out


def _event_window(rng: np.random.Generator, slots: list) -> tuple | None:
    """A random small-effect slot and a 2-6 hour span inside its hours (None: none fits)."""
    borough, name, day, hours = slots[int(rng.integers(len(slots)))]
    dur = int(rng.integers(2, 7))
    starts = [h for h in hours if all(h + k in hours for k in range(dur))]
    if not starts:
        return None
    start = day + pd.Timedelta(hours=int(rng.choice(starts)))
    return borough, name, start, start + pd.Timedelta(hours=dur - 1)


def plan_outages(cal: Calendar, n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    slots = small_effect_slots(cal)
    rows: list[dict] = []
    while len(rows) < n:
        if (pick := _event_window(rng, slots)) is None:
            continue
        borough, name, start, end = pick
        if any(r["borough"] == borough and abs((r["start"] - start).days) < 2 for r in rows):
            continue
        size = -float(rng.uniform(0.3, 0.6))
        rows.append({"borough": borough, "event": name, "start": start, "end": end, "size": size})
    return pd.DataFrame(rows)


def plan_quiet_windows(cal: Calendar, n: int, seed: int) -> pd.DataFrame:
    """``n`` spans of 2-6 hours with nothing injected: half while a small-effect event is
    on (as the outages), half at random hours of the period (``event`` empty)."""
    rng = np.random.default_rng(seed)
    slots, rows = small_effect_slots(cal), []
    first, days = pd.Timestamp(PERIOD[0]), (pd.Timestamp(PERIOD[1]) - pd.Timestamp(PERIOD[0])).days
    while len(rows) < n:
        if len(rows) < n // 2:
            if (pick := _event_window(rng, slots)) is None:
                continue
        else:
            dur, day = int(rng.integers(2, 7)), first + pd.Timedelta(days=int(rng.integers(days)))
            start = day + pd.Timedelta(hours=int(rng.integers(0, 25 - dur)))
            pick = (
                BUSY[int(rng.integers(len(BUSY)))],
                "",
                start,
                start + pd.Timedelta(hours=dur - 1),
            )
        if any(r["borough"] == pick[0] and r["start"] == pick[2] for r in rows):
            continue
        rows.append(dict(zip(("borough", "event", "start", "end"), pick, strict=True)))
    return pd.DataFrame(rows).assign(size=0.0)


def plan_quiet_days(n: int, seed: int) -> pd.DataFrame:
    """``n`` whole days (00:00 to 21:00, so check runs to 23:00) of a random busy borough,
    nothing injected: the false alarms of a check over a day since a release."""
    rng = np.random.default_rng(seed)
    first = pd.Timestamp(PERIOD[0])
    span = (pd.Timestamp(PERIOD[1]) - first).days
    days = [first + pd.Timedelta(days=int(d)) for d in rng.choice(span, n, replace=False)]
    return pd.DataFrame(
        {
            "borough": [BUSY[int(b)] for b in rng.integers(len(BUSY), size=n)],
            "event": "",
            "start": days,
            "end": [d + pd.Timedelta(hours=21) for d in days],
            "size": 0.0,
        }
    )


def outage_outcomes(frame: pd.DataFrame, cal: Calendar, outages: pd.DataFrame) -> pd.DataFrame:
    """Per span (``size``: the injected change, 0 for none): check from its start to 2 hours
    after its end; the exit code, what became of the span and check's run time.

    ``explanation``: the outcomes of the incidents over the span ("not flagged": none);
    ``flagged``: every incident of the check's range, with its hours and outcome;
    ``scan_exit_code``: what check exits with at detect's own sensitivity over the same
    range (3-hour runs, the scan's window threshold: the check before it was finer).
    """
    out = []
    for o in outages.itertuples():
        one = frame[frame["borough"] == o.borough].copy()
        hit = one["ds"].between(o.start, o.end)
        one.loc[hit, "y"] = np.round(one.loc[hit, "y"] * (1 + o.size))
        ds = Dataset.from_frame(one, keys=("borough",), freq="h")
        t0 = time.perf_counter()
        until = o.end + pd.Timedelta(hours=2)
        res = check(ds, o.start, until, calendar=cal)
        seconds = time.perf_counter() - t0
        days = f"{(until.normalize() - o.start.normalize()).days + 1}D"
        scan = run_detection(ds, o.start, until, calendar=cal, refit=days).incidents
        inc = res.incidents
        over = inc[(inc["start"] <= o.end) & (inc["end"] >= o.start)]
        outcome = ";".join(over["explanation"]) if len(over) else "not flagged"
        note = over["note"].iloc[0] if len(over) else ""
        flagged = ";".join(
            f"{r.start:%H}-{r.end:%H}h {r.deviation_pct:+.0f}% {r.explanation}"
            for r in inc.itertuples()
        )
        out.append(
            {
                "exit_code": res.exit_code,
                "scan_exit_code": int(not_explained(scan).any()),
                "explanation": outcome,
                "note": note,
                "flagged": flagged,
                "seconds": round(seconds, 3),
            }
        )
    return outages.assign(**pd.DataFrame(out).to_dict("list"))


def big_event_names(cal: Calendar) -> set[str]:
    """The calendar's big events of the period: a city-wide trips prior of 15% or more."""
    occ = cal.occurrences("2015-01-22", PERIOD[1], metric="trips")
    return {
        str(o["name"])
        for _, o in occ.iterrows()
        if isinstance(o["effect"], dict) and abs(float(o["effect"].get("trips", 0))) >= BIG
    }


def big_event_incidents(path: Path, cal: Calendar) -> pd.DataFrame:
    """Incidents on the days of the calendar's big events (|prior| >= 15%), hourly and daily;
    ``event``: the big event each is on."""
    big = big_event_names(cal)
    rows = []
    for freq in ("h", "D"):
        busy = Dataset.from_frame(pickups(path, freq), keys=("borough",), freq=freq)
        inc = run_detection(busy, "2015-01-22", PERIOD[1], calendar=cal).incidents
        names = inc["explained_by"].str.split(";")
        mine = inc[[bool(set(n) & big) for n in names]]
        event = [sorted(set(n) & big)[0] for n in names[mine.index]]
        rows.append(mine.assign(freq=freq, event=event))
    return pd.concat(rows, ignore_index=True)


def growing_bases(path: Path, cal: Calendar) -> pd.DataFrame:
    """Per base: the longest run of consecutive days flagged above, Jan 15 - Feb 28 2015."""
    inc = run_detection(
        str(path),
        "2015-01-15",
        "2015-02-28",
        calendar=cal,
        time_col="date",
        value_col="trips",
        metric="trips",
        by=["dispatching_base_number"],
        freq="D",
    ).incidents
    out = []
    for base, g in inc[inc["direction"] == "above"].groupby("dispatching_base_number"):
        days = sorted({d for r in g.itertuples() for d in pd.date_range(r.start, r.end)})
        longest = run = 1
        for a, b in zip(days, days[1:], strict=False):
            run = run + 1 if (b - a).days == 1 else 1
            longest = max(longest, run)
        out.append({"base": base, "days_flagged_above": len(days), "longest_run": longest})
    return pd.DataFrame(out, columns=["base", "days_flagged_above", "longest_run"])


def run(n: int = 40, seed: int = 7, quiet: int = 100) -> tuple[dict, dict[str, pd.DataFrame]]:
    cal = Calendar.load(None)
    frame = pickups(DATA / "uber_nyc_enriched.csv")
    outages = outage_outcomes(frame, cal, plan_outages(cal, n, seed))
    calm = outage_outcomes(frame, cal, plan_quiet_windows(cal, quiet, seed + 1))
    calm_days = outage_outcomes(frame, cal, plan_quiet_days(quiet // 2, seed + 2))
    big = big_event_incidents(DATA / "uber_nyc_enriched.csv", cal)
    bases = growing_bases(DATA / "Uber-Jan-Feb-FOIL.csv", cal)
    long = (outages["end"] - outages["start"]) >= pd.Timedelta(hours=2)
    not_full = outages["explanation"].str.split(";").map(lambda xs: "explained" not in xs)
    summary = {
        "outages": len(outages),
        "outages_not_fully_explained": round(float(not_full.mean()), 3),
        "outages_check_exit_1": round(float((outages["exit_code"] == 1).mean()), 3),
        "outages_check_exit_1_at_detect_sensitivity": round(
            float((outages["scan_exit_code"] == 1).mean()), 3
        ),
        "outages_not_flagged": int((outages["explanation"] == "not flagged").sum()),
        "outages_of_2h_check_exit_1": round(
            float((outages.loc[~long, "exit_code"] == 1).mean()), 3
        ),
        "outages_of_3h_or_more_check_exit_1": round(
            float((outages.loc[long, "exit_code"] == 1).mean()), 3
        ),
        **quiet_summary(calm),
        "quiet_days": len(calm_days),
        "quiet_days_check_exit_1": round(float((calm_days["exit_code"] == 1).mean()), 3),
        "quiet_days_check_exit_1_at_detect_sensitivity": round(
            float((calm_days["scan_exit_code"] == 1).mean()), 3
        ),
        "check_seconds_median": round(float(pd.concat([outages, calm])["seconds"].median()), 3),
        "big_event_incidents": len(big),
        "big_event_incidents_explained": round(float((big["explanation"] == "explained").mean()), 3)
        if len(big)
        else None,
        "big_event_outcomes": big["explanation"].value_counts().to_dict(),
        "bases_longest_run_flagged_above": int(bases["longest_run"].max()) if len(bases) else 0,
    }
    tables = {"outages": outages, "quiet": calm, "quiet_days": calm_days}
    return summary, {**tables, "big_events": big, "bases": bases}


def quiet_summary(calm: pd.DataFrame) -> dict:
    """The false-alarm study: how often check exits 1 on spans with nothing injected."""
    at_event = calm["event"] != ""
    fails = calm["exit_code"] == 1
    return {
        "quiet_windows": len(calm),
        "quiet_check_exit_1": round(float(fails.mean()), 3),
        "quiet_check_exit_1_at_detect_sensitivity": round(
            float((calm["scan_exit_code"] == 1).mean()), 3
        ),
        "quiet_at_small_event_check_exit_1": round(float(fails[at_event].mean()), 3),
        "quiet_at_random_hours_check_exit_1": round(float(fails[~at_event].mean()), 3),
    }


def to_markdown(summary: dict, tables: dict[str, pd.DataFrame]) -> str:
    big = tables["big_events"]
    cols = ["freq", "borough", "start", "end", "deviation_pct", "explanation", "note"]
    lines = ["## Earned explanations\n", *[f"- {k}: {v}" for k, v in summary.items()], ""]
    lines += ["### Outages injected during small-effect events\n"]
    lines.append(tables["outages"].to_string(index=False))
    lines += ["", "### Quiet windows (nothing injected): check's false alarms\n"]
    quiet = tables["quiet"]
    lines.append(quiet.drop(columns=["size", "note"]).to_string(index=False))
    lines += ["", "### Quiet days (check over a whole day, nothing injected)\n"]
    days = tables["quiet_days"].drop(columns=["event", "end", "size", "explanation", "note"])
    lines.append(days.to_string(index=False))
    lines += ["", "### Incidents on the days of big calendar events\n"]
    lines.append(big[cols].to_string(index=False) if len(big) else "None.")
    lines += ["", "### Bases flagged above (FOIL, daily)\n", tables["bases"].to_string(index=False)]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--outages", type=int, default=40)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--quiet", type=int, default=100, help="spans with nothing injected")
    args = ap.parse_args()
    summary, tables = run(args.outages, args.seed, args.quiet)
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "explanations.md").write_text(
        f"Command: `python benchmarks/explanations.py {' '.join(sys.argv[1:])}`\n\n"
        + to_markdown(summary, tables)
    )
    print(json.dumps(summary, indent=2, default=str))


if __name__ == "__main__":
    main()
