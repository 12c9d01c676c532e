"""Screening's fuzzy-name lookups as tenant-pinned SECURITY DEFINER functions.

Under row-level security PostgreSQL may not run a non-LEAKPROOF operator such as pg_trgm's
`%` before the policy, so the trigram index is lost (DESIGN "Known traps": 20 ms became
110–125 ms). These functions run as the tables' owner and filter on the transaction's own
`app.tenant_id` themselves: a caller can never ask about another tenant, and with no tenant
set they return nothing.
"""

from django.db import migrations

LIVE = "('submitted', 'in_review', 'info_requested', 'approved')"
TENANT = "NULLIF(current_setting('app.tenant_id', true), '')::bigint"

FUNCTIONS = {
    "deals_registration_name_candidates": f"""
        SELECT r.id, similarity(r.name_core, p_core)
        FROM deals_dealregistration AS r
        WHERE r.tenant_id = {TENANT} AND r.status IN {LIVE} AND r.name_core % p_core
        ORDER BY similarity(r.name_core, p_core) DESC, r.id
        LIMIT p_limit
    """,
    "deals_customer_name_candidates": f"""
        SELECT c.id, similarity(c.name_core, p_core)
        FROM pipeline_customer AS c
        WHERE c.tenant_id = {TENANT} AND c.name_core % p_core
        ORDER BY similarity(c.name_core, p_core) DESC, c.id
        LIMIT p_limit
    """,
}


def create_sql(name: str, body: str) -> str:
    return f"""
        CREATE OR REPLACE FUNCTION {name}(p_core text, p_limit integer)
        RETURNS TABLE (id bigint, similarity real)
        LANGUAGE sql STABLE SECURITY DEFINER
        SET search_path = public, pg_temp
        AS $fn$ {body} $fn$;
    """


class Migration(migrations.Migration):
    dependencies = [("deals", "0001_initial"), ("pipeline", "0005_customer_name_trigram")]

    operations = [
        migrations.RunSQL(
            create_sql(name, body), f"DROP FUNCTION IF EXISTS {name}(text, integer);"
        )
        for name, body in FUNCTIONS.items()
    ]
