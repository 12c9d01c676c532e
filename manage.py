#!/usr/bin/env python
"""Django's command-line utility for PRM."""

import os
import sys

# Schema changes are made by the role that owns the tables; everything else connects as
# the application role, which row-level security applies to (see prm/database.py).
OWNER_COMMANDS = {"migrate", "makemigrations", "sqlmigrate", "showmigrations", "flush"}


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prm.settings")
    if len(sys.argv) > 1 and sys.argv[1] in OWNER_COMMANDS:
        os.environ.setdefault("PRM_DB_AS_OWNER", "1")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
