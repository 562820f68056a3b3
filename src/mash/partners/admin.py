"""Partner agencies and ISA versions, read-only: both come from `mash isa load`, never from editing here."""

from django.contrib import admin

from mash.core.admin import ReadOnlyAdmin

from .models import IsaVersion, Partner


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
