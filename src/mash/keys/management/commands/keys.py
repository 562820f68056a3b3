"""`mash keys status|rotate|retire ID`: the master keyring that wraps every person's data key."""

from django.core.management.base import BaseCommand, CommandError

from mash.audit import services as audit
from mash.audit.models import Kind
from mash.keys import keyring, services


class Command(BaseCommand):
    help = "Encryption keys: show the keyring, rotate the master key, retire an old master key."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("status", help="the current master key and how many data keys each wraps")
        sub.add_parser("rotate", help="make a new master key current and re-wrap every data key with it "
                                      "(the data is not re-encrypted)")
        retire = sub.add_parser("retire", help="remove an old master key no data key needs; backups made "
                                               "while it was current can no longer be read")
        retire.add_argument("key_id")

    def handle(self, *args, action=None, **options):
        try:
            if action == "rotate":
                result = services.rotate()
                audit.record(Kind.ADMIN, "rotate master key", username="mash keys", object_type="master key",
                             object_ref=result["current"], detail=f"re-wrapped {result['rewrapped']} data keys")
                self.stdout.write(f"Master key {result['current']} is now current; re-wrapped "
                                  f"{result['rewrapped']} data key(s). Earlier keys kept for earlier backups: "
                                  f"{', '.join(result['previous']) or 'none'} (`mash keys retire ID` removes one).")
            elif action == "retire":
                services.retire(options["key_id"])
                audit.record(Kind.ADMIN, "retire master key", username="mash keys", object_type="master key",
                             object_ref=options["key_id"])
                self.stdout.write(f"Retired master key {options['key_id']}.")
            else:
                s = services.status()
                self.stdout.write(f"Keyring: {s['source']}")
                for key_id, n in s["master_keys"].items():
                    mark = " (current)" if key_id == s["current"] else ""
                    self.stdout.write(f"  {key_id}{mark}: wraps {n} data key(s)")
                for key_id in s["missing"]:
                    self.stdout.write(f"  {key_id}: MISSING from the keyring; data keys wrapped with it cannot be read")
                self.stdout.write(f"Destroyed data keys: {s['shredded']} (register: {s['register']})")
        except keyring.KeyringError as exc:
            raise CommandError(str(exc)) from None
