from django.urls import path

from clientbase.identity import views

app_name = "identity"
urlpatterns = [
    path("reviews/", views.reviews, name="reviews"),
    path("reviews/<int:review_id>/resolve/", views.resolve, name="resolve"),
    path("merges/<int:merge_id>/unmerge/", views.undo_merge, name="unmerge"),
    path("customers/<int:customer_id>/merge/", views.merge_into, name="merge"),
]
