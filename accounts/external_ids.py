"""External ids: the ids other systems (a CRM, an ERP) give to our records.

A record carries at most one id per system, and an id names at most one record of a kind
per tenant and system. Each kind of record that carries them (customers, opportunities,
registrations) has its own table derived from `ExternalIdBase`, so both rules are
database constraints and each row points at its record with a real foreign key. The API
shows them as one object, `external_ids`: `{"salesforce": "006...", "hubspot": "123"}`.
"""

from __future__ import annotations

import re
from typing import Any

from django.db import models

from accounts.errors import ValidationFailed
from accounts.tenancy import TenantScopedModel

SYSTEM_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
ID_MAX = 255
SYSTEMS_MAX = 20


class ExternalIdBase(TenantScopedModel):
    """One id of one record in one outside system. Subclasses add the record's foreign key
    (`owner_field`) and the two unique constraints, both starting with the tenant."""

    system = models.CharField(max_length=40)
    external_id = models.CharField(max_length=ID_MAX)

    owner_field: str = ""

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.system}:{self.external_id}"


def external_id_constraints(owner: str, prefix: str) -> list[models.BaseConstraint]:
    return [
        models.UniqueConstraint(
            fields=["tenant", "system", "external_id"], name=f"{prefix}_external_id_unique"
        ),
        models.UniqueConstraint(fields=[owner, "system"], name=f"{prefix}_one_id_per_system"),
    ]


def system_clean(system: Any) -> str:
    if not isinstance(system, str) or not SYSTEM_PATTERN.match(system):
        raise ValidationFailed(
            "A system name is 1 to 40 lower-case letters, digits or underscores, "
            "starting with a letter.",
            fields={"external_ids": [f"Invalid system name: {str(system)[:40]!r}."]},
        )
    return system


def external_id_clean(value: Any, *, field: str = "external_ids") -> str:
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > ID_MAX:
        raise ValidationFailed(
            f"An external id is a string of 1 to {ID_MAX} characters.",
            fields={field: [f"1 to {ID_MAX} characters."]},
        )
    if any(ord(char) < 32 for char in value):
        raise ValidationFailed(
            "An external id cannot hold control characters.",
            fields={field: ["Control characters are not allowed."]},
        )
    return value.strip()


def external_ids_clean(mapping: Any) -> dict[str, str | None]:
    """`{system: id}` as sent: each id a non-empty string, or null to remove that system's."""
    if not isinstance(mapping, dict):
        raise ValidationFailed(
            "external_ids is an object of system → id.",
            fields={"external_ids": ["Expected an object."]},
        )
    if len(mapping) > SYSTEMS_MAX:
        raise ValidationFailed(
            f"At most {SYSTEMS_MAX} systems.",
            fields={"external_ids": [f"At most {SYSTEMS_MAX} systems."]},
        )
    return {
        system_clean(system): None if value is None else external_id_clean(value)
        for system, value in mapping.items()
    }
