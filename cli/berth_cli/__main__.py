"""``python -m berth_cli``: the same as the ``berth`` command."""

from berth_cli.main import cli

cli()
