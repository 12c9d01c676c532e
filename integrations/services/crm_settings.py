"""A tenant's CRM connection settings (vendor admins): credentials, field mapping with each
field's owner, stage mapping. Credentials are encrypted at rest; a blank credential field
keeps the stored value, so they never need to be shown back."""

from __future__ import annotations

import re
from typing import Any

from django.db import transaction

from accounts.errors import ValidationFailed
from accounts.models import Membership, Tenant
from accounts.permissions import require_vendor_admin
from accounts.services.audit import audit_record
from integrations.crm.credentials import credentials_decrypt, credentials_encrypt
from integrations.models import CrmConnection, FieldOwner
from integrations.services.crm_mapping import DEFAULT_MAPPINGS, SYNCABLE
from pipeline.models import Stage

CRM_FIELD = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,79}$")
CREDENTIAL_KEYS: dict[str, tuple[str, ...]] = {
    CrmConnection.System.SALESFORCE: (
        "client_id", "client_secret", "refresh_token", "token_url", "instance_url",
    ),
    CrmConnection.System.HUBSPOT: ("access_token", "api_url"),
}  # fmt: skip
SECRET_KEYS = {"client_secret", "refresh_token", "access_token"}


def crm_connection_for(*, tenant: Tenant, system: str) -> CrmConnection:
    """The tenant's connection to `system`, unsaved with the defaults if there is none."""
    connection = CrmConnection.objects.for_tenant(tenant).filter(system=system).first()
    if connection is None:
        connection = CrmConnection(
            tenant=tenant,
            system=system,
            field_mapping=DEFAULT_MAPPINGS[CrmConnection.System(system)],
            is_active=False,
        )
    return connection


def _clean_mapping(field_mapping: list[dict[str, Any]]) -> list[dict[str, str]]:
    cleaned, seen = [], set()
    for row in field_mapping:
        prm, crm, owner = row.get("prm"), str(row.get("crm") or "").strip(), row.get("owner")
        if not crm:
            continue  # left blank: not synced
        if prm not in SYNCABLE or prm in seen:
            raise ValidationFailed("Unknown field.", fields={"field_mapping": [str(prm)[:40]]})
        if not CRM_FIELD.match(crm):
            raise ValidationFailed(
                "A CRM field name is letters, digits and underscores.",
                fields={f"crm_{prm}": ["Letters, digits and underscores, 1 to 80."]},
            )
        if owner not in FieldOwner.values:
            raise ValidationFailed("Choose an owner.", fields={f"owner_{prm}": ["Choose one."]})
        seen.add(prm)
        cleaned.append({"prm": str(prm), "crm": crm, "owner": str(owner)})
    return cleaned


def _clean_stages(tenant: Tenant, stage_mapping: dict[str, Any]) -> dict[str, int]:
    ours = set(Stage.objects.for_tenant(tenant).values_list("pk", flat=True))
    cleaned = {}
    for crm_name, stage_id in stage_mapping.items():
        name = str(crm_name).strip()
        if not name:
            continue
        if len(name) > 120 or stage_id not in ours:
            raise ValidationFailed(
                "Map each CRM stage to one of your stages.",
                fields={"stage_mapping": [f"{name[:40]}: not one of your stages."]},
            )
        cleaned[name] = stage_id
    return cleaned


@transaction.atomic
def crm_connection_save(
    *,
    tenant: Tenant,
    actor: Membership,
    system: str,
    credentials: dict[str, str],
    field_mapping: list[dict[str, Any]],
    stage_mapping: dict[str, Any],
    is_active: bool,
    external_id_field: str = "PRM_Id__c",
) -> CrmConnection:
    require_vendor_admin(actor)
    if system not in CREDENTIAL_KEYS:
        raise ValidationFailed("Unknown CRM.", fields={"system": ["Unknown CRM."]})
    if not CRM_FIELD.match(external_id_field):
        raise ValidationFailed(
            "Invalid field name.", fields={"external_id_field": ["Letters, digits, _."]}
        )
    connection = crm_connection_for(tenant=tenant, system=system)
    stored = credentials_decrypt(connection.credentials)
    for key in CREDENTIAL_KEYS[system]:
        value = str(credentials.get(key) or "").strip()
        if value:
            stored[key] = value[:2000]
            if key == "refresh_token":
                stored["access_token"] = ""  # a new grant: fetch a fresh access token
    connection.credentials = credentials_encrypt(stored)
    connection.field_mapping = _clean_mapping(field_mapping)
    connection.stage_mapping = _clean_stages(tenant, stage_mapping)
    connection.is_active = is_active
    connection.external_id_field = external_id_field
    connection.acting_user = actor.user
    connection.save()
    audit_record(
        tenant=tenant,
        actor=actor.user,
        verb="crm_connection_saved",
        subject=connection,
        after={"system": system, "is_active": is_active, "credentials": sorted(stored)},
    )
    return connection


def credentials_present(connection: CrmConnection) -> list[str]:
    """Which credentials are stored (names only; values are never shown back)."""
    return sorted(k for k, v in credentials_decrypt(connection.credentials).items() if v)
