"""Field history: append-only in the database, and backfilled for existing deals.

Append-only: a BEFORE UPDATE trigger refuses every UPDATE except the `SET NULL` of a
deleted actor; a deferred constraint trigger refuses, at commit, the DELETE of a row whose
opportunity still exists (so rows go only with their deal's cascade). TRUNCATE (test
flushes) fires neither.

Backfill, for each deal without history: one creation row per field at `created_at`
(amount, close date and owner with their current values: nothing older is known), then a
stage, status and forecast-category row for every recorded StageMove (categories are the
stages' own: past overrides are not known), and a final row where the current state
differs from what the moves end in (e.g. today's override). Source "backfill".
"""

from django.db import migrations

APPEND_ONLY = """
CREATE OR REPLACE FUNCTION pipeline_fieldchange_refuse_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.actor_id IS NULL AND OLD.actor_id IS NOT NULL
       AND (NEW.id, NEW.tenant_id, NEW.opportunity_id, NEW.field, NEW.old_value,
            NEW.new_value, NEW.source, NEW.changed_at)
           IS NOT DISTINCT FROM
           (OLD.id, OLD.tenant_id, OLD.opportunity_id, OLD.field, OLD.old_value,
            OLD.new_value, OLD.source, OLD.changed_at) THEN
        RETURN NEW;  -- the actor's user was deleted (ON DELETE SET NULL)
    END IF;
    RAISE EXCEPTION 'field history is append-only: UPDATE of pipeline_fieldchange refused'
        USING ERRCODE = 'integrity_constraint_violation';
END $$;

CREATE OR REPLACE FUNCTION pipeline_fieldchange_check_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    previous text := current_setting('app.tenant_id', true);
    deal_exists boolean;
BEGIN
    PERFORM set_config('app.tenant_id', OLD.tenant_id::text, true);
    deal_exists := EXISTS (SELECT 1 FROM pipeline_opportunity WHERE id = OLD.opportunity_id);
    PERFORM set_config('app.tenant_id', coalesce(previous, ''), true);
    IF deal_exists THEN
        RAISE EXCEPTION 'field history is append-only: a row goes only with its opportunity'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER fieldchange_no_update BEFORE UPDATE ON pipeline_fieldchange
    FOR EACH ROW EXECUTE FUNCTION pipeline_fieldchange_refuse_update();
CREATE CONSTRAINT TRIGGER fieldchange_delete_with_deal AFTER DELETE ON pipeline_fieldchange
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION pipeline_fieldchange_check_delete();
"""

DROP_APPEND_ONLY = """
DROP TRIGGER IF EXISTS fieldchange_no_update ON pipeline_fieldchange;
DROP TRIGGER IF EXISTS fieldchange_delete_with_deal ON pipeline_fieldchange;
DROP FUNCTION IF EXISTS pipeline_fieldchange_refuse_update();
DROP FUNCTION IF EXISTS pipeline_fieldchange_check_delete();
"""

# One tenant at a time (row-level security pins it); %(tenant)s is its id.
BACKFILL = """
WITH deals AS (
    SELECT o.* FROM pipeline_opportunity o
    WHERE o.tenant_id = %(tenant)s
      AND NOT EXISTS (SELECT 1 FROM pipeline_fieldchange c WHERE c.opportunity_id = o.id)
), moves AS (
    SELECT m.opportunity_id, m.from_stage_id, m.from_status, m.to_stage_id, m.to_status,
           m.actor_id, m.created_at,
           row_number() OVER w AS n, count(*) OVER (PARTITION BY m.opportunity_id) AS total
    FROM pipeline_stagemove m JOIN deals d ON d.id = m.opportunity_id
    WHERE m.from_stage_id IS NOT NULL
    WINDOW w AS (PARTITION BY m.opportunity_id ORDER BY m.created_at, m.id)
), initial AS (
    SELECT d.id, d.tenant_id, d.created_at,
           coalesce(f.from_stage_id, d.stage_id) AS stage_id,
           coalesce(nullif(f.from_status, ''), d.status) AS status
    FROM deals d LEFT JOIN moves f ON f.opportunity_id = d.id AND f.n = 1
), steps AS (
    -- every state the deal went through: 0 = created, then one per move
    SELECT i.id, 0 AS n, i.stage_id, i.status, NULL::bigint AS actor_id, i.created_at
    FROM initial i
    UNION ALL
    SELECT m.opportunity_id, m.n, m.to_stage_id, m.to_status, m.actor_id, m.created_at
    FROM moves m
), states AS (
    SELECT s.*, st.forecast_category AS category,
           lag(s.stage_id) OVER w AS prev_stage, lag(s.status) OVER w AS prev_status,
           lag(st.forecast_category) OVER w AS prev_category,
           row_number() OVER (PARTITION BY s.id ORDER BY s.n DESC) AS from_end
    FROM steps s JOIN pipeline_stage st ON st.id = s.stage_id
    WINDOW w AS (PARTITION BY s.id ORDER BY s.n)
), current AS (
    SELECT d.id, d.stage_id::text AS stage, d.status::text AS status,
           CASE WHEN d.status = 'open' AND d.forecast_category_override <> ''
                THEN d.forecast_category_override ELSE st.forecast_category END AS category,
           greatest(d.updated_at, s.created_at) AS at
    FROM deals d JOIN pipeline_stage st ON st.id = d.stage_id
    JOIN states s ON s.id = d.id AND s.from_end = 1
), last AS (
    SELECT id, stage_id::text AS stage, status::text AS status, category
    FROM states WHERE from_end = 1
)
INSERT INTO pipeline_fieldchange
    (tenant_id, opportunity_id, field, old_value, new_value, actor_id, source, changed_at)
SELECT %(tenant)s, d.id, v.field, '', v.value, NULL, 'backfill', d.created_at
FROM deals d JOIN states s ON s.id = d.id AND s.n = 0
CROSS JOIN LATERAL (VALUES
    ('amount', coalesce(to_char(d.amount, 'FM999999999999990.00'), '')),
    ('expected_close_date', coalesce(to_char(d.expected_close_date, 'YYYY-MM-DD'), '')),
    ('stage', s.stage_id::text),
    ('status', s.status::text),
    ('forecast_category', s.category::text),
    ('owner', d.owner_id::text)
) AS v(field, value)
UNION ALL
SELECT %(tenant)s, s.id, v.field, v.old, v.new, s.actor_id, 'backfill', s.created_at
FROM states s
CROSS JOIN LATERAL (VALUES
    ('stage', s.prev_stage::text, s.stage_id::text),
    ('status', s.prev_status::text, s.status::text),
    ('forecast_category', s.prev_category::text, s.category::text)
) AS v(field, old, new)
WHERE s.n > 0 AND v.old <> v.new
UNION ALL
SELECT %(tenant)s, c.id, v.field, v.old, v.new, NULL, 'backfill', c.at
FROM current c JOIN last l ON l.id = c.id
CROSS JOIN LATERAL (VALUES
    ('stage', l.stage, c.stage),
    ('status', l.status, c.status),
    ('forecast_category', l.category, c.category)
) AS v(field, old, new)
WHERE v.old <> v.new
"""


def backfill(apps, schema_editor):
    Tenant = apps.get_model("accounts", "Tenant")
    with schema_editor.connection.cursor() as cursor:
        for tenant_id in Tenant.objects.values_list("pk", flat=True):
            cursor.execute("SELECT set_config('app.tenant_id', %s, true)", [str(tenant_id)])
            cursor.execute(BACKFILL, {"tenant": tenant_id})


class Migration(migrations.Migration):
    dependencies = [
        ("pipeline", "0008_forecast_categories_and_field_history"),
    ]

    operations = [
        migrations.RunSQL(APPEND_ONLY, DROP_APPEND_ONLY),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
