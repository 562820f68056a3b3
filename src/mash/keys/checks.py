"""The master keyring never forks: it must open every data key the database holds.

A keyring is made only by an explicit step: `mash keys init`, the first `mash migrate` of an empty
database (`first_migrate`), `make run` on a fresh clone (which runs `mash keys init`). It is never made
by a request. Before anything is served or done, the keyring is checked against the database:

- `problems()`: every master key id that wraps data keys in the database must be in the keyring, and
  must open one of them (a keyring of another installation, or an altered file, does not). Each
  problem names the key id and where the keyring was looked for.
- `refuse_to_serve()` (wsgi.py, so gunicorn and runserver) also refuses when there is no keyring at all.
- `mash` commands check first (mash.cli), except `keys init`, `keys status`, `check`, `restore` and help.
- `require()` runs before a new data key or file key is wrapped: nothing is ever written under a
  keyring that cannot open what the database already holds.
"""

from __future__ import annotations

import logging

from django.core import checks as django_checks
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.models import Count, Min

from . import keyring

log = logging.getLogger(__name__)


class KeyringMismatch(keyring.KeyringError):
    """The keyring cannot open the data keys the database holds (missing, another installation's, altered)."""


def _table_exists(using: str) -> bool:
    connection = connections[using]
    with connection.cursor() as cursor:
        return "keys_personkey" in connection.introspection.table_names(cursor)


def data_key_masters(using: str = DEFAULT_DB_ALIAS) -> dict[str, int]:
    """How many live data keys each master key id wraps; empty for a database with none (or no tables yet)."""
    from .models import PersonKey

    if not _table_exists(using):
        return {}
    rows = (PersonKey.objects.using(using).filter(shredded_at__isnull=True).values("master_key_id")
            .annotate(n=Count("id")).values_list("master_key_id", "n"))
    return dict(rows)


def _describe(masters: dict[str, int]) -> str:
    return ", ".join(f"{key_id} ({n} data key{'s' if n != 1 else ''})" for key_id, n in sorted(masters.items()))


def problems(using: str = DEFAULT_DB_ALIAS) -> list[str]:
    """Why the configured keyring cannot serve this database; empty when it can (or holds no data keys)."""
    from .models import PersonKey
    from .wrapping import CannotDecrypt, _unwrap

    masters = data_key_masters(using)
    if not masters:
        return []
    where = keyring.where_it_looks()
    try:
        ring = keyring.load()
    except keyring.KeyringMissing:
        return [f"the database holds data keys wrapped with master key {_describe(masters)}, but there is no "
                f"master keyring ({where}). Put back the keyring kept apart from the backups, or point "
                "MASH_KEY_FILE or MASH_MASTER_KEYS at it; a new keyring could not open these data keys"]
    except keyring.KeyringError as exc:
        return [f"{exc} ({where})"]
    found = []
    missing = {k: n for k, n in masters.items() if k not in ring.keys}
    if missing:
        found.append(f"master key {_describe(missing)} is not in the keyring ({where}): the wrong keyring is "
                     "configured, or the key was retired while data keys still needed it")
    # One data key per master key id must open: a keyring of another installation, or an altered file,
    # can hold a key of the same name that opens nothing.
    firsts = (PersonKey.objects.using(using).filter(shredded_at__isnull=True, master_key_id__in=set(masters) - set(missing))
              .values("master_key_id").annotate(first=Min("id")).values_list("first", flat=True))
    for row in PersonKey.objects.using(using).filter(pk__in=list(firsts)).order_by("master_key_id"):
        try:
            _unwrap(row, ring)
        except CannotDecrypt:
            found.append(f"master key {row.master_key_id} in the keyring ({where}) does not open the data keys "
                         "the database holds under that id: the keyring is another installation's, or was altered")
    return found


def require(using: str = DEFAULT_DB_ALIAS) -> None:
    """Raise KeyringMismatch, naming each key id and where the keyring was looked for, unless it can serve."""
    found = problems(using)
    if found:
        raise KeyringMismatch("The master keyring does not match the database: " + "; ".join(found) + ".")


def startup_problems(using: str = DEFAULT_DB_ALIAS) -> list[str]:
    """`problems()`, and no keyring at all; a database that cannot be reached is not checked here (the
    application cannot serve without it, and `require()` guards every new key once it can)."""
    try:
        found = problems(using)
    except DatabaseError as exc:
        log.warning("keys: could not check the master keyring against the database (%s)", exc)
        found = []
    if not found and not keyring.exists():
        found.append(f"there is no master keyring ({keyring.where_it_looks()}); run `mash keys init` "
                     "for a new installation")
    return found


def refuse_to_serve() -> None:
    """Called where the web application is loaded (wsgi.py): refuse to start rather than serve a forked keyring."""
    found = startup_problems()
    if found:
        message = "MASH Hub refuses to start: " + "; ".join(found) + "."
        log.critical(message)
        raise KeyringMismatch(message)


@django_checks.register(django_checks.Tags.database)
def keyring_matches_database(app_configs=None, databases=None, **kwargs):
    """`mash check --database default` and `mash migrate` report a keyring that cannot serve the database."""
    errors = []
    for using in databases or ():
        try:
            found = problems(using)
        except DatabaseError:
            continue
        errors += [django_checks.Error(p, hint="See docs/encryption.md, 'The keyring never forks'.",
                                       id="keys.E001") for p in found]
    return errors


def first_migrate(sender, using=DEFAULT_DB_ALIAS, verbosity=1, stdout=None, **kwargs):
    """pre_migrate: the first migrate of an empty database makes the keyring if none is configured."""
    if keyring.exists():
        return
    masters = data_key_masters(using)
    if masters:
        require(using)  # raises, naming the keys and where it looked
    ring = keyring.create()
    if verbosity and stdout is not None:
        stdout.write(f"Made a new master keyring at {ring.path} (key {ring.current}). Keep a copy of it apart "
                     "from the database's backups: without it nothing encrypted can be read.\n")
