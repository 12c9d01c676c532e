"""Salesforce, through simple-salesforce (REST API): upsert by the external-id field that
holds our id (PATCH .../sobjects/Opportunity/{field}/{our id}: created or updated, never
duplicated), a poll of the deals whose `SystemModstamp` moved (queryAll, so deletions
come too), and a poll of the Tasks on Opportunities whose `SystemModstamp` moved (the
activity notes that come back). OAuth 2: an expired access token (401) is refreshed once
with the stored refresh token and the call made again; the new token is handed back to
be stored.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time
from typing import Any, TypeVar, cast

import requests
from django.conf import settings
from simple_salesforce import Salesforce
from simple_salesforce.api import SFType
from simple_salesforce.exceptions import (
    SalesforceError,
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceMoreThanOneRecord,
    SalesforceResourceNotFound,
)

from integrations.crm.base import (
    CrmActivity,
    CrmAuthError,
    CrmError,
    CrmMultipleMatch,
    CrmRecord,
    CrmTransientError,
    CrmUser,
    UpsertOutcome,
)

API_VERSION = "59.0"
OBJECT = "Opportunity"
OPPORTUNITY_PREFIX = "006"  # the key prefix of every Opportunity id (a Task's WhatId)
T = TypeVar("T")


class TimeoutSession(requests.Session):
    """Every call times out (settings.CRM_TIMEOUT_SECONDS) and follows no redirect."""

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        kwargs.setdefault("timeout", settings.CRM_TIMEOUT_SECONDS)
        kwargs.setdefault("verify", self.verify)  # not overridden by REQUESTS_CA_BUNDLE
        kwargs["allow_redirects"] = False
        return super().request(method, url, *args, **kwargs)  # type: ignore[arg-type]


def modstamp(value: str) -> datetime:
    """Salesforce's `2026-12-01T10:00:00.000+0000`."""
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z")


def soql_datetime(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class SalesforceConnector:
    """credentials: client_id, client_secret, refresh_token, token_url (the org's
    https://login.salesforce.com/services/oauth2/token), instance_url, access_token."""

    def __init__(self, *, credentials: dict[str, str], external_id_field: str, fields: list[str]):
        self.credentials = dict(credentials)
        self.external_id_field = external_id_field
        self.fields = [f for f in fields if f not in ("Id", external_id_field)]
        self.session = TimeoutSession()
        self.session.verify = settings.CRM_CA_BUNDLE
        self.refreshed = False
        self._client: Salesforce | None = None

    # --- OAuth 2 -----------------------------------------------------------------------------

    def _refresh(self) -> None:
        try:
            answer = self.session.post(
                self.credentials["token_url"],
                data={
                    "grant_type": "refresh_token",
                    "client_id": self.credentials.get("client_id", ""),
                    "client_secret": self.credentials.get("client_secret", ""),
                    "refresh_token": self.credentials.get("refresh_token", ""),
                },
            )
        except requests.RequestException as error:
            raise CrmTransientError(f"Token refresh failed: {type(error).__name__}") from error
        if answer.status_code >= 500 or answer.status_code == 429:
            raise CrmTransientError(f"Token refresh answered {answer.status_code}.")
        if answer.status_code != 200:
            raise CrmAuthError("Salesforce refused the refresh token; reconnect in settings.")
        body = answer.json()
        self.credentials["access_token"] = body["access_token"]
        self.credentials["instance_url"] = body.get(
            "instance_url", self.credentials["instance_url"]
        )
        self.refreshed = True
        self._client = None

    def _sf(self) -> Salesforce:
        if not self.credentials.get("access_token"):
            self._refresh()
        if self._client is None:
            self._client = Salesforce(
                instance_url=self.credentials["instance_url"],
                session_id=self.credentials["access_token"],
                session=self.session,
                version=API_VERSION,
            )
        return self._client

    def _call(self, work: Callable[[Salesforce], T]) -> T:
        """One call; on 401 refresh the token and call once more. Errors mapped to ours."""
        for attempt in (1, 2):
            try:
                return work(self._sf())
            except SalesforceExpiredSession as error:
                if attempt == 2:
                    raise CrmAuthError("Salesforce refused a fresh token.") from error
                self._refresh()
            except SalesforceMoreThanOneRecord as error:
                raise CrmMultipleMatch("More than one Salesforce record has this id.") from error
            except SalesforceGeneralError as error:
                if error.status == 429 or error.status >= 500:
                    raise CrmTransientError(f"Salesforce answered {error.status}.") from error
                raise CrmError(f"Salesforce answered {error.status}.") from error
            except SalesforceError as error:
                raise CrmError(f"Salesforce refused the call: {type(error).__name__}.") from error
            except requests.RequestException as error:
                raise CrmTransientError(
                    f"Salesforce unreachable: {type(error).__name__}"
                ) from error
        raise AssertionError("unreachable")

    def refreshed_credentials(self) -> dict[str, str] | None:
        return dict(self.credentials) if self.refreshed else None

    # --- The interface -----------------------------------------------------------------------

    def upsert_deal(self, *, prm_id: str, fields: dict[str, str]) -> UpsertOutcome:
        path = f"{self.external_id_field}/{prm_id}"
        answer = self._call(
            lambda sf: _opportunities(sf).upsert(path, dict(fields), raw_response=True)
        )
        if answer.status_code == 201:
            return UpsertOutcome(crm_id=answer.json()["id"], created=True)
        record = self.get_deal(prm_id=prm_id)
        return UpsertOutcome(crm_id=record.crm_id if record else "", created=False)

    def get_deal(self, *, prm_id: str) -> CrmRecord | None:
        def read(sf: Salesforce) -> dict[str, Any] | None:
            try:
                return _opportunities(sf).get_by_custom_id(self.external_id_field, prm_id)
            except SalesforceResourceNotFound:
                return None

        row = self._call(read)
        return None if row is None else self._record(row)

    def changed_deals(self, *, since: datetime) -> list[CrmRecord]:
        columns = ", ".join(
            ["Id", self.external_id_field, "SystemModstamp", "IsDeleted", *self.fields]
        )
        # SOQL, not SQL: field names were checked against CRM_FIELD when saved, the
        # moment is formatted here.
        query = (
            f"SELECT {columns} FROM {OBJECT} WHERE SystemModstamp > {soql_datetime(since)} "  # noqa: S608
            "ORDER BY SystemModstamp"
        )
        rows = self._call(lambda sf: sf.query_all(query, include_deleted=True))["records"]
        return [self._record(row) for row in rows]

    def activities(self, *, since: datetime) -> list[CrmActivity]:
        """Tasks on Opportunities created or edited after `since` (queryAll: a deleted Task
        comes with IsDeleted, so it is never taken for a new one)."""
        query = (  # SOQL; the moment is formatted here
            "SELECT Id, WhatId, Subject, Description, ActivityDate, SystemModstamp, IsDeleted "  # noqa: S608
            f"FROM Task WHERE SystemModstamp > {soql_datetime(since)} AND WhatId != null "
            "ORDER BY SystemModstamp"
        )
        rows = self._call(lambda sf: sf.query_all(query, include_deleted=True))["records"]
        on_deals = [r for r in rows if str(r.get("WhatId") or "").startswith(OPPORTUNITY_PREFIX)]
        return [_task(row) for row in on_deals]

    def users(self) -> list[CrmUser]:
        """The org's active users (an Opportunity's OwnerId names one)."""
        query = "SELECT Id, Name, Email FROM User WHERE IsActive = true ORDER BY Id"
        rows = self._call(lambda sf: sf.query_all(query))["records"]
        return [
            CrmUser(
                crm_id=str(r["Id"]), name=str(r.get("Name") or ""), email=str(r.get("Email") or "")
            )
            for r in rows
        ]

    def _record(self, row: dict[str, Any]) -> CrmRecord:
        return CrmRecord(
            crm_id=str(row["Id"]),
            prm_id=str(row.get(self.external_id_field) or ""),
            fields={f: "" if row.get(f) is None else str(row[f]) for f in self.fields},
            modstamp=modstamp(row["SystemModstamp"]),
            deleted=bool(row.get("IsDeleted")),
        )


def _task(row: dict[str, Any]) -> CrmActivity:
    day = row.get("ActivityDate")  # a date ("2026-12-01"), no time: noon UTC of that day
    return CrmActivity(
        crm_id=str(row["Id"]),
        deal_crm_id=str(row["WhatId"]),
        subject=str(row.get("Subject") or ""),
        body=str(row.get("Description") or ""),
        occurred_at=datetime.combine(date.fromisoformat(day), time(12), UTC) if day else None,
        modstamp=modstamp(row["SystemModstamp"]),
        deleted=bool(row.get("IsDeleted")),
    )


def salesforce_connector(
    *, credentials: dict[str, str], external_id_field: str, fields: list[str]
) -> SalesforceConnector:
    if not credentials.get("instance_url") or not credentials.get("token_url"):
        raise CrmError("Salesforce is not connected: enter the instance and token URLs.")
    return SalesforceConnector(
        credentials=credentials, external_id_field=external_id_field, fields=fields
    )


def _opportunities(sf: Salesforce) -> SFType:
    """The Opportunity object's REST type (simple-salesforce's attribute access is typed as
    any of its REST and bulk types)."""
    return cast(SFType, sf.Opportunity)
