"""Tenants that already have their registration defaults get the rejection reason
"Another partner registered first" (issue 9). Later tenants get it with every default
(deals.defaults, installed on `tenant.created`). A tenant that already has the code keeps
its own label and state."""

from django.db import migrations

CODE, LABEL = "registered_first", "Another partner registered first"


def install(apps, schema_editor):
    Tenant = apps.get_model("accounts", "Tenant")
    RegistrationSettings = apps.get_model("deals", "RegistrationSettings")
    RejectionReason = apps.get_model("deals", "RejectionReason")
    for tenant in Tenant.objects.all():
        with schema_editor.connection.cursor() as cursor:  # row-level security: pin the tenant
            cursor.execute("SELECT set_config('app.tenant_id', %s, true)", [str(tenant.pk)])
        if not RegistrationSettings.objects.filter(tenant=tenant).exists():
            continue  # its defaults, this reason included, come when it starts
        RejectionReason.objects.get_or_create(tenant=tenant, code=CODE, defaults={"label": LABEL})


class Migration(migrations.Migration):
    dependencies = [("deals", "0006_approval_override_reason"), ("accounts", "0002_initial")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
