"""`mash backup PATH`: the database, encrypted under the master key, in one file (docs/backups.md)."""

from django.core.management.base import BaseCommand, CommandError

from mash.backups import services


def size(n: float) -> str:
    if n < 1024:
        return f"{int(n)} bytes"
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        n /= 1024
        if n < 1024 or unit == "TiB":
            return f"{n:.1f} {unit}"


class Command(BaseCommand):
    help = ("Back up the database (SQLite or PostgreSQL) to PATH, encrypted with a file key wrapped by the "
            "current master key. Keep the keyring and the shred register apart from the backups.")

    def add_arguments(self, parser):
        parser.add_argument("path", help="the backup file to write (replaced if it exists)")

    def handle(self, *args, path, **options):
        try:
            summary = services.backup(path)
        except services.BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"Backed up the {summary['engine']} database ({summary['tables']} tables, {summary['rows']} rows): "
            f"{size(summary['bytes'])} encrypted under master key {summary['master_key_id']} to {summary['path']}")
        for leftover in summary["leftovers"]:
            self.stdout.write(f"Removed {leftover}, left by an interrupted run.")
