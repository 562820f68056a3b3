"""Signing in and out, and the home page: what each role has to do now."""

from django.contrib.auth import views as auth_views
from django.shortcuts import render
from django.utils import timezone

from mash.access import gate
from mash.cases import selectors as cases_selectors
from mash.disclosure import selectors as disclosure_selectors
from mash.sharing import selectors as sharing_selectors
from mash.access.guard import PUBLIC, SAFE, guarded
from mash.accounts.models import Role
from mash.cases.states import OPEN_STATES, EnquiryState
from mash.consent import services as consent
from mash.sharing.models import RequestStatus

login = guarded(PUBLIC)(auth_views.LoginView.as_view(template_name="registration/login.html",
                                                     redirect_authenticated_user=True))
logout = guarded(PUBLIC)(auth_views.LogoutView.as_view())

COMING = {
    Role.DPO: "You log and answer subject access requests, within their deadlines. From the audit log you can "
              "see who has seen a child's record, and what each user did. The sharing report counts what was "
              "shared with and without consent.",
    Role.AUDITOR: "The audit log records who read, changed, shared or exported what, and every refusal. "
                  "You can see each user's activity and download it.",
    Role.SYSADMIN: "Users, partner agencies and loaded versions of the Information Sharing Agreement are "
                   "managed in the admin site.",
}


@guarded("authenticated", methods=SAFE)
def home(request):
    user = request.user
    context = {"role": user.role, "gate_refusal": gate.refusal(user)}
    if context["gate_refusal"]:
        pass  # no case counts: the banner says why and what to do
    elif user.role == Role.MASH_MANAGER:
        open_qs = cases_selectors.enquiries(user).filter(state__in=OPEN_STATES)
        context.update(
            open_count=open_qs.count(),
            awaiting_count=open_qs.filter(state=EnquiryState.AWAITING_RATING).count(),
            ready_count=open_qs.filter(state=EnquiryState.READY_FOR_DECISION).count(),
            overdue_count=open_qs.filter(decision_due_at__lt=timezone.now()).count(),
            awaiting_approval=consent.awaiting_approval(),
        )
    elif user.role == Role.RECEIVING_PROFESSIONAL:
        context["package_count"] = disclosure_selectors.packages(user).count()
    elif user.role == Role.MASH_WORKER:
        context["open_requests"] = sharing_selectors.information_requests(user).filter(status=RequestStatus.OPEN).count()
    else:
        context["coming"] = COMING.get(user.role, "")
    return render(request, "site/home.html", context)
