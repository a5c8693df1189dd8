"""Drop the index Django made for Event.customer: event_customer_occurred starts with customer and serves
every lookup by customer, while the second index cost each inserted row (ingest throughput, issue 3).

Only the state changes through AlterField: SQLite would otherwise rebuild the whole table. The index is
found by introspection (its name is Django's hash) and dropped; reversing recreates it."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps


def _single_column_indexes(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> tuple[type[models.Model], list[str]]:
    model = apps.get_model("interactions", "Event")
    column = model._meta.get_field("customer").column
    return model, schema_editor._constraint_names(model, [column], index=True, unique=False, primary_key=False)


def drop_index(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    model, names = _single_column_indexes(apps, schema_editor)
    for name in names:
        schema_editor.execute(schema_editor._delete_index_sql(model, name))


def create_index(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    model, names = _single_column_indexes(apps, schema_editor)
    if not names:
        schema_editor.execute(schema_editor._create_index_sql(model, fields=[model._meta.get_field("customer")]))


class Migration(migrations.Migration):

    dependencies = [
        ('interactions', '0001_events_webhooks'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="event",
                    name="customer",
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT,
                                            related_name="events", to="customers.customer"),
                ),
            ],
            database_operations=[migrations.RunPython(drop_index, create_index)],
        ),
    ]
