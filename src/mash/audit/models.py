"""The audit log: append-only tables, sealed into a hash chain after the fact.

`AuditEvent` rows are written on the request path (in the same transaction as the change they
record) and never changed: the database refuses UPDATE and DELETE (and TRUNCATE on PostgreSQL),
see migration 0002. The sealer (`sealing.seal`) then hashes events in order into `Seal` rows and
signs `Checkpoint`s: appending never waits on a single locked head row.

No foreign keys leave these tables: the log records who and what as plain values, so it stands on
its own and nothing elsewhere can cascade into it.
"""

from django.db import models
from django.utils import timezone


class Kind(models.TextChoices):
    READ = "read", "Read"
    WRITE = "write", "Change"
    DISCLOSURE = "disclosure", "Disclosure"
    EXPORT = "export", "Export"
    LOGIN = "login", "Sign-in"
    LOGOUT = "logout", "Sign-out"
    LOGIN_FAILED = "login_failed", "Failed sign-in"
    ADMIN = "admin", "Administrative change"
    DENIAL = "denial", "Access refused"


class Result(models.TextChoices):
    OK = "ok", "Done"
    REFUSED = "refused", "Refused"
    FAILED = "failed", "Failed"


class AuditEvent(models.Model):
    id = models.BigAutoField(primary_key=True)  # the sequence number, taken at insert
    at = models.DateTimeField(default=timezone.now, db_index=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    action = models.CharField(max_length=80, help_text="what was done, in the gate's or the service's words")
    result = models.CharField(max_length=10, choices=Result.choices, default=Result.OK)
    actor_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    actor = models.CharField(max_length=150, blank=True, help_text="username at the time")
    role = models.CharField(max_length=32, blank=True)
    organisation = models.CharField(max_length=80, blank=True, help_text="the actor's agency, by ISA id")
    ip = models.CharField(max_length=45, blank=True)
    request_id = models.CharField(max_length=32, blank=True)
    object_type = models.CharField(max_length=40, blank=True)
    object_ref = models.CharField(max_length=300, blank=True, help_text="references, comma-separated")
    people = models.JSONField(default=list, blank=True, help_text="ids of the people whose data this was")
    fields = models.JSONField(default=list, blank=True, help_text="which parts were read or changed")
    purpose = models.CharField(max_length=120, blank=True)
    detail = models.CharField(max_length=500, blank=True, help_text="never case content: a reason, a count")

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        return f"#{self.id} {self.at:%Y-%m-%d %H:%M:%S} {self.actor or '-'} {self.kind} {self.action}"

    def canonical_values(self) -> dict:
        """Every column, as the chain hashes it (see chain.canonical)."""
        return canonical_values({name: getattr(self, name) for name in HASHED_COLUMNS})


# Every column of an event, in the form the chain hashes (a new column must be added here).
HASHED_COLUMNS = ("id", "at", "kind", "action", "result", "actor_id", "actor", "role", "organisation", "ip",
                  "request_id", "object_type", "object_ref", "people", "fields", "purpose", "detail")


def canonical_values(row: dict) -> dict:
    values = {name: row[name] for name in HASHED_COLUMNS}
    values["people"] = [int(p) for p in row["people"] or []]
    values["fields"] = [str(f) for f in row["fields"] or []]
    return values


class EventPerson(models.Model):
    """An index of events by person, for "who has seen this child's record" (verify checks it)."""

    event = models.ForeignKey(AuditEvent, on_delete=models.PROTECT, related_name="+", db_constraint=True)
    person_id = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["person_id", "event"], name="audit_person_event")]
        constraints = [models.UniqueConstraint(fields=["event", "person_id"], name="audit_event_person_unique")]


class Seal(models.Model):
    """An event's place in the hash chain, written by the sealer."""

    position = models.BigIntegerField(primary_key=True)
    event = models.OneToOneField(AuditEvent, on_delete=models.PROTECT, related_name="seal")
    leaf = models.CharField(max_length=64)
    chain = models.CharField(max_length=64)
    sealed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["position"]


class Checkpoint(models.Model):
    """A signed statement of the log's size and Merkle root at a moment."""

    count = models.BigIntegerField(unique=True)
    root = models.CharField(max_length=64)
    chain_head = models.CharField(max_length=64)
    at = models.DateTimeField()
    key_id = models.CharField(max_length=16)
    signature = models.CharField(max_length=100)
    frontier = models.JSONField(help_text="the Merkle frontier, so the next checkpoint need not reread the log")

    class Meta:
        ordering = ["count"]

    def as_export(self) -> dict:
        from .chain import utc_text

        return {"count": self.count, "root": self.root, "chain_head": self.chain_head, "at": utc_text(self.at),
                "key_id": self.key_id, "signature": self.signature}


class SealCursor(models.Model):
    """The sealer's bookmark: every event numbered up to `below` is sealed, or was reported late.

    One row, which only moves forward: the database refuses to delete it, add a second, or lower
    `below` or `latest` (migration 0003; `mash audit grant` gives the application no DELETE or
    TRUNCATE on it). `latest` is the latest event time sealed so far: an event dated more than
    the grace period before it is not sealed but reported (docs/audit.md, "Late and backdated events")."""

    below = models.BigIntegerField(default=0)
    latest = models.DateTimeField(null=True, blank=True)
    strict_from = models.BigIntegerField(
        default=1, help_text="the first position sealed in strict number order (earlier sealers let a late "
                             "commit in after a higher number); set once by migration 0004, never changed")
