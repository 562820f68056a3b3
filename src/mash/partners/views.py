"""The Information Sharing Agreement as the MASH works to it. Not case data: any signed-in user may read it."""

from django.shortcuts import render

from mash.access.guard import SAFE, guarded

from . import services
from .models import IsaVersion


@guarded("isa", methods=SAFE)
def isa(request):
    try:
        version, agreement = services.current()
    except services.NoAgreementLoaded as exc:
        return render(request, "partners/isa.html", {"missing": exc.message}, status=503)
    doc = agreement.doc
    partners = [
        {
            "name": p.name,
            "type": p.type.label,
            "bases": [agreement.lawful_basis(b) for b in p.lawful_bases],
            "contributions": [{"label": agreement.category_label(r.category), "clause": r.clause}
                              for r in p.contributions],
        }
        for p in sorted(doc.partners, key=lambda p: p.name)
    ]
    context = {
        "version": version,
        "doc": doc,
        "partners": partners,
        "lawful_bases": agreement.lawful_bases(),
        "timescales": [{"rag": t.rag.value, "hours": t.hours, "clause": t.clause} for t in doc.decision_timescales],
        "repeat_contacts": doc.repeat_contacts,
        "retention": [{"outcome": r.outcome.label, "months": r.retain_for_months, "then": r.then,
                       "clause": r.clause} for r in doc.retention],
        "onward": [{"recipient": r.recipient_type.label, "clause": r.clause, "days": r.package_expires_after_days,
                    "conditions": r.conditions, "categories": [agreement.category_label(c) for c in r.categories]}
                   for r in doc.onward_disclosure],
        "versions": IsaVersion.objects.select_related("loaded_by").order_by("-loaded_at", "-id"),
    }
    return render(request, "partners/isa.html", context)
