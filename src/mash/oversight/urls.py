"""The oversight pages' URLs, under the namespaces the templates and reverse() use: audit: and reports:."""

from django.urls import path

from . import views

audit_urlpatterns = ([
    path("people/", views.find_person, name="find_person"),
    path("people/<int:person_id>/", views.person, name="person"),
    path("people/<int:person_id>/export.csv", views.person_csv, name="person_csv"),
    path("users/", views.users, name="users"),
    path("users/<int:user_id>/", views.user, name="user"),
    path("users/<int:user_id>/export.csv", views.user_csv, name="user_csv"),
], "audit")

report_urlpatterns = ([path("", views.sharing, name="sharing")], "reports")
