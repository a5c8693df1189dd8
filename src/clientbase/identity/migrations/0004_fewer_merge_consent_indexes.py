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
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

FIELDS = (("Merge", "survivor"), ("Merge", "absorbed"), ("Merge", "actor_user"), ("Merge", "unmerged_by"),
          ("Consent", "customer"))


def _full_indexes(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor, model_name: str,
                  name: str) -> tuple[type[models.Model], list[str]]:
    model = apps.get_model("identity", model_name)
    column = model._meta.get_field(name).column
    return model, schema_editor._constraint_names(model, [column], index=True, unique=False, primary_key=False)


def drop_indexes(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    for model_name, name in FIELDS:
        model, indexes = _full_indexes(apps, schema_editor, model_name, name)
        for index in indexes:
            schema_editor.execute(schema_editor._delete_index_sql(model, index))


def create_indexes(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    for model_name, name in FIELDS:
        model, indexes = _full_indexes(apps, schema_editor, model_name, name)
        if not indexes:
            schema_editor.execute(schema_editor._create_index_sql(model, fields=[model._meta.get_field(name)]))


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
            database_operations=[migrations.RunPython(drop_indexes, create_indexes)],
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
