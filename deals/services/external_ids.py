"""A registration's ids in other systems (see accounts/external_ids.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction

from accounts.models import Membership, Tenant
from accounts.services.external_ids import external_ids_write
from deals.models import RegistrationExternalId
from deals.services.registrations import registration_lock


@transaction.atomic
def registration_external_ids_set(
    *, tenant: Tenant, actor: Membership, registration_id: int, external_ids: Mapping[str, Any]
) -> dict[str, str]:
    """Set or (with null) remove the registration's ids in the systems named, whatever its
    status: by whoever may see it (its partner's people, the vendor's)."""
    registration = registration_lock(tenant=tenant, actor=actor, registration_id=registration_id)
    return external_ids_write(
        tenant=tenant,
        model=RegistrationExternalId,
        owner_id=registration.pk,
        external_ids=external_ids,
    )
