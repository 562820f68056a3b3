"""Reading the ISA: the current version and what it says. No case data: nothing here is gated."""

from dataclasses import dataclass

from mash.core.errors import DomainError

from .isa import Agreement, PartnerEntry
from .models import IsaVersion, Partner


class NoAgreementLoaded(DomainError):
    status = 503

    def __init__(self):
        super().__init__("No Information Sharing Agreement is loaded: run `mash isa load FILE`")


_cache: dict[int, Agreement] = {}


def agreement_for(version: IsaVersion) -> Agreement:
    """The look-up object for a version; versions never change, so it is cached by id."""
    agreement = _cache.get(version.pk)
    if agreement is None:
        agreement = _cache[version.pk] = Agreement.from_json(version.document)
    return agreement


def current_version() -> IsaVersion:
    # The document is parsed once per version (agreement_for caches it), so it is not loaded here.
    version = IsaVersion.objects.defer("document").order_by("-loaded_at", "-id").first()
    if version is None:
        raise NoAgreementLoaded()
    return version


def current() -> tuple[IsaVersion, Agreement]:
    version = current_version()
    return version, agreement_for(version)


@dataclass(frozen=True)
class PermittedCategory:
    """A category of data the agreement lets a partner share: its id, its label and the clause."""

    id: str
    label: str
    clause: str


@dataclass(frozen=True)
class PartnerTerms:
    """A partner's entry in the agreement, with the categories it may share (labelled)."""

    entry: PartnerEntry
    permitted_categories: list[PermittedCategory]


@dataclass(frozen=True)
class AgreementInForce:
    """The agreement in force: its version and what its document says."""

    version: IsaVersion
    agreement: Agreement

    @property
    def partners(self) -> list[PartnerTerms]:
        label = self.agreement.category_label
        return [PartnerTerms(p, [PermittedCategory(rule.category, label(rule.category), rule.clause)
                                 for rule in p.contributions])
                for p in self.agreement.doc.partners]


def agreement_in_force() -> AgreementInForce:
    """The agreement in force, to read; NoAgreementLoaded when none is loaded."""
    return AgreementInForce(*current())


def signatories():
    """Partners named in the current agreement."""
    _, agreement = current()
    return Partner.objects.filter(slug__in=[p.id for p in agreement.doc.partners])
