"""`mash training import FILE.csv` (completions from a learning system, all or nothing) and
`mash training remind` (email reminders before refreshers expire; run it daily)."""

import datetime as dt
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from mash.training import services


class Command(BaseCommand):
    help = "Training refreshers: import completions from a learning system's CSV export; send reminders."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import", help="import completions (username, course, completed_on, "
                                            "evidence_reference); nothing is applied if any row is wrong")
        imp.add_argument("file")
        remind = sub.add_parser("remind", help="email staff whose refresher expires within 30, 14 or 7 days "
                                               "(each reminder once); run daily")
        remind.add_argument("--dry-run", action="store_true", help="list who would be reminded; send nothing")
        remind.add_argument("--today", help="act as if today were this date (YYYY-MM-DD)")

    def handle(self, *args, action=None, **options):
        if action == "remind":
            return self.remind(options)
        return self.import_file(Path(options["file"]))

    def import_file(self, path: Path):
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

    def remind(self, options):
        today = None
        if options.get("today"):
            try:
                today = dt.date.fromisoformat(options["today"])
            except ValueError:
                raise CommandError(f"--today '{options['today']}' is not a date (YYYY-MM-DD)") from None
        run = services.send_reminders(today=today, dry_run=options["dry_run"])
        verb = "would remind" if options["dry_run"] else "reminded"
        for due in run.sent:
            self.stdout.write(f"{verb} {due.user.username} <{due.user.email}>: expires {due.expires_on} "
                              f"({due.days_left} days left, the {due.days_before}-day reminder)")
        for due in run.no_email:
            self.stderr.write(f"{due.user.username} has no email address: not reminded "
                              f"(expires {due.expires_on})")
        for due, error in run.failed:
            self.stderr.write(f"{due.user.username}: the email could not be sent ({error}); the next run retries")
        self.stdout.write(f"{len(run.sent)} reminder(s) {'due' if options['dry_run'] else 'sent'}")
        if run.failed:
            raise CommandError(f"{len(run.failed)} reminder(s) could not be sent")
