from django.contrib import admin

from accounts.admin import SupportReadOnlyAdmin
from partners.models import Invitation, PartnerOrganization, PartnerTier


@admin.register(PartnerTier)
class PartnerTierAdmin(SupportReadOnlyAdmin):
    list_display = ("name", "rank", "created_at")


@admin.register(PartnerOrganization)
class PartnerOrganizationAdmin(SupportReadOnlyAdmin):
    list_display = ("name", "tier", "country", "region", "status", "channel_manager")
    list_filter = ("status", "region")
    list_select_related = ("tier", "channel_manager")
    search_fields = ("name",)


@admin.register(Invitation)
class InvitationAdmin(SupportReadOnlyAdmin):
    list_display = ("email", "role", "partner", "created_at", "expires_at", "accepted_at")
    list_select_related = ("partner",)
    search_fields = ("email",)
