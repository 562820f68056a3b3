"""`mash people reindex`: rebuild every live person's blocking keys (MatchKey) for candidate lookup, e.g.
after the key definitions in people.matching change. Safe to run at any time; each batch is a transaction.

`mash people find-duplicates [--threshold 0.9] [--limit N]`: candidate pairs of live people already recorded,
with their scores, reasons and conflicts (people.selectors.duplicates); a manager reviews them on
/people/duplicates/. It changes nothing; the people it lists are recorded in the audit log as read."""

from django.core.management.base import BaseCommand, CommandError

from mash.audit import services as audit
from mash.audit.models import Kind as AuditKind
from mash.people.selectors import duplicates
from mash.people.services import index


class Command(BaseCommand):
    help = "The person index: rebuild the blocking keys that find candidate matches."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        reindex = sub.add_parser("reindex", help="rebuild every live person's blocking keys (and remove the keys "
                                                 "of merged and anonymised records)")
        reindex.add_argument("--batch", type=int, default=500, help="people per transaction (default 500)")
        found = sub.add_parser("find-duplicates", help="list candidate pairs of live people who may be one person")
        found.add_argument("--threshold", type=float, default=0.9,
                           help="the lowest score listed, 0 to 1 (default 0.9); pairs sharing an NHS number or UPN "
                                "whose other details conflict are listed whatever their score")
        found.add_argument("--limit", type=int, default=None, help="list at most N pairs (default all)")

    def handle(self, *args, action=None, **options):
        if action == "reindex":
            return self.reindex(options)
        if action == "find-duplicates":
            return self.find_duplicates(options)
        raise CommandError(f"unknown action {action}")  # pragma: no cover - argparse refuses it first

    def reindex(self, options):
        if options["batch"] < 1:
            raise CommandError("--batch must be at least 1")
        people, keys = index.reindex_all(batch=options["batch"])
        self.stdout.write(f"Reindexed {people} people: {keys} blocking keys")

    def find_duplicates(self, options):
        threshold, limit = options["threshold"], options["limit"]
        if not 0 <= threshold <= 1:
            raise CommandError("--threshold must be between 0 and 1")
        if limit is not None and limit < 1:
            raise CommandError("--limit must be at least 1")
        pairs = duplicates.candidate_pairs(threshold=threshold, limit=limit)
        audit.record(AuditKind.READ, "person.find_duplicates", object_type="person", object_ref="find-duplicates",
                     people=[p.pk for pair in pairs for p in (pair.a, pair.b)], detail=f"{len(pairs)} pair(s) listed")
        self.stdout.write(f"{len(pairs)} candidate pair(s) scoring at least {threshold:.2f}, or with a conflict, "
                          "highest score first:")
        for pair in pairs:
            conflicts = "".join(f"; CONFLICT: {c}" for c in pair.conflicts)
            self.stdout.write(f"{pair.score:.3f}  {pair.a.pk} {pair.a.full_name}  <->  {pair.b.pk} {pair.b.full_name}"
                              f"  ({', '.join(pair.reasons) or 'no reason in common'}{conflicts})")
