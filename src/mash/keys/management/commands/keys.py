"""`mash keys init|status|rotate|retire ID`: the master keyring that wraps every person's data key."""

from django.core.management.base import BaseCommand, CommandError

from mash.audit import services as audit
from mash.audit.models import Kind
from mash.keys import checks, keyring, services


class Command(BaseCommand):
    help = ("Encryption keys: make the keyring of a new installation, show the keyring, rotate the master key, "
            "retire an old master key.")
    # `init` and `status` must work when the keyring does not match the database (to say so); the others
    # check it themselves (mash.cli, and services.rotate).
    requires_system_checks = []

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("init", help="make the master keyring of a new installation; does nothing (and says so) "
                                    "when one exists and opens every data key in the database")
        sub.add_parser("status", help="the current master key and how many data keys each wraps")
        rotate = sub.add_parser("rotate", help="make a new master key current and re-wrap every data key with it "
                                               "(the data is not re-encrypted)")
        rotate.add_argument("--batch", type=int, default=500, help="data keys re-wrapped per transaction (500)")
        retire = sub.add_parser("retire", help="remove an old master key no data key needs; backups made "
                                               "while it was current can no longer be read")
        retire.add_argument("key_id")

    def handle(self, *args, action=None, **options):
        try:
            if action == "init":
                self._init()
            elif action == "rotate":
                if options["batch"] < 1:
                    raise CommandError("--batch must be at least 1")
                result = services.rotate(batch=options["batch"])
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
                problems = checks.problems()
                if problems and not keyring.exists():
                    checks.require()  # raises, naming the keys the database needs and where it looked
                s = services.status()
                self.stdout.write(f"Keyring: {s['source']}")
                for key_id, n in s["master_keys"].items():
                    mark = " (current)" if key_id == s["current"] else ""
                    self.stdout.write(f"  {key_id}{mark}: wraps {n} data key(s)")
                for key_id in s["missing"]:
                    self.stdout.write(f"  {key_id}: MISSING from the keyring; data keys wrapped with it cannot be read")
                self.stdout.write(f"Destroyed data keys: {s['shredded']} (register: {s['register']})")
                if problems:
                    raise CommandError("The master keyring does not match the database: " + "; ".join(problems) + ".")
        except keyring.KeyringError as exc:
            raise CommandError(str(exc)) from None

    def _init(self):
        if keyring.exists():
            checks.require()  # a keyring that does not match the database: say which key, where
            ring = keyring.load()
            self.stdout.write(f"A master keyring exists ({keyring.where_it_looks()}), current key {ring.current}, "
                              "and it opens every data key in the database: nothing to do.")
            return
        masters = checks.data_key_masters()
        if masters:
            checks.require()  # raises: data keys under a keyring that is not there
        ring = keyring.create()
        self.stdout.write(f"Made a new master keyring at {ring.path} (key {ring.current}). Keep a copy of it apart "
                          "from the database's backups: without it nothing encrypted can be read.")
