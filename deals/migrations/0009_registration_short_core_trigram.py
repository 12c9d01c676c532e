"""Screening looks short name cores up on their own small trigram index, and both candidate
functions take a length bound on the candidate's core.

`p_max_length` is the longest core that can still reach the tenant's match threshold
(deals/services/screening.py, `core_length_bound`): RapidFuzz's ratio is 2·LCS / (a + b),
so a much longer name cannot score high enough, whatever its trigrams. Rows it excludes
could never have been matches, so the results do not change; with it, a short core
("hart", bound 5 at 85 %) is looked up among the short live cores only
(`reg_live_short_core_trgm`) instead of rechecking every name that starts with "ha".
The gate on the parameter alone becomes a one-time filter: each call runs one branch.

Same tenant pinning as 0002/0003: SECURITY DEFINER, the tenant taken from the
transaction's own `app.tenant_id`, nothing without one. NULL bound: no bound (the old
two-argument calls keep working).
"""

import django.contrib.postgres.indexes
import django.db.models.functions.text
import django.db.models.lookups
from django.db import migrations, models

LIVE = "('submitted', 'in_review', 'info_requested', 'approved')"
TENANT = "NULLIF(current_setting('app.tenant_id', true), '')::bigint"
SHORT_CORE = 8  # deals.services.screening.SHORT_CORE and the index below
RETURNS = (
    "TABLE (id bigint, name_normalized text, name_core text, root_domain text, country text)"
)
COLUMNS = (
    "r.id, r.name_normalized::text, r.name_core::text, r.root_domain::text,"
    " r.customer_country::text"
)

FUNCTIONS = {
    "deals_registration_name_candidates": f"""
        SELECT * FROM (
            SELECT {COLUMNS} FROM deals_dealregistration AS r
            WHERE p_max_length <= {SHORT_CORE}
              AND r.tenant_id = {TENANT} AND r.status IN {LIVE}
              AND length(r.name_core) <= {SHORT_CORE} AND length(r.name_core) <= p_max_length
              AND r.name_core % p_core
            UNION ALL
            SELECT {COLUMNS} FROM deals_dealregistration AS r
            WHERE (p_max_length IS NULL OR p_max_length > {SHORT_CORE})
              AND r.tenant_id = {TENANT} AND r.status IN {LIVE} AND r.name_core % p_core
              AND (p_max_length IS NULL OR length(r.name_core) <= p_max_length)
        ) AS r
        ORDER BY similarity(r.name_core, p_core) DESC, r.id
        LIMIT p_limit
    """,
    "deals_customer_name_candidates": f"""
        SELECT c.id, c.name_normalized::text, c.name_core::text, c.root_domain::text,
               c.country::text
        FROM pipeline_customer AS c
        WHERE c.tenant_id = {TENANT} AND c.name_core % p_core
          AND (p_max_length IS NULL OR length(c.name_core) <= p_max_length)
        ORDER BY similarity(c.name_core, p_core) DESC, c.id
        LIMIT p_limit
    """,
}
OLD_BODIES = {
    "deals_registration_name_candidates": f"""
        SELECT {COLUMNS}
        FROM deals_dealregistration AS r
        WHERE r.tenant_id = {TENANT} AND r.status IN {LIVE} AND r.name_core % p_core
        ORDER BY similarity(r.name_core, p_core) DESC, r.id
        LIMIT p_limit
    """,
    "deals_customer_name_candidates": f"""
        SELECT c.id, c.name_normalized::text, c.name_core::text, c.root_domain::text,
               c.country::text
        FROM pipeline_customer AS c
        WHERE c.tenant_id = {TENANT} AND c.name_core % p_core
        ORDER BY similarity(c.name_core, p_core) DESC, c.id
        LIMIT p_limit
    """,
}


def create_sql(name: str, body: str) -> str:
    return f"""
        DROP FUNCTION IF EXISTS {name}(text, integer);
        CREATE FUNCTION {name}(p_core text, p_limit integer, p_max_length integer DEFAULT NULL)
        RETURNS {RETURNS}
        LANGUAGE sql STABLE SECURITY DEFINER
        SET search_path = public, pg_temp
        AS $fn$ {body} $fn$;
    """


def restore_sql(name: str, body: str) -> str:
    return f"""
        DROP FUNCTION IF EXISTS {name}(text, integer, integer);
        CREATE FUNCTION {name}(p_core text, p_limit integer)
        RETURNS {RETURNS}
        LANGUAGE sql STABLE SECURITY DEFINER
        SET search_path = public, pg_temp
        AS $fn$ {body} $fn$;
    """


class Migration(migrations.Migration):
    dependencies = [("deals", "0008_registration_product_lines_with_tenant")]

    operations = [
        migrations.AddIndex(
            model_name="dealregistration",
            index=django.contrib.postgres.indexes.GinIndex(
                condition=models.Q(
                    ("status__in", ["submitted", "in_review", "info_requested", "approved"]),
                    django.db.models.lookups.LessThanOrEqual(
                        django.db.models.functions.text.Length("name_core"), SHORT_CORE
                    ),
                ),
                fields=["name_core"],
                name="reg_live_short_core_trgm",
                opclasses=["gin_trgm_ops"],
            ),
        ),
        *(
            migrations.RunSQL(create_sql(name, body), restore_sql(name, OLD_BODIES[name]))
            for name, body in FUNCTIONS.items()
        ),
    ]
