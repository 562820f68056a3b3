from django.urls import path

from . import views

app_name = "sar"
urlpatterns = [
    path("", views.open_requests, name="open"),
    path("new/", views.log_request, name="new"),
    path("<str:reference>/", views.detail, name="detail"),
    path("<str:reference>/identity/", views.identity, name="identity"),
    path("<str:reference>/pause/", views.pause, name="pause"),
    path("<str:reference>/resume/", views.resume, name="resume"),
    path("<str:reference>/extension/", views.extend, name="extension"),
    path("<str:reference>/withdraw/", views.withdraw, name="withdraw"),
    path("<str:reference>/compile/", views.compile_items, name="compile"),
    path("<str:reference>/items/<int:item_id>/", views.review_item, name="item"),
    path("<str:reference>/pack/", views.pack, name="pack"),
    path("<str:reference>/pack.pdf", views.pack_pdf, name="pack_pdf"),
    path("<str:reference>/pack.json", views.pack_json, name="pack_json"),
]
