"""A person's amendment history: the earlier details and the reason are encrypted under the person's
data key (docs/encryption.md); retention removes them with the person (retention/tests)."""

import pytest

from mash.keys.tests.test_encryption import all_text_in_the_database
from mash.people import services as people

OLD_NAME = "Quillonbeck"
REASON = "Court order RVZ-4471 changed the surname"


@pytest.mark.django_db
def test_earlier_details_and_the_reason_are_not_stored_in_clear(manager):
    person = people.build_person({"first_name": "Ash", "last_name": OLD_NAME}, by=manager)
    person.save()
    revision = people.amend_person(person, {"last_name": "Marsh"}, reason=REASON, by=manager)
    assert revision.number == 1 and revision.changed_fields == ["last_name"]
    everything = all_text_in_the_database()
    assert OLD_NAME not in everything and REASON not in everything
    # ... and they still read back through the application, in order.
    people.amend_person(person, {"last_name": "Moss"}, reason="Spelling", by=manager)
    first, second = person.revisions.all()
    assert first.previous == {"last_name": OLD_NAME} and first.reason == REASON and first.changed_by == manager
    assert (second.number, second.previous, second.reason) == (2, {"last_name": "Marsh"}, "Spelling")
