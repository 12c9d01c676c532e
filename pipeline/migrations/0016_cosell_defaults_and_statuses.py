"""Every tenant gets the default co-sell resource types (later tenants get them from the
`tenant.created` event); existing requests move to the new shape:

- `kind` becomes the matching resource type (pipeline.defaults.COSELL_KIND_TO_TYPE);
- `done` becomes `completed` (completed_at = done_at); assigned and done requests get
  assigned_at = decided_at, and done ones engaged_at = decided_at (the moment the vendor
  answered: the old model did not record first contact, and a done request had one);
- stage_at_request is the deal's stage when it was asked for (its last move before);
- open requests get the default first-contact clock (2 business days from the request).
"""

from decimal import Decimal

from django.db import migrations

from pipeline.defaults import COSELL_KIND_TO_TYPE, DEFAULT_COSELL_TYPES, add_business_days


def _pin(schema_editor, tenant_id):
    with schema_editor.connection.cursor() as cursor:  # row-level security: pin the tenant
        cursor.execute("SELECT set_config('app.tenant_id', %s, true)", [str(tenant_id)])


def _install_types(apps, tenant):
    CoSellResourceType = apps.get_model("pipeline", "CoSellResourceType")
    Stage = apps.get_model("pipeline", "Stage")
    stages = {s.name.lower(): s for s in Stage.objects.filter(tenant=tenant, kind="open")}
    types = {}
    for position, (code, name, stage_names, min_amount, hours) in enumerate(
        DEFAULT_COSELL_TYPES, start=1
    ):
        kind, _ = CoSellResourceType.objects.get_or_create(
            tenant=tenant,
            code=code,
            defaults={
                "name": name,
                "min_amount": Decimal(min_amount) if min_amount else None,
                "hours_per_request": hours,
                "position": position,
            },
        )
        kind.stages.set(
            [stages[n.lower()] for n in stage_names if n.lower() in stages],
            through_defaults={"tenant": tenant},
        )
        types[code] = kind
    return types


def _migrate_requests(apps, tenant, types):
    CoSellRequest = apps.get_model("pipeline", "CoSellRequest")
    StageMove = apps.get_model("pipeline", "StageMove")
    for request in CoSellRequest.objects.filter(tenant=tenant).select_related("opportunity"):
        request.resource_type = types[COSELL_KIND_TO_TYPE.get(request.kind, "pre_sales_engineer")]
        if request.status in ("assigned", "done"):
            request.assigned_at = request.decided_at or request.created_at
        if request.status == "done":
            request.status = "completed"
            request.engaged_at = request.decided_at or request.created_at
            request.completed_at = request.done_at or request.engaged_at
        move = (
            StageMove.objects.filter(
                opportunity_id=request.opportunity_id, created_at__lte=request.created_at
            )
            .order_by("-created_at", "-id")
            .first()
        )
        request.stage_at_request_id = move.to_stage_id if move else request.opportunity.stage_id
        if request.status in ("requested", "assigned"):
            request.sla_due_at = add_business_days(request.created_at, 2)
        request.save()


def forward(apps, schema_editor):
    Tenant = apps.get_model("accounts", "Tenant")
    CoSellSettings = apps.get_model("pipeline", "CoSellSettings")
    for tenant in Tenant.objects.all():
        _pin(schema_editor, tenant.pk)
        types = _install_types(apps, tenant)
        CoSellSettings.objects.get_or_create(tenant=tenant)
        _migrate_requests(apps, tenant, types)


class Migration(migrations.Migration):
    dependencies = [("pipeline", "0015_cosell_pool")]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
