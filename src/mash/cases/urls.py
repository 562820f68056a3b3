from django.urls import path

from . import views

app_name = "cases"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("contacts/new/", views.contact_new, name="contact_new"),
    path("export.csv", views.export, name="export"),
    path("<str:reference>/", views.detail, name="detail"),
    path("<str:reference>/rate/", views.rate, name="rate"),
    path("<str:reference>/requests/", views.request_information, name="request_information"),
    path("<str:reference>/ready/", views.mark_ready, name="mark_ready"),
    path("<str:reference>/decision/", views.decide, name="decide"),
    path("<str:reference>/decision/amend/", views.amend_decision, name="amend_decision"),
    path("<str:reference>/close/", views.close, name="close"),
    path("<str:reference>/team/", views.assign, name="assign"),
    path("<str:reference>/team/end/", views.end_assignment, name="end_assignment"),
]
