"""Fewer indexes on Merge and Consent (ingest throughput, issue 3).

- Merge.survivor, Merge.absorbed and Consent.customer lose the index Django made for them:
  merge_survivor_at, merge_absorbed_at and consent_customer_channel_at start with those columns and serve
  every lookup by them.
- Merge.actor_user and Merge.unmerged_by are indexed only where set (an ingest's merges have no user;
  few merges are undone); a lookup by a user compares with a value, which implies not null.

Only the state changes through AlterField: SQLite would otherwise rebuild each table once per field.
The old indexes are found by introspection (their names are Django's hashes) and dropped; reversing
recreates them."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from clientbase.core.migration_indexes import drop_field_indexes

FIELDS = (("Merge", "survivor"), ("Merge", "absorbed"), ("Merge", "actor_user"), ("Merge", "unmerged_by"),
          ("Consent", "customer"))


class Migration(migrations.Migration):

    dependencies = [
        ('customers', '0004_profilechange_partial_actor_indexes'),
        ('identity', '0003_identifier_customer_drop_duplicate_index'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='consent',
                    name='customer',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE,
                                            related_name='consents', to='customers.customer'),
                ),
                migrations.AlterField(
                    model_name='merge',
                    name='absorbed',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT,
                                            related_name='merges_lost', to='customers.customer'),
                ),
                migrations.AlterField(
                    model_name='merge',
                    name='actor_user',
                    field=models.ForeignKey(db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL,
                                            related_name='+', to=settings.AUTH_USER_MODEL),
                ),
                migrations.AlterField(
                    model_name='merge',
                    name='survivor',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT,
                                            related_name='merges_won', to='customers.customer'),
                ),
                migrations.AlterField(
                    model_name='merge',
                    name='unmerged_by',
                    field=models.ForeignKey(db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL,
                                            related_name='+', to=settings.AUTH_USER_MODEL),
                ),
            ],
            database_operations=[drop_field_indexes("identity", FIELDS)],
        ),
        migrations.AddIndex(
            model_name='merge',
            index=models.Index(condition=models.Q(('actor_user__isnull', False)), fields=['actor_user'],
                               name='merge_actor_user'),
        ),
        migrations.AddIndex(
            model_name='merge',
            index=models.Index(condition=models.Q(('unmerged_by__isnull', False)), fields=['unmerged_by'],
                               name='merge_unmerged_by'),
        ),
    ]
