"""The MASH's own words, shared by the ISA, the case workflow and the API."""

from django.db import models


class RagRating(models.TextChoices):
    RED = "red", "Red"
    AMBER = "amber", "Amber"
    GREEN = "green", "Green"


class Outcome(models.TextChoices):
    NO_FURTHER_ACTION = "no_further_action", "No further action"
    INFORMATION_AND_ADVICE = "information_and_advice", "Information and advice"
    EARLY_HELP = "early_help", "Early help"
    SECTION_17 = "section_17", "Section 17 child in need assessment"
    SECTION_47 = "section_47", "Section 47 strategy discussion"
    REFERRAL_OTHER_SERVICE = "referral_other_service", "Referral to another service"


class ConcernCategory(models.TextChoices):
    NEGLECT = "neglect", "Neglect"
    PHYSICAL_ABUSE = "physical_abuse", "Physical abuse"
    SEXUAL_ABUSE = "sexual_abuse", "Sexual abuse"
    EMOTIONAL_ABUSE = "emotional_abuse", "Emotional abuse"
    DOMESTIC_ABUSE = "domestic_abuse", "Domestic abuse"
    CSE = "child_sexual_exploitation", "Child sexual exploitation"
    CCE = "child_criminal_exploitation", "Child criminal exploitation"
    ONLINE_HARM = "online_harm", "Online harm"
    MENTAL_HEALTH = "mental_health", "Mental health"
    SUBSTANCE_MISUSE = "substance_misuse", "Parental or child substance misuse"
    MISSING = "missing_from_home", "Missing from home or care"
    RADICALISATION = "radicalisation", "Radicalisation"
    FGM = "female_genital_mutilation", "Female genital mutilation"
    OTHER = "other", "Other"


class ReporterType(models.TextChoices):
    POLICE = "police", "Police"
    SCHOOL = "school", "School or education setting"
    GP = "gp", "GP"
    HEALTH = "health", "Other health service"
    PROBATION = "probation", "Probation"
    LOCAL_AUTHORITY = "local_authority", "Council service"
    VOLUNTARY = "voluntary", "Voluntary or community organisation"
    PUBLIC = "public", "Member of the public"
    FAMILY = "family", "Family member"
    SELF = "self", "The child or young person"
    ANONYMOUS = "anonymous", "Anonymous"


class IntakeConsent(models.TextChoices):
    GIVEN = "given", "Consent given"
    REFUSED = "refused", "Consent refused"
    NOT_SOUGHT = "not_sought", "Consent not sought"
    UNKNOWN = "unknown", "Not known"


class PartnerType(models.TextChoices):
    POLICE = "police", "Police"
    HEALTH = "health", "Health"
    EDUCATION = "education", "Education"
    PROBATION = "probation", "Probation"
    LOCAL_AUTHORITY = "local_authority", "Local authority"
    PARTNERSHIP_BOARD = "partnership_board", "Partnership board"
    SEXUAL_ASSAULT_REFERRAL_CENTRE = "sarc", "Sexual assault referral centre"


class RecipientType(models.TextChoices):
    SOCIAL_WORKER = "social_worker", "Children's social care social worker"
    EARLY_HELP = "early_help", "Early help worker"
    SCHOOL_DSL = "school_dsl", "School designated safeguarding lead"
    HEALTH_PROFESSIONAL = "health_professional", "Health professional"
    OTHER_SERVICE = "other_service", "Other service"


class ConsentStatus(models.TextChoices):
    SOUGHT = "sought", "Sought, awaiting an answer"
    GIVEN = "given", "Given"
    REFUSED = "refused", "Refused"
    NOT_SOUGHT = "not_sought", "Not sought"


class NotSoughtReason(models.TextChoices):
    RISK_TO_CHILD = "risk_to_child", "Seeking consent would place the child at risk"
    PREJUDICE_INVESTIGATION = "prejudice_investigation", "Seeking consent would prejudice an investigation"
    NOT_PRACTICABLE = "not_practicable", "Seeking consent is not practicable"


class ConsentPurpose(models.TextChoices):
    MASH_ENQUIRY = "mash_enquiry", "Sharing with the partner agencies for the MASH enquiry"
    ONWARD_DISCLOSURE = "onward_disclosure", "Passing the relevant parts on to the professionals who receive the case"


class EnquiryState(models.TextChoices):
    """Where an enquiry is in the MASH's workflow (the steps between them: mash.cases.steps)."""

    AWAITING_RATING = "awaiting_rating", "Awaiting RAG rating"
    GATHERING = "gathering", "Gathering information"
    READY_FOR_DECISION = "ready_for_decision", "Ready for decision"
    DECIDED = "decided", "Decided"
    CLOSED = "closed", "Closed"


# The states of an enquiry still being worked.
OPEN_STATES = (EnquiryState.AWAITING_RATING, EnquiryState.GATHERING, EnquiryState.READY_FOR_DECISION)
