# The co-sell impact report's index-only reads (analytics/selectors/cosell_impact.py).

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0003_tenant_fiscal_year_start_month'),
        ('pipeline', '0017_cosell_request_final'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name='cosellrequest',
            index=models.Index(condition=models.Q(('engaged_at__isnull', False)), fields=['tenant', 'opportunity', 'engaged_at'], name='cosell_engaged'),
        ),
        migrations.AddIndex(
            model_name='fieldchange',
            index=models.Index(condition=models.Q(('field', 'stage')), fields=['tenant', 'opportunity'], include=('new_value', 'changed_at', 'id'), name='fieldchange_stage_deal'),
        ),
    ]
