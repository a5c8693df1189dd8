"""Drop the index Django made for Identifier.customer: identifier_customer_kind starts with customer and serves
every lookup by customer, while the second index cost each inserted row (ingest throughput, issue 3).

Only the state changes through AlterField: SQLite would otherwise rebuild the whole table. The index is
found by introspection (its name is Django's hash) and dropped; reversing recreates it."""

import django.db.models.deletion
from django.db import migrations, models

from clientbase.core.migration_indexes import drop_field_indexes


class Migration(migrations.Migration):

    dependencies = [
        ('identity', '0002_merges_reviews_consent'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="identifier",
                    name="customer",
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE,
                                            related_name="identifiers", to="customers.customer"),
                ),
            ],
            database_operations=[drop_field_indexes("identity", [("Identifier", "customer")])],
        ),
    ]
