from django.contrib import admin
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import include, path

from clientbase.api import api


def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico before they read the page's icon link. The file's URL is looked up per
    request: looked up when this module loaded, before ``collectstatic`` had written the manifest (a demo
    build, whose outbox reverses URLs), it failed and took every URL of the process with it."""
    return HttpResponsePermanentRedirect(static("web/favicon.svg"))


urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("favicon.ico", favicon),
    # Pages: login, then every domain app's urls.py at /<app>/ (see web/urls.py), then the home page.
    path("", include("clientbase.web.urls")),
]
