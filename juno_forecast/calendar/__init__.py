"""The events calendar: what happens when in New York, and what it does to ride metrics.

``Calendar.load(path)`` reads and strictly validates a calendar YAML (``None``:
the shipped ``events_calendar.yaml``; ``"none"``: an empty calendar);
``cal.occurrences(start, end)`` lists the concrete occurrences as a DataFrame;
``cal.with_weather(path)`` adds weather events found in observations.
"""

from .model import OCCURRENCE_COLUMNS, Calendar, default_calendar_path, load_calendar
from .records import CATEGORIES, Event
from .weather import read_weather

__all__ = [
    "Calendar",
    "load_calendar",
    "default_calendar_path",
    "OCCURRENCE_COLUMNS",
    "CATEGORIES",
    "Event",
    "read_weather",
]
