from django.urls import path

from . import views

app_name = "training"
urlpatterns = [
    path("", views.mine, name="mine"),
    path("compliance/", views.compliance, name="compliance"),
    path("record/", views.record, name="record"),
]
