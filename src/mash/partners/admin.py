"""Partner agencies and ISA versions, read-only: both come from `mash isa load`, never from editing here."""

from django.contrib import admin

from .models import IsaVersion, Partner


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Partner)
class PartnerAdmin(ReadOnlyAdmin):
    list_display = ("name", "slug", "partner_type")
    list_filter = ("partner_type",)
    search_fields = ("name", "slug")
    fields = ("name", "slug", "partner_type")
    readonly_fields = fields


@admin.register(IsaVersion)
class IsaVersionAdmin(ReadOnlyAdmin):
    list_display = ("version", "title", "effective_from", "loaded_at", "loaded_by")
    search_fields = ("version", "title")
    fields = ("version", "title", "effective_from", "loaded_at", "loaded_by", "source_sha256", "source_text")
    readonly_fields = fields
