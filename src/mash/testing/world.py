"""The world every test starts from: the ISA loaded, and named actors made on first use.

`world.user("police_worker")` is Essex Police's MASH worker, whoever asks for them first: the conftest
fixture `police_worker`, a case builder in mash.testing.cases, or the test itself; each name is one user
per test. `world.make_user(role, partner)` makes anyone else. Every person is synthetic.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.utils import timezone

from mash.accounts.models import Role
from mash.accounts.services import create_user
from mash.partners import services as isa_services
from mash.partners.models import Partner
from mash.training.models import TrainingRecord
from mash.training.services import REQUIRED_ROLES

PASSWORD = "correct-horse-battery-staple-42"


@dataclass(frozen=True)
class Actor:
    role: str
    partner: str | None
    username: str
    extra: dict = field(default_factory=dict)

    def details(self) -> dict:
        """What make_user is given; a lapsed refresher is dated from today."""
        extra = dict(self.extra)
        if extra.get("trained") == "lapsed":
            extra["trained"] = timezone.localdate() - dt.timedelta(days=400)
        return extra


ACTORS = {
    # The MASH team
    "manager": Actor(Role.MASH_MANAGER, None, "manager"),
    "council_worker": Actor(Role.MASH_WORKER, "thurrock-council", "council-worker"),
    "lapsed_manager": Actor(Role.MASH_MANAGER, None, "lapsed-manager", {"trained": "lapsed"}),
    # Partner agencies' MASH workers
    "police_worker": Actor(Role.MASH_WORKER, "essex-police", "police-worker"),
    "education_worker": Actor(Role.MASH_WORKER, "education", "education-worker"),
    "gp_worker": Actor(Role.MASH_WORKER, "nhs-england-gps", "gp-worker"),
    "probation_worker": Actor(Role.MASH_WORKER, "essex-probation", "probation-worker"),
    "nelft_worker": Actor(Role.MASH_WORKER, "nelft", "nelft-worker"),
    "sarc_worker": Actor(Role.MASH_WORKER, "g4s-sarc", "sarc-worker"),
    "untrained_worker": Actor(Role.MASH_WORKER, "essex-police", "untrained-worker", {"trained": False}),
    # Outside the MASH
    "receiving_professional": Actor(Role.RECEIVING_PROFESSIONAL, None, "social-worker", {"team": "Assessment team"}),
    "dpo": Actor(Role.DPO, None, "dpo"),
    "sysadmin": Actor(Role.SYSADMIN, None, "admin"),
    "auditor": Actor(Role.AUDITOR, None, "auditor"),
}


class World:
    """One test's world: made by the `world` fixture (the ISA loaded first), never shared between tests."""

    def __init__(self):
        self.isa_version, _ = isa_services.load_file(settings.MASH_ISA_FILE)
        self._made = 0
        self._users: dict[str, object] = {}

    def partner(self, slug: str) -> Partner:
        return Partner.objects.get(slug=slug)

    def user(self, name: str):
        """The named actor `name` (see ACTORS), made the first time it is asked for."""
        if name not in self._users:
            actor = ACTORS[name]
            self._users[name] = self.make_user(actor.role, actor.partner, username=actor.username,
                                               **actor.details())
        return self._users[name]

    def make_user(self, role: str, partner_slug: str | None = None, **extra):
        """A user of `role`. Staff who must keep a training refresher get a current one, completed 30 days
        ago, unless `trained=False` (none recorded) or `trained=<date>` (completed then)."""
        self._made += 1
        n = self._made
        username = extra.pop("username", f"{role}-{partner_slug or 'x'}-{n}")
        trained = extra.pop("trained", True)
        user = create_user(
            username=username,
            role=role,
            password=PASSWORD,
            first_name=extra.pop("first_name", "Test"),
            last_name=extra.pop("last_name", f"User{n}"),
            partner=Partner.objects.get(slug=partner_slug) if partner_slug else None,
            **extra,
        )
        if trained is not False and role in REQUIRED_ROLES:
            completed = trained if isinstance(trained, dt.date) else timezone.localdate() - dt.timedelta(days=30)
            TrainingRecord.objects.create(user=user, course="Handling confidential information",
                                          completed_on=completed, evidence_reference=f"TEST-{n}")
        return user

    # Enquiries in their first states (the conftest fixtures new_enquiry, rated_enquiry, asked_enquiry).

    def new_enquiry(self, **overrides):
        """Rowan Exampleton's contact (contact_data), recorded by the manager."""
        from mash.cases import services

        return services.record_contact(by=self.user("manager"), **contact_data(**overrides))

    def rate(self, enquiry):
        """Rated amber by the manager."""
        from mash.cases import services

        services.rate(enquiry, by=self.user("manager"), rating="amber", rationale="Injuries seen by school staff")
        return enquiry

    def ask(self, enquiry):
        """Essex Police and Education asked for information by the manager."""
        from mash.sharing import services

        services.request_information(enquiry, by=self.user("manager"), partners=["essex-police", "education"],
                                     question="What do you hold about the child and household?")
        return enquiry


def child_data(**overrides):
    data = dict(first_name="Rowan", last_name="Exampleton", date_of_birth="2016-05-04", gender="female",
                nhs_number="943 476 5919", address_line_1="1 Sample Street", town="Grays", postcode="RM17 6SL")
    data.update(overrides)
    return data


def contact_data(**overrides):
    data = dict(
        child=child_data(),
        reporter_type="school",
        reporter_name="Pat Reporter",
        reporter_organisation="Sample Primary School",
        concern="Child arrived at school with bruising on both arms and said she was afraid to go home.",
        concern_categories=["physical_abuse"],
        consent_at_intake="given",
        related_people=[dict(first_name="Morgan", last_name="Exampleton", relationship="mother",
                             lives_with_child=True, parental_responsibility=True)],
    )
    data.update(overrides)
    return data
