from django.contrib import admin
from django.urls import include, path

from clientbase.api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("engagement/", include("clientbase.engagement.urls")),
    path("identity/", include("clientbase.identity.urls")),
    path("", include("clientbase.web.urls")),
]
