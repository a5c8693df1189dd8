"""Drop customer indexes every new customer paid for and no query reads (import throughput, issue 4):
search_key's (search reads it with LIKE '%…%', which no B-tree serves) and, on PostgreSQL, its and city's
varchar_pattern_ops LIKE indexes (city is matched exactly or case-insensitively, never by prefix); team's
single-column index (customer_team_id starts with team).

Only the state changes through AlterField: SQLite would otherwise copy the whole table. The indexes carry
Django's deterministic names and are dropped by name (IF EXISTS: the LIKE ones exist on PostgreSQL only);
reversing recreates them."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

TABLE = "customers_customer"
DROPPED = [("customers_customer_search_key_20d5423b", "search_key", ""),
           ("customers_customer_team_id_677425ba", "team_id", ""),
           ("customers_customer_search_key_20d5423b_like", "search_key", " varchar_pattern_ops"),
           ("customers_customer_city_56690332_like", "city", " varchar_pattern_ops")]


def drop_indexes(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    for name, _, _ in DROPPED:
        schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")


def create_indexes(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    quote = schema_editor.quote_name
    for name, column, opclass in DROPPED:
        if opclass and schema_editor.connection.vendor != "postgresql":
            continue
        schema_editor.execute(f"CREATE INDEX {quote(name)} ON {quote(TABLE)} ({quote(column)}{opclass})")


class Migration(migrations.Migration):

    dependencies = [
        ('access', '0001_staff_teams_tokens'),
        ('customers', '0002_profilechange_customer_drop_duplicate_index'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='customer',
                    name='search_key',
                    field=models.CharField(blank=True, editable=False, max_length=400),
                ),
                migrations.AlterField(
                    model_name='customer',
                    name='team',
                    field=models.ForeignKey(blank=True, db_index=False, null=True,
                                            on_delete=django.db.models.deletion.PROTECT, related_name='customers',
                                            to='access.team', verbose_name='team'),
                ),
            ],
            database_operations=[migrations.RunPython(drop_indexes, create_indexes)],
        ),
    ]
