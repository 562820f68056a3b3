"""Admin for system administrators: users and their roles, and API tokens (read-only, key never shown)."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import BaseUserCreationForm
from django.contrib.auth.forms import UserChangeForm as BaseUserChangeForm

from mash.core.admin import ReadOnlyAdmin

from .models import ApiToken, User


class UserCreationForm(BaseUserCreationForm):
    class Meta:
        model = User
        fields = ("username", "role", "partner", "team")


class UserChangeForm(BaseUserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    list_display = ("username", "display_name", "role", "partner", "team", "is_active", "last_login")
    list_filter = ("role", "partner", "is_active")
    search_fields = ("username", "first_name", "last_name", "email", "team")
    ordering = ("last_name", "first_name", "username")
    readonly_fields = ("is_staff", "last_login", "date_joined")
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Personal details", {"fields": ("first_name", "last_name", "email", "job_title")}),
        ("Role in the MASH", {"fields": ("role", "partner", "team"),
                              "description": "Only system administrators can use this admin site; "
                                             "a MASH worker must belong to a partner agency."}),
        ("Status", {"fields": ("is_active", "is_staff", "is_superuser")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",),
                "fields": ("username", "role", "partner", "team", "password1", "password2")}),
    )
    filter_horizontal = ()

    @admin.display(description="Name")
    def display_name(self, obj):
        return obj.display_name


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    """Tokens are created and revoked with `mash token`; here they can only be looked at."""

    list_display = ("key_prefix", "name", "user", "created_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("name", "key_prefix", "user__username")
    fields = ("key_prefix", "name", "user", "created_at", "last_used_at", "revoked_at")
    readonly_fields = fields
