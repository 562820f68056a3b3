"""Runs one step of the audit log in its own process, for the crash tests (test_faults.py).

    python -m mash.audit.tests.fault_driver record N | seal | checkpoint | check | gap

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

    from mash.audit import checkpoints, sealing, services, verification
    from mash.audit.models import AuditEvent, Checkpoint, Kind, Seal

    action = argv[0]
    if action == "record":
        start = AuditEvent.objects.count()
        for n in range(int(argv[1])):
            services.record(Kind.READ, f"crash-test read {start + n}", people=[1 + n % 3], fields=["child"],
                            object_type="enquiry", object_ref=f"MASH-2026-{start + n:06d}")
    elif action == "seal":
        sealing.seal()
    elif action == "checkpoint":
        sealing.checkpoint_now()
    elif action == "check":
        services.record(Kind.READ, "after the crash", people=[1])
        sealing.seal()
        sealing.checkpoint_now()
        outside = Path(os.environ["MASH_AUDIT_CHECKPOINT_FILE"])
        checkpoints.export_checkpoints(outside.with_suffix(".export"))
        key, _ = checkpoints.read_checkpoint_file(outside.with_suffix(".export"))
        _, rows = checkpoints.read_checkpoint_file(outside)
        report = verification.verify(key, rows)
        print(json.dumps({
            "ok": report.ok, "problems": report.problems, "events": AuditEvent.objects.count(),
            "sealed": Seal.objects.count(), "pending": report.pending,
            "late": [late.event_id for late in sealing.late_events()],
            "checkpoints": list(Checkpoint.objects.order_by("count").values_list("count", flat=True)),
            "file": [row["count"] for row in rows]}))
    elif action == "gap":
        print(json.dumps(gap()))
    else:
        raise SystemExit(f"unknown action {action}")


def gap() -> dict:
    """PostgreSQL: a transaction holds a number while a later one commits; the sealer must wait at the gap.

    Thread A records an event in a transaction it keeps open; B records one after it and commits;
    the sealer runs (and must seal nothing past A's number); A commits; the sealer runs again."""
    import threading

    from django.db import connection, transaction

    from mash.audit import sealing, services, verification
    from mash.audit.models import Kind, Seal

    sealing.seal()
    numbered, release, done = threading.Event(), threading.Event(), threading.Event()
    ids = {}

    def holder():
        with transaction.atomic():
            ids["a"] = services.record(Kind.READ, "held open").id
            numbered.set()
            release.wait(30)
        connection.close()
        done.set()

    def later():
        ids["b"] = services.record(Kind.READ, "committed first").id
        connection.close()

    a = threading.Thread(target=holder)
    a.start()
    numbered.wait(30)
    b = threading.Thread(target=later)
    b.start()
    b.join()
    sealed_while_open = sealing.seal()
    release.set()
    done.wait(30)
    sealed_after = sealing.seal()
    order = list(Seal.objects.order_by("-position").values_list("event_id", flat=True)[:2])[::-1]
    report = verification.verify()
    return {"a": ids["a"], "b": ids["b"], "sealed_while_open": sealed_while_open, "sealed_after": sealed_after,
            "order": order, "ok": report.ok, "problems": report.problems,
            "late": [late.event_id for late in sealing.late_events()]}


if __name__ == "__main__":
    main(sys.argv[1:])
