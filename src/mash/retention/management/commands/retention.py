"""`mash retention run [--dry-run] [--today D]` (run it daily), `mash retention schedule [--days N]`,
`mash retention hold ENQUIRY|--person ID --reason ... --by USER`, `mash retention lift HOLD --reason ... --by USER`,
`mash retention holds [--all]`."""

import datetime as dt

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from mash.core.errors import DomainError
from mash.retention import services


def _date(text: str | None) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--today '{text}' is not a date (YYYY-MM-DD)") from None


class Command(BaseCommand):
    help = "Retention under the ISA: dispose of enquiries whose period has ended; legal holds."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        run = sub.add_parser("run", help="delete or anonymise every enquiry whose retention period has ended")
        run.add_argument("--dry-run", action="store_true", help="list what would be disposed of; change nothing")
        run.add_argument("--today", help="act as if today were this date (YYYY-MM-DD)")
        schedule = sub.add_parser("schedule", help="what falls due within the next N days")
        schedule.add_argument("--days", type=int, default=30)
        schedule.add_argument("--today")
        hold = sub.add_parser("hold", help="keep an enquiry (or all about a person) past its retention period")
        hold.add_argument("enquiry", nargs="?", default="")
        hold.add_argument("--person", type=int)
        hold.add_argument("--reason", required=True)
        hold.add_argument("--by", required=True, help="the username placing the hold")
        lift = sub.add_parser("lift", help="lift a legal hold (it is kept, with who lifted it and why)")
        lift.add_argument("hold", type=int)
        lift.add_argument("--reason", required=True)
        lift.add_argument("--by", required=True)
        holds = sub.add_parser("holds", help="list active legal holds")
        holds.add_argument("--all", action="store_true", help="lifted holds too, with who lifted them and why")

    def handle(self, *args, action=None, **options):
        try:
            getattr(self, action)(options)
        except DomainError as exc:
            raise CommandError(str(exc)) from None

    def _user(self, username: str):
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"no active user {username!r}")
        return user

    def _line(self, due) -> str:
        held = f"  HELD: {'; '.join(_shown(h, 'reason') for h in due.holds)}" if due.held else ""
        return (f"{due.enquiry.reference or due.enquiry.pk}  {due.decision.outcome}  ISA {due.isa_version} "
                f"clause {due.clause}: {due.retain_for_months} months from {due.decided_on}, due {due.due_on}  "
                f"-> {due.action}{held}")

    def run(self, options):
        result = services.run(today=_date(options.get("today")), dry_run=options["dry_run"])
        verb = "Would dispose of" if result.dry_run else "Due"
        self.stdout.write(f"{verb} {len(result.due) - len(result.held)} enquiry(ies) on {result.today}; "
                          f"{len(result.held)} kept under a legal hold.")
        for due in result.due:
            self.stdout.write("  " + self._line(due))
        for tombstone in result.disposed:
            self.stdout.write(f"Disposed of {tombstone.enquiry_reference}: {tombstone.get_action_display().lower()}"
                              f" ({', '.join(f'{k} {v}' for k, v in sorted(tombstone.rows.items()))}); "
                              f"{tombstone.keys_destroyed} data key(s) destroyed")
        for due, error in result.failed:
            self.stderr.write(f"FAILED {due.enquiry.reference}: {error} (left as it was)")
        if result.failed:
            raise CommandError(f"{len(result.failed)} enquiry(ies) could not be disposed of")

    def schedule(self, options):
        found = services.schedule(today=_date(options.get("today")), horizon_days=options["days"])
        self.stdout.write(f"{len(found)} enquiry(ies) due within {options['days']} days:")
        for due in found:
            self.stdout.write("  " + self._line(due))

    def hold(self, options):
        hold = services.place_hold(by=self._user(options["by"]), reason=options["reason"],
                                   enquiry_reference=options["enquiry"], person_id=options.get("person"))
        self.stdout.write(f"Legal hold {hold.pk} placed.")

    def lift(self, options):
        services.lift_hold(options["hold"], by=self._user(options["by"]), reason=options["reason"])
        self.stdout.write(f"Legal hold {options['hold']} lifted.")

    def holds(self, options):
        from mash.retention.models import LegalHold

        found = LegalHold.objects.select_related("enquiry", "placed_by", "lifted_by")
        if not options.get("all"):
            found = found.filter(lifted_at__isnull=True)
        for hold in found:
            what = hold.enquiry.reference if hold.enquiry_id else f"person {hold.person_id}"
            line = f"{hold.pk}  {what}  placed {hold.placed_at:%Y-%m-%d} by {hold.placed_by}: {_shown(hold, 'reason')}"
            if hold.lifted_at:
                line += f"; lifted {hold.lifted_at:%Y-%m-%d} by {hold.lifted_by}: {_shown(hold, 'lift_reason')}"
            self.stdout.write(line)


def _shown(hold, attr: str) -> str:
    """A hold's reason as the command prints it. Encrypted under the held person's key: a key destroyed by
    retention (e.g. a backup restored with a hold since lifted, whose person was then disposed of) leaves it
    unreadable, which is said, not raised; retention empties the reasons of a disposed person's holds."""
    from mash.keys.services import DataShredded

    try:
        text = getattr(hold, attr)
    except DataShredded:
        return "(unreadable: the person's data key was destroyed)"
    return text or "(not kept: removed by retention)"
