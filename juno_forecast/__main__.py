"""``python -m juno_forecast`` runs the command line."""

from .cli import main

main()
