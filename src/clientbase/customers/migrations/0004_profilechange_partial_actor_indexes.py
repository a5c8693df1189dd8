"""Index ProfileChange's actor_user and actor_token only where they are set: imports, ingest and merges by
the system leave both empty on most rows, and the full indexes took a write of an empty key for each.
Lookups by a user or token (the foreign keys' SET NULL among them) compare with a value, which implies
not null, so the partial indexes serve them.

Only the state changes through AlterField: SQLite would otherwise rebuild the whole table, twice. The
old indexes are found by introspection (their names are Django's hashes) and dropped; reversing
recreates them."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from clientbase.core.migration_indexes import drop_field_indexes


class Migration(migrations.Migration):

    dependencies = [
        ('access', '0001_staff_teams_tokens'),
        ('customers', '0003_fewer_customer_indexes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='profilechange',
                    name='actor_token',
                    field=models.ForeignKey(db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL,
                                            related_name='+', to='access.apitoken'),
                ),
                migrations.AlterField(
                    model_name='profilechange',
                    name='actor_user',
                    field=models.ForeignKey(db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL,
                                            related_name='+', to=settings.AUTH_USER_MODEL),
                ),
            ],
            database_operations=[drop_field_indexes("customers", [("ProfileChange", "actor_user"),
                                                                  ("ProfileChange", "actor_token")])],
        ),
        migrations.AddIndex(
            model_name='profilechange',
            index=models.Index(condition=models.Q(('actor_user__isnull', False)), fields=['actor_user'],
                               name='profile_change_actor_user'),
        ),
        migrations.AddIndex(
            model_name='profilechange',
            index=models.Index(condition=models.Q(('actor_token__isnull', False)), fields=['actor_token'],
                               name='profile_change_actor_token'),
        ),
    ]
