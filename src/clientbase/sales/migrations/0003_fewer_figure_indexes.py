"""Drop indexes every order write paid for and no query reads (order import throughput, issue 4):
the single-column customer indexes of Order, CustomerVisitDay and CustomerProductCount (an index or unique
constraint starting with customer serves every lookup by customer) and product_count_top (a customer's few
product rows are sorted in memory).

Only the state changes through AlterField: SQLite would otherwise copy each whole table. The indexes carry
Django's deterministic names and are dropped by name; reversing recreates them."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

DROPPED = [
    ("sales_order", "sales_order_customer_id_798c889f", "customer_id"),
    ("sales_customervisitday", "sales_customervisitday_customer_id_9bc9749e", "customer_id"),
    ("sales_customerproductcount", "sales_customerproductcount_customer_id_43205cab", "customer_id"),
]


def drop_indexes(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    quote = schema_editor.quote_name
    for _, name, _ in DROPPED:
        schema_editor.execute(f"DROP INDEX IF EXISTS {quote(name)}")


def create_indexes(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    quote = schema_editor.quote_name
    for table, name, column in DROPPED:
        schema_editor.execute(f"CREATE INDEX {quote(name)} ON {quote(table)} ({quote(column)})")


class Migration(migrations.Migration):

    dependencies = [
        ('customers', '0002_profilechange_customer_drop_duplicate_index'),
        ('sales', '0002_order_and_cart_follow_their_event'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='customerproductcount',
            name='product_count_top',
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='customerproductcount',
                    name='customer',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE,
                                            related_name='+', to='customers.customer'),
                ),
                migrations.AlterField(
                    model_name='customervisitday',
                    name='customer',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE,
                                            related_name='+', to='customers.customer'),
                ),
                migrations.AlterField(
                    model_name='order',
                    name='customer',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE,
                                            related_name='orders', to='customers.customer'),
                ),
            ],
            database_operations=[migrations.RunPython(drop_indexes, create_indexes)],
        ),
    ]
