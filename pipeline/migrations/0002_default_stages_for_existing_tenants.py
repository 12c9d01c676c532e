"""Tenants created before the pipeline existed get the default stages, rules and reasons.

Later tenants get them from the `tenant.created` event (pipeline/handlers.py)."""

from django.db import migrations

from pipeline.defaults import DEFAULT_LOST_REASONS, DEFAULT_STAGES


def install(apps, schema_editor):
    Tenant = apps.get_model("accounts", "Tenant")
    Stage = apps.get_model("pipeline", "Stage")
    PipelineRules = apps.get_model("pipeline", "PipelineRules")
    LostReason = apps.get_model("pipeline", "LostReason")
    for tenant in Tenant.objects.all():
        with schema_editor.connection.cursor() as cursor:  # row-level security: pin the tenant
            cursor.execute("SELECT set_config('app.tenant_id', %s, true)", [str(tenant.pk)])
        if Stage.objects.filter(tenant=tenant).exists():
            continue
        Stage.objects.bulk_create(
            Stage(
                tenant=tenant,
                name=name,
                probability=probability,
                kind=kind,
                entry_criteria=list(criteria),
                stale_after_days=stale,
                guidance=guidance,
                position=position,
            )
            for position, (name, probability, kind, criteria, stale, guidance) in enumerate(
                DEFAULT_STAGES, start=1
            )
        )
        PipelineRules.objects.get_or_create(tenant=tenant)
        LostReason.objects.bulk_create(
            [
                LostReason(tenant=tenant, code=code, label=label)
                for code, label in DEFAULT_LOST_REASONS
            ]
        )


class Migration(migrations.Migration):
    dependencies = [("pipeline", "0001_initial"), ("accounts", "0002_initial")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
