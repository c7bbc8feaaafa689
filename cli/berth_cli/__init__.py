"""berth: the command-line client of a Berth hosting panel (sites, deploys, logs, previews)."""

__version__ = "0.1.0"
