"""Forms of the CRM sync pages: input only; integrations/services do the writes."""

from __future__ import annotations

from typing import Any

from django import forms

from integrations.models import CrmConnection, FieldOwner, SyncConflict
from integrations.services.crm_mapping import LABELS, SYNCABLE
from integrations.services.crm_settings import CREDENTIAL_KEYS, SECRET_KEYS
from pipeline.models import Stage

CREDENTIAL_LABELS = {
    "client_id": "Connected app client id",
    "client_secret": "Connected app client secret",
    "refresh_token": "OAuth 2 refresh token",
    "token_url": "Token URL (https://login.salesforce.com/services/oauth2/token)",
    "instance_url": "Instance URL (https://yourorg.my.salesforce.com)",
    "access_token": "Private app access token",
    "api_url": "API URL (https://api.hubapi.com)",
}


# Short names in the menus (a phone-width select is as wide as its longest option); the
# page explains each owner above the form.
OWNER_CHOICES = [(owner.value, owner.label.split(" (")[0]) for owner in FieldOwner]


class CrmSettingsForm(forms.Form):
    """Credentials (blank keeps the stored value; nothing is shown back), each syncable
    field's CRM name and owner, and the CRM stage names of each of our stages."""

    is_active = forms.BooleanField(required=False, label="Sync is on")
    external_id_field = forms.CharField(
        max_length=80,
        label="CRM field holding our id (an external-id field)",
        initial="PRM_Id__c",
    )

    def __init__(self, *args: Any, connection: CrmConnection, stages: list[Stage], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.stages = stages
        for key in CREDENTIAL_KEYS[connection.system]:
            widget = forms.PasswordInput(render_value=False) if key in SECRET_KEYS else None
            self.fields[f"cred_{key}"] = forms.CharField(
                max_length=2000,
                required=False,
                label=CREDENTIAL_LABELS[key],
                widget=widget or forms.TextInput(attrs={"autocomplete": "off"}),
                help_text="Leave blank to keep the stored value.",
            )
        mapped = {m["prm"]: m for m in connection.field_mapping}
        for name in SYNCABLE:
            row = mapped.get(name, {})
            self.fields[f"crm_{name}"] = forms.CharField(
                max_length=80,
                required=False,
                label=f"{LABELS[name]}: CRM field",
                initial=row.get("crm", ""),
                help_text="Blank: not synced.",
            )
            self.fields[f"owner_{name}"] = forms.ChoiceField(
                choices=OWNER_CHOICES,
                label=f"{LABELS[name]}: owner",
                initial=row.get("owner", FieldOwner.BOTH),
            )
        names: dict[int, list[str]] = {}
        for crm_name, stage_id in connection.stage_mapping.items():
            names.setdefault(stage_id, []).append(crm_name)
        for stage in stages:
            self.fields[f"stage_{stage.pk}"] = forms.CharField(
                max_length=500,
                required=False,
                label=f"CRM stages for “{stage.name}”",
                initial=", ".join(names.get(stage.pk, [])),
                help_text="Comma-separated CRM stage names.",
            )
        self.fields["is_active"].initial = connection.is_active
        self.fields["external_id_field"].initial = connection.external_id_field

    def service_arguments(self, system: str) -> dict[str, Any]:
        data = self.cleaned_data
        stage_mapping: dict[str, int] = {}
        for stage in self.stages:
            for name in data.get(f"stage_{stage.pk}", "").split(","):
                if name.strip():
                    stage_mapping[name.strip()] = stage.pk
        return {
            "system": system,
            "credentials": {key: data.get(f"cred_{key}", "") for key in CREDENTIAL_KEYS[system]},
            "field_mapping": [
                {"prm": name, "crm": data.get(f"crm_{name}", ""), "owner": data[f"owner_{name}"]}
                for name in SYNCABLE
            ],
            "stage_mapping": stage_mapping,
            "is_active": data["is_active"],
            "external_id_field": data["external_id_field"].strip(),
        }


class ConflictResolveForm(forms.Form):
    resolution = forms.ChoiceField(choices=SyncConflict.Resolution.choices)
    value = forms.CharField(max_length=500, required=False)


class CrmUserMapForm(forms.Form):
    """The member a CRM user is (blank: none); the service checks it is an active vendor
    member of this tenant."""

    membership = forms.IntegerField(required=False, min_value=1, label="Member")
