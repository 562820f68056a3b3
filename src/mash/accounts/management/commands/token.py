"""`mash token create USERNAME [--name NAME] [--agency SLUG] [--days N]`, `mash token list [USERNAME]`,
`mash token revoke PREFIX`, `mash token revoke --agency SLUG`.

API tokens let a partner agency's system call the JSON API as one user. Each is scoped to one agency (the
user's; for council staff, the council that hosts the MASH) and stops working when the user leaves that
agency, the agency leaves the ISA, it expires, or it is revoked. Only a hash of each token is stored:
`create` prints the token once, and it cannot be shown again.
"""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from mash.accounts.models import ApiToken, User
from mash.accounts.services import create_token, revoke_agency_tokens, revoke_token
from mash.core.errors import DomainError


class Command(BaseCommand):
    help = "Create, list and revoke API tokens for partner systems."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", metavar="{create,list,revoke}", required=True)
        create = sub.add_parser("create", help="create a token for a user and print it once")
        create.add_argument("username")
        create.add_argument("--name", default="", help="what the token is for, e.g. the partner system's name")
        create.add_argument("--agency", default=None,
                            help="the agency the token is scoped to (default: the user's; council staff: the host council)")
        create.add_argument("--days", type=int, default=None, help="days until it expires (default MASH_API_TOKEN_DAYS)")
        listing = sub.add_parser("list", help="list tokens (never the tokens themselves)")
        listing.add_argument("username", nargs="?", help="only this user's tokens")
        revoke = sub.add_parser("revoke", help="revoke the active token that starts with PREFIX, or all of an agency's")
        revoke.add_argument("prefix", nargs="?", help="the prefix `mash token list` shows, e.g. mash_Ab3dE6x")
        revoke.add_argument("--agency", default=None, help="revoke every active token scoped to this agency")

    def handle(self, *args, action, **options):
        return getattr(self, f"_{action}")(**options)

    def _user(self, username: str) -> User:
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user called '{username}'")
        return user

    def _create(self, username, name="", agency=None, days=None, **options):
        user = self._user(username)
        try:
            token, raw = create_token(user, name=name or "", agency_slug=agency, days=days)
        except DomainError as exc:
            raise CommandError(exc.message) from None
        self.stderr.write(self.style.WARNING(
            f"API token {token.key_prefix}… for {user.username}, scoped to {token.partner.name}, expires "
            f"{timezone.localtime(token.expires_at):%Y-%m-%d}. This is the only time it is shown: "
            f"MASH Hub stores only a hash of it. Keep it in the partner system's secret store."
        ))
        # The token alone on stdout, so that a script can capture it.
        self.stdout.write(raw)

    def _list(self, username=None, **options):
        tokens = ApiToken.objects.select_related("user").order_by("user__username", "-created_at")
        if username:
            tokens = tokens.filter(user=self._user(username))
        rows = [
            (
                t.key_prefix,
                t.user.username,
                t.partner.slug if t.partner else "(none: refused)",
                t.name or "-",
                timezone.localtime(t.created_at).strftime("%Y-%m-%d %H:%M"),
                timezone.localtime(t.last_used_at).strftime("%Y-%m-%d %H:%M") if t.last_used_at else "never",
                _status(t),
            )
            for t in tokens
        ]
        if not rows:
            self.stdout.write("No API tokens" + (f" for {username}" if username else ""))
            return
        header = ("PREFIX", "USER", "AGENCY", "NAME", "CREATED", "LAST USED", "STATUS")
        widths = [max(len(r[i]) for r in rows + [header]) for i in range(len(header))]
        for row in [header] + rows:
            self.stdout.write("  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip())

    def _revoke(self, prefix=None, agency=None, **options):
        if bool(prefix) == bool(agency):
            raise CommandError("Give either a token's PREFIX or --agency SLUG")
        try:
            if agency:
                count = revoke_agency_tokens(agency)
                self.stdout.write(self.style.SUCCESS(f"Revoked {count} token{'s' if count != 1 else ''} of {agency}"))
                return
            token = revoke_token(prefix)
        except DomainError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(self.style.SUCCESS(f"Revoked {token.key_prefix}… for {token.user.username}"))


def _status(token: ApiToken) -> str:
    if token.revoked_at:
        return f"revoked {timezone.localtime(token.revoked_at):%Y-%m-%d %H:%M}"
    if token.expires_at and token.expires_at <= timezone.now():
        return f"expired {timezone.localtime(token.expires_at):%Y-%m-%d}"
    return "active" + (f" until {timezone.localtime(token.expires_at):%Y-%m-%d}" if token.expires_at else "")
