import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """Orders and carts point at the event that created them, so unmerge can send them after it."""

    dependencies = [
        ("interactions", "0001_events_webhooks"),
        ("sales", "0001_catalogue_orders_figures"),
    ]

    operations = [
        migrations.RemoveField(model_name="order", name="source_event_id"),
        migrations.RemoveField(model_name="abandonedcart", name="source_event_id"),
        migrations.AddField(
            model_name="order", name="event",
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL,
                                    related_name="+", to="interactions.event"),
        ),
        migrations.AddField(
            model_name="abandonedcart", name="event",
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL,
                                    related_name="+", to="interactions.event"),
        ),
    ]
