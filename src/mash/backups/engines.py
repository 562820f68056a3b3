"""The database a backup is made of or restored into: which engine, named without its password, Django's
ORM pointed at it, and the application's own code run there (its migrations, the shred register and the
disposal register) inside the restore."""

import contextlib
import uuid

from django.db import connections
from django.db.utils import load_backend

from mash.core.faults import fault_point
from mash.keys import services as keys

from .fileformat import POSTGRESQL, SQLITE, BackupError


def engine_of(cfg: dict) -> str:
    engine = cfg.get("ENGINE", "")
    if engine.endswith("sqlite3"):
        return SQLITE
    if "postgresql" in engine or "postgis" in engine:
        return POSTGRESQL
    raise BackupError(f"cannot back up or restore a database of engine {engine!r} (only SQLite and PostgreSQL)")


def describe(cfg: dict) -> str:
    """The database, named without its password."""
    if engine_of(cfg) == SQLITE:
        return str(cfg["NAME"])
    host = cfg.get("HOST") or "localhost"
    port = f":{cfg['PORT']}" if cfg.get("PORT") else ""
    user = f"{cfg['USER']}@" if cfg.get("USER") else ""
    return f"postgresql://{user}{host}{port}/{cfg.get('NAME') or ''}"

@contextlib.contextmanager
def orm_on(cfg: dict, *, name: str | None = None):
    """Django's default connection pointed at the target database for the block (for SQLite, `name`
    ":memory:"), so that the application's own code, not a copy of it, applies the registers there."""
    settings_dict = dict(cfg)
    if name:
        settings_dict["NAME"] = name
    settings_dict = connections.configure_settings({"default": settings_dict})["default"]
    wrapper = load_backend(settings_dict["ENGINE"]).DatabaseWrapper(settings_dict, "default")
    previous = connections["default"]
    connections["default"] = wrapper
    try:
        yield wrapper
    finally:
        try:
            raw = wrapper.connection
            wrapper.close()
            if raw is not None:
                raw.close()  # Django keeps an in-memory SQLite database open; this one is done with
        finally:
            connections["default"] = previous
            keys.forget_cached_keys()


def _reshred(key_ids: list[uuid.UUID]) -> int:
    """The shred register applied through the ORM to whatever database it points at."""
    from django.utils import timezone

    from mash.keys.models import PersonKey

    now = timezone.now()
    done = 0
    for start in range(0, len(key_ids), 500):
        done += (PersonKey.objects.filter(key_id__in=key_ids[start:start + 500], shredded_at__isnull=True)
                 .update(wrapped=b"", shredded_at=now))
    return done


def migrate() -> int:
    """Bring a database restored from a backup older than the code up to the code's migrations, so
    that the registers are applied by the code that wrote them. How many migrations ran."""
    from django.core.management import call_command
    from django.db.migrations.loader import MigrationLoader
    from django.db.migrations.recorder import MigrationRecorder

    connection = connections["default"]
    on_disk = MigrationLoader(connection, load=False)
    on_disk.load_disk()
    missing = set(on_disk.disk_migrations) - set(MigrationRecorder(connection).applied_migrations())
    if missing:
        call_command("migrate", interactive=False, verbosity=0)
    return len(missing)


def apply_registers(key_ids: list[uuid.UUID], entries: list) -> tuple[int, dict]:
    """Both registers, in the restore's transaction: keys first, then the disposals (retention's code)."""
    from mash.retention import services as retention

    destroyed = _reshred(key_ids)
    fault_point("restore.after_shred_register")
    return destroyed, retention.reapply(entries)
