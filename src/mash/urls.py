from django.contrib import admin
from django.urls import include, path

from mash.api import api
from mash.disclosure.urls import enquiry_urlpatterns as enquiry_packages

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("", include("mash.core.urls")),
    path("account/", include("mash.accounts.urls")),
    path("enquiries/", include("mash.cases.urls")),
    path("enquiries/", include("mash.consent.urls")),
    path("enquiries/", include(enquiry_packages)),
    path("packages/", include("mash.disclosure.urls")),
    path("reports/", include("mash.reports.urls")),
    path("requests/", include("mash.sharing.urls")),
    path("attachments/", include("mash.attachments.urls")),
    path("isa/", include("mash.partners.urls")),
    path("audit/", include("mash.audit.urls")),
    path("training/", include("mash.training.urls")),
    path("sar/", include("mash.sar.urls")),
]

# An error no view handled: JSON under /api/, the 500 page elsewhere.
handler500 = "mash.core.views.server_error"
