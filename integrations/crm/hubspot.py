"""HubSpot, through hubspot-api-client (CRM v3 deals): batch upsert by a unique property
that holds our id (`idProperty`: created or updated, never duplicated), a read by that
property, and a poll of the deals whose `hs_lastmodifieddate` moved (search API, paged).
Authentication: a private app's access token (no refresh; a 401 asks to reconnect).
HubSpot's search does not return archived (deleted) deals, so the poll also pages through
the archived listing (GET /crm/v3/objects/deals?archived=true) and hands back those
archived since the moment as deleted records. Activity notes: the notes whose
`hs_lastmodifieddate` moved (notes search API, paged), with the deals each is associated
with (associations v4 batch read, 100 notes a call).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from html import unescape
from typing import Any, TypeVar

from django.conf import settings
from django.utils.html import strip_tags
from hubspot import HubSpot
from hubspot.crm.associations.v4 import ApiException as AssociationsApiException
from hubspot.crm.associations.v4 import (
    BatchInputPublicFetchAssociationsBatchRequest,
    PublicFetchAssociationsBatchRequest,
)
from hubspot.crm.deals import (
    ApiException,
    BatchInputSimplePublicObjectBatchInputUpsert,
    PublicObjectSearchRequest,
    SimplePublicObjectBatchInputUpsert,
)
from hubspot.crm.objects.notes import ApiException as NotesApiException
from hubspot.crm.objects.notes import PublicObjectSearchRequest as NotesSearchRequest
from hubspot.crm.owners import ApiException as OwnersApiException

from integrations.crm.base import (
    CrmActivity,
    CrmAuthError,
    CrmError,
    CrmRecord,
    CrmTransientError,
    CrmUser,
    UpsertOutcome,
)

T = TypeVar("T")
PAGE = 100
MODIFIED = "hs_lastmodifieddate"
NOTE_PROPERTIES = ["hs_note_body", "hs_timestamp", MODIFIED]
# Each API package of hubspot-api-client raises its own ApiException class.
API_ERRORS = (ApiException, NotesApiException, AssociationsApiException, OwnersApiException)


class HubSpotConnector:
    """credentials: access_token (private app), api_url (https://api.hubapi.com)."""

    def __init__(self, *, credentials: dict[str, str], external_id_field: str, fields: list[str]):
        self.external_id_field = external_id_field
        self.fields = [f for f in fields if f != external_id_field]
        ca = settings.CRM_CA_BUNDLE
        self.client = HubSpot(
            access_token=credentials.get("access_token", ""),
            host=credentials.get("api_url") or "https://api.hubapi.com",
            ssl_ca_cert=ca if isinstance(ca, str) else None,
        )

    def _call(self, work: Callable[[], T]) -> T:
        try:
            return work()
        except API_ERRORS as error:
            status = int(error.status or 0)
            if status == 401:
                raise CrmAuthError("HubSpot refused the access token; reconnect.") from error
            if status in (0, 429) or status >= 500:
                raise CrmTransientError(f"HubSpot answered {status}.") from error
            raise CrmError(f"HubSpot answered {status}.") from error
        except OSError as error:
            raise CrmTransientError(f"HubSpot unreachable: {type(error).__name__}") from error

    def refreshed_credentials(self) -> dict[str, str] | None:
        return None

    def upsert_deal(self, *, prm_id: str, fields: dict[str, str]) -> UpsertOutcome:
        properties = {k: "" if v is None else str(v) for k, v in fields.items()}
        batch = BatchInputSimplePublicObjectBatchInputUpsert(
            inputs=[
                SimplePublicObjectBatchInputUpsert(
                    id_property=self.external_id_field, id=prm_id, properties=properties
                )
            ]
        )
        answer = self._call(
            lambda: self.client.crm.deals.batch_api.upsert(
                batch_input_simple_public_object_batch_input_upsert=batch,
                _request_timeout=settings.CRM_TIMEOUT_SECONDS,
            )
        )
        result = answer.results[0]
        return UpsertOutcome(crm_id=str(result.id), created=bool(result.new))

    def get_deal(self, *, prm_id: str) -> CrmRecord | None:
        def read() -> Any:
            try:
                return self.client.crm.deals.basic_api.get_by_id(
                    deal_id=prm_id,
                    id_property=self.external_id_field,
                    properties=[self.external_id_field, *self.fields],
                    _request_timeout=settings.CRM_TIMEOUT_SECONDS,
                )
            except ApiException as error:
                if error.status == 404:
                    return None
                raise

        deal = self._call(read)
        return None if deal is None else self._record(deal)

    def changed_deals(self, *, since: datetime) -> list[CrmRecord]:
        records: list[CrmRecord] = []
        after: str | None = None
        while True:
            request = PublicObjectSearchRequest(
                filter_groups=[
                    {
                        "filters": [
                            {
                                "propertyName": MODIFIED,
                                "operator": "GT",
                                "value": str(int(since.timestamp() * 1000)),
                            }
                        ]
                    }
                ],
                sorts=[{"propertyName": MODIFIED, "direction": "ASCENDING"}],
                properties=[self.external_id_field, MODIFIED, *self.fields],
                limit=PAGE,
                after=after,
            )
            page = self._call(self._searcher(request))
            records.extend(self._record(deal) for deal in page.results)
            after = page.paging.next.after if page.paging and page.paging.next else None
            if not after:
                break
        return records + self._archived_since(since)

    def _archived_since(self, since: datetime) -> list[CrmRecord]:
        """Deals archived (deleted) after `since`: the archived listing has no filter, so
        every page is read and the moments compared here."""
        records: list[CrmRecord] = []
        after: str | None = None
        while True:
            page = self._call(self._archived_page(after))
            for deal in page.results:
                record = self._record(deal)
                if record.modstamp > since:
                    records.append(record)
            after = page.paging.next.after if page.paging and page.paging.next else None
            if not after:
                return records

    def _archived_page(self, after: str | None) -> Callable[[], Any]:
        def read() -> Any:
            return self.client.crm.deals.basic_api.get_page(
                limit=PAGE,
                after=after,
                properties=[self.external_id_field, MODIFIED, *self.fields],
                archived=True,
                _request_timeout=settings.CRM_TIMEOUT_SECONDS,
            )

        return read

    def _searcher(self, request: PublicObjectSearchRequest) -> Callable[[], Any]:
        def search() -> Any:
            return self.client.crm.deals.search_api.do_search(
                public_object_search_request=request,
                _request_timeout=settings.CRM_TIMEOUT_SECONDS,
            )

        return search

    def activities(self, *, since: datetime) -> list[CrmActivity]:
        """Notes created or edited after `since`, one activity per deal each is associated
        with (a note on no deal is none). Archived notes are not in the search: a note
        deleted in HubSpot simply stops coming."""
        notes: list[Any] = []
        after: str | None = None
        while True:
            request = NotesSearchRequest(
                filter_groups=[
                    {
                        "filters": [
                            {
                                "propertyName": MODIFIED,
                                "operator": "GT",
                                "value": str(int(since.timestamp() * 1000)),
                            }
                        ]
                    }
                ],
                sorts=[{"propertyName": MODIFIED, "direction": "ASCENDING"}],
                properties=NOTE_PROPERTIES,
                limit=PAGE,
                after=after,
            )
            page = self._call(self._notes_searcher(request))
            notes.extend(page.results)
            after = page.paging.next.after if page.paging and page.paging.next else None
            if not after:
                break
        deals = self._deals_of_notes([str(note.id) for note in notes])
        return [_note(note, deal_id) for note in notes for deal_id in deals.get(str(note.id), [])]

    def _notes_searcher(self, request: NotesSearchRequest) -> Callable[[], Any]:
        def search() -> Any:
            return self.client.crm.objects.notes.search_api.do_search(
                public_object_search_request=request,
                _request_timeout=settings.CRM_TIMEOUT_SECONDS,
            )

        return search

    def _deals_of_notes(self, note_ids: list[str]) -> dict[str, list[str]]:
        """note id → the ids of the deals it is associated with (one batch read per 100)."""
        found: dict[str, list[str]] = {}
        for start in range(0, len(note_ids), PAGE):
            batch = BatchInputPublicFetchAssociationsBatchRequest(
                inputs=[
                    PublicFetchAssociationsBatchRequest(id=note_id)
                    for note_id in dict.fromkeys(note_ids[start : start + PAGE])
                ]
            )
            answer = self._call(self._associations_reader(batch))
            for result in answer.results or []:
                deals = found.setdefault(str(result._from.id), [])
                deals.extend(str(to.to_object_id) for to in result.to or [])
        return found

    def _associations_reader(
        self, batch: BatchInputPublicFetchAssociationsBatchRequest
    ) -> Callable[[], Any]:
        def read() -> Any:
            return self.client.crm.associations.v4.batch_api.get_page(
                from_object_type="notes", to_object_type="deals",
                batch_input_public_fetch_associations_batch_request=batch,
                _request_timeout=settings.CRM_TIMEOUT_SECONDS,
            )  # fmt: skip

        return read

    def users(self) -> list[CrmUser]:
        """The account's owners (a deal's `hubspot_owner_id` names one), paged."""
        found: list[CrmUser] = []
        after: str | None = None
        while True:
            page = self._call(self._owners_page(after))
            for owner in page.results:
                name = " ".join(p for p in (owner.first_name, owner.last_name) if p)
                found.append(CrmUser(crm_id=str(owner.id), name=name, email=owner.email or ""))
            after = page.paging.next.after if page.paging and page.paging.next else None
            if not after:
                return found

    def _owners_page(self, after: str | None) -> Callable[[], Any]:
        def read() -> Any:
            return self.client.crm.owners.owners_api.get_page(
                limit=PAGE, after=after, archived=False,
                _request_timeout=settings.CRM_TIMEOUT_SECONDS,
            )  # fmt: skip

        return read

    def _record(self, deal: Any) -> CrmRecord:
        properties = deal.properties or {}
        modified = deal.updated_at or datetime.now(UTC)
        if deal.archived and getattr(deal, "archived_at", None):
            modified = max(modified, deal.archived_at)
        return CrmRecord(
            crm_id=str(deal.id),
            prm_id=str(properties.get(self.external_id_field) or ""),
            fields={
                f: "" if properties.get(f) is None else str(properties[f]) for f in self.fields
            },
            modstamp=modified,
            deleted=bool(deal.archived),
        )


def _note(note: Any, deal_id: str) -> CrmActivity:
    properties = note.properties or {}
    stamp = properties.get("hs_timestamp")
    modified = note.updated_at or datetime.now(UTC)
    return CrmActivity(
        crm_id=str(note.id),
        deal_crm_id=deal_id,
        subject="",
        body=unescape(strip_tags(properties.get("hs_note_body") or "")).strip(),
        occurred_at=_moment(stamp) if stamp else None,
        modstamp=modified,
    )


def _moment(value: str) -> datetime:
    """A HubSpot datetime property: ISO 8601, or milliseconds since the epoch."""
    if value.isdigit():
        return datetime.fromtimestamp(int(value) / 1000, UTC)
    return datetime.fromisoformat(value)


def hubspot_connector(
    *, credentials: dict[str, str], external_id_field: str, fields: list[str]
) -> HubSpotConnector:
    if not credentials.get("access_token"):
        raise CrmError("HubSpot is not connected: enter a private app access token.")
    return HubSpotConnector(
        credentials=credentials, external_id_field=external_id_field, fields=fields
    )
