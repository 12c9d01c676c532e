"""The routing policy's scoring: tenants routing before keep the weighted score they had
(and its weights); a policy created from now on starts with the fair-share scoring."""

from django.db import migrations, models

CHOICES = [
    ("fair_share", "Fair share, tilted toward better partners"),
    ("weighted", "Weighted sum of the score parts"),
]
HELP = "How the partners the rules leave are ranked (leads/routing.py)."


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0005_lead_stale_flagged_at"),
    ]

    operations = [
        migrations.AddField(
            model_name="routingpolicy",
            name="scoring",
            field=models.CharField(
                choices=CHOICES, default="weighted", help_text=HELP, max_length=16
            ),
        ),
        migrations.AlterField(
            model_name="routingpolicy",
            name="scoring",
            field=models.CharField(
                choices=CHOICES, default="fair_share", help_text=HELP, max_length=16
            ),
        ),
    ]
