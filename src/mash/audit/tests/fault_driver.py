"""Runs one step of the audit log in its own process, for the crash tests (test_faults.py).

    python -m mash.audit.tests.fault_driver record N | seal | checkpoint | check

The database is $MASH_DATABASE_URL; MASH_FAULT_POINT, if set, kills the process at that point.
`check` recovers as an operator would (record one more event, seal, sign a checkpoint) and prints,
as JSON, what `verify --checkpoints` says and how many events, seals and checkpoints there are.
"""

import json
import os
import sys


def main(argv: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mash.settings")
    import django

    django.setup()
    from pathlib import Path

    from mash.audit import services
    from mash.audit.models import AuditEvent, Checkpoint, Kind, Seal

    action = argv[0]
    if action == "record":
        start = AuditEvent.objects.count()
        for n in range(int(argv[1])):
            services.record(Kind.READ, f"crash-test read {start + n}", people=[1 + n % 3], fields=["child"],
                            object_type="enquiry", object_ref=f"MASH-2026-{start + n:06d}")
    elif action == "seal":
        services.seal()
    elif action == "checkpoint":
        services.checkpoint_now()
    elif action == "check":
        services.record(Kind.READ, "after the crash", people=[1])
        services.seal()
        services.checkpoint_now()
        outside = Path(os.environ["MASH_AUDIT_CHECKPOINT_FILE"])
        services.export_checkpoints(outside.with_suffix(".export"))
        key, _ = services.read_checkpoint_file(outside.with_suffix(".export"))
        _, rows = services.read_checkpoint_file(outside)
        report = services.verify(key, rows)
        print(json.dumps({
            "ok": report.ok, "problems": report.problems, "events": AuditEvent.objects.count(),
            "sealed": Seal.objects.count(), "pending": report.pending,
            "late": [late.event_id for late in services.late_events()],
            "checkpoints": list(Checkpoint.objects.order_by("count").values_list("count", flat=True)),
            "file": [row["count"] for row in rows]}))
    else:
        raise SystemExit(f"unknown action {action}")


if __name__ == "__main__":
    main(sys.argv[1:])
