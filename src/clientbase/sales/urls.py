from django.urls import path

from clientbase.sales import views

app_name = "sales"
urlpatterns = [
    path("import/", views.import_page, name="import"),
]
