"""The platform operator's admin: people and tenants, and a read-only support view of one
tenant at a time (row-level security shows only the tenant being supported)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import UserChangeForm as BaseUserChangeForm
from django.contrib.auth.forms import UserCreationForm as BaseUserCreationForm
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.models import AuditEntry, Membership, Tenant, User
from accounts.services.audit import audit_record
from accounts.tenancy import activate

SUPPORT_SESSION_KEY = "support_tenant_id"


class UserCreationForm(BaseUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "full_name")


class UserChangeForm(BaseUserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    ordering = ("email",)
    list_display = ("email", "full_name", "is_active", "is_staff", "date_joined")
    list_filter = ("is_active", "is_staff", "is_superuser")
    search_fields = ("email", "full_name")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Person", {"fields": ("full_name",)}),
        ("Access", {"fields": ("is_active", "is_staff", "is_superuser")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("email", "full_name", "password1", "password2")}),
    )


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "currency", "created_at")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    actions = ("support_tenant",)

    @admin.action(description="Support this tenant (read-only view of its records)")
    def support_tenant(self, request: HttpRequest, queryset: QuerySet[Tenant]) -> None:
        if queryset.count() != 1:
            self.message_user(request, "Choose exactly one tenant.", messages.ERROR)
            return
        tenant = queryset.get()
        request.session[SUPPORT_SESSION_KEY] = tenant.pk
        activate(tenant_id=tenant.pk, user_id=request.user.pk)
        audit_record(
            tenant=tenant,
            actor=request.user,  # type: ignore[arg-type]
            verb="support_session_started",
            subject=tenant,
        )
        self.message_user(request, f"Supporting {tenant.name}: its records are shown below.")


class SupportReadOnlyAdmin(admin.ModelAdmin):
    """Tenant records for support: visible for the supported tenant only, never editable."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Membership)
class MembershipAdmin(SupportReadOnlyAdmin):
    list_display = ("user", "role", "partner", "is_active", "created_at")
    list_filter = ("role", "is_active")
    list_select_related = ("user", "partner")
    search_fields = ("user__email",)


@admin.register(AuditEntry)
class AuditEntryAdmin(SupportReadOnlyAdmin):
    list_display = ("created_at", "actor", "verb", "subject_repr", "ip_address")
    list_filter = ("verb",)
    list_select_related = ("actor",)
    date_hierarchy = "created_at"
