"""How a deal's fields are compared and carried between the PRM and a CRM.

Every mapped field is written as one canonical string on both sides (amount "40000.00",
dates ISO, the stage as our stage's id), so "changed since the last sync" is a plain
comparison with the stored base. The owner is our user's id here and the CRM user's id
there (crm_users.py maps one to the other). `notes` is special: a new CRM value becomes an activity
note on the deal (CRM → PRM only).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from integrations.models import CrmConnection, FieldOwner
from pipeline.models import Opportunity, Stage

# Our fields a mapping may name, in the order the settings page shows them.
SYNCABLE = ("name", "amount", "expected_close_date", "stage", "owner", "next_step", "notes")
LABELS = {
    "name": "Deal name",
    "amount": "Amount",
    "expected_close_date": "Close date",
    "stage": "Stage",
    "owner": "Owner",
    "next_step": "Next step",
    "notes": "Activity notes",
}
DEFAULT_MAPPINGS = {
    CrmConnection.System.SALESFORCE: [
        {"prm": "name", "crm": "Name", "owner": FieldOwner.PRM},
        {"prm": "amount", "crm": "Amount", "owner": FieldOwner.BOTH},
        {"prm": "expected_close_date", "crm": "CloseDate", "owner": FieldOwner.BOTH},
        {"prm": "stage", "crm": "StageName", "owner": FieldOwner.BOTH},
        {"prm": "owner", "crm": "OwnerId", "owner": FieldOwner.CRM},
        {"prm": "next_step", "crm": "NextStep", "owner": FieldOwner.CRM},
        {"prm": "notes", "crm": "Description", "owner": FieldOwner.CRM},
    ],
    CrmConnection.System.HUBSPOT: [
        {"prm": "name", "crm": "dealname", "owner": FieldOwner.PRM},
        {"prm": "amount", "crm": "amount", "owner": FieldOwner.BOTH},
        {"prm": "expected_close_date", "crm": "closedate", "owner": FieldOwner.BOTH},
        {"prm": "stage", "crm": "dealstage", "owner": FieldOwner.BOTH},
        {"prm": "owner", "crm": "hubspot_owner_id", "owner": FieldOwner.CRM},
    ],
}


@dataclass(frozen=True)
class Mapped:
    prm: str
    crm: str
    owner: str


def mappings(connection: CrmConnection) -> list[Mapped]:
    return [
        Mapped(m["prm"], m["crm"], m["owner"])
        for m in connection.field_mapping
        if m.get("prm") in SYNCABLE and m.get("crm")
    ]


def canonical(field: str, value: Any) -> str:
    """One string per value, the same whichever side it came from."""
    if value is None or value == "":
        return ""
    if field == "amount":
        try:
            return str(Decimal(str(value)).quantize(Decimal("0.01")))
        except InvalidOperation:
            return str(value)
    if field == "expected_close_date":
        return value.isoformat() if isinstance(value, date) else str(value)[:10]
    return str(value)


def prm_values(opportunity: Opportunity, fields: list[Mapped]) -> dict[str, str]:
    values = {}
    for mapped in fields:
        if mapped.prm == "stage":
            values["stage"] = str(opportunity.stage_id)
        elif mapped.prm == "owner":
            values["owner"] = str(opportunity.owner_id or "")  # our user's id
        elif mapped.prm == "notes":
            continue  # notes only come back from the CRM
        else:
            values[mapped.prm] = canonical(mapped.prm, getattr(opportunity, mapped.prm))
    return values


def crm_stage_name(connection: CrmConnection, stage: Stage) -> str:
    """Our stage in the CRM's words: the first CRM stage mapped to it, else its name."""
    for crm_name, stage_id in connection.stage_mapping.items():
        if stage_id == stage.pk:
            return crm_name
    return stage.name


def to_crm(connection: CrmConnection, field: str, value: str, stages: dict[int, Stage]) -> Any:
    if field == "stage":
        return crm_stage_name(connection, stages[int(value)])
    if field == "amount":
        return float(value) if value else None
    return value or None


def from_crm(
    connection: CrmConnection, field: str, value: str, stages: dict[int, Stage]
) -> str | None:
    """The CRM's value in our canonical form. A stage comes through the stage mapping (else
    a stage of ours with the same name); None when neither knows it."""
    if field == "stage":
        stage_id = connection.stage_mapping.get(value)
        if stage_id is None:
            stage_id = next((s.pk for s in stages.values() if s.name == value), None)
        return None if stage_id is None else str(stage_id)
    return canonical(field, value)
