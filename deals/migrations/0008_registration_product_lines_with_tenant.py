"""The registration ↔ product line links get a tenant column, so row-level security covers
them like every tenant table (accounts/tenancy.py installs the policy after migrating).

The automatic many-to-many table becomes the explicit `RegistrationProductLine` in place:
same table, same columns, same rows. The new `tenant_id` is filled from each link's
registration, one tenant at a time with the tenant pinned (the registrations table forces
row-level security on an owner that is not a superuser), then made NOT NULL; the unique
pair becomes a unique triple that starts with the tenant.
"""

import django.db.models.deletion
from django.db import migrations, models

TABLE = "deals_dealregistration_product_lines"


def fill_tenant(apps, schema_editor):
    Tenant = apps.get_model("accounts", "Tenant")
    with schema_editor.connection.cursor() as cursor:
        for tenant_id in Tenant.objects.values_list("id", flat=True):
            cursor.execute("SELECT set_config('app.tenant_id', %s, true)", [str(tenant_id)])
            cursor.execute(
                f"UPDATE {TABLE} AS link SET tenant_id = r.tenant_id"
                " FROM deals_dealregistration AS r"
                " WHERE r.id = link.dealregistration_id AND r.tenant_id = %s",
                [tenant_id],
            )
        cursor.execute("SELECT set_config('app.tenant_id', '', true)")
        # Check the deferred foreign keys now: the table is altered again below.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


DROP_PAIR_UNIQUE = f"""
DO $$
DECLARE pair text;
BEGIN
    FOR pair IN
        SELECT conname FROM pg_constraint
        WHERE conrelid = '{TABLE}'::regclass AND contype = 'u'
          AND conname <> 'registration_product_line_unique'
    LOOP
        EXECUTE format('ALTER TABLE {TABLE} DROP CONSTRAINT %I', pair);
    END LOOP;
END $$;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_initial"),
        ("deals", "0007_registered_first_rejection_reason"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="RegistrationProductLine",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "registration",
                            models.ForeignKey(
                                db_column="dealregistration_id",
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to="deals.dealregistration",
                            ),
                        ),
                        (
                            "product_line",
                            models.ForeignKey(
                                db_column="productline_id",
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to="deals.productline",
                            ),
                        ),
                    ],
                    options={"db_table": TABLE},
                ),
                migrations.AlterField(
                    model_name="dealregistration",
                    name="product_lines",
                    field=models.ManyToManyField(
                        blank=True,
                        related_name="registrations",
                        through="deals.RegistrationProductLine",
                        to="deals.productline",
                    ),
                ),
            ],
            database_operations=[],
        ),
        migrations.AddField(
            model_name="registrationproductline",
            name="tenant",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="accounts.tenant",
            ),
        ),
        migrations.RunPython(fill_tenant, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="registrationproductline",
            name="tenant",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="accounts.tenant",
            ),
        ),
        migrations.RunSQL(DROP_PAIR_UNIQUE, migrations.RunSQL.noop),
        migrations.AddConstraint(
            model_name="registrationproductline",
            constraint=models.UniqueConstraint(
                fields=("tenant", "registration", "product_line"),
                name="registration_product_line_unique",
            ),
        ),
    ]
