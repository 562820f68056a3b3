"""`mash audit verify|seal|checkpoint|export-checkpoints|public-key|grant`.

    mash audit verify [--checkpoints FILE] [--public-key KEY]   exit 1 and name the first bad event
    mash audit seal [--sweep]          hash pending events into the chain (a timer can run it); --sweep also
                                       lists events behind the sealer (late or backdated) and exits 1 if any
    mash audit checkpoint              seal, then sign a checkpoint now
    mash audit export-checkpoints FILE every checkpoint and the public key, for keeping elsewhere
    mash audit public-key              the key that checks the checkpoints (base64 Ed25519)
    mash audit grant ROLE              PostgreSQL: let the application's role only append to the log
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from mash.audit import chain, sealing, verification
from mash.audit.checkpoints import export_checkpoints, read_checkpoint_file, signing_key

AUDIT_TABLES = ["audit_auditevent", "audit_eventperson", "audit_seal", "audit_checkpoint"]
CURSOR_TABLE = "audit_sealcursor"  # the sealer's bookmark: the application may move it forward (its trigger), never remove it


class Command(BaseCommand):
    help = "Verify, seal and checkpoint the tamper-evident audit log."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True,
                                    metavar="{verify,seal,checkpoint,export-checkpoints,public-key,grant}")
        verify = sub.add_parser("verify", help="check the chain, the checkpoints and their signatures")
        verify.add_argument("--checkpoints", type=Path, help="a file from export-checkpoints (or "
                            "MASH_AUDIT_CHECKPOINT_FILE) to check the database against")
        verify.add_argument("--public-key", help="the public key (base64) to check signatures with; by default "
                            "the one in the checkpoints file, else the one of the signing key")
        seal = sub.add_parser("seal", help="hash events not yet sealed into the chain")
        seal.add_argument("--sweep", action="store_true", help="also list the events behind the sealer (committed "
                          "late or backdated), which are never sealed; exit 1 if there are any")
        sub.add_parser("checkpoint", help="seal, then sign a checkpoint of the log as it is")
        export = sub.add_parser("export-checkpoints", help="write every checkpoint and the public key to FILE")
        export.add_argument("file", type=Path)
        sub.add_parser("public-key", help="print the public key that checks the checkpoints")
        grant = sub.add_parser("grant", help="PostgreSQL: give ROLE what the application needs, and on the "
                               "audit tables only SELECT and INSERT")
        grant.add_argument("role")

    def handle(self, *args, action, **options):
        return getattr(self, "_" + action.replace("-", "_"))(**options)

    def _verify(self, checkpoints=None, public_key=None, **options):
        outside, file_key = None, None
        if checkpoints:
            try:
                file_key, outside = read_checkpoint_file(checkpoints)
            except (OSError, ValueError) as exc:
                raise CommandError(f"{checkpoints}: cannot read it as a checkpoints file ({exc})") from None
        try:
            report = verification.verify(public_key or file_key, outside)
        except ValueError as exc:
            raise CommandError(f"the public key is not a base64 Ed25519 key ({exc})") from None
        rate = report.sealed / report.seconds if report.seconds else 0
        self.stdout.write(f"{report.sealed} sealed events checked, {report.checkpoints} signed checkpoints, "
                          f"{report.pending} not yet sealed; {report.seconds:.2f} s ({rate:,.0f} events/s)")
        if report.ok:
            self.stdout.write(self.style.SUCCESS("OK: the audit log is intact"))
            return
        for problem in report.problems:
            self.stderr.write(f"TAMPERED: {problem}")
        if report.first_bad_event is not None:
            self.stderr.write(f"first bad event: #{report.first_bad_event}"
                              + (f" (position {report.first_bad_position})" if report.first_bad_position else ""))
        elif report.first_bad_position is not None:
            self.stderr.write(f"first bad event: the one at position {report.first_bad_position}, now missing")
        raise SystemExit(1)

    def _seal(self, sweep=False, **options):
        self.stdout.write(f"sealed {sealing.seal()} events")
        if not sweep:
            return
        late = sealing.late_events()
        if not late:
            self.stdout.write("no events behind the sealer")
            return
        for finding in late:
            self.stderr.write(f"FINDING: {finding.reason}")
        self.stderr.write(f"{len(late)} event(s) behind the sealer, not sealed: "
                          + ", ".join(f"#{f.event_id}" for f in late))
        raise SystemExit(1)

    def _checkpoint(self, **options):
        cp = sealing.checkpoint_now()
        if cp is None:
            self.stdout.write("nothing new to checkpoint")
        else:
            self.stdout.write(f"checkpoint of {cp.count} events, root {cp.root}, key {cp.key_id}")

    def _export_checkpoints(self, file, **options):
        n = export_checkpoints(file)
        self.stdout.write(f"wrote {n} checkpoints to {file}")

    def _public_key(self, **options):
        self.stdout.write(chain.public_text(signing_key().public_key()))

    def _grant(self, role, **options):
        if connection.vendor != "postgresql":
            raise CommandError("roles and privileges are PostgreSQL's; on SQLite the triggers alone guard the log")
        qn = connection.ops.quote_name
        tables = ", ".join(AUDIT_TABLES)
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
            if cur.fetchone() is None:
                raise CommandError(f"no PostgreSQL role called '{role}'")
            r = qn(role)
            cur.execute(f"GRANT USAGE ON SCHEMA public TO {r}")
            cur.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {r}")
            cur.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {r}")
            cur.execute(f"REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON {tables} FROM {r}")
            cur.execute(f"REVOKE DELETE, TRUNCATE, REFERENCES, TRIGGER ON {CURSOR_TABLE} FROM {r}")
        self.stdout.write(f"{role}: may read and write the application's tables; on {tables} only SELECT and INSERT; "
                          f"on {CURSOR_TABLE} no DELETE or TRUNCATE (and its trigger lets it only move forward)")
