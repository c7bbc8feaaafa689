#!/usr/bin/env python
"""Django's command-line utility for Berth."""

import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "controlpanel.settings")
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(sys.argv)
    except KeyboardInterrupt:  # Ctrl+C before a command took over: end quietly, as shells expect
        sys.exit(130)


if __name__ == "__main__":
    main()
