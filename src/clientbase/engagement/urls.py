from django.urls import path

from clientbase.engagement import views, views_campaigns, views_templates

app_name = "engagement"

urlpatterns = [
    path("u/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("why/<str:token>/", views.survey, name="survey"),
    path("o/<str:token>/", views.opened, name="opened"),
    path("c/<str:token>/", views.clicked, name="clicked"),
    path("delivery/<str:kind>/", views.delivery_report, name="delivery_report"),
    path("my-day/", views.my_day, name="my_day"),
    path("calendar/", views.calendar, name="calendar"),
    path("campaigns/", views_campaigns.campaign_list, name="campaigns"),
    path("templates/", views_templates.template_list, name="templates"),
    path("templates/new/", views_templates.template_edit, name="template_new"),
    path("templates/<int:template_id>/", views_templates.template_edit, name="template_edit"),
    path("tasks/<int:task_id>/finish/", views.finish_task, name="finish_task"),
    path("customers/<int:customer_id>/churn-reason/", views.churn_reason, name="churn_reason"),
    path("customers/<int:customer_id>/tasks/", views.add_task, name="add_task"),
]
