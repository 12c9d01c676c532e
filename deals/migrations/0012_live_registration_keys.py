"""Screening's name lookup reads a narrow table of the live registrations' match keys.

The trigram lookup rechecks every row its index returns: for a two-word name such as
"chan joan" at a million registrations, ~3,900 rows ("chan …", "… joan"), 3,800 of them
dropped on the recheck, each on its own page of the 352 MB registrations table
(EXPLAIN: 3,680 heap blocks, 2,410 read from outside shared buffers, 16 of the 20 ms).
`deals_liveregistrationkey` holds only the keys of the live ones (300,000 rows, 30 MB),
so the same rows are rechecked on a table that stays in memory.

Triggers keep it (the application never writes it): inserting a live registration adds
its row, an update of its status or keys moves or removes it, a delete removes it. They
run as the writer, under its row-level security, in the writer's transaction. The
existing rows are copied one tenant at a time with the tenant pinned (the registrations
table forces row-level security on an owner that is not a superuser). The candidate
function reads the new table (same tenant pinning, SECURITY DEFINER, same results), and
the registrations table loses its three trigram indexes.
"""

import django.contrib.postgres.indexes
import django.db.models.deletion
import django.db.models.functions.text
import django.db.models.lookups
from django.db import migrations, models

LIVE = "('submitted', 'in_review', 'info_requested', 'approved')"
TENANT = "NULLIF(current_setting('app.tenant_id', true), '')::bigint"
SHORT_CORE = 8  # deals.services.screening.SHORT_CORE and live_key_short_core_trgm
KEYS = "deals_liveregistrationkey"
RETURNS = (
    "TABLE (id bigint, name_normalized text, name_core text, root_domain text, country text)"
)

SYNC = f"""
CREATE FUNCTION deals_live_registration_key_sync() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp AS $fn$
BEGIN
    IF TG_OP <> 'DELETE' AND NEW.status IN {LIVE} THEN
        INSERT INTO {KEYS} AS k
            (registration_id, tenant_id, name_normalized, name_core, root_domain, country)
        VALUES (NEW.id, NEW.tenant_id, NEW.name_normalized, NEW.name_core, NEW.root_domain,
                NEW.customer_country)
        ON CONFLICT (registration_id) DO UPDATE SET
            name_normalized = EXCLUDED.name_normalized, name_core = EXCLUDED.name_core,
            root_domain = EXCLUDED.root_domain, country = EXCLUDED.country;
    ELSIF TG_OP <> 'INSERT' THEN
        DELETE FROM {KEYS} WHERE registration_id = OLD.id;
    END IF;
    RETURN NULL;
END $fn$;

CREATE TRIGGER live_registration_key_insert_delete
AFTER INSERT OR DELETE ON deals_dealregistration
FOR EACH ROW EXECUTE FUNCTION deals_live_registration_key_sync();

CREATE TRIGGER live_registration_key_update
AFTER UPDATE ON deals_dealregistration
FOR EACH ROW WHEN (
    (OLD.status, OLD.name_normalized, OLD.name_core, OLD.root_domain, OLD.customer_country)
    IS DISTINCT FROM
    (NEW.status, NEW.name_normalized, NEW.name_core, NEW.root_domain, NEW.customer_country)
) EXECUTE FUNCTION deals_live_registration_key_sync();
"""
UNSYNC = """
DROP TRIGGER IF EXISTS live_registration_key_update ON deals_dealregistration;
DROP TRIGGER IF EXISTS live_registration_key_insert_delete ON deals_dealregistration;
DROP FUNCTION IF EXISTS deals_live_registration_key_sync();
"""


def copy_live_keys(apps, schema_editor):
    Tenant = apps.get_model("accounts", "Tenant")
    with schema_editor.connection.cursor() as cursor:
        for tenant_id in Tenant.objects.values_list("id", flat=True):
            cursor.execute("SELECT set_config('app.tenant_id', %s, true)", [str(tenant_id)])
            cursor.execute(
                f"INSERT INTO {KEYS}"  # noqa: S608  (constant table names)
                " (registration_id, tenant_id, name_normalized, name_core, root_domain, country)"
                " SELECT id, tenant_id, name_normalized, name_core, root_domain, customer_country"
                f" FROM deals_dealregistration WHERE tenant_id = %s AND status IN {LIVE}",
                [tenant_id],
            )
        cursor.execute("SELECT set_config('app.tenant_id', '', true)")


COLUMNS = "k.registration_id, k.name_normalized::text, k.name_core::text, k.root_domain::text, k.country::text"
FUNCTION = f"""
    SELECT * FROM (
        SELECT {COLUMNS} FROM {KEYS} AS k
        WHERE p_max_length <= {SHORT_CORE} AND k.tenant_id = {TENANT}
          AND length(k.name_core) <= {SHORT_CORE} AND length(k.name_core) <= p_max_length
          AND k.name_core % p_core
        UNION ALL
        SELECT {COLUMNS} FROM {KEYS} AS k
        WHERE (p_max_length IS NULL OR p_max_length > {SHORT_CORE}) AND k.tenant_id = {TENANT}
          AND k.name_core % p_core
          AND (p_max_length IS NULL OR length(k.name_core) <= p_max_length)
    ) AS r
    ORDER BY similarity(r.name_core, p_core) DESC, r.registration_id
    LIMIT p_limit
"""
OLD_COLUMNS = (
    "r.id, r.name_normalized::text, r.name_core::text, r.root_domain::text,"
    " r.customer_country::text"
)
OLD_FUNCTION = f"""
    SELECT * FROM (
        SELECT {OLD_COLUMNS} FROM deals_dealregistration AS r
        WHERE p_max_length <= {SHORT_CORE}
          AND r.tenant_id = {TENANT} AND r.status IN {LIVE}
          AND length(r.name_core) <= {SHORT_CORE} AND length(r.name_core) <= p_max_length
          AND r.name_core % p_core
        UNION ALL
        SELECT {OLD_COLUMNS} FROM deals_dealregistration AS r
        WHERE (p_max_length IS NULL OR p_max_length > {SHORT_CORE})
          AND r.tenant_id = {TENANT} AND r.status IN {LIVE} AND r.name_core % p_core
          AND (p_max_length IS NULL OR length(r.name_core) <= p_max_length)
    ) AS r
    ORDER BY similarity(r.name_core, p_core) DESC, r.id
    LIMIT p_limit
"""


def create_sql(body: str) -> str:
    return f"""
        CREATE OR REPLACE FUNCTION deals_registration_name_candidates(
            p_core text, p_limit integer, p_max_length integer DEFAULT NULL)
        RETURNS {RETURNS}
        LANGUAGE sql STABLE SECURITY DEFINER
        SET search_path = public, pg_temp
        AS $fn$ {body} $fn$;
    """


SHORT_Q = django.db.models.lookups.LessThanOrEqual(
    django.db.models.functions.text.Length("name_core"), SHORT_CORE
)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_initial"),
        ("deals", "0011_screening_trigram_indexes_without_pending_list"),
    ]

    operations = [
        migrations.CreateModel(
            name="LiveRegistrationKey",
            fields=[
                (
                    "registration",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="deals.dealregistration",
                    ),
                ),
                (
                    "tenant",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="accounts.tenant",
                    ),
                ),
                ("name_normalized", models.CharField(blank=True, max_length=200)),
                ("name_core", models.CharField(blank=True, max_length=200)),
                ("root_domain", models.CharField(blank=True, max_length=253)),
                ("country", models.CharField(blank=True, max_length=2)),
            ],
        ),
        migrations.RunSQL(SYNC, UNSYNC),
        migrations.RunPython(copy_live_keys, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="liveregistrationkey",
            index=django.contrib.postgres.indexes.GinIndex(
                fastupdate=False,
                fields=["tenant", "name_core"],
                name="live_key_name_core_trgm",
                opclasses=["int8_ops", "gin_trgm_ops"],
            ),
        ),
        migrations.AddIndex(
            model_name="liveregistrationkey",
            index=django.contrib.postgres.indexes.GinIndex(
                fastupdate=False,
                fields=["name_core"],
                name="live_key_name_core_trgm_only",
                opclasses=["gin_trgm_ops"],
            ),
        ),
        migrations.AddIndex(
            model_name="liveregistrationkey",
            index=django.contrib.postgres.indexes.GinIndex(
                condition=models.Q(SHORT_Q),
                fastupdate=False,
                fields=["name_core"],
                name="live_key_short_core_trgm",
                opclasses=["gin_trgm_ops"],
            ),
        ),
        # Statistics now, or the planner takes the tenant column's index (bench: 2x slower).
        migrations.RunSQL(f"ANALYZE {KEYS}", migrations.RunSQL.noop),
        migrations.RunSQL(create_sql(FUNCTION), create_sql(OLD_FUNCTION)),
        migrations.RemoveIndex(model_name="dealregistration", name="reg_live_name_core_trgm"),
        migrations.RemoveIndex(model_name="dealregistration", name="reg_live_name_core_trgm_only"),
        migrations.RemoveIndex(model_name="dealregistration", name="reg_live_short_core_trgm"),
    ]
