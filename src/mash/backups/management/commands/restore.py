"""`mash restore PATH [--database-url URL] [--force]`: a backup into an empty database (docs/backups.md).

It asks nothing. Inside the restore, every data key in the shred register is destroyed again and
everything in the disposal register is disposed of again, so nothing crypto-shredded or disposed of
since the backup was made comes back.
"""

from django.core.management.base import BaseCommand, CommandError

from mash.backups import services


class Command(BaseCommand):
    help = ("Restore a backup made by `mash backup` into an empty database (the configured one, or "
            "--database-url), destroying again every data key in the shred register and disposing again of "
            "everything in the disposal register.")

    def add_arguments(self, parser):
        parser.add_argument("path", help="the backup file")
        parser.add_argument("--database-url", default=None,
                            help="restore into this database instead of the configured one "
                                 "(sqlite:////path/file.sqlite3 or postgres://user@host/name)")
        parser.add_argument("--force", action="store_true",
                            help="replace a target that is not empty (SQLite: the file; PostgreSQL: schema public)")

    def handle(self, *args, path, database_url, force, **options):
        try:
            summary = services.restore(path, database_url=database_url, force=force)
        except services.BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"Restored the {summary['engine']} backup made {summary['created_at']} into {summary['target']}: "
            f"{summary['tables']} tables, {summary['rows']} rows. Shred register re-applied: "
            f"{summary['reshredded']} data keys destroyed again ({summary['register']} in the register). "
            f"Disposal register re-applied: {summary['redisposed']} enquiries and {summary['people_redisposed']} "
            f"people disposed of again ({summary['disposal_register']} in the register).")
        if summary["migrated"]:
            self.stdout.write(f"The backup was older than this version: {summary['migrated']} migrations applied "
                              "to it, before the registers.")
        for leftover in summary["leftovers"]:
            self.stdout.write(f"Removed {leftover}, left by an interrupted run.")
