"""The `sunshine` console command: a thin wrapper over Django's management commands.

`sunshine build-demo --seed 1`, `sunshine migrate`, `sunshine import places FILE` …
"""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["sunshine", *sys.argv[1:]])
