from django.contrib import admin
from django.urls import include, path

from mash.disclosure.urls import enquiry_urlpatterns as enquiry_packages
from mash.oversight.urls import audit_urlpatterns, report_urlpatterns
from mash.site.api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("", include("mash.site.urls")),
    path("account/", include("mash.accounts.urls")),
    path("enquiries/", include("mash.cases.urls")),
    path("enquiries/", include("mash.consent.urls")),
    path("enquiries/", include(enquiry_packages)),
    path("packages/", include("mash.disclosure.urls")),
    path("reports/", include(report_urlpatterns)),
    path("requests/", include("mash.sharing.urls")),
    path("attachments/", include("mash.attachments.urls")),
    path("isa/", include("mash.partners.urls")),
    path("audit/", include(audit_urlpatterns)),
    path("training/", include("mash.training.urls")),
    path("sar/", include("mash.sar.urls")),
    path("people/", include("mash.people.urls")),
]

# An error no view handled: JSON under /api/, the 500 page elsewhere.
handler500 = "mash.core.views.server_error"
