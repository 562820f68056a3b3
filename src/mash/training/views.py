"""Training pages: your own status (always reachable, even when lapsed), the compliance page by agency
and the form that records a completion (managers and system administrators)."""

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render

from mash.access.guard import GET_OR_POST, SAFE, guarded
from mash.core.dates import long_date
from mash.core.web import submit, translate_errors

from . import services
from .forms import CompletionForm

COMPLIANCE = "training:compliance"
RECORD = "training:record"


@guarded("authenticated", methods=SAFE)
def mine(request):
    user = request.user
    return render(request, "training/mine.html", {
        "status": services.current_status(user), "records": services.own_records(user),
        "may_record": user.role in services.RECORDERS, "advice": services.GATE_ADVICE,
        "valid_months": settings.MASH_TRAINING_VALID_MONTHS,
        "hide_training_banner": True})  # the page itself says it


@guarded(COMPLIANCE, methods=SAFE)
@translate_errors
def compliance(request):
    agencies = services.compliance(request.user)
    return render(request, "training/compliance.html", {
        "agencies": agencies,
        "totals": {state: sum(len(getattr(a, state)) for a in agencies)
                   for state in ("current", "expiring", "lapsed", "never")}})


@guarded(RECORD, methods=GET_OR_POST)
@translate_errors
def record(request):
    user = request.user
    staff = services.recordable_users(user)
    if request.method == "GET":
        form = CompletionForm(staff=staff, initial={"username": request.GET.get("username", "")})
        return render(request, "training/record.html", {"form": form})
    form = CompletionForm(request.POST, staff=staff)
    made, status = submit(form, lambda f: services.record_completion(by=user, **f.cleaned_data))
    if status is None:
        messages.success(request, f"Training recorded for {made.user.display_name}: current until "
                                  f"{long_date(services.expires_on(made.completed_on))}")
        return redirect("training:compliance")
    return render(request, "training/record.html", {"form": form}, status=status)
