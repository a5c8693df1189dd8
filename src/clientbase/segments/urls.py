from django.urls import path

from clientbase.segments import views

app_name = "segments"

urlpatterns = [
    path("", views.segment_list, name="list"),
    path("new/", views.edit_segment, name="create"),
    path("preview/", views.preview, name="preview"),
    path("<int:segment_id>/", views.detail, name="detail"),
    path("<int:segment_id>/edit/", views.edit_segment, name="edit"),
    path("<int:segment_id>/refresh/", views.refresh, name="refresh"),
    path("<int:segment_id>/export.csv", views.export, name="export"),
]
