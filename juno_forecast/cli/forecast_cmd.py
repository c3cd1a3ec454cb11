"""Placeholder: commands of this group are registered here."""

import click


def register(group: click.Group) -> None:
    """Add this module's commands to ``group``."""
