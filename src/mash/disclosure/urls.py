from django.urls import path

from . import views

app_name = "disclosure"
urlpatterns = [
    path("", views.packages, name="packages"),
    path("<int:package_id>/", views.package_detail, name="package"),
    path("<int:package_id>/edit/", views.edit, name="edit"),
    path("<int:package_id>/send/", views.send, name="send"),
    path("<int:package_id>/withdraw/", views.withdraw, name="withdraw"),
    path("<int:package_id>/pdf/", views.pdf, name="pdf"),
]

# Under /enquiries/: building a package starts from the enquiry.
enquiry_urlpatterns = ([path("<str:reference>/packages/new/", views.new, name="new")], "disclosure_new")
