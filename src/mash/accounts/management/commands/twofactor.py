"""`mash twofactor status [USERNAME]`, `mash twofactor reset USERNAME --reason TEXT`.

For system administrators: who has set up two-factor sign-in, and resetting it for someone who has lost
their phone and backup codes (they set up a new authenticator app at their next sign-in).
"""

from django.core.management.base import BaseCommand, CommandError

from mash.accounts.models import User
from mash.accounts.services import backup_codes_left, has_two_factor, reset_two_factor


class Command(BaseCommand):
    help = "Show or reset users' two-factor sign-in."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", metavar="{status,reset}", required=True)
        status = sub.add_parser("status", help="who has an authenticator app set up")
        status.add_argument("username", nargs="?")
        reset = sub.add_parser("reset", help="remove a user's authenticator app and backup codes")
        reset.add_argument("username")
        reset.add_argument("--reason", required=True, help="why, for the audit log (e.g. 'lost phone, ticket 1234')")

    def handle(self, *args, action, **options):
        return getattr(self, f"_{action}")(**options)

    def _status(self, username=None, **options):
        users = User.objects.filter(is_active=True).order_by("username")
        if username:
            users = users.filter(username=username)
            if not users.exists():
                raise CommandError(f"No active user called '{username}'")
        for user in users:
            state = f"on ({backup_codes_left(user)} backup codes left)" if has_two_factor(user) else "NOT SET UP"
            self.stdout.write(f"{user.username:30} {state}")

    def _reset(self, username, reason, **options):
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user called '{username}'")
        if not reason.strip():
            raise CommandError("Give a reason (--reason)")
        removed = reset_two_factor(user, reason=reason.strip())
        self.stdout.write(self.style.SUCCESS(
            f"Two-factor sign-in reset for {username} ({removed} record(s) removed): they set up an "
            f"authenticator app at their next sign-in"))
