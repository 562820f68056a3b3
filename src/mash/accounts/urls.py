from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("", views.account, name="account"),
    path("two-factor/verify/", views.verify, name="verify"),
    path("two-factor/setup/", views.setup, name="setup"),
    path("two-factor/backup-codes/", views.backup_codes, name="backup_codes"),
    path("two-factor/reset/", views.reset_authenticator, name="reset"),
    path("tokens/<str:prefix>/revoke/", views.revoke_token, name="revoke_token"),
]
