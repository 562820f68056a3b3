"""The `mash` command: Django's management commands under one name.

`mash isa validate FILE`, `mash token create USER`, `mash demo`, `mash migrate`, `mash runserver` ...

Before any command the master keyring is checked against the database (mash.keys.checks): with data
keys whose master key is missing or wrong, the command refuses, naming the key id and where the keyring
was looked for. Not checked: help, `check`, `keys init` and `keys status` (they say what is wrong
themselves), and `restore` (it replaces the database, and checks the backup's key itself).
"""

import os
import sys

UNCHECKED = {"help", "--help", "-h", "version", "--version", "check", "restore"}
UNCHECKED_KEYS = {"init", "status"}


def _checked(argv: list[str]) -> bool:
    args = [a for a in argv[1:] if not a.startswith("-") or a in UNCHECKED]
    if not args or args[0] in UNCHECKED:
        return False
    if args[0] == "keys" and (len(args) < 2 or args[1] in UNCHECKED_KEYS):
        return False
    return True


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mash.settings")
    from django.core.management import execute_from_command_line

    argv = list(sys.argv if argv is None else argv)
    argv[0] = "mash"
    if _checked(argv):
        _check_keyring()
    execute_from_command_line(argv)


def _check_keyring() -> None:
    import django
    from django.db import DatabaseError

    django.setup()
    from mash.keys import checks, keyring

    try:
        checks.require()
    except keyring.KeyringError as exc:
        sys.stderr.write(f"mash: {exc}\n")
        sys.exit(1)
    except DatabaseError:
        pass  # no database to check against: the command says so itself if it needs one


if __name__ == "__main__":
    main()
