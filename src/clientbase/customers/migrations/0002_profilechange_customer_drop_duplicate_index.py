"""Drop the index Django made for ProfileChange.customer: profile_change_customer_at starts with customer and serves
every lookup by customer, while the second index cost each inserted row (ingest throughput, issue 3).

Only the state changes through AlterField: SQLite would otherwise rebuild the whole table. The index is
found by introspection (its name is Django's hash) and dropped; reversing recreates it."""

import django.db.models.deletion
from django.db import migrations, models

from clientbase.core.migration_indexes import drop_field_indexes


class Migration(migrations.Migration):

    dependencies = [
        ('customers', '0001_customer_profile'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="profilechange",
                    name="customer",
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE,
                                            related_name="changes", to="customers.customer"),
                ),
            ],
            database_operations=[drop_field_indexes("customers", [("ProfileChange", "customer")])],
        ),
    ]
