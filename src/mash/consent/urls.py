from django.urls import path

from . import views

app_name = "consent"
urlpatterns = [
    path("<str:reference>/consent/", views.consent_page, name="page"),
    path("<str:reference>/consent/record/", views.record, name="record"),
    path("<str:reference>/consent/<int:record_id>/withdraw/", views.withdraw, name="withdraw"),
    path("<str:reference>/consent/without/", views.propose, name="propose"),
    path("<str:reference>/consent/without/<int:override_id>/", views.decide, name="decide"),
]
