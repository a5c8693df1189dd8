from django.contrib import admin
from django.urls import include, path

from clientbase.api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    # Pages: login, then every domain app's urls.py at /<app>/ (see web/urls.py), then the home page.
    path("", include("clientbase.web.urls")),
]
