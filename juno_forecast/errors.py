"""Errors a user can act on.

Every error meant for a user derives from :class:`JunoError`. The command line
prints its message as one line (no traceback unless ``--debug``) and exits 2.
"""

from __future__ import annotations


class JunoError(Exception):
    """A problem with the user's input or usage; the message says what and where."""

    exit_code = 2


class InputError(JunoError):
    """Bad input file, flag or argument (exit 2)."""


class FileErrors(InputError):
    """A YAML file (calendar, batch config) with one or more errors, all reported at once.

    ``errors`` holds every message, each ``FILE:LINE: field.path: expected ..., got ...``;
    the command line prints one line per message.
    """

    def __init__(self, errors: list[str]):
        self.errors = list(errors)
        super().__init__("\n".join(self.errors))


class CalendarError(FileErrors):
    """An events calendar file with one or more errors (see :class:`FileErrors`)."""


class ConfigError(FileErrors):
    """A nightly batch config file with one or more errors (see :class:`FileErrors`)."""


class SeriesError(JunoError):
    """One series cannot be used (too short, bad values...); other series go on.

    ``series`` names the series, e.g. ``metric=trips borough=Bronx``.
    """

    def __init__(self, series: str, message: str):
        self.series = series
        super().__init__(f"{series}: {message}")


class JunoWarning(UserWarning):
    """Something a user must know that did not stop the run (history dropped, a cutoff moved).

    The command line prints each as one ``warning: ...`` line on stderr.
    """


class SkippedWarning(JunoWarning):
    """A series was skipped (it is also listed in ``result.attrs["problems"]``).

    The command line prints skipped series itself, as ``skipped: ...`` lines.
    """


class NoSeriesError(InputError):
    """Every series was skipped, so there is no result at all (exit 2).

    ``errors`` holds the headline and one ``skipped: ...`` line per series.
    """

    def __init__(self, what: str, problems: list[str]):
        self.problems = list(problems)
        self.errors = [
            f"{what}: no series could be used ({len(self.problems)} skipped)",
            *(f"skipped: {p}" for p in self.problems),
        ]
        super().__init__("\n".join(self.errors))
