"""`mash demo`: demo users for every role and partner agency, and synthetic enquiries in every state.

Safe to run again: users are created once (a given password resets theirs), and the enquiries are
created only when the demo manager has recorded none yet. Every person is invented here.
"""

import datetime as dt
import os
import random
import secrets

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from mash.accounts.models import Role, User
from mash.cases import services as cases
from mash.cases.models import Contact, Decision, Enquiry, EnquiryEvent, RagRatingRecord
from mash.consent.models import ConsentRecord
from mash.consent import services as consent
from mash.disclosure import services as disclosure
from mash.partners import services as isa
from mash.partners.isa import IsaInvalid
from mash.people.identifiers import nhs_check_digit, upn_check_letter
from mash.sharing import services as sharing
from mash.training.models import TrainingRecord

FIRST_NAMES = ["Amelia", "Oliver", "Isla", "Noah", "Ava", "Leo", "Mia", "Arlo", "Freya", "Theo", "Ivy", "Finley"]
ADULT_NAMES = ["Sam", "Alex", "Jordan", "Casey", "Robin", "Morgan", "Jamie", "Charlie"]
SURNAMES = ["Exampleton", "Sampleford", "Mockridge", "Testwood", "Placeholm", "Fictionby", "Demoley"]
STREETS = ["Sample Street", "Example Road", "Fiction Close", "Placeholder Avenue", "Demo Lane"]
POSTCODES = ["RM16 2XJ", "RM17 5TH", "RM20 3LS", "SS17 0BD", "RM17 6SL", "RM16 4QX"]

STAFF = [
    # username, role, first, last, extra
    ("manager", Role.MASH_MANAGER, "Demo", "Manager", {"job_title": "MASH manager"}),
    ("social-worker", Role.RECEIVING_PROFESSIONAL, "Demo", "Social Worker",
     {"team": "Children's Assessment Team", "job_title": "Social worker"}),
    ("early-help", Role.RECEIVING_PROFESSIONAL, "Demo", "Early Help Worker",
     {"team": "Early Help Hub", "job_title": "Family support worker"}),
    ("dpo", Role.DPO, "Demo", "Data Protection Officer", {"job_title": "Data protection officer"}),
    ("admin", Role.SYSADMIN, "Demo", "Administrator", {"job_title": "System administrator"}),
    ("auditor", Role.AUDITOR, "Demo", "Auditor", {"job_title": "Information governance auditor"}),
]


class Command(BaseCommand):
    help = "Create demo users (one per role and per partner agency) and synthetic enquiries in every state."

    def add_arguments(self, parser):
        parser.add_argument("--password", help="password for every demo user (default: $MASH_DEMO_PASSWORD, "
                                               "else a new one is generated for users created now)")

    def handle(self, *args, password=None, **options):
        given = password or os.environ.get("MASH_DEMO_PASSWORD") or None
        new_password = given or secrets.token_urlsafe(12)
        self.rng = random.Random(20261125)
        with transaction.atomic():
            self._load_isa()
            logins = self._users(new_password, reset=bool(given))
            made = self._enquiries()
        self._report(logins, made)

    def _load_isa(self):
        try:
            version, created = isa.load_file(settings.MASH_ISA_FILE)
        except IsaInvalid as exc:
            raise SystemExit(f"{settings.MASH_ISA_FILE}: " + "\n".join(exc.errors)) from None
        self.stdout.write(f"ISA {version.version}: {'loaded' if created else 'already loaded'}")

    def _user(self, username, role, first, last, password, reset, **extra):
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User(username=username, role=role, first_name=first, last_name=last,
                        email=f"{username}@mash-demo.invalid", **extra)
            user.is_superuser = role == Role.SYSADMIN
            user.set_password(password)
            user.full_clean()
            user.save()
            return user, password
        if reset:
            user.set_password(password)
            user.save(update_fields=["password"])
            return user, password
        return user, None

    def _users(self, password, reset):
        logins = []
        for username, role, first, last, extra in STAFF:
            user, pw = self._user(username, role, first, last, password, reset, **extra)
            logins.append((user, pw))
        for partner in isa.signatories().order_by("name"):
            user, pw = self._user(f"worker-{partner.slug}", Role.MASH_WORKER, "Demo", f"Worker ({partner.name})",
                                  password, reset, partner=partner, job_title="MASH worker")
            logins.append((user, pw))
        # A worker whose annual training refresher has lapsed (issue 6).
        police = isa.signatories().get(slug="essex-police")
        user, pw = self._user("lapsed-worker", Role.MASH_WORKER, "Demo", "Lapsed Worker (Essex Police)", password,
                              reset, partner=police, job_title="MASH worker, training lapsed")
        logins.append((user, pw))
        self._training([u for u, _ in logins])
        return logins

    def _training(self, users):
        """Everyone's refresher is current, done some weeks ago, except the lapsed worker's (400 days)."""
        today = timezone.localdate()
        for n, user in enumerate(users):
            if TrainingRecord.objects.filter(user=user).exists():
                continue
            days_ago = 400 if user.username == "lapsed-worker" else 20 + 7 * (n % 40)
            TrainingRecord.objects.create(user=user, course="MASH information sharing refresher",
                                          completed_on=today - dt.timedelta(days=days_ago),
                                          evidence_reference=f"DEMO-LMS-{1000 + n}", source="mash demo")

    # --- Synthetic people and enquiries ---------------------------------------------------------

    def _nhs_number(self):
        while True:
            nine = "999" + "".join(str(self.rng.randint(0, 9)) for _ in range(6))
            check = nhs_check_digit(nine)
            if check is not None:
                return nine + str(check)

    def _upn(self):
        rest = "".join(str(self.rng.randint(0, 9)) for _ in range(12))
        return upn_check_letter(rest) + rest

    def _child(self, surname, age):
        today = timezone.localdate()
        return dict(
            first_name=self.rng.choice(FIRST_NAMES), last_name=surname,
            date_of_birth=today.replace(year=today.year - age) - dt.timedelta(days=self.rng.randint(1, 300)),
            gender=self.rng.choice(["female", "male"]), nhs_number=self._nhs_number(),
            upn=self._upn() if age >= 4 else "",
            address_line_1=f"{self.rng.randint(1, 120)} {self.rng.choice(STREETS)}", town="Grays",
            postcode=self.rng.choice(POSTCODES),
        )

    def _contact(self, manager, surname, age, hours_ago, **kw):
        return cases.record_contact(
            by=manager, child=self._child(surname, age),
            received_at=timezone.now() - dt.timedelta(hours=hours_ago),
            related_people=[dict(first_name=self.rng.choice(ADULT_NAMES), last_name=surname, relationship="mother",
                                 lives_with_child=True, parental_responsibility=True),
                            dict(first_name=self.rng.choice(ADULT_NAMES), last_name="Partnerly",
                                 relationship="parents_partner", lives_with_child=True)],
            **kw,
        )

    def _enquiries(self) -> bool:
        manager = User.objects.get(username="manager")
        if Contact.objects.filter(recorded_by=manager).exists():
            return False
        worker = {u.partner.slug: u for u in User.objects.filter(role=Role.MASH_WORKER, username__startswith="worker-")
                  .select_related("partner")}

        def answer(enquiry, slug, **kw):
            request = enquiry.information_requests.get(partner__slug=slug)
            return sharing.contribute(request, by=worker[slug], **kw)

        school = dict(reporter_type="school", reporter_name="Demo Designated Safeguarding Lead",
                      reporter_organisation="Sampleford Primary School", reporter_partner="education")
        police = dict(reporter_type="police", reporter_name="PC Demo Officer", reporter_organisation="Essex Police",
                      reporter_partner="essex-police")

        # Awaiting a RAG rating
        self._contact(manager, "Exampleton", 7, 1, concern="Child said at school that there is no food at home and "
                      "she looks after her younger brother overnight.", concern_categories=["neglect"],
                      consent_at_intake="given", **school)
        self._contact(manager, "Placeholm", 15, 0.5, reporter_type="anonymous", concern="Neighbour reports shouting "
                      "and a child crying late at night most weekends.", concern_categories=["domestic_abuse"],
                      consent_at_intake="not_sought", consent_notes="Anonymous caller")

        # Gathering information, one of them overdue
        e = self._contact(manager, "Sampleford", 4, 3, concern="Police attended a domestic incident; the child was "
                          "present and has a bruise on the cheek.", concern_categories=["domestic_abuse", "physical_abuse"],
                          consent_at_intake="not_sought", consent_notes="Seeking consent may place the child at risk",
                          **police)
        cases.rate(e, by=manager, rating="red", rationale="Injury to a pre-school child after a domestic incident.")
        consent.record_consent(e, by=manager, status="not_sought", not_sought_reason="risk_to_child",
                               notes="The alleged perpetrator lives at the address.")
        consent.propose_override(e, by=manager, lawful_basis="children-act-1989-s47",
                                 purposes=["mash_enquiry", "onward_disclosure"],
                                 justification="Injury to a pre-school child after a domestic incident at home: "
                                               "risk of significant harm.")
        sharing.request_information(e, by=manager, partners=["essex-police", "nelft", "education"],
                                    question="Please share what you hold about the child and the adults at the address.")
        answer(e, "essex-police", kind="confidential_held", lawful_basis="dpa-2018-part-3",
               confidential_reason="ongoing_investigation",
               decision_reason="An investigation into an adult at the address is under way; disclosure would prejudice it.",
               items=[dict(category="intelligence", content="Demo sealed text: operation details known only to Essex Police.",
                           relevance_note="Bears directly on the risk to the child.")])
        answer(e, "nelft", kind="share", lawful_basis="uk-gdpr-9-2-g-dpa-sch1-para18",
               decision_reason="Relevant to the child's safety and proportionate.",
               items=[dict(category="health_visiting", content="Two missed health visitor appointments this year.",
                           relevance_note="Possible pattern of disguised non-engagement.")])
        # Demo only: backdate the rating so that the queue shows an overdue enquiry.
        earlier = timezone.now() - dt.timedelta(hours=6)
        RagRatingRecord.objects.filter(enquiry=e).update(rated_at=earlier, decision_due_at=earlier + dt.timedelta(hours=4))
        Enquiry.objects.filter(pk=e.pk).update(decision_due_at=earlier + dt.timedelta(hours=4))

        e = self._contact(manager, "Mockridge", 13, 5, concern="Young person found with large amounts of cash and a "
                          "second phone; missing from home twice this month.",
                          concern_categories=["child_criminal_exploitation", "missing_from_home"],
                          consent_at_intake="refused", consent_notes="Parent declined; concerns of significant harm.",
                          **police)
        cases.rate(e, by=manager, rating="amber", rationale="Indicators of criminal exploitation; no immediate injury.")
        consent.propose_override(e, by=manager, lawful_basis="crime-and-disorder-act-1998-s115",
                                 purposes=["mash_enquiry"],
                                 justification="Indicators of criminal exploitation: risk of significant harm "
                                               "outweighs the parent's refusal.")
        sharing.request_information(e, by=manager, partners=["essex-police", "education", "thurrock-council"])
        answer(e, "education", kind="decline",
               decision_reason="The school holds nothing beyond what the contact already says.")
        answer(e, "essex-police", kind="share", lawful_basis="crime-and-disorder-act-1998-s115",
               decision_reason="Necessary to assess the risk of exploitation.",
               items=[dict(category="missing_episodes", content="Two missing episodes reported this month, each overnight.",
                           relevance_note="Pattern consistent with county lines exploitation."),
                      dict(category="police_incidents", confidentiality="restricted",
                           content="Demo restricted text: seen with two adults known to the police for drug supply.",
                           relevance_note="For the MASH managers: names are under review.")])
        # The council's MASH worker is put on the enquiry: they read it as the team does.
        cases.assign(e, by=manager, member="worker-thurrock-council", note="Leads the enquiry for children's social care.")
        # The council worker proposes sharing the outcome without consent: it waits for a manager.
        consent.propose_override(e, by=worker["thurrock-council"], lawful_basis="children-act-1989-s17",
                                 purposes=["onward_disclosure"],
                                 justification="The young person is at risk of exploitation; the receiving team "
                                               "needs the police information to plan safety.")

        # Ready for decision
        e = self._contact(manager, "Testwood", 10, 20, concern="Child's attendance has fallen to 70% and he has "
                          "said his father's new partner hits him.", concern_categories=["physical_abuse"],
                          consent_at_intake="given", **school)
        cases.rate(e, by=manager, rating="green", rationale="Historic disclosure, child safe at school today.")
        sharing.request_information(e, by=manager, partners=["education"])
        answer(e, "education", kind="share", lawful_basis="uk-gdpr-6-1-e", decision_reason="Directly relevant.",
               items=[dict(category="school_attendance", content="Attendance 70% this term, 96% last year.",
                           relevance_note="Sharp fall matches the timing of the disclosure.")])
        cases.mark_ready(e, by=manager, note="All agencies asked have answered.")

        # Decided: section 47 to the social worker
        e = self._contact(manager, "Fictionby", 6, 26, concern="Child disclosed to a teacher that an adult at home "
                          "touched her inappropriately.", concern_categories=["sexual_abuse"],
                          consent_at_intake="not_sought", consent_notes="Would prejudice a police investigation",
                          **school)
        cases.rate(e, by=manager, rating="red", rationale="Disclosure of sexual abuse.")
        consent.record_consent(e, by=manager, status="not_sought", not_sought_reason="prejudice_investigation",
                               notes="A police investigation is likely.")
        consent.propose_override(e, by=manager, lawful_basis="children-act-1989-s47",
                                 purposes=["mash_enquiry", "onward_disclosure"],
                                 justification="Disclosure of sexual abuse by an adult at home: risk of significant harm.")
        sharing.request_information(e, by=manager, partners=["essex-police"])
        answer(e, "essex-police", kind="share", lawful_basis="children-act-2004-s10-s11",
               decision_reason="Required for the strategy discussion.",
               items=[dict(category="arrests", content="An adult in the household was arrested in 2021 for an offence "
                           "against a child; no further action was taken.", relevance_note="Risk to the child.")])
        cases.decide(e, by=manager, outcome="section_47", rationale="Threshold for a strategy discussion is met.",
                     recipient_type="social_worker", receiving_team="Children's Assessment Team",
                     receiving_professional="social-worker")
        # The relevant parts go on to the social worker, without consent (s47, approved above).
        item = e.contributions.get().items.get()
        package = disclosure.create_package(
            e, by=manager, recipient_type="social_worker", recipient="social-worker",
            lawful_basis="children-act-1989-s47", cover_note="For the strategy discussion.",
            selection={"child": ["date_of_birth", "address", "nhs_number"], "decision": ["rationale"],
                       "items": {str(item.pk): ["content", "occurred_on", "relevance_note"]}})
        disclosure.send_package(package, by=manager)

        # Decided six weeks ago: the asked agency's access ended 28 days after the decision (ISA 6.3).
        e = self._contact(manager, "Specimen", 9, 24 * 43, concern="Child arrived at school hungry on several "
                          "mornings; the family have recently moved.", concern_categories=["neglect"],
                          consent_at_intake="given", **school)
        cases.rate(e, by=manager, rating="green", rationale="Low level need; family engaging.")
        sharing.request_information(e, by=manager, partners=["education"])
        answer(e, "education", kind="share", lawful_basis="uk-gdpr-6-1-e", decision_reason="Relevant to need.",
               items=[dict(category="school_attendance", content="Attendance 92%; late most Mondays.",
                           relevance_note="Mild pattern only.")])
        cases.decide(e, by=manager, outcome="early_help", rationale="Needs met by early help.",
                     recipient_type="early_help", receiving_team="Early Help Hub", receiving_professional="early-help")
        # The mother consents to the early help team receiving the school's information.
        consent.record_consent(e, by=manager, status="given", given_by="The child's mother, by telephone",
                               purposes=["onward_disclosure"])
        item = e.contributions.get().items.get()
        package = disclosure.create_package(
            e, by=manager, recipient_type="early_help", recipient_team="Early Help Hub",
            lawful_basis="uk-gdpr-6-1-e", cover_note="Attendance for your first visit.",
            selection={"child": ["date_of_birth", "address"], "items": {str(item.pk): ["content"]}})
        disclosure.send_package(package, by=manager)
        # Demo only: backdate the decision.
        Enquiry.objects.filter(pk=e.pk).update(decided_at=timezone.now() - dt.timedelta(days=42))

        # Closed: information and advice
        e = self._contact(manager, "Demoley", 11, 72, concern="Parent asked the GP for help with the child's "
                          "angry outbursts at home.", concern_categories=["mental_health"], consent_at_intake="given",
                          reporter_type="gp", reporter_name="Dr Demo Practitioner", reporter_organisation="Sample Surgery")
        cases.rate(e, by=manager, rating="green", rationale="No indication of harm; family seeking support.")
        cases.decide(e, by=manager, outcome="information_and_advice",
                     rationale="Signposted to the emotional wellbeing service; no role for children's social care.")
        cases.close(e, by=manager, note="Advice sent to the family and the GP.")

        self._families(manager, school, police)

        # A subject access request from the early help family, received 12 days ago, compiled, to review.
        from mash.sar import services as sar

        dpo = User.objects.get(username="dpo")
        early_help = Enquiry.objects.get(child__last_name="Specimen")
        request = sar.log_request(by=dpo, requester_name="Parent of the Specimen child",
                                  requester_relationship="parent", requester_contact="By email to the address on file",
                                  received_on=timezone.localdate() - dt.timedelta(days=12),
                                  person_ids=[early_help.child_id], description="Everything the MASH holds about "
                                  "my child.", identity_verified=True, identity_method="Passport and council tax bill")
        sar.compile_request(request, by=dpo)
        return True

    def _closed(self, manager, enquiry, outcome, rationale, days_ago):
        """Rate, decide and close an earlier contact, dated as if it happened `days_ago`."""
        cases.rate(enquiry, by=manager, rating="green", rationale="No immediate risk.")
        cases.decide(enquiry, by=manager, outcome=outcome, rationale=rationale)
        cases.close(enquiry, by=manager, note="Outcome sent to the referrer.")
        # Demo only: date the rating, decision, consent and steps as they would have been.
        received = enquiry.contact.received_at
        when = timezone.now() - dt.timedelta(days=days_ago)
        Enquiry.objects.filter(pk=enquiry.pk).update(decided_at=when)
        RagRatingRecord.objects.filter(enquiry=enquiry).update(rated_at=received + dt.timedelta(hours=3),
                                                              decision_due_at=received + dt.timedelta(hours=75))
        Decision.objects.filter(enquiry=enquiry).update(decided_at=when)
        ConsentRecord.objects.filter(enquiry=enquiry).update(recorded_at=received)
        EnquiryEvent.objects.filter(enquiry=enquiry, from_state="").update(at=received)
        EnquiryEvent.objects.filter(enquiry=enquiry).exclude(from_state="").update(at=when)

    def _families(self, manager, school, police):
        """Issue 20's demo people: a family with two children (one mother, one record), a child with three
        contacts in a year (the repeat-contact flag), and a near-duplicate pair for the managers' review."""
        today = timezone.localdate()
        address = dict(address_line_1="14 Quarry Row", town="Grays", postcode="RM17 6SL")
        ava = dict(first_name="Ava", last_name="Newfield", date_of_birth=today.replace(year=today.year - 8, day=9),
                   gender="female", nhs_number=self._nhs_number(), **address)
        mother = dict(first_name="Jade", last_name="Newfield", relationship="mother", lives_with_child=True,
                      parental_responsibility=True, date_of_birth=dt.date(1992, 4, 17), **address)
        first = cases.record_contact(
            by=manager, child=ava, related_people=[mother], received_at=timezone.now() - dt.timedelta(days=330),
            concern="Ava came to school without a coat in winter twice this week.", concern_categories=["neglect"],
            consent_at_intake="given", **school)
        self._closed(manager, first, "no_further_action", "Mother explained a lost coat; no wider concern.", 325)
        child_id = first.child_id
        mother_id = first.child.relationships.get().person_id
        second = cases.record_contact(
            by=manager, child={"person_id": child_id, "identity_reason": "Same NHS number"},
            related_people=[{"person_id": mother_id, "relationship": "mother", "lives_with_child": True,
                             "parental_responsibility": True, "identity_reason": "Same name, date of birth, address"}],
            received_at=timezone.now() - dt.timedelta(days=150),
            concern="Ava said she was left alone at home overnight.", concern_categories=["neglect"],
            consent_at_intake="given", **school)
        self._closed(manager, second, "information_and_advice", "Advice to the mother on childcare.", 146)
        # The third contact in a year: waiting for a rating, flagged as a repeat contact.
        cases.record_contact(
            by=manager, child={"person_id": child_id, "identity_reason": "Same NHS number"},
            related_people=[{"person_id": mother_id, "relationship": "mother", "lives_with_child": True,
                             "parental_responsibility": True, "identity_reason": "Same person as before"}],
            received_at=timezone.now() - dt.timedelta(hours=2),
            concern="Police called to the home after neighbours heard shouting; Ava was there.",
            concern_categories=["domestic_abuse"], consent_at_intake="not_sought",
            consent_notes="Seeking consent may increase the risk", **police)
        # Her brother, recorded from the household: the same mother, so the two children's records meet.
        cases.record_contact(
            by=manager, child=dict(first_name="Leo", last_name="Newfield", gender="male",
                                   date_of_birth=today.replace(year=today.year - 5, day=21),
                                   nhs_number=self._nhs_number(), **address),
            related_people=[{"person_id": mother_id, "relationship": "mother", "lives_with_child": True,
                             "parental_responsibility": True, "identity_reason": "From Ava Newfield's household"}],
            received_at=timezone.now() - dt.timedelta(hours=1),
            concern="Leo was also at home during the police call-out.", concern_categories=["domestic_abuse"],
            consent_at_intake="not_sought", consent_notes="Seeking consent may increase the risk", **police)
        # A near-duplicate: the same boy recorded twice, a letter apart and day and month swapped, no NHS
        # number the second time. Waiting for a manager on the duplicates page.
        born = dt.date(today.year - 12, 3, 7)
        place = dict(address_line_1="3 Mill Lane", town="Grays", postcode="RM16 2QQ")
        earlier = cases.record_contact(
            by=manager, child=dict(first_name="Mason", last_name="Oakridge", gender="male", date_of_birth=born,
                                   nhs_number=self._nhs_number(), **place),
            received_at=timezone.now() - dt.timedelta(days=90), concern="Mason was seen out late with older youths.",
            concern_categories=["child_criminal_exploitation"], consent_at_intake="given", **police)
        self._closed(manager, earlier, "no_further_action", "Parents aware and acting; no further concern.", 88)
        cases.record_contact(
            by=manager, child=dict(first_name="Mason", last_name="Oakrige", gender="male",
                                   date_of_birth=born.replace(month=born.day, day=born.month), **place),
            received_at=timezone.now() - dt.timedelta(days=20), concern="Mason missed a week of school.",
            concern_categories=["neglect"], consent_at_intake="given", **school)

    def _report(self, logins, made):
        self.stdout.write("Demo enquiries: " + ("created in every state" if made else "already present (unchanged)"))
        self.stdout.write("")
        self.stdout.write(f"{'Role':<60} {'Username':<32} Password")
        for user, pw in logins:
            label = user.get_role_display() + (f" ({user.partner.name})" if user.partner_id else "")
            if user.username == "lapsed-worker":
                label += ", training lapsed"
            self.stdout.write(f"{label:<60} {user.username:<32} {pw or '(unchanged)'}")
        self.stdout.write("")
        self.stdout.write("Sign in with these at the address `make run` prints (http://127.0.0.1:8000/ by default).")
