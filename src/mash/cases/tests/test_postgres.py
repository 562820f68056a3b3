"""Behaviour that only PostgreSQL shows: row locks under real concurrency."""

import threading

import pytest
from django.conf import settings
from django.db import connection

from mash.cases import services
from mash.cases.models import Decision
from mash.core.errors import InvalidTransition

# Transactional tests empty the tables after each test with TRUNCATE, which the audit log refuses
# (docs/audit.md); so these flush every app but the audit log, whose rows simply stay.
APPS_BUT_AUDIT = [app for app in settings.INSTALLED_APPS if app != "mash.audit"]
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, available_apps=APPS_BUT_AUDIT)]


def test_running_on_postgresql():
    assert connection.vendor == "postgresql"


def test_two_managers_deciding_at_once_record_one_decision(rated_enquiry, manager, make_user):
    """The enquiry row is locked for each transition, so the second decision sees the first."""
    other = make_user("mash_manager", username="second-manager")
    barrier = threading.Barrier(2)
    results = []

    def decide(user):
        barrier.wait()
        try:
            services.decide(rated_enquiry.__class__.objects.get(pk=rated_enquiry.pk), by=user,
                            outcome="no_further_action", rationale="No role for the MASH")
            results.append("decided")
        except InvalidTransition as exc:
            results.append(exc.message)
        finally:
            connection.close()

    threads = [threading.Thread(target=decide, args=(u,)) for u in (manager, other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(results)[0] == "Cannot record a decision: a decision has been recorded (amend the decision instead)"
    assert results.count("decided") == 1
    assert Decision.objects.filter(enquiry=rated_enquiry).count() == 1
