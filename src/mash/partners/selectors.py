"""Reading the ISA: the current version and what it says. No case data: nothing here is gated."""

from mash.core.errors import DomainError

from .isa import Agreement
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


def signatories():
    """Partners named in the current agreement."""
    _, agreement = current()
    return Partner.objects.filter(slug__in=[p.id for p in agreement.doc.partners])
