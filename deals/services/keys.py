"""A customer's match keys as a registration names them, and the advisory locks on them."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection

from deals.models import DealRegistration
from pipeline.normalization import normalize_name, root_domain


@dataclass(frozen=True)
class CustomerKeys:
    """The normalized keys of an end customer as a registration names it."""

    name_normalized: str
    name_core: str
    root_domain: str
    country: str

    @classmethod
    def of(
        cls, *, name: str, website: str = "", email: str = "", country: str = ""
    ) -> CustomerKeys:
        normalized = normalize_name(name)
        domain = root_domain(website) or root_domain(email)
        return cls(normalized.full[:200], normalized.core[:200], domain, str(country or ""))

    @property
    def exact(self) -> list[str]:
        """The exact keys that lock and claim: the root domain, and the name in its country."""
        keys = [f"d:{self.root_domain}"] if self.root_domain else []
        if self.name_normalized:
            keys.append(f"n:{self.country}:{self.name_normalized}")
        return keys


def registration_keys(registration: DealRegistration) -> CustomerKeys:
    return CustomerKeys(
        registration.name_normalized,
        registration.name_core,
        registration.root_domain,
        str(registration.customer_country or ""),
    )


def lock_keys(*, tenant_id: int, keys: list[str]) -> None:
    """Transaction-scoped advisory locks on the exact keys, in one order (no deadlocks)."""
    if not keys:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(h) FROM ("
            "  SELECT DISTINCT hashtextextended(k, %s) AS h FROM unnest(%s::text[]) AS k"
            ") AS keys ORDER BY h",
            [tenant_id, keys],
        )
