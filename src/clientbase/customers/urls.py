from django.urls import path

from clientbase.customers import views

app_name = "customers"

urlpatterns = [
    path("", views.search, name="search"),
    path("new/", views.create, name="create"),
    path("quick/", views.quick_create, name="quick"),
    path("fields/", views.custom_fields, name="custom_fields"),
    path("<int:customer_id>/", views.card, name="card"),
    path("<int:customer_id>/edit/", views.edit, name="edit"),
    path("<int:customer_id>/history/", views.history, name="history"),
    path("<int:customer_id>/contact-people/", views.add_contact_person, name="add_contact_person"),
]
