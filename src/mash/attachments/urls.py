from django.urls import path

from . import views

app_name = "attachments"
urlpatterns = [
    path("items/<int:item_id>/", views.add, name="add"),
    path("<int:attachment_id>/", views.download, name="download"),
]
