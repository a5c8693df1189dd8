"""A migration operation that drops the single-column index Django made for foreign keys, found by introspection.

Used by migrations that turn ``db_index`` off where a composite index starting with the column serves
every lookup, or where a partial index replaces it. Only the state changes through AlterField (on SQLite,
AlterField would rebuild the whole table); this drops the index whatever Django's hash named it, and
reversing recreates it where none is left. Historical migrations import it: keep what it does stable.
"""

from collections.abc import Sequence

from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps


def drop_field_indexes(app_label: str, fields: Sequence[tuple[str, str]]) -> migrations.RunPython:
    """Drop the plain (non-unique) single-column index of each ``(model name, field name)`` of ``app_label``;
    reversed, create it again where the column has none."""

    def indexes(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor, model_name: str,
                name: str) -> tuple[type[models.Model], list[str]]:
        model = apps.get_model(app_label, model_name)
        column = model._meta.get_field(name).column
        # django-stubs do not describe the schema editor's private helpers used here.
        return model, schema_editor._constraint_names(  # type: ignore[attr-defined]
            model, [column], index=True, unique=False, primary_key=False)

    def drop(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
        for model_name, name in fields:
            model, found = indexes(apps, schema_editor, model_name, name)
            for index in found:
                schema_editor.execute(schema_editor._delete_index_sql(model, index))  # type: ignore[attr-defined]

    def create(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
        for model_name, name in fields:
            model, found = indexes(apps, schema_editor, model_name, name)
            if not found:
                field = model._meta.get_field(name)
                schema_editor.execute(schema_editor._create_index_sql(model, fields=[field]))  # type: ignore[attr-defined]

    return migrations.RunPython(drop, create)
