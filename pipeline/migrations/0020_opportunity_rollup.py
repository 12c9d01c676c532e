"""The forecast rollup kept by the database: OpportunityRollup and the statement-level
triggers on pipeline_opportunity that keep it (INSERT, UPDATE and DELETE each add their
deals' net change per key in one upsert; changes that move no money nor key touch no row),
then the rows of the deals that exist already."""

import django.db.models.deletion
from django.db import migrations, models


# A deal's key: open deals by the month of their expected close date, won deals by the
# month of closed_on (stage and override do not matter once won); lost deals are not kept.
KEYS = """o.tenant_id, o.status::varchar AS status,
       date_trunc('month', CASE WHEN o.status = 'won' THEN o.closed_on
                                ELSE o.expected_close_date END)::date AS month,
       o.partner_id,
       CASE WHEN o.status = 'won' THEN 0 ELSE o.stage_id END AS stage_id,
       CASE WHEN o.status = 'won' THEN '' ELSE o.forecast_category_override END
           AS category_override"""
KEPT = "o.status IN ('open', 'won')"
COLUMNS = "tenant_id, status, month, partner_id, stage_id, category_override"


def _apply(sides: str) -> str:
    return f"""
        INSERT INTO pipeline_opportunityrollup AS r ({COLUMNS}, amount, deals)
        SELECT {COLUMNS}, sum(amount), sum(deals) FROM ({sides}) d
        GROUP BY {COLUMNS}
        HAVING sum(deals) <> 0 OR sum(amount) <> 0
        ORDER BY {COLUMNS}
        ON CONFLICT ON CONSTRAINT opportunityrollup_key DO UPDATE
        SET amount = r.amount + excluded.amount, deals = r.deals + excluded.deals;"""


ADDED = f"SELECT {KEYS}, coalesce(o.amount, 0) AS amount, 1 AS deals FROM new_rows o WHERE {KEPT}"
REMOVED = f"SELECT {KEYS}, -coalesce(o.amount, 0) AS amount, -1 AS deals FROM old_rows o WHERE {KEPT}"

FUNCTION = f"""
CREATE OR REPLACE FUNCTION pipeline_opportunity_rollup() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN {_apply(ADDED)}
    ELSIF TG_OP = 'UPDATE' THEN {_apply(ADDED + " UNION ALL " + REMOVED)}
    ELSE {_apply(REMOVED)}
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER opportunity_rollup_insert AFTER INSERT ON pipeline_opportunity
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION pipeline_opportunity_rollup();
CREATE TRIGGER opportunity_rollup_update AFTER UPDATE ON pipeline_opportunity
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION pipeline_opportunity_rollup();
CREATE TRIGGER opportunity_rollup_delete AFTER DELETE ON pipeline_opportunity
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION pipeline_opportunity_rollup();
INSERT INTO pipeline_opportunityrollup ({COLUMNS}, amount, deals)
SELECT {COLUMNS}, sum(amount), count(*) FROM (
    SELECT {KEYS}, coalesce(o.amount, 0) AS amount FROM pipeline_opportunity o WHERE {KEPT}
) d
GROUP BY {COLUMNS};
"""

REVERSE = """
DROP TRIGGER IF EXISTS opportunity_rollup_insert ON pipeline_opportunity;
DROP TRIGGER IF EXISTS opportunity_rollup_update ON pipeline_opportunity;
DROP TRIGGER IF EXISTS opportunity_rollup_delete ON pipeline_opportunity;
DROP FUNCTION IF EXISTS pipeline_opportunity_rollup();
DELETE FROM pipeline_opportunityrollup;
"""


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0003_tenant_fiscal_year_start_month'),
        ('pipeline', '0019_external_ids'),
    ]

    operations = [
        migrations.CreateModel(
            name='OpportunityRollup',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('status', models.CharField(max_length=8)),
                ('partner_id', models.BigIntegerField(null=True)),
                ('stage_id', models.BigIntegerField()),
                ('category_override', models.CharField(blank=True, max_length=16)),
                ('month', models.DateField(help_text='First day of the month; none: no date.', null=True)),
                ('amount', models.DecimalField(decimal_places=2, max_digits=18)),
                ('deals', models.IntegerField()),
                ('tenant', models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='accounts.tenant')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('tenant', 'status', 'month', 'partner_id', 'stage_id', 'category_override'), name='opportunityrollup_key', nulls_distinct=False)],
            },
        ),
        migrations.RunSQL(FUNCTION, REVERSE),
    ]
