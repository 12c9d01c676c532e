"""Writes and reads of external ids (see accounts/external_ids.py), for every kind of
record that carries them. The owning app's service calls these inside its transaction."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

from django.db import IntegrityError, transaction

from accounts.errors import Conflict
from accounts.external_ids import ExternalIdBase, external_ids_clean
from accounts.models import Tenant


class ExternalIdTaken(Conflict):
    code = "external_id_taken"


@transaction.atomic
def external_ids_write(
    *,
    tenant: Tenant,
    model: type[ExternalIdBase],
    owner_id: int,
    external_ids: Mapping[str, str | None],
) -> dict[str, str]:
    """Set (or, with None, remove) the record's id in each system named; other systems keep
    theirs. An id another record of the tenant already holds in that system is a 409 and
    changes nothing. Returns the record's ids afterwards."""
    cleaned = external_ids_clean(dict(external_ids))
    rows = model.objects.for_tenant(tenant).filter(**{model.owner_field + "_id": owner_id})
    for system, value in cleaned.items():
        if value is None:
            rows.filter(system=system).delete()
            continue
        _write_one(tenant=tenant, model=model, owner_id=owner_id, system=system, value=value)
    return external_ids_of(model, [owner_id]).get(owner_id, {})


def _write_one(
    *, tenant: Tenant, model: type[ExternalIdBase], owner_id: int, system: str, value: str
) -> None:
    owner_key = model.owner_field + "_id"
    taken = (
        model.objects.for_tenant(tenant)
        .filter(system=system, external_id=value)
        .exclude(**{owner_key: owner_id})
        .exists()
    )
    if taken:
        raise _taken(system)
    try:
        with transaction.atomic():  # a concurrent writer's id: the constraint decides
            row = model.objects.filter(tenant=tenant, system=system, **{owner_key: owner_id})
            if not row.update(external_id=value):
                model.objects.create(
                    tenant=tenant, system=system, external_id=value, **{owner_key: owner_id}
                )
    except IntegrityError as error:
        raise _taken(system) from error


def _taken(system: str) -> ExternalIdTaken:
    return ExternalIdTaken(
        f"Another record already has this {system} id.",
        fields={"external_ids": [f"{system}: already used by another record."]},
    )


def external_ids_of(
    model: type[ExternalIdBase], owner_ids: Iterable[int]
) -> dict[int, dict[str, str]]:
    """`{record id: {system: id}}` for some records, in one query."""
    owner_ids = list(owner_ids)
    found: dict[int, dict[str, str]] = defaultdict(dict)
    if not owner_ids:
        return found
    owner_key = model.owner_field + "_id"
    rows = (
        model.objects.filter(**{owner_key + "__in": owner_ids})
        .order_by("system")
        .values_list(owner_key, "system", "external_id")
    )
    for owner, system, value in rows:
        found[owner][system] = value
    return found
