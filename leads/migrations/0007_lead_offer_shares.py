"""LeadOfferShare, kept by a statement-level trigger on leads_leadoffer from the decision
each offer stores, then filled for the offers that exist. The eligible set is the one
`leads.reports.fairness_eligible` defines: the candidates passing every rule the chain
applied (outcome applied or emptied) except the momentary ones (capacity, not_declined);
each one's share is its capacity ÷ their capacity (none when that is 0)."""

import django.db.models.deletion
from django.db import migrations, models

SHARES = """
INSERT INTO leads_leadoffershare (tenant_id, offer_id, partner_id, share, chosen, offered_at)
SELECT tenant_id, offer_id, partner_id, share, partner_id = chosen, offered_at FROM (
  SELECT o.tenant_id, o.id AS offer_id, o.partner_id AS chosen, o.offered_at,
    (c->>'partner_id')::bigint AS partner_id,
    greatest((c->'stats'->>'capacity')::float8, 0)
      / nullif(sum(greatest((c->'stats'->>'capacity')::float8, 0))
               OVER (PARTITION BY o.id), 0) AS share
  FROM {source} o, jsonb_array_elements(o.explanation->'facts'->'candidates') AS c
  WHERE NOT EXISTS (
    SELECT 1 FROM jsonb_array_elements(o.explanation->'decision'->'steps') AS s
    WHERE s->>'outcome' IN ('applied', 'emptied')
      AND s->>'rule' NOT IN ('capacity', 'not_declined')
      AND coalesce((c->'rules'->>(s->>'rule'))::boolean, false) IS FALSE
  )
) eligible
WHERE share IS NOT NULL;
"""

FORWARD = f"""
CREATE OR REPLACE FUNCTION leads_offer_shares() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
{SHARES.format(source="new_rows")}
    RETURN NULL;
END $$;
CREATE TRIGGER leads_offer_shares AFTER INSERT ON leads_leadoffer
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION leads_offer_shares();
{SHARES.format(source="leads_leadoffer")}
"""

REVERSE = """
DROP TRIGGER IF EXISTS leads_offer_shares ON leads_leadoffer;
DROP FUNCTION IF EXISTS leads_offer_shares();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_tenant_fiscal_year_start_month"),
        ("leads", "0006_routing_policy_fair_share_scoring"),
    ]

    operations = [
        migrations.CreateModel(
            name="LeadOfferShare",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("partner_id", models.BigIntegerField()),
                ("share", models.FloatField()),
                ("chosen", models.BooleanField()),
                ("offered_at", models.DateTimeField()),
                (
                    "offer",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="leads.leadoffer",
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
            ],
            options={
                "indexes": [
                    models.Index(
                        fields=["tenant", "offered_at"],
                        include=("partner_id", "share", "chosen"),
                        name="leadoffershare_recent",
                    )
                ],
            },
        ),
        migrations.RunSQL(FORWARD, REVERSE),
    ]
