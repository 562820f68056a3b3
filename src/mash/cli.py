"""The `mash` command: Django's management commands under one name.

`mash isa validate FILE`, `mash token create USER`, `mash demo`, `mash migrate`, `mash runserver` ...
"""

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mash.settings")
    from django.core.management import execute_from_command_line

    argv = list(sys.argv if argv is None else argv)
    argv[0] = "mash"
    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
