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
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

FIELDS = ("actor_user", "actor_token")


def _full_indexes(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor, name: str) -> tuple[type[models.Model], list[str]]:
    model = apps.get_model("customers", "ProfileChange")
    column = model._meta.get_field(name).column
    return model, schema_editor._constraint_names(model, [column], index=True, unique=False, primary_key=False)


def drop_indexes(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    for name in FIELDS:
        model, indexes = _full_indexes(apps, schema_editor, name)
        for index in indexes:
            schema_editor.execute(schema_editor._delete_index_sql(model, index))


def create_indexes(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    for name in FIELDS:
        model, indexes = _full_indexes(apps, schema_editor, name)
        if not indexes:
            schema_editor.execute(schema_editor._create_index_sql(model, fields=[model._meta.get_field(name)]))


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
            database_operations=[migrations.RunPython(drop_indexes, create_indexes)],
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
