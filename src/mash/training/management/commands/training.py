"""`mash training import FILE.csv`: completions exported from a learning system, all or nothing."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from mash.training import services


class Command(BaseCommand):
    help = "Training refreshers: import completions from a learning system's CSV export."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import", help="import completions (username, course, completed_on, "
                                            "evidence_reference); nothing is applied if any row is wrong")
        imp.add_argument("file")

    def handle(self, *args, action=None, file=None, **options):
        path = Path(file)
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"cannot read {path}: {exc}") from None
        try:
            made = services.import_csv(text, source=path.name)
        except services.ImportFailed as exc:
            for error in exc.errors:
                self.stderr.write(f"{path.name}: {error}")
            raise CommandError(f"{len(exc.errors)} error(s): nothing was imported") from None
        self.stdout.write(f"Imported {len(made)} training completion(s) from {path.name}")
