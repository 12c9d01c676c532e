"""The one interface every CRM connector offers the sync services.

A connector speaks to one tenant's CRM: it upserts a deal by the external-id field that
holds our id (so resending a change never makes a duplicate), reads one deal back, and
lists the deals changed since a moment (deleted ones included), and the activities (Salesforce
Tasks, HubSpot notes) on deals changed since a moment. Values cross this
interface as the CRM's own field names and strings; the mapping lives in the services.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


class CrmError(Exception):
    """A call to the CRM failed for good (bad request, multiple match, refused)."""


class CrmTransientError(CrmError):
    """Rate limited (429), the CRM is down (5xx) or unreachable: try again later."""


class CrmAuthError(CrmError):
    """The credentials were refused even after a token refresh."""


class CrmMultipleMatch(CrmError):
    """More than one CRM record carries our id (Salesforce answers 300)."""


@dataclass(frozen=True)
class CrmRecord:
    crm_id: str
    prm_id: str  # our opportunity id, from the external-id field ("" if not ours)
    fields: dict[str, str]
    modstamp: datetime
    deleted: bool = False


@dataclass(frozen=True)
class CrmUser:
    """A CRM user who may own deals (Salesforce User, HubSpot owner)."""

    crm_id: str
    name: str
    email: str


@dataclass(frozen=True)
class CrmActivity:
    """A CRM activity on a deal (Salesforce Task on an Opportunity, HubSpot note associated
    with a deal), CRM → PRM only. `deal_crm_id` is the CRM id of the deal it is on."""

    crm_id: str
    deal_crm_id: str
    subject: str
    body: str
    occurred_at: datetime | None
    modstamp: datetime
    deleted: bool = False


@dataclass
class UpsertOutcome:
    crm_id: str
    created: bool


class CrmConnector(Protocol):
    def upsert_deal(self, *, prm_id: str, fields: dict[str, str]) -> UpsertOutcome: ...

    def get_deal(self, *, prm_id: str) -> CrmRecord | None: ...

    def changed_deals(self, *, since: datetime) -> list[CrmRecord]: ...

    def users(self) -> list[CrmUser]: ...

    def activities(self, *, since: datetime) -> list[CrmActivity]:
        """Activities on deals created or edited after `since` (one per deal it is on)."""
        ...

    def refreshed_credentials(self) -> dict[str, str] | None:
        """New credentials (a refreshed access token) to store, if the call made any."""
        ...
