from django.urls import path

from . import views

app_name = "sharing"
urlpatterns = [
    path("", views.requests, name="requests"),
    path("<int:pk>/", views.request_detail, name="request"),
    path("<int:pk>/unseal/", views.unseal, name="unseal"),
]
