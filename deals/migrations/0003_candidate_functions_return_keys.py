"""The candidate functions return each candidate's match keys, not only its id, so
screening re-ranks them before it loads any row (and loads only the matches).

Same tenant pinning as 0002: SECURITY DEFINER, the tenant taken from the transaction's own
`app.tenant_id`, nothing without one. The `%` operator honours the caller's transaction-
local `pg_trgm.similarity_threshold` (screening sets it from the tenant's match threshold).
"""

from django.db import migrations

LIVE = "('submitted', 'in_review', 'info_requested', 'approved')"
TENANT = "NULLIF(current_setting('app.tenant_id', true), '')::bigint"
RETURNS = (
    "TABLE (id bigint, name_normalized text, name_core text, root_domain text, country text)"
)

FUNCTIONS = {
    "deals_registration_name_candidates": f"""
        SELECT r.id, r.name_normalized::text, r.name_core::text, r.root_domain::text,
               r.customer_country::text
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
OLD_RETURNS = "TABLE (id bigint, similarity real)"
OLD_BODIES = {
    "deals_registration_name_candidates": f"""
        SELECT r.id, similarity(r.name_core, p_core) FROM deals_dealregistration AS r
        WHERE r.tenant_id = {TENANT} AND r.status IN {LIVE} AND r.name_core % p_core
        ORDER BY similarity(r.name_core, p_core) DESC, r.id LIMIT p_limit
    """,
    "deals_customer_name_candidates": f"""
        SELECT c.id, similarity(c.name_core, p_core) FROM pipeline_customer AS c
        WHERE c.tenant_id = {TENANT} AND c.name_core % p_core
        ORDER BY similarity(c.name_core, p_core) DESC, c.id LIMIT p_limit
    """,
}


def create_sql(name: str, returns: str, body: str) -> str:
    return f"""
        DROP FUNCTION IF EXISTS {name}(text, integer);
        CREATE FUNCTION {name}(p_core text, p_limit integer)
        RETURNS {returns}
        LANGUAGE sql STABLE SECURITY DEFINER
        SET search_path = public, pg_temp
        AS $fn$ {body} $fn$;
    """


class Migration(migrations.Migration):
    dependencies = [("deals", "0002_screening_candidate_functions")]

    operations = [
        migrations.RunSQL(
            create_sql(name, RETURNS, body), create_sql(name, OLD_RETURNS, OLD_BODIES[name])
        )
        for name, body in FUNCTIONS.items()
    ]
